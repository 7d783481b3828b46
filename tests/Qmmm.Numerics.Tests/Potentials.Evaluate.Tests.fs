/// The evaluation layer (Potentials.Evaluate.fs) on EAM: thread determinism, errors, stress, partial energies.
module Qmmm.Numerics.Tests.PotentialsEvaluate

open System
open System.IO
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators
open Qmmm.Numerics.Tests.PotentialsEam


let private evaluation =
    let pot = lazy (Eam.potential Marinica.model)

    testList
        "evaluation"
        [ testCase "results are bit-identical for 1 and 2 threads and between runs"
          <| fun () ->
              let p = pot.Force()
              let c0 = bcc 3.1434 (3, 3, 3) [| true; true; true |]
              let c = displaced c0 (randomDisplacements 61 0.1 c0.Count)
              let nl = Neighbours.reference p.Cutoff c
              let one = Evaluate.allWith { Evaluate.defaults with Threads = 1 } p c nl
              let two = Evaluate.allWith { Evaluate.defaults with Threads = 2 } p c nl
              let again = Evaluate.allWith { Evaluate.defaults with Threads = 2 } p c nl
              Expect.equal two.Forces one.Forces "forces, 1 vs 2 threads"
              Expect.equal two.Virial one.Virial "virial, 1 vs 2 threads"
              Expect.equal two.Energy one.Energy "energy, 1 vs 2 threads"
              Expect.equal again.Forces two.Forces "forces, run to run"

          testCase "the chunk count changes results only by rounding"
          <| fun () ->
              let p = pot.Force()
              let c0 = bcc 3.1434 (2, 2, 2) [| true; true; true |]
              let c = displaced c0 (randomDisplacements 62 0.1 c0.Count)
              let nl = Neighbours.reference p.Cutoff c
              let a = Evaluate.allWith { Evaluate.defaults with Chunks = 1 } p c nl
              let b = Evaluate.allWith { Evaluate.defaults with Chunks = 5 } p c nl

              for k in 0 .. a.Forces.Length - 1 do
                  Expect.floatClose { absolute = 1e-12; relative = 1e-12 } b.Forces.[k] a.Forces.[k] "forces"

          testCase "an element unknown to the model is named in the error"
          <| fun () ->
              let p = pot.Force()
              let c = bcc 3.1434 (1, 1, 1) [| true; true; true |]
              let c = { c with Species = [| "W"; "Mo" |] }
              let nl = Neighbours.reference p.Cutoff c

              try
                  Evaluate.all p c nl |> ignore
                  failtest "expected an error"
              with :? ArgumentException as e ->
                  Expect.stringContains e.Message "'Mo'" "message names the element"
                  Expect.stringContains e.Message "eam-w-marinica" "message names the model"

          testCase "a neighbour list with a cutoff below the model's is refused"
          <| fun () ->
              let p = pot.Force()
              let c = bcc 3.1434 (1, 1, 1) [| true; true; true |]
              let nl = Neighbours.reference 3.0 c

              try
                  Evaluate.all p c nl |> ignore
                  failtest "expected an error"
              with :? ArgumentException as e ->
                  Expect.stringContains e.Message "below the cutoff" "message states the condition"

          testCase "stress is -W/V on a periodic cell and refused for a slab"
          <| fun () ->
              let p = pot.Force()
              let c = bcc 3.1 (1, 1, 1) [| true; true; true |]
              let r = evalAll p c
              let s = Evaluate.stress c r
              let v = 3.1 ** 3.0

              for k in 0..8 do
                  Expect.floatClose { absolute = 1e-14; relative = 1e-12 } s.[k] (-r.Virial.[k] / v) "σ = -W/V"

              // compressed below a0: positive pressure p = -tr σ/3 ... and σ = -W/V with W > 0 means σ < 0 (ASE sign)
              Expect.isGreaterThan r.Virial.[0] 0.0 "compressed cell: W_xx > 0"
              let slab = bcc 3.1 (1, 1, 1) [| false; false; true |]
              let rs = evalAll p slab

              Expect.throwsT<ArgumentException> (fun () -> Evaluate.stress slab rs |> ignore) "slab has no stress"

          testCase "Results.Create checks the shapes"
          <| fun () ->
              Expect.throwsT<ArgumentException>
                  (fun () -> Results.Create(0.0, [| 0.0; 0.0 |], [| 0.0 |], Array.zeroCreate 9) |> ignore)
                  "forces of the wrong length"

              Expect.throwsT<ArgumentException>
                  (fun () -> Results.Create(0.0, [| 0.0 |], Array.zeroCreate 3, Array.zeroCreate 6) |> ignore)
                  "virial of the wrong length" ]

[<Tests>]
let tests = testList "Qmmm.Numerics.Potentials.Evaluate" [ evaluation ]
