/// Regions: inclusive free radius, the clamped shell, the default far-field width.
module Qmmm.Numerics.Tests.DefectsRegions

open Expecto
open Qmmm.Numerics

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Defects.Regions"
        [ testCase "free atoms are those with |x − x̂| <= R_MM (inclusive), the rest is the far-field shell"
          <| fun () ->
              let a = 3.0

              let d =
                  DefectGeometry.create Crystal.W DefectKind.NoDefect DomainShape.Quasi2D a (5.0 * a)
              // R_MM = 2a exactly: the sites (±2a, 0), (0, ±2a) lie on the boundary and must be free
              let reg = Regions.create d (2.0 * a) (3.0 * a)
              let x = d.Reference.Positions

              for i in 0 .. d.Reference.Count - 1 do
                  let r = sqrt (x.[3 * i] ** 2.0 + x.[3 * i + 1] ** 2.0)
                  let expected = if r <= 2.0 * a + 1e-9 then Region.Free else Region.FarField
                  Expect.equal reg.Of.[i] expected (sprintf "atom %d at r = %g" i r)

              Expect.equal (reg.Free.Length + reg.FarField.Length) d.Reference.Count "every atom in one region"
              // independent count of the free disc r <= 2a: corners (i, j) a and centres (i + ½, j + ½) a
              let mutable n = 0

              for i in -3 .. 3 do
                  for j in -3 .. 3 do
                      if i * i + j * j <= 4 then
                          n <- n + 1

                      let u, v = float i + 0.5, float j + 0.5

                      if u * u + v * v <= 4.0 then
                          n <- n + 1

              Expect.equal reg.Free.Length n "free count"

          testCase "the default far-field width is the smallest multiple of r0 that is >= 2 cutoffs"
          <| fun () ->
              Expect.equal (Regions.defaultWidth 3.1648 7.8925) 5.0 "Zhou W, r0 = a: 2 × 7.8925 / 3.1648 = 4.99"
              Expect.equal (Regions.defaultWidth 2.0 4.0) 4.0 "exact multiple"
              let lat = Lattice.bcc "W" 3.0

              Expect.floatClose
                  { absolute = 1e-14; relative = 0.0 }
                  (Regions.r0 RadiusUnit.NearestNeighbour lat)
                  (1.5 * sqrt 3.0)
                  "r_nn"

              Expect.equal (Regions.r0 RadiusUnit.LatticeConstant lat) 3.0 "r0 = a" ]
