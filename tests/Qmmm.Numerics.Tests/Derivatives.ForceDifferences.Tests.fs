/// Force derivatives by centred differences of forces: Hessian symmetry and the translation sum rule (tight binding).
module Qmmm.Numerics.Tests.DerivativesForceDifferences

open Expecto
open Qmmm.Numerics

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Derivatives.ForceDifferences"
        [ testCase "∂F_0/∂y_ℓ from displacing ℓ equals (∂F_ℓ/∂y_0)ᵀ from displacing 0; Σ_ℓ ∂F_ℓ/∂y_0 = 0 (NRL-TB)"
          <| fun () ->
              let pot = TightBinding.model TightBindingOptions.Defaults
              let c = Domains.perturb 3 0.05 (Domains.periodic (Lattice.diamond "Si" 5.43) 1 1 1)
              let h = 1e-4
              let j0 = ForceDifferences.response pot c 0 h
              let j5 = ForceDifferences.response pot c 5 h

              for a in 0..2 do
                  for b in 0..2 do
                      // ∂F_0,a/∂y_5,b (from displacing 5) = ∂F_5,b/∂y_0,a (from displacing 0)
                      Expect.floatClose
                          { absolute = 1e-6; relative = 0.0 }
                          j5.[3 * a + b]
                          j0.[9 * 5 + 3 * b + a]
                          (sprintf "Hessian symmetry %d %d" a b)

                      let sum = Seq.sum [ for l in 0 .. c.Count - 1 -> j0.[9 * l + 3 * a + b] ]
                      Expect.floatClose { absolute = 1e-8; relative = 0.0 } sum 0.0 "translation sum rule"

              Expect.isGreaterThan (abs j0.[0]) 1.0 "the self term is not small" ]
