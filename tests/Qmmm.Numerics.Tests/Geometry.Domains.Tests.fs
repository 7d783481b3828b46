/// Periodic cells, clusters, quasi-2D domains, vacancies and random perturbations, against hand counts and lattice facts.
module Qmmm.Numerics.Tests.GeometryDomains

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.GeometryNeighbours
open Qmmm.Numerics.Tests.Generators

let aW = 3.1652
let aSi = 5.43

let edge (lat: Lattice) =
    Lattice.orient [| 1; -1; 0 |] [| 1; 1; 1 |] [| -1; -1; 2 |] lat

/// Number of atoms of each row with a neighbour distance within 1e-6 Å of r.
let private countAt (nl: NeighbourList) (i: int) (r: float) =
    let mutable c = 0

    for e in nl.Start.[i] .. nl.Start.[i + 1] - 1 do
        if abs ((dists nl).[e] - r) < 1e-6 then
            c <- c + 1

    c

/// True when a crystal-axes point is a bcc site: 2p/a integers, all even or all odd.
let private isBccSite (a: float) (p: Vec3) =
    let ks = [| p.X; p.Y; p.Z |] |> Array.map (fun c -> 2.0 * c / a)
    let ints = ks |> Array.map Math.Round

    Array.forall2 (fun k i -> abs (k - i) < 1e-9) ks ints
    && (ints |> Array.map (fun i -> int i &&& 1) |> Array.distinct).Length = 1

/// Independent count of bcc sites within radius r: half-integer points (in units of a/2) all even or all odd.
let private bccBallCount (a: float) (r: float) =
    let m = int (2.0 * r / a) + 1
    let mutable c = 0

    for i in -m .. m do
        for j in -m .. m do
            for k in -m .. m do
                if ((i &&& 1) = (j &&& 1)) && ((j &&& 1) = (k &&& 1)) then
                    let h = a / 2.0
                    let d2 = (float i * h) ** 2.0 + (float j * h) ** 2.0 + (float k * h) ** 2.0

                    if d2 <= r * r then
                        c <- c + 1

    c

let private checkOrdered (cfg: Configuration) =
    let d = Array.init cfg.Count (fun i -> Vec3.norm (Vec3.get cfg.Positions i))

    for i in 1 .. d.Length - 1 do
        Expect.isLessThanOrEqual d.[i - 1] (d.[i] + 1e-9) "sites ordered by distance from the origin"

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Geometry.Domains"
        [ testCase "a cubic bcc cell of 3 x 4 x 5 periods has 120 sites, |det| / (a^3/2) of them"
          <| fun () ->
              let cfg = Domains.periodic (Lattice.bcc "W" aW) 3 4 5
              Expect.equal cfg.Count 120 "2 sites per cubic period"
              Expect.floatClose Accuracy.veryHigh (Cell.volume cfg.Cell / (aW ** 3.0 / 2.0)) 120.0 "det check"
              Expect.sequenceEqual cfg.Cell.Pbc [| true; true; true |] "pbc T T T"

          testCase "oriented periodic cells: 6 sites per period for bcc, 12 for diamond, each site 8 or 4 bonds"
          <| fun () ->
              for lat, perPeriod, r0, bonds in
                  [ edge (Lattice.bcc "W" aW), 6, aW * Math.Sqrt 3.0 / 2.0, 8
                    edge (Lattice.diamond "Si" aSi), 12, aSi * Math.Sqrt 3.0 / 4.0, 4 ] do
                  let cfg = Domains.periodic lat 2 1 2
                  Expect.equal cfg.Count (4 * perPeriod) (sprintf "%s count" lat.Kind.Name)
                  let density = float lat.Basis.Length / lat.A ** 3.0
                  Expect.floatClose Accuracy.high (Cell.volume cfg.Cell * density) (float cfg.Count) "det check"
                  // no duplicates (closest pair = r0, also across the periodic boundary) and no gaps (full shells)
                  let struct (_, _, d) = ClosestPair.find cfg
                  Expect.floatClose Accuracy.high d r0 "closest pair is the bond length"
                  let nl = Neighbours.build (r0 * 1.05) cfg

                  for i in 0 .. cfg.Count - 1 do
                      Expect.equal (countAt nl i r0) bonds (sprintf "bonds of site %d" i)

          testCase "a bcc cluster holds exactly the sites of the ball, origin first, in any orientation"
          <| fun () ->
              let r = 2.3 * aW
              let expected = bccBallCount aW r

              for lat in [ Lattice.bcc "W" aW; edge (Lattice.bcc "W" aW) ] do
                  let cfg = Domains.cluster lat r
                  Expect.equal cfg.Count expected "independent count"
                  Expect.sequenceEqual cfg.Cell.Pbc [| false; false; false |] "open"
                  Expect.equal (Vec3.get cfg.Positions 0) Vec3.Zero "site 0 is the origin"
                  checkOrdered cfg

                  for i in 0 .. cfg.Count - 1 do
                      let p = Vec3.get cfg.Positions i
                      Expect.isLessThanOrEqual (Vec3.norm p) (r + 1e-9) "inside the ball"
                      Expect.isTrue (isBccSite aW (Lattice.unrotate lat p)) "a bcc site"

          testCase "the quasi-2D W disc along [111] is one period thick with full shells and no duplicates"
          <| fun () ->
              let lat =
                  Lattice.bcc "W" aW |> Lattice.orient [| 1; -1; 0 |] [| 1; 1; -2 |] [| 1; 1; 1 |]

              let r = 4.0 * aW
              let cfg = Domains.quasi2D lat r
              let p = aW * Math.Sqrt 3.0 / 2.0
              Expect.sequenceEqual cfg.Cell.Pbc [| false; false; true |] "pbc F F T"
              Expect.floatClose Accuracy.veryHigh (Cell.vector cfg.Cell 2).Z p "a3 = one [111] period"
              let r0 = aW * Math.Sqrt 3.0 / 2.0
              let struct (_, _, d) = ClosestPair.find cfg
              Expect.floatClose Accuracy.high d r0 "no duplicate across the periodic boundary"
              let nl = Neighbours.build (r0 * 1.05) cfg
              let mutable interior = 0

              for i in 0 .. cfg.Count - 1 do
                  let q = Vec3.get cfg.Positions i
                  Expect.isTrue (q.Z >= -1e-9 && q.Z < p - 1e-9) "0 <= z < period"
                  Expect.isLessThanOrEqual (q.X * q.X + q.Y * q.Y) (r * r * (1.0 + 1e-9)) "inside the disc"
                  Expect.isTrue (isBccSite aW (Lattice.unrotate lat q)) "a bcc site"

                  if q.X * q.X + q.Y * q.Y < (r - aW) ** 2.0 then
                      interior <- interior + 1
                      Expect.equal (countAt nl i r0) 8 "interior sites have 8 nearest neighbours"

              Expect.isGreaterThan interior 10 "some interior sites"
              // one [111] period of bcc holds one site per (a^3/2)/p of area: about pi r^2 p / (a^3/2) sites
              let estimate = Math.PI * r * r * p / (aW ** 3.0 / 2.0)
              Expect.isLessThan (abs (float cfg.Count - estimate) / estimate) 0.1 "area density"

          testCase "the quasi-2D Si edge-dislocation disc has 4 bonds per interior site"
          <| fun () ->
              let lat = edge (Lattice.diamond "Si" aSi)
              let cfg = Domains.quasi2D lat (2.5 * aSi)
              let r0 = aSi * Math.Sqrt 3.0 / 4.0
              Expect.floatClose Accuracy.veryHigh (Cell.vector cfg.Cell 2).Z (aSi * Math.Sqrt 6.0 / 2.0) "period"
              let nl = Neighbours.build (1.05 * r0) cfg

              for i in 0 .. cfg.Count - 1 do
                  let q = Vec3.get cfg.Positions i

                  if q.X * q.X + q.Y * q.Y < (1.5 * aSi) ** 2.0 then
                      Expect.equal (countAt nl i r0) 4 "four bonds"

          testCase "a vacancy removes exactly one site and keeps the others in order"
          <| fun () ->
              let cfg = Domains.cluster (Lattice.bcc "W" aW) (2.0 * aW)
              let v = Domains.vacancy cfg 3
              Expect.equal v.Count (cfg.Count - 1) "one fewer"
              Expect.sequenceEqual v.Positions.[..8] cfg.Positions.[..8] "before the vacancy"
              Expect.sequenceEqual v.Positions.[9..] cfg.Positions.[12..] "after the vacancy"
              let o = Domains.withVacancyAtOrigin cfg
              Expect.equal o.Count (cfg.Count - 1) "one fewer"

              for i in 0 .. o.Count - 1 do
                  Expect.isGreaterThan (Vec3.norm (Vec3.get o.Positions i)) 1.0 "origin removed"

              Expect.throwsT<ArgumentException> (fun () -> Domains.vacancy cfg cfg.Count |> ignore) "index range"

          testCase "the nearest site of a slightly displaced site is that site"
          <| fun () ->
              let cfg = Domains.periodic (Lattice.bcc "W" aW) 2 2 2

              for i in 0 .. cfg.Count - 1 do
                  let p = Vec3.get cfg.Positions i + Vec3(0.3, -0.2, 0.1)
                  Expect.equal (Domains.nearestSite cfg p) i "nearest"

          testPropertyWithConfig config "perturbations are reproducible, bounded by the amplitude and seed-dependent"
          <| Prop.forAll (Arb.fromGen (Gen.zip (Gen.choose (0, 100000)) (floatIn 0.01 0.5))) (fun (seed, amp) ->
              let cfg = Domains.periodic (Lattice.bcc "W" aW) 2 2 2
              let p1 = Domains.perturb seed amp cfg
              let p2 = Domains.perturb seed amp cfg
              let p3 = Domains.perturb (seed + 1) amp cfg
              Expect.sequenceEqual p1.Positions p2.Positions "same seed, same result"
              Expect.isFalse (p1.Positions = p3.Positions) "another seed differs"
              let d = Array.map2 (-) p1.Positions cfg.Positions
              Expect.isLessThanOrEqual (Array.max (Array.map abs d)) amp "bounded"
              Expect.isGreaterThan (Array.max (Array.map abs d)) (0.5 * amp) "not degenerate"
              true) ]
