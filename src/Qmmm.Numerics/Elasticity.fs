namespace Qmmm.Numerics

open System

/// Cubic elastic constants in Voigt notation (eV/Å³; × 160.21766 for GPa).
type CubicConstants =
    {
        /// C11 = C_xxxx.
        C11: float
        /// C12 = C_xxyy.
        C12: float
        /// C44 = C_yzyz.
        C44: float
    }

/// The linearised Cauchy–Born tensor ℂ of (A.3) and the equilibrium lattice constant of a model, from homogeneous
/// strains of a periodic cell: ℂ_ijkl = ∂τ_ij/∂ε_kl at ε = 0 with τ = −W/V₀ (W the virial, V₀ the unstrained volume),
/// by centred differences of the virial under symmetric strains F = I + ε. For a lattice with a basis (diamond) the
/// basis atoms are relaxed at every strain (internal relaxation), which the Cauchy–Born energy of a multilattice
/// requires. Tensors are flat 81-entry arrays, index 27i + 9j + 3k + l, in the lattice's simulation axes.
[<RequireQualifiedAccess>]
module Elasticity =

    /// eV/Å³ in GPa.
    let GPa = 160.21766208

    /// The smallest periodic cell of `lat` (its oriented axes) whose heights are all at least `minHeight` (Å).
    let periodicCell (lat: Lattice) (minHeight: float) : Configuration =
        let n axis =
            max 1 (int (Math.Ceiling(minHeight / Lattice.period lat axis - 1e-9)))

        Domains.periodic lat (n 0) (n 1) (n 2)

    /// `config` homogeneously deformed by F = I + eps (eps row-major 3×3): positions and cell vectors y ↦ F y.
    let deform (eps: float[]) (config: Configuration) : Configuration =
        Validate.length "eps" 9 eps

        let map (v: float[]) =
            let w = Array.zeroCreate v.Length

            for p in 0 .. v.Length / 3 - 1 do
                for i in 0..2 do
                    let mutable s = v.[3 * p + i]

                    for j in 0..2 do
                        s <- s + eps.[3 * i + j] * v.[3 * p + j]

                    w.[3 * p + i] <- s

            w

        { config with
            Positions = map config.Positions
            Cell =
                { config.Cell with
                    Vectors = map config.Cell.Vectors } }

    /// Relaxes the atoms of a periodic cell at fixed cell (all atoms free, identity preconditioner) to
    /// ‖F‖∞ <= 1e-10 eV/Å; returns the relaxed configuration (`config` unchanged when it is already relaxed).
    let relaxInternal (pot: IPotential) (config: Configuration) : Configuration =
        let calc =
            Calculator(
                pot,
                { EvaluationSettings.Defaults with
                    Skin = 0.3 }
            )

        let n = 3 * config.Count

        let obj =
            { Dimension = n
              Evaluate =
                fun x g ->
                    let c = { config with Positions = x }
                    let struct (e, f) = calc.EnergyForces c

                    for k in 0 .. n - 1 do
                        g.[k] <- -f.[k]

                    e }

        let settings =
            { SolverSettings.Defaults with
                Tolerance = 1e-10
                MaxIterations = 2000 }

        let r = Minimise.run settings Preconditioner.identity obj config.Positions
        { config with Positions = r.X }

    /// Virial W (9 entries, eV) of `config`, after internal relaxation when `relax`.
    let private virial (pot: IPotential) (relax: bool) (config: Configuration) =
        let c = if relax then relaxInternal pot config else config
        (Potential.compute pot c).Virial

    /// ℂ_ijkl (81 entries, eV/Å³) of `pot` on `lat` at its lattice constant by centred differences of the virial
    /// with strain step `h` (dimensionless; 1e-4 is a good choice): ℂ_ijkl = −(W_ij(ε⁺_kl) − W_ij(ε⁻_kl)) / (2h V₀),
    /// ε^±_kl = ±h (e_k ⊗ e_l + e_l ⊗ e_k)/2, symmetrised over (i, j). Internal relaxation for lattices with a basis.
    let stiffnessWith (h: float) (pot: IPotential) (lat: Lattice) : float[] =
        Validate.positive "h" h
        let cell = periodicCell lat (2.0 * pot.Cutoff + 1.0)
        let v0 = abs (Cell.volume cell.Cell)
        let relax = not (Lattice.isBravais lat)
        let c = Array.zeroCreate 81

        for k in 0..2 do
            for l in k..2 do
                let strain (s: float) =
                    let e = Array.zeroCreate 9
                    e.[3 * k + l] <- e.[3 * k + l] + 0.5 * s
                    e.[3 * l + k] <- e.[3 * l + k] + 0.5 * s
                    e

                let wp = virial pot relax (deform (strain h) cell)
                let wm = virial pot relax (deform (strain -h) cell)

                for i in 0..2 do
                    for j in 0..2 do
                        let dij = -(wp.[3 * i + j] - wm.[3 * i + j]) / (2.0 * h * v0)
                        let dji = -(wp.[3 * j + i] - wm.[3 * j + i]) / (2.0 * h * v0)
                        let v = 0.5 * (dij + dji)
                        c.[27 * i + 9 * j + 3 * k + l] <- v
                        c.[27 * i + 9 * j + 3 * l + k] <- v

        c

    /// `stiffnessWith 1e-4`.
    let stiffness (pot: IPotential) (lat: Lattice) : float[] = stiffnessWith 1e-4 pot lat

    /// C11, C12, C44 of a tensor in cubic axes (x, y, z along the cube edges), averaged over the symmetric entries.
    let cubic (c: float[]) : CubicConstants =
        Validate.length "c" 81 c
        let at i j k l = c.[27 * i + 9 * j + 3 * k + l]

        { C11 = (at 0 0 0 0 + at 1 1 1 1 + at 2 2 2 2) / 3.0
          C12 = (at 0 0 1 1 + at 1 1 2 2 + at 0 0 2 2) / 3.0
          C44 = (at 1 2 1 2 + at 0 2 0 2 + at 0 1 0 1) / 3.0 }

    /// The isotropic tensor ℂ_ijkl = λ δ_ij δ_kl + μ (δ_ik δ_jl + δ_il δ_jk) (eV/Å³).
    let isotropic (lambda: float) (mu: float) : float[] =
        let d i j = if i = j then 1.0 else 0.0

        Array.init 81 (fun n ->
            let i, j, k, l = n / 27, (n / 9) % 3, (n / 3) % 3, n % 3
            lambda * d i j * d k l + mu * (d i k * d j l + d i l * d j k))

    /// The cubic tensor with constants C11, C12, C44 in cube axes.
    let ofCubic (cc: CubicConstants) : float[] =
        Array.init 81 (fun n ->
            let i, j, k, l = n / 27, (n / 9) % 3, (n / 3) % 3, n % 3

            if i = j && k = l then (if i = k then cc.C11 else cc.C12)
            elif (i = k && j = l) || (i = l && j = k) then cc.C44
            else 0.0)

    /// The tensor `c` in rotated axes: c'_ijkl = R_ia R_jb R_kc R_ld c_abcd, R row-major with rows the new axes
    /// (as `Lattice.Rotation`).
    let rotate (r: float[]) (c: float[]) : float[] =
        Validate.length "r" 9 r
        Validate.length "c" 81 c
        let out = Array.zeroCreate 81

        for n in 0..80 do
            let i, j, k, l = n / 27, (n / 9) % 3, (n / 3) % 3, n % 3
            let mutable s = 0.0

            for m in 0..80 do
                let a, b, cc, d = m / 27, (m / 9) % 3, (m / 3) % 3, m % 3
                s <- s + r.[3 * i + a] * r.[3 * j + b] * r.[3 * k + cc] * r.[3 * l + d] * c.[m]

            out.[n] <- s

        out

    /// The energy per atom (eV) of the perfect crystal `make a` at lattice constant a (the bulk chemical potential μ).
    let energyPerAtom (pot: IPotential) (make: float -> Lattice) (a: float) =
        let cell = periodicCell (make a) (2.0 * pot.Cutoff + 1.0)

        let c =
            if Lattice.isBravais (make a) then
                cell
            else
                relaxInternal pot cell

        (Potential.compute pot c).Energy / float c.Count

    /// The equilibrium lattice constant (Å) of the crystal family `make` (a ↦ lattice with constant a) for `pot`: the
    /// zero of the trace of the virial of a periodic cell (zero pressure), bracketed in [0.8, 1.25] × `guess` and
    /// solved by the Illinois method to |Δa| <= 1e-13 a. Raises `ConvergenceException` without a sign change.
    let equilibriumLatticeConstant (pot: IPotential) (make: float -> Lattice) (guess: float) : float =
        Validate.positive "guess" guess

        let pressure (a: float) =
            let lat = make a
            let cell = periodicCell lat (2.0 * pot.Cutoff + 1.0)
            let w = virial pot (not (Lattice.isBravais lat)) cell
            (w.[0] + w.[4] + w.[8]) / float cell.Count

        let mutable lo = 0.8 * guess
        let mutable hi = 1.25 * guess
        let mutable flo = pressure lo
        let mutable fhi = pressure hi

        if flo * fhi > 0.0 then
            raise (
                ConvergenceException(
                    sprintf
                        "no zero-pressure lattice constant of model '%s' in [%g, %g] Å (trace W per atom %g and %g eV)"
                        pot.Name
                        lo
                        hi
                        flo
                        fhi,
                    0,
                    min (abs flo) (abs fhi),
                    0.0
                )
            )

        let mutable side = 0
        let mutable it = 0
        let mutable a = 0.5 * (lo + hi)
        let mutable prev = Double.NaN

        while hi - lo > 1e-13 * guess && not (abs (a - prev) <= 1e-14 * guess) && it < 200 do
            prev <- a
            a <- (lo * fhi - hi * flo) / (fhi - flo)

            if not (a > lo && a < hi) then
                a <- 0.5 * (lo + hi)

            let fa = pressure a

            if fa = 0.0 then
                lo <- a
                hi <- a
            elif fa * fhi > 0.0 then
                hi <- a
                fhi <- fa

                if side = 1 then
                    flo <- 0.5 * flo

                side <- 1
            else
                lo <- a
                flo <- fa

                if side = -1 then
                    fhi <- 0.5 * fhi

                side <- -1

            it <- it + 1

        if hi - lo <= 1e-13 * guess then 0.5 * (lo + hi) else a
