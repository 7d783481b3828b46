/// `dotnet run --project bench/Qmmm.Bench -c Release -- [lapack|eam|derivatives|neighbours|tb|tb-locality|tb-cluster|tb-phases|all] [options]`
module Qmmm.Bench.Program

[<EntryPoint>]
let main argv =
    let what = if argv.Length > 0 then argv.[0] else "all"
    let rest = if argv.Length > 1 then argv.[1..] else [||]

    match what with
    | "lapack" -> LinearAlgebra.run rest
    | "eam" -> Eam.run rest
    | "derivatives" -> Derivatives.run rest
    | "neighbours" -> Neighbours.run rest
    | "tb" -> TightBinding.run rest
    | "tb-locality" -> TightBinding.locality rest
    | "tb-cluster" -> TightBinding.clusters rest
    | "tb-phases" -> TightBinding.phases rest
    | "all" ->
        LinearAlgebra.run rest
        Eam.run rest
        Derivatives.run rest
        Neighbours.run rest
    | other ->
        eprintfn
            "unknown benchmark '%s' (lapack, eam, derivatives, neighbours, tb, tb-locality, tb-cluster, tb-phases, all)"
            other

    0
