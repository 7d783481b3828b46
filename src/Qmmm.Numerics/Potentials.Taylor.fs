namespace Qmmm.Numerics

open System

/// The K-th order Taylor expansion T_K V^h of a reference site potential at the homogeneous lattice (the strict
/// matching of the paper's Part 2; issue "coupling", item 3): with u_ρ = g_ρ − ρ the displacement of neighbour ρ
/// relative to the site,
///
///     T_K V(g) = V^h(0) + Σ_{j=1..K} (1/j!) Σ_{ρ_1..ρ_j} δʲV^h(0)[u_{ρ_1}, ..., u_{ρ_j}],
///
/// so δʲ T_K V(0) = δʲV^h(0) for j ≤ K exactly and δʲ T_K V = 0 for j > K (ε_j = 0 for j ≤ K). K = 2 is the
/// harmonic model. The sums run over the stored canonical tuples with their multiplicities (Derivatives.Tensors.fs).
///
/// Which neighbour is which ρ: neighbour k of a site is the stencil vector ρ nearest to g_k when |g_k − ρ| <
/// `Match` (half the nearest-neighbour distance, so the assignment is unique); neighbours that match no stencil vector
/// (sites beyond the expansion's stencil) do not contribute, and stencil vectors without a neighbour (a vacancy, the
/// edge of a finite domain) count as undisplaced, u_ρ = 0 — the far field continued at the lattice. The model is
/// meant for configurations near the lattice (the MM region of a coupled simulation); the cutoff is the stencil
/// radius plus `Match`, so a lattice neighbour displaced by less than `Match` is always seen.
type TaylorModel =
    {
        /// Model name, e.g. "taylor:2:eam-w-marinica".
        Name: string
        /// The element of the lattice.
        Element: string
        /// Expansion order K (1..4).
        Order: int
        /// Neighbour vectors ρ (Å) of the expansion: the reference's stencil Λ^h_* ∩ B_{r_cut}.
        Stencil: Vec3[]
        /// V^h(0), the reference site energy of the perfect lattice (eV).
        V0: float
        /// δʲV^h(0), j = 1..K, over the whole stencil (entries eV/Å^j).
        Tensors: SiteTensor[]
        /// Matching radius (Å): a neighbour is ρ when |g − ρ| < Match.
        Match: float
        /// Per order j (index j − 1), per canonical tuple: multiplicity / j!, the weight of its block in the sums.
        Weights: float[][]
    }

/// Construction and evaluation of Taylor models.
[<RequireQualifiedAccess>]
module TaylorModel =

    let private factorial (n: int) = List.fold (*) 1 [ 1..n ] |> float

    /// The Taylor model of order K from the reference site energy V^h(0) (eV) and its derivative tensors δʲV^h(0),
    /// j = 1..K (each over the whole stencil, in order), at a lattice of nearest-neighbour distance `rnn` (Å).
    /// Raises ArgumentException for tensors of the wrong orders, on different stencils, or not covering the stencil.
    let create (name: string) (element: string) (v0: float) (tensors: SiteTensor[]) (rnn: float) : TaylorModel =
        Validate.intInRange "tensors.Length" 1 4 tensors.Length
        Validate.positive "rnn" rnn
        Validate.finite "v0" v0
        let stencil = tensors.[0].Stencil

        tensors
        |> Array.iteri (fun j t ->
            if t.Order <> j + 1 then
                invalidArg "tensors" (sprintf "tensor %d has order %d, expected %d" j t.Order (j + 1))

            if not (obj.ReferenceEquals(t.Stencil, stencil)) && t.Stencil <> stencil then
                invalidArg "tensors" "the tensors must share one stencil"

            if t.Sites.Length <> stencil.Length then
                invalidArg
                    "tensors"
                    (sprintf
                        "the order-%d tensor covers %d of the %d stencil vectors (radius %g Å): give it the whole stencil"
                        t.Order
                        t.Sites.Length
                        stencil.Length
                        t.Radius))

        { Name = name
          Element = element
          Order = tensors.Length
          Stencil = stencil
          V0 = v0
          Tensors = tensors
          Match = 0.5 * rnn
          Weights =
            tensors
            |> Array.map (fun t ->
                Array.init (SiteTensor.count t) (fun k ->
                    float (SiteTensor.multiplicity (SiteTensor.tupleAt t k)) / factorial t.Order)) }

    /// Displacements u (3 per stencil vector, Å) of one site's neighbours: u_ρ = g_k − ρ for the neighbour k matched to
    /// ρ, 0 for unmatched ρ; `owner.[i]` receives the neighbour index k matched to stencil vector i (or -1).
    let private displacements (m: TaylorModel) (rs: float[]) (offset: int) (count: int) (u: float[]) (owner: int[]) =
        Array.fill u 0 u.Length 0.0
        Array.fill owner 0 owner.Length -1
        let m2 = m.Match * m.Match

        for k in offset .. offset + count - 1 do
            let gx, gy, gz = rs.[3 * k], rs.[3 * k + 1], rs.[3 * k + 2]
            let mutable best = -1
            let mutable bestD = m2

            for i in 0 .. m.Stencil.Length - 1 do
                let p = m.Stencil.[i]
                let dx, dy, dz = gx - p.X, gy - p.Y, gz - p.Z
                let d2 = dx * dx + dy * dy + dz * dz

                if d2 < bestD then
                    bestD <- d2
                    best <- i

            if best >= 0 then
                let p = m.Stencil.[best]
                owner.[best] <- k - offset
                u.[3 * best] <- gx - p.X
                u.[3 * best + 1] <- gy - p.Y
                u.[3 * best + 2] <- gz - p.Z

    /// T_K V at displacements u (3 per stencil vector) and, when `du` is not empty, its gradient ∂/∂u (same layout):
    /// V0 + Σ_j Σ_τ w_τ Σ_a B_τ[a] Π_p u_{τ_p, a_p} over the canonical tuples τ with weights w_τ = mult(τ)/j!, the
    /// gradient by the product rule. Orders 1 and 2 have their own loops (no index decoding); higher orders decode
    /// the component indices of each block entry. Allocates nothing.
    let energyAt (m: TaylorModel) (u: float[]) (du: float[]) =
        Validate.length "u" (3 * m.Stencil.Length) u
        let withGradient = du.Length > 0

        if withGradient then
            Validate.length "du" u.Length du
            Array.fill du 0 du.Length 0.0

        let mutable e = m.V0

        for t in m.Tensors do
            let j = t.Order
            let nb = SiteTensor.blockSize j
            let nt = SiteTensor.count t
            let w = m.Weights.[j - 1]
            let tu = t.Tuples
            let v = t.Values

            match j with
            | 1 ->
                for k in 0 .. nt - 1 do
                    let i = 3 * tu.[k]
                    let c = w.[k]

                    for a in 0..2 do
                        let b = c * v.[3 * k + a]
                        e <- e + b * u.[i + a]

                        if withGradient then
                            du.[i + a] <- du.[i + a] + b
            | 2 ->
                for k in 0 .. nt - 1 do
                    let i = 3 * tu.[2 * k]
                    let l = 3 * tu.[2 * k + 1]
                    let c = w.[k]

                    for a in 0..2 do
                        let ua = u.[i + a]
                        let mutable row = 0.0

                        for b in 0..2 do
                            let x = c * v.[9 * k + 3 * a + b]
                            row <- row + x * u.[l + b]

                            if withGradient then
                                du.[l + b] <- du.[l + b] + x * ua

                        e <- e + ua * row

                        if withGradient then
                            du.[i + a] <- du.[i + a] + row
            | _ ->
                for k in 0 .. nt - 1 do
                    let c = w.[k]

                    for a in 0 .. nb - 1 do
                        let b = v.[k * nb + a]

                        if b <> 0.0 then
                            // u factor of position p: component (a / 3^(j−1−p)) % 3 of neighbour τ_p
                            let mutable prod = 1.0
                            let mutable scale = nb / 3

                            for p in 0 .. j - 1 do
                                prod <- prod * u.[3 * tu.[k * j + p] + (a / scale) % 3]
                                scale <- scale / 3

                            e <- e + c * b * prod

                            if withGradient then
                                let mutable sp = nb / 3

                                for p in 0 .. j - 1 do
                                    let mutable rest = 1.0
                                    let mutable sq = nb / 3

                                    for q in 0 .. j - 1 do
                                        if q <> p then
                                            rest <- rest * u.[3 * tu.[k * j + q] + (a / sq) % 3]

                                        sq <- sq / 3

                                    let idx = 3 * tu.[k * j + p] + (a / sp) % 3
                                    du.[idx] <- du.[idx] + c * b * rest
                                    sp <- sp / 3

        e

    /// The Taylor model as a site potential (one element; cutoff = stencil radius + Match). Scratch per call is
    /// thread-local, so sites may be evaluated in parallel.
    [<Sealed>]
    type private TaylorPotential(m: TaylorModel) =
        let cutoff =
            (m.Stencil |> Array.fold (fun r p -> max r (Vec3.norm p)) 0.0) + m.Match

        let scratch =
            new Threading.ThreadLocal<float[] * float[] * int[]>(fun () ->
                Array.zeroCreate (3 * m.Stencil.Length),
                Array.zeroCreate (3 * m.Stencil.Length),
                Array.zeroCreate m.Stencil.Length)

        interface ISitePotential with
            member _.Name = m.Name
            member _.Cutoff = cutoff
            member _.Elements = [| m.Element |]

            member _.SiteEnergy(_, rs, _, offset, count) =
                let u, _, owner = scratch.Value
                displacements m rs offset count u owner
                energyAt m u [||]

            member _.SiteGradient(_, rs, _, offset, count, grad) =
                let u, du, owner = scratch.Value
                displacements m rs offset count u owner
                let e = energyAt m u du

                for k in offset .. offset + count - 1 do
                    grad.[3 * k] <- 0.0
                    grad.[3 * k + 1] <- 0.0
                    grad.[3 * k + 2] <- 0.0

                for i in 0 .. owner.Length - 1 do
                    let k = owner.[i]

                    if k >= 0 then
                        // ∂/∂g_k = ∂/∂u_ρ for the matched ρ (u_ρ = g_k − ρ)
                        grad.[3 * (offset + k)] <- du.[3 * i]
                        grad.[3 * (offset + k) + 1] <- du.[3 * i + 1]
                        grad.[3 * (offset + k) + 2] <- du.[3 * i + 2]

                e

    /// The Taylor model as a site potential (use `Potential.ofSite` for the whole-configuration protocol).
    let potential (m: TaylorModel) : ISitePotential = TaylorPotential(m) :> ISitePotential

    /// V^h(0): the site energy of a perfect-lattice site of species `species` with every stencil neighbour (eV).
    let latticeSiteEnergy (reference: ISitePotential) (species: int) (stencil: Vec3[]) =
        let rs = Array.zeroCreate (3 * stencil.Length)

        for i in 0 .. stencil.Length - 1 do
            Vec3.set rs i stencil.[i]

        reference.SiteEnergy(species, rs, Array.create stencil.Length species, 0, stencil.Length)

    /// T_K V^h of a reference site potential at lattice `lat` (its element must be one of the reference's): the
    /// stencil is Λ^h_* ∩ B_{r_cut} of the reference's cutoff; δʲV^h(0) are exact through `pooled` when given (EAM,
    /// ACE), else centred differences of the reference's gradient (`DifferenceDerivatives`, Richardson-extrapolated).
    let ofReference
        (name: string)
        (reference: ISitePotential)
        (pooled: IPooledPotential option)
        (lat: Lattice)
        (order: int)
        : TaylorModel =
        Validate.intInRange "order" 1 4 order
        let species = SitePotential.speciesIndex reference lat.Element
        let stencil = Lattice.stencil lat reference.Cutoff
        let radius = reference.Cutoff

        let tensors =
            [| for j in 1..order ->
                   match pooled with
                   | Some p -> Derivatives.siteTensors p stencil j radius
                   | None ->
                       (DifferenceDerivatives.siteTensors
                           DifferenceDerivatives.Options.Defaults
                           reference
                           species
                           stencil
                           j
                           radius)
                           .Tensor |]

        create
            name
            lat.Element
            (latticeSiteEnergy reference species stencil)
            tensors
            (Lattice.nearestNeighbourDistance lat)
