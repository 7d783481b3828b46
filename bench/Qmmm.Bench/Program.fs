/// `dotnet run --project bench/Qmmm.Bench -c Release -- [lapack|eam|derivatives|neighbours|ace|all] [options]`
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
    | "ace" -> Ace.run rest
    | "ace-derivatives" -> Ace.derivatives rest
    | "all" ->
        LinearAlgebra.run rest
        Eam.run rest
        Derivatives.run rest
        Neighbours.run rest
        Ace.run rest
    | other -> eprintfn "unknown benchmark '%s' (lapack, eam, derivatives, neighbours, ace, all)" other

    0
