module Qmmm.Bench.Derivatives

/// Runs this benchmark (not yet written).
let run (_args: string[]) = printfn "Derivatives benchmark: not yet written"
