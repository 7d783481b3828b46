namespace Qmmm.Numerics

open System

/// Computational domains cut from an oriented lattice (Section 2.1, Section 4.2): periodic supercells, finite clusters
/// (balls), the paper's quasi-2D discs (periodic along z with one lattice period), and the defective reference Λ
/// (a vacancy at the core site). Sites are ordered reproducibly: by distance from the origin, then by x, y, z
/// (each rounded to 1e-9 Å), so site 0 is the origin whenever the origin belongs to the domain.
[<RequireQualifiedAccess>]
module Domains =

    /// Sort key of the site order shared by every domain and stencil (`Lattice.siteKey` about the origin).
    let private key (p: Vec3) = Lattice.siteKey Vec3.Zero p

    /// Every lattice site (simulation axes, Å) with lo <= p <= hi componentwise (inclusive, padded by `pad`) that
    /// passes `keep`, with coordinates within `snap` of 0 set to exactly 0, in the order of `key`.
    let private sitesIn (lat: Lattice) (lo: Vec3) (hi: Vec3) (pad: float) (snap: float) (keep: Vec3 -> bool) =
        // bounding box in crystal axes of the 8 corners of the simulation box
        let mutable cmin =
            Vec3(Double.PositiveInfinity, Double.PositiveInfinity, Double.PositiveInfinity)

        let mutable cmax =
            Vec3(Double.NegativeInfinity, Double.NegativeInfinity, Double.NegativeInfinity)

        for c in 0..7 do
            let p =
                Vec3(
                    (if c &&& 1 = 0 then lo.X - pad else hi.X + pad),
                    (if c &&& 2 = 0 then lo.Y - pad else hi.Y + pad),
                    (if c &&& 4 = 0 then lo.Z - pad else hi.Z + pad)
                )

            let q = Lattice.unrotate lat p
            cmin <- Vec3(min cmin.X q.X, min cmin.Y q.Y, min cmin.Z q.Z)
            cmax <- Vec3(max cmax.X q.X, max cmax.Y q.Y, max cmax.Z q.Z)

        let a = lat.A

        let range (l: float) (h: float) =
            int (Math.Floor(l / a)) - 1, int (Math.Ceiling(h / a)) + 1

        let i0, i1 = range cmin.X cmax.X
        let j0, j1 = range cmin.Y cmax.Y
        let k0, k1 = range cmin.Z cmax.Z
        let pts = ResizeArray()

        let snapped (c: float) = if abs c < snap then 0.0 else c

        for i in i0..i1 do
            for j in j0..j1 do
                for k in k0..k1 do
                    let corner = Vec3(float i * a, float j * a, float k * a)

                    for b in lat.Basis do
                        let p = Lattice.rotate lat (corner + b)
                        let p = Vec3(snapped p.X, snapped p.Y, snapped p.Z)

                        if keep p then
                            pts.Add p

        pts.ToArray() |> Array.sortBy key

    let private configuration (lat: Lattice) (sites: Vec3[]) (cell: Cell) =
        let x = Array.zeroCreate (3 * sites.Length)

        for i in 0 .. sites.Length - 1 do
            Vec3.set x i sites.[i]

        { Species = Array.create sites.Length lat.Element
          Positions = x
          Cell = cell }

    /// The periodic supercell of n1 × n2 × n3 lattice periods along the oriented simulation axes (periods from
    /// `Lattice.period`; the orientation must make the axes lattice directions): every lattice site with
    /// 0 <= x < n1 p1, 0 <= y < n2 p2, 0 <= z < n3 p3 exactly once, cell a_i = n_i p_i e_i, pbc T T T. The site count is
    /// n1 n2 n3 p1 p2 p3 × (sites per conventional cell) / a^3.
    let periodic (lat: Lattice) (n1: int) (n2: int) (n3: int) : Configuration =
        Validate.intInRange "n1" 1 100000 n1
        Validate.intInRange "n2" 1 100000 n2
        Validate.intInRange "n3" 1 100000 n3

        let len =
            [| float n1 * Lattice.period lat 0
               float n2 * Lattice.period lat 1
               float n3 * Lattice.period lat 2 |]

        let tol = 1e-8 * lat.A
        // half-open box [0, L): a site within tol below L is the periodic image of one at 0
        let inside (p: Vec3) =
            p.X >= -tol
            && p.X < len.[0] - tol
            && p.Y >= -tol
            && p.Y < len.[1] - tol
            && p.Z >= -tol
            && p.Z < len.[2] - tol

        let sites = sitesIn lat Vec3.Zero (Vec3(len.[0], len.[1], len.[2])) tol tol inside

        let cell =
            Cell.create
                (Vec3(len.[0], 0.0, 0.0))
                (Vec3(0.0, len.[1], 0.0))
                (Vec3(0.0, 0.0, len.[2]))
                [| true; true; true |]

        configuration lat sites cell

    /// The finite cluster Λ^h ∩ B_radius: every lattice site within `radius` (Å) of site 0 at the origin, open
    /// boundaries (pbc F F F). The cell is the cube of side 2·radius along x, y, z (informational only: no axis is
    /// periodic; the atoms are centred at the origin, not at the cube's centre).
    let cluster (lat: Lattice) (radius: float) : Configuration =
        Validate.positive "radius" radius
        Validate.finite "radius" radius
        let r2 = radius * radius * (1.0 + 1e-12)
        let r = Vec3(radius, radius, radius)
        let sites = sitesIn lat (-r) r 0.0 (1e-12 * lat.A) (fun p -> Vec3.dot p p <= r2)
        let side = 2.0 * radius

        let cell =
            Cell.create (Vec3(side, 0.0, 0.0)) (Vec3(0.0, side, 0.0)) (Vec3(0.0, 0.0, side)) [| false; false; false |]

        configuration lat sites cell

    /// The paper's quasi-2D domain (Section 4.2): the lattice sites with x² + y² <= radius² (relative tolerance 1e-12)
    /// and 0 <= z < p, p = `Lattice.period lat 2` (one lattice period along the oriented z axis), periodic along z only
    /// (pbc F F T). Cell: a3 = (0, 0, p); a1 = (2·radius, 0, 0) and a2 = (0, 2·radius, 0), the bounding square of the
    /// disc (informational: x and y are open; the disc is centred at the origin).
    let quasi2D (lat: Lattice) (radius: float) : Configuration =
        Validate.positive "radius" radius
        Validate.finite "radius" radius
        let p = Lattice.period lat 2
        let tol = 1e-8 * lat.A
        let r2 = radius * radius * (1.0 + 1e-12)

        let keep (q: Vec3) =
            q.X * q.X + q.Y * q.Y <= r2 && q.Z >= -tol && q.Z < p - tol

        let sites =
            sitesIn lat (Vec3(-radius, -radius, 0.0)) (Vec3(radius, radius, p)) tol tol keep

        let cell =
            Cell.create
                (Vec3(2.0 * radius, 0.0, 0.0))
                (Vec3(0.0, 2.0 * radius, 0.0))
                (Vec3(0.0, 0.0, p))
                [| false; false; true |]

        configuration lat sites cell

    /// The configuration without atom `index` (a vacancy); the other atoms keep their order and the cell is unchanged.
    let vacancy (config: Configuration) (index: int) : Configuration =
        Validate.intInRange "index" 0 (config.Count - 1) index
        let n = config.Count
        let x = Array.zeroCreate (3 * (n - 1))
        Array.blit config.Positions 0 x 0 (3 * index)
        Array.blit config.Positions (3 * (index + 1)) x (3 * index) (3 * (n - 1 - index))

        { config with
            Species = Array.append config.Species.[.. index - 1] config.Species.[index + 1 ..]
            Positions = x }

    /// Index of the atom nearest to `point` (plain Cartesian distance, no periodic images; ties go to the lower index).
    /// Raises for an empty configuration.
    let nearestSite (config: Configuration) (point: Vec3) : int =
        if config.Count = 0 then
            invalidArg "config" "the configuration has no atoms"

        let mutable best = 0
        let mutable bestD = Double.PositiveInfinity

        for i in 0 .. config.Count - 1 do
            let d = Vec3.get config.Positions i - point
            let d2 = Vec3.dot d d

            if d2 < bestD then
                best <- i
                bestD <- d2

        best

    /// The defective reference Λ = Λ^h ∖ {0} (Section 2.1): removes the atom nearest to the origin (the defect core).
    let withVacancyAtOrigin (config: Configuration) : Configuration =
        vacancy config (nearestSite config Vec3.Zero)

    /// Adds independent uniform random displacements in [-amplitude, amplitude] (Å) to every coordinate, drawn from
    /// `System.Random(seed)` atom by atom in x, y, z order (reproducible for a given seed and .NET version).
    let perturb (seed: int) (amplitude: float) (config: Configuration) : Configuration =
        Validate.finite "amplitude" amplitude

        if amplitude < 0.0 then
            invalidArg "amplitude" (sprintf "amplitude must be non-negative, got %g" amplitude)

        let rng = Random(seed)
        let x = Array.copy config.Positions

        for k in 0 .. x.Length - 1 do
            x.[k] <- x.[k] + amplitude * (2.0 * rng.NextDouble() - 1.0)

        { config with Positions = x }
