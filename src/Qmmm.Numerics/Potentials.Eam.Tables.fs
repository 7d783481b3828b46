namespace Qmmm.Numerics

open System

/// Internal: the fast EAM kernel of setfl models — their cubic tables packed per species pair so that one interval
/// look-up gives ρ_ab, ρ_ba and φ_ab of a pair, evaluated inline in the passes of `EamFast`.
module internal EamTables =

    open EamFast

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
