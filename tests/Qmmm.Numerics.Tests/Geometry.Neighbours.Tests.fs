/// Cell-list neighbour lists against the O(N^2) reference (and a brute force over a wider image range for atoms
/// outside the cell) on random clusters, quasi-2D slabs, orthogonal and sheared periodic cells (also with cutoffs
/// beyond the cell height), a production-size W cell, cutoffs at shell radii, shell counts of perfect crystals, thread
/// independence, and the closest pair.
module Qmmm.Numerics.Tests.GeometryNeighbours

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators

/// The entry vectors of a list at its build positions (the list stores indices and image shifts only).
let vecs (nl: NeighbourList) = Neighbours.vectors nl nl.BuiltPositions

/// The entry distances of a list at its build positions.
let dists (nl: NeighbourList) =
    Neighbours.distances nl nl.BuiltPositions

/// A configuration with `n` atoms at fractional coordinates `fr` of the frame (a1, a2, a3), plus an offset.
let private place (a1: Vec3) (a2: Vec3) (a3: Vec3) (pbc: bool[]) (fr: float[]) =
    let n = fr.Length / 3
    let x = Array.zeroCreate (3 * n)

    for i in 0 .. n - 1 do
        Vec3.set x i (fr.[3 * i] * a1 + fr.[3 * i + 1] * a2 + fr.[3 * i + 2] * a3)

    { Species = Array.create n "W"
      Positions = x
      Cell = Cell.create a1 a2 a3 pbc }

/// Random configurations of the four kinds with fractional coordinates in [lo, hi) and a cutoff up to 1.5 × the smallest
/// periodic height (so often more than half a cell height or a whole one: several images).
/// kind 0: cluster; 1: quasi-2D (pbc F F T, a3 tilted); 2: orthogonal periodic; 3: sheared periodic.
let configurationsIn (lo: float) (hi: float) (kind: int) =
    gen {
        let! n = Gen.choose (1, 30)
        let! fr = Gen.arrayOfLength (3 * n) (floatIn lo hi)
        let! l = Gen.arrayOfLength 3 (floatIn 2.0 7.0)
        let! sh = Gen.arrayOfLength 3 (floatIn -0.6 0.6)
        let! c = floatIn 0.2 1.5

        let a1, a2, a3, pbc =
            match kind with
            | 0 -> Vec3(l.[0], 0.0, 0.0), Vec3(0.0, l.[1], 0.0), Vec3(0.0, 0.0, l.[2]), [| false; false; false |]
            | 1 ->
                Vec3(l.[0], 0.0, 0.0),
                Vec3(0.0, l.[1], 0.0),
                Vec3(sh.[0] * l.[2], sh.[1] * l.[2], l.[2]),
                [| false; false; true |]
            | 2 -> Vec3(l.[0], 0.0, 0.0), Vec3(0.0, l.[1], 0.0), Vec3(0.0, 0.0, l.[2]), [| true; true; true |]
            | _ ->
                Vec3(l.[0], 0.0, 0.0),
                Vec3(sh.[0] * l.[0], l.[1], 0.0),
                Vec3(sh.[1] * l.[0], sh.[2] * l.[1], l.[2]),
                [| true; true; true |]

        let config = place a1 a2 a3 pbc fr

        let scale =
            if kind = 0 then
                3.0
            else
                [ 0..2 ]
                |> List.filter (fun i -> pbc.[i])
                |> List.map (Cell.height config.Cell)
                |> List.min

        return config, c * scale
    }

/// Random configurations with every atom inside the cell (fractional coordinates in [0, 1)).
let configurations (kind: int) = configurationsIn 0.0 0.999999 kind

/// Brute force over every pair and every image shift s in [-r, r] on periodic axes, rows ordered by (j, s), with the
/// arithmetic of `Neighbours.reference` (vector (y_j + s·A) − y_i): unlike the reference (whose shift range assumes
/// atoms inside the cell) valid for atoms anywhere when r is large enough.
let private bruteForce (r: int) (cutoff: float) (cfg: Configuration) =
    let n = cfg.Count
    let x = cfg.Positions
    let a = Array.init 3 (Cell.vector cfg.Cell)
    let range = Array.init 3 (fun k -> if cfg.Cell.Pbc.[k] then r else 0)
    let start = Array.zeroCreate (n + 1)
    let index = ResizeArray()
    let vectors = ResizeArray()

    for i in 0 .. n - 1 do
        for j in 0 .. n - 1 do
            for s0 in -range.[0] .. range.[0] do
                for s1 in -range.[1] .. range.[1] do
                    for s2 in -range.[2] .. range.[2] do
                        if not (i = j && s0 = 0 && s1 = 0 && s2 = 0) then
                            let shift = float s0 * a.[0] + float s1 * a.[1] + float s2 * a.[2]
                            let v = Vec3.get x j + shift - Vec3.get x i

                            if Vec3.dot v v < cutoff * cutoff then
                                index.Add j
                                vectors.AddRange [ v.X; v.Y; v.Z ]

        start.[i + 1] <- index.Count

    start, index.ToArray(), vectors.ToArray()

/// Asserts two lists are identical: row starts, neighbour indices, vectors and distances, bit for bit.
let private identical (expected: NeighbourList) (actual: NeighbourList) =
    Expect.sequenceEqual actual.Start expected.Start "row starts"
    Expect.sequenceEqual actual.Index expected.Index "entries in the same order"
    Expect.sequenceEqual actual.Image expected.Image "image shifts"
    Expect.sequenceEqual (vecs actual) (vecs expected) "vectors"
    Expect.sequenceEqual (dists actual) (dists expected) "distances"

/// Rows of a list as sorted arrays of (j, x, y, z) (a multiset per atom).
let private rows (nl: NeighbourList) =
    Array.init nl.Count (fun i ->
        [| for e in nl.Start.[i] .. nl.Start.[i + 1] - 1 ->
               nl.Index.[e], (vecs nl).[3 * e], (vecs nl).[3 * e + 1], (vecs nl).[3 * e + 2] |]
        |> Array.sortBy (fun (j, x, y, z) -> j, Math.Round(x, 8), Math.Round(y, 8), Math.Round(z, 8)))

/// Asserts both lists hold the same multisets of (i, j, vector) to 1e-12 Å.
let sameEntries (expected: NeighbourList) (actual: NeighbourList) =
    Expect.equal actual.Count expected.Count "atom count"
    let re, ra = rows expected, rows actual

    for i in 0 .. re.Length - 1 do
        Expect.equal ra.[i].Length re.[i].Length (sprintf "row %d length" i)

        for k in 0 .. re.[i].Length - 1 do
            let (j1, x1, y1, z1), (j2, x2, y2, z2) = re.[i].[k], ra.[i].[k]
            Expect.equal j2 j1 (sprintf "row %d entry %d: j" i k)
            Expect.isLessThanOrEqual (abs (x1 - x2) + abs (y1 - y2) + abs (z1 - z2)) 1e-12 (sprintf "row %d vector" i)

let private bccCell (a: float) (n: int) =
    Domains.periodic (Lattice.bcc "W" a) n n n

/// Distances from atom 0 grouped into shells (rounded to 1e-6 Å) with their counts.
let private shells (nl: NeighbourList) =
    [| for e in nl.Start.[0] .. nl.Start.[1] - 1 -> Math.Round((dists nl).[e], 6) |]
    |> Array.countBy id
    |> Array.sortBy fst

let private kindNames =
    [ 0, "clusters"
      1, "quasi-2D slabs"
      2, "orthogonal periodic cells"
      3, "sheared periodic cells" ]

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Geometry.Neighbours"
        [ for kind, name in kindNames do
              testPropertyWithConfig config (sprintf "cell lists give the reference entries on random %s" name)
              <| Prop.forAll (Arb.fromGen (configurations kind)) (fun (cfg, cutoff) ->
                  let reference = Neighbours.reference cutoff cfg
                  let fast = Neighbours.build cutoff cfg
                  sameEntries reference fast
                  // documented order: rows sorted by (j, image shift), exactly as the reference
                  Expect.sequenceEqual fast.Start reference.Start "row starts"
                  Expect.sequenceEqual fast.Index reference.Index "row order"
                  Expect.sequenceEqual (vecs fast) (vecs reference) "vectors in the same order"
                  true)

          testPropertyWithConfig config "atoms moved by lattice vectors outside the cell keep the same entries"
          <| Prop.forAll
              (Arb.fromGen (
                  gen {
                      let! kind = Gen.choose (1, 3)
                      let! cfg, cutoff = configurations kind
                      let! shifts = Gen.arrayOfLength (3 * cfg.Count) (Gen.choose (-4, 4))
                      return cfg, cutoff, shifts
                  }
              ))
              (fun (cfg, cutoff, shifts) ->
                  let x = Array.copy cfg.Positions

                  for i in 0 .. cfg.Count - 1 do
                      for k in 0..2 do
                          if cfg.Cell.Pbc.[k] then
                              Vec3.addTo x i (float shifts.[3 * i + k] * Cell.vector cfg.Cell k)

                  let moved = { cfg with Positions = x }
                  let fast = Neighbours.build cutoff moved
                  // the true vectors y_j + shift - y_i of the moved atoms equal those of the wrapped ones
                  let re, ra = rows (Neighbours.reference cutoff cfg), rows fast

                  for i in 0 .. re.Length - 1 do
                      Expect.equal ra.[i].Length re.[i].Length "row length"

                      for k in 0 .. re.[i].Length - 1 do
                          let (j1, x1, y1, z1), (j2, x2, y2, z2) = re.[i].[k], ra.[i].[k]
                          Expect.equal j2 j1 "j"
                          Expect.isLessThan (abs (x1 - x2) + abs (y1 - y2) + abs (z1 - z2)) 1e-9 "vector"

                  true)

          testPropertyWithConfig config "the parallel search in any number of atom chunks gives the reference entries"
          <| Prop.forAll
              (Arb.fromGen (Gen.zip (Gen.choose (0, 3) |> Gen.bind configurations) (Gen.choose (2, 9))))
              (fun ((cfg, cutoff), chunks) ->
                  let reference = Neighbours.reference cutoff cfg
                  let fast, _ = Neighbours.buildChunked chunks cutoff cfg
                  Expect.sequenceEqual fast.Start reference.Start "row starts"
                  Expect.sequenceEqual fast.Index reference.Index "entries"
                  Expect.sequenceEqual (vecs fast) (vecs reference) "vectors"
                  true)

          testPropertyWithConfig config "atoms up to half a cell outside the periodic cell give the brute-force list"
          <| Prop.forAll (Arb.fromGen (Gen.choose (1, 3) |> Gen.bind (configurationsIn -0.5 1.5))) (fun (cfg, cutoff) ->
              // wraps of -1, 0 and 1: image shifts reach the reference's range plus 2
              let heights =
                  [ 0..2 ]
                  |> List.filter (fun k -> cfg.Cell.Pbc.[k])
                  |> List.map (Cell.height cfg.Cell)

              let r = int (Math.Ceiling(cutoff / List.min heights)) + 2
              let start, index, vectors = bruteForce r cutoff cfg
              let fast, _ = Neighbours.buildChunked 2 cutoff cfg
              Expect.sequenceEqual fast.Start start "row starts"
              Expect.sequenceEqual fast.Index index "entries in (j, shift) order"
              Expect.sequenceEqual (vecs fast) vectors "vectors"
              true)

          testCase "a perturbed 1024-atom bcc W cell at the W_zhou cutoff gives the reference list with 1 and 3 parts"
          <| fun () ->
              // the production regime: three bins per axis with ~38 atoms each, 136 neighbours per atom
              let cfg = bccCell 3.165 8 |> Domains.perturb 7 0.05
              let reference = Neighbours.reference 7.8925 cfg
              Expect.equal reference.Pairs (136 * 1024) "136 neighbours per atom (8+6+12+24+8+6+24+24+24)"
              identical reference (fst (Neighbours.buildChunked 1 7.8925 cfg))
              identical reference (fst (Neighbours.buildChunked 3 7.8925 cfg))

          testCase "cutoffs exactly at the shell radii of perfect bcc and diamond give the reference list"
          <| fun () ->
              // distances equal to the cutoff up to rounding: membership must be decided by the reference's arithmetic
              let bcc = bccCell 3.1652 4
              let diamond = Domains.periodic (Lattice.diamond "Si" 5.43) 2 2 2

              for cfg, cutoffs in
                  [ bcc, [ 3.1652 * Math.Sqrt 3.0 / 2.0; 3.1652; 3.1652 * Math.Sqrt 2.0; 2.0 * 3.1652 ]
                    diamond, [ 5.43 * Math.Sqrt 3.0 / 4.0; 5.43 / Math.Sqrt 2.0; 5.43 ] ] do
                  for cutoff in cutoffs do
                      identical (Neighbours.reference cutoff cfg) (Neighbours.build cutoff cfg)

          testCase "buildWith gives the same list on 1 and 2 threads and rejects 0 threads"
          <| fun () ->
              // 5488 atoms: above the 4096-atom threshold, so 2 threads search 2 parts
              let cfg = bccCell 3.165 14 |> Domains.perturb 3 0.1
              identical (Neighbours.buildWith 1 5.5 cfg) (Neighbours.buildWith 2 5.5 cfg)
              Expect.throwsT<ArgumentException> (fun () -> Neighbours.buildWith 0 5.5 cfg |> ignore) "0 threads"

          testCase "on a perfect lattice, where all nearest pairs tie, closestPair returns the smallest (i, j)"
          <| fun () ->
              let a = 3.1652

              for cfg in [ bccCell a 3; Domains.periodic (Lattice.diamond "Si" 5.43) 1 1 1 ] do
                  let all = Neighbours.reference 6.0 cfg
                  // brute force: the minimum distance over entries with j >= i, then the smallest (i, j) realising it
                  let pairs =
                      [ for i in 0 .. cfg.Count - 1 do
                            for e in all.Start.[i] .. all.Start.[i + 1] - 1 do
                                if all.Index.[e] >= i then
                                    (dists all).[e], i, all.Index.[e] ]

                  let d, i, j = List.min pairs
                  let struct (ci, cj, cd) = ClosestPair.find cfg
                  Expect.equal (ci, cj) (i, j) "smallest pair"
                  Expect.floatClose Accuracy.veryHigh cd d "distance"

          testCase "perfect bcc has 8, 6, 12, 24, 8 neighbours at a√3/2, a, a√2, a√11/2, a√3"
          <| fun () ->
              let a = 3.1652
              let nl = Neighbours.build (1.8 * a) (bccCell a 4)

              let expected =
                  [| Math.Sqrt 3.0 / 2.0, 8
                     1.0, 6
                     Math.Sqrt 2.0, 12
                     Math.Sqrt 11.0 / 2.0, 24
                     Math.Sqrt 3.0, 8 |]

              let got = shells nl
              Expect.equal got.Length expected.Length "number of shells"

              for (r, c), (d, k) in Array.zip expected got do
                  Expect.floatClose { absolute = 1e-6; relative = 0.0 } d (r * a) "shell radius"
                  Expect.equal k c (sprintf "neighbours at %g a" r)

          testCase "perfect diamond has 4 neighbours at a√3/4 and 12 at a/√2"
          <| fun () ->
              let a = 5.43
              let cfg = Domains.periodic (Lattice.diamond "Si" a) 2 2 2
              let nl = Neighbours.build (0.75 * a) cfg

              for i in 0 .. cfg.Count - 1 do
                  let ds = [| for e in nl.Start.[i] .. nl.Start.[i + 1] - 1 -> (dists nl).[e] |]

                  Expect.equal
                      (ds |> Array.filter (fun d -> abs (d - a * Math.Sqrt 3.0 / 4.0) < 1e-9)).Length
                      4
                      "first shell"

                  Expect.equal
                      (ds |> Array.filter (fun d -> abs (d - a / Math.Sqrt 2.0) < 1e-9)).Length
                      12
                      "second shell"

                  Expect.equal ds.Length 16 "nothing else below 0.75 a"

          testCase "a cutoff larger than the cell sees every periodic image of a one-atom cell"
          <| fun () ->
              // simple cubic, one atom, side 1: images within 2.05 are the integer points with |n| < 2.05
              let cfg =
                  { Species = [| "W" |]
                    Positions = [| 0.3; 0.2; 0.9 |]
                    Cell =
                      Cell.create
                          (Vec3(1.0, 0.0, 0.0))
                          (Vec3(0.0, 1.0, 0.0))
                          (Vec3(0.0, 0.0, 1.0))
                          [| true; true; true |] }

              let mutable count = 0

              for i in -3 .. 3 do
                  for j in -3 .. 3 do
                      for k in -3 .. 3 do
                          let r2 = i * i + j * j + k * k

                          if r2 > 0 && float r2 < 2.05 * 2.05 then
                              count <- count + 1

              Expect.equal (Neighbours.build 2.05 cfg).Pairs count "lattice points in the ball"

          testCase "work per atom does not grow with the number of atoms"
          <| fun () ->
              let a = 3.1652
              let _, small = Neighbours.buildChunked 1 (1.8 * a) (bccCell a 6)
              let _, large = Neighbours.buildChunked 1 (1.8 * a) (bccCell a 12)
              let perSmall = float small / float (2 * 6 * 6 * 6)
              let perLarge = float large / float (2 * 12 * 12 * 12)
              // same bin width (2a) in both cells: the candidates per atom agree; an O(N^2) search would grow 8x
              Expect.floatClose Accuracy.high perLarge perSmall "candidates per atom"

          testCase "an empty configuration and a sparse cluster spread over 10^6 Å are handled"
          <| fun () ->
              let empty =
                  { Species = [||]
                    Positions = [||]
                    Cell =
                      Cell.create
                          (Vec3(1.0, 0.0, 0.0))
                          (Vec3(0.0, 1.0, 0.0))
                          (Vec3(0.0, 0.0, 1.0))
                          [| true; true; true |] }

              Expect.equal (Neighbours.build 2.0 empty).Pairs 0 "no entries"
              let struct (i, _, d) = ClosestPair.find empty
              Expect.equal i -1 "no pair"
              Expect.isTrue (Double.IsPositiveInfinity d) "no distance"
              // bins are capped at O(N): three atoms, two of them 1e6 Å away
              let sparse =
                  { Species = Array.create 3 "W"
                    Positions = [| 0.0; 0.0; 0.0; 1e6; 0.0; 0.0; 1e6; 1.5; 0.0 |]
                    Cell = Cell.create Vec3.Zero Vec3.Zero Vec3.Zero [| false; false; false |] }

              let nl = Neighbours.build 2.0 sparse
              Expect.sequenceEqual nl.Index [| 2; 1 |] "only the close pair"
              let struct (i, j, d) = ClosestPair.find sparse
              Expect.equal (i, j) (1, 2) "closest pair"
              Expect.floatClose Accuracy.veryHigh d 1.5 "its distance"

          testCase "a NaN or infinite position raises naming the atom"
          <| fun () ->
              let cfg = bccCell 3.1652 2
              let x = Array.copy cfg.Positions
              x.[3 * 5 + 1] <- nan

              let e =
                  Expect.throwsC (fun () -> Neighbours.build 3.0 { cfg with Positions = x } |> ignore) id

              Expect.stringContains e.Message "atom 5" "names the atom"
              x.[3 * 5 + 1] <- infinity

              let e =
                  Expect.throwsC (fun () -> ClosestPair.find { cfg with Positions = x } |> ignore) id

              Expect.stringContains e.Message "atom 5" "names the atom"

          testCase "degenerate periodic cell vectors raise"
          <| fun () ->
              let cfg =
                  place
                      (Vec3(1.0, 0.0, 0.0))
                      (Vec3(2.0, 0.0, 0.0))
                      (Vec3(0.0, 0.0, 1.0))
                      [| true; true; false |]
                      [| 0.1; 0.1; 0.1 |]

              let e = Expect.throwsC (fun () -> Neighbours.build 1.0 cfg |> ignore) id
              Expect.stringContains e.Message "degenerate" "names the condition"

          testPropertyWithConfig config "the closest pair equals the brute-force minimum over all pairs and images"
          <| Prop.forAll (Arb.fromGen (Gen.choose (0, 3) |> Gen.bind configurations)) (fun (cfg, _) ->
              let struct (i, j, d) = ClosestPair.find cfg
              // brute force: the reference list with a cutoff reaching every pair of a cluster, or with periodic
              // axes the shortest periodic vector (an atom's own image is never farther than that)
              let reach =
                  if Cell.isCluster cfg.Cell then
                      Array.sumBy (fun v -> abs v) cfg.Cell.Vectors + 1.0
                  else
                      [ 0..2 ]
                      |> List.filter (fun k -> cfg.Cell.Pbc.[k])
                      |> List.map (fun k -> 1.001 * Vec3.norm (Cell.vector cfg.Cell k))
                      |> List.min

              let all = Neighbours.reference reach cfg
              let best = if all.Pairs = 0 then infinity else Array.min (dists all)

              if cfg.Count < 2 && Cell.isCluster cfg.Cell then
                  Expect.equal (i, j) (-1, -1) "no pair"
                  Expect.isTrue (Double.IsPositiveInfinity d) "infinite distance"
              else
                  Expect.floatClose Accuracy.veryHigh d best "distance"
                  Expect.isLessThanOrEqual i j "i <= j"

                  let row =
                      [| for e in all.Start.[i] .. all.Start.[i + 1] - 1 do
                             if all.Index.[e] = j then
                                 (dists all).[e] |]

                  Expect.floatClose Accuracy.veryHigh (Array.min row) d "the pair (i, j) realises it"

              true)

          testPropertyWithConfig
              config
              "ClosestPair.within finds a pair exactly when the brute-force closest pair is closer than the limit"
          <| Prop.forAll
              (Arb.fromGen (Gen.zip (Gen.choose (0, 3) |> Gen.bind configurations) (Gen.choose (1, 40))))
              (fun ((cfg, _), tenths) ->
                  // limits from 0.1 to 4 Å straddle the random configurations' closest distances
                  let limit = 0.1 * float tenths
                  let struct (wi, wj, wd) = ClosestPair.within limit cfg
                  let all = Neighbours.reference limit cfg

                  if all.Pairs = 0 then
                      Expect.equal (wi, wj) (-1, -1) "no pair closer than the limit"
                      Expect.isTrue (Double.IsPositiveInfinity wd) "infinite distance"
                  else
                      let best = Array.min (dists all)
                      Expect.floatClose Accuracy.veryHigh wd best "the closest distance below the limit"
                      Expect.isLessThan wd limit "below the limit"
                      let struct (fi, fj, _) = ClosestPair.find cfg
                      Expect.equal (wi, wj) (fi, fj) "the same pair as the full search"

                  true) ]
