/// The overlap check on hostile and physical inputs (issue 6): `ClosestPair.within` (bins, switching to hashed cubes
/// when the bins are crowded) against `ClosestPair.withinBinned` (bins only, the previous check) in the same run,
/// interleaved: 20,000 coincident atoms, a bcc W crystal with one atom 10⁷ Å away, and a perturbed 128,000-atom bcc W
/// cell (the physical case, where both take the binned path and must cost the same).
module Qmmm.Bench.Inputs

open System
open System.Diagnostics
open Qmmm.Numerics
open Qmmm.Bench.Harness

/// Median wall times (s) of f and g over `reps` interleaved runs after one warm-up each.
let private interleaved (reps: int) (f: unit -> unit) (g: unit -> unit) =
    f ()
    g ()

    let time (h: unit -> unit) =
        let sw = Stopwatch.StartNew()
        h ()
        sw.Elapsed.TotalSeconds

    let runs = Array.init reps (fun _ -> struct (time f, time g))
    let med (xs: float[]) = (Array.sort xs).[reps / 2]
    med (runs |> Array.map (fun (struct (a, _)) -> a)), med (runs |> Array.map (fun (struct (_, b)) -> b))

let private bcc (a: float) (n: int) (extra: Vec3 list) (periodic: bool) =
    let sites =
        [| for i in 0 .. n - 1 do
               for j in 0 .. n - 1 do
                   for k in 0 .. n - 1 do
                       yield Vec3(float i * a, float j * a, float k * a)
                       yield Vec3((float i + 0.5) * a, (float j + 0.5) * a, (float k + 0.5) * a)
           yield! extra |]

    let l = float n * a

    { Species = Array.create sites.Length "W"
      Positions = sites |> Array.collect (fun v -> [| v.X; v.Y; v.Z |])
      Cell =
        { Vectors =
            (if periodic then
                 [| l; 0.0; 0.0; 0.0; l; 0.0; 0.0; 0.0; l |]
             else
                 Array.zeroCreate 9)
          Pbc = Array.create 3 periodic } }

/// `inputs [reps=5]`: prints median wall times of `within` and `withinBinned` (0.5 Å limit) and the load average.
let run (args: string[]) =
    let reps = if args.Length > 0 then int args.[0] else 5
    let rng = Random 7

    let coincident =
        { Species = Array.create 20000 "W"
          Positions = Array.create 60000 1.0
          Cell =
            { Vectors = [| 10.0; 0.0; 0.0; 0.0; 10.0; 0.0; 0.0; 0.0; 10.0 |]
              Pbc = [| true; true; true |] } }

    let outlier = bcc 3.1652 12 [ Vec3(1e7, 0.0, 0.0) ] false
    let physical = bcc 3.1652 40 [] true

    let physical =
        { physical with
            Positions = physical.Positions |> Array.map (fun x -> x + 0.05 * (rng.NextDouble() - 0.5)) }

    printfn "overlap check (limit 0.5 Å), %d interleaved runs, load average %s" reps (loadAverage ())

    for name, config, r in
        [ "20,000 coincident atoms", coincident, max 1 (reps / 2)
          "bcc W 3,456 atoms + one at 1e7 Å", outlier, reps
          "bcc W 128,000 atoms, perturbed (physical)", physical, reps ] do
        let now, before =
            interleaved r (fun () -> ClosestPair.within 0.5 config |> ignore) (fun () ->
                ClosestPair.withinBinned 0.5 config |> ignore)

        report (sprintf "%s: within" name) now "s"
        report (sprintf "%s: withinBinned (previous)" name) before "s"
        report (sprintf "%s: speed-up" name) (before / now) "x"
