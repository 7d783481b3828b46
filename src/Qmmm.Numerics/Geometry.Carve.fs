namespace Qmmm.Numerics

open System

/// Carving finite regions out of larger configurations: the QM + buffer clusters Ω of the paper's force mixing
/// (Section 3.2, V_ℓ^Ω), open in every direction or, for quasi-2D domains, periodic along z only.
[<RequireQualifiedAccess>]
module Carve =

    /// The atoms of `config` within `radius` (Å) of `centre`, as a new configuration with the map from its atoms to
    /// the source's (struct (cluster, source indices), in source order). With `periodicZ` the distance is measured
    /// in the xy plane only (a cylinder) and the result stays periodic along a3, which must be periodic in the source
    /// and parallel to z (quasi-2D domains); otherwise the distance is 3-D and the result is open (pbc F F F). Along
    /// every source-periodic axis that the result opens, each atom is taken at its periodic image nearest to the
    /// centre, so `radius` must not exceed half the cell height along those axes (ArgumentException otherwise).
    let ball (config: Configuration) (centre: Vec3) (radius: float) (periodicZ: bool) : struct (Configuration * int[]) =
        Validate.positive "radius" radius
        Validate.finite "radius" radius
        let cell = config.Cell

        if periodicZ then
            let a3 = Cell.vector cell 2

            if
                not cell.Pbc.[2]
                || abs a3.X > 1e-12 * Vec3.norm a3
                || abs a3.Y > 1e-12 * Vec3.norm a3
            then
                invalidArg "periodicZ" "a z-periodic cluster needs a source periodic along a3 with a3 parallel to z"

        let opened = Array.init 3 (fun i -> cell.Pbc.[i] && not (periodicZ && i = 2))

        for i in 0..2 do
            if opened.[i] && radius > 0.5 * Cell.height cell i then
                invalidArg
                    "radius"
                    (sprintf
                        "radius %g Å exceeds half the cell height %g Å along periodic axis %d (atoms would repeat)"
                        radius
                        (0.5 * Cell.height cell i)
                        (i + 1))

        let b =
            if Array.exists id opened then
                Cell.reciprocal cell
            else
                [||]

        let keep = ResizeArray<int>()
        let pos = ResizeArray<float>()

        for a in 0 .. config.Count - 1 do
            let mutable d =
                Vec3(
                    config.Positions.[3 * a] - centre.X,
                    config.Positions.[3 * a + 1] - centre.Y,
                    config.Positions.[3 * a + 2] - centre.Z
                )

            for i in 0..2 do
                if opened.[i] then
                    let f = Vec3.dot d b.[i]
                    d <- d - Math.Round f * Cell.vector cell i

            let r2 = if periodicZ then d.X * d.X + d.Y * d.Y else Vec3.dot d d

            if r2 <= radius * radius then
                keep.Add a
                pos.Add(centre.X + d.X)
                pos.Add(centre.Y + d.Y)
                pos.Add(centre.Z + d.Z)

        let idx = keep.ToArray()
        let side = 2.0 * radius

        let out =
            { Species = idx |> Array.map (fun a -> config.Species.[a])
              Positions = pos.ToArray()
              Cell =
                Cell.create
                    (Vec3(side, 0.0, 0.0))
                    (Vec3(0.0, side, 0.0))
                    (if periodicZ then
                         Cell.vector cell 2
                     else
                         Vec3(0.0, 0.0, side))
                    [| false; false; periodicZ |] }

        struct (out, idx)
