/// Hessian–vector products of a model by differences of forces: against second differences of the energy (an
/// independent route), symmetry, and the translation null space.
module Qmmm.Numerics.Tests.PotentialsHessian

open System
open Expecto
open Qmmm.Numerics
open Qmmm.Numerics.Tests.PotentialsEam

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Potentials.Hessian"
        [ testCase "vᵀHv equals the second difference of the energy along v, and uᵀHv = vᵀHu (perturbed Zhou W cell)"
          <| fun () ->
              let pot = Eam.potential Zhou.model |> Potential.ofSite
              let c0 = bcc 3.165 (3, 3, 3) [| true; true; true |]
              let c = displaced c0 (randomDisplacements 5 0.05 c0.Count)
              let calc = Calculator(pot)
              let rng = Random(9)
              let u = Array.init c.Positions.Length (fun _ -> rng.NextDouble() - 0.5)
              let v = Array.init c.Positions.Length (fun _ -> rng.NextDouble() - 0.5)
              let hv = Hessian.vectorProduct calc 1e-4 c v
              let hu = Hessian.vectorProduct calc 1e-4 c u

              let dot (a: float[]) (b: float[]) =
                  Array.fold2 (fun s x y -> s + x * y) 0.0 a b

              let uhv, vhu = dot u hv, dot v hu
              Expect.floatClose { absolute = 0.0; relative = 1e-7 } uhv vhu "symmetry"
              // energy second difference along v with step t: (E(+) − 2E + E(−)) / t², O(t²) error
              let e (s: float) =
                  (Potential.compute
                      pot
                      { c with
                          Positions = Array.map2 (fun x d -> x + s * d) c.Positions v })
                      .Energy

              let t = 1e-3
              let fd = (e t - 2.0 * e 0.0 + e -t) / (t * t)
              Expect.floatClose { absolute = 0.0; relative = 1e-5 } (dot v hv) fd "vᵀHv vs energy differences"

          testCase "the dense Hessian of a small cluster is symmetric and annihilates rigid translations"
          <| fun () ->
              let pot = Eam.potential Zhou.model |> Potential.ofSite
              let c0 = bcc 3.165 (2, 2, 1) [| false; false; false |]
              let c = displaced c0 (randomDisplacements 6 0.05 c0.Count)
              let n = c.Positions.Length
              let h = Hessian.dense (Calculator(pot)) 1e-4 c
              let scale = h |> Array.map abs |> Array.max

              for i in 0 .. n - 1 do
                  for axis in 0..2 do
                      let mutable s = 0.0

                      for j in 0 .. n / 3 - 1 do
                          s <- s + h.[i * n + 3 * j + axis]

                      Expect.isLessThan (abs s) (1e-7 * scale) (sprintf "row %d · translation %d" i axis) ]
