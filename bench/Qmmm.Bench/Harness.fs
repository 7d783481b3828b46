/// A small timing harness: warm-up, repeated runs, median wall time.
module Qmmm.Bench.Harness

open System.Diagnostics

/// Median wall time (s) of `reps` runs of `f` after one warm-up run.
let median (reps: int) (f: unit -> unit) =
    f ()

    let ts =
        Array.init reps (fun _ ->
            let sw = Stopwatch.StartNew()
            f ()
            sw.Elapsed.TotalSeconds)

    Array.sortInPlace ts
    ts.[reps / 2]

/// Prints one result line: name, value, unit.
let report (name: string) (value: float) (unit: string) =
    printfn "%-60s %14.6g %s" name value unit

/// The 1-minute load average of the machine (from /proc/loadavg), or "?" where it cannot be read.
let loadAverage () =
    try
        (System.IO.File.ReadAllText "/proc/loadavg").Split(' ').[0]
    with _ ->
        "?"
