/// The slip operators (A.5)–(A.8): partners across the cut are the slipped lattice sites, and the elastic strains
/// e_ρ(ℓ) of (A.6) of the predictor are small across the cut (where the raw differences jump by ≈ b) and decay like
/// 1/|ℓ| (A.9).
module Qmmm.Numerics.Tests.DefectsSlip

open Expecto
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Elasticity

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Defects.Slip"
        [ testCase
              "across the cut in Ω_Γ the slipped partner is ℓ + ρ ∓ b and e_ρ(ℓ) is as small as off the cut while D_ρu0 jumps by ≈ b"
          <| fun () ->
              let a = aZhou.Force()

              let d =
                  DefectGeometry.create Crystal.W DefectKind.Edge DomainShape.Quasi2D a (20.0 * a)

              let rhat = Predictor.defaultSmoothing d
              let u0 = Predictor.displacements (PredictorKind.Anisotropic(cZhou.Force())) rhat d
              let bonds = Stencil.bonds d.Reference d.Lattice
              let struct (ends, signs) = Slip.partners d rhat bonds
              let e = Slip.strains d rhat bonds u0
              let x = d.Reference.Positions
              let period = d.Reference.Cell.Vectors.[8]
              let mutable crossing = 0
              let mutable worstStrain = 0.0
              let mutable smallestJump = infinity
              let mutable worstOrdinary = 0.0

              for i in 0 .. d.Reference.Count - 1 do
                  let r = DefectGeometry.distance d.Shape d.Core (Vec3.get x i)

                  for k in bonds.Start.[i] .. bonds.Start.[i + 1] - 1 do
                      if signs.[k] = 0 && r > 6.0 * a && r < 16.0 * a then
                          worstOrdinary <- max worstOrdinary (Vec3.norm (Vec3.get e k))

                      if signs.[k] <> 0 && ends.[k] >= 0 && r > 6.0 * a && r < 16.0 * a then
                          crossing <- crossing + 1
                          let rho = Neighbours.vector bonds x i k
                          let target = Vec3.get x i + rho + float signs.[k] * d.Burgers
                          let got = Vec3.get x ends.[k]
                          // equal up to the z period
                          let dz = (target.Z - got.Z) / period
                          Expect.floatClose { absolute = 1e-9; relative = 0.0 } got.X target.X "partner x"
                          Expect.floatClose { absolute = 1e-9; relative = 0.0 } got.Y target.Y "partner y"
                          Expect.floatClose { absolute = 1e-9; relative = 0.0 } dz (round dz) "partner z mod period"
                          worstStrain <- max worstStrain (Vec3.norm (Vec3.get e k))
                          let raw = Vec3.get u0 bonds.Index.[k] - Vec3.get u0 i
                          smallestJump <- min smallestJump (Vec3.norm raw)

              Expect.isGreaterThan crossing 10 "bonds across the cut in Ω_Γ"
              // the slipped strains across the cut are as small as the ordinary bond strains at the same radii
              Expect.isLessThan
                  worstStrain
                  (1.5 * worstOrdinary)
                  (sprintf "slipped %g vs ordinary %g" worstStrain worstOrdinary)

              Expect.isGreaterThan smallestJump (0.5 * a) "raw differences jump by about b"

          testCase "the elastic strains decay like 1/|ℓ| (A.9): max |e| r is bounded between 5a and 17a"
          <| fun () ->
              let a = aZhou.Force()

              let d =
                  DefectGeometry.create Crystal.W DefectKind.Edge DomainShape.Quasi2D a (20.0 * a)

              let rhat = Predictor.defaultSmoothing d
              let u0 = Predictor.displacements (PredictorKind.Anisotropic(cZhou.Force())) rhat d
              let bonds = Stencil.bonds d.Reference d.Lattice
              let e = Slip.strains d rhat bonds u0
              let x = d.Reference.Positions

              let worst (lo: float) (hi: float) =
                  let mutable m = 0.0

                  for i in 0 .. d.Reference.Count - 1 do
                      let r = DefectGeometry.distance d.Shape d.Core (Vec3.get x i)

                      if r >= lo * a && r < hi * a then
                          for k in bonds.Start.[i] .. bonds.Start.[i + 1] - 1 do
                              let v = Vec3.norm (Vec3.get e k)

                              if not (System.Double.IsNaN v) then
                                  m <- max m v

                  m

              let w1, w2 = worst 5.0 6.0, worst 16.0 17.0
              // 1/r decay: w2 / w1 ≈ 5.5 / 16.5 = 0.33; allow up to 0.5
              Expect.isLessThan (w2 / w1) 0.5 (sprintf "max |e|: %g at 5a, %g at 16a" w1 w2) ]
