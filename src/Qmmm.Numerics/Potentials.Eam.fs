namespace Qmmm.Numerics

open System
open System.Threading

/// A radial function of one scalar argument, written once as inline generic code and instantiated at the three
/// scalar types the library evaluates models with: float (energies), Dual (forces), Jet (derivatives to order 4).
type Radial =
    {
        /// Value on floats.
        F: float -> float
        /// Value and first derivative.
        D: Dual -> Dual
        /// Taylor jet to order 4.
        J: Jet -> Jet
    }

/// An embedded-atom model (Daw–Baskes form): the site energy of atom i of species a is
/// E_i = F_a(Σ_j ρ_ab(r_ij)) + ½ Σ_j φ_ab(r_ij), a pooled site potential V(g) = G(Σ_j ψ(g_j)) with ψ = (φ, ρ) and
/// G(s, t) = ½ s + F(t) (DESIGN §2). Multi-species tables are indexed a * n + b with n = Elements.Length.
type EamModel =
    {
        /// Model name (e.g. "eam-w-marinica").
        Name: string
        /// Element symbols in species-index order.
        Elements: string[]
        /// Cutoff radius (Å); every radial function vanishes for r >= Cutoff.
        Cutoff: float
        /// Pair functions φ_ab (eV), symmetric in (a, b), index a * n + b.
        Pair: Radial[]
        /// Density contributed to a host of species a by a neighbour of species b, ρ_ab, index a * n + b
        /// (eam/alloy: independent of a; eam/fs: depends on both).
        Density: Radial[]
        /// Embedding functions F_a (eV) of the host density, index a.
        Embedding: Radial[]
    }

/// Internal: how the value of a cubic table maps to the radial function (see `ICubicTable`).
type internal CubicRole =
    /// f(r) = cubic(r) (densities).
    | Plain = 0
    /// f(r) = cubic(r) / r (setfl pair tables, which hold r·φ).
    | OverR = 1

/// Internal: a `Radial.F` function that is LAMMPS's per-interval cubic of a table on the uniform grid r_m = (m-1)/Inverse,
/// m = 1 .. Nodes (Potentials.Eam.Setfl.fs builds its closures as such objects). The fast EAM evaluation recognises
/// pair and density functions of this kind sharing one grid and evaluates ρ_ab, ρ_ba and φ_ab of a pair from one
/// interval look-up. Coefficients per node (7, LAMMPS's layout): 0..2 the slope (per unit r) as a quadratic in the
/// local coordinate p ∈ [0, 1], 3..6 the value as a cubic in p; interval m = min(⌊r·Inverse + 1⌋, Nodes-1),
/// p = min(r·Inverse + 1 - m, 1).
type internal ICubicTable =
    /// Number of grid nodes.
    abstract Nodes: int
    /// 1 / grid spacing (1/Å).
    abstract Inverse: float
    /// 7 coefficients per node.
    abstract Coefficients: float[]
    /// How the cubic's value maps to the function's value.
    abstract Role: CubicRole

/// Internal: the fast whole-configuration EAM evaluation (LAMMPS's algorithm on our full neighbour list). Each
/// unordered pair is visited once: the entry (i, j, g) with j > i, or j = i (a periodic self-image) with g
/// lexicographically positive. Pass 1 accumulates the host densities ρ̄ (value-only functions), F(ρ̄) and F'(ρ̄) follow
/// per atom, pass 2 accumulates per pair dE/dr = φ'_ab(r) + F'(ρ̄_i) ρ'_ab(r) + F'(ρ̄_j) ρ'_ba(r) (a, b the species of
/// i, j; ρ_ab the density at a host a from a neighbour b) into forces, virial and ½φ into both site energies.
/// Quantities scattered to neighbours go to per-chunk buffers reduced in chunk order (bit-identical for any thread
/// count). The pair kernels are inlined into the loops (`InlineIfLambda`): no call, closure or allocation per pair.
module internal EamFast =

    /// True when entry (i, j, vector g) of a list represents its unordered pair once: every entry of a half list;
    /// in a full list the entry `Neighbours.keepsHalf` accepts (j > i, or a self-image with g lexicographically > 0).
    let inline isHalf (half: bool) (i: int) (j: int) (g: Vec3) =
        half || Neighbours.keepsHalf i j g.X g.Y g.Z

    /// Pass 1 for forces over atoms lo .. hi-1: buf[i] += ρ to i, buf[j] += ρ to j for every half pair within the
    /// cutoff; `kernel zi zj r` returns (ρ_ab(r), ρ_ba(r)).
    let inline densityPass
        ([<InlineIfLambda>] kernel: int -> int -> float -> struct (float * float))
        (nl: NeighbourList)
        (x: float[])
        (z: int[])
        (cutoff: float)
        (lo: int)
        (hi: int)
        (buf: float[])
        =
        let start = nl.Start
        let index = nl.Index
        let halfList = nl.Half

        for i in lo .. hi - 1 do
            let zi = z.[i]
            let mutable rhoI = 0.0

            for k in start.[i] .. start.[i + 1] - 1 do
                let j = index.[k]

                let g = Neighbours.vector nl x i k

                if isHalf halfList i j g then
                    let r = Vec3.norm g

                    if r < cutoff then
                        let struct (ri, rj) = kernel zi z.[j] r
                        rhoI <- rhoI + ri
                        buf.[j] <- buf.[j] + rj

            buf.[i] <- buf.[i] + rhoI

    /// Pass 1 for energies only: buf[2i] += ρ to i, buf[2i+1] += ½φ, likewise for j; `kernel zi zj r` returns
    /// (ρ_ab(r), ρ_ba(r), φ_ab(r)).
    let inline energyPass
        ([<InlineIfLambda>] kernel: int -> int -> float -> struct (float * float * float))
        (nl: NeighbourList)
        (x: float[])
        (z: int[])
        (cutoff: float)
        (lo: int)
        (hi: int)
        (buf: float[])
        =
        let start = nl.Start
        let index = nl.Index
        let halfList = nl.Half

        for i in lo .. hi - 1 do
            let zi = z.[i]
            let mutable rhoI = 0.0
            let mutable phiI = 0.0

            for k in start.[i] .. start.[i + 1] - 1 do
                let j = index.[k]

                let g = Neighbours.vector nl x i k

                if isHalf halfList i j g then
                    let r = Vec3.norm g

                    if r < cutoff then
                        let struct (ri, rj, phi) = kernel zi z.[j] r
                        let halfPhi = 0.5 * phi
                        rhoI <- rhoI + ri
                        phiI <- phiI + halfPhi
                        buf.[2 * j] <- buf.[2 * j] + rj
                        buf.[2 * j + 1] <- buf.[2 * j + 1] + halfPhi

            buf.[2 * i] <- buf.[2 * i] + rhoI
            buf.[2 * i + 1] <- buf.[2 * i + 1] + phiI

    /// Pass 2 over atoms lo .. hi-1: for every half pair within the cutoff, `kernel zi zj r F'_i F'_j` returns
    /// (φ_ab(r), φ'_ab(r)/r, (F'_i ρ'_ab(r) + F'_j ρ'_ba(r))/r). With `weight i` the share of site i in the energy
    /// (½ for every site of a full evaluation; ½ or 0 for a partial one, whose F' vanish outside the selection),
    /// dE/dr = (w_i + w_j) φ' + F'_i ρ'_ab + F'_j ρ'_ba; buf[4j .. 4j+2] += ∂E/∂y_j, buf[4j+3] += w_j φ (likewise for i
    /// with -∂E/∂y_j and w_i φ), and the virial -Σ (dE/dr / r) g ⊗ g goes to w[wo .. wo+8].
    let inline forcePass
        ([<InlineIfLambda>] weight: int -> float)
        ([<InlineIfLambda>] kernel: int -> int -> float -> float -> float -> struct (float * float * float))
        (nl: NeighbourList)
        (x: float[])
        (z: int[])
        (cutoff: float)
        (lo: int)
        (hi: int)
        (fp: float[])
        (buf: float[])
        (w: float[])
        (wo: int)
        =
        let start = nl.Start
        let index = nl.Index
        let halfList = nl.Half
        let mutable wxx = 0.0
        let mutable wyy = 0.0
        let mutable wzz = 0.0
        let mutable wxy = 0.0
        let mutable wxz = 0.0
        let mutable wyz = 0.0

        for i in lo .. hi - 1 do
            let zi = z.[i]
            let fpi = fp.[i]
            let wi = weight i
            let mutable gxI = 0.0
            let mutable gyI = 0.0
            let mutable gzI = 0.0
            let mutable eI = 0.0

            for k in start.[i] .. start.[i + 1] - 1 do
                let j = index.[k]

                let g = Neighbours.vector nl x i k

                if isHalf halfList i j g then
                    let r = Vec3.norm g

                    if r < cutoff then
                        let struct (phi, dphi, emb) = kernel zi z.[j] r fpi fp.[j]
                        let wj = weight j
                        let c = (wi + wj) * dphi + emb
                        let gx0 = g.X
                        let gy0 = g.Y
                        let gz0 = g.Z
                        // g = y_j + shift - y_i: ∂E/∂y_j = (dE/dr) g/r, ∂E/∂y_i = -(dE/dr) g/r
                        let gx = c * gx0
                        let gy = c * gy0
                        let gz = c * gz0
                        gxI <- gxI - gx
                        gyI <- gyI - gy
                        gzI <- gzI - gz
                        eI <- eI + wi * phi
                        let o = 4 * j
                        buf.[o] <- buf.[o] + gx
                        buf.[o + 1] <- buf.[o + 1] + gy
                        buf.[o + 2] <- buf.[o + 2] + gz
                        buf.[o + 3] <- buf.[o + 3] + wj * phi
                        wxx <- wxx - gx0 * gx
                        wyy <- wyy - gy0 * gy
                        wzz <- wzz - gz0 * gz
                        wxy <- wxy - gx0 * gy
                        wxz <- wxz - gx0 * gz
                        wyz <- wyz - gy0 * gz

            let o = 4 * i
            buf.[o] <- buf.[o] + gxI
            buf.[o + 1] <- buf.[o + 1] + gyI
            buf.[o + 2] <- buf.[o + 2] + gzI
            buf.[o + 3] <- buf.[o + 3] + eI

        w.[wo] <- wxx
        w.[wo + 1] <- wxy
        w.[wo + 2] <- wxz
        w.[wo + 3] <- wxy
        w.[wo + 4] <- wyy
        w.[wo + 5] <- wyz
        w.[wo + 6] <- wxz
        w.[wo + 7] <- wyz
        w.[wo + 8] <- wzz

    /// The pass-2 pair kernel through `Radial.D` closures: (φ, φ'/r, (F'_i ρ'_ab + F'_j ρ'_ba)/r); a neighbour with
    /// ρ'(r) = 0 gets no embedding term even when F' is infinite (as in the generic `SiteGradient`).
    let inline radialForce
        (n: int)
        (pairD: (Dual -> Dual)[])
        (densD: (Dual -> Dual)[])
        (same: bool[])
        (zi: int)
        (zj: int)
        (r: float)
        (fpi: float)
        (fpj: float)
        =
        let ab = zi * n + zj
        let x = Dual.Variable r
        let p = pairD.[ab] x
        let di = (densD.[ab] x).D
        let dj = if same.[ab] then di else (densD.[zj * n + zi] x).D
        let ei = if di = 0.0 then 0.0 else fpi * di
        let ej = if dj = 0.0 then 0.0 else fpj * dj
        struct (p.V, p.D / r, (ei + ej) / r)

    /// The pair loops of one model family (setfl tables, or `Radial` closures), behind one virtual call per chunk.
    [<AbstractClass>]
    type Kernel() =
        /// `densityPass` over atoms lo .. hi-1 into buf.
        abstract Densities: nl: NeighbourList * x: float[] * z: int[] * lo: int * hi: int * buf: float[] -> unit
        /// `energyPass` over atoms lo .. hi-1 into buf.
        abstract Energies: nl: NeighbourList * x: float[] * z: int[] * lo: int * hi: int * buf: float[] -> unit

        /// `forcePass` over atoms lo .. hi-1; site weights ½ when `half` is empty, else half[i] (½ or 0).
        abstract Forces:
            nl: NeighbourList *
            x: float[] *
            z: int[] *
            lo: int *
            hi: int *
            fp: float[] *
            half: float[] *
            buf: float[] *
            w: float[] *
            wo: int ->
                unit

    /// The kernel of any model, through its `Radial` closures: value-only `F` for densities and pair energies, `D`
    /// (value and slope in one call) for the forces. A neighbour with ρ'(r) = 0 gets no embedding term even when F' is
    /// infinite (as in the generic `SiteGradient`).
    [<Sealed>]
    type RadialKernel(m: EamModel) =
        inherit Kernel()
        let n = m.Elements.Length
        let cutoff = m.Cutoff
        let pairF = m.Pair |> Array.map (fun f -> f.F)
        let pairD = m.Pair |> Array.map (fun f -> f.D)
        let densF = m.Density |> Array.map (fun f -> f.F)
        let densD = m.Density |> Array.map (fun f -> f.D)
        // same.[a*n+b]: ρ_ab and ρ_ba are the same function (one evaluation per pair)
        let same =
            Array.init (n * n) (fun ab ->
                let a, b = ab / n, ab % n
                obj.ReferenceEquals(m.Density.[ab], m.Density.[b * n + a]))

        override _.Densities(nl, x, z, lo, hi, buf) =
            densityPass
                (fun zi zj r ->
                    let ab = zi * n + zj
                    let ri = densF.[ab] r

                    if same.[ab] then
                        struct (ri, ri)
                    else
                        struct (ri, densF.[zj * n + zi] r))
                nl
                x
                z
                cutoff
                lo
                hi
                buf

        override _.Energies(nl, x, z, lo, hi, buf) =
            energyPass
                (fun zi zj r ->
                    let ab = zi * n + zj
                    let ri = densF.[ab] r
                    let rj = if same.[ab] then ri else densF.[zj * n + zi] r
                    struct (ri, rj, pairF.[ab] r))
                nl
                x
                z
                cutoff
                lo
                hi
                buf

        override _.Forces(nl, x, z, lo, hi, fp, half, buf, w, wo) =
            let n, pairD, densD, same = n, pairD, densD, same

            if half.Length = 0 then
                forcePass
                    (fun _ -> 0.5)
                    (fun zi zj r fpi fpj -> radialForce n pairD densD same zi zj r fpi fpj)
                    nl
                    x
                    z
                    cutoff
                    lo
                    hi
                    fp
                    buf
                    w
                    wo
            else
                forcePass
                    (fun i -> half.[i])
                    (fun zi zj r fpi fpj -> radialForce n pairD densD same zi zj r fpi fpj)
                    nl
                    x
                    z
                    cutoff
                    lo
                    hi
                    fp
                    buf
                    w
                    wo

    /// Packed tables of a model whose pair and density functions are cubic tables on one grid (setfl): per unordered
    /// species pair t = (a <= b), node by node, pass-1 data (value cubics of ρ_ab, then ρ_ba unless every pair has
    /// ρ_ab = ρ_ba) and pass-2 data (the 7 coefficients of r·φ_ab, the slope quadratics of ρ_ab, then ρ_ba), so one
    /// interval look-up reads one or two cache lines.
    type SetflTables =
        {
            /// Nodes - 1 (the last interval).
            Last: int
            /// 1 / grid spacing.
            Inverse: float
            /// Pass-1 floats per node (4 or 8).
            Stride1: int
            /// Pass-2 floats per node (10 or 13).
            Stride2: int
            /// Species pair a*n+b -> unordered pair index t.
            Types: int[]
            /// Per t: ρ_ab = ρ_ba.
            Same: bool[]
            /// Pass-1 table per t.
            P1: float[][]
            /// Pass-2 table per t.
            P2: float[][]
        }

    /// The packed tables when every pair and density function of `m` is a cubic table on one shared grid.
    let setflTables (m: EamModel) : SetflTables option =
        let n = m.Elements.Length

        let table (f: Radial) (role: CubicRole) =
            match box f.F with
            | :? ICubicTable as t when t.Role = role -> Some t
            | _ -> None

        let pairs = m.Pair |> Array.map (fun f -> table f CubicRole.OverR)
        let dens = m.Density |> Array.map (fun f -> table f CubicRole.Plain)

        if Array.exists Option.isNone pairs || Array.exists Option.isNone dens then
            None
        else
            let pairs = pairs |> Array.map Option.get
            let dens = dens |> Array.map Option.get
            let t0 = pairs.[0]

            let sameGrid (t: ICubicTable) =
                t.Nodes = t0.Nodes
                && t.Inverse = t0.Inverse
                && t.Coefficients.Length = 7 * t.Nodes

            if not (Array.forall sameGrid pairs && Array.forall sameGrid dens) || t0.Nodes < 2 then
                None
            else
                let nodes = t0.Nodes
                let types = Array.zeroCreate (n * n)
                let pairsT = ResizeArray()

                for a in 0 .. n - 1 do
                    for b in a .. n - 1 do
                        types.[a * n + b] <- pairsT.Count
                        types.[b * n + a] <- pairsT.Count
                        pairsT.Add(struct (a, b))

                let sameCoefficients (a: int) (b: int) =
                    let ca = dens.[a * n + b].Coefficients
                    let cb = dens.[b * n + a].Coefficients
                    obj.ReferenceEquals(ca, cb) || ca = cb

                let same = pairsT.ToArray() |> Array.map (fun struct (a, b) -> sameCoefficients a b)
                let allSame = Array.forall id same
                let s1 = if allSame then 4 else 8
                let s2 = if allSame then 10 else 13

                let pack (struct (a, b)) =
                    let rab = dens.[a * n + b].Coefficients
                    let rba = dens.[b * n + a].Coefficients
                    let z2 = pairs.[a * n + b].Coefficients
                    let p1 = Array.zeroCreate (s1 * nodes)
                    let p2 = Array.zeroCreate (s2 * nodes)

                    for q in 0 .. nodes - 1 do
                        for c in 0..3 do
                            p1.[s1 * q + c] <- rab.[7 * q + 3 + c]

                            if not allSame then
                                p1.[s1 * q + 4 + c] <- rba.[7 * q + 3 + c]

                        for c in 0..6 do
                            p2.[s2 * q + c] <- z2.[7 * q + c]

                        for c in 0..2 do
                            p2.[s2 * q + 7 + c] <- rab.[7 * q + c]

                            if not allSame then
                                p2.[s2 * q + 10 + c] <- rba.[7 * q + c]

                    struct (p1, p2)

                let packed = pairsT.ToArray() |> Array.map pack

                Some
                    { Last = nodes - 1
                      Inverse = t0.Inverse
                      Stride1 = s1
                      Stride2 = s2
                      Types = types
                      Same = same
                      P1 = packed |> Array.map (fun struct (p, _) -> p)
                      P2 = packed |> Array.map (fun struct (_, p) -> p) }

    /// Interval (0-based node offset of m-1) and local coordinate of r, as LAMMPS: p = r·inv + 1,
    /// m = min(⌊p⌋, last), p = min(p - m, 1).
    let inline locate (inv: float) (last: int) (r: float) =
        let p = r * inv + 1.0
        let m = if p >= float last then last else int p
        struct (m - 1, min (p - float m) 1.0)

    /// The pass-2 pair kernel of a setfl model: (φ, φ'/r, (F'_i ρ'_ab + F'_j ρ'_ba)/r) from one interval look-up in the
    /// packed tables (see `SetflTables`), with LAMMPS's arithmetic (φ = z2/r, φ' = z2'/r - φ/r).
    let inline setflForce
        (inv: float)
        (last: int)
        (s2: int)
        (types: int[])
        (same: bool[])
        (p2: float[][])
        (n: int)
        (zi: int)
        (zj: int)
        (r: float)
        (fpi: float)
        (fpj: float)
        =
        let ty = types.[zi * n + zj]
        let d = p2.[ty]
        let struct (node, p) = locate inv last r
        let o = s2 * node
        let z2 = ((d.[o + 3] * p + d.[o + 4]) * p + d.[o + 5]) * p + d.[o + 6]
        let z2p = (d.[o] * p + d.[o + 1]) * p + d.[o + 2]
        let da = (d.[o + 7] * p + d.[o + 8]) * p + d.[o + 9]
        let recip = 1.0 / r
        let phi = z2 * recip
        let phip = z2p * recip - phi * recip

        if same.[ty] then
            struct (phi, phip * recip, (fpi * da + fpj * da) * recip)
        else
            let db = (d.[o + 10] * p + d.[o + 11]) * p + d.[o + 12]

            if zi <= zj then
                struct (phi, phip * recip, (fpi * da + fpj * db) * recip)
            else
                struct (phi, phip * recip, (fpi * db + fpj * da) * recip)

    /// The kernel of a setfl model: the tables' cubics evaluated inline, ρ_ab, ρ_ba and φ_ab of a pair from one
    /// interval look-up, exactly the arithmetic of the `Radial` closures of Potentials.Eam.Setfl.fs.
    [<Sealed>]
    type SetflKernel(m: EamModel, t: SetflTables) =
        inherit Kernel()
        let n = m.Elements.Length
        let cutoff = m.Cutoff
        let inv = t.Inverse
        let last = t.Last
        let s1 = t.Stride1
        let s2 = t.Stride2
        let types = t.Types
        let same = t.Same
        let p1 = t.P1
        let p2 = t.P2

        override _.Densities(nl, x, z, lo, hi, buf) =
            // the tables as locals of the loop (the JIT keeps them in registers instead of reloading fields)
            let n, inv, last, s1, types, same, p1 = n, inv, last, s1, types, same, p1

            densityPass
                (fun zi zj r ->
                    let ty = types.[zi * n + zj]
                    let c = p1.[ty]
                    let struct (node, p) = locate inv last r
                    let o = s1 * node
                    let va = ((c.[o] * p + c.[o + 1]) * p + c.[o + 2]) * p + c.[o + 3]

                    if same.[ty] then
                        struct (va, va)
                    else
                        let vb = ((c.[o + 4] * p + c.[o + 5]) * p + c.[o + 6]) * p + c.[o + 7]
                        if zi <= zj then struct (va, vb) else struct (vb, va))
                nl
                x
                z
                cutoff
                lo
                hi
                buf

        override _.Energies(nl, x, z, lo, hi, buf) =
            // the tables as locals of the loop (the JIT keeps them in registers instead of reloading fields)
            let n, inv, last, s1, s2, types, same, p1, p2 =
                n, inv, last, s1, s2, types, same, p1, p2

            energyPass
                (fun zi zj r ->
                    let ty = types.[zi * n + zj]
                    let c = p1.[ty]
                    let d = p2.[ty]
                    let struct (node, p) = locate inv last r
                    let o = s1 * node
                    let od = s2 * node
                    let va = ((c.[o] * p + c.[o + 1]) * p + c.[o + 2]) * p + c.[o + 3]
                    let z2 = ((d.[od + 3] * p + d.[od + 4]) * p + d.[od + 5]) * p + d.[od + 6]
                    let phi = z2 * (1.0 / r)

                    if same.[ty] then
                        struct (va, va, phi)
                    else
                        let vb = ((c.[o + 4] * p + c.[o + 5]) * p + c.[o + 6]) * p + c.[o + 7]

                        if zi <= zj then
                            struct (va, vb, phi)
                        else
                            struct (vb, va, phi))
                nl
                x
                z
                cutoff
                lo
                hi
                buf

        override _.Forces(nl, x, z, lo, hi, fp, half, buf, w, wo) =
            // the tables as locals of the loop (the JIT keeps them in registers instead of reloading fields)
            let n, inv, last, s2, types, same, p2 = n, inv, last, s2, types, same, p2

            if half.Length = 0 then
                forcePass
                    (fun _ -> 0.5)
                    (fun zi zj r fpi fpj -> setflForce inv last s2 types same p2 n zi zj r fpi fpj)
                    nl
                    x
                    z
                    cutoff
                    lo
                    hi
                    fp
                    buf
                    w
                    wo
            else
                forcePass
                    (fun i -> half.[i])
                    (fun zi zj r fpi fpj -> setflForce inv last s2 types same p2 n zi zj r fpi fpj)
                    nl
                    x
                    z
                    cutoff
                    lo
                    hi
                    fp
                    buf
                    w
                    wo

    /// Scratch of one evaluation (reused across evaluations of the same size): per-chunk buffers of 4N floats and
    /// per-atom F'(ρ̄).
    [<Sealed; AllowNullLiteral>]
    type Scratch(n: int, chunks: int) =
        /// Number of atoms.
        member val N = n
        /// Number of chunks.
        member val Chunks = chunks
        /// Per-chunk scatter buffers (4N each).
        member val Buffers: float[][] = Array.init chunks (fun _ -> Array.zeroCreate (4 * n))
        /// F'(ρ̄_i) per atom.
        member val Fp: float[] = Array.zeroCreate n
        /// Share of each site in a partial energy (½ in the selection, 0 outside).
        member val Half: float[] = Array.zeroCreate n
        /// Per-chunk virials (9 each).
        member val Virials: float[] = Array.zeroCreate (9 * chunks)

/// The EAM site potential: E_i = F_a(ρ̄_i) + ½ Σ_j φ_ab(r_ij), ρ̄_i = Σ_j ρ_ab(r_ij) (a = species of i, b of j), and its
/// gradient ∂E_i/∂g_j = (½ φ'_ab(r_j) + F'_a(ρ̄_i) ρ'_ab(r_j)) g_j / r_j.
[<RequireQualifiedAccess>]
module Eam =

    /// Checks the table sizes of a model (n² pair and density functions, n embedding functions) and its cutoff.
    let validate (m: EamModel) =
        let n = m.Elements.Length

        if n = 0 then
            invalidArg "m" (sprintf "EAM model '%s' has no elements" m.Name)

        Validate.positive "m.Cutoff" m.Cutoff
        Validate.length "m.Pair" (n * n) m.Pair
        Validate.length "m.Density" (n * n) m.Density
        Validate.length "m.Embedding" n m.Embedding

    /// The EAM site potential object: the generic protocol (`SiteEnergy`, `SiteGradient`) and the fast
    /// whole-configuration evaluation of `EamFast` that `Evaluate` uses unless `Settings.Generic` is set. Holds one
    /// set of scratch buffers for reuse by the next evaluation of the same size (taken and returned atomically, so
    /// concurrent evaluations are safe: a second concurrent one allocates its own).
    [<Sealed>]
    type private EamPotential(m: EamModel, kernel: EamFast.Kernel) =
        let n = m.Elements.Length
        let cutoff = m.Cutoff
        let pairF = m.Pair |> Array.map (fun f -> f.F)
        let pairD = m.Pair |> Array.map (fun f -> f.D)
        let densF = m.Density |> Array.map (fun f -> f.F)
        let densD = m.Density |> Array.map (fun f -> f.D)
        let embF = m.Embedding |> Array.map (fun f -> f.F)
        let embD = m.Embedding |> Array.map (fun f -> f.D)
        let elements = Array.copy m.Elements

        [<VolatileField>]
        let mutable cache: EamFast.Scratch = null

        /// Scratch for n atoms and the given chunk count: the cached set when it fits, else a new one.
        member private _.Take(atoms: int, chunks: int) =
            let s = Interlocked.Exchange(&cache, null)

            if not (isNull s) && s.N = atoms && s.Chunks = chunks then
                s
            else
                EamFast.Scratch(atoms, chunks)

        /// Returns scratch for the next evaluation.
        member private _.Give(s: EamFast.Scratch) = cache <- s

        interface Evaluate.IFastEvaluation with
            member this.Evaluate(settings, z, x, nl, mask, site, forces, virial) =
                let atoms = z.Length
                let chunks = max 1 (min settings.Chunks atoms)
                let scratch = this.Take(atoms, chunks)
                let buffers = scratch.Buffers
                let fp = scratch.Fp
                let withForces = forces.Length > 0
                let all = mask.Length = 0
                let half = if all then [||] else scratch.Half

                // pass 1: host densities (and, for energies only, half pair energies) per chunk
                Evaluate.forChunks settings atoms (fun c lo hi ->
                    let buf = buffers.[c]

                    if withForces then
                        Array.Clear(buf, 0, atoms)
                        kernel.Densities(nl, x, z, lo, hi, buf)
                    else
                        Array.Clear(buf, 0, 2 * atoms)
                        kernel.Energies(nl, x, z, lo, hi, buf))
                |> ignore

                // per atom: ρ̄ reduced in chunk order, F(ρ̄) and F'(ρ̄)
                Evaluate.forChunks settings atoms (fun _ lo hi ->
                    for i in lo .. hi - 1 do
                        if withForces then
                            let mutable rho = 0.0

                            for c in 0 .. chunks - 1 do
                                rho <- rho + buffers.[c].[i]

                            if all || mask.[i] then
                                let f = embD.[z.[i]] (Dual.Variable rho)
                                site.[i] <- f.V
                                fp.[i] <- f.D

                                if not all then
                                    half.[i] <- 0.5
                            else
                                // outside a partial selection: no energy, no embedding force, no pair share
                                site.[i] <- 0.0
                                fp.[i] <- 0.0
                                half.[i] <- 0.0
                        else
                            let mutable rho = 0.0
                            let mutable phi = 0.0

                            for c in 0 .. chunks - 1 do
                                let b = buffers.[c]
                                rho <- rho + b.[2 * i]
                                phi <- phi + b.[2 * i + 1]

                            site.[i] <- embF.[z.[i]] rho + phi)
                |> ignore

                if withForces then
                    let virials = scratch.Virials

                    // pass 2: forces, half pair energies and the virial per chunk
                    Evaluate.forChunks settings atoms (fun c lo hi ->
                        let buf = buffers.[c]
                        Array.Clear(buf, 0, 4 * atoms)
                        kernel.Forces(nl, x, z, lo, hi, fp, half, buf, virials, 9 * c))
                    |> ignore

                    // reduction in chunk order; F = -∂E/∂y
                    Evaluate.forChunks settings atoms (fun _ lo hi ->
                        for i in lo .. hi - 1 do
                            let mutable gx = 0.0
                            let mutable gy = 0.0
                            let mutable gz = 0.0
                            let mutable e = 0.0

                            for c in 0 .. chunks - 1 do
                                let b = buffers.[c]
                                gx <- gx + b.[4 * i]
                                gy <- gy + b.[4 * i + 1]
                                gz <- gz + b.[4 * i + 2]
                                e <- e + b.[4 * i + 3]

                            forces.[3 * i] <- -gx
                            forces.[3 * i + 1] <- -gy
                            forces.[3 * i + 2] <- -gz
                            site.[i] <- site.[i] + e)
                    |> ignore

                    for a in 0..8 do
                        let mutable s = 0.0

                        for c in 0 .. chunks - 1 do
                            s <- s + virials.[9 * c + a]

                        virial.[a] <- s

                this.Give scratch

        interface ISitePotential with
            member _.Name = m.Name
            member _.Cutoff = cutoff
            member _.Elements = elements

            member _.SiteEnergy(zi, rs, zs, offset, count) =
                let mutable rho = 0.0
                let mutable phi = 0.0
                let row = zi * n

                for k in offset .. offset + count - 1 do
                    let x = rs.[3 * k]
                    let y = rs.[3 * k + 1]
                    let z = rs.[3 * k + 2]
                    let r = Math.Sqrt(x * x + y * y + z * z)

                    if r < cutoff then
                        let ab = row + zs.[k]
                        rho <- rho + densF.[ab] r
                        phi <- phi + pairF.[ab] r

                embF.[zi] rho + 0.5 * phi

            member _.SiteGradient(zi, rs, zs, offset, count, grad) =
                let mutable rho = 0.0
                let mutable phi = 0.0
                let row = zi * n

                for k in offset .. offset + count - 1 do
                    let x = rs.[3 * k]
                    let y = rs.[3 * k + 1]
                    let z = rs.[3 * k + 2]
                    let r = Math.Sqrt(x * x + y * y + z * z)

                    if r < cutoff then
                        let ab = row + zs.[k]
                        let d = densD.[ab] (Dual.Variable r)
                        let p = pairD.[ab] (Dual.Variable r)
                        rho <- rho + d.V
                        phi <- phi + p.V
                        grad.[3 * k] <- d.D
                        grad.[3 * k + 1] <- p.D
                        grad.[3 * k + 2] <- r
                    else
                        grad.[3 * k + 2] <- 0.0

                let f = embD.[zi] (Dual.Variable rho)
                let fp = f.D

                for k in offset .. offset + count - 1 do
                    let r = grad.[3 * k + 2]

                    if r > 0.0 then
                        let dr = grad.[3 * k]
                        let emb = if dr = 0.0 then 0.0 else fp * dr
                        let c = (0.5 * grad.[3 * k + 1] + emb) / r
                        grad.[3 * k] <- c * rs.[3 * k]
                        grad.[3 * k + 1] <- c * rs.[3 * k + 1]
                        grad.[3 * k + 2] <- c * rs.[3 * k + 2]
                    else
                        grad.[3 * k] <- 0.0
                        grad.[3 * k + 1] <- 0.0
                        grad.[3 * k + 2] <- 0.0

                f.V + 0.5 * phi

    /// The model as a site potential (the protocol of Potentials.SitePotential.fs). Energies run on the float
    /// instances of the radial functions; gradients on the Dual instances, in two passes over the neighbours: the
    /// first accumulates ρ̄ and stores ρ'(r), φ'(r) and r in the caller's `grad` slots of each neighbour, the second
    /// turns them into the vector gradient (no allocation per call). Neighbours with r >= Cutoff contribute nothing.
    /// A neighbour with ρ'(r) = 0 gets no embedding term even when F'(ρ̄) is infinite (e.g. -a√ρ at ρ̄ = 0), so an
    /// isolated or nearly isolated atom yields finite forces.
    ///
    /// `Evaluate.all`, `siteEnergies`, `energy`, `partial` (and their `With` forms) evaluate this potential with the
    /// fast EAM algorithm (each pair once, as LAMMPS: densities in a first pass, forces and virial in a second; setfl
    /// tables through one interval look-up per pair for ρ and φ together), unless `Settings.Generic` is set; both
    /// paths agree up to rounding. The object keeps the scratch buffers of its last evaluation (about 4·Chunks·N
    /// floats) for the next one of the same size.
    let potential (m: EamModel) : ISitePotential =
        validate m

        let kernel: EamFast.Kernel =
            match EamFast.setflTables m with
            | Some t -> EamFast.SetflKernel(m, t)
            | None -> EamFast.RadialKernel(m)

        EamPotential(m, kernel) :> ISitePotential
