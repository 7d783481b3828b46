namespace Qmmm.Numerics

open System

/// Force derivatives δ¹F (3.3) of any whole-configuration model by centred differences of its forces: the response
/// of every atom's force to a displacement of one atom, in a configuration (a periodic supercell for δF^h(0) at the
/// homogeneous lattice, large enough that the result has converged). For models whose forces are the exact gradient
/// of the energy (tight binding's Hellmann–Feynman forces, EAM), ∂F_0/∂y_ℓ = (∂F_ℓ/∂y_0)ᵀ (the Hessian is symmetric),
/// so one displaced atom gives the derivative of its own force with respect to every other atom.
[<RequireQualifiedAccess>]
module ForceDifferences =

    /// J[9ℓ + 3a + b] = ∂F_ℓ,a / ∂y_atom,b (eV/Å²) for every atom ℓ, by the centred difference
    /// (F(y + h e_b) − F(y − h e_b)) / 2h with atom `atom` displaced (6 force evaluations; error O(h²); h in Å, > 0).
    /// The neighbour list is rebuilt for each displaced configuration. Raises ArgumentException for a bad atom or step.
    let response (pot: IPotential) (config: Configuration) (atom: int) (h: float) : float[] =
        Validate.intInRange "atom" 0 (config.Count - 1) atom
        Validate.positive "h" h
        Validate.finite "h" h
        let n = config.Count
        let jac = Array.zeroCreate (9 * n)

        let request =
            { Request.All with
                SiteEnergies = false }

        for b in 0..2 do
            let forces (t: float) =
                let x = Array.copy config.Positions
                x.[3 * atom + b] <- x.[3 * atom + b] + t
                let c = { config with Positions = x }
                (Potential.evaluate pot c (Potential.neighbourList pot request 0.0 c) request).Forces

            let fp = forces h
            let fm = forces -h

            for l in 0 .. n - 1 do
                for a in 0..2 do
                    jac.[9 * l + 3 * a + b] <- (fp.[3 * l + a] - fm.[3 * l + a]) / (2.0 * h)

        jac
