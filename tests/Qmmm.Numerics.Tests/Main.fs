/// Runs every Expecto test in the assembly and closes with the plain line "N passed, N failed" that CI reads.
module Qmmm.Numerics.Tests.Main

open Expecto
open Expecto.Impl

[<EntryPoint>]
let main argv =
    let mutable summary = None

    let cfg =
        [ CLIArguments.No_Spinner
          CLIArguments.Colours 0
          CLIArguments.Append_Summary_Handler(SummaryHandler(fun s -> summary <- Some s)) ]

    let rc = runTestsInAssemblyWithCLIArgs cfg argv

    match summary with
    | Some s ->
        let failed = s.failed.Length + s.errored.Length
        let out = System.Console.OpenStandardOutput()

        let line =
            sprintf "\n%d passed, %d failed, %d skipped\n" s.passed.Length failed s.ignored.Length

        let bytes = System.Text.Encoding.UTF8.GetBytes line
        out.Write(bytes, 0, bytes.Length)
        out.Flush()
    | None -> ()

    rc
