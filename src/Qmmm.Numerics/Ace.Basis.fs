namespace Qmmm.Numerics

open System
open System.Collections.Generic

/// Specification of a one-species linear ACE basis (paper Section 4.1, Appendix E; conventions of
/// /work/shared/reference/ace-basis.md, ACE1.jl 2021): correlation order N, total degree D, weight wL, radial basis.
type AceBasisSpec =
    {
        /// Correlation order N >= 1 (largest number of neighbours coupled in one basis function); 1 .. 6.
        Order: int
        /// Total degree D >= 1: a product of one-particle functions (n_t, l_t) is kept when Σ_t (n_t + wL l_t) <= D.
        Degree: float
        /// Weight wL > 0 of the angular degree; default 1.5.
        WL: float
        /// Radial basis parameters (R_n, n = 1 .. floor D).
        Radial: AceRadialSpec
    }

/// One block of the basis: one multiset of one-particle functions (n_t, l_t), t = 1..ν, and the rotation invariants
/// coupling its products. Basis function First + k is B = Re Σ_s U[k, s] Π_t A_{n_t l_t m_t(s)} over the columns s
/// (the m-tuples with Σ m = 0, sorted within groups of identical (n, l)).
type AceBlock =
    {
        /// Correlation order ν of the block (1 .. N).
        Order: int
        /// One-particle indices of the factors (into `AceBasis.N` / `AceBasis.L`), non-decreasing, ν entries.
        Factors: int[]
        /// Number of columns (m-tuples with Σ m = 0): the multiplicity of M = 0.
        Columns: int
        /// Number of m-tuples with Σ m = 1 (the multiplicity of M = 1; rows of the raising operator).
        Rows: int
        /// A-indices (into the atomic base, see `AceBasis.aIndex`) of the factors of each column, ν per column.
        ColumnIndices: int[]
        /// Number of invariants (basis functions) of the block: the null-space dimension of the raising operator.
        Dimension: int
        /// Coupling coefficients U[k, s] (Dimension × Columns, row-major): an orthonormal basis of the null space.
        Coupling: float[]
        /// Index of the block's first basis function.
        First: int
    }

/// A one-species ACE basis: the one-particle functions φ_nlm = R_n Y_lm, the atomic base A_nlm = Σ_j φ_nlm(r_j) and
/// the blocks of invariants, in a deterministic order (by order ν, then the multisets lexicographically by
/// one-particle index, then the null vectors).
type AceBasis =
    {
        /// The specification.
        Spec: AceBasisSpec
        /// The radial basis R_1 .. R_nmax.
        Radial: AceRadialBasis
        /// Recurrence constants of Y_lm, l <= LMax.
        Harmonics: SphericalHarmonicsTable
        /// Radial index n (>= 1) of each one-particle function (n, l), ordered by l, then n.
        N: int[]
        /// Angular degree l of each one-particle function.
        L: int[]
        /// Start of the atomic-base entries of degree l (element l): the entries of one l are stored m-major, n fastest,
        /// A-index of (n, l, m) = LBase[l] + (l + m) NCount[l] + n − 1 (see `AceBasis.aIndex`), so that the sums over n
        /// of the force loop run over contiguous memory.
        LBase: int[]
        /// Number of radial indices n = 1 .. NCount[l] selected with degree l (element l).
        NCount: int[]
        /// Number of atomic-base entries Σ_i (2 l_i + 1).
        ACount: int
        /// Largest l.
        LMax: int
        /// The blocks, in basis order.
        Blocks: AceBlock[]
        /// Number of basis functions.
        Size: int
        /// Number of basis functions of each correlation order ν = 1 .. N (element ν − 1).
        ByOrder: int[]
    }

/// Generation of the ACE basis (selection by order and degree, coupling by the null space of the raising operator L₊)
/// and a slow, direct evaluation of every basis function (the oracle for `AceModel`).
[<RequireQualifiedAccess>]
module AceBasis =

    /// The default specification for (N, D): wL = 1.5 and the default radial basis.
    let spec (order: int) (degree: float) =
        { Order = order
          Degree = degree
          WL = 1.5
          Radial = AceRadial.defaults }

    let private eps = 1e-9

    /// The A-index of one-particle function i (see `AceBasis.N`, `AceBasis.L`) and m, |m| <= l_i.
    let aIndex (b: AceBasis) (i: int) (m: int) =
        let l = b.L.[i]
        b.LBase.[l] + (l + m) * b.NCount.[l] + b.N.[i] - 1

    /// One-particle functions (n, l) with n + wL l <= D, n >= 1, ordered by l, then n.
    let oneParticle (s: AceBasisSpec) : struct (int[] * int[]) =
        let items = ResizeArray<struct (int * int)>()
        let mutable l = 0

        while 1.0 + s.WL * float l <= s.Degree + eps do
            let mutable n = 1

            while float n + s.WL * float l <= s.Degree + eps do
                items.Add(struct (n, l))
                n <- n + 1

            l <- l + 1

        struct (items.ToArray() |> Array.map (fun struct (n, _) -> n),
                items.ToArray() |> Array.map (fun struct (_, l) -> l))

    let private checkSpec (s: AceBasisSpec) =
        Validate.intInRange "spec.Order" 1 6 s.Order
        Validate.finite "spec.Degree" s.Degree

        if s.Degree < 1.0 then
            invalidArg "spec.Degree" (sprintf "spec.Degree must be >= 1, got %g" s.Degree)

        Validate.positive "spec.WL" s.WL

    /// The multisets (non-decreasing one-particle index tuples) of size 1 .. N that are kept: total degree <= D,
    /// l = 0 for ν = 1, Σ l even for ν >= 2; in order ν, then lexicographic.
    let multisets (s: AceBasisSpec) (n: int[]) (l: int[]) : int[][] =
        let out = ResizeArray<int[]>()
        let deg = Array.init n.Length (fun i -> float n.[i] + s.WL * float l.[i])

        for nu in 1 .. s.Order do
            let cur = Array.zeroCreate nu

            let rec go (pos: int) (from: int) (used: float) (lsum: int) =
                if pos = nu then
                    let keep = if nu = 1 then l.[cur.[0]] = 0 else lsum % 2 = 0

                    if keep then
                        out.Add(Array.copy cur)
                else
                    // every remaining factor has degree >= 1
                    for i in from .. n.Length - 1 do
                        if used + deg.[i] + float (nu - pos - 1) <= s.Degree + eps then
                            cur.[pos] <- i
                            go (pos + 1) i (used + deg.[i]) (lsum + l.[i])

            go 0 0 0.0 0

        out.ToArray()

    /// The m-tuples of a multiset with Σ m = total, sorted within runs of identical factors, lexicographic; flattened
    /// (ν entries each).
    let mTuples (factors: int[]) (l: int[]) (total: int) : int[] =
        let nu = factors.Length
        let out = ResizeArray<int>()
        let cur = Array.zeroCreate nu
        // suffix sums of l for pruning
        let rest = Array.zeroCreate (nu + 1)

        for p in nu - 1 .. -1 .. 0 do
            rest.[p] <- rest.[p + 1] + l.[factors.[p]]

        let rec go (pos: int) (sum: int) =
            if pos = nu then
                if sum = total then
                    out.AddRange cur
            else
                let lp = l.[factors.[pos]]

                let lo =
                    if pos > 0 && factors.[pos - 1] = factors.[pos] then
                        cur.[pos - 1]
                    else
                        -lp

                for m in lo..lp do
                    let s = sum + m
                    // the remaining positions can reach total only if |total - s| <= Σ remaining l
                    if abs (total - s) <= rest.[pos + 1] then
                        cur.[pos] <- m
                        go (pos + 1) s

        go 0 0
        out.ToArray()

    let private key (tuple: int[]) (offset: int) (nu: int) =
        let mutable k = 0L

        for p in 0 .. nu - 1 do
            k <- k * 64L + int64 (tuple.[offset + p] + 32)

        k

    /// The raising operator of a block from M = 0 (columns) to M = 1 (rows), dense rows × cols row-major: raising one
    /// copy of value u in a run of identical factors with degree l maps column s to the row tuple t (the last u of the
    /// run replaced by u + 1) with coefficient count_s(u) √((l − u)(l + u + 1)) (the coefficient on the product
    /// Π A, see /work/shared/reference/ace-basis.md).
    let raisingOperator (factors: int[]) (l: int[]) (cols: int[]) (rows: int[]) : float[] =
        let nu = factors.Length
        let nc = cols.Length / nu
        let nr = rows.Length / nu
        let lookup = Dictionary<int64, int>()

        for r in 0 .. nr - 1 do
            lookup.[key rows (r * nu) nu] <- r

        let m = Array.zeroCreate (nr * nc)
        let t = Array.zeroCreate nu

        for c in 0 .. nc - 1 do
            let o = c * nu
            // for each position p that is the last of its value u within its run
            for p in 0 .. nu - 1 do
                let u = cols.[o + p]
                let lp = l.[factors.[p]]

                let lastOfValue =
                    p = nu - 1 || factors.[p + 1] <> factors.[p] || cols.[o + p + 1] <> u

                if lastOfValue && u < lp then
                    let mutable count = 0
                    let mutable q = p

                    while q >= 0 && factors.[q] = factors.[p] && cols.[o + q] = u do
                        count <- count + 1
                        q <- q - 1

                    Array.blit cols o t 0 nu
                    t.[p] <- u + 1
                    let r = lookup.[key t 0 nu]

                    m.[r * nc + c] <- m.[r * nc + c] + float count * sqrt (float ((lp - u) * (lp + u + 1)))

        m

    /// An orthonormal basis of the null space of the rows × cols matrix `a` (row-major) of full row rank, from the
    /// Householder QR of aᵀ: the last cols − rows columns of Q. Returns (numerical rank of a, null vectors as rows of a
    /// (cols − rank) × cols array); raises ArgumentException when a is rank-deficient (|R_kk| <= 1e-10 max |R_jj|).
    let nullSpace (rows: int) (cols: int) (a: float[]) : struct (int * float[]) =
        // w = aᵀ, cols × rows, column-major: w[i + j cols] = a[j, i]
        let w = Array.zeroCreate (cols * rows)

        for j in 0 .. rows - 1 do
            for i in 0 .. cols - 1 do
                w.[i + j * cols] <- a.[j * cols + i]

        let vs = Array.zeroCreate (cols * rows)
        let betas = Array.zeroCreate rows
        let diag = Array.zeroCreate rows

        for k in 0 .. rows - 1 do
            let mutable norm = 0.0

            for i in k .. cols - 1 do
                norm <- norm + w.[i + k * cols] * w.[i + k * cols]

            norm <- sqrt norm
            let x0 = w.[k + k * cols]
            let alpha = if x0 >= 0.0 then -norm else norm
            diag.[k] <- alpha
            // v = x - alpha e_k
            for i in k .. cols - 1 do
                vs.[i + k * cols] <- w.[i + k * cols]

            vs.[k + k * cols] <- x0 - alpha
            let mutable vv = 0.0

            for i in k .. cols - 1 do
                vv <- vv + vs.[i + k * cols] * vs.[i + k * cols]

            let beta = if vv = 0.0 then 0.0 else 2.0 / vv
            betas.[k] <- beta
            // apply to the remaining columns
            for j in k + 1 .. rows - 1 do
                let mutable d = 0.0

                for i in k .. cols - 1 do
                    d <- d + vs.[i + k * cols] * w.[i + j * cols]

                d <- d * beta

                for i in k .. cols - 1 do
                    w.[i + j * cols] <- w.[i + j * cols] - d * vs.[i + k * cols]

        let dmax = if rows = 0 then 0.0 else diag |> Array.map abs |> Array.max
        let rank = diag |> Array.filter (fun d -> abs d > 1e-10 * dmax) |> Array.length

        if rank < rows then
            invalidArg "a" (sprintf "the raising operator (%d x %d) has rank %d < %d" rows cols rank rows)

        let dim = cols - rows
        let out = Array.zeroCreate (dim * cols)
        // column rows + k of Q = H_0 ... H_{r-1} e_{rows+k}
        for k in 0 .. dim - 1 do
            let e = Array.zeroCreate cols
            e.[rows + k] <- 1.0

            for h in rows - 1 .. -1 .. 0 do
                let mutable d = 0.0

                for i in h .. cols - 1 do
                    d <- d + vs.[i + h * cols] * e.[i]

                d <- d * betas.[h]

                for i in h .. cols - 1 do
                    e.[i] <- e.[i] - d * vs.[i + h * cols]

            Array.blit e 0 out (k * cols) cols

        struct (rank, out)

    /// Number of basis functions per correlation order (element ν − 1) without computing couplings: Σ over the
    /// multisets of mult(M = 0) − mult(M = 1). Also returns the number of one-particle functions (n, l), of atomic-base
    /// entries A_nlm and l_max.
    let countBasis (s: AceBasisSpec) : struct (int[] * int * int * int) =
        checkSpec s
        let struct (n, l) = oneParticle s
        let by = Array.zeroCreate s.Order

        for f in multisets s n l do
            let c = (mTuples f l 0).Length / f.Length
            let r = (mTuples f l 1).Length / f.Length
            by.[f.Length - 1] <- by.[f.Length - 1] + c - r

        let acount = l |> Array.sumBy (fun li -> 2 * li + 1)
        struct (by, n.Length, acount, (if l.Length = 0 then 0 else Array.max l))

    /// The basis of `s`: one-particle functions, atomic-base layout, blocks with their couplings (null spaces of the
    /// raising operator, dimension checked against mult(M = 0) − mult(M = 1)). Blocks without invariants are dropped.
    /// Deterministic: only arrays in construction order decide any order.
    let create (s: AceBasisSpec) : AceBasis =
        checkSpec s
        let struct (n, l) = oneParticle s
        let lmax0 = if l.Length = 0 then 0 else Array.max l

        let ncount =
            Array.init (lmax0 + 1) (fun ll -> l |> Array.filter ((=) ll) |> Array.length)

        let lbase = Array.zeroCreate (lmax0 + 1)
        let mutable acc = 0

        for ll in 0..lmax0 do
            lbase.[ll] <- acc
            acc <- acc + (2 * ll + 1) * ncount.[ll]

        // the one-particle functions of one l are n = 1 .. NCount[l] (ordered by l, then n)
        let aIdx (i: int) (m: int) =
            lbase.[l.[i]] + (l.[i] + m) * ncount.[l.[i]] + n.[i] - 1

        let lmax = if l.Length = 0 then 0 else Array.max l
        let nmax = Array.max n
        let blocks = ResizeArray<AceBlock>()
        let by = Array.zeroCreate s.Order
        let mutable first = 0

        for f in multisets s n l do
            let nu = f.Length
            let cols = mTuples f l 0
            let rows = mTuples f l 1
            let nc = cols.Length / nu
            let nr = rows.Length / nu

            if nc > nr then
                let u =
                    if nr = 0 then
                        // ν = 1, l = 0: the single column is invariant
                        Array.init (nc * nc) (fun k -> if k / nc = k % nc then 1.0 else 0.0)
                    else
                        let a = raisingOperator f l cols rows
                        let struct (_, ns) = nullSpace nr nc a
                        ns

                let dim = u.Length / nc

                let idx = Array.init cols.Length (fun k -> aIdx f.[k % nu] cols.[k])

                blocks.Add
                    { Order = nu
                      Factors = f
                      Columns = nc
                      Rows = nr
                      ColumnIndices = idx
                      Dimension = dim
                      Coupling = u
                      First = first }

                first <- first + dim
                by.[nu - 1] <- by.[nu - 1] + dim

        { Spec = s
          Radial = AceRadial.create s.Radial nmax
          Harmonics = SphericalHarmonics.table lmax
          N = n
          L = l
          LBase = lbase
          NCount = ncount
          ACount = acc
          LMax = lmax
          Blocks = blocks.ToArray()
          Size = first
          ByOrder = by }

    /// The atomic base A_nlm = Σ_j R_n(|r_j|) Y_lm(r_j/|r_j|) (real and imaginary parts, `ACount` each) of the
    /// neighbour vectors rs[3j .. 3j+2], j < count, on any scalar (float, Dual, Jet, Taylor). Allocates (reference
    /// path).
    let inline atomicBase (b: AceBasis) (rs: ^T[]) (count: int) : struct (^T[] * ^T[]) =
        let are = Array.create b.ACount (ofFloat 0.0: ^T)
        let aim = Array.create b.ACount (ofFloat 0.0: ^T)
        let rv = Array.create b.Radial.Count (ofFloat 0.0: ^T)
        let nh = SphericalHarmonics.count b.LMax
        let yre = Array.create nh (ofFloat 0.0: ^T)
        let yim = Array.create nh (ofFloat 0.0: ^T)

        for j in 0 .. count - 1 do
            let x = rs.[3 * j]
            let y = rs.[3 * j + 1]
            let z = rs.[3 * j + 2]
            let r = sqrt (x * x + y * y + z * z)

            if value r < b.Radial.Spec.RCut then
                AceRadial.evaluate b.Radial r rv
                SphericalHarmonics.evaluate b.Harmonics x y z yre yim

                for i in 0 .. b.N.Length - 1 do
                    let li = b.L.[i]
                    let rn = rv.[b.N.[i] - 1]

                    for m in -li .. li do
                        let k = aIndex b i m
                        let h = SphericalHarmonics.index li m
                        are.[k] <- are.[k] + rn * yre.[h]
                        aim.[k] <- aim.[k] + rn * yim.[h]

        struct (are, aim)

    /// Every basis function B_k (k < Size) from the atomic base: B = Re Σ_s U[k, s] Π_t A_{idx(s, t)} (reference path).
    let inline ofAtomicBase (b: AceBasis) (are: ^T[]) (aim: ^T[]) : ^T[] =
        let out = Array.create b.Size (ofFloat 0.0: ^T)

        for blk in b.Blocks do
            let nu = blk.Order

            for c in 0 .. blk.Columns - 1 do
                let mutable pr = are.[blk.ColumnIndices.[c * nu]]
                let mutable pi = aim.[blk.ColumnIndices.[c * nu]]

                for t in 1 .. nu - 1 do
                    let k = blk.ColumnIndices.[c * nu + t]
                    let nr = pr * are.[k] - pi * aim.[k]
                    pi <- pr * aim.[k] + pi * are.[k]
                    pr <- nr

                for d in 0 .. blk.Dimension - 1 do
                    let u = blk.Coupling.[d * blk.Columns + c]

                    if u <> 0.0 then
                        out.[blk.First + d] <- out.[blk.First + d] + u .* pr

        out

    /// Every basis function B_k(g) (k < Size) of one site with neighbour vectors rs[3j .. 3j+2], j < count (Å), on any
    /// scalar: the slow, direct oracle (atomic base, then every product and coupling separately).
    let inline evaluate (b: AceBasis) (rs: ^T[]) (count: int) : ^T[] =
        let struct (are, aim) = atomicBase b rs count
        ofAtomicBase b are aim
