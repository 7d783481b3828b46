namespace Qmmm.Numerics

open System

/// Which atoms of a coupled configuration are QM sites and which form the buffer (Section 3.2): the QM computation
/// runs on the cluster Λ^QM ∪ Λ^BUF carved from the configuration (same cell vectors, periodic along `ClusterPbc`:
/// z for the paper's quasi-2D domains, no axis for a 3-D ball); every other site — buffer, MM and far field — is an
/// MM site. Which atoms move (everything
/// but the far field) is the solver's business, not the model's.
type CouplingSites =
    {
        /// Λ^QM: one flag per atom.
        Qm: bool[]
        /// Λ^BUF: one flag per atom, disjoint from Qm.
        Buffer: bool[]
        /// Periodicity of the carved QM cluster along a1, a2, a3 (only axes along which the configuration is periodic
        /// and the regions do not depend on the coordinate, e.g. [| false; false; true |] for quasi-2D domains).
        ClusterPbc: bool[]
    }

    /// Checks the masks: equal lengths `atoms`, disjoint, at least one QM site.
    member s.Check(atoms: int) =
        Validate.length "sites.Qm" atoms s.Qm
        Validate.length "sites.Buffer" atoms s.Buffer

        for i in 0 .. atoms - 1 do
            if s.Qm.[i] && s.Buffer.[i] then
                invalidArg "sites" (sprintf "atom %d is both a QM and a buffer site" i)

        if not (Array.exists id s.Qm) then
            invalidArg "sites" "no QM site"

        Validate.length "sites.ClusterPbc" 3 s.ClusterPbc

    /// Atom indices of the QM cluster Λ^QM ∪ Λ^BUF, ascending.
    member s.Cluster =
        [| for i in 0 .. s.Qm.Length - 1 do
               if s.Qm.[i] || s.Buffer.[i] then
                   yield i |]

/// The QM cluster Λ^QM ∪ Λ^BUF of a configuration and the QM model's results on it, kept across evaluations (a
/// `Calculator` with its own Verlet-skin list): the paper's V_ℓ^{Λ^QM ∪ Λ^BUF} and F_ℓ^{Λ^QM ∪ Λ^BUF}.
/// Not thread-safe: one cluster per concurrent solve.
[<Sealed>]
type QmCluster(qm: IPotential, sites: CouplingSites, settings: EvaluationSettings) =
    let members = sites.Cluster
    let qmInCluster = members |> Array.map (fun i -> sites.Qm.[i])
    let calc = Calculator(qm, settings)

    /// The QM model.
    member _.Model = qm
    /// Atom indices (in the whole configuration) of the cluster's atoms, ascending.
    member _.Members = members
    /// Number of QM evaluations so far.
    member val Evaluations = 0 with get, set

    /// The cluster carved from `config`: its atoms, the same cell and periodicity.
    member _.Carve(config: Configuration) : Configuration =
        let x = Array.zeroCreate (3 * members.Length)

        for c in 0 .. members.Length - 1 do
            let i = members.[c]
            x.[3 * c] <- config.Positions.[3 * i]
            x.[3 * c + 1] <- config.Positions.[3 * i + 1]
            x.[3 * c + 2] <- config.Positions.[3 * i + 2]

        for k in 0..2 do
            if sites.ClusterPbc.[k] && not config.Cell.Pbc.[k] then
                invalidArg "sites" (sprintf "the QM cluster is periodic along axis %d, the configuration is not" k)

        { Species = members |> Array.map (fun i -> config.Species.[i])
          Positions = x
          Cell =
            { config.Cell with
                Pbc = Array.copy sites.ClusterPbc } }

    /// Energy mixing's QM part: the partial energy Σ_{ℓ∈Λ^QM ∩ S} V_ℓ^{QM∪BUF} (returned; S = `selection`, one flag per
    /// atom of the whole configuration, or empty for all), those site energies into `site` (other entries
    /// untouched) and, when `forces` is not empty, its gradient −∂/∂y added into `forces` (3 per atom of the whole
    /// configuration) and its virial added into `virial` (9).
    member c.PartialInto(config: Configuration, selection: bool[], site: float[], forces: float[], virial: float[]) =
        let cluster = c.Carve config

        let sel =
            if selection.Length = 0 then
                qmInCluster
            else
                Array.init members.Length (fun k -> qmInCluster.[k] && selection.[members.[k]])

        let req =
            { Forces = forces.Length > 0
              SiteEnergies = true
              Sites = sel
              Settings = settings }

        let ws = calc.Evaluate(cluster, req)
        c.Evaluations <- c.Evaluations + 1

        for k in 0 .. members.Length - 1 do
            let i = members.[k]

            if sel.[k] then
                site.[i] <- ws.SiteEnergies.[k]

            if forces.Length > 0 then
                forces.[3 * i] <- forces.[3 * i] + ws.Forces.[3 * k]
                forces.[3 * i + 1] <- forces.[3 * i + 1] + ws.Forces.[3 * k + 1]
                forces.[3 * i + 2] <- forces.[3 * i + 2] + ws.Forces.[3 * k + 2]

        if forces.Length > 0 then
            for k in 0..8 do
                virial.[k] <- virial.[k] + ws.Virial.[k]

        ws.Energy

    /// Force mixing's QM part: the forces −∂E^{QM∪BUF}/∂y_ℓ of the whole cluster's energy on the QM atoms ℓ, written
    /// into `forces` (3 per atom of the whole configuration; other atoms untouched) (3.17).
    member c.ForcesInto(config: Configuration, forces: float[]) =
        let req =
            { Forces = true
              SiteEnergies = false
              Sites = [||]
              Settings = settings }

        let ws = calc.Evaluate(c.Carve config, req)
        c.Evaluations <- c.Evaluations + 1

        for k in 0 .. members.Length - 1 do
            if qmInCluster.[k] then
                let i = members.[k]
                forces.[3 * i] <- ws.Forces.[3 * k]
                forces.[3 * i + 1] <- ws.Forces.[3 * k + 1]
                forces.[3 * i + 2] <- ws.Forces.[3 * k + 2]

/// QM/MM coupling schemes of Sections 3.2–3.3 as models: energy mixing E^H (3.8) and its ghost-force correction
/// E^GFC (3.10)–(3.11) are `IPotential`s (site energies included), so every solver that relaxes a model relaxes them;
/// force mixing F^H (3.16)–(3.17) is a force field without an energy.
[<RequireQualifiedAccess>]
module Coupling =

    /// Energy mixing E^H (3.8): V_ℓ^QM of the QM cluster (one QM computation on Λ^QM ∪ Λ^BUF) for ℓ ∈ Λ^QM, V_ℓ^MM of
    /// the MM model on the whole configuration for every other site; the site energies are those V_ℓ, the energy
    /// their sum, forces and virial its exact derivatives (the QM cluster shares the cell, so its virial adds). Both
    /// models need site energies. Partial requests select sites as usual. Not thread-safe (one QM cluster).
    [<Sealed>]
    type EnergyMixing(qm: IPotential, mm: IPotential, sites: CouplingSites, settings: EvaluationSettings) =
        do
            if not qm.HasSiteEnergies then
                invalidArg "qm" (sprintf "energy mixing needs QM site energies; model '%s' defines none" qm.Name)

            if not mm.HasSiteEnergies then
                invalidArg "mm" (sprintf "energy mixing needs MM site energies; model '%s' defines none" mm.Name)

            sites.Check sites.Qm.Length

        let cluster = QmCluster(qm, sites, settings)
        let mmSites = sites.Qm |> Array.map not
        let mmWork = Workspace()

        /// The QM cluster (its members and QM calculator).
        member _.Cluster = cluster

        interface IPotential with
            member _.Name = sprintf "energy-mixing(%s | %s)" qm.Name mm.Name
            member _.Elements = Array.append qm.Elements mm.Elements |> Array.distinct
            member _.Cutoff = mm.Cutoff
            member _.HasSiteEnergies = true

            member _.Evaluate(config, nl, request, output) =
                let n = config.Count

                if n <> sites.Qm.Length then
                    invalidArg
                        "config"
                        (sprintf "the coupling sites are for %d atoms, the configuration has %d" sites.Qm.Length n)

                let sel = request.Sites

                let mmSel =
                    if sel.Length = 0 then
                        mmSites
                    else
                        Array.init n (fun i -> mmSites.[i] && sel.[i])

                // MM part: the partial energy of the MM sites, on the whole configuration
                mmWork.Prepare n

                let mmReq =
                    { request with
                        SiteEnergies = true
                        Sites = mmSel }

                Potential.evaluateInto mm config nl mmReq mmWork
                Array.blit mmWork.SiteEnergies 0 output.SiteEnergies 0 n

                if request.Forces then
                    Array.blit mmWork.Forces 0 output.Forces 0 (3 * n)
                    Array.blit mmWork.Virial 0 output.Virial 0 9

                // QM part
                let eQm =
                    cluster.PartialInto(
                        config,
                        sel,
                        output.SiteEnergies,
                        (if request.Forces then output.Forces else [||]),
                        output.Virial
                    )

                output.Energy <- mmWork.Energy + eQm

    /// The ghost-force correction (3.10) of a coupled energy (or of any model): with u = y − y0 and F⁰ = F(y0) the
    /// forces of `inner` at the reference configuration y0 = x + u0,
    ///
    ///     E^GFC(y) = E(y) − ⟨δE(y0), β u⟩ = E(y) + Σ_ℓ β_ℓ F⁰_ℓ · (y_ℓ − y0_ℓ),
    ///
    /// so F^GFC(y) = F(y) − β F⁰ and F^GFC(y0) = (1 − β) F⁰: the interface (ghost) forces of the unrelaxed
    /// configuration are removed wherever β = 1 (`stepBeta`: |x − x̂| ≥ R_QM/2, (3.11)). The dead-load term is added to
    /// the site energy of its atom; its virial contribution is −Σ_ℓ β_ℓ F⁰_ℓ ⊗ y_ℓ (the strain derivative of the term).
    [<Sealed>]
    type GhostForceCorrected(inner: IPotential, y0: Configuration, beta: float[]) =
        do Validate.length "beta" y0.Count beta

        let f0 = (Potential.compute inner y0).Forces
        let x0 = Array.copy y0.Positions

        /// F⁰ = F(y0), the forces the correction removes (eV/Å, 3 per atom).
        member _.ReferenceForces = Array.copy f0

        interface IPotential with
            member _.Name = sprintf "gfc(%s)" inner.Name
            member _.Elements = inner.Elements
            member _.Cutoff = inner.Cutoff
            member _.HasSiteEnergies = inner.HasSiteEnergies

            member _.Evaluate(config, nl, request, output) =
                if config.Count <> y0.Count then
                    invalidArg
                        "config"
                        (sprintf "the correction is for %d atoms, the configuration has %d" y0.Count config.Count)

                inner.Evaluate(config, nl, request, output)
                let y = config.Positions
                let sel = request.Sites
                let mutable de = 0.0

                for i in 0 .. config.Count - 1 do
                    if beta.[i] <> 0.0 && (sel.Length = 0 || sel.[i]) then
                        let mutable c = 0.0

                        for a in 0..2 do
                            c <- c + beta.[i] * f0.[3 * i + a] * (y.[3 * i + a] - x0.[3 * i + a])

                        de <- de + c

                        if request.SiteEnergies || sel.Length > 0 then
                            output.SiteEnergies.[i] <- output.SiteEnergies.[i] + c

                        if request.Forces then
                            for a in 0..2 do
                                output.Forces.[3 * i + a] <- output.Forces.[3 * i + a] - beta.[i] * f0.[3 * i + a]

                            for a in 0..2 do
                                for b in 0..2 do
                                    output.Virial.[3 * a + b] <-
                                        output.Virial.[3 * a + b] - beta.[i] * f0.[3 * i + a] * y.[3 * i + b]

                output.Energy <- output.Energy + de

    /// β of (3.11): 0 for atoms closer than R_QM/2 to the defect core (by `distance`, Å), 1 elsewhere.
    let stepBeta (distance: int -> float) (atoms: int) (rqm: float) : float[] =
        Validate.positive "rqm" rqm
        Array.init atoms (fun i -> if distance i < 0.5 * rqm then 0.0 else 1.0)

    /// Force mixing F^H (3.16)–(3.17): on a QM site ℓ the force −∂E^{QM∪BUF}/∂y_ℓ of one QM computation on the
    /// cluster Λ^QM ∪ Λ^BUF; on every other atom the MM model's force on the whole configuration. F^H is not the
    /// gradient of any energy (the QM and MM forces come from different energies), so its equilibria are found by
    /// solving F^H = 0 (Newton–Krylov), not by minimisation. Not thread-safe (one QM cluster, one MM calculator).
    [<Sealed>]
    type ForceMixing(qm: IPotential, mm: IPotential, sites: CouplingSites, settings: EvaluationSettings) =
        do sites.Check sites.Qm.Length
        let cluster = QmCluster(qm, sites, settings)
        let mmCalc = Calculator(mm, settings)

        /// The QM cluster (its members and QM calculator).
        member _.Cluster = cluster

        /// The coupling sites.
        member _.Sites = sites

        /// F^H(y) (eV/Å, 3 per atom) written into `forces`.
        member _.ForcesInto(config: Configuration, forces: float[]) =
            Validate.length "forces" (3 * config.Count) forces

            if config.Count <> sites.Qm.Length then
                invalidArg
                    "config"
                    (sprintf
                        "the coupling sites are for %d atoms, the configuration has %d"
                        sites.Qm.Length
                        config.Count)

            let struct (_, fmm) = mmCalc.EnergyForces config
            Array.blit fmm 0 forces 0 forces.Length
            cluster.ForcesInto(config, forces)

        /// F^H(y) as a new array.
        member f.Forces(config: Configuration) =
            let out = Array.zeroCreate (3 * config.Count)
            f.ForcesInto(config, out)
            out
