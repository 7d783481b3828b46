/// `dotnet run --project bench/Qmmm.Bench -c Release -- [NAME|all] [options]`; NAME is one of the benchmarks below.
module Qmmm.Bench.Program

/// Every benchmark by name, in the order `all` runs them.
let private benchmarks: (string * (string[] -> unit)) list =
    [ "lapack", LinearAlgebra.run
      "eam", Eam.run
      "derivatives", Derivatives.run
      "neighbours", Neighbours.run
      "loop", Loop.run
      "relax", Relax.run
      "tb", TightBinding.run
      "tb-locality", TightBinding.locality
      "tb-cluster", TightBinding.clusters
      "tb-phases", TightBinding.phases
      "ace", Ace.run
      "ace-derivatives", Ace.derivatives
      "inputs", Inputs.run ]

[<EntryPoint>]
let main argv =
    let what = if argv.Length > 0 then argv.[0] else "all"
    let rest = if argv.Length > 1 then argv.[1..] else [||]

    match what, List.tryFind (fun (n, _) -> n = what) benchmarks with
    | "all", _ ->
        for _, run in benchmarks do
            run rest

        0
    | _, Some(_, run) ->
        run rest
        0
    | other, None ->
        eprintfn "unknown benchmark '%s' (%s, all)" other (benchmarks |> List.map fst |> String.concat ", ")
        2
