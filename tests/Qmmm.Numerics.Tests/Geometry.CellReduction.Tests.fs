/// LLL reduction of skewed cells (Geometry.CellReduction.fs): the reduced vectors span the same lattice (unimodular
/// change of basis, recovered as integers), are nearly orthogonal, and give the same energies, forces and virial as
/// the unreduced cell.
module Qmmm.Numerics.Tests.GeometryCellReduction

open System
open Expecto
open Qmmm.Numerics
open Qmmm.Numerics.Tests.PotentialsEam

/// The cell with a2 += s21 a1 and a3 += s31 a1 + s32 a2 (the same lattice, skewed basis).
let private skew (s21: float) (s31: float) (s32: float) (c: Cell) =
    let a1, a2, a3 = Cell.vector c 0, Cell.vector c 1, Cell.vector c 2
    Cell.create a1 (a2 + s21 * a1) (a3 + s31 * a1 + s32 * a2) c.Pbc

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Geometry.CellReduction"
        [ test "a reduced skewed basis spans the same lattice: integer coordinates with determinant ±1" {
              let c0 =
                  Cell.create (Vec3(3.0, 0.0, 0.0)) (Vec3(0.0, 3.5, 0.0)) (Vec3(0.0, 0.0, 4.0)) [| true; true; true |]

              let c = skew 300.0 200.0 150.0 c0
              let r = CellReduction.reduce 2.0 c
              Expect.isGreaterThan (CellReduction.defect c) 1e4 "very skewed"
              Expect.isLessThan (CellReduction.defect r) 1.0001 "back to orthogonal"
              // coordinates of the reduced vectors in the original orthogonal basis are integers forming a unimodular matrix
              let m =
                  Array2D.init 3 3 (fun i k ->
                      let v = Cell.vector r i
                      let e = Cell.vector c0 k
                      Vec3.dot v e / Vec3.dot e e)

              for i in 0..2 do
                  for k in 0..2 do
                      Expect.floatClose Accuracy.high m.[i, k] (Math.Round m.[i, k]) "integer coordinate"

              let det =
                  m.[0, 0] * (m.[1, 1] * m.[2, 2] - m.[1, 2] * m.[2, 1])
                  - m.[0, 1] * (m.[1, 0] * m.[2, 2] - m.[1, 2] * m.[2, 0])
                  + m.[0, 2] * (m.[1, 0] * m.[2, 1] - m.[1, 1] * m.[2, 0])

              Expect.floatClose Accuracy.high (abs det) 1.0 "unimodular"
          }

          test "a nearly orthogonal cell is returned unchanged (the same object)" {
              let c =
                  Cell.create (Vec3(3.0, 0.0, 0.0)) (Vec3(0.5, 3.5, 0.0)) (Vec3(0.0, 0.3, 4.0)) [| true; true; true |]

              Expect.isTrue (obj.ReferenceEquals(CellReduction.reduce 2.0 c, c)) "unchanged"
          }

          test "only periodic vectors are mixed: the open axis of a slab keeps its vector" {
              let c =
                  Cell.create
                      (Vec3(3.0, 0.0, 0.0))
                      (Vec3(30.0, 3.0, 0.0))
                      (Vec3(1.0, 2.0, 10.0))
                      [| true; true; false |]

              let r = CellReduction.reduce 2.0 c
              Expect.equal (Cell.vector r 2) (Cell.vector c 2) "open axis untouched"
              Expect.isLessThan (CellReduction.defect r) 1.0001 "periodic pair reduced"
          }

          test "a moderately skewed bcc W cell gives the same energy, forces and virial as the unreduced one" {
              let p = Eam.potential Marinica.model
              let c0 = bcc 3.1434 (3, 3, 3) [| true; true; true |]
              let c0 = displaced c0 (randomDisplacements 71 0.1 c0.Count)

              let skewed =
                  { c0 with
                      Cell = skew 2.0 1.0 2.0 c0.Cell }

              let reduced = CellReduction.reduceConfiguration 2.0 skewed
              Expect.isFalse (obj.ReferenceEquals(reduced, skewed)) "the skewed cell is reduced"
              Expect.isLessThan (CellReduction.defect reduced.Cell) (CellReduction.defect skewed.Cell) "less skewed"
              // oracle: the O(N²) reference list on the unreduced skewed cell (many images, no reduction)
              let a = Evaluate.all p skewed (Neighbours.reference p.Cutoff skewed)
              let b = Evaluate.all p reduced (Neighbours.reference p.Cutoff reduced)
              let acc = { absolute = 1e-10; relative = 1e-12 }
              Expect.floatClose acc b.Energy a.Energy "energy"

              for k in 0 .. a.Forces.Length - 1 do
                  Expect.floatClose acc b.Forces.[k] a.Forces.[k] "force"

              for k in 0 .. a.Virial.Length - 1 do
                  Expect.floatClose acc b.Virial.[k] a.Virial.[k] "virial"
          } ]
