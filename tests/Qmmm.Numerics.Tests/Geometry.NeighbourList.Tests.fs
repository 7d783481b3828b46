/// Lists built for relaxation loops: half lists against the O(N²) reference, half → full expansion against the full
/// builder, Verlet-skin lists against exact lists after random moves, the staleness test at the skin/2 boundary, and
/// evaluation with a stale list (an error through `Potential.evaluate`, a rebuild through a `Calculator`, never the
/// old energy).
module Qmmm.Numerics.Tests.GeometryNeighbourList

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators
open Qmmm.Numerics.Tests.GeometryNeighbours

/// The rows of a list as sets of (j, image shift): what a list says, independent of its order.
let private rowSets (nl: NeighbourList) =
    Array.init nl.Count (fun i -> set [ for k in nl.Start.[i] .. nl.Start.[i + 1] - 1 -> nl.Index.[k], nl.Image.[k] ])

/// The entries of a list within `cutoff` at positions `x`, as row sets.
let private rowSetsWithin (cutoff: float) (x: float[]) (nl: NeighbourList) =
    Array.init nl.Count (fun i ->
        set
            [ for k in nl.Start.[i] .. nl.Start.[i + 1] - 1 do
                  if Neighbours.distance nl x i k < cutoff then
                      yield nl.Index.[k], nl.Image.[k] ])

/// Random displacements of every atom, each of length below `amplitude` (Å).
let private displace (seed: int) (amplitude: float) (cfg: Configuration) =
    let rng = Random seed
    let x = Array.copy cfg.Positions

    for i in 0 .. cfg.Count - 1 do
        // a direction uniformly in the cube, scaled to a length below the amplitude
        let d = Vec3(rng.NextDouble() - 0.5, rng.NextDouble() - 0.5, rng.NextDouble() - 0.5)
        let n = Vec3.norm d

        if n > 0.0 then
            let v = (amplitude * rng.NextDouble() / n) * d
            Vec3.set x i (Vec3.get x i + v)

    { cfg with Positions = x }

let private config =
    { FsCheckConfig.defaultConfig with
        maxTest = 60 }

let private marinica = Potential.ofSite (Eam.potential Marinica.model)

[<Tests>]
let tests =
    testList
        "Geometry.NeighbourList"
        [ for kind, name in
              [ 0, "clusters"
                1, "quasi-2D slabs"
                2, "orthogonal cells"
                3, "sheared cells" ] do
              yield
                  testPropertyWithConfig
                      config
                      (sprintf "the half list equals the reference half list on random %s" name)
                  <| Prop.forAll (Arb.fromGen (configurations kind)) (fun (cfg, cutoff) ->
                      let options =
                          { NeighbourOptions.Defaults with
                              Half = true }

                      let reference = Neighbours.referenceWith options cutoff cfg
                      let fast = Neighbours.buildList options cutoff cfg
                      Expect.sequenceEqual fast.Start reference.Start "row starts"
                      Expect.sequenceEqual fast.Index reference.Index "entries"
                      Expect.sequenceEqual fast.Image reference.Image "image shifts"
                      Expect.sequenceEqual (vecs fast) (vecs reference) "vectors, bit for bit"
                      true)

              yield
                  testPropertyWithConfig
                      config
                      (sprintf "a half list seen from both atoms is the full list, entry by entry, on random %s" name)
                  <| Prop.forAll (Arb.fromGen (configurations kind)) (fun (cfg, cutoff) ->
                      let half =
                          Neighbours.buildList
                              { NeighbourOptions.Defaults with
                                  Half = true }
                              cutoff
                              cfg

                      let full = Neighbours.build cutoff cfg
                      let back = Neighbours.toFull half
                      Expect.isFalse back.Half "expanded"
                      Expect.sequenceEqual back.Start full.Start "row starts"
                      Expect.sequenceEqual back.Index full.Index "entries"
                      Expect.sequenceEqual back.Image full.Image "image shifts"
                      Expect.equal (2 * half.Pairs) full.Pairs "every unordered pair once"
                      true)

              yield
                  testPropertyWithConfig
                      config
                      (sprintf
                          "after random moves below skin/2 the skin list holds exactly the pairs within the cutoff on random %s"
                          name)
                  <| Prop.forAll
                      (Arb.fromGen (Gen.zip (configurations kind) (Gen.choose (0, 10000))))
                      (fun ((cfg, cutoff), seed) ->
                          let skin = 0.3 * cutoff

                          let listed =
                              Neighbours.buildList
                                  { NeighbourOptions.Defaults with
                                      Skin = skin }
                                  cutoff
                                  cfg

                          let moved = displace seed (0.4999 * skin) cfg
                          Expect.isTrue (Neighbours.isCurrent listed moved) "still current"
                          let exact = Neighbours.reference cutoff moved
                          Expect.equal (rowSetsWithin cutoff moved.Positions listed) (rowSets exact) "the same pairs"
                          true)
          yield
              testCase "isCurrent: a move of exactly skin/2 keeps the list, a move beyond it or a changed cell does not"
              <| fun () ->
                  let cfg = Domains.periodic (Lattice.bcc "W" 3.1434) 3 3 3

                  let nl =
                      Neighbours.buildList
                          { NeighbourOptions.Defaults with
                              Skin = 1.0 }
                          5.0
                          cfg

                  let moveAtom (d: float) =
                      let x = Array.copy cfg.Positions
                      x.[7 * 3 + 1] <- x.[7 * 3 + 1] + d
                      { cfg with Positions = x }

                  Expect.isTrue (Neighbours.isCurrent nl (moveAtom 0.5)) "0.5 Å = skin/2"
                  Expect.isFalse (Neighbours.isCurrent nl (moveAtom 0.5000001)) "just beyond skin/2"
                  let v = Array.copy cfg.Cell.Vectors
                  v.[0] <- v.[0] * (1.0 + 1e-12)

                  Expect.isFalse
                      (Neighbours.isCurrent
                          nl
                          { cfg with
                              Cell = { cfg.Cell with Vectors = v } })
                      "strained cell"

          yield
              testCase
                  "evaluating with a list made stale by moves beyond skin/2 raises; a Calculator rebuilds and is exact"
              <| fun () ->
                  let cfg = Domains.perturb 3 0.05 (Domains.periodic (Lattice.bcc "W" 3.1434) 4 4 4)

                  let nl =
                      Neighbours.buildList
                          { NeighbourOptions.Defaults with
                              Skin = 0.6 }
                          marinica.Cutoff
                          cfg

                  let moved = displace 11 0.8 cfg
                  Expect.isFalse (Neighbours.isCurrent nl moved) "some atom moved more than 0.3 Å"

                  Expect.throwsT<ArgumentException>
                      (fun () -> Potential.evaluate marinica moved nl Request.All |> ignore)
                      "never the old energy"

                  let calc =
                      Calculator(
                          marinica,
                          { EvaluationSettings.Defaults with
                              Skin = 0.6 }
                      )

                  let e0 = (calc.Compute cfg).Energy
                  let e1 = (calc.Compute moved).Energy
                  Expect.equal calc.Builds 2 "rebuilt once for the far move"
                  Expect.notEqual e1 e0 "a different energy"
                  let fresh = Potential.compute marinica moved
                  Expect.floatClose Accuracy.veryHigh e1 fresh.Energy "the energy of the moved configuration"

          yield
              testCase "a Calculator keeps its half list over 20 small moves and matches fresh full-list evaluations"
              <| fun () ->
                  let cfg = Domains.perturb 5 0.05 (Domains.periodic (Lattice.bcc "W" 3.1434) 4 4 4)

                  let calc =
                      Calculator(
                          marinica,
                          { EvaluationSettings.Defaults with
                              Skin = 1.0 }
                      )

                  let mutable c = cfg

                  for step in 1..20 do
                      c <- displace step 0.02 c
                      let r = calc.Compute c
                      let full = Neighbours.build marinica.Cutoff c

                      let generic =
                          Evaluate.allWith
                              { Evaluate.defaults with
                                  Generic = true }
                              (Eam.potential Marinica.model)
                              c
                              full

                      Expect.floatClose Accuracy.veryHigh r.Energy generic.Energy (sprintf "energy at step %d" step)

                      for k in 0 .. r.Forces.Length - 1 do
                          Expect.isLessThan
                              (abs (r.Forces.[k] - generic.Forces.[k]))
                              1e-11
                              (sprintf "force %d at step %d" k step)

                  // 20 moves of at most 0.02 Å: at most 0.4 Å < skin/2 from the build positions
                  Expect.equal calc.Builds 1 "one build"
                  Expect.isTrue (calc.NeighbourList(c, Request.All)).Half "the EAM fast path runs on a half list"

          yield
              testCase "a cell too thin for the cutoff and atoms far outside the cell are refused with a reason"
              <| fun () ->
                  let thin =
                      { Species = [| "W" |]
                        Positions = [| 0.0; 0.0; 0.0 |]
                        Cell =
                          Cell.create
                              (Vec3(1e-5, 0.0, 0.0))
                              (Vec3(0.0, 3.0, 0.0))
                              (Vec3(0.0, 0.0, 3.0))
                              [| true; true; true |] }

                  let e = Expect.throwsC (fun () -> Neighbours.build 5.0 thin |> ignore) id
                  Expect.stringContains e.Message "too thin" "names the problem"

                  let far =
                      { thin with
                          Positions = [| 3000.0; 0.0; 0.0 |]
                          Cell =
                              Cell.create
                                  (Vec3(3.0, 0.0, 0.0))
                                  (Vec3(0.0, 3.0, 0.0))
                                  (Vec3(0.0, 0.0, 3.0))
                                  [| true; true; true |] }

                  let e = Expect.throwsC (fun () -> Neighbours.build 5.0 far |> ignore) id
                  Expect.stringContains e.Message "wrap the positions" "says what to do"

          yield
              testCase "a list stores 8 bytes per entry: indices and packed image shifts, no vectors"
              <| fun () ->
                  let cfg = Domains.periodic (Lattice.bcc "W" 3.1434) 4 4 4
                  let full = Neighbours.build 7.8925 cfg

                  let half =
                      Neighbours.buildList
                          { NeighbourOptions.Defaults with
                              Half = true }
                          7.8925
                          cfg

                  Expect.equal full.Image.Length full.Index.Length "one shift per entry"
                  // bcc shells below 7.8925 Å at a = 3.1434: a√3/2, a, a√2, a√11/2, a√3, 2a, a√19/2, a√5, a√6 (7.70 Å);
                  // the next, a√27/2 = 8.17 Å, is out: 8 + 6 + 12 + 24 + 8 + 6 + 24 + 24 + 24 = 136
                  Expect.equal (full.Pairs / cfg.Count) 136 "136 neighbours per atom"
                  Expect.equal (half.Pairs / cfg.Count) 68 "68 per atom in the half list" ]
