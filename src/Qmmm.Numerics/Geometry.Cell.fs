namespace Qmmm.Numerics

open System

/// A simulation cell: three lattice vectors (rows a1, a2, a3 in Å, ASE's `Lattice="a1x a1y a1z a2x ..."` order)
/// and per-axis periodicity. Quasi-2D domains are periodic along a3 only; clusters along none.
type Cell =
    {
        /// Row-major 3x3: Vectors[3*i + k] is component k of lattice vector a_(i+1).
        Vectors: float[]
        /// Periodicity along a1, a2, a3.
        Pbc: bool[]
    }

/// An atomic configuration: species symbols, positions (flat, 3 per atom, Å) and the cell.
type Configuration =
    {
        /// Element symbol of each atom ("W", "Si").
        Species: string[]
        /// Cartesian positions, 3 floats per atom (Å).
        Positions: float[]
        /// The cell (lattice vectors and periodicity).
        Cell: Cell
    }

    /// Number of atoms.
    member c.Count = c.Species.Length

/// Operations on cells.
[<RequireQualifiedAccess>]
module Cell =

    /// A cell from its three lattice vectors and periodicity; periodic axes need non-degenerate vectors.
    let create (a1: Vec3) (a2: Vec3) (a3: Vec3) (pbc: bool[]) =
        Validate.length "pbc" 3 pbc

        { Vectors = [| a1.X; a1.Y; a1.Z; a2.X; a2.Y; a2.Z; a3.X; a3.Y; a3.Z |]
          Pbc = Array.copy pbc }

    /// Lattice vector i (0, 1, 2).
    let vector (c: Cell) (i: int) =
        Vec3(c.Vectors.[3 * i], c.Vectors.[3 * i + 1], c.Vectors.[3 * i + 2])

    /// Signed volume a1 . (a2 x a3) (Å^3).
    let volume (c: Cell) =
        Vec3.dot (vector c 0) (Vec3.cross (vector c 1) (vector c 2))

    /// Distance between the two lattice planes spanned by the other two vectors, perpendicular to axis i (Å).
    let height (c: Cell) (i: int) =
        let a = vector c ((i + 1) % 3)
        let b = vector c ((i + 2) % 3)
        let n = Vec3.cross a b
        abs (volume c) / Vec3.norm n

    /// Reciprocal rows b_i with a_i . b_j = delta_ij (no 2 pi); raises for a singular cell.
    let reciprocal (c: Cell) =
        let v = volume c

        if abs v < 1e-12 then
            invalidArg "c" (sprintf "the cell is singular (volume %g)" v)

        let a1, a2, a3 = vector c 0, vector c 1, vector c 2

        [| (1.0 / v) * Vec3.cross a2 a3
           (1.0 / v) * Vec3.cross a3 a1
           (1.0 / v) * Vec3.cross a1 a2 |]

    /// True when no axis is periodic (a cluster).
    let isCluster (c: Cell) =
        not (c.Pbc.[0] || c.Pbc.[1] || c.Pbc.[2])
