namespace Qmmm.Numerics

open System

/// The nearest-neighbour set N(ℓ) of (2.3) and the stencil norms |Du(ℓ)|_N and ‖Du‖_{ℓ²_N} of (2.2).
[<RequireQualifiedAccess>]
module Stencil =

    /// Sort key of the site order shared by every domain and stencil (`Lattice.siteKey` about the origin).
    let private key (p: Vec3) = Lattice.siteKey Vec3.Zero p

    /// Adds v to `acc` unless a vector within `tol` of it is already there.
    let private addUnique (acc: ResizeArray<Vec3>) (tol: float) (v: Vec3) =
        if not (acc.Exists(fun w -> Vec3.norm (w - v) < tol)) then
            acc.Add v

    /// The Bravais case of (2.3) in crystal axes: the union of ±columns of all bases Ã of the translation lattice with
    /// minimal ‖Ã‖₁ = Σ_i |Ã e_i|.
    let private minimalBasisVectors (lat: Lattice) : Vec3[] =
        let a = lat.A
        let tol = 1e-9 * a
        let vprim = a * a * a / float (Lattice.translationOffsets lat).Length

        let rec search (radius: float) =
            let m = int (Math.Ceiling(radius / a)) + 1
            // one representative of each ± pair with 0 < |t| <= radius
            let ts =
                Lattice.translationsInBox lat m
                |> Array.filter (fun t ->
                    let r = Vec3.norm t

                    r > tol
                    && r <= radius + tol
                    && (t.X > tol || (abs t.X <= tol && (t.Y > tol || (abs t.Y <= tol && t.Z > 0.0)))))
                |> Array.sortBy key

            let len = ts |> Array.map Vec3.norm
            let lambda1 = Array.min len
            let mutable best = Double.PositiveInfinity
            let minimal = ResizeArray<int * int * int>()

            for i in 0 .. ts.Length - 1 do
                for j in i + 1 .. ts.Length - 1 do
                    let c = Vec3.cross ts.[i] ts.[j]

                    for k in j + 1 .. ts.Length - 1 do
                        // lattice vectors with |det| = primitive volume form a basis of the lattice
                        if abs (abs (Vec3.dot ts.[k] c) - vprim) < 1e-9 * vprim then
                            let s = len.[i] + len.[j] + len.[k]

                            if s < best - tol then
                                best <- s
                                minimal.Clear()

                            if abs (s - best) <= tol then
                                minimal.Add((i, j, k))

            // every column of a minimal basis is shorter than best - 2 λ1: complete once that is within the radius
            if Double.IsFinite best && best - 2.0 * lambda1 <= radius then
                let acc = ResizeArray()

                for (i, j, k) in minimal do
                    for t in [ ts.[i]; ts.[j]; ts.[k] ] do
                        addUnique acc tol t
                        addUnique acc tol (-t)

                acc.ToArray()
            else
                search (max (2.0 * radius) (best - 2.0 * lambda1 + tol))

        search a

    /// N(ℓ) − ℓ for the homogeneous lattice, in simulation axes (Å), sorted by length then x, y, z. For a Bravais
    /// lattice (bcc, fcc) this is (2.3): the union of ±Ã e_i over the bases Ã of Λ^h = A Z^3 minimising ‖Ã‖₁, where
    /// we read ‖Ã‖₁ as Σ_i |Ã e_i|, the ℓ¹ norm of the column lengths (rotation invariant; the entrywise ℓ¹ norm in
    /// crystal axes would depend on the orientation and give 14 vectors for bcc). This yields the 8 nearest neighbours
    /// of bcc and the 12 of fcc. For a lattice with a basis (diamond) (2.3) does not apply; we use the nearest-neighbour
    /// shell of site 0 (the 4 bonds, as the paper's code family does); the sites of the other sublattice have the
    /// opposite vectors.
    let nearestNeighbourVectors (lat: Lattice) : Vec3[] =
        let crystal =
            if Lattice.isBravais lat then
                minimalBasisVectors lat
            else
                let around =
                    Lattice.stencil (Lattice.orient [| 1; 0; 0 |] [| 0; 1; 0 |] [| 0; 0; 1 |] lat) lat.A

                let r1 = around |> Array.map Vec3.norm |> Array.min
                around |> Array.filter (fun p -> Vec3.norm p <= r1 * (1.0 + 1e-9))

        crystal |> Array.map (Lattice.rotate lat) |> Array.sortBy key

    /// The bonds of (2.3) realised on a reference configuration Λ (perfect, defective, finite, quasi-2D or periodic,
    /// in the orientation of `lat`): for each site ℓ, the sites ℓ + ρ present in Λ with ρ ∈ ±(N − ℓ) of
    /// `nearestNeighbourVectors` (periodic images included), matched to a tolerance of a quarter of the gap between
    /// the nearest-neighbour distance and the next lattice distance. Sites missing from Λ (vacancy, free surface)
    /// simply have fewer bonds. Returned as a neighbour list (rows sorted as in `Neighbours.build`).
    let bonds (reference: Configuration) (lat: Lattice) : NeighbourList =
        let rho = nearestNeighbourVectors lat
        let all = Array.append rho (Array.map (fun (v: Vec3) -> -v) rho)
        let r1 = all |> Array.map Vec3.norm |> Array.max
        // next distance between any two lattice sites beyond r1 (from every basis site, to cover all sublattices)
        let r2 =
            lat.Basis
            |> Array.collect (fun b ->
                Lattice.ball lat (Lattice.rotate lat b) (2.0 * lat.A)
                |> Array.map (fun p -> Vec3.norm (p - Lattice.rotate lat b)))
            |> Array.filter (fun d -> d > r1 * (1.0 + 1e-9))
            |> Array.min

        let tol = 0.25 * (r2 - r1)
        let nl = Neighbours.build (r1 + tol) reference
        let n = nl.Count
        let start = Array.zeroCreate (n + 1)
        let keep = Array.zeroCreate nl.Pairs
        let vs = Neighbours.vectors nl reference.Positions

        for e in 0 .. nl.Pairs - 1 do
            let v = Vec3.get vs e
            let mutable hit = false

            for r in all do
                let d = v - r

                if Vec3.dot d d < tol * tol then
                    hit <- true

            keep.[e] <- hit

        for i in 0 .. n - 1 do
            let mutable c = 0

            for e in nl.Start.[i] .. nl.Start.[i + 1] - 1 do
                if keep.[e] then
                    c <- c + 1

            start.[i + 1] <- start.[i] + c

        let m = start.[n]
        let index = Array.zeroCreate m
        let image = Array.zeroCreate m
        let mutable k = 0

        for e in 0 .. nl.Pairs - 1 do
            if keep.[e] then
                index.[k] <- nl.Index.[e]
                image.[k] <- nl.Image.[e]
                k <- k + 1

        { nl with
            Start = start
            Index = index
            Image = image }

    /// The site stencil norms |Du(ℓ)|_N = (Σ_{ρ ∈ N(ℓ)−ℓ} |u(ℓ+ρ) − u(ℓ)|²)^{1/2} of (2.2) for every site ℓ, with N(ℓ)
    /// given by `bonds` and u a displacement field (3 floats per site, Å).
    let siteNorms (bonds: NeighbourList) (u: float[]) : float[] =
        let n = bonds.Count

        if u.Length <> 3 * n then
            invalidArg "u" (sprintf "u must hold 3 floats per site (%d sites), got %d entries" n u.Length)

        Validate.allFinite "u" u
        let out = Array.zeroCreate n

        for i in 0 .. n - 1 do
            let mutable s = 0.0

            for e in bonds.Start.[i] .. bonds.Start.[i + 1] - 1 do
                let j = bonds.Index.[e]

                for k in 0..2 do
                    let d = u.[3 * j + k] - u.[3 * i + k]
                    s <- s + d * d

            out.[i] <- Math.Sqrt s

        out

    /// The norm ‖Du‖_{ℓ²_N} = (Σ_ℓ |Du(ℓ)|²_N)^{1/2} of (2.2) over the sites of `bonds` (u: 3 floats per site, Å).
    let norm (bonds: NeighbourList) (u: float[]) : float =
        let s = siteNorms bonds u
        let mutable acc = 0.0

        for i in 0 .. s.Length - 1 do
            acc <- acc + s.[i] * s.[i]

        Math.Sqrt acc
