namespace Qmmm.Numerics

open System

/// Which preconditioner the relaxation uses.
[<RequireQualifiedAccess>]
type PreconditionerKind =
    /// Plain L-BFGS / GMRES.
    | NoPreconditioner
    /// The Exp lattice-Laplacian (Solvers.Preconditioner.fs) with the given settings.
    | Exp of ExpPreconditionerSettings

/// A relaxed defect configuration and the work spent.
type RelaxResult =
    {
        /// Relaxed positions y = x0 + u0 + u (3 per atom, Å).
        Positions: float[]
        /// The energy-difference functional (2.7) at the result: Σ_ℓ (V_ℓ(y) − V_ℓ(x0 + u0)) (eV).
        EnergyDifference: float
        /// Total energy E(y) of the domain (eV; per z-period for quasi-2D), a compensated sum of site energies.
        Energy: float
        /// Total energy of the unrelaxed start x0 + u0 (eV).
        InitialEnergy: float
        /// ‖F‖∞ over the free atoms at the result (eV/Å).
        Residual: float
        /// The solver's report.
        Report: SolverReport
    }

/// Relaxation of a defect domain: the free atoms minimise the energy-difference functional (2.7),
/// ℰ(u) = Σ_ℓ (V_ℓ(y0 + u) − V_ℓ(y0)), y0 = x0 + u0, with the far-field atoms clamped at y0. Evaluating ℰ as a
/// compensated sum of per-site differences keeps its round-off at the size of the differences (~1e-15 eV per site)
/// instead of ε|E| (|E| ≈ 10⁴–10⁵ eV), which is what lets the line search work down to ‖F‖∞ ≈ 1e-8 and below; the
/// Newton–Krylov polish does the rest (Solvers.Minimise.fs).
[<RequireQualifiedAccess>]
module Relax =

    /// Neumaier's compensated sum of `a` (optionally minus `b` entrywise).
    let internal compensated (a: float[]) (b: float[]) =
        let mutable s = 0.0
        let mutable c = 0.0

        for i in 0 .. a.Length - 1 do
            let v = if b.Length = 0 then a.[i] else a.[i] - b.[i]
            let t = s + v

            if abs s >= abs v then
                c <- c + ((s - t) + v)
            else
                c <- c + ((v - t) + s)

            s <- t

        s + c

    /// The energy-difference objective over the 3 coordinates of the `free` atoms of `y0` (unknowns: displacements u
    /// from y0): value ℰ(u) (2.7) for models with site energies (else E(y0 + u) − E(y0)), gradient −F on the free
    /// atoms. Returns the objective and E(y0).
    let objective (calc: Calculator) (y0: Configuration) (free: int[]) : Objective * float =
        let model = calc.Model
        let sites = model.HasSiteEnergies

        let request =
            { Request.All with
                SiteEnergies = sites }

        let w0 = calc.Evaluate(y0, request)
        let e0 = w0.Energy
        let v0 = if sites then Array.copy w0.SiteEnergies else [||]
        let y = Array.copy y0.Positions

        let obj =
            { Dimension = 3 * free.Length
              Evaluate =
                fun u g ->
                    for k in 0 .. free.Length - 1 do
                        let i = free.[k]

                        for c in 0..2 do
                            y.[3 * i + c] <- y0.Positions.[3 * i + c] + u.[3 * k + c]

                    let w = calc.Evaluate({ y0 with Positions = y }, request)

                    for k in 0 .. free.Length - 1 do
                        let i = free.[k]

                        for c in 0..2 do
                            g.[3 * k + c] <- -w.Forces.[3 * i + c]

                    if sites then
                        compensated w.SiteEnergies v0
                    else
                        w.Energy - e0 }

        obj, e0

    /// The preconditioner of `kind` for the free atoms of `y0`.
    let preconditioner (kind: PreconditionerKind) (rnn: float) (y0: Configuration) (free: int[]) =
        match kind with
        | PreconditionerKind.NoPreconditioner -> Preconditioner.identity
        | PreconditionerKind.Exp s -> ExpPreconditioner.create s rnn y0 free

    /// Relaxes the free atoms of `y0` (the predicted configuration x0 + u0) with `model` to ‖F‖∞ <= settings.Tolerance
    /// on the free atoms, clamping every other atom. Raises `ConvergenceException` (iterations, residual, tolerance)
    /// otherwise. `rnn` (Å) scales the preconditioner.
    let run
        (settings: SolverSettings)
        (evaluation: EvaluationSettings)
        (precond: PreconditionerKind)
        (rnn: float)
        (model: IPotential)
        (y0: Configuration)
        (free: int[])
        : RelaxResult =
        let calc = Calculator(model, evaluation)
        let obj, e0 = objective calc y0 free
        let p = preconditioner precond rnn y0 free
        let report = Minimise.run settings p obj (Array.zeroCreate obj.Dimension)
        let y = Array.copy y0.Positions

        for k in 0 .. free.Length - 1 do
            for c in 0..2 do
                y.[3 * free.[k] + c] <- y.[3 * free.[k] + c] + report.X.[3 * k + c]

        let final =
            calc.Evaluate(
                { y0 with Positions = y },
                { Request.All with
                    SiteEnergies = model.HasSiteEnergies }
            )

        let energy =
            if model.HasSiteEnergies then
                compensated final.SiteEnergies [||]
            else
                final.Energy

        { Positions = y
          EnergyDifference = report.Value
          Energy = energy
          InitialEnergy = e0
          Residual = report.Residual
          Report = report }

    /// Relaxes a set-up problem: the free atoms of its predicted configuration (see `run`); r_nn from its lattice.
    let problem
        (settings: SolverSettings)
        (evaluation: EvaluationSettings)
        (precond: PreconditionerKind)
        (model: IPotential)
        (p: DefectProblem)
        : RelaxResult =
        run
            settings
            evaluation
            precond
            (Lattice.nearestNeighbourDistance p.Domain.Lattice)
            model
            p.Predicted
            p.Regions.Free

    /// The vacancy formation energy E_f = E_def − E_perf + μ (eV): E_def the relaxed energy of the defect domain,
    /// E_perf the energy of the perfect domain with the same regions (`DefectProblem.perfect`, an equilibrium, not
    /// relaxed), μ the bulk energy per atom at the same lattice constant (`Elasticity.energyPerAtom`).
    let formationEnergy (model: IPotential) (spec: DefectSpec) (relaxedEnergy: float) : float =
        let perf = DefectProblem.perfect spec

        let w = Potential.compute model perf.Predicted

        let eperf =
            if model.HasSiteEnergies then
                compensated w.SiteEnergies [||]
            else
                w.Energy

        let mu =
            Elasticity.energyPerAtom model (fun a -> DefectGeometry.lattice spec.Crystal a) spec.A

        relaxedEnergy - eperf + mu
