/// Carving QM + buffer clusters out of larger configurations, against a brute-force minimum-image selection.
module Qmmm.Numerics.Tests.GeometryCarve

open System
open Expecto
open Qmmm.Numerics

let a0 = 5.43
let diamond = Lattice.diamond "Si" a0
let side3 = 3.0 * a0

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Geometry.Carve"
        [ testCase "carving: a z-periodic cylinder out of a periodic cell keeps a3 and takes nearest images"
          <| fun () ->
              let c = Domains.periodic diamond 3 3 1
              let struct (cl, idx) = Carve.ball c (Vec3(0.1, 0.1, 0.0)) 5.0 true
              Expect.sequenceEqual cl.Cell.Pbc [| false; false; true |] "pbc F F T"
              Expect.sequenceEqual (Cell.vector cl.Cell 2 |> fun v -> [ v.X; v.Y; v.Z ]) [ 0.0; 0.0; a0 ] "a3"

              for i in 0 .. idx.Length - 1 do
                  let dx = cl.Positions.[3 * i] - 0.1
                  let dy = cl.Positions.[3 * i + 1] - 0.1
                  Expect.isLessThanOrEqual (dx * dx + dy * dy) 25.0 "inside the cylinder"
                  // the same atom up to a lattice translation of the source
                  for k in 0..1 do
                      let t = (cl.Positions.[3 * i + k] - c.Positions.[3 * idx.[i] + k]) / side3
                      Expect.floatClose { absolute = 1e-9; relative = 0.0 } t (Math.Round t) "image shift"

              // every atom of the cell within 5 Å in xy of (0.1, 0.1) under the minimum image, counted by brute force
              let expected =
                  [ for a in 0 .. c.Count - 1 do
                        let d k =
                            let t = c.Positions.[3 * a + k] - 0.1
                            t - side3 * Math.Round(t / side3)

                        if d 0 * d 0 + d 1 * d 1 <= 25.0 then
                            yield a ]

              Expect.sequenceEqual idx expected "selected atoms"

          testCase "a radius beyond half the cell height along an opened periodic axis is refused"
          <| fun () ->
              let c = Domains.periodic diamond 2 2 2

              Expect.throwsT<ArgumentException>
                  (fun () -> Carve.ball c Vec3.Zero 6.0 false |> ignore)
                  "radius too large" ]
