namespace Qmmm.Numerics

open System

/// Entry points of the model protocol (`IPotential`): the site-potential adapter, checked evaluation, and the
/// `Calculator` that owns a neighbour list and a workspace across the evaluations of a relaxation.
[<RequireQualifiedAccess>]
module Potential =

    /// One evaluation of a site potential through `Evaluate` into the workspace (the body of `SiteAdapter`).
    let private runSite
        (sp: ISitePotential)
        (config: Configuration)
        (nl: NeighbourList)
        (request: Request)
        (ws: Workspace)
        =
        let r =
            if request.Forces && request.Sites.Length = 0 then
                Evaluate.allWith request.Settings sp config nl
            elif request.Forces then
                Evaluate.partialWith request.Settings sp config nl request.Sites
            else
                let e = Evaluate.siteEnergiesWith request.Settings sp config nl

                if request.Sites.Length > 0 then
                    for i in 0 .. e.Length - 1 do
                        if not request.Sites.[i] then
                            e.[i] <- 0.0

                let mutable s = 0.0

                for v in e do
                    s <- s + v

                { Energy = s
                  SiteEnergies = e
                  Forces = [||]
                  Virial = [||] }

        ws.Energy <- r.Energy
        Array.blit r.SiteEnergies 0 ws.SiteEnergies 0 r.SiteEnergies.Length

        if request.Forces then
            Array.blit r.Forces 0 ws.Forces 0 r.Forces.Length
            Array.blit r.Virial 0 ws.Virial 0 9

    /// The generic adapter: a site potential as a whole-configuration model. Energies and forces come from
    /// `Evaluate` (the model's own fast path when it has one, e.g. EAM, else the generic per-site path); the total
    /// energy is the sum of the site energies (the definition for this family).
    [<Sealed>]
    type private SiteAdapter(sp: ISitePotential) =
        member _.Site = sp

        interface IPotential with
            member _.Name = sp.Name
            member _.Elements = sp.Elements
            member _.Cutoff = sp.Cutoff
            member _.HasSiteEnergies = true

            member _.Evaluate(config, nl, request, ws) = runSite sp config nl request ws

        interface IHalfListPotential with
            member _.AcceptsHalfList(request) =
                match box sp with
                | :? Evaluate.IFastEvaluation -> not request.Settings.Generic
                | _ -> false

    /// A site potential (Potentials.SitePotential.fs) as a whole-configuration model: site energies, energy
    /// E = Σ_ℓ V_ℓ, forces, virial and partial energies written once for the family (STYLE 5, 6).
    let ofSite (sp: ISitePotential) : IPotential =
        match box sp with
        | :? IPotential as p -> p
        | _ -> SiteAdapter(sp) :> IPotential

    /// The site potential behind `pot` when it is one (built by `ofSite`, or a model implementing both protocols):
    /// the route to exact derivative tensors and per-site quantities.
    let trySite (pot: IPotential) : ISitePotential option =
        match box pot with
        | :? SiteAdapter as a -> Some a.Site
        | :? ISitePotential as s -> Some s
        | _ -> None

    /// Raises `ComputationException` naming the model, the quantity and the first atom when an output asked for by
    /// `request` is not finite (STYLE 14): a non-finite number is never printed or written as a result.
    let checkFinite (pot: IPotential) (request: Request) (ws: Workspace) =
        let bad (what: string) (atom: int) (v: float) =
            raise (
                ComputationException(
                    if atom >= 0 then
                        sprintf "model '%s' gave a non-finite %s (%g) at atom %d" pot.Name what v atom
                    else
                        sprintf "model '%s' gave a non-finite %s (%g)" pot.Name what v
                )
            )

        if not (Double.IsFinite ws.Energy) then
            // name the first atom with a non-finite site energy when the model has them
            if request.SiteEnergies then
                ws.SiteEnergies
                |> Array.tryFindIndex (Double.IsFinite >> not)
                |> Option.iter (fun i -> bad "site energy" i ws.SiteEnergies.[i])

            bad "energy" -1 ws.Energy

        if request.SiteEnergies then
            for i in 0 .. ws.SiteEnergies.Length - 1 do
                if not (Double.IsFinite ws.SiteEnergies.[i]) then
                    bad "site energy" i ws.SiteEnergies.[i]

        if request.Forces then
            for k in 0 .. ws.Forces.Length - 1 do
                if not (Double.IsFinite ws.Forces.[k]) then
                    bad "force" (k / 3) ws.Forces.[k]

            for k in 0..8 do
                if not (Double.IsFinite ws.Virial.[k]) then
                    bad "virial" -1 ws.Virial.[k]

    /// Checks the arguments of an evaluation: a list current for `config` (never silently stale) with cutoff at
    /// least the model's, a request the model supports, every element known to the model.
    let private checkArguments (pot: IPotential) (config: Configuration) (nl: NeighbourList) (request: Request) =
        Validate.intInRange "request.Settings.Threads" 1 Int32.MaxValue request.Settings.Threads
        Validate.intInRange "request.Settings.Chunks" 1 Int32.MaxValue request.Settings.Chunks
        Validate.length "config.Positions" (3 * config.Count) config.Positions
        Neighbours.ensureCurrent nl config

        if nl.Cutoff < pot.Cutoff then
            invalidArg
                "nl"
                (sprintf
                    "the neighbour-list cutoff %g Å is below the cutoff %g Å of model '%s'"
                    nl.Cutoff
                    pot.Cutoff
                    pot.Name)

        if (request.SiteEnergies || request.Sites.Length > 0) && not pot.HasSiteEnergies then
            invalidArg "request" (sprintf "model '%s' defines no site energies (nor partial energies)" pot.Name)

        if request.Sites.Length > 0 then
            Validate.length "request.Sites" config.Count request.Sites

        let elements = pot.Elements

        for s in Array.distinct config.Species do
            if Array.IndexOf(elements, s) < 0 then
                invalidArg
                    "config"
                    (sprintf "model '%s' has no element '%s' (it knows %s)" pot.Name s (String.concat ", " elements))

    /// True when `pot` evaluates `request` from a half list (`IHalfListPotential`).
    let acceptsHalfList (pot: IPotential) (request: Request) =
        match box pot with
        | :? IHalfListPotential as h -> h.AcceptsHalfList request
        | _ -> false

    /// The neighbour list `pot` needs for `request` on `config`: half when the model accepts one, else full; cutoff the
    /// model's, with the given Verlet skin (Å) and thread count.
    let neighbourList (pot: IPotential) (request: Request) (skin: float) (config: Configuration) =
        Neighbours.buildList
            { Skin = skin
              Half = acceptsHalfList pot request
              Threads = request.Settings.Threads }
            pot.Cutoff
            config

    /// Evaluates `pot` on `config` into the caller's workspace (sized here), after checking the arguments
    /// (`nl` current for `config`, cutoff ≥ the model's, elements known) and before returning that every output asked
    /// for is finite (else `ComputationException` naming the model and atom). A half list given to a model that needs
    /// whole neighbourhoods is expanded to a full one first.
    let evaluateInto (pot: IPotential) (config: Configuration) (nl: NeighbourList) (request: Request) (ws: Workspace) =
        checkArguments pot config nl request

        let nl =
            if nl.Half && not (acceptsHalfList pot request) then
                Neighbours.toFull nl
            else
                nl

        ws.Prepare config.Count
        pot.Evaluate(config, nl, request, ws)
        checkFinite pot request ws

    /// Evaluates `pot` on `config` with the list `nl` (see `evaluateInto`) and returns the outputs asked for.
    let evaluate (pot: IPotential) (config: Configuration) (nl: NeighbourList) (request: Request) : Results =
        let ws = Workspace()
        evaluateInto pot config nl request ws
        ws.ToResults request

    /// Energy, forces, virial and (where the model defines them) site energies of `config`, building the neighbour
    /// list on the way (cutoff = the model's). For repeated evaluations use a `Calculator`.
    let compute (pot: IPotential) (config: Configuration) : Results =
        let request =
            { Request.All with
                SiteEnergies = pot.HasSiteEnergies }

        evaluate pot config (neighbourList pot request 0.0 config) request

/// A model bound to a neighbour list and a workspace that it keeps across evaluations (ASE's calculator, LAMMPS's
/// neighbour reuse): each call checks whether the list is still current for the configuration
/// (`Neighbours.isCurrent`: same cell, no atom moved more than skin/2) and rebuilds it only when not; the outputs live
/// in the workspace and are overwritten by the next call. Not thread-safe: one calculator per concurrent solve.
[<Sealed>]
type Calculator(model: IPotential, settings: EvaluationSettings) =
    let ws = Workspace()
    let mutable nl: NeighbourList option = None
    let mutable builds = 0

    /// A calculator with default settings.
    new(model: IPotential) = Calculator(model, EvaluationSettings.Defaults)

    /// The model evaluated.
    member _.Model = model
    /// The settings of every evaluation.
    member _.Settings = settings
    /// Number of neighbour-list builds so far.
    member _.Builds = builds
    /// The workspace holding the outputs of the last evaluation.
    member _.Workspace = ws

    /// A neighbour list current for `config` (skin `Settings.Skin`; half when the model accepts one for `request`):
    /// the kept one when still valid, else a new one.
    member _.NeighbourList(config: Configuration, request: Request) =
        let half = Potential.acceptsHalfList model { request with Settings = settings }

        match nl with
        | Some l when l.Half = half && Neighbours.isCurrent l config -> l
        | _ ->
            let l =
                Potential.neighbourList model { request with Settings = settings } settings.Skin config

            nl <- Some l
            builds <- builds + 1
            l

    /// A full neighbour list current for `config` (see the other overload).
    member c.NeighbourList(config: Configuration) =
        c.NeighbourList(
            config,
            { Request.All with
                Settings = { settings with Generic = true } }
        )

    /// Evaluates the model on `config` as `request` asks (its `Settings` are replaced by the calculator's) and
    /// returns the workspace holding the outputs (valid until the next call).
    member c.Evaluate(config: Configuration, request: Request) : Workspace =
        let request = { request with Settings = settings }
        let l = c.NeighbourList(config, request)
        Potential.evaluateInto model config l request ws
        ws

    /// Energy and forces (−∂E/∂y, eV/Å, 3N; the workspace's array, overwritten by the next call) of `config`.
    member c.EnergyForces(config: Configuration) : struct (float * float[]) =
        let w =
            c.Evaluate(
                config,
                { Request.All with
                    SiteEnergies = false }
            )

        struct (w.Energy, w.Forces)

    /// Energy, forces, virial and (where defined) site energies of `config`, as an immutable snapshot.
    member c.Compute(config: Configuration) : Results =
        let request =
            { Request.All with
                SiteEnergies = model.HasSiteEnergies }

        (c.Evaluate(config, request)).ToResults request
