/// The fast EAM evaluation (Potentials.Eam.Passes.fs, Potentials.Eam.Tables.fs: each pair once, two passes) against
/// the generic per-site path, the oracle.
module Qmmm.Numerics.Tests.PotentialsEamPasses

open System
open System.IO
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators
open Qmmm.Numerics.Tests.PotentialsEam

open Qmmm.Numerics.Tests.PotentialsEamSetfl

/// Settings forcing the generic path.
let private genericSettings =
    { Evaluate.defaults with
        Generic = true }

/// Cubic taper (1 - r/rc)³ for r < rc, 0 beyond: smooth synthetic radial functions that vanish at the cutoff.
let private taper (rc: float) (r: float) =
    if r < rc then (1.0 - r / rc) ** 3.0 else 0.0

/// A synthetic two-species setfl model ("A", "B"; cutoff 5.5 Å) with species-dependent smooth functions: densities
/// differ per (element, block) so that ρ_ab ≠ ρ_ba for eam/fs, embeddings -√ρ-like, pairs of Morse-like shape.
let private twoSpecies (kind: SetflKind) =
    let rc = 5.5

    let text =
        setflText
            kind
            [| "A"; "B" |]
            (2000, 0.05, 2000, 0.003, rc)
            (fun e x -> -(1.0 + 0.2 * float e) * sqrt x + 0.01 * x * x)
            (fun i j x -> (1.0 + 0.3 * float i + 0.7 * float j) * exp (-(x - 2.7)) * taper rc x)
            (fun i j x ->
                let a = 0.8 + 0.1 * float (i + j)
                let b = 1.2 + 0.05 * float (i * j)
                x * (a * exp (-2.0 * (x - 2.6)) - b * exp (-(x - 2.6))) * taper rc x)

    Setfl.model (sprintf "AB-%A" kind) (Setfl.parse kind "AB" text)

/// The same model with every radial function behind a plain closure, so the fast evaluation cannot see the tables
/// and uses its closure kernel.
let private asClosures (m: EamModel) =
    let wrap (f: Radial) =
        { F = (fun r -> f.F r)
          D = f.D
          J = f.J }

    { m with
        Pair = Array.map wrap m.Pair
        Density = Array.map wrap m.Density }

/// A configuration with species drawn at random from `elements` (fixed seed).
let private withSpecies (seed: int) (elements: string[]) (c: Configuration) =
    let rng = Random(seed)

    { c with
        Species = Array.init c.Count (fun _ -> elements.[rng.Next elements.Length]) }

/// The geometries of the comparison, perturbed by up to 0.115 Å: periodic cells (a 2-atom cell whose atoms see many
/// periodic images of themselves, and a 54-atom cell), a cluster, and a slab periodic along z only.
let private fastGeometries (a: float) =
    [ "2-atom periodic cell", displaced (bcc a (1, 1, 1) [| true; true; true |]) (randomDisplacements 71 0.115 2)
      "54-atom periodic cell", displaced (bcc a (3, 3, 3) [| true; true; true |]) (randomDisplacements 72 0.115 54)
      "cluster",
      (let c = cluster a 4.6
       displaced c (randomDisplacements 73 0.115 c.Count))
      "slab periodic in z", displaced (bcc a (2, 2, 1) [| false; false; true |]) (randomDisplacements 74 0.115 8) ]

/// Checks that the fast evaluation (default settings) of every quantity equals the generic one to rounding.
let private expectFastEqualsGeneric (what: string) (p: ISitePotential) (c: Configuration) =
    let nl = Neighbours.reference p.Cutoff c
    let fast = Evaluate.all p c nl
    let gen = Evaluate.allWith genericSettings p c nl
    let energy = { absolute = 1e-10; relative = 1e-12 }
    let small = { absolute = 1e-10; relative = 1e-10 }
    Expect.floatClose energy fast.Energy gen.Energy (sprintf "%s: energy" what)
    Expect.isGreaterThan (maxAbs gen.Forces) 1e-3 (sprintf "%s: the configuration has sizeable forces" what)

    for i in 0 .. c.Count - 1 do
        Expect.floatClose small fast.SiteEnergies.[i] gen.SiteEnergies.[i] (sprintf "%s: site energy %d" what i)

    for k in 0 .. 3 * c.Count - 1 do
        Expect.floatClose small fast.Forces.[k] gen.Forces.[k] (sprintf "%s: force component %d" what k)

    for k in 0..8 do
        Expect.floatClose
            { absolute = 1e-9; relative = 1e-10 }
            fast.Virial.[k]
            gen.Virial.[k]
            (sprintf "%s: W[%d]" what k)

    // the energy-only pass
    let es = Evaluate.siteEnergies p c nl
    let esGen = Evaluate.siteEnergiesWith genericSettings p c nl

    for i in 0 .. c.Count - 1 do
        Expect.floatClose small es.[i] esGen.[i] (sprintf "%s: energy-only site energy %d" what i)

    Expect.floatClose energy (Evaluate.energy p c nl) gen.Energy (sprintf "%s: energy-only total" what)

    // a partial energy (random selection of about half the sites)
    let rng = Random(79)
    let mask = Array.init c.Count (fun _ -> rng.NextDouble() < 0.5)
    let part = Evaluate.partial p c nl mask
    let partGen = Evaluate.partialWith genericSettings p c nl mask
    Expect.floatClose energy part.Energy partGen.Energy (sprintf "%s: partial energy" what)

    for i in 0 .. c.Count - 1 do
        Expect.floatClose small part.SiteEnergies.[i] partGen.SiteEnergies.[i] (sprintf "%s: partial site %d" what i)

    for k in 0 .. 3 * c.Count - 1 do
        Expect.floatClose small part.Forces.[k] partGen.Forces.[k] (sprintf "%s: partial force %d" what k)

    for k in 0..8 do
        Expect.floatClose
            { absolute = 1e-9; relative = 1e-10 }
            part.Virial.[k]
            partGen.Virial.[k]
            (sprintf "%s: partial W[%d]" what k)

let private fastPath =
    let alloy = lazy (twoSpecies Alloy)
    let fs = lazy (twoSpecies FinnisSinclair)

    testList
        "fast evaluation"
        [ for name, m in models do
              testCase (sprintf "equals the generic path on perturbed cells, a cluster and a slab (%s)" name)
              <| fun () ->
                  for gname, c in fastGeometries 3.165 do
                      expectFastEqualsGeneric (sprintf "%s, %s" name gname) (m.Force()) c

          for name, m in [ "eam/alloy", alloy; "eam/fs", fs ] do
              testCase (sprintf "equals the generic path for a two-species %s model, tables and closures" name)
              <| fun () ->
                  let tables = Eam.potential (m.Force())
                  let closures = Eam.potential (asClosures (m.Force()))

                  for gname, c in fastGeometries 3.165 do
                      let c = withSpecies 75 [| "A"; "B" |] c
                      expectFastEqualsGeneric (sprintf "%s tables, %s" name gname) tables c
                      expectFastEqualsGeneric (sprintf "%s closures, %s" name gname) closures c

          testCase "the two-species models distinguish ρ_ab from ρ_ba, so the asymmetric branches are exercised"
          <| fun () ->
              // host A, neighbour B vs host B, neighbour A at the same distance
              for m in [ fs.Force(); alloy.Force() ] do
                  let rab = m.Density.[0 * 2 + 1].F 3.0
                  let rba = m.Density.[1 * 2 + 0].F 3.0

                  Expect.isGreaterThan
                      (abs (rab - rba))
                      (0.1 * abs rab)
                      (sprintf "%s: ρ_AB(3) = %g, ρ_BA(3) = %g" m.Name rab rba)

          testCase "setfl models take the table kernel; analytic models and wrapped closures do not"
          <| fun () ->
              Expect.isSome (EamTables.setflTables (Setfl.model "z" (zhouSetfl.Force()))) "W_zhou setfl"
              Expect.isSome (EamTables.setflTables (alloy.Force())) "two-species alloy"
              Expect.isSome (EamTables.setflTables (fs.Force())) "two-species fs"
              Expect.isNone (EamTables.setflTables Marinica.model) "Marinica"
              Expect.isNone (EamTables.setflTables Zhou.model) "Zhou analytic"
              Expect.isNone (EamTables.setflTables (asClosures (alloy.Force()))) "wrapped closures"

          testCase "results are bit-identical for 1, 2 and 3 threads"
          <| fun () ->
              let c0 = bcc 3.165 (3, 3, 3) [| true; true; true |]
              let c = displaced c0 (randomDisplacements 76 0.1 c0.Count)

              for name, p in
                  [ "setfl", Eam.potential (Setfl.model "z" (zhouSetfl.Force()))
                    "Marinica", Eam.potential Marinica.model
                    "fs closures", Eam.potential (asClosures (fs.Force())) ] do
                  let c =
                      if name = "fs closures" then
                          withSpecies 77 [| "A"; "B" |] c
                      else
                          c

                  let nl = Neighbours.reference p.Cutoff c

                  let run threads =
                      let s =
                          { Evaluate.defaults with
                              Threads = threads }

                      let mask = Array.init c.Count (fun i -> i % 3 = 0)
                      Evaluate.allWith s p c nl, Evaluate.siteEnergiesWith s p c nl, Evaluate.partialWith s p c nl mask

                  let one, e1, p1 = run 1

                  for threads in [ 2; 3 ] do
                      let r, e, part = run threads
                      Expect.equal part.Forces p1.Forces (sprintf "%s: partial forces, %d threads" name threads)
                      Expect.equal part.Energy p1.Energy (sprintf "%s: partial energy, %d threads" name threads)
                      Expect.equal r.Energy one.Energy (sprintf "%s: energy, %d threads" name threads)

                      Expect.equal
                          r.SiteEnergies
                          one.SiteEnergies
                          (sprintf "%s: site energies, %d threads" name threads)

                      Expect.equal r.Forces one.Forces (sprintf "%s: forces, %d threads" name threads)
                      Expect.equal r.Virial one.Virial (sprintf "%s: virial, %d threads" name threads)
                      Expect.equal e e1 (sprintf "%s: energy-only site energies, %d threads" name threads)

          testCase "the chunk count changes the fast results only by rounding"
          <| fun () ->
              let p = Eam.potential (Setfl.model "z" (zhouSetfl.Force()))
              let c0 = bcc 3.165 (3, 3, 3) [| true; true; true |]
              let c = displaced c0 (randomDisplacements 78 0.1 c0.Count)
              let nl = Neighbours.reference p.Cutoff c
              let a = Evaluate.allWith { Evaluate.defaults with Chunks = 1 } p c nl

              for chunks in [ 3; 8; 54; 1000 ] do
                  let b =
                      Evaluate.allWith
                          { Evaluate.defaults with
                              Chunks = chunks }
                          p
                          c
                          nl

                  Expect.floatClose { absolute = 1e-10; relative = 1e-12 } b.Energy a.Energy "energy"

                  for k in 0 .. a.Forces.Length - 1 do
                      Expect.floatClose { absolute = 1e-12; relative = 1e-12 } b.Forces.[k] a.Forces.[k] "forces"

          testCase "reused and concurrent evaluations of one potential object give the same results"
          <| fun () ->
              let p = Eam.potential Marinica.model
              let c0 = bcc 3.1434 (3, 3, 3) [| true; true; true |]

              let configs =
                  [| for seed in 80..85 ->
                         let c =
                             if seed % 2 = 0 then
                                 c0
                             else
                                 bcc 3.1434 (2, 2, 2) [| true; true; true |]

                         displaced c (randomDisplacements seed 0.1 c.Count) |]

              let lists = configs |> Array.map (fun c -> Neighbours.reference p.Cutoff c)
              // sequential, alternating sizes (the cached scratch is replaced), then the same again
              let first = Array.map2 (Evaluate.all p) configs lists
              let again = Array.map2 (Evaluate.all p) configs lists
              // concurrently on the same object, several rounds
              let concurrent =
                  Array.Parallel.init 24 (fun k -> Evaluate.all p configs.[k % 6] lists.[k % 6])

              for k in 0..5 do
                  Expect.equal again.[k].Forces first.[k].Forces (sprintf "config %d: forces, second run" k)
                  Expect.equal again.[k].SiteEnergies first.[k].SiteEnergies (sprintf "config %d: site energies" k)

              for k in 0..23 do
                  Expect.equal concurrent.[k].Forces first.[k % 6].Forces (sprintf "concurrent run %d: forces" k)
                  Expect.equal concurrent.[k].Virial first.[k % 6].Virial (sprintf "concurrent run %d: virial" k) ]

[<Tests>]
let tests = testList "Qmmm.Numerics.Potentials.Eam.Passes" [ fastPath ]
