namespace Qmmm.Numerics

open System
open System.Globalization

/// The two LAMMPS setfl dialects: `eam/alloy` (one density function per element) and `eam/fs` (Finnis–Sinclair:
/// one density function per ordered element pair).
type SetflKind =
    /// `pair_style eam/alloy`.
    | Alloy
    /// `pair_style eam/fs`.
    | FinnisSinclair

/// The content of a LAMMPS setfl file, as tabulated (no interpolation yet). Tables are 0-based: entry m holds the value
/// at ρ = m·Drho or r = m·Dr (LAMMPS's grids start at 0).
type SetflData =
    {
        /// Dialect the file was read as.
        Kind: SetflKind
        /// File name used in messages.
        Source: string
        /// The three comment lines of the header.
        Comments: string[]
        /// Element symbols in file order (species-index order of the model).
        Elements: string[]
        /// Atomic number of each element.
        AtomicNumbers: int[]
        /// Mass of each element (u).
        Masses: float[]
        /// Lattice constant of each element's header line (Å; NaN when the line omits it).
        LatticeConstants: float[]
        /// Lattice type of each element's header line ("" when the line omits it).
        LatticeTypes: string[]
        /// Number of points of the density grid.
        Nrho: int
        /// Spacing of the density grid.
        Drho: float
        /// Number of points of the distance grid.
        Nr: int
        /// Spacing of the distance grid (Å).
        Dr: float
        /// Cutoff radius (Å).
        Cutoff: float
        /// Embedding tables F_a(m·Drho) (eV), one per element (Nrho values each).
        Embedding: float[][]
        /// Density tables (Nr values each). Alloy: one per element, the density an atom of that element contributes.
        /// FinnisSinclair: n² tables in file order, index i·n + j = block j of element i's section; an atom of
        /// element i contributes block j to a host of element j (LAMMPS's `type2rhor[jtype][itype]`).
        Density: float[][]
        /// r·φ_ab(m·Dr) (eV Å), n² tables indexed a·n + b, symmetric (the file stores the lower triangle).
        RPhi: float[][]
    }

/// Limits a setfl file is checked against when parsed (defaults in `SetflLimits.defaults`; the Host overrides them from
/// its `Limits`, i.e. the QMMM_* environment variables named below).
type SetflLimits =
    {
        /// Largest number of elements (default 118; QMMM_MAX_ELEMENTS).
        MaxElements: int
        /// Largest Nrho or Nr (default 10,000,000; QMMM_MAX_TABLE).
        MaxGridPoints: int
        /// Smallest cutoff (Å; default 0.5; QMMM_MIN_CUTOFF).
        MinCutoff: float
        /// Largest cutoff (Å; default 30; QMMM_MAX_CUTOFF).
        MaxCutoff: float
        /// Largest magnitude of a tabulated value (default 1e10; QMMM_MAX_TABLE_VALUE).
        MaxValue: float
    }

/// The default setfl limits.
[<RequireQualifiedAccess>]
module SetflLimits =
    /// Defaults: 118 elements, 10^7 grid points, cutoff in [0.5, 30] Å, |table value| <= 1e10.
    let defaults =
        { MaxElements = 118
          MaxGridPoints = 10_000_000
          MinCutoff = 0.5
          MaxCutoff = 30.0
          MaxValue = 1e10 }

/// Reader of LAMMPS setfl potential files (`eam/alloy`, `eam/fs`) and the EAM model that interpolates them exactly as
/// LAMMPS's `pair_style eam/alloy` and `eam/fs` do. Pure: takes the text, does no file I/O.
[<RequireQualifiedAccess>]
module Setfl =

    /// Raises the parser's QmmmException "source:line: field 'name': message".
    let private fail (source: string) (line: int) (field: string) (message: string) : 'a =
        raise (QmmmException(sprintf "%s:%d: field '%s': %s" source line field message))

    /// Line-oriented cursor over the text (1-based line numbers in messages).
    type private Cursor(source: string, text: string) =
        let lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n')
        // number of lines, not counting the empty string after a final newline
        let count =
            if lines.Length > 0 && lines.[lines.Length - 1] = "" then
                lines.Length - 1
            else
                lines.Length

        let mutable next = 0

        /// Number of characters of the text.
        member _.Length = text.Length
        /// Number of the line read last (1-based).
        member _.Line = next
        /// Number of lines in the text.
        member _.Count = count

        /// The next line (whole), or a failure naming `field` when the text has ended.
        member _.Take(field: string) =
            if next >= count then
                fail source (count + 1) field "the file ended before this line"

            next <- next + 1
            lines.[next - 1]

        /// True when a line is left.
        member _.HasMore = next < count

    let private separators = [| ' '; '\t'; '\f'; '\v' |]

    let private tokens (line: string) =
        line.Split(separators, StringSplitOptions.RemoveEmptyEntries)

    let private parseInt (source: string) (line: int) (field: string) (token: string) =
        match Int32.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture) with
        | true, v -> v
        | _ -> fail source line field (sprintf "expected an integer, got '%s'" token)

    let private parseFloat (source: string) (line: int) (field: string) (token: string) =
        match Double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture) with
        | true, v when not (Double.IsNaN v || Double.IsInfinity v) -> v
        | _ -> fail source line field (sprintf "expected a finite number, got '%s'" token)

    /// Reads `n` values spread over whole lines (several per line allowed, blank lines skipped); the block must end
    /// at the end of a line (as LAMMPS's reader assumes).
    let private values (limits: SetflLimits) (source: string) (cur: Cursor) (n: int) (field: string) =
        // n values need at least 2n - 1 characters: a count the text cannot hold is refused before allocating
        if 2L * int64 n - 1L > int64 cur.Length then
            fail
                source
                (cur.Line + 1)
                field
                (sprintf
                    "expected %d values, more than the file's %d characters can hold (truncated table?)"
                    n
                    cur.Length)

        let out = Array.zeroCreate n
        let mutable i = 0

        while i < n do
            if not cur.HasMore then
                fail
                    source
                    cur.Line
                    field
                    (sprintf "expected %d values, the file ended after %d of them (truncated table)" n i)

            let t = tokens (cur.Take field)

            if i + t.Length > n then
                fail
                    source
                    cur.Line
                    field
                    (sprintf
                        "expected %d values, line has %d more than needed (a table must end at a line end)"
                        n
                        (i + t.Length - n))

            for tok in t do
                let v = parseFloat source cur.Line (sprintf "%s[%d]" field i) tok

                if abs v > limits.MaxValue then
                    fail
                        source
                        cur.Line
                        (sprintf "%s[%d]" field i)
                        (sprintf
                            "%g is not a plausible table value: magnitude above the limit %g (set QMMM_MAX_TABLE_VALUE to raise it)"
                            v
                            limits.MaxValue)

                out.[i] <- v
                i <- i + 1

        out

    /// Parses the text of a setfl file. `source` names the file in messages; `text` is its whole content.
    /// Layout: 3 comment lines; "n el_1 .. el_n"; "Nrho drho Nr dr cutoff"; per element a line "Z mass a0 lattice"
    /// followed by F(ρ) (Nrho values) and the density (Alloy: Nr values; FinnisSinclair: n blocks of Nr values); then
    /// r·φ for every pair (i, j <= i), Nr values each. Raises QmmmException "source:line: field 'name': problem" for a
    /// malformed header, a bad number, a truncated table or unexpected trailing data, and for a file outside `limits`:
    /// too many elements or grid points, a cutoff outside [MinCutoff, MaxCutoff], a distance grid that does not reach
    /// the cutoff to within one step, a non-finite density grid, or a table value above MaxValue in magnitude. Counts
    /// are checked before anything of their size is allocated.
    let parseWith (limits: SetflLimits) (kind: SetflKind) (source: string) (text: string) : SetflData =
        let values = values limits
        let cur = Cursor(source, text)
        let comments = Array.init 3 (fun k -> cur.Take(sprintf "comment %d" (k + 1)))
        // element line
        let elLine = tokens (cur.Take "nelements")
        let ln = cur.Line

        if elLine.Length = 0 then
            fail source ln "nelements" "expected the number of elements followed by their names, got an empty line"

        let n = parseInt source ln "nelements" elLine.[0]

        if n < 1 then
            fail source ln "nelements" (sprintf "expected at least 1 element, got %d" n)

        if n > limits.MaxElements then
            fail
                source
                ln
                "nelements"
                (sprintf "%d elements is above the limit %d (set QMMM_MAX_ELEMENTS to raise it)" n limits.MaxElements)

        if elLine.Length - 1 <> n then
            fail source ln "elements" (sprintf "expected %d element names, got %d" n (elLine.Length - 1))

        let elements = elLine.[1..]
        // grid line
        let grid = tokens (cur.Take "Nrho")
        let lg = cur.Line
        let names = [| "Nrho"; "drho"; "Nr"; "dr"; "cutoff" |]

        if grid.Length < 5 then
            fail source lg names.[grid.Length] "missing (expected Nrho drho Nr dr cutoff)"

        if grid.Length > 5 then
            fail source lg "cutoff" (sprintf "expected 5 fields (Nrho drho Nr dr cutoff), got %d" grid.Length)

        let nrho = parseInt source lg "Nrho" grid.[0]
        let drho = parseFloat source lg "drho" grid.[1]
        let nr = parseInt source lg "Nr" grid.[2]
        let dr = parseFloat source lg "dr" grid.[3]
        let cutoff = parseFloat source lg "cutoff" grid.[4]

        if nrho < 5 then
            fail source lg "Nrho" (sprintf "expected an integer >= 5, got %d" nrho)

        if nr < 5 then
            fail source lg "Nr" (sprintf "expected an integer >= 5, got %d" nr)

        if not (drho > 0.0) then
            fail source lg "drho" (sprintf "expected a positive spacing, got %g" drho)

        if not (dr > 0.0) then
            fail source lg "dr" (sprintf "expected a positive spacing, got %g" dr)

        if not (cutoff > 0.0) then
            fail source lg "cutoff" (sprintf "expected a positive cutoff, got %g" cutoff)

        if cutoff < limits.MinCutoff || cutoff > limits.MaxCutoff then
            fail
                source
                lg
                "cutoff"
                (sprintf
                    "%g Å is outside the accepted range [%g, %g] Å (set QMMM_MIN_CUTOFF / QMMM_MAX_CUTOFF to widen it)"
                    cutoff
                    limits.MinCutoff
                    limits.MaxCutoff)

        for (name, count) in [ "Nrho", nrho; "Nr", nr ] do
            if count > limits.MaxGridPoints then
                fail
                    source
                    lg
                    name
                    (sprintf
                        "%d grid points is above the limit %d (set QMMM_MAX_TABLE to raise it)"
                        count
                        limits.MaxGridPoints)

        if not (Double.IsFinite(float (nrho - 1) * drho)) then
            fail source lg "drho" (sprintf "the density grid (Nrho - 1) * drho = %d * %g is not finite" (nrho - 1) drho)

        // the r grid must reach the cutoff to within one step: beyond its end the tables are extrapolated
        if float (nr - 1) * dr < cutoff - dr then
            fail
                source
                lg
                "Nr"
                (sprintf
                    "the distance grid ends at (Nr - 1) * dr = %g Å, short of the cutoff %g Å by more than one step dr = %g Å"
                    (float (nr - 1) * dr)
                    cutoff
                    dr)

        let z = Array.zeroCreate n
        let mass = Array.zeroCreate n
        let a0 = Array.create n Double.NaN
        let lat = Array.create n ""
        let embedding = Array.zeroCreate n

        let density =
            Array.zeroCreate (
                match kind with
                | Alloy -> n
                | FinnisSinclair -> n * n
            )

        for i in 0 .. n - 1 do
            let el = elements.[i]
            let h = tokens (cur.Take(sprintf "Z[%s]" el))
            let lh = cur.Line

            if h.Length < 2 then
                fail
                    source
                    lh
                    (if h.Length = 0 then
                         sprintf "Z[%s]" el
                     else
                         sprintf "mass[%s]" el)
                    "missing (expected: atomic number, mass, lattice constant, lattice type)"

            z.[i] <- parseInt source lh (sprintf "Z[%s]" el) h.[0]
            mass.[i] <- parseFloat source lh (sprintf "mass[%s]" el) h.[1]

            if h.Length >= 3 then
                a0.[i] <- parseFloat source lh (sprintf "a0[%s]" el) h.[2]

            if h.Length >= 4 then
                lat.[i] <- h.[3]

            embedding.[i] <- values source cur nrho (sprintf "F[%s]" el)

            match kind with
            | Alloy -> density.[i] <- values source cur nr (sprintf "rho[%s]" el)
            | FinnisSinclair ->
                for j in 0 .. n - 1 do
                    density.[i * n + j] <- values source cur nr (sprintf "rho[%s,%s]" el elements.[j])

        let rphi = Array.zeroCreate (n * n)

        for i in 0 .. n - 1 do
            for j in 0..i do
                let t = values source cur nr (sprintf "r*phi[%s,%s]" elements.[i] elements.[j])
                rphi.[i * n + j] <- t
                rphi.[j * n + i] <- t

        while cur.HasMore do
            let rest = cur.Take "end"

            if (tokens rest).Length > 0 then
                fail source cur.Line "end" (sprintf "unexpected data after the last table: '%s'" (rest.Trim()))

        { Kind = kind
          Source = source
          Comments = comments
          Elements = elements
          AtomicNumbers = z
          Masses = mass
          LatticeConstants = a0
          LatticeTypes = lat
          Nrho = nrho
          Drho = drho
          Nr = nr
          Dr = dr
          Cutoff = cutoff
          Embedding = embedding
          Density = density
          RPhi = rphi }

    /// Parses the text of a setfl file with the default limits (`SetflLimits.defaults`); see `parseWith`.
    let parse (kind: SetflKind) (source: string) (text: string) : SetflData =
        parseWith SetflLimits.defaults kind source text

    /// LAMMPS's per-interval cubic of a uniformly tabulated function (PairEAM::interpolate, re-derived): node values
    /// f_m, derivative estimates s_m (one-sided differences at the first and last node, centred 3-point differences at
    /// the second and second-to-last, the 5-point stencil (f_{m-2} - f_{m+2} + 8 (f_{m+1} - f_{m-1}))/12 inside), and
    /// on each interval the cubic Hermite polynomial in p ∈ [0, 1] with those values and slopes. Coefficients per node
    /// (7 each, same layout as LAMMPS): 0..2 the derivative (per unit of the argument) as a quadratic in p, 3..6 the
    /// value as a cubic in p.
    type internal Spline =
        {
            /// Number of nodes.
            N: int
            /// Grid spacing.
            Delta: float
            /// 1 / Delta.
            Inverse: float
            /// 7 coefficients per node.
            C: float[]
        }

    /// Builds the LAMMPS cubic of a table with spacing `delta` (see `Spline`).
    let internal spline (delta: float) (f: float[]) : Spline =
        let n = f.Length
        let c = Array.zeroCreate (7 * n)
        // node m (1-based as in LAMMPS), coefficient q
        let inline at m q = 7 * (m - 1) + q

        for m in 1..n do
            c.[at m 6] <- f.[m - 1]

        c.[at 1 5] <- c.[at 2 6] - c.[at 1 6]
        c.[at 2 5] <- 0.5 * (c.[at 3 6] - c.[at 1 6])
        c.[at (n - 1) 5] <- 0.5 * (c.[at n 6] - c.[at (n - 2) 6])
        c.[at n 5] <- c.[at n 6] - c.[at (n - 1) 6]

        for m in 3 .. n - 2 do
            c.[at m 5] <-
                ((c.[at (m - 2) 6] - c.[at (m + 2) 6])
                 + 8.0 * (c.[at (m + 1) 6] - c.[at (m - 1) 6]))
                / 12.0

        for m in 1 .. n - 1 do
            let df = c.[at (m + 1) 6] - c.[at m 6]
            c.[at m 4] <- 3.0 * df - 2.0 * c.[at m 5] - c.[at (m + 1) 5]
            c.[at m 3] <- c.[at m 5] + c.[at (m + 1) 5] - 2.0 * df

        c.[at n 4] <- 0.0
        c.[at n 3] <- 0.0

        for m in 1..n do
            c.[at m 2] <- c.[at m 5] / delta
            c.[at m 1] <- 2.0 * c.[at m 4] / delta
            c.[at m 0] <- 3.0 * c.[at m 3] / delta

        { N = n
          Delta = delta
          Inverse = 1.0 / delta
          C = c }

    /// Value and derivatives (orders 1, 2, 3 per unit argument) of the node-m cubic at p (m 1-based).
    let inline private cubic (s: Spline) (m: int) (p: float) =
        let o = 7 * (m - 1)
        let c = s.C
        let v = ((c.[o + 3] * p + c.[o + 4]) * p + c.[o + 5]) * p + c.[o + 6]
        let d1 = (c.[o] * p + c.[o + 1]) * p + c.[o + 2]
        let d2 = (2.0 * c.[o] * p + c.[o + 1]) * s.Inverse
        let d3 = 2.0 * c.[o] * s.Inverse * s.Inverse
        struct (v, d1, d2, d3)

    /// Interval and local coordinate of a distance, as LAMMPS: p = r/dr + 1, m = min(⌊p⌋, N-1), p = min(p - m, 1).
    let inline private locateR (s: Spline) (r: float) =
        let p = r * s.Inverse + 1.0
        let m = if p >= float (s.N - 1) then s.N - 1 else int p
        struct (m, min (p - float m) 1.0)

    /// Value of a distance table at r (LAMMPS's rhor/z2r evaluation; beyond the last node the cubic is evaluated at
    /// p = 1, as LAMMPS does).
    let internal radialValue (s: Spline) (r: float) =
        let struct (m, p) = locateR s r
        let o = 7 * (m - 1)
        let c = s.C
        ((c.[o + 3] * p + c.[o + 4]) * p + c.[o + 5]) * p + c.[o + 6]

    /// Value and first derivative of a distance table at r (same cubic as `radialValue`).
    let internal radialSlope (s: Spline) (r: float) =
        let struct (m, p) = locateR s r
        let o = 7 * (m - 1)
        let c = s.C
        struct (((c.[o + 3] * p + c.[o + 4]) * p + c.[o + 5]) * p + c.[o + 6], (c.[o] * p + c.[o + 1]) * p + c.[o + 2])

    /// Value and derivatives of orders 1..3 of a distance table at r (same cubic as `radialValue`).
    let internal radial (s: Spline) (r: float) =
        let struct (m, p) = locateR s r
        cubic s m p

    /// Value and derivatives of an embedding table at ρ (LAMMPS's frho evaluation: m = max(1, min(⌊p⌋, Nrho-1)),
    /// p = min(p - m, 1); above ρ_max = (Nrho-1)·drho the energy continues linearly with the slope at ρ_max).
    let internal embedding (s: Spline) (rho: float) =
        let p = rho * s.Inverse + 1.0

        let m =
            if p < 1.0 then 1
            elif p >= float (s.N - 1) then s.N - 1
            else int p

        let q = min (p - float m) 1.0
        let struct (v, d1, d2, d3) = cubic s m q
        let rhoMax = float (s.N - 1) * s.Delta

        if rho > rhoMax then
            struct (v + d1 * (rho - rhoMax), d1, 0.0, 0.0)
        else
            struct (v, d1, d2, d3)

    /// A distance table as a `float -> float` function (value r ↦ cubic(r), or cubic(r)/r for r·φ tables, as
    /// `radialValue`) that also exposes its coefficients to the fast EAM evaluation (`ICubicTable`).
    [<Sealed>]
    type private TableFunction(s: Spline, role: CubicRole) =
        inherit FSharpFunc<float, float>()

        override _.Invoke(r: float) =
            match role with
            | CubicRole.OverR -> radialValue s r * (1.0 / r)
            | _ -> radialValue s r

        interface ICubicTable with
            member _.Nodes = s.N
            member _.Inverse = s.Inverse
            member _.Coefficients = s.C
            member _.Role = role

    /// The table function as an F# function value (F# function types are sealed to static coercion; the runtime
    /// type FSharpFunc<float, float> is its base class, so the cast always succeeds).
    let private asFunction (f: TableFunction) : float -> float = unbox<float -> float> (box f)

    /// A density (or any plain distance table) as a Radial: value and derivatives of the cubic (the Jet's fourth
    /// derivative is 0).
    let private densityRadial (s: Spline) : Radial =
        { F = asFunction (TableFunction(s, CubicRole.Plain))
          D =
            fun x ->
                let struct (v, d1) = radialSlope s x.V
                Dual.Chain(x, v, d1)
          J =
            fun x ->
                let struct (v, d1, d2, d3) = radial s x.C0
                Jet.Chain(x, v, d1, d2, d3, 0.0) }

    /// The pair function φ = (r·φ)/r from an r·φ table, as LAMMPS: φ = z2·(1/r), φ' = z2'·(1/r) - φ·(1/r).
    let private pairRadial (s: Spline) : Radial =
        { F = asFunction (TableFunction(s, CubicRole.OverR))
          D =
            fun x ->
                let struct (z2, z2p) = radialSlope s x.V
                let recip = 1.0 / x.V
                let phi = z2 * recip
                Dual(phi, (z2p * recip - phi * recip) * x.D)
          J =
            fun x ->
                let struct (z2, d1, d2, d3) = radial s x.C0
                Jet.Chain(x, z2, d1, d2, d3, 0.0) / x }

    /// An embedding table as a Radial (linear continuation above the table, as LAMMPS).
    let private embeddingRadial (s: Spline) : Radial =
        { F =
            fun rho ->
                let struct (v, _, _, _) = embedding s rho
                v
          D =
            fun x ->
                let struct (v, d1, _, _) = embedding s x.V
                Dual.Chain(x, v, d1)
          J =
            fun x ->
                let struct (v, d1, d2, d3) = embedding s x.C0
                Jet.Chain(x, v, d1, d2, d3, 0.0) }

    /// The EAM model of a parsed setfl file, interpolated exactly as LAMMPS's `pair_style eam/alloy` / `eam/fs`
    /// (PairEAM::array2spline and compute): per-interval cubics from the tabulated values (see `Spline`), φ = (r·φ)/r,
    /// r and ρ grids starting at 0, ρ above the table continued linearly, values and derivatives from the same cubic.
    /// Species order = `data.Elements`; cutoff = `data.Cutoff` (pairs with r >= cutoff do not interact).
    let model (name: string) (data: SetflData) : EamModel =
        let n = data.Elements.Length
        let pairs = data.RPhi |> Array.map (fun t -> pairRadial (spline data.Dr t))
        let dens = data.Density |> Array.map (fun t -> densityRadial (spline data.Dr t))

        let embeddings =
            data.Embedding |> Array.map (fun t -> embeddingRadial (spline data.Drho t))

        // Density[a*n+b]: host a, neighbour b
        let density =
            Array.init (n * n) (fun ab ->
                let a, b = ab / n, ab % n

                match data.Kind with
                | Alloy -> dens.[b]
                | FinnisSinclair -> dens.[b * n + a])

        { Name = name
          Elements = Array.copy data.Elements
          Cutoff = data.Cutoff
          Pair = pairs
          Density = density
          Embedding = embeddings }
