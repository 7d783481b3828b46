namespace Qmmm.Numerics

open System

/// The unit r0 of the region radii (DESIGN §3): the paper's lattice constant, or its code family's
/// nearest-neighbour distance.
[<RequireQualifiedAccess>]
type RadiusUnit =
    /// r0 = a (the default, as in the paper).
    | LatticeConstant
    /// r0 = r_nn.
    | NearestNeighbour

/// The region of one atom of a relaxation domain.
[<RequireQualifiedAccess>]
type Region =
    /// Free: |x − x̂| <= R_MM (relaxed; extxyz region "MM").
    | Free
    /// Far-field shell: R_MM < |x − x̂| <= R_MM + R_FF, clamped to the predictor (extxyz region "fixed").
    | FarField

/// The regions of a defect domain: free atoms and the clamped far-field shell.
type Regions =
    {
        /// R_MM (Å).
        RMM: float
        /// R_FF, the width of the far-field shell (Å).
        RFF: float
        /// One region per atom of the domain's reference.
        Of: Region[]
        /// Indices of the free atoms, ascending.
        Free: int[]
        /// Indices of the far-field atoms, ascending.
        FarField: int[]
    }

/// Region radii and classification (the issue's `--rmm`, `--rff`, `--r0`).
[<RequireQualifiedAccess>]
module Regions =

    /// r0 in Å for the lattice.
    let r0 (unit: RadiusUnit) (lat: Lattice) =
        match unit with
        | RadiusUnit.LatticeConstant -> lat.A
        | RadiusUnit.NearestNeighbour -> Lattice.nearestNeighbourDistance lat

    /// The default far-field width in units of r0: the smallest integer w with w r0 >= 2 × cutoff (Å).
    let defaultWidth (r0: float) (cutoff: float) : float =
        Validate.positive "r0" r0
        Math.Ceiling(2.0 * cutoff / r0 - 1e-12)

    /// Classifies the sites of `domain` (whose Radius must be >= rmm + rff, Å): free when the distance from x̂
    /// (`DefectGeometry.distance`) is <= rmm (inclusive, relative tolerance 1e-12), else far field.
    let create (domain: DefectDomain) (rmm: float) (rff: float) : Regions =
        Validate.positive "rmm" rmm
        Validate.nonNegative "rff" rff
        let x = domain.Reference.Positions

        let region =
            Array.init domain.Reference.Count (fun i ->
                let d = DefectGeometry.distance domain.Shape domain.Core (Vec3.get x i)

                if d <= rmm * (1.0 + 1e-12) then
                    Region.Free
                else
                    Region.FarField)

        let idx r =
            [| for i in 0 .. region.Length - 1 do
                   if region.[i] = r then
                       yield i |]

        { RMM = rmm
          RFF = rff
          Of = region
          Free = idx Region.Free
          FarField = idx Region.FarField }
