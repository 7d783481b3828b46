/// The ACE basis: exact sizes of the paper's table, null-space dimensions, invariances, linear independence,
/// the power spectrum, and a deterministic order.
module Qmmm.Numerics.Tests.AceBasisTests

open System
open Expecto
open Qmmm.Numerics

/// (N, D, #B, by order, #(n,l), #A_nlm, l_max) from /work/shared/reference/ace-basis.md (paper Tables 4.2, 4.3).
let table =
    [ 3, 10.0, 110, [| 10; 41; 59 |], 37, 175, 6
      3, 14.0, 383, [| 14; 102; 267 |], 70, 450, 8
      3, 16.0, 668, [| 16; 147; 505 |], 91, 671, 10
      3, 18.0, 1119, [| 18; 204; 897 |], 114, 936, 11
      4, 20.0, 5456, [| 20; 274; 1515; 3647 |], 140, 1274, 12 ]

let private basis310 = lazy (AceBasis.create (AceBasis.spec 3 10.0))
let private basis316 = lazy (AceBasis.create (AceBasis.spec 3 16.0))

/// A random rotation (QR of a Gaussian 3×3 by Gram–Schmidt, det +1), row-major.
let randomRotation (rng: Random) =
    let gauss () =
        sqrt (-2.0 * log (1.0 - rng.NextDouble()))
        * cos (2.0 * Math.PI * rng.NextDouble())

    let a = Array.init 9 (fun _ -> gauss ())

    let row (i: int) =
        [| a.[3 * i]; a.[3 * i + 1]; a.[3 * i + 2] |]

    let dot (u: float[]) (v: float[]) =
        u.[0] * v.[0] + u.[1] * v.[1] + u.[2] * v.[2]

    let normalise (u: float[]) =
        let n = sqrt (dot u u) in Array.map (fun x -> x / n) u

    let e0 = normalise (row 0)
    let r1 = row 1
    let e1 = normalise (Array.map2 (fun x y -> x - dot r1 e0 * y) r1 e0)

    let e2 =
        [| e0.[1] * e1.[2] - e0.[2] * e1.[1]
           e0.[2] * e1.[0] - e0.[0] * e1.[2]
           e0.[0] * e1.[1] - e0.[1] * e1.[0] |]

    Array.concat [ e0; e1; e2 ]

/// `count` random neighbour vectors (flat) with distances in [rmin, rmax] and random directions.
let randomNeighbours (rng: Random) (count: int) (rmin: float) (rmax: float) =
    Array.init count (fun _ ->
        let z = 2.0 * rng.NextDouble() - 1.0
        let phi = 2.0 * Math.PI * rng.NextDouble()
        let s = sqrt (1.0 - z * z)
        let r = rmin + (rmax - rmin) * rng.NextDouble()
        [| r * s * cos phi; r * s * sin phi; r * z |])
    |> Array.concat

/// y = R x for every vector of a flat array.
let rotate (r: float[]) (xs: float[]) =
    Array.init xs.Length (fun k ->
        let j = k / 3
        let a = k % 3

        r.[3 * a] * xs.[3 * j]
        + r.[3 * a + 1] * xs.[3 * j + 1]
        + r.[3 * a + 2] * xs.[3 * j + 2])

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Ace.Basis"
        [ testCase "basis sizes, by order, #(n,l), #A_nlm and l_max equal the paper's table (counting only)"
          <| fun () ->
              for (n, d, size, by, nl, na, lmax) in table do
                  let struct (b, nl', na', lmax') = AceBasis.countBasis (AceBasis.spec n d)
                  Expect.equal b by (sprintf "(%d,%g) by order" n d)
                  Expect.equal (Array.sum b) size (sprintf "(%d,%g) size" n d)
                  Expect.equal nl' nl "#(n,l)"
                  Expect.equal na' na "#A_nlm"
                  Expect.equal lmax' lmax "l_max"

          testCase
              "the constructed bases (3,10), (3,14), (3,16) have the table's sizes; every block's null space has dimension mult(M=0) − mult(M=1)"
          <| fun () ->
              for (n, d, size, by, _, na, _) in table |> List.take 3 do
                  let b = AceBasis.create (AceBasis.spec n d)
                  Expect.equal b.Size size "size"
                  Expect.equal b.ByOrder by "by order"
                  Expect.equal b.ACount na "#A"

                  for blk in b.Blocks do
                      Expect.equal blk.Dimension (blk.Columns - blk.Rows) "null-space dimension"
                      // the coupling rows are orthonormal and annihilated by the raising operator
                      if blk.Order > 1 then
                          let a =
                              AceBasis.raisingOperator
                                  blk.Factors
                                  b.L
                                  (AceBasis.mTuples blk.Factors b.L 0)
                                  (AceBasis.mTuples blk.Factors b.L 1)

                          for k in 0 .. blk.Dimension - 1 do
                              for r in 0 .. blk.Rows - 1 do
                                  let mutable s = 0.0

                                  for c in 0 .. blk.Columns - 1 do
                                      s <- s + a.[r * blk.Columns + c] * blk.Coupling.[k * blk.Columns + c]

                                  Expect.isLessThan (abs s) 1e-12 "L+ u = 0"

          testCase "the (4,20) basis (5456 functions) is constructed in seconds"
          <| fun () ->
              let sw = Diagnostics.Stopwatch.StartNew()
              let b = AceBasis.create (AceBasis.spec 4 20.0)
              Expect.equal b.Size 5456 "size"
              Expect.equal b.ByOrder [| 20; 274; 1515; 3647 |] "by order"
              Expect.isLessThan sw.Elapsed.TotalSeconds 30.0 "construction time (s)"

          testCase
              "every basis function is invariant under rotations, inversion and permutations (|ΔB| <= 1e-12 (1 + |B|))"
          <| fun () ->
              let rng = Random 11

              for b in [ basis310.Force(); basis316.Force() ] do
                  for trial in 1..4 do
                      let count = 8 + rng.Next 9
                      let rs = randomNeighbours rng count 1.6 4.9
                      let b0 = AceBasis.evaluate b rs count
                      let rot = randomRotation rng
                      let perm = Array.init count id |> Array.sortBy (fun _ -> rng.Next())
                      let permuted = Array.init (3 * count) (fun k -> rs.[3 * perm.[k / 3] + k % 3])

                      let variants =
                          [ "rotation", rotate rot rs
                            "inversion", Array.map (fun x -> -x) rs
                            "rotation and inversion", rotate rot rs |> Array.map (fun x -> -x)
                            "permutation", permuted ]

                      for (what, v) in variants do
                          let b1 = AceBasis.evaluate b v count

                          for k in 0 .. b.Size - 1 do
                              let err = abs (b1.[k] - b0.[k])

                              if err > 1e-12 * (1.0 + abs b0.[k]) then
                                  failtestf "%s: B_%d changed by %g (|B| = %g, trial %d)" what k err b0.[k] trial

          testCase "order-2 invariants are power spectra: Σ_m A_{n l m} conj(A_{n' l m}) up to a constant"
          <| fun () ->
              let b = basis310.Force()
              let rng = Random 12
              let envs = [ for _ in 1..3 -> randomNeighbours rng 10 1.6 4.9 ]

              for blk in b.Blocks |> Array.filter (fun x -> x.Order = 2) do
                  Expect.equal blk.Dimension 1 "one invariant per pair of equal l"
                  let i = blk.Factors.[0]
                  let j = blk.Factors.[1]
                  let l = b.L.[i]

                  let ratios =
                      envs
                      |> List.map (fun rs ->
                          let struct (are, aim) = AceBasis.atomicBase b rs 10
                          let bs = AceBasis.ofAtomicBase b are aim
                          let mutable p = 0.0

                          for m in -l .. l do
                              let ki = AceBasis.aIndex b i m
                              let kj = AceBasis.aIndex b j m
                              p <- p + are.[ki] * are.[kj] + aim.[ki] * aim.[kj]

                          bs.[blk.First] / p)

                  for r in ratios do
                      Expect.floatClose Accuracy.high r ratios.Head "B / power spectrum is constant"

          testCase "design matrices over 2 #B random environments have full column rank ((3,10) and (3,16))"
          <| fun () ->
              let rng = Random 13

              for b in [ basis310.Force(); basis316.Force() ] do
                  let rows = 2 * b.Size
                  let a = Array.zeroCreate (rows * b.Size)

                  for e in 0 .. rows - 1 do
                      // 4 .. 24 neighbours: products of the l = 0 moments are better separated than at a fixed count
                      let count = 4 + rng.Next 21
                      let rs = randomNeighbours rng count 1.6 4.9
                      let v = AceBasis.evaluate b rs count

                      for k in 0 .. b.Size - 1 do
                          a.[e + k * rows] <- v.[k]
                  // unit columns: rank-revealing QR is not invariant under column scaling
                  for k in 0 .. b.Size - 1 do
                      let mutable s = 0.0

                      for e in 0 .. rows - 1 do
                          s <- s + a.[e + k * rows] * a.[e + k * rows]

                      let s = sqrt s

                      for e in 0 .. rows - 1 do
                          a.[e + k * rows] <- a.[e + k * rows] / s

                  let qr = LinearAlgebra.qrPivoted LinearAlgebra.defaultBackend (rows, b.Size, a)
                  // tolerance 1e-11: far above rounding (~1e-13 for these sizes), below the conditioning of the
                  // low-degree l = 0 products (smallest |R_kk| ~ 1e-10 with unit columns)
                  Expect.equal
                      (LinearAlgebra.rankRevealing 1e-11 qr)
                      b.Size
                      (sprintf "rank of the (%d x %d) design" rows b.Size)

          testCase "two constructions give the same ordered basis and coupling coefficients bit for bit"
          <| fun () ->
              let b1 = AceBasis.create (AceBasis.spec 3 14.0)
              let b2 = AceBasis.create (AceBasis.spec 3 14.0)
              Expect.equal b1.Blocks.Length b2.Blocks.Length "blocks"

              for (x, y) in Array.zip b1.Blocks b2.Blocks do
                  Expect.equal x.Factors y.Factors "factors"
                  Expect.equal x.ColumnIndices y.ColumnIndices "columns"

                  Expect.isTrue
                      (Array.forall2
                          (fun (p: float) q -> BitConverter.DoubleToInt64Bits p = BitConverter.DoubleToInt64Bits q)
                          x.Coupling
                          y.Coupling)
                      "coupling bits"

          testCase
              "the one-particle functions are ordered by l, then n, and the multisets by order, then lexicographically"
          <| fun () ->
              let b = basis310.Force()
              let keys = Array.zip b.L b.N
              Expect.equal keys (Array.sort keys) "(l, n) ascending"
              let fs = b.Blocks |> Array.map (fun x -> x.Order, x.Factors |> List.ofArray)
              Expect.equal fs (Array.sort fs) "blocks ascending"

          testCase "an invalid specification is rejected with the offending value"
          <| fun () ->
              let e =
                  Expect.throwsC (fun () -> AceBasis.create (AceBasis.spec 0 10.0) |> ignore) id

              Expect.stringContains e.Message "spec.Order" "names the field"

              Expect.throwsT<ArgumentException>
                  (fun () -> AceBasis.create { AceBasis.spec 2 6.0 with WL = -1.0 } |> ignore)
                  "negative wL" ]
