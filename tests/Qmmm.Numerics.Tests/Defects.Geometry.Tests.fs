/// Defect geometries: site counts against the plain lattice, the vacancy, the core between sites and off the cut,
/// translation of the lattice, and the Zhou unrelaxed vacancy formation energy in periodic cells.
module Qmmm.Numerics.Tests.DefectsGeometry

open System
open Expecto
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Elasticity

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Defects.Geometry"
        [ testCase "the vacancy disc is the perfect disc without the origin site; both are one z-period, pbc F F T"
          <| fun () ->
              let a = 3.16

              let perfect =
                  DefectGeometry.create Crystal.W DefectKind.NoDefect DomainShape.Quasi2D a (6.0 * a)

              let vac =
                  DefectGeometry.create Crystal.W DefectKind.Vacancy DomainShape.Quasi2D a (6.0 * a)

              Expect.equal vac.Reference.Count (perfect.Reference.Count - 1) "one site fewer"
              Expect.equal (Vec3.get perfect.Reference.Positions 0) Vec3.Zero "site 0 of the perfect disc is the origin"
              Expect.sequenceEqual vac.Reference.Positions perfect.Reference.Positions.[3..] "same order otherwise"
              Expect.equal vac.Reference.Cell.Pbc [| false; false; true |] "periodic in z only"
              Expect.floatClose { absolute = 1e-12; relative = 0.0 } vac.Reference.Cell.Vectors.[8] a "one period"
              // independent count: bcc sites (i, j) a and (i + ½, j + ½) a with 0 <= z < a, |(x, y)| <= 6a
              let mutable n = 0

              for i in -7 .. 7 do
                  for j in -7 .. 7 do
                      if float (i * i + j * j) <= 36.0 + 1e-9 then
                          n <- n + 1

                      let x, y = float i + 0.5, float j + 0.5

                      if x * x + y * y <= 36.0 + 1e-9 then
                          n <- n + 1

              Expect.equal perfect.Reference.Count n "bcc disc count"

          testCase "the edge core lies strictly between sites and no site lies on the branch cut (W and Si)"
          <| fun () ->
              for crystal, a in [ Crystal.W, 3.1648; Crystal.Si, 5.43 ] do
                  let d =
                      DefectGeometry.create crystal DefectKind.Edge DomainShape.Quasi2D a (8.0 * a)

                  let c = d.Core
                  let x = d.Reference.Positions
                  let mutable minPlane = Double.PositiveInfinity
                  let mutable minSite = Double.PositiveInfinity

                  for i in 0 .. d.Reference.Count - 1 do
                      let p = Vec3.get x i
                      minPlane <- min minPlane (abs (p.Y - c.Y))
                      minSite <- min minSite (sqrt ((p.X - c.X) ** 2.0 + (p.Y - c.Y) ** 2.0))

                  let expected =
                      match crystal with
                      | Crystal.W -> Vec3(a / 4.0, a / 4.0, 0.0)
                      | Crystal.Si -> Vec3(0.0, 3.0 * a / 8.0, 0.0)

                  Expect.floatClose { absolute = 1e-12; relative = 0.0 } c.X expected.X (sprintf "%A x̂" crystal)
                  Expect.floatClose { absolute = 1e-12; relative = 0.0 } c.Y expected.Y (sprintf "%A ŷ" crystal)
                  // ŷ is the mid-plane between atomic planes a/2 (W) or a/4 (Si) apart
                  let half =
                      (match crystal with
                       | Crystal.W -> a / 4.0
                       | Crystal.Si -> a / 8.0)

                  Expect.floatClose
                      { absolute = 1e-9; relative = 0.0 }
                      minPlane
                      half
                      (sprintf "%A: ŷ mid-plane" crystal)

                  Expect.isGreaterThan minSite (0.1 * a) (sprintf "%A: x̂ is not a site" crystal)

                  let b = DefectGeometry.burgers crystal a

                  Expect.floatClose
                      { absolute = 1e-12; relative = 0.0 }
                      b.X
                      (Lattice.period d.Lattice 0)
                      "|b| = x period"

          testCase "the 3-D ball holds the sites within R of x̂ and is open"
          <| fun () ->
              let a = 3.16

              let d =
                  DefectGeometry.create Crystal.W DefectKind.Vacancy DomainShape.Ball a (3.0 * a)
              // independent count: bcc sites (i, j, k) a/2, all even or all odd, with i² + j² + k² <= 36 (the boundary
              // |x| = 3a holds 30 sites and is inclusive)
              let mutable n = 0

              for i in -6 .. 6 do
                  for j in -6 .. 6 do
                      for k in -6 .. 6 do
                          let even = i % 2 = 0 && j % 2 = 0 && k % 2 = 0
                          let odd = abs i % 2 = 1 && abs j % 2 = 1 && abs k % 2 = 1

                          if i * i + j * j + k * k <= 36 && (even || odd) then
                              n <- n + 1

              Expect.equal d.Reference.Count (n - 1) "ball minus the vacancy"
              Expect.isTrue (Cell.isCluster d.Reference.Cell) "open"

          testCase "Zhou W: unrelaxed vacancy formation energy 3.8508666 eV in periodic cells of 3³, 4³ and 5³ cubes"
          <| fun () ->
              // the issue's independently measured value at the zero-pressure lattice constant
              let pot = zhou.Force()
              let lat = Lattice.bcc "W" (aZhou.Force())

              for n in [ 3; 4; 5 ] do
                  let cell = Domains.periodic lat n n n
                  let e = (Potential.compute pot cell).Energy
                  let ev = (Potential.compute pot (Domains.vacancy cell 0)).Energy
                  let ef = ev - e * float (cell.Count - 1) / float cell.Count
                  Expect.floatClose { absolute = 5e-7; relative = 0.0 } ef 3.8508666 (sprintf "%d³ cubes" n) ]
