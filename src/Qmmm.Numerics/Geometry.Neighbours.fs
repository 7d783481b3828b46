namespace Qmmm.Numerics

open System

/// A full neighbour list in compressed-row form: the neighbours of atom i are entries Start[i] .. Start[i+1]-1.
/// Every pair within the cutoff appears twice (i sees j and j sees i); periodic images along periodic axes are
/// distinct entries with their own vectors. Vectors[3k..3k+2] = y_j + shift - y_i (Å).
type NeighbourList =
    {
        /// Cutoff radius (Å); pairs with distance < Cutoff are listed.
        Cutoff: float
        /// Row starts, length N + 1.
        Start: int[]
        /// Neighbour atom index j of each entry.
        Index: int[]
        /// Neighbour vectors, 3 per entry (Å).
        Vectors: float[]
        /// Neighbour distances |Vectors| per entry (Å).
        Distances: float[]
    }

    /// Number of atoms.
    member nl.Count = nl.Start.Length - 1
    /// Number of entries (ordered pairs).
    member nl.Pairs = nl.Index.Length

/// Neighbour-list construction.
[<RequireQualifiedAccess>]
module Neighbours =

    /// Builds the list from per-atom buckets of (j, vector) pairs (internal helper shared by the builders).
    let internal ofBuckets (cutoff: float) (buckets: ResizeArray<struct (int * Vec3)>[]) =
        let n = buckets.Length
        let start = Array.zeroCreate (n + 1)

        for i in 0 .. n - 1 do
            start.[i + 1] <- start.[i] + buckets.[i].Count

        let m = start.[n]
        let index = Array.zeroCreate m
        let vectors = Array.zeroCreate (3 * m)
        let dist = Array.zeroCreate m

        for i in 0 .. n - 1 do
            let mutable k = start.[i]

            for struct (j, v) in buckets.[i] do
                index.[k] <- j
                Vec3.set vectors k v
                dist.[k] <- Vec3.norm v
                k <- k + 1

        { Cutoff = cutoff
          Start = start
          Index = index
          Vectors = vectors
          Distances = dist }

    /// Range of image shifts along each axis needed to see every pair within `cutoff` (0 on open axes).
    let internal imageRange (cell: Cell) (cutoff: float) =
        Array.init 3 (fun i ->
            if cell.Pbc.[i] then
                int (Math.Ceiling(cutoff / Cell.height cell i))
            else
                0)

    /// The slow, obviously correct O(N^2 x images) neighbour list: the oracle for the fast cell-list builder.
    /// Entries of each atom are ordered by (j, image shift) lexicographically.
    let reference (cutoff: float) (config: Configuration) : NeighbourList =
        Validate.positive "cutoff" cutoff
        let n = config.Count
        let x = config.Positions
        let range = imageRange config.Cell cutoff
        let a = Array.init 3 (Cell.vector config.Cell)
        let buckets = Array.init n (fun _ -> ResizeArray())
        let c2 = cutoff * cutoff

        for i in 0 .. n - 1 do
            let xi = Vec3.get x i

            for j in 0 .. n - 1 do
                let xj = Vec3.get x j

                for s0 in -range.[0] .. range.[0] do
                    for s1 in -range.[1] .. range.[1] do
                        for s2 in -range.[2] .. range.[2] do
                            if not (i = j && s0 = 0 && s1 = 0 && s2 = 0) then
                                let shift = float s0 * a.[0] + float s1 * a.[1] + float s2 * a.[2]
                                let v = xj + shift - xi

                                if Vec3.dot v v < c2 then
                                    buckets.[i].Add(struct (j, v))

        ofBuckets cutoff buckets
