namespace Qmmm.Numerics

open System
open System.Threading.Tasks

/// A k-point grid along the periodic axes of a cell (Monkhorst–Pack, PRB 13, 5188 (1976)).
type KGrid =
    {
        /// Number of points along the reciprocal vectors b1, b2, b3 (each >= 1; 1 along a non-periodic axis).
        Divisions: int[]
        /// True: Γ-centred grid k_i = r/n (r = 0 .. n−1), which contains Γ; false: the original Monkhorst–Pack grid
        /// k_i = (2r − n − 1)/(2n) (r = 1 .. n), which contains Γ only for odd n.
        GammaCentred: bool
    }

    /// The Γ point alone (1×1×1); the default.
    static member Gamma =
        { Divisions = [| 1; 1; 1 |]
          GammaCentred = true }

/// k-point sets of `KGrid`s, in fractional coordinates of the reciprocal basis (k = Σ k_i b_i with a_i · b_j = δ_ij,
/// the Bloch phase of a lattice translation s = Σ s_i a_i being exp(2πi k·s)).
[<RequireQualifiedAccess>]
module KPoints =

    /// The points of `grid` reduced by time reversal (k and −k give complex-conjugate Bloch matrices, equal
    /// eigenvalues and equal contributions to energies and forces): struct (points, 3 fractional coordinates each;
    /// weights summing to 1). A point equal to its own −k (mod 1) keeps weight 1/N, the others 2/N for the pair.
    let grid (grid: KGrid) : struct (float[] * float[]) =
        Validate.length "grid.Divisions" 3 grid.Divisions

        for i in 0..2 do
            Validate.intInRange (sprintf "grid.Divisions[%d]" i) 1 1000 grid.Divisions.[i]

        let n = grid.Divisions
        let total = n.[0] * n.[1] * n.[2]
        // index r of the point; −k has index (−r mod n) for Γ-centred grids and (n + 1 − r) − 1 for MP (0-based)
        let coord (axis: int) (r: int) =
            if grid.GammaCentred then
                float r / float n.[axis]
            else
                float (2 * (r + 1) - n.[axis] - 1) / float (2 * n.[axis])

        let minus (axis: int) (r: int) =
            if grid.GammaCentred then
                (n.[axis] - r) % n.[axis]
            else
                n.[axis] - 1 - r

        let pts = ResizeArray<float>()
        let ws = ResizeArray<float>()

        for r0 in 0 .. n.[0] - 1 do
            for r1 in 0 .. n.[1] - 1 do
                for r2 in 0 .. n.[2] - 1 do
                    let id = (r0 * n.[1] + r1) * n.[2] + r2

                    let mid = (minus 0 r0 * n.[1] + minus 1 r1) * n.[2] + minus 2 r2

                    if mid >= id then
                        pts.Add(coord 0 r0)
                        pts.Add(coord 1 r1)
                        pts.Add(coord 2 r2)
                        ws.Add((if mid = id then 1.0 else 2.0) / float total)

        struct (pts.ToArray(), ws.ToArray())

/// Options of the NRL tight-binding model (STYLE 4: start from `TightBindingOptions.Defaults`).
type TightBindingOptions =
    {
        /// The parameter set (default `NrlTb.siliconSp`).
        Parameters: NrlParameters
        /// The cutoff-function variant (default `NrlCutoff.Original`, the paper's).
        Cutoff: NrlCutoff
        /// Chemical potential μ = eF (eV) at which states are occupied; default 5.5212408 eV (the paper's code family;
        /// inside the gap of bulk Si, 0.24 eV above the valence-band maximum).
        ChemicalPotential: float
        /// Smearing kT (eV, >= 0). 0: zero temperature at fixed μ, occupation f = 1 for ε < μ, energy Σ f ε (forces are
        /// discontinuous when a level crosses μ). kT > 0: Fermi–Dirac f = 1/(1 + exp((ε − μ)/kT)) at fixed μ, energy the
        /// grand potential Σ −kT log(1 + exp(−(ε − μ)/kT)) plus the constant μ N₀ (N₀ = valence/2 states per atom per
        /// spin) so that it tends to the zero-temperature energy for a gapped system; forces are its exact derivatives.
        /// β = 1/kT (β = 30/eV is kT ≈ 0.0333 eV). Default 0.
        Temperature: float
        /// k-point grid along the periodic axes (default Γ only; it must have one point along every open axis).
        KPoints: KGrid
        /// Spin factor multiplying every energy, force, virial and site energy: 2 (default; the physical NRL-TB value,
        /// two electrons per state) or 1 (the paper's code family, SKTB/QMMM2, whose energies are exactly half).
        SpinFactor: float
        /// Dense linear-algebra backend (default `LinearAlgebra.defaultBackend`).
        Backend: Backend
    }

    /// Si sp parameters, `original` cutoff, μ = 5.5212408 eV, zero temperature, Γ only, spin factor 2, default backend.
    static member Defaults =
        { Parameters = NrlTb.siliconSp
          Cutoff = NrlCutoff.Original
          ChemicalPotential = 5.5212408
          Temperature = 0.0
          KPoints = KGrid.Gamma
          SpinFactor = 2.0
          Backend = LinearAlgebra.defaultBackend }

/// The spectrum of one configuration (for band edges, gaps and warnings about levels near μ).
type TightBindingSpectrum =
    {
        /// Fractional k-points (3 each) after time-reversal reduction.
        KPoints: float[]
        /// Their weights (sum 1).
        Weights: float[]
        /// Eigenvalues (eV) of each k-point, ascending, one array per k-point (4N each).
        Levels: float[][]
    }

/// The NRL tight-binding model (Appendix D; Papaconstantopoulos–Mehl, Bernstein et al. PRB 62, 4477 (2000)) as a
/// whole-configuration model: Hamiltonian H and overlap M assembled from the neighbour list (Bloch sums at k ≠ 0),
/// the generalized eigenproblem H c = ε M c solved densely (LAPACK `dsygvd`), occupations at fixed μ, energy from the
/// eigenvalues, Mulliken-type site energies, Hellmann–Feynman forces with overlap and on-site-density terms from
/// density matrices formed with BLAS-3, the virial, and exact gradients of partial energies by first-order
/// perturbation theory.
///
/// k ≠ 0: the Hermitian problem (A + iB) c = ε (C + iD) c is solved through its exact real symmetric embedding
/// [[A, −B], [B, A]] (twice the size; every level appears twice, the embedded density matrices are the real forms of
/// the complex ones), so one real code path and `dsygvd` serve every k-point at twice the cost of `zhegvd`.
[<RequireQualifiedAccess>]
module TightBinding =

    /// Per-evaluation geometry of the neighbour-list entries: bond vectors, bond and overlap integrals with their
    /// radial derivatives, pseudo-density terms, on-site energies.
    type internal Geometry =
        {
            /// Bond vector R (3 per entry, Å); r = 0 marks an entry beyond Rc.
            R: float[]
            /// Distance (Å) per entry.
            Dist: float[]
            /// Bond integrals V_b (4 per entry, eV) then overlap integrals S_b (4 per entry), packed 8 per entry.
            Values: float[]
            /// Their radial derivatives (8 per entry, per Å).
            Derivs: float[]
            /// d(exp(−λ² r) fc)/dr per entry.
            DensityDeriv: float[]
            /// On-site energies (4 per atom, eV).
            OnSite: float[]
            /// dε_α/dρ (4 per atom, eV).
            OnSiteDeriv: float[]
        }

    /// Computes the entry geometry and on-site terms of `config` for the list `nl` (full).
    let internal geometry (o: TightBindingOptions) (config: Configuration) (nl: NeighbourList) : Geometry =
        let p = o.Parameters
        let rc = NrlTb.cutoffRadius p
        let np = nl.Pairs
        let n = config.Count
        let rv = Array.zeroCreate (3 * np)
        let dist = Array.zeroCreate np
        let vals = Array.zeroCreate (8 * np)
        let ders = Array.zeroCreate (8 * np)
        let dden = Array.zeroCreate np
        let onsite = Array.zeroCreate (4 * n)
        let donsite = Array.zeroCreate (4 * n)
        let x = config.Positions

        for a in 0 .. n - 1 do
            let mutable rho = 0.0

            for k in nl.Start.[a] .. nl.Start.[a + 1] - 1 do
                let v = Neighbours.vector nl x a k
                let r = Vec3.norm v

                if r < rc then
                    rv.[3 * k] <- v.X
                    rv.[3 * k + 1] <- v.Y
                    rv.[3 * k + 2] <- v.Z
                    dist.[k] <- r

                    for b in 0..3 do
                        let struct (h, dh) = NrlTb.bond p o.Cutoff b r
                        let struct (s, ds) = NrlTb.overlap p o.Cutoff b r
                        vals.[8 * k + b] <- h
                        ders.[8 * k + b] <- dh
                        vals.[8 * k + 4 + b] <- s
                        ders.[8 * k + 4 + b] <- ds

                    let struct (d, dd) = NrlTb.densityTerm p o.Cutoff r
                    rho <- rho + d
                    dden.[k] <- dd

            for alpha in 0..3 do
                let struct (e, de) = NrlTb.onSite p alpha rho
                onsite.[4 * a + alpha] <- e
                donsite.[4 * a + alpha] <- de

        { R = rv
          Dist = dist
          Values = vals
          Derivs = ders
          DensityDeriv = dden
          OnSite = onsite
          OnSiteDeriv = donsite }

    /// True when the k-point (fractional) is Γ for every image in the list: the matrices are then real.
    let private isGamma (k: float[]) (ko: int) =
        k.[ko] = 0.0 && k.[ko + 1] = 0.0 && k.[ko + 2] = 0.0

    /// Bloch phase angle 2π k·s of the packed image shift `key`.
    let inline private phase (k: float[]) (ko: int) (key: int) =
        2.0
        * Math.PI
        * (k.[ko] * float (ImageShift.axis key 0)
           + k.[ko + 1] * float (ImageShift.axis key 1)
           + k.[ko + 2] * float (ImageShift.axis key 2))

    /// Writes the real m×m (column-major) Hamiltonian `h` and overlap `s` at the k-point k[ko ..]: m = 4N at Γ, else
    /// m = 8N, the real embedding [[Re, −Im], [Im, Re]] of the Bloch sums H(k)_{aα,bβ} = δ_ab δ_αβ ε_α(ρ_a) +
    /// Σ_s B_αβ(R_ab + s·A) exp(2πi k·s). The outputs are overwritten (zeroed first).
    let internal assemble
        (threads: int)
        (g: Geometry)
        (nl: NeighbourList)
        (k: float[])
        (ko: int)
        (h: float[])
        (s: float[])
        =
        let n = nl.Count
        let norb = 4 * n
        let gamma = isGamma k ko
        let m = if gamma then norb else 2 * norb
        Array.Clear(h, 0, m * m)
        Array.Clear(s, 0, m * m)
        let chunks = min 8 (max 1 n)

        let run (c: int) =
            let blkH = Array.zeroCreate 16
            let blkS = Array.zeroCreate 16

            for a in c * n / chunks .. (c + 1) * n / chunks - 1 do
                for alpha in 0..3 do
                    let i = 4 * a + alpha
                    h.[i + i * m] <- h.[i + i * m] + g.OnSite.[4 * a + alpha]
                    s.[i + i * m] <- s.[i + i * m] + 1.0

                    if not gamma then
                        let i2 = i + norb
                        h.[i2 + i2 * m] <- h.[i2 + i2 * m] + g.OnSite.[4 * a + alpha]
                        s.[i2 + i2 * m] <- s.[i2 + i2 * m] + 1.0

                for e in nl.Start.[a] .. nl.Start.[a + 1] - 1 do
                    let r = g.Dist.[e]

                    if r > 0.0 then
                        let b = nl.Index.[e]
                        let ux = g.R.[3 * e] / r
                        let uy = g.R.[3 * e + 1] / r
                        let uz = g.R.[3 * e + 2] / r
                        SlaterKoster.spBlock g.Values (8 * e) ux uy uz blkH 0
                        SlaterKoster.spBlock g.Values (8 * e + 4) ux uy uz blkS 0

                        if gamma then
                            for alpha in 0..3 do
                                let i = 4 * a + alpha

                                for beta in 0..3 do
                                    let j = 4 * b + beta
                                    h.[i + j * m] <- h.[i + j * m] + blkH.[4 * alpha + beta]
                                    s.[i + j * m] <- s.[i + j * m] + blkS.[4 * alpha + beta]
                        else
                            let t = phase k ko nl.Image.[e]
                            let co = Math.Cos t
                            let si = Math.Sin t

                            for alpha in 0..3 do
                                let i = 4 * a + alpha
                                let i2 = i + norb

                                for beta in 0..3 do
                                    let j = 4 * b + beta
                                    let j2 = j + norb
                                    let vh = blkH.[4 * alpha + beta]
                                    let vs = blkS.[4 * alpha + beta]
                                    h.[i + j * m] <- h.[i + j * m] + co * vh
                                    h.[i2 + j2 * m] <- h.[i2 + j2 * m] + co * vh
                                    h.[i2 + j * m] <- h.[i2 + j * m] + si * vh
                                    h.[i + j2 * m] <- h.[i + j2 * m] - si * vh
                                    s.[i + j * m] <- s.[i + j * m] + co * vs
                                    s.[i2 + j2 * m] <- s.[i2 + j2 * m] + co * vs
                                    s.[i2 + j * m] <- s.[i2 + j * m] + si * vs
                                    s.[i + j2 * m] <- s.[i + j2 * m] - si * vs

        // each chunk writes only the rows of its own atoms: no races
        Parallel.For(0, chunks, ParallelOptions(MaxDegreeOfParallelism = threads), Action<int> run)
        |> ignore

        m

    /// Per-state energy e(ε) and occupation f(ε) = de/dε at fixed μ (see `TightBindingOptions.Temperature`): zero
    /// temperature e = ε θ(μ − ε), f = θ(μ − ε); Fermi–Dirac e = −kT log(1 + exp(−(ε − μ)/kT)) (the per-state grand
    /// potential, computed without overflow), f = 1/(1 + exp((ε − μ)/kT)).
    let inline occupation (mu: float) (kT: float) (eps: float) : struct (float * float) =
        if kT = 0.0 then
            if eps < mu then struct (eps, 1.0) else struct (0.0, 0.0)
        else
            let x = (eps - mu) / kT

            if x > 0.0 then
                let t = Math.Exp(-x)
                struct (-kT * Math.Log(1.0 + t), t / (1.0 + t))
            else
                let t = Math.Exp x
                struct ((eps - mu) - kT * Math.Log(1.0 + t), 1.0 / (1.0 + t))

    /// Divided differences of e and of φ(ε) = e(ε) ε between two levels (their derivatives f and fε + e for levels
    /// closer than 1e-7 eV, evaluated at the midpoint): the weights Γ1, Γ2 of first-order perturbation theory.
    let inline private divided (mu: float) (kT: float) (es: float) (et: float) : struct (float * float) =
        if abs (es - et) < 1e-7 then
            let em = 0.5 * (es + et)
            let struct (e, f) = occupation mu kT em
            struct (f, f * em + e)
        else
            let struct (a, _) = occupation mu kT es
            let struct (b, _) = occupation mu kT et
            struct ((a - b) / (es - et), (a * es - b * et) / (es - et))

    /// The force kernel: adds to `forces` (3N, −∂/∂y) and `virial` (9, −∂/∂ε) the derivatives of ⟨H(y), D⟩ − ⟨M(y), W⟩
    /// with the m×m matrices D and W held fixed (Hellmann–Feynman with overlap terms, and the on-site terms through
    /// dρ/dy), for the k-point k[ko ..] (m = 4N at Γ, 8N embedded). Chunked per-thread buffers, reduced in chunk order.
    let internal addForces
        (threads: int)
        (g: Geometry)
        (nl: NeighbourList)
        (k: float[])
        (ko: int)
        (m: int)
        (d: float[])
        (w: float[])
        (forces: float[])
        (virial: float[])
        =
        let n = nl.Count
        let norb = 4 * n
        let gamma = m = norb
        let chunks = min 8 (max 1 n)
        let fb = Array.init chunks (fun _ -> Array.zeroCreate (3 * n))
        let vb = Array.init chunks (fun _ -> Array.zeroCreate 9)

        let run (c: int) =
            let xh = Array.zeroCreate 16
            let xs = Array.zeroCreate 16
            let f = fb.[c]
            let vir = vb.[c]

            for a in c * n / chunks .. (c + 1) * n / chunks - 1 do
                // ∂/∂ρ_a of ⟨H, D⟩ through the on-site energies
                let mutable pa = 0.0

                for alpha in 0..3 do
                    let i = 4 * a + alpha

                    let dii =
                        if gamma then
                            d.[i + i * m]
                        else
                            d.[i + i * m] + d.[i + norb + (i + norb) * m]

                    pa <- pa + dii * g.OnSiteDeriv.[4 * a + alpha]

                for e in nl.Start.[a] .. nl.Start.[a + 1] - 1 do
                    let r = g.Dist.[e]

                    if r > 0.0 then
                        let b = nl.Index.[e]

                        if gamma then
                            for alpha in 0..3 do
                                let i = 4 * a + alpha

                                for beta in 0..3 do
                                    let j = 4 * b + beta
                                    xh.[4 * alpha + beta] <- d.[i + j * m]
                                    xs.[4 * alpha + beta] <- w.[i + j * m]
                        else
                            let t = phase k ko nl.Image.[e]
                            let co = Math.Cos t
                            let si = Math.Sin t

                            for alpha in 0..3 do
                                let i = 4 * a + alpha
                                let i2 = i + norb

                                for beta in 0..3 do
                                    let j = 4 * b + beta
                                    let j2 = j + norb

                                    xh.[4 * alpha + beta] <-
                                        co * (d.[i + j * m] + d.[i2 + j2 * m]) + si * (d.[i2 + j * m] - d.[i + j2 * m])

                                    xs.[4 * alpha + beta] <-
                                        co * (w.[i + j * m] + w.[i2 + j2 * m]) + si * (w.[i2 + j * m] - w.[i + j2 * m])

                        let rx = g.R.[3 * e]
                        let ry = g.R.[3 * e + 1]
                        let rz = g.R.[3 * e + 2]
                        let gh = SlaterKoster.contractGradient xh 0 g.Values g.Derivs (8 * e) rx ry rz
                        let gs = SlaterKoster.contractGradient xs 0 g.Values g.Derivs (8 * e + 4) rx ry rz
                        let cd = pa * g.DensityDeriv.[e] / r
                        let gx = gh.X - gs.X + cd * rx
                        let gy = gh.Y - gs.Y + cd * ry
                        let gz = gh.Z - gs.Z + cd * rz
                        // R = y_b + s·A − y_a: ∂E/∂y_b = +G, ∂E/∂y_a = −G
                        f.[3 * a] <- f.[3 * a] + gx
                        f.[3 * a + 1] <- f.[3 * a + 1] + gy
                        f.[3 * a + 2] <- f.[3 * a + 2] + gz
                        f.[3 * b] <- f.[3 * b] - gx
                        f.[3 * b + 1] <- f.[3 * b + 1] - gy
                        f.[3 * b + 2] <- f.[3 * b + 2] - gz
                        vir.[0] <- vir.[0] - rx * gx
                        vir.[1] <- vir.[1] - rx * gy
                        vir.[2] <- vir.[2] - rx * gz
                        vir.[3] <- vir.[3] - ry * gx
                        vir.[4] <- vir.[4] - ry * gy
                        vir.[5] <- vir.[5] - ry * gz
                        vir.[6] <- vir.[6] - rz * gx
                        vir.[7] <- vir.[7] - rz * gy
                        vir.[8] <- vir.[8] - rz * gz

        Parallel.For(0, chunks, ParallelOptions(MaxDegreeOfParallelism = threads), Action<int> run)
        |> ignore

        for c in 0 .. chunks - 1 do
            let f = fb.[c]

            for x in 0 .. f.Length - 1 do
                forces.[x] <- forces.[x] + f.[x]

            for x in 0..8 do
                virial.[x] <- virial.[x] + vb.[c].[x]

    /// C diag(weights) Cᵀ over the first `cols` columns of the m×m column-major C, into `out` (m×m, overwritten).
    let internal weightedProduct
        (backend: Backend)
        (m: int)
        (c: float[])
        (weights: float[])
        (cols: int)
        (out: float[])
        =
        if cols = 0 then
            Array.Clear(out, 0, m * m)
        else
            let scaled = Array.zeroCreate (m * cols)

            for s in 0 .. cols - 1 do
                let ws = weights.[s]
                let o = s * m

                for i in 0 .. m - 1 do
                    scaled.[o + i] <- c.[o + i] * ws

            let lead = if cols = m then c else Array.sub c 0 (m * cols)
            LinearAlgebra.gemm backend (false, true, m, m, cols, 1.0, scaled, lead, 0.0, out)

    /// Checks the k-point grid against the cell's periodicity (one point along every open axis).
    let private checkGrid (o: TightBindingOptions) (config: Configuration) =
        for i in 0..2 do
            if not config.Cell.Pbc.[i] && o.KPoints.Divisions.[i] <> 1 then
                raise (
                    QmmmException(
                        sprintf
                            "the k-point grid %dx%dx%d has %d points along axis %d, which is not periodic (use 1)"
                            o.KPoints.Divisions.[0]
                            o.KPoints.Divisions.[1]
                            o.KPoints.Divisions.[2]
                            o.KPoints.Divisions.[i]
                            (i + 1)
                    )
                )

    /// Raises unless the options are valid (μ finite, kT >= 0, spin factor > 0, grid of 3 positive divisions).
    let validate (o: TightBindingOptions) =
        Validate.finite "ChemicalPotential" o.ChemicalPotential
        Validate.nonNegative "Temperature" o.Temperature
        Validate.finite "Temperature" o.Temperature
        Validate.positive "SpinFactor" o.SpinFactor
        KPoints.grid o.KPoints |> ignore

    /// The eigenvalues (eV, ascending, 4N) of H(k) c = ε M(k) c at the fractional k-point (k1, k2, k3) (reciprocal
    /// basis; only periodic axes may have k ≠ 0) for `config` and a neighbour list current for it with cutoff >= Rc.
    let levelsAt (o: TightBindingOptions) (config: Configuration) (nl: NeighbourList) (k: float[]) : float[] =
        validate o
        Validate.length "k" 3 k

        for i in 0..2 do
            if not config.Cell.Pbc.[i] && k.[i] <> 0.0 then
                invalidArg "k" (sprintf "k[%d] = %g along a non-periodic axis" i k.[i])

        let nl = if nl.Half then Neighbours.toFull nl else nl
        let g = geometry o config nl
        let norb = 4 * config.Count
        let m0 = if isGamma k 0 then norb else 2 * norb
        let h = Array.zeroCreate (m0 * m0)
        let s = Array.zeroCreate (m0 * m0)
        let m = assemble 1 g nl k 0 h s
        let struct (eps, _) = LinearAlgebra.generalizedSymmetricEigen o.Backend (h, s, m)

        if m = norb then
            eps
        else
            // every level of the embedding appears twice
            Array.init norb (fun i -> 0.5 * (eps.[2 * i] + eps.[2 * i + 1]))

    /// The eigenvalues (eV) of H c = ε M c at every k-point of the options' grid (time-reversal reduced), for
    /// `config` and a neighbour list current for it with cutoff >= Rc: band edges, gaps, levels near μ.
    let spectrum (o: TightBindingOptions) (config: Configuration) (nl: NeighbourList) : TightBindingSpectrum =
        validate o
        checkGrid o config
        let struct (ks, ws) = KPoints.grid o.KPoints

        { KPoints = ks
          Weights = ws
          Levels = Array.init ws.Length (fun q -> levelsAt o config nl (Array.sub ks (3 * q) 3)) }

    /// Default half-width (eV) of the window around μ in which `levelWarning` reports levels at zero temperature.
    [<Literal>]
    let LevelWindow = 0.01

    /// At zero temperature, a warning when some level of `config` (any k-point of the grid) lies within `window` eV
    /// of μ: occupations, energies and forces jump when a level crosses μ, so forces are then discontinuous (use
    /// kT > 0). None at finite temperature or when every level is farther than `window` from μ. Costs one
    /// eigen-solve per k-point.
    let levelWarning (o: TightBindingOptions) (window: float) (config: Configuration) (nl: NeighbourList) =
        Validate.nonNegative "window" window

        if o.Temperature > 0.0 then
            None
        else
            let sp = spectrum o config nl
            let mutable closest = infinity
            let mutable count = 0

            for l in sp.Levels do
                for e in l do
                    let d = abs (e - o.ChemicalPotential)
                    closest <- min closest d

                    if d <= window then
                        count <- count + 1

            if count = 0 then
                None
            else
                Some(
                    sprintf
                        "%d level(s) within %g eV of eF = %.7f eV (closest %.3g eV): zero-temperature forces are discontinuous when a level crosses eF; consider kT > 0"
                        count
                        window
                        o.ChemicalPotential
                        closest
                )

    /// The eigen-decomposition and occupation weights of one k-point, the common core of `run`.
    [<NoComparison; NoEquality>]
    type private KSolve =
        { M: int
          Eps: float[]
          C: float[]
          S: float[]
          E: float[]
          F: float[]
          Cols: int }

    /// Dense m×m buffers kept between evaluations (in `Workspace.Scratch`): H, M, D, W at Γ and in the embedding,
    /// reallocated only when the size changes (STYLE 11).
    [<Sealed>]
    type internal Scratch() =
        let buffers: float[][] = Array.create 8 [||]

        /// Buffer `slot` (0 H, 1 M, 2 D, 3 W) for the Γ (`gamma`) or embedded size, exactly `length` entries.
        member _.Get(slot: int, gamma: bool, length: int) =
            let i = 2 * slot + (if gamma then 0 else 1)

            if buffers.[i].Length <> length then
                buffers.[i] <- Array.zeroCreate length

            buffers.[i]

    /// Solves one k-point and computes the scaled per-state energies e and occupations f (including spin factor,
    /// k-weight and the ½ of the embedding) and the number of leading states with non-negligible occupation.
    let private solve (o: TightBindingOptions) (scratch: Scratch) (threads: int) (g: Geometry) nl ks q (weight: float) =
        let norb = 4 * (nl: NeighbourList).Count
        let gamma = isGamma ks (3 * q)
        let m0 = if gamma then norb else 2 * norb
        let h = scratch.Get(0, gamma, m0 * m0)
        let s = scratch.Get(1, gamma, m0 * m0)
        let m = assemble threads g nl ks (3 * q) h s
        let struct (eps, c) = LinearAlgebra.generalizedSymmetricEigen o.Backend (h, s, m)
        let scale = o.SpinFactor * weight * (if m = norb then 1.0 else 0.5)
        let e = Array.zeroCreate m
        let f = Array.zeroCreate m
        let mutable cols = 0

        for i in 0 .. m - 1 do
            let struct (ei, fi) = occupation o.ChemicalPotential o.Temperature eps.[i]
            e.[i] <- scale * ei
            f.[i] <- scale * fi

            if fi > 1e-16 || (o.Temperature = 0.0 && fi > 0.0) then
                cols <- i + 1

        { M = m
          Eps = eps
          C = c
          S = s
          E = e
          F = f
          Cols = cols }

    /// Constant μ N₀ per atom (spin factor included) that makes the Fermi–Dirac grand potential tend to the
    /// zero-temperature energy (0 at zero temperature).
    let private offsetPerAtom (o: TightBindingOptions) =
        if o.Temperature = 0.0 then
            0.0
        else
            o.SpinFactor * o.ChemicalPotential * float o.Parameters.Valence / 2.0

    /// The whole evaluation: energy (from the eigenvalues), optional site energies, forces and virial, or the partial
    /// energy of the sites selected by `sites` (non-empty mask) with its exact gradient by first-order perturbation
    /// theory. `nl` must be a full list current for `config` with cutoff >= Rc.
    let internal run
        (o: TightBindingOptions)
        (scratch: Scratch)
        (threads: int)
        (config: Configuration)
        (nl: NeighbourList)
        (wantForces: bool)
        (wantSites: bool)
        (sites: bool[])
        (site: float[])
        (forces: float[])
        (virial: float[])
        : float =
        validate o
        checkGrid o config
        let n = config.Count
        let norb = 4 * n
        let g = geometry o config nl
        let struct (ks, ws) = KPoints.grid o.KPoints
        let partial = sites.Length > 0
        let offset = offsetPerAtom o
        let be = o.Backend
        let mutable energy = 0.0

        if wantSites || partial then
            Array.Clear(site, 0, n)

        if wantForces then
            Array.Clear(forces, 0, 3 * n)
            Array.Clear(virial, 0, 9)

        for q in 0 .. ws.Length - 1 do
            let r = solve o scratch threads g nl ks q ws.[q]
            let m = r.M
            let c = r.C
            let orbitalAtom (i: int) = (if i >= norb then i - norb else i) / 4

            if not partial then
                for i in 0 .. m - 1 do
                    energy <- energy + r.E.[i]

            // D_e = C diag(e) Cᵀ (W at zero temperature, where e = f ε)
            let needDe = wantSites || partial

            let dmat =
                if wantForces && not partial then
                    scratch.Get(2, (m = norb), m * m)
                else
                    [||]

            let wmat =
                if wantForces || needDe then
                    scratch.Get(3, (m = norb), m * m)
                else
                    [||]

            if wantForces && not partial then
                weightedProduct be m c r.F r.Cols dmat

            let fe = Array.init r.Cols (fun i -> r.F.[i] * r.Eps.[i])

            if wmat.Length > 0 then
                weightedProduct be m c fe r.Cols wmat

            let de =
                if not needDe then
                    [||]
                elif o.Temperature = 0.0 then
                    wmat
                else
                    let x = Array.zeroCreate (m * m)
                    weightedProduct be m c r.E r.Cols x
                    x

            if needDe then
                // Mulliken-type split: E_ℓ = Σ_{a∈ℓ} (D_e M)_aa
                for i in 0 .. m - 1 do
                    let mutable acc = 0.0

                    for j in 0 .. m - 1 do
                        acc <- acc + de.[i + j * m] * r.S.[j + i * m]

                    let l = orbitalAtom i
                    site.[l] <- site.[l] + acc

            if wantForces && not partial then
                addForces threads g nl ks (3 * q) m dmat wmat forces virial
            elif partial then
                // first-order perturbation theory (Daleckii–Krein): dD_e = C (Γ1∘Y − Γ2∘Z) Cᵀ with Y = Cᵀ δH C,
                // Z = Cᵀ δM C; dE_S = ⟨δH, C(Γ1∘Q)Cᵀ⟩ − ⟨δM, C(Γ2∘Q)Cᵀ⟩ + ⟨δM, sym(Π_S D_e)⟩, Q = sym(Cᵀ M Π_S C)
                for i in 0 .. m - 1 do
                    if sites.[orbitalAtom i] then
                        let mutable acc = 0.0

                        for j in 0 .. m - 1 do
                            acc <- acc + de.[i + j * m] * r.S.[j + i * m]

                        energy <- energy + acc

                if wantForces then
                    let cs = Array.copy c

                    for i in 0 .. m - 1 do
                        if not sites.[orbitalAtom i] then
                            for s in 0 .. m - 1 do
                                cs.[i + s * m] <- 0.0

                    let t1 = Array.zeroCreate (m * m)
                    LinearAlgebra.gemm be (false, false, m, m, m, 1.0, r.S, cs, 0.0, t1)
                    let qm = Array.zeroCreate (m * m)
                    LinearAlgebra.gemm be (true, false, m, m, m, 1.0, c, t1, 0.0, qm)
                    let scale = o.SpinFactor * ws.[q] * (if m = norb then 1.0 else 0.5)
                    let a1 = Array.zeroCreate (m * m)
                    let a2 = Array.zeroCreate (m * m)

                    for t in 0 .. m - 1 do
                        for s in 0 .. m - 1 do
                            let qs = 0.5 * (qm.[s + t * m] + qm.[t + s * m])
                            let struct (g1, g2) = divided o.ChemicalPotential o.Temperature r.Eps.[s] r.Eps.[t]
                            a1.[s + t * m] <- scale * g1 * qs
                            a2.[s + t * m] <- scale * g2 * qs

                    let tmp = Array.zeroCreate (m * m)
                    let dt = Array.zeroCreate (m * m)
                    let wt = Array.zeroCreate (m * m)
                    LinearAlgebra.gemm be (false, false, m, m, m, 1.0, c, a1, 0.0, tmp)
                    LinearAlgebra.gemm be (false, true, m, m, m, 1.0, tmp, c, 0.0, dt)
                    LinearAlgebra.gemm be (false, false, m, m, m, 1.0, c, a2, 0.0, tmp)
                    LinearAlgebra.gemm be (false, true, m, m, m, 1.0, tmp, c, 0.0, wt)
                    // W̃ − sym(Π_S D_e)
                    for j in 0 .. m - 1 do
                        let sj = sites.[orbitalAtom j]

                        for i in 0 .. m - 1 do
                            let si = sites.[orbitalAtom i]
                            let x = (if si then 0.5 else 0.0) + (if sj then 0.5 else 0.0)

                            if x > 0.0 then
                                wt.[i + j * m] <- wt.[i + j * m] - x * de.[i + j * m]

                    addForces threads g nl ks (3 * q) m dt wt forces virial

        if offset <> 0.0 then
            if partial then
                for l in 0 .. n - 1 do
                    if sites.[l] then
                        energy <- energy + offset
            else
                energy <- energy + offset * float n

            if wantSites || partial then
                for l in 0 .. n - 1 do
                    site.[l] <- site.[l] + offset

        if partial then
            for l in 0 .. n - 1 do
                if not sites.[l] then
                    site.[l] <- 0.0

        energy

    /// One line describing the options for reports: parameters, cutoff variant, μ, occupation, k-grid, spin factor.
    let describe (o: TightBindingOptions) =
        let occ =
            if o.Temperature = 0.0 then
                "zero temperature"
            else
                sprintf "Fermi-Dirac kT = %g eV (beta = %g/eV), grand potential" o.Temperature (1.0 / o.Temperature)

        sprintf
            "NRL-TB %s sp, cutoff %A (Rc = %.4f A), eF = %.7f eV, %s, k-grid %dx%dx%d%s, spin factor %g"
            o.Parameters.Element
            o.Cutoff
            (NrlTb.cutoffRadius o.Parameters)
            o.ChemicalPotential
            occ
            o.KPoints.Divisions.[0]
            o.KPoints.Divisions.[1]
            o.KPoints.Divisions.[2]
            (if o.KPoints.GammaCentred then
                 " (Gamma-centred)"
             else
                 " (Monkhorst-Pack)")
            o.SpinFactor

    /// The model's name, carrying the settings every report must show: "nrltb-si(spin=2,eF=5.5212408,kT=0,k=1x1x1)"
    /// (",mp" after the grid for Monkhorst–Pack grids, ",cutoff=…" for a cutoff variant other than the original).
    let name (o: TightBindingOptions) =
        let d = o.KPoints.Divisions

        sprintf
            "nrltb-%s(spin=%g,eF=%.10g,kT=%g,k=%dx%dx%d%s%s)"
            (o.Parameters.Element.ToLowerInvariant())
            o.SpinFactor
            o.ChemicalPotential
            o.Temperature
            d.[0]
            d.[1]
            d.[2]
            (if o.KPoints.GammaCentred then "" else ",mp")
            (match o.Cutoff with
             | NrlCutoff.Original -> ""
             | NrlCutoff.EnergyShift -> ",cutoff=energyshift"
             | NrlCutoff.ForceShift -> ",cutoff=forceshift")

    /// The site energy of the centre (at the origin) of the isolated cluster made of the centre, the neighbours
    /// rs[3·offset ..] (`count` of them, moving) and the `frozen` positions, and, when `grad` is not empty, its
    /// gradient with respect to the moving neighbours written to grad[3·offset ..] (perturbation theory).
    let private clusterSite
        (o: TightBindingOptions)
        (frozen: Vec3[])
        (rs: float[])
        (offset: int)
        (count: int)
        (grad: float[])
        =
        let total = count + 1 + frozen.Length
        let pos = Array.zeroCreate (3 * total)
        Array.blit rs (3 * offset) pos 3 (3 * count)

        for i in 0 .. frozen.Length - 1 do
            Vec3.set pos (count + 1 + i) frozen.[i]

        let mutable ext = 1.0

        for x in pos do
            ext <- max ext (abs x)

        let side = 2.0 * ext + 1.0

        let config =
            { Species = Array.create total o.Parameters.Element
              Positions = pos
              Cell =
                Cell.create
                    (Vec3(side, 0.0, 0.0))
                    (Vec3(0.0, side, 0.0))
                    (Vec3(0.0, 0.0, side))
                    [| false; false; false |] }

        let opts = { o with KPoints = KGrid.Gamma }
        let nl = Neighbours.build (NrlTb.cutoffRadius o.Parameters) config
        let sites = Array.zeroCreate total
        sites.[0] <- true
        let wantForces = grad.Length > 0
        let f = Array.zeroCreate (3 * total)

        let e =
            run opts (Scratch()) 1 config nl wantForces false sites (Array.zeroCreate total) f (Array.zeroCreate 9)

        if wantForces then
            for k in 0 .. count - 1 do
                for b in 0..2 do
                    grad.[3 * (offset + k) + b] <- -f.[3 * (k + 1) + b]

        e

    /// The buffered site form (see `bufferedSite`).
    [<Sealed>]
    type private BufferedSite(o: TightBindingOptions, frozen: Vec3[], buffer: float) =
        let rc = NrlTb.cutoffRadius o.Parameters
        let name = (name o).TrimEnd(')') + sprintf ",buffer=%g)" buffer

        interface ISitePotential with
            member _.Name = name
            member _.Cutoff = rc
            member _.Elements = [| o.Parameters.Element |]

            member _.SiteEnergy(_zi, rs, _zs, offset, count) =
                clusterSite o frozen rs offset count [||]

            member _.SiteGradient(_zi, rs, _zs, offset, count, grad) =
                clusterSite o frozen rs offset count grad

    /// The model as a whole-configuration `IPotential` and, for derivative tensors through the non-pooled route, an
    /// `ISitePotential` whose site energy V(g) is the site energy of the centre of the isolated cluster made of the
    /// centre and its neighbours g (the cluster route V_ℓ^Ω with Ω = the neighbours within Rc), with the exact
    /// gradient by perturbation theory.
    [<Sealed>]
    type private Model(o: TightBindingOptions) =
        let rc = NrlTb.cutoffRadius o.Parameters
        let name = name o

        /// The options the model was built with.
        member _.Options = o

        member private _.Site(rs: float[], offset: int, count: int, grad: float[]) =
            clusterSite o [||] rs offset count grad

        interface IPotential with
            member _.Name = name
            member _.Elements = [| o.Parameters.Element |]
            member _.Cutoff = rc
            member _.HasSiteEnergies = true

            member _.Evaluate(config, nl, request, ws) =
                let nl = if nl.Half then Neighbours.toFull nl else nl

                let scratch =
                    match ws.Scratch with
                    | :? Scratch as s -> s
                    | _ ->
                        let s = Scratch()
                        ws.Scratch <- s
                        s

                let e =
                    run
                        o
                        scratch
                        request.Settings.Threads
                        config
                        nl
                        request.Forces
                        request.SiteEnergies
                        request.Sites
                        ws.SiteEnergies
                        ws.Forces
                        ws.Virial

                ws.Energy <- e

        interface ISitePotential with
            member _.Name = name
            member _.Cutoff = rc
            member _.Elements = [| o.Parameters.Element |]
            member m.SiteEnergy(_zi, rs, _zs, offset, count) = m.Site(rs, offset, count, [||])

            member m.SiteGradient(_zi, rs, _zs, offset, count, grad) = m.Site(rs, offset, count, grad)

    /// The NRL tight-binding model with options `o` as a whole-configuration model (named by `name`). It also
    /// implements `ISitePotential` (see `Potential.trySite`) with the cluster site energy described on the type, so
    /// derivative tensors go through `DifferenceDerivatives`. Raises ArgumentException for invalid options.
    let model (o: TightBindingOptions) : IPotential =
        validate o
        Model(o) :> IPotential

    /// The options of `pot` when it is an NRL tight-binding model built by `model`, else None.
    let optionsOf (pot: IPotential) : TightBindingOptions option =
        match box pot with
        | :? Model as m -> Some m.Options
        | _ -> None

    /// A site form for derivative tensors at the homogeneous lattice `lattice` closer to the bulk site energy than the
    /// bare cluster of `model`: V(g) is the site energy of the centre of the cluster made of the centre, its
    /// neighbours g within Rc (moving) and the lattice sites with Rc <= |ρ| < Rc + `buffer` (Å, >= 0) frozen at
    /// their lattice positions (the cluster route V_ℓ^Ω with a frozen buffer); gradient by perturbation theory.
    /// Use it with `DifferenceDerivatives.siteTensors` and the stencil `Lattice.stencil lattice Rc`.
    let bufferedSite (o: TightBindingOptions) (lattice: Lattice) (buffer: float) : ISitePotential =
        validate o
        Validate.nonNegative "buffer" buffer
        Validate.finite "buffer" buffer
        let rc = NrlTb.cutoffRadius o.Parameters

        let frozen =
            Lattice.stencil lattice (rc + buffer)
            |> Array.filter (fun p -> Vec3.norm p >= rc)

        BufferedSite(o, frozen, buffer) :> ISitePotential
