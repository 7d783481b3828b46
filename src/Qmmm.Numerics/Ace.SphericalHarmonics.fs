namespace Qmmm.Numerics

open System

/// Recurrence constants of the complex spherical harmonics up to degree LMax (see `SphericalHarmonics`).
type SphericalHarmonicsTable =
    {
        /// Largest degree l.
        LMax: int
        /// a_lm = √((4l² − 1)/(l² − m²)) at index l² + l + m (m >= 0, l >= m + 2; else 0).
        A: float[]
        /// b_lm = √(((l − 1)² − m²)/(4(l − 1)² − 1)) at index l² + l + m.
        B: float[]
        /// Q_mm = (−1)^m √((2m + 1)/(4π) · Π_{k=1..m} (2k − 1)/(2k)), m = 0 .. LMax.
        Qmm: float[]
    }

/// Complex spherical harmonics Y_lm(r̂) with the Condon–Shortley phase, orthonormal on the unit sphere, by a Cartesian
/// recursion that is polynomial in the unit vector u = r/|r| (safe at the poles, no angles):
///   Y_lm(u) = Q_lm(u_z) (u_x + i u_y)^m for m >= 0,   Y_{l,−m} = (−1)^m conj(Y_lm),
/// with Q_lm = N_lm P_lm(cos θ)/sin^m θ built by Q_{m+1,m} = √(2m+3) u_z Q_mm and
/// Q_lm = a_lm (u_z Q_{l−1,m} − b_lm Q_{l−2,m}). Index of (l, m): l² + l + m; (LMax + 1)² harmonics.
[<RequireQualifiedAccess>]
module SphericalHarmonics =

    /// Index l² + l + m of (l, m), |m| <= l.
    let index (l: int) (m: int) = l * l + l + m

    /// Number of harmonics (l <= lmax): (lmax + 1)².
    let count (lmax: int) = (lmax + 1) * (lmax + 1)

    /// The recurrence constants up to degree `lmax` (0 .. 40).
    let table (lmax: int) : SphericalHarmonicsTable =
        Validate.intInRange "lmax" 0 40 lmax
        let n = count lmax
        let a = Array.zeroCreate n
        let b = Array.zeroCreate n

        for l in 2..lmax do
            for m in 0 .. l - 2 do
                let fl = float l
                let fm = float m
                a.[index l m] <- sqrt ((4.0 * fl * fl - 1.0) / (fl * fl - fm * fm))
                b.[index l m] <- sqrt (((fl - 1.0) * (fl - 1.0) - fm * fm) / (4.0 * (fl - 1.0) * (fl - 1.0) - 1.0))

        let qmm = Array.zeroCreate (lmax + 1)
        let mutable prod = 1.0

        for m in 0..lmax do
            if m > 0 then
                prod <- prod * (2.0 * float m - 1.0) / (2.0 * float m)

            let sign = if m % 2 = 0 then 1.0 else -1.0
            qmm.[m] <- sign * sqrt ((2.0 * float m + 1.0) / (4.0 * Math.PI) * prod)

        { LMax = lmax; A = a; B = b; Qmm = qmm }

    /// Y_lm(r/|r|) for l <= t.LMax at the vector (x, y, z) (any nonzero length; float, Dual, Jet or Taylor), real parts
    /// into re[index l m], imaginary parts into im[index l m].
    let inline evaluate (t: SphericalHarmonicsTable) (x: ^T) (y: ^T) (z: ^T) (re: ^T[]) (im: ^T[]) =
        let r = sqrt (x * x + y * y + z * z)
        let ux = x / r
        let uy = y / r
        let uz = z / r
        // c = (ux + i uy)^m
        let mutable cr: ^T = ofFloat 1.0
        let mutable ci: ^T = ofFloat 0.0

        for m in 0 .. t.LMax do
            let mutable q2: ^T = ofFloat 0.0
            let mutable q1: ^T = ofFloat t.Qmm.[m]

            for l in m .. t.LMax do
                let q =
                    if l = m then q1
                    elif l = m + 1 then sqrt (2.0 * float m + 3.0) .* (uz * q1)
                    else t.A.[index l m] .* (uz * q1 - t.B.[index l m] .* q2)

                if l > m then
                    q2 <- q1
                    q1 <- q

                let k = index l m
                re.[k] <- q * cr
                im.[k] <- q * ci

                if m > 0 then
                    let kk = index l -m
                    let sign = if m % 2 = 0 then 1.0 else -1.0
                    re.[kk] <- sign .* (q * cr)
                    im.[kk] <- (-sign) .* (q * ci)

            let ncr = cr * ux - ci * uy
            ci <- cr * uy + ci * ux
            cr <- ncr

    /// The fast float path: Y_lm(r/|r|) into re/im[offset + index l m] and its gradient with respect to the vector r
    /// (Å⁻¹) into dre/dim[3 (offset + index l m) + c], c = x, y, z. The gradient is ∇_r Y = (g − u (u·g)) / |r| with
    /// g the gradient of the polynomial form in u. No allocation; tested against `evaluate` on `Dual`.
    let evaluateWithGradient
        (t: SphericalHarmonicsTable)
        (x: float)
        (y: float)
        (z: float)
        (re: float[])
        (im: float[])
        (dre: float[])
        (dim: float[])
        (offset: int)
        =
        let r = sqrt (x * x + y * y + z * z)
        let inv = 1.0 / r
        let ux = x * inv
        let uy = y * inv
        let uz = z * inv
        // c = (ux + i uy)^m and cm1 = (ux + i uy)^(m-1)
        let mutable cr = 1.0
        let mutable ci = 0.0
        let mutable pr = 0.0
        let mutable pi = 0.0

        for m in 0 .. t.LMax do
            let mutable q2 = 0.0
            let mutable q1 = t.Qmm.[m]
            let mutable d2 = 0.0
            let mutable d1 = 0.0
            let fm = float m

            for l in m .. t.LMax do
                let mutable q = q1
                let mutable d = d1

                if l = m + 1 then
                    let s = sqrt (2.0 * fm + 3.0)
                    q <- s * uz * q1
                    d <- s * q1
                elif l > m + 1 then
                    let a = t.A.[index l m]
                    let b = t.B.[index l m]
                    q <- a * (uz * q1 - b * q2)
                    d <- a * (q1 + uz * d1 - b * d2)

                if l > m then
                    q2 <- q1
                    q1 <- q
                    d2 <- d1
                    d1 <- d

                // polynomial gradient g = (Q m c_{m-1}, i Q m c_{m-1}, Q' c_m)
                let gxr = q * fm * pr
                let gxi = q * fm * pi
                let gyr = -gxi
                let gyi = gxr
                let gzr = d * cr
                let gzi = d * ci
                let dotr = ux * gxr + uy * gyr + uz * gzr
                let doti = ux * gxi + uy * gyi + uz * gzi
                let k = offset + index l m
                re.[k] <- q * cr
                im.[k] <- q * ci
                dre.[3 * k] <- (gxr - ux * dotr) * inv
                dre.[3 * k + 1] <- (gyr - uy * dotr) * inv
                dre.[3 * k + 2] <- (gzr - uz * dotr) * inv
                dim.[3 * k] <- (gxi - ux * doti) * inv
                dim.[3 * k + 1] <- (gyi - uy * doti) * inv
                dim.[3 * k + 2] <- (gzi - uz * doti) * inv

                if m > 0 then
                    let kk = offset + index l -m
                    let sign = if m % 2 = 0 then 1.0 else -1.0
                    re.[kk] <- sign * re.[k]
                    im.[kk] <- -sign * im.[k]

                    for c in 0..2 do
                        dre.[3 * kk + c] <- sign * dre.[3 * k + c]
                        dim.[3 * kk + c] <- -sign * dim.[3 * k + c]

            pr <- cr
            pi <- ci
            let ncr = cr * ux - ci * uy
            ci <- cr * uy + ci * ux
            cr <- ncr

    /// Index l(l + 1)/2 + m of (l, m) among the harmonics with m >= 0.
    let positiveIndex (l: int) (m: int) = l * (l + 1) / 2 + m

    /// Number of harmonics with 0 <= m <= l <= lmax: (lmax + 1)(lmax + 2)/2.
    let positiveCount (lmax: int) = (lmax + 1) * (lmax + 2) / 2

    /// The fast path of the force loop: for m >= 0 only (Y_{l,−m} = (−1)^m conj Y_lm), at the unit vector u = r/|r|,
    /// Y_lm into (yre, yim), and the two complex pieces of the gradient of the polynomial form Y_lm(u) = Q_lm(u_z) (u_x +
    /// i u_y)^m: p = ∂Y/∂u_x = m Q_lm (u_x + i u_y)^(m−1) (then ∂Y/∂u_y = i p) into (pre, pim) and q = ∂Y/∂u_z = Q_lm'(u_z)
    /// (u_x + i u_y)^m into (qre, qim), all at offset + positiveIndex l m. The gradient in r is (g − u (u·g))/|r| with
    /// g = (p, i p, q), and is linear in g: callers contract first and project once per neighbour.
    let evaluatePositive
        (t: SphericalHarmonicsTable)
        (x: float)
        (y: float)
        (z: float)
        (yre: float[])
        (yim: float[])
        (pre: float[])
        (pim: float[])
        (qre: float[])
        (qim: float[])
        (offset: int)
        =
        let inv = 1.0 / sqrt (x * x + y * y + z * z)
        let ux = x * inv
        let uy = y * inv
        let uz = z * inv
        let mutable cr = 1.0
        let mutable ci = 0.0
        let mutable pr = 0.0
        let mutable pi = 0.0

        for m in 0 .. t.LMax do
            let mutable q2 = 0.0
            let mutable q1 = t.Qmm.[m]
            let mutable d2 = 0.0
            let mutable d1 = 0.0
            let fm = float m

            for l in m .. t.LMax do
                let mutable q = q1
                let mutable d = d1

                if l = m + 1 then
                    let s = sqrt (2.0 * fm + 3.0)
                    q <- s * uz * q1
                    d <- s * q1
                elif l > m + 1 then
                    let a = t.A.[index l m]
                    let b = t.B.[index l m]
                    q <- a * (uz * q1 - b * q2)
                    d <- a * (q1 + uz * d1 - b * d2)

                if l > m then
                    q2 <- q1
                    q1 <- q
                    d2 <- d1
                    d1 <- d

                let k = offset + positiveIndex l m
                yre.[k] <- q * cr
                yim.[k] <- q * ci
                pre.[k] <- q * fm * pr
                pim.[k] <- q * fm * pi
                qre.[k] <- d * cr
                qim.[k] <- d * ci

            pr <- cr
            pi <- ci
            let ncr = cr * ux - ci * uy
            ci <- cr * uy + ci * ux
            cr <- ncr
