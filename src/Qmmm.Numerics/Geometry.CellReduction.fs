namespace Qmmm.Numerics

open System

/// Lattice reduction of the periodic cell vectors (LLL, Lenstra–Lenstra–Lovász 1982, with δ = 0.99): a skewed cell
/// is replaced by nearly orthogonal vectors spanning the same lattice, so a neighbour search needs few periodic images.
/// Physics does not change: the periodic images are the same set of points, so energies, forces and virials agree
/// with the unreduced cell up to rounding.
[<RequireQualifiedAccess>]
module CellReduction =

    /// LLL-reduces the vectors (δ = 0.99) by integer operations (b_k ← b_k − q b_j, swaps); None when it does not
    /// finish within 1,000 steps (floating-point failure on absurd vectors).
    let private lll (basis: Vec3[]) : Vec3[] option =
        let b = Array.copy basis
        let m = b.Length

        let gramSchmidt () =
            let bs = Array.zeroCreate m
            let mu = Array2D.zeroCreate m m

            for i in 0 .. m - 1 do
                let mutable v = b.[i]

                for j in 0 .. i - 1 do
                    mu.[i, j] <- Vec3.dot b.[i] bs.[j] / Vec3.dot bs.[j] bs.[j]
                    v <- v - mu.[i, j] * bs.[j]

                bs.[i] <- v

            bs, mu

        let mutable k = 1
        let mutable steps = 0

        while k < m && steps < 1000 do
            steps <- steps + 1

            for j in k - 1 .. -1 .. 0 do
                let _, mu = gramSchmidt ()
                let q = Math.Round mu.[k, j]

                if q <> 0.0 then
                    b.[k] <- b.[k] - q * b.[j]

            let bs, mu = gramSchmidt ()

            if
                Vec3.dot bs.[k] bs.[k]
                >= (0.99 - mu.[k, k - 1] * mu.[k, k - 1]) * Vec3.dot bs.[k - 1] bs.[k - 1]
            then
                k <- k + 1
            else
                let t = b.[k]
                b.[k] <- b.[k - 1]
                b.[k - 1] <- t
                k <- max (k - 1) 1

        if k >= m then Some b else None

    /// Volume (3 vectors), area (2) or 1 of the parallelepiped spanned by the vectors.
    let private span (v: Vec3[]) =
        match v.Length with
        | 0
        | 1 -> 1.0
        | 2 -> Vec3.norm (Vec3.cross v.[0] v.[1])
        | _ -> abs (Vec3.dot v.[0] (Vec3.cross v.[1] v.[2]))

    /// Orthogonality defect of the periodic vectors: Π |a_k| / (volume, or area, of the parallelepiped they span)
    /// ≥ 1, = 1 for orthogonal vectors; 1 for fewer than two periodic axes, +∞ for degenerate vectors.
    let defect (cell: Cell) : float =
        let p = [| 0..2 |] |> Array.filter (fun k -> cell.Pbc.[k])
        let v = p |> Array.map (Cell.vector cell)
        let span = span v

        let lengths = v |> Array.fold (fun s a -> s * Vec3.norm a) 1.0

        if v.Length < 2 then 1.0
        elif span > 0.0 then lengths / span
        else Double.PositiveInfinity

    /// The cell with its periodic vectors LLL-reduced when their orthogonality defect exceeds `maxDefect` (e.g. 2);
    /// otherwise (and for fewer than two periodic axes, or when the reduction fails or does not lower the defect) the
    /// cell itself, unchanged. Open axes keep their vectors; periodic vectors keep their slots (a_k is replaced by a
    /// reduced vector, in the order LLL returns them).
    let reduce (maxDefect: float) (cell: Cell) : Cell =
        let p = [| 0..2 |] |> Array.filter (fun k -> cell.Pbc.[k])
        let d = defect cell

        if p.Length < 2 || not (d > maxDefect) || Double.IsPositiveInfinity d then
            cell
        else
            match lll (p |> Array.map (Cell.vector cell)) with
            | None -> cell
            | Some reduced ->
                let vectors = Array.copy cell.Vectors

                p
                |> Array.iteri (fun r k ->
                    vectors.[3 * k] <- reduced.[r].X
                    vectors.[3 * k + 1] <- reduced.[r].Y
                    vectors.[3 * k + 2] <- reduced.[r].Z)

                let candidate = { cell with Vectors = vectors }
                // same lattice: the spanned volume (or area) is unchanged by unimodular operations; and it must help
                let before = span (p |> Array.map (Cell.vector cell))
                let after = span reduced
                let sameVolume = abs (after - before) <= 1e-9 * before

                if sameVolume && defect candidate < d then
                    candidate
                else
                    cell

    /// The configuration with its cell reduced by `reduce maxDefect` (positions unchanged: the periodic images are the
    /// same points, so every energy, force and virial is the same up to rounding).
    let reduceConfiguration (maxDefect: float) (config: Configuration) : Configuration =
        let cell = reduce maxDefect config.Cell

        if obj.ReferenceEquals(cell, config.Cell) then
            config
        else
            { config with Cell = cell }
