module Qmmm.Bench.LinearAlgebra

/// Runs this benchmark (not yet written).
let run (_args: string[]) = printfn "LinearAlgebra benchmark: not yet written"
