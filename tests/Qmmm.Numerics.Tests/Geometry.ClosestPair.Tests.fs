/// The O(N) overlap search (`ClosestPair.withinHashed`, the crowded branch of `within`) against the O(N²) reference
/// neighbour list on random clusters, slabs and periodic cells, and the crowded inputs of issue 6 (coincident atoms, a
/// crystal with a far outlier) in bounded time.
module Qmmm.Numerics.Tests.GeometryClosestPair

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators
open Qmmm.Numerics.Tests.GeometryNeighbours

/// A bcc W crystal of n³ conventional cells (2 n³ atoms, a = 3.1652 Å) as a cluster, plus the extra atoms given.
let private crystalWith (n: int) (extra: Vec3 list) =
    let a = 3.1652

    let sites =
        [| for i in 0 .. n - 1 do
               for j in 0 .. n - 1 do
                   for k in 0 .. n - 1 do
                       yield Vec3(float i * a, float j * a, float k * a)
                       yield Vec3((float i + 0.5) * a, (float j + 0.5) * a, (float k + 0.5) * a)
           yield! extra |]

    { Species = Array.zeroCreate sites.Length
      Positions = sites |> Array.collect (fun v -> [| v.X; v.Y; v.Z |])
      Cell =
        { Vectors = Array.zeroCreate 9
          Pbc = [| false; false; false |] } }

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Geometry.ClosestPair"
        [ testPropertyWithConfig
              config
              "the hashed search gives the brute-force closest pair below the limit (or None for cells thinner than 2 limit)"
          <| Prop.forAll
              (Arb.fromGen (Gen.zip (Gen.choose (0, 3) |> Gen.bind configurations) (Gen.choose (1, 40))))
              (fun ((cfg, _), tenths) ->
                  let limit = 0.1 * float tenths
                  let all = Neighbours.reference limit cfg

                  match ClosestPair.withinHashed limit cfg with
                  | ValueNone ->
                      let thin =
                          [ 0..2 ]
                          |> List.exists (fun k -> cfg.Cell.Pbc.[k] && Cell.height cfg.Cell k < 2.0 * limit)

                      Expect.isTrue thin "declined only for a periodic height below 2 limit"
                  | ValueSome(struct (i, j, d)) ->
                      if all.Pairs = 0 then
                          Expect.equal (i, j) (-1, -1) "no pair closer than the limit"
                      else
                          let best = Array.min (dists all)
                          let crowded = (i, j) <> (-1, -1) && d > best

                          // a crowded cube returns an overlapping pair, not necessarily the closest
                          if crowded then
                              Expect.isLessThan d limit "an overlapping pair"
                          else
                              Expect.floatClose Accuracy.veryHigh d best "the closest distance below the limit"
                              let struct (fi, fj, _) = ClosestPair.find cfg
                              Expect.equal (i, j) (fi, fj) "the same pair as the full search"

                  true)

          test "20,000 coincident atoms are found overlapping in O(N), not O(N²)" {
              let n = 20000

              let cfg =
                  { Species = Array.zeroCreate n
                    Positions = Array.init (3 * n) (fun _ -> 1.0)
                    Cell =
                      { Vectors = [| 10.0; 0.0; 0.0; 0.0; 10.0; 0.0; 0.0; 0.0; 10.0 |]
                        Pbc = [| true; true; true |] } }

              let before = GC.GetTotalAllocatedBytes false
              let watch = Diagnostics.Stopwatch.StartNew()
              let struct (i, j, d) = ClosestPair.within 0.5 cfg
              let seconds = watch.Elapsed.TotalSeconds
              let allocated = GC.GetTotalAllocatedBytes false - before
              Expect.equal d 0.0 "coincident"
              Expect.isLessThan i j "two different atoms"
              // the quadratic scan took > 2 s here; 4e8 pair checks cannot fit 0.5 s
              Expect.isLessThan seconds 0.5 "linear time"
              Expect.isLessThan allocated (64L <<< 20) "linear memory"
          }

          test "a crystal with a far outlier (bins as wide as the extent) is checked in O(N) and has no overlap" {
              let cfg = crystalWith 12 [ Vec3(1e7, 0.0, 0.0) ]
              let watch = Diagnostics.Stopwatch.StartNew()
              let struct (i, j, d) = ClosestPair.within 0.5 cfg
              Expect.equal (i, j) (-1, -1) "nearest neighbours are 2.74 Å apart"
              Expect.isTrue (Double.IsPositiveInfinity d) "no pair"
              Expect.isLessThan watch.Elapsed.TotalSeconds 0.5 "linear time"
              // one displaced atom: the exact closest pair is it and its neighbour
              let moved = crystalWith 12 [ Vec3(1e7, 0.0, 0.0); Vec3(0.1, 0.0, 0.0) ]
              let struct (mi, mj, md) = ClosestPair.within 0.5 moved
              Expect.equal (mi, mj) (0, moved.Count - 1) "site 0 and the added atom"
              Expect.floatClose Accuracy.veryHigh md 0.1 "0.1 Å apart"
          }
          test "coordinates too large for exact cube indices fall back to the bins, which still find the overlap" {
              let n = 300
              // 299 coincident atoms at the origin crowd the bins; one atom at 1e300 Å makes cube indices inexact
              let x = Array.zeroCreate (3 * n)
              x.[3 * (n - 1)] <- 1e300

              let cfg =
                  { Species = Array.zeroCreate n
                    Positions = x
                    Cell =
                      { Vectors = Array.zeroCreate 9
                        Pbc = [| false; false; false |] } }

              Expect.isTrue (ClosestPair.withinHashed 0.5 cfg).IsNone "declined"
              let struct (i, j, d) = ClosestPair.within 0.5 cfg
              Expect.equal (i, j, d) (0, 1, 0.0) "the first coincident pair"
          } ]
