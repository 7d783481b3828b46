namespace Qmmm.Numerics

open System
open System.Threading

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
