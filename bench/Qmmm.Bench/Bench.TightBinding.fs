/// NRL tight binding (Si, Γ point): energy + forces of a periodic cell through the model protocol against a raw
/// LAPACKE `dsygvd` call on the same H and M in the same run, interleaved (ratio = raw / ours; 1 would mean assembly,
/// occupation and forces cost nothing). `dotnet run -c Release --project bench/Qmmm.Bench -- tb [--cells N] [--reps R]`
/// (N = 4: 512 atoms, 2,048 orbitals; N = 5: 1,000 atoms, 4,000 orbitals).
module Qmmm.Bench.TightBinding

open System
open System.Diagnostics
open System.Runtime.InteropServices
open Qmmm.Numerics

/// The baseline: LAPACKE called directly.
module private Raw =
    [<DllImport("liblapacke.so.3", CallingConvention = CallingConvention.Cdecl)>]
    extern int LAPACKE_dsygvd(
        int layout,
        int itype,
        byte jobz,
        byte uplo,
        int n,
        double[] a,
        int lda,
        double[] b,
        int ldb,
        double[] w
    )

let private arg (rest: string[]) (name: string) (fallback: int) =
    match Array.tryFindIndex ((=) name) rest with
    | Some i when i + 1 < rest.Length -> int rest.[i + 1]
    | _ -> fallback

/// Runs the benchmark and prints medians, the ratio and the peak working set.
let run (rest: string[]) =
    let cells = arg rest "--cells" 4
    let reps = arg rest "--reps" 3
    let o = TightBindingOptions.Defaults

    let c =
        Domains.perturb 1 0.05 (Domains.periodic (Lattice.diamond "Si" 5.43) cells cells cells)

    let nl = Neighbours.build (NrlTb.cutoffRadius o.Parameters) c
    let pot = TightBinding.model o
    let n = 4 * c.Count
    let g = TightBinding.geometry o c nl
    let h = Array.zeroCreate (n * n)
    let s = Array.zeroCreate (n * n)

    TightBinding.assemble Environment.ProcessorCount g nl [| 0.0; 0.0; 0.0 |] 0 h s
    |> ignore

    let request =
        { Request.All with
            SiteEnergies = false }

    // one workspace across the runs, as a relaxation's Calculator keeps it (its H, M, D, W buffers are reused)
    let ws = Workspace()

    let ours () =
        Potential.evaluateInto pot c nl request ws

    let raw () =
        let a = Array.copy h
        let b = Array.copy s
        let w = Array.zeroCreate n
        let info = Raw.LAPACKE_dsygvd(102, 1, byte 'V', byte 'U', n, a, n, b, n, w)

        if info <> 0 then
            failwithf "dsygvd info %d" info

    printfn
        "NRL-TB Si, %d atoms (%d orbitals), Gamma, zero temperature; %s"
        c.Count
        n
        (LinearAlgebra.describe Backend.Native)

    printfn "load average before: %s" (IO.File.ReadAllText("/proc/loadavg").Trim())
    ours ()
    raw ()
    let tOurs = Array.zeroCreate reps
    let tRaw = Array.zeroCreate reps

    for r in 0 .. reps - 1 do
        let sw = Stopwatch.StartNew()
        ours ()
        tOurs.[r] <- sw.Elapsed.TotalSeconds
        sw.Restart()
        raw ()
        tRaw.[r] <- sw.Elapsed.TotalSeconds

    let med (a: float[]) =
        let b = Array.sort a
        b.[b.Length / 2]

    // where our time goes: the same pipeline phase by phase (internal functions, one run after the timing loop)
    let phase = Stopwatch.StartNew()
    let g2 = TightBinding.geometry o c nl
    let h2 = Array.zeroCreate (n * n)
    let s2 = Array.zeroCreate (n * n)

    TightBinding.assemble Environment.ProcessorCount g2 nl [| 0.0; 0.0; 0.0 |] 0 h2 s2
    |> ignore

    let tAssemble = phase.Elapsed.TotalSeconds
    phase.Restart()

    let struct (eps, cv) =
        LinearAlgebra.generalizedSymmetricEigen Backend.Native (h2, s2, n)

    let tEigen = phase.Elapsed.TotalSeconds
    phase.Restart()
    let occ = eps |> Array.filter (fun e -> e < o.ChemicalPotential) |> Array.length
    let f = Array.create occ 2.0
    let fe = Array.init occ (fun i -> 2.0 * eps.[i])
    let d = Array.zeroCreate (n * n)
    let w = Array.zeroCreate (n * n)
    TightBinding.weightedProduct Backend.Native n cv f occ d
    TightBinding.weightedProduct Backend.Native n cv fe occ w
    let tDensity = phase.Elapsed.TotalSeconds
    phase.Restart()

    TightBinding.addForces
        Environment.ProcessorCount
        g2
        nl
        [| 0.0; 0.0; 0.0 |]
        0
        n
        d
        w
        (Array.zeroCreate (3 * c.Count))
        (Array.zeroCreate 9)

    let tForces = phase.Elapsed.TotalSeconds
    Harness.report "  phase: geometry + assembly of H, M" tAssemble "s"
    Harness.report "  phase: dsygvd (through LinearAlgebra)" tEigen "s"
    Harness.report (sprintf "  phase: density matrices D, W (2 dgemm, %d occupied)" occ) tDensity "s"
    Harness.report "  phase: force/virial kernel" tForces "s"

    Harness.report
        "  non-eigen share of the phases"
        ((tAssemble + tDensity + tForces) / (tAssemble + tEigen + tDensity + tForces))
        ""

    Harness.report "energy+forces through IPotential (median s)" (med tOurs) "s"
    Harness.report "raw LAPACKE_dsygvd on the same H, M (median s)" (med tRaw) "s"
    Harness.report "ratio raw / ours (target >= 0.8)" (med tRaw / med tOurs) ""
    Harness.report "peak working set" (float (Process.GetCurrentProcess().PeakWorkingSet64) / 1e6) "MB"
    printfn "load average after: %s" (IO.File.ReadAllText("/proc/loadavg").Trim())

/// Site-energy and force locality at the diamond lattice (issue 7 item 4): |V_{,ρ}| = |∂E_0/∂y_ρ| (partial-energy
/// gradient by perturbation theory, E_0 the site energy of atom 0) and |F_{,ρ}| = |∂F_0/∂y_ρ| (by Hessian symmetry
/// ∂F_ρ/∂y_0: centred differences of Hellmann–Feynman forces, atom 0 displaced by ±h along x, y, z) against |ρ|,
/// per neighbour shell (largest over the shell), at the perfect lattice in a periodic cell of `--cells` cubic cells
/// (Γ point). `dotnet run -c Release --project bench/Qmmm.Bench -- tb-locality [--cells 3] [--kT-meV 0]`.
let locality (rest: string[]) =
    let cells = arg rest "--cells" 3
    let kT = float (arg rest "--kT-meV" 0) / 1000.0

    let o =
        { TightBindingOptions.Defaults with
            Temperature = kT }

    let pot = TightBinding.model o
    let c = Domains.periodic (Lattice.diamond "Si" 5.43) cells cells cells
    let rc = NrlTb.cutoffRadius o.Parameters
    let nl = Neighbours.build rc c
    let sites = Array.init c.Count (fun i -> i = 0)

    let req =
        { Request.All with
            Sites = sites
            SiteEnergies = true }

    let sw = Stopwatch.StartNew()
    let r = Potential.evaluate pot c nl req
    let tV = sw.Elapsed.TotalSeconds
    let h = 1e-3
    sw.Restart()
    let jac = ForceDifferences.response pot c 0 h
    let tF = sw.Elapsed.TotalSeconds
    // minimum-image distance of every atom from atom 0
    let side = 5.43 * float cells

    let dist (a: int) =
        let d k =
            let t = c.Positions.[3 * a + k] - c.Positions.[k]
            t - side * Math.Round(t / side)

        sqrt (d 0 * d 0 + d 1 * d 1 + d 2 * d 2)

    printfn
        "NRL-TB Si locality, %d atoms, Gamma, %s; |V_,rho| %.2f s, |F_,rho| (6 force evaluations, h = %g A) %.2f s"
        c.Count
        (if kT = 0.0 then
             "zero temperature"
         else
             sprintf "kT = %g eV" kT)
        tV
        h
        tF

    printfn "load average: %s" (IO.File.ReadAllText("/proc/loadavg").Trim())
    printfn "%10s %6s %14s %14s" "|rho| (A)" "sites" "max|V_,rho|" "max|F_,rho|"

    let shells =
        [| 1 .. c.Count - 1 |]
        |> Array.groupBy (fun a -> Math.Round(dist a, 3))
        |> Array.sortBy fst

    for (r0, members) in shells do
        if r0 < 0.5 * side then
            let v =
                members
                |> Array.map (fun a -> sqrt (Seq.sum [ for k in 0..2 -> r.Forces.[3 * a + k] ** 2.0 ]))
                |> Array.max

            let fn =
                members
                |> Array.map (fun a -> sqrt (Array.sumBy (fun x -> x * x) (Array.sub jac (9 * a) 9)))
                |> Array.max

            printfn "%10.4f %6d %14.4e %14.4e" r0 members.Length v fn

/// How one QM + buffer force evaluation grows with the cluster radius R = R_QM + R_BUF: energy + forces of the bare
/// cluster B_R ∩ Λ^h (zero temperature, Γ, open boundaries) and a raw `dsygvd` on its H, M, interleaved, medians.
/// `dotnet run -c Release --project bench/Qmmm.Bench -- tb-cluster [--reps 3]`.
let clusters (rest: string[]) =
    let reps = arg rest "--reps" 3
    let o = TightBindingOptions.Defaults
    let pot = TightBinding.model o
    let lat = Lattice.diamond "Si" 5.43
    let rc = NrlTb.cutoffRadius o.Parameters

    printfn
        "NRL-TB Si clusters B_R, energy + forces vs raw dsygvd; load average %s"
        (IO.File.ReadAllText("/proc/loadavg").Trim())

    printfn "%8s %7s %9s %12s %12s %8s" "R (A)" "atoms" "orbitals" "ours (s)" "dsygvd (s)" "ratio"

    for r in [ 6.0; 8.0; 10.0; 12.0 ] do
        let c = Domains.cluster lat r
        let nl = Neighbours.build rc c
        let n = 4 * c.Count
        let g = TightBinding.geometry o c nl
        let h = Array.zeroCreate (n * n)
        let s = Array.zeroCreate (n * n)
        TightBinding.assemble 1 g nl [| 0.0; 0.0; 0.0 |] 0 h s |> ignore

        let ours () =
            Potential.evaluate
                pot
                c
                nl
                { Request.All with
                    SiteEnergies = false }
            |> ignore

        let raw () =
            let a = Array.copy h
            let b = Array.copy s
            let w = Array.zeroCreate n
            let info = Raw.LAPACKE_dsygvd(102, 1, byte 'V', byte 'U', n, a, n, b, n, w)

            if info <> 0 then
                failwithf "dsygvd info %d" info

        ours ()
        raw ()
        let t1 = Array.zeroCreate reps
        let t2 = Array.zeroCreate reps

        for k in 0 .. reps - 1 do
            let sw = Stopwatch.StartNew()
            ours ()
            t1.[k] <- sw.Elapsed.TotalSeconds
            sw.Restart()
            raw ()
            t2.[k] <- sw.Elapsed.TotalSeconds

        let med (a: float[]) = (Array.sort a).[a.Length / 2]
        printfn "%8.1f %7d %9d %12.4f %12.4f %8.2f" r c.Count n (med t1) (med t2) (med t2 / med t1)

/// Phase split of small evaluations (cluster B_R, `--radius`, default 6 Å), summed over `--reps` runs.
let phases (rest: string[]) =
    let reps = arg rest "--reps" 20
    let radius = float (arg rest "--radius" 6)
    let threads = arg rest "--threads" 1
    let o = TightBindingOptions.Defaults
    let c = Domains.cluster (Lattice.diamond "Si" 5.43) radius
    let nl = Neighbours.build (NrlTb.cutoffRadius o.Parameters) c
    let n = 4 * c.Count
    let t = Array.zeroCreate 6
    let sw = Stopwatch()

    for rep in 0..reps do
        let lap (i: int) =
            if rep > 0 then
                t.[i] <- t.[i] + sw.Elapsed.TotalSeconds

            sw.Restart()

        sw.Restart()
        let g = TightBinding.geometry o c nl
        lap 0
        let h = Array.zeroCreate (n * n)
        let s = Array.zeroCreate (n * n)
        TightBinding.assemble threads g nl [| 0.0; 0.0; 0.0 |] 0 h s |> ignore
        lap 1

        let struct (eps, cv) =
            LinearAlgebra.generalizedSymmetricEigen Backend.Native (h, s, n)

        lap 2
        let a = Array.copy h
        let b = Array.copy s

        let info =
            Raw.LAPACKE_dsygvd(102, 1, byte 'V', byte 'U', n, a, n, b, n, Array.zeroCreate n)

        if info <> 0 then
            failwithf "dsygvd info %d" info

        lap 5
        let occ = eps |> Array.filter (fun e -> e < o.ChemicalPotential) |> Array.length
        let d = Array.zeroCreate (n * n)
        let w = Array.zeroCreate (n * n)
        TightBinding.weightedProduct Backend.Native n cv (Array.create occ 2.0) occ d
        TightBinding.weightedProduct Backend.Native n cv (Array.init occ (fun i -> 2.0 * eps.[i])) occ w
        lap 3

        TightBinding.addForces
            threads
            g
            nl
            [| 0.0; 0.0; 0.0 |]
            0
            n
            d
            w
            (Array.zeroCreate (3 * c.Count))
            (Array.zeroCreate 9)

        lap 4

    printfn
        "cluster R = %g A (%d atoms, %d orbitals), %d reps, threads %d, per evaluation:"
        radius
        c.Count
        n
        reps
        threads

    for (i, name) in
        List.indexed
            [ "geometry"
              "assembly"
              "dsygvd (LinearAlgebra)"
              "D, W (dgemm)"
              "force kernel"
              "raw dsygvd, same H, M" ] do
        Harness.report ("  " + name) (t.[i] / float reps) "s"
