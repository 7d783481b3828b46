namespace Qmmm.Numerics

open System
open System.Runtime.InteropServices

/// Column-pivoted QR factorisation A P = Q R of an m×n matrix in LAPACK's compact form (as `dgeqp3` returns it):
/// Businger–Golub Householder QR with column pivoting. Q = H_0 H_1 … H_{k-1}, k = min(m, n), H_i = I − τ_i v_i v_iᵀ
/// with v_i(i) = 1, v_i(0..i-1) = 0 and v_i(i+1..m-1) stored below the diagonal of column i of `Factors`.
type PivotedQr =
    {
        /// Number of rows m of A.
        Rows: int
        /// Number of columns n of A.
        Columns: int
        /// m×n column-major: R on and above the diagonal, the Householder vectors below it.
        Factors: float[]
        /// The k = min(m, n) Householder scalars τ_i.
        Tau: float[]
        /// Column permutation, 0-based: column j of A P is column `Permutation.[j]` of A.
        Permutation: int[]
    }

/// Which dense linear-algebra library the native backend runs on.
[<RequireQualifiedAccess>]
type NativeKind =
    /// LAPACKE calls OpenBLAS's LAPACK and BLAS (fast, multi-threaded).
    | OpenBlas
    /// LAPACKE calls the reference (Netlib) LAPACK: correct but ~10× slower (install `libopenblas0-pthread`).
    | ReferenceLapack
    /// `liblapacke.so.3` (or a CBLAS) cannot be loaded: only the managed backend runs.
    | Unavailable

/// Outcome of the one-time probe of the native libraries (never throws; see `Native.status`).
type NativeStatus =
    {
        /// Which library runs behind LAPACKE.
        Kind: NativeKind
        /// One line for logs and reports, e.g. "OpenBLAS 0.3.21 … (Haswell), LAPACK from …/liblapack.so.3".
        Description: string
        /// `openblas_get_config()` (empty unless Kind = OpenBlas).
        OpenBlasConfig: string
        /// `openblas_get_corename()` (empty unless Kind = OpenBlas).
        CoreName: string
        /// File that provides `dsyevd_` to LAPACKE (from `dladdr`; empty when unknown).
        LapackPath: string
    }

    /// True when the native backend can be called (Kind ≠ Unavailable).
    member s.Available = s.Kind <> NativeKind.Unavailable

/// Argument checks shared by the native and managed backends (`ArgumentException` naming argument and value).
module internal Checks =

    /// Largest n for which an n×n array still fits in a .NET array with 32-bit LAPACK indices.
    [<Literal>]
    let MaxOrder = 46340

    /// A square n×n column-major matrix: n in range, length n², finite entries.
    let square (name: string) (n: int) (a: float[]) =
        Validate.intInRange "n" 1 MaxOrder n
        Validate.length name (n * n) a
        Validate.allFinite name a

    /// A square matrix that is symmetric to a relative tolerance of 1e-8 of its largest entry (LAPACK reads one
    /// triangle only, so a non-symmetric input would silently give the eigenpairs of another matrix).
    let symmetric (name: string) (n: int) (a: float[]) =
        square name n a
        let mutable scale = 0.0

        for x in a do
            scale <- max scale (abs x)

        let tol = 1e-8 * scale

        for j in 0 .. n - 1 do
            for i in j + 1 .. n - 1 do
                let aij = a.[i + j * n]
                let aji = a.[j + i * n]

                if abs (aij - aji) > tol then
                    invalidArg
                        name
                        (sprintf
                            "%s must be symmetric, but %s[%d,%d] = %g and %s[%d,%d] = %g"
                            name
                            name
                            i
                            j
                            aij
                            name
                            j
                            i
                            aji)

    /// An m×n column-major matrix: dimensions ≥ 1, m·n fits in an array, length m·n, finite entries.
    let rectangular (name: string) (m: int) (n: int) (a: float[]) =
        Validate.intInRange "m" 1 Int32.MaxValue m
        Validate.intInRange "n" 1 Int32.MaxValue n

        if int64 m * int64 n > int64 Int32.MaxValue then
            invalidArg name (sprintf "%s: m·n = %d·%d exceeds the largest .NET array" name m n)

        Validate.length name (m * n) a
        Validate.allFinite name a

    /// Operands of C := α op(A) op(B) + β C (sizes of op(A) m×k, op(B) k×n, C m×n).
    let gemm (m: int) (n: int) (k: int) (alpha: float) (a: float[]) (b: float[]) (beta: float) (c: float[]) =
        Validate.intInRange "m" 1 Int32.MaxValue m
        Validate.intInRange "n" 1 Int32.MaxValue n
        Validate.intInRange "k" 1 Int32.MaxValue k

        for (name, r, s) in [ ("a", m, k); ("b", k, n); ("c", m, n) ] do
            if int64 r * int64 s > int64 Int32.MaxValue then
                invalidArg name (sprintf "%s: %d·%d entries exceed the largest .NET array" name r s)

        Validate.finite "alpha" alpha
        Validate.finite "beta" beta
        Validate.length "a" (m * k) a
        Validate.length "b" (k * n) b
        Validate.length "c" (m * n) c

    /// A QR factorisation record whose arrays have consistent sizes.
    let qr (qr: PivotedQr) =
        Validate.intInRange "qr.Rows" 1 Int32.MaxValue qr.Rows
        Validate.intInRange "qr.Columns" 1 Int32.MaxValue qr.Columns
        Validate.length "qr.Factors" (qr.Rows * qr.Columns) qr.Factors
        Validate.length "qr.Tau" (min qr.Rows qr.Columns) qr.Tau
        Validate.length "qr.Permutation" qr.Columns qr.Permutation

    /// Turns a non-zero LAPACK `info` into a `QmmmException` "routine: what (info = …)"; `positive info` gives the
    /// message for info > 0, including "(info = …)".
    let lapackInfo (routine: string) (info: int) (positive: int -> string) =
        if info = -1010 || info = -1011 then
            raise (QmmmException(sprintf "%s: LAPACKE could not allocate its work space (info = %d)" routine info))
        elif info < 0 then
            raise (QmmmException(sprintf "%s: argument %d had an illegal value (info = %d)" routine (-info) info))
        elif info > 0 then
            raise (QmmmException(sprintf "%s: %s" routine (positive info)))

    /// Message for `dsygvd`'s info > 0 (n = order): B not positive definite (info > n) or no convergence.
    let sygvdMessage (n: int) (info: int) =
        if info > n then
            sprintf
                "B is not positive definite (info = %d: its leading minor of order %d is not positive)"
                info
                (info - n)
        else
            sprintf "the eigensolver failed to converge (info = %d off-diagonal elements did not vanish)" info

/// Raw P/Invoke declarations (Cdecl; 32-bit integers; characters as bytes). Not for direct use: no checks.
module internal Raw =

    /// LAPACKE's soname on Debian (package `liblapacke`); Debian's OpenBLAS is built without LAPACKE.
    [<Literal>]
    let Lapacke = "liblapacke.so.3"

    /// OpenBLAS's soname on Debian (package `libopenblas0-pthread`): CBLAS and the thread knob.
    [<Literal>]
    let OpenBlas = "libopenblas.so.0"

    /// The BLAS of the system's alternatives (reference `libblas3` exports CBLAS too): used when OpenBLAS is absent.
    [<Literal>]
    let SystemBlas = "libblas.so.3"

    /// glibc ≥ 2.34 exports `dladdr` from libc itself.
    [<Literal>]
    let LibC = "libc.so.6"

    /// LAPACK_COL_MAJOR.
    [<Literal>]
    let ColMajor = 102

    /// CblasNoTrans.
    [<Literal>]
    let NoTrans = 111

    /// CblasTrans.
    [<Literal>]
    let Trans = 112

    [<DllImport(Lapacke, CallingConvention = CallingConvention.Cdecl)>]
    extern int LAPACKE_dsyevd(int layout, byte jobz, byte uplo, int n, double[] a, int lda, double[] w)

    [<DllImport(Lapacke, CallingConvention = CallingConvention.Cdecl)>]
    extern int LAPACKE_dsygvd(
        int layout,
        int itype,
        byte jobz,
        byte uplo,
        int n,
        double[] a,
        int lda,
        double[] b,
        int ldb,
        double[] w
    )

    [<DllImport(Lapacke, CallingConvention = CallingConvention.Cdecl)>]
    extern int LAPACKE_dgeqp3(int layout, int m, int n, double[] a, int lda, int[] jpvt, double[] tau)

    [<DllImport(Lapacke, CallingConvention = CallingConvention.Cdecl)>]
    extern int LAPACKE_dorgqr(int layout, int m, int n, int k, double[] a, int lda, double[] tau)

    [<DllImport(OpenBlas, CallingConvention = CallingConvention.Cdecl)>]
    extern void cblas_dgemm(
        int order,
        int transA,
        int transB,
        int m,
        int n,
        int k,
        double alpha,
        double[] a,
        int lda,
        double[] b,
        int ldb,
        double beta,
        double[] c,
        int ldc
    )

    [<DllImport(SystemBlas, CallingConvention = CallingConvention.Cdecl, EntryPoint = "cblas_dgemm")>]
    extern void system_cblas_dgemm(
        int order,
        int transA,
        int transB,
        int m,
        int n,
        int k,
        double alpha,
        double[] a,
        int lda,
        double[] b,
        int ldb,
        double beta,
        double[] c,
        int ldc
    )

    [<DllImport(OpenBlas, CallingConvention = CallingConvention.Cdecl)>]
    extern void openblas_set_num_threads(int n)

    [<DllImport(OpenBlas, CallingConvention = CallingConvention.Cdecl)>]
    extern int openblas_get_num_threads()

    [<DllImport(OpenBlas, CallingConvention = CallingConvention.Cdecl)>]
    extern nativeint openblas_get_config()

    [<DllImport(OpenBlas, CallingConvention = CallingConvention.Cdecl)>]
    extern nativeint openblas_get_corename()

    /// glibc's Dl_info.
    [<Struct; StructLayout(LayoutKind.Sequential)>]
    type DlInfo =
        val mutable FileName: nativeint
        val mutable FileBase: nativeint
        val mutable SymbolName: nativeint
        val mutable SymbolAddress: nativeint

    [<DllImport(LibC, CallingConvention = CallingConvention.Cdecl)>]
    extern int dladdr(nativeint address, DlInfo& info)

/// Native dense linear algebra: LAPACKE (`liblapacke.so.3`) over Debian's OpenBLAS (`libopenblas.so.0`), column-major.
/// The libraries are probed once, lazily, on first use (`status`); the probe never throws. Every routine copies its
/// inputs (LAPACK overwrites them) and turns a non-zero LAPACK `info` into a `QmmmException` naming the routine.
/// Thread count: OpenBLAS keeps one process-global thread pool; `setThreads` is the library's one global knob
/// (the Host exposes it as a setting). Default = number of cores, or `OPENBLAS_NUM_THREADS`.
[<RequireQualifiedAccess>]
module Native =

    let private tryExport (handle: nativeint) (name: string) =
        match NativeLibrary.TryGetExport(handle, name) with
        | true, p -> Some p
        | _ -> None

    let private tryLoad (name: string) =
        match NativeLibrary.TryLoad name with
        | true, h -> Some h
        | _ -> None

    let private ansi (p: nativeint) =
        if p = 0n then
            ""
        else
            match Marshal.PtrToStringAnsi p with
            | null -> ""
            | s -> s.Trim()

    /// Path of the shared object that defines the code at `address` (glibc `dladdr`), or "" if unknown.
    let private pathOf (address: nativeint) =
        try
            let mutable info = Raw.DlInfo()

            if Raw.dladdr (address, &info) <> 0 then
                ansi info.FileName
            else
                ""
        with _ ->
            ""

    /// The target of a symbolic link chain (Debian's alternatives), or the path itself.
    let private realPath (path: string) =
        try
            if path = "" then
                path
            else
                match IO.File.ResolveLinkTarget(path, true) with
                | null -> path
                | target -> target.FullName
        with _ ->
            path

    /// Calls every bound entry point once on a tiny problem, so that a broken binding is found by the probe and not
    /// by the first user call; returns an error message or "".
    let private smokeTest (useOpenBlas: bool) =
        let a = [| 2.0; 1.0; 1.0; 2.0 |]
        let w = Array.zeroCreate 2
        let info = Raw.LAPACKE_dsyevd(Raw.ColMajor, byte 'V', byte 'U', 2, a, 2, w)

        if info <> 0 || abs (w.[0] - 1.0) > 1e-12 || abs (w.[1] - 3.0) > 1e-12 then
            sprintf "LAPACKE_dsyevd smoke test failed (info = %d, eigenvalues %g, %g; expected 1, 3)" info w.[0] w.[1]
        else
            let c = [| 0.0 |]

            if useOpenBlas then
                Raw.cblas_dgemm (
                    Raw.ColMajor,
                    Raw.NoTrans,
                    Raw.NoTrans,
                    1,
                    1,
                    1,
                    1.0,
                    [| 2.0 |],
                    1,
                    [| 3.0 |],
                    1,
                    0.0,
                    c,
                    1
                )
            else
                Raw.system_cblas_dgemm (
                    Raw.ColMajor,
                    Raw.NoTrans,
                    Raw.NoTrans,
                    1,
                    1,
                    1,
                    1.0,
                    [| 2.0 |],
                    1,
                    [| 3.0 |],
                    1,
                    0.0,
                    c,
                    1
                )

            if c.[0] <> 6.0 then
                sprintf "cblas_dgemm smoke test failed (2·3 gave %g)" c.[0]
            else
                ""

    let private unavailable (why: string) =
        { Kind = NativeKind.Unavailable
          Description = "unavailable: " + why
          OpenBlasConfig = ""
          CoreName = ""
          LapackPath = "" },
        false

    let private probe () =
        try
            match tryLoad Raw.Lapacke with
            | None ->
                unavailable (sprintf "%s cannot be loaded (install liblapacke and libopenblas0-pthread)" Raw.Lapacke)
            | Some lapacke ->
                let missing =
                    [ "LAPACKE_dsyevd"; "LAPACKE_dsygvd"; "LAPACKE_dgeqp3"; "LAPACKE_dorgqr" ]
                    |> List.filter (fun s -> (tryExport lapacke s).IsNone)

                if not missing.IsEmpty then
                    unavailable (sprintf "%s lacks %s" Raw.Lapacke (String.Join(", ", missing)))
                else
                    let lapackPath =
                        match tryExport lapacke "dsyevd_" with
                        | Some p -> realPath (pathOf p)
                        | None -> ""

                    // OpenBLAS runs behind LAPACKE iff LAPACKE's own dependency tree reaches the same OpenBLAS
                    // instance we load by soname (same address of openblas_get_config): otherwise the reference
                    // LAPACK/BLAS run silently (TOOLCHAIN trap).
                    let openblas =
                        tryLoad Raw.OpenBlas
                        |> Option.filter (fun h ->
                            [ "cblas_dgemm"
                              "openblas_set_num_threads"
                              "openblas_get_num_threads"
                              "openblas_get_config"
                              "openblas_get_corename" ]
                            |> List.forall (fun s -> (tryExport h s).IsSome))

                    let behindLapacke =
                        match openblas with
                        | Some h -> tryExport lapacke "openblas_get_config" = tryExport h "openblas_get_config"
                        | None -> false

                    let systemBlasOk =
                        openblas.IsSome
                        || (match tryLoad Raw.SystemBlas with
                            | Some h -> (tryExport h "cblas_dgemm").IsSome
                            | None -> false)

                    if not systemBlasOk then
                        unavailable (
                            sprintf "no CBLAS: neither %s nor %s exports cblas_dgemm" Raw.OpenBlas Raw.SystemBlas
                        )
                    else
                        let err = smokeTest openblas.IsSome

                        if err <> "" then
                            unavailable err
                        else
                            let from =
                                if lapackPath = "" then
                                    ""
                                else
                                    ", LAPACK from " + lapackPath

                            if openblas.IsSome && behindLapacke then
                                let config = ansi (Raw.openblas_get_config ())
                                let core = ansi (Raw.openblas_get_corename ())

                                { Kind = NativeKind.OpenBlas
                                  Description = sprintf "%s (core %s)%s" config core from
                                  OpenBlasConfig = config
                                  CoreName = core
                                  LapackPath = lapackPath },
                                true
                            else
                                let blas =
                                    if openblas.IsSome then
                                        "gemm from OpenBLAS"
                                    else
                                        "gemm from " + Raw.SystemBlas

                                { Kind = NativeKind.ReferenceLapack
                                  Description =
                                    sprintf
                                        "reference LAPACK (slow: OpenBLAS is not behind %s)%s; %s"
                                        Raw.Lapacke
                                        from
                                        blas
                                  OpenBlasConfig = ""
                                  CoreName = ""
                                  LapackPath = lapackPath },
                                openblas.IsSome
        with
        | :? DllNotFoundException as e -> unavailable e.Message
        | :? EntryPointNotFoundException as e -> unavailable e.Message
        | e -> unavailable (e.GetType().Name + ": " + e.Message)

    let private probed = lazy (probe ())

    /// The native libraries found on this machine (probed once, lazily, thread-safely; never throws).
    let status () : NativeStatus = fst (probed.Force())

    /// True when gemm goes to OpenBLAS's CBLAS (else to the system `libblas.so.3`).
    let private gemmFromOpenBlas () = snd (probed.Force())

    /// True when the native backend can be called.
    let available () = (status ()).Available

    /// One line saying which backend runs: the OpenBLAS configuration, "reference LAPACK …" or "unavailable: why".
    let describe () = (status ()).Description

    let private require (routine: string) =
        let s = status ()

        if not s.Available then
            raise (QmmmException(sprintf "%s: native LAPACK is %s" routine s.Description))

    /// Sets OpenBLAS's thread count (n ≥ 1). Process-global (OpenBLAS has one pool): this is the library's one global
    /// threading knob and the Host exposes it. No effect when OpenBLAS is not loaded (reference BLAS/LAPACK are
    /// single-threaded) or without native libraries.
    let setThreads (n: int) =
        Validate.intInRange "n" 1 4096 n

        if gemmFromOpenBlas () then
            Raw.openblas_set_num_threads n

    /// OpenBLAS's current thread count (1 when OpenBLAS is not loaded).
    let threads () =
        if gemmFromOpenBlas () then
            Raw.openblas_get_num_threads ()
        else
            1

    /// Eigen-decomposition of a symmetric n×n matrix `a` (column-major, not modified) by LAPACK `dsyevd`
    /// (divide and conquer). Returns the eigenvalues in ascending order and the orthonormal eigenvectors as the
    /// columns of an n×n column-major array. Raises `QmmmException` on a non-zero `info`.
    let symmetricEigen (n: int, a: float[]) : struct (float[] * float[]) =
        Checks.symmetric "a" n a
        require "dsyevd"
        let v = Array.copy a
        let w = Array.zeroCreate n
        let info = Raw.LAPACKE_dsyevd(Raw.ColMajor, byte 'V', byte 'U', n, v, n, w)
        Checks.lapackInfo "dsyevd" info (sprintf "the eigensolver failed to converge (info = %d)")
        struct (w, v)

    /// Generalized symmetric-definite eigenproblem A c = λ B c (A symmetric, B symmetric positive definite, both
    /// n×n column-major, not modified) by LAPACK `dsygvd` (itype 1). Returns ascending λ and the eigenvectors as
    /// columns, B-normalised (cᵀ B c = 1). Raises `QmmmException` "dsygvd: B is not positive definite (info = n+k)"
    /// when the leading minor of order k of B is not positive.
    let generalizedSymmetricEigen (a: float[], b: float[], n: int) : struct (float[] * float[]) =
        Checks.symmetric "a" n a
        Checks.symmetric "b" n b
        require "dsygvd"
        let v = Array.copy a
        let bb = Array.copy b
        let w = Array.zeroCreate n

        let info =
            Raw.LAPACKE_dsygvd(Raw.ColMajor, 1, byte 'V', byte 'U', n, v, n, bb, n, w)

        Checks.lapackInfo "dsygvd" info (Checks.sygvdMessage n)

        struct (w, v)

    /// Column-pivoted Householder QR, A P = Q R, of an m×n column-major matrix `a` (not modified) by LAPACK
    /// `dgeqp3` (all columns free). The permutation is returned 0-based.
    let qrPivoted (m: int, n: int, a: float[]) : PivotedQr =
        Checks.rectangular "a" m n a
        require "dgeqp3"
        let f = Array.copy a
        let jpvt = Array.zeroCreate n
        let tau = Array.zeroCreate (min m n)
        let info = Raw.LAPACKE_dgeqp3(Raw.ColMajor, m, n, f, m, jpvt, tau)
        Checks.lapackInfo "dgeqp3" info (sprintf "unexpected positive info (info = %d)")

        { Rows = m
          Columns = n
          Factors = f
          Tau = tau
          Permutation = jpvt |> Array.map (fun j -> j - 1) }

    /// The thin orthogonal factor Q (m×k, k = min(m, n), column-major, orthonormal columns) of a pivoted QR
    /// factorisation, by LAPACK `dorgqr`.
    let qrQ (qr: PivotedQr) : float[] =
        Checks.qr qr
        require "dorgqr"
        let m = qr.Rows
        let k = min qr.Rows qr.Columns
        let q = Array.sub qr.Factors 0 (m * k)
        let info = Raw.LAPACKE_dorgqr(Raw.ColMajor, m, k, k, q, m, qr.Tau)
        Checks.lapackInfo "dorgqr" info (sprintf "unexpected positive info (info = %d)")
        q

    /// General matrix product C := α op(A) op(B) + β C (BLAS `dgemm` through CBLAS, column-major), with op(X) = X or
    /// Xᵀ; op(A) is m×k, op(B) k×n, C m×n; C is overwritten. A is stored m×k (k×m when transposed), B k×n (n×k).
    let gemm
        (
            transA: bool,
            transB: bool,
            m: int,
            n: int,
            k: int,
            alpha: float,
            a: float[],
            b: float[],
            beta: float,
            c: float[]
        ) =
        Checks.gemm m n k alpha a b beta c
        require "dgemm"
        let ta = if transA then Raw.Trans else Raw.NoTrans
        let tb = if transB then Raw.Trans else Raw.NoTrans
        let lda = if transA then k else m
        let ldb = if transB then n else k

        if gemmFromOpenBlas () then
            Raw.cblas_dgemm (Raw.ColMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, m)
        else
            Raw.system_cblas_dgemm (Raw.ColMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, m)
