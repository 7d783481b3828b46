namespace Qmmm.Numerics

open System
open System.Diagnostics

/// The three QM/MM coupling schemes of Sections 3.2–3.3.
[<RequireQualifiedAccess>]
type CouplingScheme =
    /// Energy mixing E^H (3.8), minimised.
    | Energy
    /// Energy mixing with the ghost-force correction E^GFC (3.10)–(3.11), β the step at R_QM/2, minimised.
    | EnergyGfc
    /// Force mixing F^H (3.16)–(3.17), solved for F^H = 0 by Newton–Krylov (GMRES): it is not the gradient of an
    /// energy, so no minimiser applies.
    | Force

    /// The command-line name: "energy", "energy-gfc", "force".
    member s.Name =
        match s with
        | Energy -> "energy"
        | EnergyGfc -> "energy-gfc"
        | Force -> "force"

    /// The scheme named `name`, or None.
    static member TryParse(name: string) =
        [ Energy; EnergyGfc; Force ] |> List.tryFind (fun s -> s.Name = name)

/// A coupled relaxation's result: the relaxed positions, the solver's report and the QM work.
type CoupledResult =
    {
        /// Relaxed positions (3 per atom, Å).
        Positions: float[]
        /// ‖F‖∞ of the scheme's forces over the free atoms (eV/Å).
        Residual: float
        /// The solver report.
        Report: SolverReport
        /// Atoms of the QM cluster Λ^QM ∪ Λ^BUF.
        ClusterSize: int
        /// QM computations performed.
        QmEvaluations: int
        /// Wall time of the solve (s).
        Seconds: float
    }

/// Coupled problems: the QM/buffer sites of a defect problem, the scheme's model, its relaxation and its error
/// against the reference solution.
[<RequireQualifiedAccess>]
module CoupledProblem =

    /// The coupling sites of a defect problem (radii in Å): Λ^QM = {|x − x̂| < rqm} (strict), Λ^BUF = {rqm ≤ |x − x̂| <
    /// rqm + rbuf} (x the reference sites, distances as `DefectGeometry.distance`); the QM cluster is periodic along z
    /// for quasi-2D domains. Raises ArgumentException for non-finite or negative radii, rqm >= R_MM, or no QM site.
    let sites (p: DefectProblem) (rqm: float) (rbuf: float) : CouplingSites =
        Validate.positive "rqm" rqm
        Validate.nonNegative "rbuf" rbuf
        Validate.finite "rbuf" rbuf

        if rqm >= p.Regions.RMM then
            invalidArg "rqm" (sprintf "R_QM = %g Å must be below R_MM = %g Å" rqm p.Regions.RMM)

        let x = p.Domain.Reference.Positions

        let d =
            Array.init p.Domain.Reference.Count (fun i ->
                DefectGeometry.distance p.Domain.Shape p.Domain.Core (Vec3.get x i))

        let s =
            { Qm = d |> Array.map (fun r -> r < rqm)
              Buffer = d |> Array.map (fun r -> r >= rqm && r < rqm + rbuf)
              ClusterPbc =
                match p.Domain.Shape with
                | DomainShape.Quasi2D -> [| false; false; true |]
                | DomainShape.Ball -> [| false; false; false |] }

        if not (Array.exists id s.Qm) then
            invalidArg "rqm" (sprintf "no site lies within R_QM = %g Å of the core" rqm)

        s

    /// Counts of (QM, buffer, MM, far field) atoms, each atom counted once in that order of precedence: buffer atoms
    /// beyond R_MM (clamped, but part of the QM cluster) count as buffer; MM = the other free atoms; far field = the
    /// other clamped atoms.
    let counts (p: DefectProblem) (s: CouplingSites) =
        let free = Array.zeroCreate p.Domain.Reference.Count

        for i in p.Regions.Free do
            free.[i] <- true

        let count f =
            Seq.init s.Qm.Length id |> Seq.filter f |> Seq.length

        struct (count (fun i -> s.Qm.[i]),
                count (fun i -> s.Buffer.[i]),
                count (fun i -> free.[i] && not s.Qm.[i] && not s.Buffer.[i]),
                count (fun i -> not free.[i] && not s.Qm.[i] && not s.Buffer.[i]))

    /// ‖D(ū − ū^H)‖_{ℓ²_N} (2.2) between two relaxed configurations of the same problem (positions, 3 per atom, Å),
    /// with N(ℓ) the nearest-neighbour bonds of the reference sites (`Stencil.bonds`; pairs with a missing partner
    /// do not occur). Both share u0, so the difference field is continuous across a dislocation's cut and needs no
    /// slip correction.
    let error (p: DefectProblem) (reference: float[]) (hybrid: float[]) =
        Validate.length "reference" (3 * p.Domain.Reference.Count) reference
        Validate.length "hybrid" reference.Length hybrid
        let bonds = Stencil.bonds p.Domain.Reference p.Domain.Lattice
        Stencil.norm bonds (Array.map2 (-) reference hybrid)

    /// Relaxes the problem with the coupled scheme: QM model `qm` on Λ^QM (from its cluster), MM model `mm`
    /// elsewhere, far field clamped at the predictor; `rqm` (Å) places the ghost-force correction's step β at R_QM/2. Energy schemes minimise (L-BFGS + Newton, as `Relax.run`);
    /// force mixing solves F^H = 0 on the free atoms by Newton–Krylov with GMRES from the predicted configuration.
    /// Raises `ConvergenceException` (iterations, residual, tolerance) when the tolerance is not reached.
    let relax
        (settings: SolverSettings)
        (evaluation: EvaluationSettings)
        (precond: PreconditionerKind)
        (scheme: CouplingScheme)
        (qm: IPotential)
        (mm: IPotential)
        (p: DefectProblem)
        (rqm: float)
        (sites: CouplingSites)
        : CoupledResult =
        let sw = Stopwatch.StartNew()
        let y0 = p.Predicted
        let free = p.Regions.Free
        let rnn = Lattice.nearestNeighbourDistance p.Domain.Lattice

        match scheme with
        | CouplingScheme.Energy
        | CouplingScheme.EnergyGfc ->
            let em = Coupling.EnergyMixing(qm, mm, sites, evaluation)

            let model: IPotential =
                if scheme = CouplingScheme.Energy then
                    em
                else
                    let distance i =
                        DefectGeometry.distance p.Domain.Shape p.Domain.Core (Vec3.get p.Domain.Reference.Positions i)

                    Coupling.GhostForceCorrected(em, y0, Coupling.stepBeta distance y0.Count rqm)

            let r = Relax.run settings evaluation precond rnn model y0 free

            { Positions = r.Positions
              Residual = r.Residual
              Report = r.Report
              ClusterSize = em.Cluster.Members.Length
              QmEvaluations = em.Cluster.Evaluations
              Seconds = sw.Elapsed.TotalSeconds }
        | CouplingScheme.Force ->
            let fm = Coupling.ForceMixing(qm, mm, sites, evaluation)
            let y = Array.copy y0.Positions
            let f = Array.zeroCreate y.Length

            let obj =
                { Dimension = 3 * free.Length
                  Evaluate =
                    fun u g ->
                        for k in 0 .. free.Length - 1 do
                            for c in 0..2 do
                                y.[3 * free.[k] + c] <- y0.Positions.[3 * free.[k] + c] + u.[3 * k + c]

                        fm.ForcesInto({ y0 with Positions = y }, f)

                        for k in 0 .. free.Length - 1 do
                            for c in 0..2 do
                                g.[3 * k + c] <- -f.[3 * free.[k] + c]

                        0.0 }

            let pre = Relax.preconditioner precond rnn y0 free
            let u0 = Array.zeroCreate obj.Dimension
            let g0 = Array.zeroCreate obj.Dimension
            obj.Evaluate u0 g0 |> ignore

            let s =
                { settings with
                    Symmetric = false
                    MaxNewtonIterations = max settings.MaxNewtonIterations 50 }

            let struct (u, _, g, it, evals, history) = Newton.run s pre obj u0 g0 0.0
            let res = Vector.normInf g

            if not (res <= settings.Tolerance) then
                raise (
                    ConvergenceException(
                        sprintf
                            "force mixing: Newton–Krylov stopped after %d iterations at ‖F‖∞ = %.3e eV/Å above the tolerance %.3e eV/Å"
                            it
                            res
                            settings.Tolerance,
                        it,
                        res,
                        settings.Tolerance
                    )
                )

            let pos = Array.copy y0.Positions

            for k in 0 .. free.Length - 1 do
                for c in 0..2 do
                    pos.[3 * free.[k] + c] <- pos.[3 * free.[k] + c] + u.[3 * k + c]

            { Positions = pos
              Residual = res
              Report =
                { X = u
                  Value = 0.0
                  Residual = res
                  Iterations = 0
                  NewtonIterations = it
                  Evaluations = evals + 1
                  NewtonResiduals = history
                  Seconds = sw.Elapsed.TotalSeconds }
              ClusterSize = fm.Cluster.Members.Length
              QmEvaluations = fm.Cluster.Evaluations
              Seconds = sw.Elapsed.TotalSeconds }

    /// The scheme's forces (eV/Å, 3 per atom) on the problem's predicted (unrelaxed) configuration y0: E^H's, E^GFC's
    /// ((1 − β) F^H(y0)) or F^H's — the ghost-force picture and patch test of the paper's Fig. 4.2 when y0 is the
    /// perfect lattice or an unrelaxed defect.
    let forcesAt
        (evaluation: EvaluationSettings)
        (scheme: CouplingScheme)
        (qm: IPotential)
        (mm: IPotential)
        (p: DefectProblem)
        (rqm: float)
        (sites: CouplingSites)
        : float[] =
        let y0 = p.Predicted

        match scheme with
        | CouplingScheme.Force -> Coupling.ForceMixing(qm, mm, sites, evaluation).Forces y0
        | CouplingScheme.Energy -> (Potential.compute (Coupling.EnergyMixing(qm, mm, sites, evaluation)) y0).Forces
        | CouplingScheme.EnergyGfc ->
            let em = Coupling.EnergyMixing(qm, mm, sites, evaluation)

            let distance i =
                DefectGeometry.distance p.Domain.Shape p.Domain.Core (Vec3.get p.Domain.Reference.Positions i)

            let gfc =
                Coupling.GhostForceCorrected(em, y0, Coupling.stepBeta distance y0.Count rqm)

            (Potential.compute gfc y0).Forces
