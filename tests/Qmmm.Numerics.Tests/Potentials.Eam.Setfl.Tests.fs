/// The setfl reader (Potentials.Eam.Setfl.fs): synthetic files with known functions, malformed files, the third-party
/// W_zhou.eam.alloy header.
module Qmmm.Numerics.Tests.PotentialsEamSetfl

open System
open System.IO
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators
open Qmmm.Numerics.Tests.PotentialsEam


/// A synthetic setfl text: grid (nrho, drho, nr, dr, cutoff), per element F = fF e x, density blocks fRho e j x
/// (one block for alloy, n for fs), and r·φ = fZ i j x for the lower triangle.
let setflText
    (kind: SetflKind)
    (elements: string[])
    (nrho: int, drho: float, nr: int, dr: float, cutoff: float)
    (fF: int -> float -> float)
    (fRho: int -> int -> float -> float)
    (fZ: int -> int -> float -> float)
    =
    let sb = Text.StringBuilder()
    let line (s: string) = sb.Append(s).Append('\n') |> ignore
    let n = elements.Length
    line "comment one"
    line "comment two"
    line "comment three"
    line (sprintf "%d %s" n (String.Join(" ", elements)))
    line (sprintf "%d %.17g %d %.17g %.17g" nrho drho nr dr cutoff)

    // five values per line
    let table (f: float -> float) (m: int) (d: float) =
        for start in 0..5 .. m - 1 do
            [ for k in start .. min (m - 1) (start + 4) -> sprintf "%.17g" (f (float k * d)) ]
            |> String.concat " "
            |> line

    for e in 0 .. n - 1 do
        line (sprintf "%d 100.0 3.0 bcc" (e + 1))
        table (fF e) nrho drho

        match kind with
        | Alloy -> table (fRho e 0) nr dr
        | FinnisSinclair ->
            for j in 0 .. n - 1 do
                table (fRho e j) nr dr

    for i in 0 .. n - 1 do
        for j in 0..i do
            table (fZ i j) nr dr

    sb.ToString()

let private simpleText () =
    setflText Alloy [| "W" |] (20, 0.5, 20, 0.25, 4.5) (fun _ x -> -x) (fun _ _ x -> 5.0 - x) (fun _ _ x -> 5.0 - x)

let private expectParseError (text: string) (fragments: string list) =
    try
        Setfl.parse Alloy "W.eam.alloy" text |> ignore
        failtest "expected a QmmmException"
    with :? QmmmException as e ->
        for f in fragments do
            Expect.stringContains e.Message f "message content"

/// Replaces line `k` (1-based) of a text.
let private withLine (k: int) (newLine: string) (text: string) =
    let lines = text.Split('\n')
    lines.[k - 1] <- newLine
    String.Join("\n", lines)

let private setfl =
    testList
        "setfl reader"
        [ testCase "a malformed header field is reported with file, line and field"
          <| fun () ->
              expectParseError
                  (simpleText () |> withLine 5 "20 0.5 abc 0.25 4.5")
                  [ "W.eam.alloy:5: field 'Nr': expected an integer, got 'abc'" ]

              expectParseError
                  (simpleText () |> withLine 5 "20 0.5 20 0.25")
                  [ "W.eam.alloy:5: field 'cutoff'"; "missing" ]

              expectParseError
                  (simpleText () |> withLine 4 "2 W")
                  [ "W.eam.alloy:4: field 'elements'"; "expected 2 element names, got 1" ]

              expectParseError
                  (simpleText () |> withLine 4 "one W")
                  [ "W.eam.alloy:4: field 'nelements': expected an integer, got 'one'" ]

              expectParseError (simpleText () |> withLine 6 "74") [ "W.eam.alloy:6: field 'mass[W]'"; "missing" ]

          testCase "a bad number in a table is reported with file, line and field"
          <| fun () ->
              // line 7 holds F values 0..4
              expectParseError
                  (simpleText () |> withLine 7 "0 -0.5 1.0x -1.5 -2")
                  [ "W.eam.alloy:7: field 'F[W][2]': expected a finite number, got '1.0x'" ]

              expectParseError
                  (simpleText () |> withLine 12 "5 4.75 NaN 4.25 4")
                  [ "W.eam.alloy:12: field 'rho[W][7]'"; "'NaN'" ]

          testCase "a truncated table names the line where the data ran out"
          <| fun () ->
              let lines = (simpleText ()).Split('\n')
              // 5 header + 1 element line + 4 F lines + 4 rho lines + 4 r*phi lines; keep 16 lines
              let cut = String.Join("\n", lines.[0..15])

              expectParseError
                  cut
                  [ "W.eam.alloy:16: field 'r*phi[W,W]'"
                    "expected 20 values, the file ended after 10 of them" ]

              expectParseError (String.Join("\n", lines.[0..3])) [ "W.eam.alloy:5: field 'Nrho'"; "ended" ]

          testCase "a table running past its line end and trailing data are refused"
          <| fun () ->
              expectParseError
                  (simpleText () |> withLine 10 "-15 -15.5 -16 -16.5 -17 -99")
                  [ "W.eam.alloy:10: field 'F[W]'"; "1 more" ]

              expectParseError (simpleText () + "1.0\n") [ "W.eam.alloy:19: field 'end'"; "unexpected data" ]

          testCase "the header is read: elements, masses, grid, cutoff"
          <| fun () ->
              let d = Setfl.parse Alloy "x" (simpleText ())
              Expect.equal d.Elements [| "W" |] "elements"
              Expect.equal d.AtomicNumbers [| 1 |] "Z"
              Expect.equal (d.Nrho, d.Drho, d.Nr, d.Dr, d.Cutoff) (20, 0.5, 20, 0.25, 4.5) "grid"
              Expect.equal d.Embedding.[0].[3] -1.5 "F at ρ = 3 drho"
              Expect.equal d.RPhi.[0].[4] 4.0 "r φ at r = 4 dr"

          testCase "the interpolant reproduces a cubic exactly away from the first and last two nodes"
          <| fun () ->
              // LAMMPS's slopes: 5-point stencil inside (exact to degree 4), Hermite cubics (exact to degree 3)
              let cubicF (x: float) =
                  0.3 - 0.7 * x + 0.2 * x * x - 0.05 * x * x * x

              let text =
                  setflText
                      Alloy
                      [| "W" |]
                      (40, 0.1, 40, 0.1, 3.8)
                      (fun _ x -> cubicF x)
                      (fun _ _ x -> cubicF x)
                      (fun _ _ x -> cubicF x)

              let m = Setfl.model "cubic" (Setfl.parse Alloy "cubic" text)

              for x in [ 0.35; 0.5; 1.234; 2.0; 3.3 ] do
                  let d = m.Density.[0].D(Dual.Variable x)
                  let dF = 0.2 * 2.0 * x - 0.7 - 0.15 * x * x
                  Expect.floatClose { absolute = 1e-12; relative = 1e-12 } d.V (cubicF x) "density value"
                  Expect.floatClose { absolute = 1e-11; relative = 1e-11 } d.D dF "density slope"
                  let e = m.Embedding.[0].D(Dual.Variable x)
                  Expect.floatClose { absolute = 1e-12; relative = 1e-12 } e.V (cubicF x) "embedding value"
                  let p = m.Pair.[0].D(Dual.Variable x)
                  // the table holds r φ, so φ = cubic/r
                  Expect.floatClose { absolute = 1e-12; relative = 1e-12 } p.V (cubicF x / x) "pair value"

                  Expect.floatClose
                      { absolute = 1e-11; relative = 1e-11 }
                      p.D
                      ((dF * x - cubicF x) / (x * x))
                      "pair slope"

          testCase "the interpolant passes through the nodes and uses LAMMPS's end-point slopes"
          <| fun () ->
              let f (x: float) = Math.Exp(-x) * (1.0 + x)

              let text =
                  setflText Alloy [| "W" |] (30, 0.2, 30, 0.2, 5.0) (fun _ x -> f x) (fun _ _ x -> f x) (fun _ _ x ->
                      f x)

              let m = Setfl.model "exp" (Setfl.parse Alloy "exp" text)
              let g = m.Density.[0]

              for k in 0..28 do
                  Expect.floatClose
                      { absolute = 1e-15; relative = 1e-14 }
                      (g.F(0.2 * float k))
                      (f (0.2 * float k))
                      "node value"

              // slope at node 0: one-sided difference (f1 - f0)/dr; node 5: the 5-point stencil
              let s0 = (g.D(Dual.Variable 0.0)).D
              Expect.floatClose { absolute = 1e-14; relative = 1e-12 } s0 ((f 0.2 - f 0.0) / 0.2) "first-node slope"
              let x5 = 1.0
              let s5 = (g.D(Dual.Variable x5)).D
              let fd = ((f 0.6 - f 1.4) + 8.0 * (f 1.2 - f 0.8)) / 12.0 / 0.2
              Expect.floatClose { absolute = 1e-14; relative = 1e-12 } s5 fd "interior slope"

          testCase "the embedding energy continues linearly above the table"
          <| fun () ->
              let text = simpleText () |> withLine 10 "-15 -15.5 -16 -16.5 -17.5"
              let m = Setfl.model "lin" (Setfl.parse Alloy "lin" text)
              let f = m.Embedding.[0]
              let rhoMax = 19.0 * 0.5
              let top = f.D(Dual.Variable rhoMax)
              let above = f.D(Dual.Variable(rhoMax + 3.0))

              Expect.floatClose
                  { absolute = 1e-13; relative = 1e-13 }
                  above.V
                  (top.V + 3.0 * top.D)
                  "linear continuation"

              Expect.floatClose { absolute = 1e-13; relative = 1e-13 } above.D top.D "constant slope"

          testCase "eam/fs density blocks map to the host and neighbour species as in LAMMPS"
          <| fun () ->
              // linear tables (interpolated exactly): block j of element i = (10 i + j + 1) (4 - r)
              let text =
                  setflText
                      FinnisSinclair
                      [| "A"; "B" |]
                      (20, 1.0, 20, 0.25, 4.0)
                      (fun e x -> float (e + 1) * x)
                      (fun i j x -> float (10 * i + j + 1) * (4.0 - x))
                      (fun _ _ _ -> 0.0)

              let data = Setfl.parse FinnisSinclair "ab.eam.fs" text
              let m = Setfl.model "ab" data
              let p = Eam.potential m

              let dimer =
                  { Species = [| "A"; "B" |]
                    Positions = [| 0.0; 0.0; 0.0; 1.5; 0.0; 0.0 |]
                    Cell = (cluster 3.0 0.1).Cell }

              let es = Evaluate.siteEnergies p dimer (Neighbours.reference 4.0 dimer)
              // host A (F = ρ) sees block A of element B: (10·1 + 0 + 1)(4 - 1.5); host B (F = 2ρ) block B of A: (0 + 1 + 1)(2.5)
              Expect.floatClose { absolute = 1e-12; relative = 1e-12 } es.[0] (11.0 * 2.5) "A hosts B"
              Expect.floatClose { absolute = 1e-12; relative = 1e-12 } es.[1] (2.0 * 2.0 * 2.5) "B hosts A"

          testCase "the W Zhou file is read completely"
          <| fun () ->
              let d = zhouSetfl.Force()
              Expect.equal d.Elements [| "W" |] "element"
              Expect.equal (d.Nrho, d.Nr) (10001, 10001) "grid sizes"
              Expect.floatClose { absolute = 1e-12; relative = 0.0 } d.Cutoff 7.8925 "cutoff"
              Expect.floatClose { absolute = 1e-12; relative = 0.0 } d.Masses.[0] 183.84 "mass"
              Expect.equal d.Embedding.[0].[1] -0.01797161363460762426 "second F value as printed" ]

[<Tests>]
let tests = testList "Qmmm.Numerics.Potentials.Eam.Setfl" [ setfl ]
