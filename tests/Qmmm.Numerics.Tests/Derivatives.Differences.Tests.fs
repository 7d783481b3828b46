/// The non-pooled derivative route (centred differences of the analytic gradient, symmetrised and
/// Richardson-extrapolated) against the exact pooled engine on the smooth Zhou W EAM.
module Qmmm.Numerics.Tests.DerivativesDifferences

open Expecto
open Qmmm.Numerics

let private lattice = Lattice.bcc "W" 3.1648
let private model = Zhou.model
let private site = Eam.potential model
let private stencil = Lattice.stencil lattice model.Cutoff
let private firstShell = 2.8
let private secondShell = 3.3

/// Largest |a − b| over the entries, relative to the largest |b|.
let private relativeError (a: float[]) (b: float[]) =
    let scale = b |> Array.map abs |> Array.max
    Array.fold2 (fun m x y -> max m (abs (x - y))) 0.0 a b / scale

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Derivatives.Differences"
        [ testCase "order 1 is the analytic gradient, equal to the pooled δ¹V to round-off"
          <| fun () ->
              let exact = Derivatives.siteTensors (Pooled.ofEam model 0) stencil 1 model.Cutoff

              let r =
                  DifferenceDerivatives.siteTensors DifferenceDerivatives.Options.Defaults site 0 stencil 1 model.Cutoff

              Expect.isLessThan (relativeError r.Tensor.Values exact.Values) 1e-13 "δ¹V"
              Expect.equal r.ErrorEstimate 0.0 "no differences at order 1"

          testCase "order 2 agrees with the exact pooled tensor to 1e-8 relative (two shells)"
          <| fun () ->
              let exact = Derivatives.siteTensors (Pooled.ofEam model 0) stencil 2 secondShell

              let r =
                  DifferenceDerivatives.siteTensors DifferenceDerivatives.Options.Defaults site 0 stencil 2 secondShell

              Expect.equal r.Tensor.Tuples exact.Tuples "same canonical tuples"
              let err = relativeError r.Tensor.Values exact.Values
              Expect.isLessThan err 1e-8 "δ²V"
              // the Richardson estimate bounds the true error (it estimates the error of D(h/2), larger than that
              // of the extrapolated value)
              let scale = exact.Values |> Array.map abs |> Array.max
              Expect.isLessThan (err * scale) (10.0 * r.ErrorEstimate + 1e-12) "estimate is not optimistic"

          testCase "order 3 agrees with the exact pooled tensor to 1e-6 relative (first shell)"
          <| fun () ->
              let exact = Derivatives.siteTensors (Pooled.ofEam model 0) stencil 3 firstShell

              let r =
                  DifferenceDerivatives.siteTensors DifferenceDerivatives.Options.Defaults site 0 stencil 3 firstShell

              Expect.isLessThan (relativeError r.Tensor.Values exact.Values) 1e-6 "δ³V"

          testCase "without Richardson the error is larger and no estimate is given"
          <| fun () ->
              let exact = Derivatives.siteTensors (Pooled.ofEam model 0) stencil 2 firstShell

              let opts =
                  { DifferenceDerivatives.Options.Defaults with
                      Richardson = false
                      Step = 1e-2 }

              let plain = DifferenceDerivatives.siteTensors opts site 0 stencil 2 firstShell

              let rich =
                  DifferenceDerivatives.siteTensors { opts with Richardson = true } site 0 stencil 2 firstShell

              let ePlain = relativeError plain.Tensor.Values exact.Values
              let eRich = relativeError rich.Tensor.Values exact.Values
              Expect.isTrue (System.Double.IsNaN plain.ErrorEstimate) "no estimate"
              Expect.isLessThan eRich (0.1 * ePlain) "extrapolation removes the O(h²) term"

          testCase "blocks of repeated neighbours are exactly symmetric (symmetrised over index permutations)"
          <| fun () ->
              let r =
                  DifferenceDerivatives.siteTensors DifferenceDerivatives.Options.Defaults site 0 stencil 2 firstShell

              let t = r.Tensor

              for k in 0 .. SiteTensor.count t - 1 do
                  let tuple = SiteTensor.tupleAt t k

                  if tuple.[0] = tuple.[1] then
                      let b = SiteTensor.blockAt t k

                      for a in 0..2 do
                          for c in 0..2 do
                              Expect.equal b.[3 * a + c] b.[3 * c + a] (sprintf "tuple %A (%d,%d)" tuple a c)

          testCase "the result does not depend on the thread count (bit for bit)"
          <| fun () ->
              let run threads =
                  (DifferenceDerivatives.siteTensors
                      { DifferenceDerivatives.Options.Defaults with
                          Threads = threads }
                      site
                      0
                      stencil
                      3
                      firstShell)
                      .Tensor.Values

              Expect.equal (run 1) (run 2) "1 vs 2 threads" ]
