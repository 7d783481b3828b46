namespace Qmmm.Numerics

open System

/// Slow, obviously correct routes to derivative tensors (STYLE 12): the oracles for `Derivatives` (pooled, exact), and
/// the general route for site potentials that are not pooled (tight binding):
/// - `eamBlock` / `eamTensorAt`: brute force — the whole EAM site energy, written once as generic inline code, is
///   evaluated on multivariate `Taylor` variables for the 3q components of the q <= j distinct neighbours of one tuple
///   (every other neighbour a constant), and the j-th derivatives are read off. No pooled structure, no partitions.
/// - `byGradientDifferences`: δʲV by nested centred differences of the analytic gradient of any `ISitePotential`.
[<RequireQualifiedAccess>]
module ReferenceDerivatives =

    /// The EAM site energy V(g) = ½ Σ_n φ(|g_n|) + F(Σ_n ρ(|g_n|)) over the neighbour components g (3 per neighbour),
    /// generic over the scalar type.
    let inline eamSiteEnergy (phi: ^T -> ^T) (rho: ^T -> ^T) (emb: ^T -> ^T) (g: ^T[]) : ^T =
        let mutable s = ofFloat 0.0
        let mutable t = ofFloat 0.0

        for n in 0 .. g.Length / 3 - 1 do
            let x, y, z = g.[3 * n], g.[3 * n + 1], g.[3 * n + 2]
            let r = sqrt (x * x + y * y + z * z)
            s <- s + phi r
            t <- t + rho r

        s *. 0.5 + emb t

    /// The 3^j block V_{,ρ}(g) of (1.1) for one tuple of neighbour indices into g (any order, j = tuple.Length in
    /// 1..4), row-major in the tuple's order, of the single-species EAM site energy of `species`, by brute-force
    /// Taylor differentiation of the whole site energy in the components of the tuple's distinct neighbours.
    let eamBlock (m: EamModel) (species: int) (g: Vec3[]) (tuple: int[]) : float[] =
        let j = tuple.Length
        Validate.intInRange "tuple.Length" 1 4 j
        let ne = m.Elements.Length
        Validate.intInRange "species" 0 (ne - 1) species
        let phi = m.Pair.[species * ne + species]
        let rho = m.Density.[species * ne + species]
        let emb = m.Embedding.[species]
        let distinct = Array.distinct tuple
        let nv = 3 * distinct.Length
        let slot = Array.create g.Length -1
        distinct |> Array.iteri (fun s n -> slot.[n] <- s)

        let vars =
            Array.init (3 * g.Length) (fun f ->
                let n, a = f / 3, f % 3
                let v = g.[n].[a]

                if slot.[n] >= 0 then
                    Taylor.Variable(nv, j, 3 * slot.[n] + a, v)
                else
                    ofFloat v)

        let e =
            eamSiteEnergy (Pooled.radial phi) (Pooled.radial rho) (Pooled.radial emb) vars

        let d = e.DerivativeTensor j
        let nComp = pown 3 j

        Array.init nComp (fun c ->
            let mutable f = 0

            for p in 0 .. j - 1 do
                let a = (c / pown 3 (j - 1 - p)) % 3
                f <- nv * f + 3 * slot.[tuple.[p]] + a

            d.[f])

    /// δʲV(g) of the single-species EAM site energy over the canonical tuples of the stencil sites within `radius`
    /// (Å), block by block with `eamBlock` (slow: for tests and same-run baselines).
    let eamTensorAt (m: EamModel) (species: int) (stencil: Vec3[]) (g: Vec3[]) (order: int) (radius: float) =
        Validate.length "g" stencil.Length g
        let t = SiteTensor.create order stencil radius
        let nComp = pown 3 order

        for k in 0 .. SiteTensor.count t - 1 do
            let b = eamBlock m species g (SiteTensor.tupleAt t k)
            Array.blit b 0 t.Values (k * nComp) nComp

        t

    /// Default step (Å) of `byGradientDifferences` for order j: h_j = ε^{1/(j+1)} with ε = 2.2e-16 — the j-1 nested
    /// centred differences of an analytic gradient have truncation error O(h²) and rounding error O(ε/h^{j-1}),
    /// balanced at h ~ ε^{1/(j+1)}: 6e-6 (j = 2), 1.2e-4 (j = 3), 7.4e-4 (j = 4); expected relative accuracy about
    /// 1e-10, 1e-8, 1e-6 for derivatives of order 1 in the length scale of 1 Å.
    let defaultStep (order: int) =
        Validate.intInRange "order" 1 4 order

        if order = 1 then
            0.0
        else
            Math.Pow(2.2e-16, 1.0 / float (order + 1))

    /// δʲV(g) of any site potential (e.g. tight binding, which is not pooled) over the canonical tuples of the stencil
    /// sites within `radius` (Å): j = 1 is the analytic gradient (`ISitePotential.SiteGradient`); for j >= 2 the entry
    /// of ((n_1,a_1), ..., (n_j,a_j)) is the (j-1)-fold nested centred difference with step h (Å) in the coordinates
    /// (n_1,a_1)..(n_{j-1},a_{j-1}) of the gradient component (n_j,a_j):
    ///   Σ_{s ∈ {±1}^{j-1}} (Π s_i) ∂V/∂g_{n_j a_j}(g + h Σ_i s_i e_{n_i a_i}) / (2h)^{j-1},
    /// which has error O(h²) (see `defaultStep` for the choice of h). All neighbours have species `zs.[i]`, the
    /// centre `zi`.
    let byGradientDifferences
        (pot: ISitePotential)
        (zi: int)
        (zs: int[])
        (stencil: Vec3[])
        (g: Vec3[])
        (order: int)
        (radius: float)
        (step: float)
        =
        Validate.length "g" stencil.Length g
        Validate.length "zs" stencil.Length zs

        if order >= 2 then
            Validate.positive "step" step

        let t = SiteTensor.create order stencil radius
        let n = g.Length
        let rs = Array.zeroCreate (3 * n)
        let grad = Array.zeroCreate (3 * n)
        let acc = Array.zeroCreate (3 * n)

        let load () =
            for i in 0 .. n - 1 do
                rs.[3 * i] <- g.[i].X
                rs.[3 * i + 1] <- g.[i].Y
                rs.[3 * i + 2] <- g.[i].Z

        let nComp = pown 3 order
        let nPre = pown 3 (order - 1)
        let count = SiteTensor.count t
        let mutable k = 0

        while k < count do
            // the run of canonical tuples sharing the prefix of length j-1
            let prefix = Array.sub t.Tuples (k * order) (order - 1)
            let mutable kEnd = k + 1

            while kEnd < count && Array.sub t.Tuples (kEnd * order) (order - 1) = prefix do
                kEnd <- kEnd + 1

            for cp in 0 .. nPre - 1 do
                Array.fill acc 0 acc.Length 0.0

                for signs in 0 .. (1 <<< (order - 1)) - 1 do
                    load ()
                    let mutable sgn = 1.0

                    for p in 0 .. order - 2 do
                        let a = (cp / pown 3 (order - 2 - p)) % 3
                        let s = if (signs >>> p) &&& 1 = 1 then -1.0 else 1.0
                        sgn <- sgn * s
                        rs.[3 * prefix.[p] + a] <- rs.[3 * prefix.[p] + a] + s * step

                    pot.SiteGradient(zi, rs, zs, 0, n, grad) |> ignore

                    for f in 0 .. acc.Length - 1 do
                        acc.[f] <- acc.[f] + sgn * grad.[f]

                let scale =
                    if order = 1 then
                        1.0
                    else
                        1.0 / pown (2.0 * step) (order - 1)

                for kk in k .. kEnd - 1 do
                    let last = t.Tuples.[kk * order + order - 1]

                    for b in 0..2 do
                        t.Values.[kk * nComp + 3 * cp + b] <- scale * acc.[3 * last + b]

            k <- kEnd

        t
