namespace Qmmm.Numerics

open System

/// Settings of the Exp lattice-Laplacian preconditioner (Packwood et al., J. Chem. Phys. 144, 164109 (2016)).
type ExpPreconditionerSettings =
    {
        /// Pairs closer than Cutoff × r_nn are linked (default 1.6: the first two shells of bcc, first of diamond).
        Cutoff: float
        /// Decay A of the weights w_ij = exp(−A (r_ij / r_nn − 1)) (default 3).
        Decay: float
        /// Relative diagonal shift c: P = L + c·mean(diag L)·I keeps P definite without fixed atoms (default 1e-3).
        Shift: float
        /// Relative tolerance of the inner conjugate-gradient solve of P z = r (default 1e-6; GMRES is the flexible variant and L-BFGS only needs an approximate H0).
        InnerTolerance: float
    }

    /// Cutoff 1.6 r_nn, decay 3, shift 1e-3, inner tolerance 1e-6.
    static member Defaults =
        { Cutoff = 1.6
          Decay = 3.0
          Shift = 1e-3
          InnerTolerance = 1e-6 }

/// The Exp preconditioner P = (L + cI) ⊗ I₃ of a relaxation: L the weighted graph Laplacian of the atom pairs of the
/// reference configuration closer than Cutoff·r_nn, restricted to the free atoms (links to clamped atoms count on
/// the diagonal, a Dirichlet condition). It approximates the Hessian's long-wavelength part, so the preconditioned
/// iteration counts stop growing with the domain size. P⁻¹ is applied by Jacobi-preconditioned CG.
[<RequireQualifiedAccess>]
module ExpPreconditioner =

    /// Builds P for `config` (reference positions) with `free` the indices of the atoms that move (the unknowns are
    /// their 3 coordinates in this order) and `rnn` the nearest-neighbour distance (Å).
    let create
        (settings: ExpPreconditionerSettings)
        (rnn: float)
        (config: Configuration)
        (free: int[])
        : Preconditioner =
        Validate.positive "rnn" rnn
        Validate.positive "settings.Cutoff" settings.Cutoff
        let nl = Neighbours.build (settings.Cutoff * rnn) config
        let slot = Array.create config.Count -1

        for k in 0 .. free.Length - 1 do
            slot.[free.[k]] <- k

        let nf = free.Length
        let start = Array.zeroCreate (nf + 1)
        let cols = ResizeArray<int>()
        let vals = ResizeArray<float>()
        let diag = Array.zeroCreate nf
        let x = config.Positions

        for k in 0 .. nf - 1 do
            let i = free.[k]

            for e in nl.Start.[i] .. nl.Start.[i + 1] - 1 do
                let r = Neighbours.distance nl x i e
                let w = exp (-settings.Decay * (r / rnn - 1.0))
                diag.[k] <- diag.[k] + w
                let j = slot.[nl.Index.[e]]

                if j >= 0 && j <> k then
                    cols.Add j
                    vals.Add(-w)

            start.[k + 1] <- cols.Count

        let cols = cols.ToArray()
        let vals = vals.ToArray()
        let mean = if nf = 0 then 1.0 else Array.average diag

        for k in 0 .. nf - 1 do
            diag.[k] <- diag.[k] + settings.Shift * mean

        let d3 = Array.init (3 * nf) (fun i -> diag.[i / 3])

        let multiply (s: float[]) (w: float[]) =
            for k in 0 .. nf - 1 do
                let mutable ax = diag.[k] * s.[3 * k]
                let mutable ay = diag.[k] * s.[3 * k + 1]
                let mutable az = diag.[k] * s.[3 * k + 2]

                for e in start.[k] .. start.[k + 1] - 1 do
                    let j = cols.[e]
                    ax <- ax + vals.[e] * s.[3 * j]
                    ay <- ay + vals.[e] * s.[3 * j + 1]
                    az <- az + vals.[e] * s.[3 * j + 2]

                w.[3 * k] <- ax
                w.[3 * k + 1] <- ay
                w.[3 * k + 2] <- az

        { Name = "exp-laplacian"
          Solve = fun r z -> Krylov.cg multiply d3 settings.InnerTolerance 5000 r z |> ignore
          Multiply = multiply }
