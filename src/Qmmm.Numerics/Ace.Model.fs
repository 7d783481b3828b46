namespace Qmmm.Numerics

open System
open System.Threading
open System.Numerics

/// The coefficients of a linear ACE model contracted into the coupling (issue item 2): V = Σ_B c_B B =
/// Re Σ_t w_t Π_{s=1..ν_t} A_{k_{t,s}} with w_t = Σ_d c_{First+d} U[d, t] over the columns t of every block. Terms are
/// grouped by order ν (element ν − 1), so the evaluation never forms the basis functions one by one.
type AceContraction =
    {
        /// A-indices of the factors of the terms of order ν (ν per term), element ν − 1.
        Indices: int[][]
        /// Weights w_t of the terms of order ν, element ν − 1.
        Weights: float[][]
    }

/// Per-thread scratch of the fast ACE path (sized by the neighbour count and the basis; grown, never per atom).
[<Sealed; AllowNullLiteral>]
type internal AceScratch(basis: AceBasis, neighbours: int) =
    let nh = SphericalHarmonics.positiveCount basis.LMax
    let nr = basis.Radial.Count
    member val Neighbours = neighbours
    member val Rv: float[] = Array.zeroCreate (neighbours * nr)
    member val Rd: float[] = Array.zeroCreate (neighbours * nr)
    member val Yre: float[] = Array.zeroCreate (neighbours * nh)
    member val Yim: float[] = Array.zeroCreate (neighbours * nh)
    member val Pre: float[] = Array.zeroCreate (neighbours * nh)
    member val Pim: float[] = Array.zeroCreate (neighbours * nh)
    member val Qre: float[] = Array.zeroCreate (neighbours * nh)
    member val Qim: float[] = Array.zeroCreate (neighbours * nh)
    member val Inside: bool[] = Array.zeroCreate neighbours
    member val Are: float[] = Array.zeroCreate basis.ACount
    member val Aim: float[] = Array.zeroCreate basis.ACount
    member val Gre: float[] = Array.zeroCreate basis.ACount
    member val Gim: float[] = Array.zeroCreate basis.ACount

/// Linear ACE models: contraction of coefficients, the fast site energy and gradient, and the model as an
/// `ISitePotential` (hence an `IPotential` through `Potential.ofSite`).
[<RequireQualifiedAccess>]
module AceModel =

    /// Contracts coefficients c (one per basis function) into the coupling: the weights w_t of every product term
    /// (terms with w_t = 0 are dropped). Raises ArgumentException when c has the wrong length or a non-finite entry.
    let contract (basis: AceBasis) (coefficients: float[]) : AceContraction =
        Validate.length "coefficients" basis.Size coefficients
        Validate.allFinite "coefficients" coefficients
        let order = basis.Spec.Order
        // mirror (i, m) -> (i, -m) of every A-index
        let mirror = Array.zeroCreate basis.ACount

        for i in 0 .. basis.N.Length - 1 do
            for m in -basis.L.[i] .. basis.L.[i] do
                mirror.[AceBasis.aIndex basis i m] <- AceBasis.aIndex basis i -m

        let idx = Array.init order (fun _ -> ResizeArray<int>())
        let ws = Array.init order (fun _ -> ResizeArray<float>())
        // products depend only on the multiset of A-indices, and Re Π A_s = Re Π A_mirror(s) (Σ m = 0): terms with
        // the same canonical multiset are merged (position in first-occurrence order; the map only looks up)
        let position = Collections.Generic.Dictionary<string, int>()

        for blk in basis.Blocks do
            let nu = blk.Order

            for c in 0 .. blk.Columns - 1 do
                let mutable w = 0.0

                for d in 0 .. blk.Dimension - 1 do
                    w <- w + coefficients.[blk.First + d] * blk.Coupling.[d * blk.Columns + c]

                if w <> 0.0 then
                    let a = Array.sort (Array.sub blk.ColumnIndices (c * nu) nu)
                    let b = Array.sort (Array.map (fun k -> mirror.[k]) a)
                    let canonical = if compare a b <= 0 then a else b
                    let key = String.Join(",", canonical)

                    match position.TryGetValue key with
                    | true, p -> ws.[nu - 1].[p] <- ws.[nu - 1].[p] + w
                    | _ ->
                        position.[key] <- ws.[nu - 1].Count
                        idx.[nu - 1].AddRange canonical
                        ws.[nu - 1].Add w

        { Indices = idx |> Array.map (fun x -> x.ToArray())
          Weights = ws |> Array.map (fun x -> x.ToArray()) }

    /// V = Re Σ_t w_t Π A from an atomic base (any scalar): the reference form of the contracted energy.
    let inline energyOfAtomicBase (c: AceContraction) (are: ^T[]) (aim: ^T[]) : ^T =
        let mutable e: ^T = ofFloat 0.0

        for nu in 1 .. c.Indices.Length do
            let idx = c.Indices.[nu - 1]
            let w = c.Weights.[nu - 1]

            for t in 0 .. w.Length - 1 do
                let mutable pr = are.[idx.[t * nu]]
                let mutable pi = aim.[idx.[t * nu]]

                for s in 1 .. nu - 1 do
                    let k = idx.[t * nu + s]
                    let npr = pr * are.[k] - pi * aim.[k]
                    pi <- pr * aim.[k] + pi * are.[k]
                    pr <- npr

                e <- e + w.[t] .* pr

        e

    /// The site energy V(g) = Σ_B c_B B(g) at neighbour vectors rs[3j .. 3j+2], j < count (Å), on any scalar (jets
    /// give exact derivatives): atomic base, then the contracted terms. Allocates (reference path).
    let inline siteEnergyGeneric (basis: AceBasis) (c: AceContraction) (rs: ^T[]) (count: int) : ^T =
        let struct (are, aim) = AceBasis.atomicBase basis rs count
        energyOfAtomicBase c are aim

    /// Fills the scratch with R_n, R_n', the m >= 0 harmonics and their gradient pieces of every neighbour, and the
    /// atomic base A (m >= 0 accumulated, m < 0 from A_{n,l,−m} = (−1)^m conj A_nlm). No allocation.
    let internal prepare (basis: AceBasis) (sc: AceScratch) (rs: float[]) (offset: int) (count: int) =
        let nh = SphericalHarmonics.positiveCount basis.LMax
        let nr = basis.Radial.Count
        let rcut = basis.Radial.Spec.RCut
        let are = sc.Are
        let aim = sc.Aim
        let yre = sc.Yre
        let yim = sc.Yim
        Array.Clear(are)
        Array.Clear(aim)

        for j in 0 .. count - 1 do
            let k = offset + j
            let x = rs.[3 * k]
            let y = rs.[3 * k + 1]
            let z = rs.[3 * k + 2]
            let r = sqrt (x * x + y * y + z * z)
            let inside = r < rcut && r > 0.0
            sc.Inside.[j] <- inside

            if inside then
                AceRadial.evaluateWithDerivative basis.Radial r sc.Rv sc.Rd (j * nr)

                SphericalHarmonics.evaluatePositive basis.Harmonics x y z yre yim sc.Pre sc.Pim sc.Qre sc.Qim (j * nh)

                let rj = j * nr
                let w = Vector<float>.Count

                for l in 0 .. basis.LMax do
                    let nl = basis.NCount.[l]
                    let h0 = j * nh + l * (l + 1) / 2

                    for m in 0..l do
                        let yr = yre.[h0 + m]
                        let yi = yim.[h0 + m]
                        let o = basis.LBase.[l] + (l + m) * nl
                        let mutable n = 0

                        if nl >= w then
                            let vyr = Vector<float>(yr)
                            let vyi = Vector<float>(yi)

                            while n + w <= nl do
                                let rv = Vector<float>(sc.Rv, rj + n)
                                (Vector<float>(are, o + n) + rv * vyr).CopyTo(are, o + n)
                                (Vector<float>(aim, o + n) + rv * vyi).CopyTo(aim, o + n)
                                n <- n + w

                        while n < nl do
                            let rn = sc.Rv.[rj + n]
                            are.[o + n] <- are.[o + n] + rn * yr
                            aim.[o + n] <- aim.[o + n] + rn * yi
                            n <- n + 1

        for l in 1 .. basis.LMax do
            let nl = basis.NCount.[l]

            for m in 1..l do
                let s = if m % 2 = 0 then 1.0 else -1.0
                let op = basis.LBase.[l] + (l + m) * nl
                let om = basis.LBase.[l] + (l - m) * nl

                for n in 0 .. nl - 1 do
                    are.[om + n] <- s * are.[op + n]
                    aim.[om + n] <- -s * aim.[op + n]

    /// Energy Re Σ w Π A from the scratch's atomic base and, when `adjoint`, G_k = ∂P/∂A_k (complex) into Gre/Gim.
    let internal energyAndAdjoint (c: AceContraction) (sc: AceScratch) (adjoint: bool) =
        let are = sc.Are
        let aim = sc.Aim
        let gre = sc.Gre
        let gim = sc.Gim

        if adjoint then
            Array.Clear(gre)
            Array.Clear(gim)

        let mutable e = 0.0
        // order 1
        if c.Indices.Length >= 1 then
            let idx = c.Indices.[0]
            let w = c.Weights.[0]

            for t in 0 .. w.Length - 1 do
                let a = idx.[t]
                e <- e + w.[t] * are.[a]

                if adjoint then
                    gre.[a] <- gre.[a] + w.[t]

        if c.Indices.Length >= 2 then
            let idx = c.Indices.[1]
            let w = c.Weights.[1]

            for t in 0 .. w.Length - 1 do
                let a = idx.[2 * t]
                let b = idx.[2 * t + 1]
                let wt = w.[t]
                e <- e + wt * (are.[a] * are.[b] - aim.[a] * aim.[b])

                if adjoint then
                    gre.[a] <- gre.[a] + wt * are.[b]
                    gim.[a] <- gim.[a] + wt * aim.[b]
                    gre.[b] <- gre.[b] + wt * are.[a]
                    gim.[b] <- gim.[b] + wt * aim.[a]

        if c.Indices.Length >= 3 then
            let idx = c.Indices.[2]
            let w = c.Weights.[2]

            for t in 0 .. w.Length - 1 do
                let a = idx.[3 * t]
                let b = idx.[3 * t + 1]
                let d = idx.[3 * t + 2]
                let wt = w.[t]
                // ab, bd, ad
                let abr = are.[a] * are.[b] - aim.[a] * aim.[b]
                let abi = are.[a] * aim.[b] + aim.[a] * are.[b]
                e <- e + wt * (abr * are.[d] - abi * aim.[d])

                if adjoint then
                    let bdr = are.[b] * are.[d] - aim.[b] * aim.[d]
                    let bdi = are.[b] * aim.[d] + aim.[b] * are.[d]
                    let adr = are.[a] * are.[d] - aim.[a] * aim.[d]
                    let adi = are.[a] * aim.[d] + aim.[a] * are.[d]
                    gre.[a] <- gre.[a] + wt * bdr
                    gim.[a] <- gim.[a] + wt * bdi
                    gre.[b] <- gre.[b] + wt * adr
                    gim.[b] <- gim.[b] + wt * adi
                    gre.[d] <- gre.[d] + wt * abr
                    gim.[d] <- gim.[d] + wt * abi

        if c.Indices.Length >= 4 then
            let idx = c.Indices.[3]
            let w = c.Weights.[3]

            for t in 0 .. w.Length - 1 do
                let a = idx.[4 * t]
                let b = idx.[4 * t + 1]
                let d = idx.[4 * t + 2]
                let f = idx.[4 * t + 3]
                let wt = w.[t]
                // prefix products ab, abd and suffix products df, bdf
                let abr = are.[a] * are.[b] - aim.[a] * aim.[b]
                let abi = are.[a] * aim.[b] + aim.[a] * are.[b]
                let abdr = abr * are.[d] - abi * aim.[d]
                let abdi = abr * aim.[d] + abi * are.[d]
                e <- e + wt * (abdr * are.[f] - abdi * aim.[f])

                if adjoint then
                    let dfr = are.[d] * are.[f] - aim.[d] * aim.[f]
                    let dfi = are.[d] * aim.[f] + aim.[d] * are.[f]
                    let bdfr = are.[b] * dfr - aim.[b] * dfi
                    let bdfi = are.[b] * dfi + aim.[b] * dfr
                    // a: bdf; b: a df; d: ab f; f: abd
                    gre.[a] <- gre.[a] + wt * bdfr
                    gim.[a] <- gim.[a] + wt * bdfi
                    gre.[b] <- gre.[b] + wt * (are.[a] * dfr - aim.[a] * dfi)
                    gim.[b] <- gim.[b] + wt * (are.[a] * dfi + aim.[a] * dfr)
                    gre.[d] <- gre.[d] + wt * (abr * are.[f] - abi * aim.[f])
                    gim.[d] <- gim.[d] + wt * (abr * aim.[f] + abi * are.[f])
                    gre.[f] <- gre.[f] + wt * abdr
                    gim.[f] <- gim.[f] + wt * abdi

        for nu in 5 .. c.Indices.Length do
            let idx = c.Indices.[nu - 1]
            let w = c.Weights.[nu - 1]

            for t in 0 .. w.Length - 1 do
                let o = t * nu
                let wt = w.[t]
                // full product
                let mutable pr = 1.0
                let mutable pi = 0.0

                for s in 0 .. nu - 1 do
                    let k = idx.[o + s]
                    let npr = pr * are.[k] - pi * aim.[k]
                    pi <- pr * aim.[k] + pi * are.[k]
                    pr <- npr

                e <- e + wt * pr

                if adjoint then
                    // product of all factors but s (no division: A may vanish)
                    for s in 0 .. nu - 1 do
                        let mutable qr = 1.0
                        let mutable qi = 0.0

                        for u in 0 .. nu - 1 do
                            if u <> s then
                                let k = idx.[o + u]
                                let nqr = qr * are.[k] - qi * aim.[k]
                                qi <- qr * aim.[k] + qi * are.[k]
                                qr <- nqr

                        let k = idx.[o + s]
                        gre.[k] <- gre.[k] + wt * qr
                        gim.[k] <- gim.[k] + wt * qi

        e

    /// ∂V/∂g_j for every neighbour from the scratch (after `prepare` and `energyAndAdjoint` with adjoint):
    /// ∇_j V = Σ_k Re(G_k ∇φ_k(g_j)), ∇φ_nlm = R_n' Y_lm ĝ + R_n ∇Y_lm, over m >= 0 with the adjoint folded
    /// (G_m + (−1)^m conj G_{−m}: A_{−m} is a function of A_m); the tangential projection of the harmonics' gradient is
    /// applied once per neighbour. Written to grad[3(offset+j) ..]. Overwrites the adjoint (folded in place).
    let internal gradient (basis: AceBasis) (sc: AceScratch) (rs: float[]) (offset: int) (count: int) (grad: float[]) =
        let nh = SphericalHarmonics.positiveCount basis.LMax
        let nr = basis.Radial.Count
        let gre = sc.Gre
        let gim = sc.Gim
        let yre = sc.Yre
        let yim = sc.Yim
        let pre = sc.Pre
        let pim = sc.Pim
        let qre = sc.Qre
        let qim = sc.Qim
        let w = Vector<float>.Count

        for l in 1 .. basis.LMax do
            let nl = basis.NCount.[l]

            for m in 1..l do
                let s = if m % 2 = 0 then 1.0 else -1.0
                let op = basis.LBase.[l] + (l + m) * nl
                let om = basis.LBase.[l] + (l - m) * nl

                for n in 0 .. nl - 1 do
                    gre.[op + n] <- gre.[op + n] + s * gre.[om + n]
                    gim.[op + n] <- gim.[op + n] - s * gim.[om + n]

        for j in 0 .. count - 1 do
            let k = offset + j

            if not sc.Inside.[j] then
                grad.[3 * k] <- 0.0
                grad.[3 * k + 1] <- 0.0
                grad.[3 * k + 2] <- 0.0
            else
                let mutable rad = 0.0
                let mutable ux = 0.0
                let mutable uy = 0.0
                let mutable uz = 0.0
                let rj = j * nr

                for l in 0 .. basis.LMax do
                    let nl = basis.NCount.[l]
                    let h0 = j * nh + l * (l + 1) / 2

                    for m in 0..l do
                        let o = basis.LBase.[l] + (l + m) * nl
                        // C = Σ_n R_n G_nlm and D = Σ_n R_n' G_nlm (complex)
                        let mutable cr = 0.0
                        let mutable ci = 0.0
                        let mutable dr = 0.0
                        let mutable di = 0.0
                        let mutable n = 0

                        if nl >= w then
                            let mutable vcr = Vector<float>.Zero
                            let mutable vci = Vector<float>.Zero
                            let mutable vdr = Vector<float>.Zero
                            let mutable vdi = Vector<float>.Zero

                            while n + w <= nl do
                                let rv = Vector<float>(sc.Rv, rj + n)
                                let dv = Vector<float>(sc.Rd, rj + n)
                                let gr = Vector<float>(gre, o + n)
                                let gi = Vector<float>(gim, o + n)
                                vcr <- vcr + rv * gr
                                vci <- vci + rv * gi
                                vdr <- vdr + dv * gr
                                vdi <- vdi + dv * gi
                                n <- n + w

                            cr <- Vector.Sum vcr
                            ci <- Vector.Sum vci
                            dr <- Vector.Sum vdr
                            di <- Vector.Sum vdi

                        while n < nl do
                            let rn = sc.Rv.[rj + n]
                            let dn = sc.Rd.[rj + n]
                            cr <- cr + rn * gre.[o + n]
                            ci <- ci + rn * gim.[o + n]
                            dr <- dr + dn * gre.[o + n]
                            di <- di + dn * gim.[o + n]
                            n <- n + 1

                        let q = h0 + m
                        rad <- rad + dr * yre.[q] - di * yim.[q]
                        // U += Re(C g), g = (p, i p, q)
                        ux <- ux + cr * pre.[q] - ci * pim.[q]
                        uy <- uy - cr * pim.[q] - ci * pre.[q]
                        uz <- uz + cr * qre.[q] - ci * qim.[q]

                let x = rs.[3 * k]
                let y = rs.[3 * k + 1]
                let z = rs.[3 * k + 2]
                let inv = 1.0 / sqrt (x * x + y * y + z * z)
                let ex = x * inv
                let ey = y * inv
                let ez = z * inv
                let dot = ex * ux + ey * uy + ez * uz
                grad.[3 * k] <- rad * ex + (ux - ex * dot) * inv
                grad.[3 * k + 1] <- rad * ey + (uy - ey * dot) * inv
                grad.[3 * k + 2] <- rad * ez + (uz - ez * dot) * inv

/// A linear ACE model V(g) = Σ_B c_B B(g) for one element as a site potential (paper Section 4.1, (4.1)): the
/// coefficients are contracted into the coupling at construction (`AceModel.contract`); each evaluation computes the
/// atomic base, the contracted energy, its adjoint and the gradient with per-thread scratch (no allocation per atom
/// once the scratch has grown to the largest neighbour count). Safe to call from several threads at once.
[<Sealed>]
type AcePotential(name: string, element: string, basis: AceBasis, coefficients: float[]) =
    let contraction = AceModel.contract basis coefficients
    let scratch = new ThreadLocal<AceScratch>(fun () -> null)

    let get (count: int) =
        let s = scratch.Value

        if isNull s || s.Neighbours < count then
            let s = AceScratch(basis, max count 64)
            scratch.Value <- s
            s
        else
            s

    /// The basis.
    member _.Basis = basis
    /// The coefficients c_B (one per basis function; a copy is not taken: do not mutate).
    member _.Coefficients = coefficients
    /// The contracted coupling.
    member _.Contraction = contraction
    /// The element symbol.
    member _.Element = element

    interface ISitePotential with
        member _.Name = name
        member _.Cutoff = basis.Radial.Spec.RCut
        member _.Elements = [| element |]

        member _.SiteEnergy(_zi, rs, _zs, offset, count) =
            let sc = get count
            AceModel.prepare basis sc rs offset count
            AceModel.energyAndAdjoint contraction sc false

        member _.SiteGradient(_zi, rs, _zs, offset, count, grad) =
            let sc = get count
            AceModel.prepare basis sc rs offset count
            let e = AceModel.energyAndAdjoint contraction sc true
            AceModel.gradient basis sc rs offset count grad
            e
