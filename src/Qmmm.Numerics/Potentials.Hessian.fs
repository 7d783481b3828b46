namespace Qmmm.Numerics

/// Hessian–vector products and dense Hessians of any model (`IPotential`) by centred directional differences of its
/// forces: H v = ∂²E/∂y² v ≈ −(F(y + h v) − F(y − h v)) / 2h with h = δ / ‖v‖∞, so that no atom moves by more than δ
/// (error O(δ²) from the third derivatives plus O(ε |F| / δ) round-off; δ = 1e-4 Å gives ~1e-8 relative for EAM).
[<RequireQualifiedAccess>]
module Hessian =

    /// H v (3N entries, eV/Å²·Å) at `config` for the direction `v` (3N entries), with step δ = `step` (Å) and the
    /// calculator's neighbour list (kept across calls). Two force evaluations; zero for v = 0.
    let vectorProduct (calc: Calculator) (step: float) (config: Configuration) (v: float[]) : float[] =
        Validate.positive "step" step
        Validate.length "v" config.Positions.Length v
        let hv = Array.zeroCreate v.Length
        let vmax = Vector.normInf v

        if vmax > 0.0 then
            let h = step / vmax
            let y = Array.copy config.Positions

            let forces (sign: float) =
                for k in 0 .. y.Length - 1 do
                    y.[k] <- config.Positions.[k] + sign * h * v.[k]

                let struct (_, f) = calc.EnergyForces { config with Positions = y }
                Array.copy f

            let fp = forces 1.0
            let fm = forces -1.0

            for k in 0 .. hv.Length - 1 do
                hv.[k] <- -(fp.[k] - fm.[k]) / (2.0 * h)

        hv

    /// The dense Hessian (3N × 3N, row-major, eV/Å²) column by column with `vectorProduct` along unit vectors,
    /// symmetrised (H + Hᵀ)/2. 6N force evaluations: for small configurations and as an oracle.
    let dense (calc: Calculator) (step: float) (config: Configuration) : float[] =
        let n = config.Positions.Length
        let h = Array.zeroCreate (n * n)
        let e = Array.zeroCreate n

        for j in 0 .. n - 1 do
            e.[j] <- 1.0
            let col = vectorProduct calc step config e
            e.[j] <- 0.0

            for i in 0 .. n - 1 do
                h.[i * n + j] <- col.[i]

        for i in 0 .. n - 1 do
            for j in i + 1 .. n - 1 do
                let s = 0.5 * (h.[i * n + j] + h.[j * n + i])
                h.[i * n + j] <- s
                h.[j * n + i] <- s

        h
