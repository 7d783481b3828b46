namespace Qmmm.Numerics

open System

/// A Bravais lattice with a basis, in crystal axes: conventional cell a * I (cubic lattices) and basis offsets.
/// An orientation (three Miller directions) maps the crystal axes onto the x, y, z axes of a simulation.
type Lattice =
    {
        /// Element symbol of every site.
        Element: string
        /// Lattice kind ("bcc", "fcc", "diamond").
        Kind: string
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
          Kind = "bcc"
          A = a
          Basis = [| Vec3.Zero; Vec3(0.5 * a, 0.5 * a, 0.5 * a) |]
          Rotation = identity }

    /// Face-centred cubic lattice with constant a (Å), crystal axes.
    let fcc (element: string) (a: float) =
        Validate.positive "a" a
        let h = 0.5 * a

        { Element = element
          Kind = "fcc"
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
          Kind = "diamond"
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
        | "bcc" -> lat.A * Math.Sqrt 3.0 / 2.0
        | "fcc" -> lat.A / Math.Sqrt 2.0
        | "diamond" -> lat.A * Math.Sqrt 3.0 / 4.0
        | k -> invalidArg "lat" (sprintf "unknown lattice kind '%s'" k)

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

        let key (p: Vec3) =
            let d = Vec3.norm (p - centre)
            (Math.Round(d, 9), Math.Round(p.X, 9), Math.Round(p.Y, 9), Math.Round(p.Z, 9))

        pts.ToArray() |> Array.sortBy key

    /// The stencil of site 0 of the homogeneous lattice within `radius`: Λ^h_* ∩ B_radius = (Λ^h ∖ 0) ∩ B_radius
    /// (Section 2.2), ordered by distance then lexicographically (Å).
    let stencil (lat: Lattice) (radius: float) : Vec3[] =
        ball lat Vec3.Zero radius |> Array.filter (fun p -> Vec3.dot p p > 1e-20)
