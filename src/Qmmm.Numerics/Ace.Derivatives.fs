namespace Qmmm.Numerics

open System
open System.Threading.Tasks

/// Exact derivatives δʲB(0) of every ACE basis function at the homogeneous lattice, all B at once (issue item 3), by
/// the basis's own product structure (the foundation's pooled engine cannot carry 175–1,274 channels):
///
///   B = Re Σ_s U_s Π_{t=1..ν} A_{k_t},   A_k = Σ_n φ_k(g_n),
///   ∂ʲB/∂g_{n_1 a_1}···∂g_{n_j a_j} = Re Σ_s U_s Σ_π Σ_f Π_{b∈π} ∂^{|b|}φ_{k_{f(b)}}(ρ_{n_b}) · Π_{t∉f(π)} A⁰_{k_t}
///
/// (general Leibniz rule): π runs over the set partitions of the derivative slots 1..j whose blocks each hold one
/// neighbour n_b, f over the injective maps of the blocks to factor positions t, A⁰ is the atomic base of the perfect
/// lattice. The derivatives of φ_nlm = R_n Y_lm at each lattice neighbour come from 3-variable `Taylor` jets through the
/// generic radial basis and harmonics; the complement products Π_{t∉S} A⁰ are tabulated once per term and subset S.
/// Cost per canonical tuple: Σ_terms Σ_π P(ν, |π|) 3ʲ complex products; tuples run in parallel (each written by one
/// thread, so results do not depend on the thread count).
[<RequireQualifiedAccess>]
module AceDerivatives =

    /// Set partitions of the positions 0..j−1 (restricted growth strings), each as an array of blocks (positions
    /// ascending, blocks by first position).
    let partitions (j: int) : int[][][] =
        let out = ResizeArray<int[][]>()
        let a = Array.zeroCreate j

        let rec go (p: int) (m: int) =
            if p = j then
                out.Add(
                    Array.init m (fun b ->
                        [| for q in 0 .. j - 1 do
                               if a.[q] = b then
                                   yield q |])
                )
            else
                for b in 0..m do
                    a.[p] <- b
                    go (p + 1) (if b = m then m + 1 else m)

        if j > 0 then
            go 0 0

        out.ToArray()

    /// Ordered selections of `m` distinct positions out of 0..ν−1 (ν!/(ν−m)! arrays).
    let injections (nu: int) (m: int) : int[][] =
        let out = ResizeArray<int[]>()
        let cur = Array.zeroCreate m
        let used = Array.zeroCreate nu

        let rec go (p: int) =
            if p = m then
                out.Add(Array.copy cur)
            else
                for t in 0 .. nu - 1 do
                    if not used.[t] then
                        used.[t] <- true
                        cur.[p] <- t
                        go (p + 1)
                        used.[t] <- false

        go 0
        out.ToArray()

    /// Derivatives of every one-particle function φ_k (real and imaginary parts) at the neighbour vector v, orders
    /// 1..order: element m − 1 holds k-major blocks of the 3^m ordered derivatives (a_1 slowest).
    let oneParticleDerivatives (basis: AceBasis) (v: Vec3) (order: int) : struct (float[][] * float[][]) =
        let g = Taylor.Variables(order, [| v.X; v.Y; v.Z |])
        let struct (are, aim) = AceBasis.atomicBase basis g 1

        let take (xs: Taylor[]) =
            Array.init order (fun mm ->
                let m = mm + 1
                let b = pown 3 m
                let out = Array.zeroCreate (basis.ACount * b)

                for k in 0 .. basis.ACount - 1 do
                    let x = xs.[k]

                    if not x.IsShapeless then
                        x.DerivativeTensorInto(m, out, k * b)

                out)

        struct (take are, take aim)

    /// δʲB(0) of every basis function (coefficients None) or of the linear model Σ c_B B (Some c, one tensor).
    let private compute
        (basis: AceBasis)
        (coefficients: float[] option)
        (stencil: Vec3[])
        (order: int)
        (radius: float)
        : SiteTensor[] =
        Validate.intInRange "order" 1 4 order

        coefficients
        |> Option.iter (fun c -> Validate.length "coefficients" basis.Size c)

        let template = SiteTensor.create order stencil radius
        let nt = SiteTensor.count template
        let nc = pown 3 order
        // lattice atomic base A⁰
        let rs = stencil |> Array.collect (fun v -> [| v.X; v.Y; v.Z |])
        let struct (a0r, a0i) = AceBasis.atomicBase basis rs stencil.Length
        // one-particle derivatives at the covered sites
        let derivs = Array.zeroCreate stencil.Length

        for s in template.Sites do
            derivs.[s] <- oneParticleDerivatives basis stencil.[s] order

        let parts = partitions order
        // per partition and block: the sub-component index of each full component c
        let subIndex =
            parts
            |> Array.map (fun pi ->
                pi
                |> Array.map (fun blk ->
                    Array.init nc (fun c ->
                        let mutable sub = 0

                        for p in blk do
                            let digit = (c / pown 3 (order - 1 - p)) % 3
                            sub <- 3 * sub + digit

                        sub)))

        let maxNu = basis.Spec.Order

        let inj =
            Array.init (maxNu + 1) (fun nu ->
                Array.init (order + 1) (fun m -> if m <= nu then injections nu m else [||]))

        // complement products Π_{t ∉ S} A⁰ per block column and subset S (bit mask over positions)
        let complements =
            basis.Blocks
            |> Array.map (fun blk ->
                let nu = blk.Order
                let nm = 1 <<< nu
                let re = Array.zeroCreate (blk.Columns * nm)
                let im = Array.zeroCreate (blk.Columns * nm)

                for c in 0 .. blk.Columns - 1 do
                    for mask in 0 .. nm - 1 do
                        let mutable pr = 1.0
                        let mutable pim = 0.0

                        for t in 0 .. nu - 1 do
                            if (mask >>> t) &&& 1 = 0 then
                                let k = blk.ColumnIndices.[c * nu + t]
                                let npr = pr * a0r.[k] - pim * a0i.[k]
                                pim <- pr * a0i.[k] + pim * a0r.[k]
                                pr <- npr

                        re.[c * nm + mask] <- pr
                        im.[c * nm + mask] <- pim

                struct (re, im))

        let out =
            Array.init basis.Size (fun _ ->
                { template with
                    Values = Array.zeroCreate (nt * nc) })

        let body (ti: int) =
            let tuple = Array.sub template.Tuples (ti * order) order
            let xr = Array.zeroCreate nc
            let xi = Array.zeroCreate nc
            let tr = Array.zeroCreate nc
            let tim = Array.zeroCreate nc
            // partitions whose blocks each hold one neighbour
            let valid =
                [| for q in 0 .. parts.Length - 1 do
                       if
                           parts.[q]
                           |> Array.forall (fun blk -> blk |> Array.forall (fun p -> tuple.[p] = tuple.[blk.[0]]))
                       then
                           yield q |]

            for bi in 0 .. basis.Blocks.Length - 1 do
                let blk = basis.Blocks.[bi]
                let nu = blk.Order
                let nm = 1 <<< nu
                let struct (cre, cim) = complements.[bi]

                for col in 0 .. blk.Columns - 1 do
                    Array.Clear(xr)
                    Array.Clear(xi)
                    let mutable any = false

                    for q in valid do
                        let pi = parts.[q]
                        let mb = pi.Length

                        if mb <= nu then
                            any <- true

                            for f in inj.[nu].[mb] do
                                let mutable mask = 0

                                for b in 0 .. mb - 1 do
                                    mask <- mask ||| (1 <<< f.[b])

                                let wr = cre.[col * nm + mask]
                                let wi = cim.[col * nm + mask]

                                for c in 0 .. nc - 1 do
                                    tr.[c] <- wr
                                    tim.[c] <- wi
                                // multiply in one block at a time (lookups hoisted out of the component loop)
                                for bb in 0 .. mb - 1 do
                                    let blkPos = pi.[bb]
                                    let sz = blkPos.Length
                                    let struct (dre, dim) = derivs.[tuple.[blkPos.[0]]]
                                    let dr = dre.[sz - 1]
                                    let di = dim.[sz - 1]
                                    let k0 = blk.ColumnIndices.[col * nu + f.[bb]] * pown 3 sz
                                    let sub = subIndex.[q].[bb]

                                    for c in 0 .. nc - 1 do
                                        let idx = k0 + sub.[c]
                                        let pr = tr.[c]
                                        let pm = tim.[c]
                                        tr.[c] <- pr * dr.[idx] - pm * di.[idx]
                                        tim.[c] <- pr * di.[idx] + pm * dr.[idx]

                                for c in 0 .. nc - 1 do
                                    xr.[c] <- xr.[c] + tr.[c]
                                    xi.[c] <- xi.[c] + tim.[c]

                    if any && coefficients.IsSome then
                        // the linear model: w = Σ_d c_d U[d, col] into the one tensor
                        let c = coefficients.Value
                        let mutable w = 0.0

                        for d in 0 .. blk.Dimension - 1 do
                            w <- w + c.[blk.First + d] * blk.Coupling.[d * blk.Columns + col]

                        if w <> 0.0 then
                            let v = out.[0].Values

                            for cc in 0 .. nc - 1 do
                                v.[ti * nc + cc] <- v.[ti * nc + cc] + w * xr.[cc]
                    elif any then
                        for d in 0 .. blk.Dimension - 1 do
                            let u = blk.Coupling.[d * blk.Columns + col]

                            if u <> 0.0 then
                                let v = out.[blk.First + d].Values

                                for c in 0 .. nc - 1 do
                                    v.[ti * nc + c] <- v.[ti * nc + c] + u * xr.[c]

        Parallel.For(0, nt, Action<int> body) |> ignore
        out

    /// δʲB(0), j = `order` (1..4), of every basis function B_k at the homogeneous lattice with neighbour vectors
    /// `stencil` (Å; all lattice neighbours within the cutoff, the site at the origin excluded), over the canonical
    /// tuples of the stencil sites within `radius` (Å): one `SiteTensor` per basis function (element k = column k of
    /// the design), in the layout of Derivatives.Tensors.fs (units of B per Å^j).
    let siteTensors (basis: AceBasis) (stencil: Vec3[]) (order: int) (radius: float) : SiteTensor[] =
        compute basis None stencil order radius

    /// δʲV(0) = Σ_B c_B δʲB(0) of the linear model `p` at the homogeneous lattice (eV/Å^j), computed directly with the
    /// coefficients folded into the coupling (one tensor, not #B columns); arguments as `siteTensors`.
    let modelTensor (p: AcePotential) (stencil: Vec3[]) (order: int) (radius: float) : SiteTensor =
        (compute p.Basis (Some p.Coefficients) stencil order radius).[0]

    /// The Cauchy–Born derivatives ∂_F^j W_cb(I) of every basis function, W_cb(F) = B((F − I)·ρ + ρ) = B(F ρ) over the
    /// lattice neighbours, by the contraction (3.5) of its site tensor (`SiteTensor.cauchyBorn`): element k is the
    /// 9^j array of basis function k (indices (a_1 b_1 ... a_j b_j) row-major). The tensors must cover the cutoff
    /// (radius >= rcut) for this to be the derivative of W_cb.
    let cauchyBorn (tensors: SiteTensor[]) : float[][] =
        tensors |> Array.map SiteTensor.cauchyBorn
