namespace Qmmm.Numerics

open System

/// The kinds of crystal lattice Qmmm builds.
[<RequireQualifiedAccess>]
type LatticeKind =
    /// Body-centred cubic (2 sites per conventional cell), e.g. W.
    | Bcc
    /// Face-centred cubic (4 sites per conventional cell).
    | Fcc
    /// Diamond cubic (8 sites per conventional cell), e.g. Si.
    | Diamond

    /// The lower-case name used in files and on the command line ("bcc", "fcc", "diamond").
    member k.Name =
        match k with
        | Bcc -> "bcc"
        | Fcc -> "fcc"
        | Diamond -> "diamond"

    /// Every kind, in the order bcc, fcc, diamond.
    static member All = [| Bcc; Fcc; Diamond |]

    /// The kind named `name` ("bcc", "fcc", "diamond"; case-insensitive), or None.
    static member TryParse(name: string) =
        LatticeKind.All
        |> Array.tryFind (fun k -> String.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))

/// A Bravais lattice with a basis, in crystal axes: conventional cell a * I (cubic lattices) and basis offsets.
/// An orientation (three Miller directions) maps the crystal axes onto the x, y, z axes of a simulation.
type Lattice =
    {
        /// Element symbol of every site.
        Element: string
        /// Lattice kind.
        Kind: LatticeKind
        /// Conventional cubic lattice constant a (Å).
        A: float
        /// Basis offsets in Cartesian crystal coordinates (Å), the first one at the origin.
        Basis: Vec3[]
        /// Rotation from crystal to simulation axes: rows are the unit vectors of the simulation x, y, z axes
        /// in crystal coordinates (identity for x=[100], y=[010], z=[001]).
        Rotation: float[]
    }

/// Constructors and basic queries on lattices.
[<RequireQualifiedAccess>]
module Lattice =

    let private identity = [| 1.0; 0.0; 0.0; 0.0; 1.0; 0.0; 0.0; 0.0; 1.0 |]

    /// Body-centred cubic lattice with constant a (Å), crystal axes.
    let bcc (element: string) (a: float) =
        Validate.positive "a" a

        { Element = element
          Kind = LatticeKind.Bcc
          A = a
          Basis = [| Vec3.Zero; Vec3(0.5 * a, 0.5 * a, 0.5 * a) |]
          Rotation = identity }

    /// Face-centred cubic lattice with constant a (Å), crystal axes.
    let fcc (element: string) (a: float) =
        Validate.positive "a" a
        let h = 0.5 * a

        { Element = element
          Kind = LatticeKind.Fcc
          A = a
          Basis = [| Vec3.Zero; Vec3(0.0, h, h); Vec3(h, 0.0, h); Vec3(h, h, 0.0) |]
          Rotation = identity }

    /// Diamond lattice with constant a (Å), crystal axes; basis in JuLIP's cubic-cell order (fcc + (1/4,1/4,1/4)).
    let diamond (element: string) (a: float) =
        Validate.positive "a" a

        let f =
            [| (0.0, 0.0, 0.0)
               (0.25, 0.25, 0.25)
               (0.0, 0.5, 0.5)
               (0.25, 0.75, 0.75)
               (0.5, 0.0, 0.5)
               (0.75, 0.25, 0.75)
               (0.5, 0.5, 0.0)
               (0.75, 0.75, 0.25) |]

        { Element = element
          Kind = LatticeKind.Diamond
          A = a
          Basis = f |> Array.map (fun (x, y, z) -> Vec3(a * x, a * y, a * z))
          Rotation = identity }

    /// Rotates a crystal-coordinate vector into simulation axes.
    let rotate (lat: Lattice) (v: Vec3) =
        let r = lat.Rotation

        Vec3(
            r.[0] * v.X + r.[1] * v.Y + r.[2] * v.Z,
            r.[3] * v.X + r.[4] * v.Y + r.[5] * v.Z,
            r.[6] * v.X + r.[7] * v.Y + r.[8] * v.Z
        )

    /// Nearest-neighbour distance r0 (Å): a sqrt(3)/2 (bcc), a/sqrt(2) (fcc), a sqrt(3)/4 (diamond).
    let nearestNeighbourDistance (lat: Lattice) =
        match lat.Kind with
        | LatticeKind.Bcc -> lat.A * Math.Sqrt 3.0 / 2.0
        | LatticeKind.Fcc -> lat.A / Math.Sqrt 2.0
        | LatticeKind.Diamond -> lat.A * Math.Sqrt 3.0 / 4.0

    /// The sort key of Qmmm's reproducible site order: distance from `centre`, then x, y, z, each rounded to 1e-9 Å
    /// (so sites related by symmetry tie exactly and are ordered lexicographically). Every domain and stencil uses it.
    let siteKey (centre: Vec3) (p: Vec3) =
        (Math.Round(Vec3.norm (p - centre), 9), Math.Round(p.X, 9), Math.Round(p.Y, 9), Math.Round(p.Z, 9))

    /// Every lattice site (all basis offsets) within distance `radius` of `centre`, in simulation axes (Å), ordered by
    /// distance from the centre and then lexicographically (x, y, z) so the order is reproducible.
    let ball (lat: Lattice) (centre: Vec3) (radius: float) : Vec3[] =
        Validate.positive "radius" radius
        let m = int (Math.Ceiling(radius / lat.A)) + 2
        let pts = ResizeArray()

        for i in -m .. m do
            for j in -m .. m do
                for k in -m .. m do
                    let corner = Vec3(float i * lat.A, float j * lat.A, float k * lat.A)

                    for b in lat.Basis do
                        let p = rotate lat (corner + b)
                        let d = p - centre

                        if Vec3.dot d d <= radius * radius then
                            pts.Add p

        pts.ToArray() |> Array.sortBy (siteKey centre)

    /// The stencil of site 0 of the homogeneous lattice within `radius`: Λ^h_* ∩ B_radius = (Λ^h ∖ 0) ∩ B_radius
    /// (Section 2.2), ordered by distance then lexicographically (Å).
    let stencil (lat: Lattice) (radius: float) : Vec3[] =
        ball lat Vec3.Zero radius |> Array.filter (fun p -> Vec3.dot p p > 1e-20)

    let private dot3 (a: int[]) (b: int[]) =
        a.[0] * b.[0] + a.[1] * b.[1] + a.[2] * b.[2]

    let private cross3 (a: int[]) (b: int[]) =
        [| a.[1] * b.[2] - a.[2] * b.[1]
           a.[2] * b.[0] - a.[0] * b.[2]
           a.[0] * b.[1] - a.[1] * b.[0] |]

    let private miller (v: int[]) = sprintf "[%d,%d,%d]" v.[0] v.[1] v.[2]

    /// Orients the lattice: the Miller directions `x`, `y`, `z` (integer vectors in crystal axes, e.g. x=[1,-1,0],
    /// y=[1,1,1], z=[-1,-1,2]) become the simulation x, y and z axes. The directions must be non-zero, mutually
    /// orthogonal and right-handed (z parallel to x × y with the same sense). Returns the lattice with `Rotation` set
    /// to the rows x/|x|, y/|y|, z/|z| (any previous orientation is replaced, not composed).
    /// Raises `ArgumentException` naming the offending direction otherwise.
    let orient (x: int[]) (y: int[]) (z: int[]) (lat: Lattice) : Lattice =
        Validate.length "x" 3 x
        Validate.length "y" 3 y
        Validate.length "z" 3 z

        for (name, v) in [ "x", x; "y", y; "z", z ] do
            if dot3 v v = 0 then
                invalidArg name (sprintf "the Miller direction %s = %s is the zero vector" name (miller v))

        let check (n1: string) (v1: int[]) (n2: string) (v2: int[]) =
            if dot3 v1 v2 <> 0 then
                invalidArg
                    n2
                    (sprintf
                        "the Miller directions %s = %s and %s = %s are not orthogonal (dot product %d)"
                        n1
                        (miller v1)
                        n2
                        (miller v2)
                        (dot3 v1 v2))

        check "x" x "y" y
        check "x" x "z" z
        check "y" y "z" z
        // x ⟂ y ⟂ z, so x × y is parallel to z; its sense decides the handedness.
        if dot3 (cross3 x y) z <= 0 then
            invalidArg
                "z"
                (sprintf
                    "the Miller directions x = %s, y = %s, z = %s are left-handed: z must point along x × y = %s"
                    (miller x)
                    (miller y)
                    (miller z)
                    (miller (cross3 x y)))

        let unit (v: int[]) =
            let n = Math.Sqrt(float (dot3 v v))
            [| float v.[0] / n; float v.[1] / n; float v.[2] / n |]

        { lat with
            Rotation = Array.concat [ unit x; unit y; unit z ] }

    /// Rotates a simulation-axes vector back into crystal axes (the transpose of `rotate`).
    let unrotate (lat: Lattice) (v: Vec3) =
        let r = lat.Rotation

        Vec3(
            r.[0] * v.X + r.[3] * v.Y + r.[6] * v.Z,
            r.[1] * v.X + r.[4] * v.Y + r.[7] * v.Z,
            r.[2] * v.X + r.[5] * v.Y + r.[8] * v.Z
        )

    /// The basis offsets that are translations of the crystal (crystal axes, Å): offsets t with
    /// Basis + t = Basis modulo the conventional cubic lattice a Z^3. Together with a e1, a e2, a e3 they generate the
    /// Bravais lattice Λ^h = A Z^3 of Section 2.1 (bcc: both offsets; fcc: all four; diamond: the four fcc offsets).
    let translationOffsets (lat: Lattice) : Vec3[] =
        let a = lat.A
        let tol = 1e-9 * a

        let onLattice (v: Vec3) =
            let near (c: float) = abs (c - a * Math.Round(c / a)) < tol
            near v.X && near v.Y && near v.Z

        let isTranslation (t: Vec3) =
            lat.Basis
            |> Array.forall (fun b -> lat.Basis |> Array.exists (fun b' -> onLattice (b + t - b')))

        lat.Basis |> Array.filter isTranslation

    /// True when every basis offset is a translation (a Bravais lattice described in a conventional cell: bcc, fcc);
    /// false for a lattice with a basis (diamond).
    let isBravais (lat: Lattice) =
        (translationOffsets lat).Length = lat.Basis.Length

    /// Every translation of the Bravais lattice (crystal axes, Å) with all conventional-cell indices in [-m, m].
    let internal translationsInBox (lat: Lattice) (m: int) =
        let offs = translationOffsets lat
        let ts = ResizeArray()

        for i in -m .. m do
            for j in -m .. m do
                for k in -m .. m do
                    let corner = Vec3(float i * lat.A, float j * lat.A, float k * lat.A)

                    for t in offs do
                        ts.Add(corner + t)

        ts.ToArray()

    /// The period of the lattice along simulation axis `axis` (0 = x, 1 = y, 2 = z), in Å: the smallest t > 0 such that
    /// t e_axis is a translation of the Bravais lattice. Found by a linear scan (not from a table): a translation
    /// t = a n + o (n integer, o a translation offset) parallel to the unit axis d has its largest component p fixed by
    /// n_p, so λ = (a n_p + o_p) / d_p is tried for n_p = 0, ±1, ±2, ... and kept when the other components of λ d are
    /// lattice coordinates too; e.g. bcc: [100] -> a, [110] -> a √2, [111] -> a √3 / 2; diamond (fcc translations):
    /// [100] -> a, [110] -> a / √2, [111] -> a √3. Raises when the axis is not a lattice direction with conventional
    /// indices up to 100,000.
    let period (lat: Lattice) (axis: int) : float =
        Validate.intInRange "axis" 0 2 axis
        let r = lat.Rotation
        let d = [| r.[3 * axis]; r.[3 * axis + 1]; r.[3 * axis + 2] |]
        let a = lat.A
        let offs = translationOffsets lat

        let p =
            if abs d.[0] >= abs d.[1] && abs d.[0] >= abs d.[2] then 0
            elif abs d.[1] >= abs d.[2] then 1
            else 2

        let sign = if d.[p] > 0.0 then 1 else -1
        let nearInteger (x: float) = abs (x - Math.Round x) < 1e-7
        let limit = 100000
        let mutable best = Double.PositiveInfinity
        let mutable k = 0
        // |λ| grows with |n_p|: stop one step after the first hit
        while k <= limit
              && (Double.IsPositiveInfinity best || float (k - 1) * a <= best * abs d.[p]) do
            let n = float (sign * k)

            for o in offs do
                let oc = [| o.X; o.Y; o.Z |]

                for shift in [| 0.0; -float sign |] do
                    let lambda = (a * (n + shift) + oc.[p]) / d.[p]

                    if lambda > 1e-8 * a && lambda < best then
                        let mutable ok = true

                        for q in 0..2 do
                            if q <> p && not (nearInteger ((lambda * d.[q] - oc.[q]) / a)) then
                                ok <- false

                        if ok then
                            best <- lambda

            k <- k + 1

        if Double.IsPositiveInfinity best then
            invalidArg
                "axis"
                (sprintf
                    "simulation axis %d (%O in crystal axes) is not a lattice direction with indices up to %d"
                    axis
                    (Vec3(d.[0], d.[1], d.[2]))
                    limit)

        best
