namespace Qmmm.Numerics

open System

/// Integer periodic-image shifts packed into one int (10 bits per axis, biased by 512): the shift s = (s0, s1, s2),
/// |s_k| ≤ 511, of a neighbour-list entry whose vector is y_j + s0 a1 + s1 a2 + s2 a3 − y_i.
[<RequireQualifiedAccess>]
module ImageShift =

    /// Largest |s_k| a packed shift can hold.
    [<Literal>]
    let Limit = 511

    /// Bias added to every component.
    [<Literal>]
    let private Bias = 512

    /// The packed zero shift (an entry within the cell).
    [<Literal>]
    let Zero = 512 ||| (512 <<< 10) ||| (512 <<< 20)

    /// Packs (s0, s1, s2), each in -Limit .. Limit.
    let inline pack (s0: int) (s1: int) (s2: int) =
        (s0 + Bias) ||| ((s1 + Bias) <<< 10) ||| ((s2 + Bias) <<< 20)

    /// Component k (0, 1, 2) of a packed shift.
    let inline axis (key: int) (k: int) = ((key >>> (10 * k)) &&& 1023) - Bias

    /// Adds a shift (d0, d1, d2) to a packed one (the result must stay within ±Limit per axis).
    let inline add (key: int) (d0: int) (d1: int) (d2: int) = key + d0 + (d1 <<< 10) + (d2 <<< 20)

    /// The image vector s0 a1 + s1 a2 + s2 a3 (Å) of a packed shift for the row-major cell vectors `a` (9 floats), with
    /// the floating-point operations of the reference neighbour list: ((s0 a1 + s1 a2) + s2 a3) per component.
    let inline vector (a: float[]) (key: int) =
        let s0 = float (axis key 0)
        let s1 = float (axis key 1)
        let s2 = float (axis key 2)

        Vec3(
            s0 * a.[0] + s1 * a.[3] + s2 * a.[6],
            s0 * a.[1] + s1 * a.[4] + s2 * a.[7],
            s0 * a.[2] + s1 * a.[5] + s2 * a.[8]
        )

/// A neighbour list in compressed-row form, LAMMPS-style: the entries of atom i are Start[i] .. Start[i+1]-1, each an
/// atom index j and an integer image shift s (packed, see `ImageShift`); its vector y_j + s·A − y_i is computed from
/// the current positions (`Neighbours.vector`), never stored. A full list holds every ordered pair (i sees j and j sees
/// i); a half list holds each unordered pair once (j > i, or j = i with a lexicographically positive vector), for
/// pair-symmetric kernels. Built with a Verlet skin, it holds every pair closer than Cutoff + Skin at build time and so
/// every pair closer than Cutoff while no atom has moved more than Skin / 2 (`Neighbours.isCurrent`). Memory: 8 bytes
/// per entry (the full list of bcc W at 7.89 Å, 136 neighbours, is 1.1 kB per atom; its half list 0.55 kB).
type NeighbourList =
    {
        /// Interaction cutoff (Å) the list guarantees while current: every pair closer than Cutoff is listed.
        Cutoff: float
        /// Verlet skin (Å, >= 0): entries were collected within Cutoff + Skin of the build positions.
        Skin: float
        /// True for a half list (each unordered pair once), false for a full list.
        Half: bool
        /// Row starts, length N + 1.
        Start: int[]
        /// Neighbour atom index j of each entry.
        Index: int[]
        /// Packed image shift of each entry (`ImageShift`).
        Image: int[]
        /// Positions at build time (3 per atom, Å): the reference of the staleness test.
        BuiltPositions: float[]
        /// Cell at build time (lattice vectors and periodicity); its vectors give the image shifts' vectors.
        BuiltCell: Cell
    }

    /// Number of atoms.
    member nl.Count = nl.Start.Length - 1
    /// Number of entries.
    member nl.Pairs = nl.Index.Length
    /// Radius within which the entries were collected (Cutoff + Skin, Å).
    member nl.Reach = nl.Cutoff + nl.Skin
