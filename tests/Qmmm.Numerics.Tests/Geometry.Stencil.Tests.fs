/// The nearest-neighbour set N(ℓ) of (2.3) and the stencil norm ‖Du‖_{ℓ²_N} of (2.2) against hand values and
/// independent sums.
module Qmmm.Numerics.Tests.GeometryStencil

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators

let aW = 3.1652
let aSi = 5.43

let edge (lat: Lattice) =
    Lattice.orient [| 1; -1; 0 |] [| 1; 1; 1 |] [| -1; -1; 2 |] lat

/// True when some three of the vectors have |det| = the primitive-cell volume `vprim`: being lattice vectors, they
/// then form a basis, i.e. the set generates the lattice.
let private generates (vs: Vec3[]) (vprim: float) =
    seq {
        for i in 0 .. vs.Length - 1 do
            for j in i + 1 .. vs.Length - 1 do
                for k in j + 1 .. vs.Length - 1 do
                    yield abs (Vec3.dot vs.[i] (Vec3.cross vs.[j] vs.[k]))
    }
    |> Seq.exists (fun d -> abs (d - vprim) < 1e-9 * vprim)

/// F x for a row-major 3x3 F.
let private apply (f: float[]) (v: Vec3) =
    Vec3(
        f.[0] * v.X + f.[1] * v.Y + f.[2] * v.Z,
        f.[3] * v.X + f.[4] * v.Y + f.[5] * v.Z,
        f.[6] * v.X + f.[7] * v.Y + f.[8] * v.Z
    )

/// The 8 bcc nearest-neighbour vectors (±½, ±½, ±½) a, written by hand.
let private bccHand =
    [| for sx in [ -1.0; 1.0 ] do
           for sy in [ -1.0; 1.0 ] do
               for sz in [ -1.0; 1.0 ] -> Vec3(0.5 * aW * sx, 0.5 * aW * sy, 0.5 * aW * sz) |]

let private homogeneous (cfg: Configuration) (f: float[]) =
    let u = Array.zeroCreate cfg.Positions.Length

    for i in 0 .. cfg.Count - 1 do
        Vec3.set u i (apply f (Vec3.get cfg.Positions i))

    u

/// Fixtures shared by the properties (built once).
let private bccCluster =
    lazy
        (let lat = Lattice.bcc "W" aW
         let cfg = Domains.cluster lat (2.3 * aW)
         cfg, Stencil.bonds cfg lat)

let private siCluster =
    lazy
        (let lat = Lattice.diamond "Si" aSi
         let cfg = Domains.cluster lat (1.6 * aSi)
         cfg, Stencil.bonds cfg lat)

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Geometry.Stencil"
        [ testCase "bcc N(0) is the 8 vectors (±½, ±½, ±½) a and generates the lattice"
          <| fun () ->
              let n = Stencil.nearestNeighbourVectors (Lattice.bcc "W" aW)
              Expect.equal n.Length 8 "8 nearest neighbours"

              for h in bccHand do
                  Expect.isTrue (n |> Array.exists (fun v -> Vec3.norm (v - h) < 1e-12)) (sprintf "%O present" h)

              Expect.isTrue (generates n (aW ** 3.0 / 2.0)) "spans the bcc lattice"

          testCase "fcc N(0) is the 12 vectors of length a/√2 and generates the lattice"
          <| fun () ->
              let n = Stencil.nearestNeighbourVectors (Lattice.fcc "Cu" aSi)
              Expect.equal n.Length 12 "12 nearest neighbours"

              for v in n do
                  Expect.floatClose Accuracy.veryHigh (Vec3.norm v) (aSi / Math.Sqrt 2.0) "length"
                  // fcc translations: 2v/a integers with an even sum
                  let k = [| v.X; v.Y; v.Z |] |> Array.map (fun c -> Math.Round(2.0 * c / aSi))
                  Expect.equal (int (Array.sum k) % 2) 0 "an fcc translation"

              Expect.isTrue (generates n (aSi ** 3.0 / 4.0)) "spans the fcc lattice"

          testCase "diamond N(0) is the 4 bonds (¼, ¼, ¼) a-type whose differences generate the fcc lattice"
          <| fun () ->
              let n = Stencil.nearestNeighbourVectors (Lattice.diamond "Si" aSi)
              Expect.equal n.Length 4 "4 bonds"

              for v in n do
                  Expect.floatClose Accuracy.veryHigh (Vec3.norm v) (aSi * Math.Sqrt 3.0 / 4.0) "bond length"

              let sum = n |> Array.fold (+) Vec3.Zero
              Expect.isLessThan (Vec3.norm sum) 1e-12 "tetrahedral bonds sum to zero"
              let diffs = [| for v in n.[1..] -> v - n.[0] |]
              Expect.isTrue (generates diffs (aSi ** 3.0 / 4.0)) "differences span the fcc lattice"

          testCase "N(0) of an oriented lattice is the rotated N(0) of the cubic one"
          <| fun () ->
              for lat in [ Lattice.bcc "W" aW; Lattice.fcc "Cu" aSi; Lattice.diamond "Si" aSi ] do
                  let cubic = Stencil.nearestNeighbourVectors lat
                  let oriented = edge lat
                  let n = Stencil.nearestNeighbourVectors oriented
                  Expect.equal n.Length cubic.Length "same size"

                  for v in cubic do
                      let r = Lattice.rotate oriented v
                      Expect.isTrue (n |> Array.exists (fun w -> Vec3.norm (w - r) < 1e-12)) "rotated vector present"

          testCase "bonds on a periodic bcc cell: 8 per site; around a vacancy its 8 neighbours have 7"
          <| fun () ->
              let lat = Lattice.bcc "W" aW
              let cfg = Domains.periodic lat 3 3 3
              let b = Stencil.bonds cfg lat
              Expect.equal b.Pairs (8 * cfg.Count) "8 N per site"
              let v = Domains.withVacancyAtOrigin cfg
              let bv = Stencil.bonds v lat
              let counts = Array.init v.Count (fun i -> bv.Start.[i + 1] - bv.Start.[i])
              Expect.equal (counts |> Array.filter ((=) 7)).Length 8 "eight sites lost a bond"
              Expect.equal (counts |> Array.filter ((=) 8)).Length (v.Count - 8) "all others keep 8"

          testCase "the norm of a constant displacement is zero"
          <| fun () ->
              let lat = Lattice.bcc "W" aW
              let cfg = Domains.quasi2D (edge lat) (3.0 * aW)
              let b = Stencil.bonds cfg (edge lat)
              let u = Array.init (3 * cfg.Count) (fun k -> [| 0.3; -1.2; 2.5 |].[k % 3])
              Expect.equal (Stencil.norm b u) 0.0 "exactly zero"

          testPropertyWithConfig config "‖D(Fx)‖² on a bcc cluster equals Σ_ℓ Σ_ρ |Fρ|² over bonds inside the ball"
          <| Prop.forAll (Arb.fromGen (Gen.arrayOfLength 9 (floatIn -1.0 1.0))) (fun f ->
              let r = 2.3 * aW // no lattice distance lies within 1e-6 of r (r²/(a/2)² = 21.16)
              let cfg, b = bccCluster.Force()
              let mutable expected = 0.0

              for i in 0 .. cfg.Count - 1 do
                  let l = Vec3.get cfg.Positions i

                  for rho in bccHand do
                      if Vec3.norm (l + rho) <= r then
                          let d = apply f rho
                          expected <- expected + Vec3.dot d d

              let got = Stencil.norm b (homogeneous cfg f)
              Expect.floatClose Accuracy.high (got * got) expected "Σ |Fρ|²"
              true)

          testPropertyWithConfig config "‖D(Fx)‖² on a quasi-2D W disc with in-plane F equals the independent sum"
          <| Prop.forAll (Arb.fromGen (Gen.arrayOfLength 9 (floatIn -1.0 1.0))) (fun f0 ->
              // F with a zero third column: u = F x is periodic along z
              let f = Array.init 9 (fun k -> if k % 3 = 2 then 0.0 else f0.[k])

              let lat =
                  Lattice.bcc "W" aW |> Lattice.orient [| 1; -1; 0 |] [| 1; 1; -2 |] [| 1; 1; 1 |]

              let r = 2.7 * aW
              let cfg = Domains.quasi2D lat r
              let b = Stencil.bonds cfg lat
              let rho = bccHand |> Array.map (Lattice.rotate lat)
              let mutable expected = 0.0

              for i in 0 .. cfg.Count - 1 do
                  let l = Vec3.get cfg.Positions i

                  for p in rho do
                      let q = l + p

                      if q.X * q.X + q.Y * q.Y <= r * r then
                          let d = apply f p
                          expected <- expected + Vec3.dot d d

              let got = Stencil.norm b (homogeneous cfg f)
              Expect.floatClose Accuracy.high (got * got) expected "Σ |Fρ|²"
              true)

          testPropertyWithConfig config "the norm is absolutely homogeneous and the site norms add up to it"
          <| Prop.forAll (Arb.fromGen (Gen.zip (floatIn -3.0 3.0) (Gen.choose (0, 1000)))) (fun (lambda, seed) ->
              let cfg, b = siCluster.Force()
              let rng = Random(seed)
              let u = Array.init (3 * cfg.Count) (fun _ -> rng.NextDouble() - 0.5)
              let n = Stencil.norm b u

              Expect.floatClose
                  Accuracy.veryHigh
                  (Stencil.norm b (Array.map ((*) lambda) u))
                  (abs lambda * n)
                  "scaling"

              let s = Stencil.siteNorms b u
              Expect.floatClose Accuracy.veryHigh (Math.Sqrt(Array.sumBy (fun x -> x * x) s)) n "Σ site norms²"
              true)

          testCase "a displacement array of the wrong length raises"
          <| fun () ->
              let lat = Lattice.bcc "W" aW
              let b = Stencil.bonds (Domains.cluster lat aW) lat
              Expect.throwsT<ArgumentException> (fun () -> Stencil.norm b [| 1.0 |] |> ignore) "length" ]
