/// Lattice orientation (three Miller directions) and lattice periods along the simulation axes, against hand values.
module Qmmm.Numerics.Tests.GeometryLattice

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators

let aW = 3.1652
let aSi = 5.43

/// The edge-dislocation orientation x=[1,-1,0], y=[1,1,1], z=[-1,-1,2] (z = x × y).
let edge (lat: Lattice) =
    Lattice.orient [| 1; -1; 0 |] [| 1; 1; 1 |] [| -1; -1; 2 |] lat

/// R R^T - I (max abs entry) and det R of a row-major 3x3 rotation.
let orthogonality (r: float[]) =
    let mutable worst = 0.0

    for i in 0..2 do
        for j in 0..2 do
            let s =
                r.[3 * i] * r.[3 * j]
                + r.[3 * i + 1] * r.[3 * j + 1]
                + r.[3 * i + 2] * r.[3 * j + 2]

            worst <- max worst (abs (s - (if i = j then 1.0 else 0.0)))

    let det =
        r.[0] * (r.[4] * r.[8] - r.[5] * r.[7])
        - r.[1] * (r.[3] * r.[8] - r.[5] * r.[6])
        + r.[2] * (r.[3] * r.[7] - r.[4] * r.[6])

    worst, det

let private crossI (a: int[]) (b: int[]) =
    [| a.[1] * b.[2] - a.[2] * b.[1]
       a.[2] * b.[0] - a.[0] * b.[2]
       a.[0] * b.[1] - a.[1] * b.[0] |]

/// Random right-handed orthogonal integer triples: x random, y = x × q, z = x × y.
let millerTriples =
    gen {
        let! x = Gen.arrayOfLength 3 (Gen.choose (-3, 3))
        let! q = Gen.arrayOfLength 3 (Gen.choose (-3, 3))
        return x, crossI x q, crossI x (crossI x q)
    }
    |> Gen.filter (fun (_, y, z) -> Array.exists ((<>) 0) y && Array.exists ((<>) 0) z)

let throwsWith (f: unit -> unit) (fragment: string) =
    let e = Expect.throwsC f id

    match e with
    | :? ArgumentException as ae -> Expect.stringContains ae.Message fragment "message names the condition"
    | other -> failtestf "expected ArgumentException, got %s" (other.GetType().Name)

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Geometry.Lattice"
        [ testCase "the cubic orientation x=[100], y=[010], z=[001] gives the identity rotation"
          <| fun () ->
              let lat =
                  Lattice.bcc "W" aW |> Lattice.orient [| 1; 0; 0 |] [| 0; 1; 0 |] [| 0; 0; 1 |]

              Expect.sequenceEqual lat.Rotation [| 1.0; 0.0; 0.0; 0.0; 1.0; 0.0; 0.0; 0.0; 1.0 |] "identity"

          testCase "the edge-dislocation orientation maps [1,-1,0], [1,1,1], [-1,-1,2] onto x, y, z"
          <| fun () ->
              let lat = edge (Lattice.diamond "Si" aSi)
              let worst, det = orthogonality lat.Rotation
              Expect.isLessThan worst 1e-14 "R R^T = I"
              Expect.floatClose Accuracy.veryHigh det 1.0 "det R = +1"
              let s2, s3, s6 = Math.Sqrt 2.0, Math.Sqrt 3.0, Math.Sqrt 6.0

              let cases =
                  [ Vec3(1.0, -1.0, 0.0), Vec3(s2, 0.0, 0.0)
                    Vec3(1.0, 1.0, 1.0), Vec3(0.0, s3, 0.0)
                    Vec3(-1.0, -1.0, 2.0), Vec3(0.0, 0.0, s6) ]

              for (c, expected) in cases do
                  let r = Lattice.rotate lat c
                  Expect.floatClose Accuracy.veryHigh (Vec3.norm (r - expected)) 0.0 (sprintf "%O" c)

          testPropertyWithConfig
              config
              "every right-handed orthogonal Miller triple gives an orthogonal rotation with det +1"
          <| Prop.forAll (Arb.fromGen millerTriples) (fun (x, y, z) ->
              let lat = Lattice.bcc "W" aW |> Lattice.orient x y z
              let worst, det = orthogonality lat.Rotation
              worst < 1e-14 && abs (det - 1.0) < 1e-14)

          testCase "non-orthogonal, left-handed, zero or short Miller directions raise ArgumentException"
          <| fun () ->
              let lat = Lattice.bcc "W" aW

              throwsWith
                  (fun () -> Lattice.orient [| 1; 0; 0 |] [| 1; 1; 0 |] [| 0; 0; 1 |] lat |> ignore)
                  "not orthogonal"

              throwsWith
                  (fun () -> Lattice.orient [| 1; 0; 0 |] [| 0; 1; 0 |] [| 1; 0; 1 |] lat |> ignore)
                  "not orthogonal"

              throwsWith
                  (fun () -> Lattice.orient [| 1; 0; 0 |] [| 0; 1; 0 |] [| 0; 0; -1 |] lat |> ignore)
                  "left-handed"

              throwsWith
                  (fun () -> Lattice.orient [| 0; 0; 0 |] [| 0; 1; 0 |] [| 0; 0; 1 |] lat |> ignore)
                  "zero vector"

              throwsWith (fun () -> Lattice.orient [| 1; 0 |] [| 0; 1; 0 |] [| 0; 0; 1 |] lat |> ignore) "3 entries"

          testCase "bcc periods along [100], [110], [111], [112] are a, a√2, a√3/2, a√6"
          <| fun () ->
              let cubic = Lattice.bcc "W" aW
              Expect.floatClose Accuracy.veryHigh (Lattice.period cubic 0) aW "[100]"
              Expect.floatClose Accuracy.veryHigh (Lattice.period cubic 2) aW "[001]"
              let e = edge cubic
              Expect.floatClose Accuracy.veryHigh (Lattice.period e 0) (aW * Math.Sqrt 2.0) "[1-10]"
              Expect.floatClose Accuracy.veryHigh (Lattice.period e 1) (aW * Math.Sqrt 3.0 / 2.0) "[111]"
              Expect.floatClose Accuracy.veryHigh (Lattice.period e 2) (aW * Math.Sqrt 6.0) "[-1-12]"

          testCase "diamond and fcc periods along [100], [110], [111], [112] are a, a/√2, a√3, a√6/2"
          <| fun () ->
              for lat in [ Lattice.diamond "Si" aSi; Lattice.fcc "Cu" aSi ] do
                  Expect.floatClose Accuracy.veryHigh (Lattice.period lat 1) aSi "[010]"
                  let e = edge lat
                  Expect.floatClose Accuracy.veryHigh (Lattice.period e 0) (aSi / Math.Sqrt 2.0) "[1-10]"
                  Expect.floatClose Accuracy.veryHigh (Lattice.period e 1) (aSi * Math.Sqrt 3.0) "[111]"
                  Expect.floatClose Accuracy.veryHigh (Lattice.period e 2) (aSi * Math.Sqrt 6.0 / 2.0) "[-1-12]"

          testCase "a period along [210] of bcc is a√5 (found by search, not by table)"
          <| fun () ->
              let lat =
                  Lattice.bcc "W" aW |> Lattice.orient [| 2; 1; 0 |] [| -1; 2; 0 |] [| 0; 0; 1 |]

              Expect.floatClose Accuracy.veryHigh (Lattice.period lat 0) (aW * Math.Sqrt 5.0) "[210]"

              let lat2 =
                  Lattice.bcc "W" aW |> Lattice.orient [| 1; 1; 1 |] [| 1; -1; 0 |] [| 1; 1; -2 |]

              Expect.floatClose Accuracy.veryHigh (Lattice.period lat2 0) (aW * Math.Sqrt 3.0 / 2.0) "[111]"

          testCase "translation offsets: bcc 2, fcc 4, diamond 4 of its 8 basis sites"
          <| fun () ->
              Expect.equal (Lattice.translationOffsets (Lattice.bcc "W" aW)).Length 2 "bcc"
              Expect.equal (Lattice.translationOffsets (Lattice.fcc "Cu" aSi)).Length 4 "fcc"
              Expect.equal (Lattice.translationOffsets (Lattice.diamond "Si" aSi)).Length 4 "diamond"
              Expect.isTrue (Lattice.isBravais (Lattice.bcc "W" aW)) "bcc is Bravais"
              Expect.isFalse (Lattice.isBravais (Lattice.diamond "Si" aSi)) "diamond has a basis" ]
