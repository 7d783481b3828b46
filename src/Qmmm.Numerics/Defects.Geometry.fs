namespace Qmmm.Numerics

open System

/// The crystals of the defect problems (Section 2, Appendix A; the issue's `--crystal`).
[<RequireQualifiedAccess>]
type Crystal =
    /// bcc tungsten, x = [100], y = [010], z = [001].
    | W
    /// diamond silicon, x ∥ [110], y ∥ [001], z ∥ [1−10] (the paper's code-family dislocation cell).
    | Si

/// The defect at the core x̂.
[<RequireQualifiedAccess>]
type DefectKind =
    /// The perfect crystal (regions centred at the origin site).
    | NoDefect
    /// The lattice site at the origin removed (condition (P): u0 = 0).
    | Vacancy
    /// A straight edge dislocation along z with Burgers vector b along x, glide-plane normal y (condition (D)).
    | Edge

/// The shape of the computational domain.
[<RequireQualifiedAccess>]
type DomainShape =
    /// The paper's quasi-2D disc |x − x̂| <= R in (x, y), one lattice period along z, periodic in z only.
    | Quasi2D
    /// A 3-D ball |x − x̂| <= R, open in every direction.
    | Ball

/// A defect domain: the reference sites x0 (the defective Λ), the core x̂ and the Burgers vector.
type DefectDomain =
    {
        /// The crystal.
        Crystal: Crystal
        /// The defect.
        Defect: DefectKind
        /// Quasi-2D disc or 3-D ball.
        Shape: DomainShape
        /// The oriented lattice (constant a).
        Lattice: Lattice
        /// The core position x̂ (Å; z = 0).
        Core: Vec3
        /// The Burgers vector b (Å; zero for point defects).
        Burgers: Vec3
        /// Outer radius of the domain (Å, measured from x̂: in (x, y) for Quasi2D, in 3-D for Ball).
        Radius: float
        /// The reference configuration x0: every site within Radius of x̂ (minus the vacancy site), ordered by distance
        /// from x̂, then x, y, z (rounded to 1e-9 Å).
        Reference: Configuration
    }

/// Construction of the defect geometries of the issue: W (bcc, cube axes) and Si (diamond, x ∥ [110], y ∥ [001],
/// z ∥ [1−10]), vacancy at the origin site or edge dislocation, in a quasi-2D disc or a 3-D ball.
///
/// Core position of the edge dislocation: x̂ = (x̂, ŷ, 0) is the point of a mid-plane y = ŷ between two adjacent
/// atomic planes (normal y, the glide-plane normal) that is farthest from every lattice site, searched over the
/// mid-planes with 0 < ŷ <= a and over x on a grid of 1/960 of the x period; ties go to the lowest ŷ, then the lowest
/// x. W: x̂ = (a/4, a/4) (between the planes y = 0 and y = a/2); Si: x̂ = (0, 3a/8), the wide channel between the
/// planes y = a/4 and y = a/2 (the shuffle position of the [1−10] projection; the narrow mid-plane y = a/8 would
/// cut a bond and leave two atoms 0.54 r_nn apart after the predictor). Because ŷ lies strictly between two atomic
/// planes, no site lies on the branch cut Γ = {y = ŷ, x >= x̂} of (A.4). For point defects and the perfect crystal
/// x̂ = 0, the (removed) site at the origin.
[<RequireQualifiedAccess>]
module DefectGeometry =

    /// The oriented lattice of `crystal` with cubic constant `a` (Å).
    let lattice (crystal: Crystal) (a: float) : Lattice =
        match crystal with
        | Crystal.W -> Lattice.bcc "W" a
        | Crystal.Si ->
            Lattice.diamond "Si" a
            |> Lattice.orient [| 1; 1; 0 |] [| 0; 0; 1 |] [| 1; -1; 0 |]

    /// The Burgers vector of the edge dislocation (simulation axes, Å): W b = a[100] = (a, 0, 0); Si b = (a/2)[110]
    /// = (a/√2, 0, 0).
    let burgers (crystal: Crystal) (a: float) : Vec3 =
        match crystal with
        | Crystal.W -> Vec3(a, 0.0, 0.0)
        | Crystal.Si -> Vec3(a / Math.Sqrt 2.0, 0.0, 0.0)

    /// The core position x̂ (Å) of the defect (see the module summary).
    let core (crystal: Crystal) (defect: DefectKind) (a: float) : Vec3 =
        match defect with
        | DefectKind.NoDefect
        | DefectKind.Vacancy -> Vec3.Zero
        | DefectKind.Edge ->
            let lat = lattice crystal a
            let sites = Lattice.ball lat Vec3.Zero (3.0 * a)
            let tol = 1e-9 * a
            let px = Lattice.period lat 0

            let planes =
                sites
                |> Array.map (fun p -> p.Y)
                |> Array.sort
                |> Array.fold
                    (fun (acc: float list) y ->
                        match acc with
                        | h :: _ when y - h < tol -> acc
                        | _ -> y :: acc)
                    []
                |> List.rev
                |> List.toArray

            // mid-planes between consecutive atomic planes with 0 < ŷ <= a
            let mids =
                [| for k in 0 .. planes.Length - 2 do
                       let m = 0.5 * (planes.[k] + planes.[k + 1])

                       if m > tol && m <= a + tol then
                           yield m |]

            let clearance (x: float) (y: float) =
                sites
                |> Array.fold (fun m p -> min m ((p.X - x) * (p.X - x) + (p.Y - y) * (p.Y - y))) Double.PositiveInfinity

            let mutable best = Vec3.Zero
            let mutable bestD = -1.0

            for y in mids do
                for k in 0..959 do
                    let x = px * float k / 960.0
                    let d = clearance x y

                    if d > bestD * (1.0 + 1e-9) then
                        best <- Vec3(x, y, 0.0)
                        bestD <- d

            best

    /// Distance (Å) of `p` from the core `c` as the regions measure it: in (x, y) for Quasi2D, in 3-D for Ball.
    let distance (shape: DomainShape) (c: Vec3) (p: Vec3) =
        let d = p - c

        match shape with
        | DomainShape.Quasi2D -> Math.Sqrt(d.X * d.X + d.Y * d.Y)
        | DomainShape.Ball -> Vec3.norm d

    /// The defect domain of radius `radius` (Å, from x̂) for `crystal` with lattice constant `a` (Å): the sites of the
    /// quasi-2D disc (one period along z, 0 <= z < p, pbc F F T) or the ball (pbc F F F) within `radius` of x̂
    /// (inclusive, relative tolerance 1e-12), without the origin site for a vacancy. Raises for a non-positive radius.
    let create (crystal: Crystal) (defect: DefectKind) (shape: DomainShape) (a: float) (radius: float) : DefectDomain =
        Validate.positive "a" a
        Validate.positive "radius" radius
        Validate.finite "radius" radius
        let lat = lattice crystal a
        let c = core crystal defect a
        let outer = radius + Vec3.norm c + 1e-6 * a

        let big =
            match shape with
            | DomainShape.Quasi2D -> Domains.quasi2D lat outer
            | DomainShape.Ball -> Domains.cluster lat outer

        let r2 = radius * (1.0 + 1e-12)

        let keep =
            [| for i in 0 .. big.Count - 1 do
                   let p = Vec3.get big.Positions i

                   let isVacancy = defect = DefectKind.Vacancy && Vec3.norm p < 1e-9 * a

                   if distance shape c p <= r2 && not isVacancy then
                       yield p |]

        let key (p: Vec3) =
            (Math.Round(distance shape c p, 9), Math.Round(p.X, 9), Math.Round(p.Y, 9), Math.Round(p.Z, 9))

        let sites = keep |> Array.sortBy key
        let x = Array.zeroCreate (3 * sites.Length)

        for i in 0 .. sites.Length - 1 do
            Vec3.set x i sites.[i]

        let side = 2.0 * (radius + Vec3.norm c)

        let cell =
            match shape with
            | DomainShape.Quasi2D ->
                Cell.create
                    (Vec3(side, 0.0, 0.0))
                    (Vec3(0.0, side, 0.0))
                    (Vec3(0.0, 0.0, Lattice.period lat 2))
                    [| false; false; true |]
            | DomainShape.Ball ->
                Cell.create
                    (Vec3(side, 0.0, 0.0))
                    (Vec3(0.0, side, 0.0))
                    (Vec3(0.0, 0.0, side))
                    [| false; false; false |]

        { Crystal = crystal
          Defect = defect
          Shape = shape
          Lattice = lat
          Core = c
          Burgers =
            (if defect = DefectKind.Edge then
                 burgers crystal a
             else
                 Vec3.Zero)
          Radius = radius
          Reference =
            { Species = Array.create sites.Length lat.Element
              Positions = x
              Cell = cell } }
