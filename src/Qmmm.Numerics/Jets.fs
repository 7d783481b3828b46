namespace Qmmm.Numerics

open System

// Forward-mode automatic differentiation by truncated Taylor arithmetic.
//
// A model written once as an `inline` function over a scalar type ^T runs on
//   float  - the fast path (energies), no overhead;
//   Dual   - value and first derivative along one direction (forces);
//   Jet    - Taylor coefficients to order 4 along one direction (exact derivatives of order <= 4).
// Multivariate Taylor polynomials (derivative *tensors*) live in Jets.Taylor.fs.
//
// Mixing a jet with a float constant goes through the operators of `Scalar` (x +. c, c .* x, ...), never through
// `x + 1.0`: inside inline generic code the latter makes F# specialise ^T to float (weak resolution). The operators lift
// the constant with an explicit conversion (op_Explicit: float -> ^T), which is the identity on float.
//
// Perturbation confusion (STYLE 17): the coefficients of Dual and Jet are plain floats, so jets cannot be nested
// (no Jet<Jet>) and two perturbations can never be mixed up; a mixed derivative in several directions is taken with
// the multivariate `Taylor` type, whose variables are explicit indices.

/// Scalar helpers shared by the jet types.
module internal JetMath =

    /// The k-th derivative of v^n (n >= 0): n!/(n-k)! v^(n-k), and 0 for k > n (exact at v = 0).
    let powerDerivative (n: int) (k: int) (v: float) =
        if k > n then
            0.0
        else
            let mutable c = 1.0

            for i in 0 .. k - 1 do
                c <- c * float (n - i)

            c * pown v (n - k)

/// A dual number x + x' t (t^2 = 0): value and first derivative along one direction.
[<Struct; CustomEquality; CustomComparison>]
type Dual =
    /// Value.
    val V: float
    /// First derivative.
    val D: float

    /// Creates the dual number v + d t.
    new(v, d) = { V = v; D = d }

    /// The variable t -> v + t (derivative 1).
    static member Variable(v: float) = Dual(v, 1.0)
    /// The constant v (derivative 0).
    static member Constant(v: float) = Dual(v, 0.0)
    /// Zero constant.
    static member Zero = Dual(0.0, 0.0)
    /// One constant.
    static member One = Dual(1.0, 0.0)

    /// Sum.
    static member inline (+)(a: Dual, b: Dual) = Dual(a.V + b.V, a.D + b.D)
    /// Difference.
    static member inline (-)(a: Dual, b: Dual) = Dual(a.V - b.V, a.D - b.D)
    /// Negation.
    static member inline (~-)(a: Dual) = Dual(-a.V, -a.D)
    /// Product (truncated for jets).
    static member inline (*)(a: Dual, b: Dual) = Dual(a.V * b.V, a.D * b.V + a.V * b.D)

    /// Quotient (truncated for jets).
    static member inline (/)(a: Dual, b: Dual) =
        let q = a.V / b.V
        Dual(q, (a.D - q * b.D) / b.V)

    /// f(x) given f(v) and f'(v) at the value v of x (chain rule).
    static member inline Chain(x: Dual, f0: float, f1: float) = Dual(f0, f1 * x.D)

    /// e^x.
    static member Exp(x: Dual) =
        let e = Math.Exp x.V
        Dual(e, e * x.D)

    /// Natural logarithm.
    static member Log(x: Dual) = Dual(Math.Log x.V, x.D / x.V)

    /// Square root.
    static member Sqrt(x: Dual) =
        let s = Math.Sqrt x.V
        Dual(s, 0.5 * x.D / s)

    /// Sine.
    static member Sin(x: Dual) = Dual(Math.Sin x.V, Math.Cos x.V * x.D)
    /// Cosine.
    static member Cos(x: Dual) = Dual(Math.Cos x.V, -Math.Sin x.V * x.D)

    /// Hyperbolic tangent.
    static member Tanh(x: Dual) =
        let t = Math.Tanh x.V
        Dual(t, (1.0 - t * t) * x.D)

    /// |x| (derivative sign(v) x').
    static member Abs(x: Dual) = if x.V < 0.0 then -x else x

    /// x^y with a jet exponent: exp(y log x).
    static member Pow(x: Dual, y: Dual) =
        if y.D = 0.0 then
            Dual.PowC(x, y.V)
        else
            Dual.Exp(y * Dual.Log x)

    /// x^p for a float exponent.
    static member PowC(x: Dual, p: float) =
        let xp1 = Math.Pow(x.V, p - 1.0)
        Dual(xp1 * x.V, p * xp1 * x.D)

    /// x^n for an integer exponent (exact for x = 0 and n >= 1).
    static member Pown(x: Dual, n: int) =
        if n = 0 then
            Dual.One
        else
            let xn1 = pown x.V (n - 1)
            Dual(xn1 * x.V, float n * xn1 * x.D)

    /// The constant c (conversion used by `Scalar.ofFloat`).
    static member inline op_Explicit(c: float) : Dual = Dual(c, 0.0)
    /// The value (conversion used by `Scalar.value`).
    static member inline op_Explicit(x: Dual) : float = x.V

    override x.ToString() = sprintf "Dual(%g, %g)" x.V x.D

    override x.Equals(o) =
        match o with
        | :? Dual as y -> x.V = y.V && x.D = y.D
        | _ -> false

    override x.GetHashCode() = HashCode.Combine(x.V, x.D)

    interface IComparable with
        /// Compares values only (the primal), so that branches in model code follow the value.
        member x.CompareTo(o) =
            match o with
            | :? Dual as y -> compare x.V y.V
            | _ -> invalidArg "o" "a Dual compares only with a Dual"

/// A univariate Taylor jet of order 4: x(t) = C0 + C1 t + C2 t^2 + C3 t^3 + C4 t^4 + O(t^5).
/// The k-th derivative at t = 0 is k! Ck (see `Jet.Derivative`).
[<Struct; CustomEquality; CustomComparison>]
type Jet =
    /// Taylor coefficient of t^0 (the value).
    val C0: float
    /// Taylor coefficient of t^1.
    val C1: float
    /// Taylor coefficient of t^2.
    val C2: float
    /// Taylor coefficient of t^3.
    val C3: float
    /// Taylor coefficient of t^4.
    val C4: float

    /// Creates a jet from its five Taylor coefficients.
    new(c0, c1, c2, c3, c4) =
        { C0 = c0
          C1 = c1
          C2 = c2
          C3 = c3
          C4 = c4 }

    /// The variable t -> v + t.
    static member Variable(v: float) = Jet(v, 1.0, 0.0, 0.0, 0.0)
    /// The line t -> v + d t.
    static member Line(v: float, d: float) = Jet(v, d, 0.0, 0.0, 0.0)
    /// The constant v.
    static member Constant(v: float) = Jet(v, 0.0, 0.0, 0.0, 0.0)
    /// Zero constant.
    static member Zero = Jet(0.0, 0.0, 0.0, 0.0, 0.0)
    /// One constant.
    static member One = Jet(1.0, 0.0, 0.0, 0.0, 0.0)

    /// k-th derivative at t = 0, k = 0..4 (k! Ck).
    member x.Derivative(k: int) =
        match k with
        | 0 -> x.C0
        | 1 -> x.C1
        | 2 -> 2.0 * x.C2
        | 3 -> 6.0 * x.C3
        | 4 -> 24.0 * x.C4
        | _ -> invalidArg "k" (sprintf "a Jet carries derivatives of order 0..4, asked for %d" k)

    /// Sum.
    static member inline (+)(a: Jet, b: Jet) =
        Jet(a.C0 + b.C0, a.C1 + b.C1, a.C2 + b.C2, a.C3 + b.C3, a.C4 + b.C4)

    /// Difference.
    static member inline (-)(a: Jet, b: Jet) =
        Jet(a.C0 - b.C0, a.C1 - b.C1, a.C2 - b.C2, a.C3 - b.C3, a.C4 - b.C4)

    /// Negation.
    static member inline (~-)(a: Jet) = Jet(-a.C0, -a.C1, -a.C2, -a.C3, -a.C4)

    /// Truncated Cauchy product.
    static member inline (*)(a: Jet, b: Jet) =
        Jet(
            a.C0 * b.C0,
            a.C0 * b.C1 + a.C1 * b.C0,
            a.C0 * b.C2 + a.C1 * b.C1 + a.C2 * b.C0,
            a.C0 * b.C3 + a.C1 * b.C2 + a.C2 * b.C1 + a.C3 * b.C0,
            a.C0 * b.C4 + a.C1 * b.C3 + a.C2 * b.C2 + a.C3 * b.C1 + a.C4 * b.C0
        )

    /// Truncated quotient by the recurrence q_k = (a_k - sum_{j>=1} b_j q_{k-j}) / b_0.
    static member (/)(a: Jet, b: Jet) =
        let r = 1.0 / b.C0
        let q0 = a.C0 * r
        let q1 = (a.C1 - b.C1 * q0) * r
        let q2 = (a.C2 - b.C1 * q1 - b.C2 * q0) * r
        let q3 = (a.C3 - b.C1 * q2 - b.C2 * q1 - b.C3 * q0) * r
        let q4 = (a.C4 - b.C1 * q3 - b.C2 * q2 - b.C3 * q1 - b.C4 * q0) * r
        Jet(q0, q1, q2, q3, q4)

    /// f(x) given the derivatives f(v), f'(v), ..., f''''(v) at the value v of x: the truncated Taylor series of f
    /// composed with the jet (Faa di Bruno in one variable).
    static member Chain(x: Jet, f0: float, f1: float, f2: float, f3: float, f4: float) =
        // h = x - v has h0 = 0; its powers start at t^k.
        let h1, h2, h3, h4 = x.C1, x.C2, x.C3, x.C4
        let s2 = 0.5 * f2
        let s3 = f3 / 6.0
        let s4 = f4 / 24.0

        Jet(
            f0,
            f1 * h1,
            f1 * h2 + s2 * h1 * h1,
            f1 * h3 + s2 * 2.0 * h1 * h2 + s3 * h1 * h1 * h1,
            f1 * h4
            + s2 * (h2 * h2 + 2.0 * h1 * h3)
            + s3 * 3.0 * h1 * h1 * h2
            + s4 * h1 * h1 * h1 * h1
        )

    /// e^x.
    static member Exp(x: Jet) =
        let e = Math.Exp x.C0
        Jet.Chain(x, e, e, e, e, e)

    /// Natural logarithm.
    static member Log(x: Jet) =
        let r = 1.0 / x.C0
        Jet.Chain(x, Math.Log x.C0, r, -r * r, 2.0 * r * r * r, -6.0 * r * r * r * r)

    /// Square root.
    static member Sqrt(x: Jet) =
        let s = Math.Sqrt x.C0
        let r = 1.0 / x.C0
        let d1 = 0.5 * s * r
        let d2 = -0.5 * d1 * r
        let d3 = -1.5 * d2 * r
        let d4 = -2.5 * d3 * r
        Jet.Chain(x, s, d1, d2, d3, d4)

    /// Sine.
    static member Sin(x: Jet) =
        let s, c = Math.Sin x.C0, Math.Cos x.C0
        Jet.Chain(x, s, c, -s, -c, s)

    /// Cosine.
    static member Cos(x: Jet) =
        let s, c = Math.Sin x.C0, Math.Cos x.C0
        Jet.Chain(x, c, -s, -c, s, c)

    /// Hyperbolic tangent.
    static member Tanh(x: Jet) =
        let t = Math.Tanh x.C0
        let d1 = 1.0 - t * t
        let d2 = -2.0 * t * d1
        let d3 = d1 * (6.0 * t * t - 2.0)
        let d4 = d1 * (16.0 * t - 24.0 * t * t * t)
        Jet.Chain(x, t, d1, d2, d3, d4)

    /// |x| (the jet or its negation, by the sign of the value).
    static member Abs(x: Jet) = if x.C0 < 0.0 then -x else x

    /// x^y with a jet exponent: exp(y log x).
    static member Pow(x: Jet, y: Jet) =
        if y.C1 = 0.0 && y.C2 = 0.0 && y.C3 = 0.0 && y.C4 = 0.0 then
            Jet.PowC(x, y.C0)
        else
            Jet.Exp(y * Jet.Log x)

    /// x^p for a float exponent p (x > 0 unless p is a non-negative integer).
    static member PowC(x: Jet, p: float) =
        let v = x.C0

        if p = Math.Round p && p >= 0.0 && p <= 64.0 then
            Jet.Pown(x, int p)
        else
            let f0 = Math.Pow(v, p)
            let r = 1.0 / v
            let f1 = p * f0 * r
            let f2 = (p - 1.0) * f1 * r
            let f3 = (p - 2.0) * f2 * r
            let f4 = (p - 3.0) * f3 * r
            Jet.Chain(x, f0, f1, f2, f3, f4)

    /// x^n for an integer exponent (exact at x = 0 for n >= 0).
    static member Pown(x: Jet, n: int) =
        if n < 0 then
            Jet.One / Jet.Pown(x, -n)
        else
            let d k = JetMath.powerDerivative n k x.C0
            Jet.Chain(x, d 0, d 1, d 2, d 3, d 4)

    /// The constant c (conversion used by `Scalar.ofFloat`).
    static member inline op_Explicit(c: float) : Jet = Jet(c, 0.0, 0.0, 0.0, 0.0)
    /// The value (conversion used by `Scalar.value`).
    static member inline op_Explicit(x: Jet) : float = x.C0

    override x.ToString() =
        sprintf "Jet(%g; %g, %g, %g, %g)" x.C0 x.C1 x.C2 x.C3 x.C4

    override x.Equals(o) =
        match o with
        | :? Jet as y -> x.C0 = y.C0 && x.C1 = y.C1 && x.C2 = y.C2 && x.C3 = y.C3 && x.C4 = y.C4
        | _ -> false

    override x.GetHashCode() =
        HashCode.Combine(x.C0, x.C1, x.C2, x.C3, x.C4)

    interface IComparable with
        /// Compares values only (the primal), so that branches in model code follow the value.
        member x.CompareTo(o) =
            match o with
            | :? Jet as y -> compare x.C0 y.C0
            | _ -> invalidArg "o" "a Jet compares only with a Jet"

#nowarn "77" // op_Explicit member constraints: we define both conversions on our own jet types.

/// Generic scalar operations for model code written once over float, Dual, Jet (and Taylor).
/// `x +. c`, `x -. c`, `x *. c`, `x /. c` take a float on the right; `c .+ x`, `c .- x`, `c .* x`, `c ./ x` on the left.
/// A scalar type supplies +, -, *, /, unary -, Exp, Log, Sqrt, Pow, Pown, Abs and the two op_Explicit conversions.
[<AutoOpen>]
module Scalar =

    /// The float c as a constant of the scalar type ^T (identity on float).
    let inline ofFloat (c: float) : ^T =
        // On float the SRTP conversion would compile to a dynamic call (LanguagePrimitives.ExplicitDynamic, ~10x slower);
        // the type test is a JIT-time constant and box/unbox of a float folds away, so the float path is free.
        if Type.op_Equality (typeof< ^T>, typeof<float>) then
            unbox< ^T> (box c)
        else
            (^T: (static member op_Explicit: float -> ^T) c)

    /// The value (primal part) of a scalar, for branches and comparisons in model code.
    let inline value (x: ^T) : float =
        if Type.op_Equality (typeof< ^T>, typeof<float>) then
            unbox<float> (box x)
        else
            (^T: (static member op_Explicit: ^T -> float) x)

    /// x + c for a scalar x and a float c.
    let inline (+.) (x: ^T) (c: float) : ^T = x + ofFloat c
    /// x - c for a scalar x and a float c.
    let inline (-.) (x: ^T) (c: float) : ^T = x - ofFloat c
    /// x * c for a scalar x and a float c.
    let inline ( *. ) (x: ^T) (c: float) : ^T = x * ofFloat c
    /// x / c for a scalar x and a float c.
    let inline (/.) (x: ^T) (c: float) : ^T = x * ofFloat (1.0 / c)
    /// c + x for a float c and a scalar x.
    let inline (.+) (c: float) (x: ^T) : ^T = ofFloat c + x
    /// c - x for a float c and a scalar x.
    let inline (.-) (c: float) (x: ^T) : ^T = ofFloat c - x
    /// c * x for a float c and a scalar x.
    let inline (.*) (c: float) (x: ^T) : ^T = ofFloat c * x
    /// c / x for a float c and a scalar x.
    let inline (./) (c: float) (x: ^T) : ^T = ofFloat c / x
    /// x^p for a float exponent p (through the type's Pow).
    let inline powc (x: ^T) (p: float) : ^T = x ** ofFloat p
    /// x^n for an integer exponent n (through the type's Pown; exact at x = 0).
    let inline powi (x: ^T) (n: int) : ^T = pown x n
    /// x^2.
    let inline sq (x: ^T) : ^T = x * x
