module Qmmm.Bench.Eam

/// Runs this benchmark (not yet written).
let run (_args: string[]) =
    printfn "Eam benchmark: not yet written"
