/// Dense eigen-solvers: our API (LinearAlgebra, native backend) against a raw LAPACKE P/Invoke call in the same run
/// (ratio = our overhead: validation, copies), and the managed backend against the native one (ratio = fallback
/// cost); 1 OpenBLAS thread and all cores. `dotnet run -c Release --project bench/Qmmm.Bench -- lapack [--reps R]`.
module Qmmm.Bench.LinearAlgebra

open System
open System.Runtime.InteropServices
open Qmmm.Numerics

/// The baseline: LAPACKE called directly, as a user without Qmmm would.
module private Raw =
    [<DllImport("liblapacke.so.3", CallingConvention = CallingConvention.Cdecl)>]
    extern int LAPACKE_dsyevd(int layout, byte jobz, byte uplo, int n, double[] a, int lda, double[] w)

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

    [<DllImport("libopenblas.so.0", CallingConvention = CallingConvention.Cdecl)>]
    extern void cblas_dgemm(
        int order,
        int transA,
        int transB,
        int m,
        int n,
        int k,
        double alpha,
        double[] a,
        int lda,
        double[] b,
        int ldb,
        double beta,
        double[] c,
        int ldc
    )

let private symmetric (seed: int) (n: int) =
    let rng = Random seed
    let a = Array.zeroCreate (n * n)

    for j in 0 .. n - 1 do
        for i in j .. n - 1 do
            let x = 2.0 * rng.NextDouble() - 1.0
            a.[i + j * n] <- x
            a.[j + i * n] <- x

    a

/// M Mᵀ / n + I: symmetric positive definite.
let private spd (seed: int) (n: int) =
    let rng = Random seed
    let m = Array.init (n * n) (fun _ -> 2.0 * rng.NextDouble() - 1.0)
    let b = Array.init (n * n) (fun idx -> if idx % n = idx / n then 1.0 else 0.0)
    LinearAlgebra.gemm Backend.Native (false, true, n, n, n, 1.0 / float n, m, m, 1.0, b)
    b

/// Medians of `reps` alternating runs of `f` and `g` after one warm-up each: alternation makes the ratio robust to
/// load from other processes on a shared machine.
let private pairedMedian (reps: int) (f: unit -> unit) (g: unit -> unit) =
    f ()
    g ()
    let tf = Array.zeroCreate reps
    let tg = Array.zeroCreate reps

    for r in 0 .. reps - 1 do
        let sw = Diagnostics.Stopwatch.StartNew()
        f ()
        tf.[r] <- sw.Elapsed.TotalSeconds
        sw.Restart()
        g ()
        tg.[r] <- sw.Elapsed.TotalSeconds

    Array.sortInPlace tf
    Array.sortInPlace tg
    tf.[reps / 2], tg.[reps / 2]

let private check (routine: string) (info: int) =
    if info <> 0 then
        failwithf "%s returned info = %d" routine info

/// Runs this benchmark; `--reps R` sets the repetitions of native timings (default 5; managed runs once after warm-up).
let run (args: string[]) =
    let reps =
        match Array.tryFindIndex ((=) "--reps") args with
        | Some i when i + 1 < args.Length -> int args.[i + 1]
        | _ -> 5

    let status = Native.status ()
    printfn "# LinearAlgebra benchmark: %s" (LinearAlgebra.describe Backend.Native)

    printfn
        "# %s; %d cores; median of %d alternating runs (native), 1 run after warm-up (managed)"
        (LinearAlgebra.describe Backend.Managed)
        Environment.ProcessorCount
        reps

    if not status.Available then
        printfn "native LAPACK unavailable: nothing to compare"
    else
        let a500 = symmetric 1 500
        let a1000 = symmetric 2 1000
        let b1000 = spd 3 1000
        let d2000 = symmetric 4 2000
        let before = Native.threads ()

        // managed timings do not depend on OpenBLAS's thread count: measure once
        let managed =
            [ "dsyevd N=500",
              Harness.median 1 (fun () -> LinearAlgebra.symmetricEigen Backend.Managed (500, a500) |> ignore)
              "dsyevd N=1000",
              Harness.median 1 (fun () -> LinearAlgebra.symmetricEigen Backend.Managed (1000, a1000) |> ignore)
              "dsygvd N=1000",
              Harness.median 1 (fun () ->
                  LinearAlgebra.generalizedSymmetricEigen Backend.Managed (a1000, b1000, 1000)
                  |> ignore) ]
            |> dict

        for t in List.distinct [ 1; Environment.ProcessorCount ] do
            Native.setThreads t

            let cases: (string * (unit -> unit) * (unit -> unit)) list =
                let raw (n: int) (a: float[]) =
                    let work = Array.zeroCreate (n * n)
                    let w = Array.zeroCreate n

                    fun () ->
                        Array.blit a 0 work 0 (n * n)
                        check "dsyevd" (Raw.LAPACKE_dsyevd(102, byte 'V', byte 'U', n, work, n, w))

                let rawGen (n: int) (a: float[]) (b: float[]) =
                    let wa = Array.zeroCreate (n * n)
                    let wb = Array.zeroCreate (n * n)
                    let w = Array.zeroCreate n

                    fun () ->
                        Array.blit a 0 wa 0 (n * n)
                        Array.blit b 0 wb 0 (n * n)
                        check "dsygvd" (Raw.LAPACKE_dsygvd(102, 1, byte 'V', byte 'U', n, wa, n, wb, n, w))

                let c2000 = Array.zeroCreate (2000 * 2000)

                [ "dsyevd N=500",
                  (fun () -> LinearAlgebra.symmetricEigen Backend.Native (500, a500) |> ignore),
                  raw 500 a500
                  "dsyevd N=1000",
                  (fun () -> LinearAlgebra.symmetricEigen Backend.Native (1000, a1000) |> ignore),
                  raw 1000 a1000
                  "dsygvd N=1000",
                  (fun () ->
                      LinearAlgebra.generalizedSymmetricEigen Backend.Native (a1000, b1000, 1000)
                      |> ignore),
                  rawGen 1000 a1000 b1000
                  "dgemm N=2000",
                  (fun () ->
                      LinearAlgebra.gemm Backend.Native (false, false, 2000, 2000, 2000, 1.0, d2000, d2000, 0.0, c2000)),
                  (fun () ->
                      Raw.cblas_dgemm (
                          102,
                          111,
                          111,
                          2000,
                          2000,
                          2000,
                          1.0,
                          d2000,
                          2000,
                          d2000,
                          2000,
                          0.0,
                          c2000,
                          2000
                      )) ]

            for (name, ours, raw) in cases do
                let tOurs, tRaw = pairedMedian reps ours raw
                Harness.report (sprintf "%s, %d thread(s): Qmmm native" name t) tOurs "s"
                Harness.report (sprintf "%s, %d thread(s): raw LAPACKE/CBLAS P/Invoke" name t) tRaw "s"
                Harness.report (sprintf "%s, %d thread(s): Qmmm / raw (overhead)" name t) (tOurs / tRaw) "x"

                match managed.TryGetValue name with
                | true, tm ->
                    Harness.report (sprintf "%s: managed (MathNet)" name) tm "s"
                    Harness.report (sprintf "%s, %d thread(s): managed / native" name t) (tm / tOurs) "x"
                | _ -> ()

        Native.setThreads before
