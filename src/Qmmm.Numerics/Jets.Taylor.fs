namespace Qmmm.Numerics

open System
open System.Collections.Generic

// Multivariate truncated Taylor polynomials ("jets in a few directions"), used to differentiate one neighbour's
// one-particle functions ψ(g) in the three components of g, an outer map G in its few channels, and (in the slow
// reference oracle) a whole site energy in the j neighbour components of one derivative-tensor entry.
//
// A `Taylor` in n variables truncated at total degree p stores the coefficients c_α of
//     f(x0 + h) = Σ_{|α| <= p} c_α h^α + O(|h|^{p+1}),     so that  ∂^α f(x0) = α! c_α.
// The monomials α of one (n, p) are laid out once in a `TaylorShape` (graded order, index tables, and the table of all
// index triples (i, j, k) with α_i + α_j = α_k for the truncated Cauchy product); every Taylor of that (n, p) shares
// the same cached shape object.
//
// Constants. `op_Explicit: float -> Taylor` (used by generic model code through `Scalar.ofFloat`) cannot know the
// shape of the computation it is used in, so it builds a *shape-less constant* (the scalar shape, n = 0, p = 0).
// A binary operation between a shape-less constant and a Taylor of shape (n, p) adopts (n, p); a binary operation
// between two Taylors of different non-scalar shapes raises `ArgumentException`.
//
// Perturbation confusion (STYLE 17). Confusion arises when a derivative operator is applied to a function that itself
// applies a derivative operator, and the inner and outer infinitesimals are not kept apart (nested dual numbers without
// tags). It cannot happen here: (1) the coefficients of a Taylor are plain floats, so a Taylor of Taylors does not
// exist and no derivative operator is ever nested; (2) every perturbation is an explicit variable index 0 .. n-1 chosen
// by the caller (`Taylor.Variable(n, p, index, value)`), so all mixed derivatives of one computation are read off one
// polynomial, and distinct directions are distinct monomials; (3) Taylors built for different (n, p) cannot be mixed
// (the shape check raises). A derivative of an expression that contains a derivative (e.g. d/dx [x ∂_y f(x, y)]) is
// read from the coefficients of a single higher-order Taylor of f, never by nesting. Jets.Taylor.Tests proves it.

/// The monomial layout of Taylor polynomials in `NVars` variables truncated at total degree `Order`: monomials in graded
/// order (degree 0, then degree 1 = the variables 0..n-1, then degree 2, ...), the factorials α!, the product table of
/// the truncated Cauchy product, and for each k <= Order the map from a component multi-index (i_1..i_k) in [0, n)^k
/// (row-major) to the monomial x_{i_1}···x_{i_k}. Immutable; one shared instance per (n, p) (see `TaylorShape.Get`).
[<Sealed>]
type TaylorShape private (nvars: int, order: int) =
    // all exponent vectors of total degree d in n variables, first exponent descending (so degree 1 is e_0, e_1, ...)
    static let rec compositions (n: int) (d: int) : int[] list =
        if n = 1 then
            [ [| d |] ]
        else
            [ for a0 in d .. -1 .. 0 do
                  for rest in compositions (n - 1) (d - a0) -> Array.append [| a0 |] rest ]

    let exps: int[][] =
        if nvars = 0 then
            [| [||] |]
        else
            [| for d in 0..order do
                   yield! compositions nvars d |]

    let count = exps.Length

    let key (a: int[]) =
        Array.foldBack (fun e acc -> acc * (order + 1) + e) a 0

    let index = Dictionary<int, int>()

    do
        for i in 0 .. count - 1 do
            index.[key exps.[i]] <- i

    let degree = exps |> Array.map Array.sum

    let factorial =
        exps
        |> Array.map (fun a -> a |> Array.fold (fun acc e -> acc * float (List.fold (*) 1 [ 1..e ])) 1.0)

    let productI, productJ, productK =
        let pi, pj, pk = ResizeArray<int>(), ResizeArray<int>(), ResizeArray<int>()

        for i in 0 .. count - 1 do
            for j in 0 .. count - 1 do
                if degree.[i] + degree.[j] <= order then
                    let s = Array.map2 (+) exps.[i] exps.[j]
                    pi.Add i
                    pj.Add j
                    pk.Add index.[key s]

        pi.ToArray(), pj.ToArray(), pk.ToArray()

    let tensorIndex: int[][] =
        [| for k in 0..order ->
               let size = pown nvars k
               let a = Array.zeroCreate<int> nvars

               Array.init size (fun flat ->
                   Array.fill a 0 nvars 0
                   let mutable f = flat

                   for _ in 1..k do
                       a.[f % nvars] <- a.[f % nvars] + 1
                       f <- f / nvars

                   index.[key a]) |]

    static let maxVars = 12
    static let maxOrder = 4

    static let shapes =
        Array.init ((maxVars + 1) * (maxOrder + 1)) (fun k ->
            lazy (TaylorShape(k / (maxOrder + 1), (if k / (maxOrder + 1) = 0 then 0 else k % (maxOrder + 1)))))

    /// Number of variables n (0 for the scalar shape of a shape-less constant).
    member _.NVars = nvars
    /// Truncation order p (total degree), 0..4.
    member _.Order = order
    /// Number of monomials, C(n + p, p).
    member _.Count = count
    /// Exponent vector α of monomial i (do not modify).
    member _.Exponent(i: int) = exps.[i]
    /// Total degree |α| of monomial i.
    member _.Degree(i: int) = degree.[i]
    /// α! of monomial i (so that ∂^α f = α! c_α).
    member _.Factorial(i: int) = factorial.[i]

    /// Monomial index of the exponent vector α (length n, |α| <= p); ArgumentException otherwise.
    member _.IndexOf(alpha: int[]) =
        if alpha.Length <> nvars then
            invalidArg
                "alpha"
                (sprintf "a multi-index has %d entries for %d variables, got %d" nvars nvars alpha.Length)

        if Array.exists (fun e -> e < 0) alpha then
            invalidArg "alpha" (sprintf "multi-index entries must be non-negative, got %A" alpha)

        let d = Array.sum alpha

        if d > order then
            invalidArg "alpha" (sprintf "derivative of order %d asked from a Taylor of order %d" d order)

        index.[key alpha]

    /// Product table: rows t with α_{I t} + α_{J t} = α_{K t} (the truncated Cauchy product c_K += a_I b_J). Shared.
    member internal _.ProductI = productI
    /// See ProductI.
    member internal _.ProductJ = productJ
    /// See ProductI.
    member internal _.ProductK = productK

    /// For k = 0..Order: monomial index of x_{i_1}···x_{i_k} for each component multi-index (i_1..i_k) ∈ [0, n)^k,
    /// flattened row-major (i_1 slowest). Do not modify.
    member _.TensorIndex(k: int) = tensorIndex.[k]

    /// Largest supported number of variables (12).
    static member MaxVars = maxVars
    /// Largest supported truncation order (4).
    static member MaxOrder = maxOrder

    /// The shared shape for n variables (0..12) and order p (0..4); n = 0 gives the scalar shape of constants.
    /// Shapes are built once, lazily and thread-safely, and never change (a pure memo table, not mutable state).
    static member Get(nvars: int, order: int) =
        Validate.intInRange "nvars" 0 maxVars nvars
        Validate.intInRange "order" 0 maxOrder order
        shapes.[nvars * (maxOrder + 1) + (if nvars = 0 then 0 else order)].Force()

    /// The scalar shape (no variables) of shape-less constants.
    static member Scalar = TaylorShape.Get(0, 0)

    override _.ToString() =
        sprintf "TaylorShape(nvars=%d, order=%d)" nvars order

/// A multivariate truncated Taylor polynomial (a jet in a few directions): the coefficients c_α, |α| <= p, of a
/// function of n variables around a point, n <= 12, p <= 4. A full scalar type for the generic inline model code of
/// Jets.fs (+, -, *, /, unary -, Exp, Log, Sqrt, Sin, Cos, Tanh, Pow, Pown, Abs, conversions, comparison on the value).
/// Array-backed (a class): meant for per-neighbour work, not for the per-atom hot loops. See the file header for
/// constants (shape-less) and for why perturbation confusion is impossible.
[<Sealed>]
type Taylor private (shape: TaylorShape, coeffs: float[]) =

    static let mismatch (a: TaylorShape) (b: TaylorShape) =
        invalidArg
            "b"
            (sprintf
                "cannot combine Taylor polynomials of different shapes (nvars=%d, order=%d) and (nvars=%d, order=%d): variables of one computation must share (nvars, order)"
                a.NVars
                a.Order
                b.NVars
                b.Order)

    // the common shape of a binary operation (a scalar constant adopts the other operand's shape)
    static let common (a: Taylor) (b: Taylor) =
        if Object.ReferenceEquals(a.Shape, b.Shape) then a.Shape
        elif a.Shape.NVars = 0 then b.Shape
        elif b.Shape.NVars = 0 then a.Shape
        else mismatch a.Shape b.Shape

    // coefficients of x in shape s (x is of shape s or a scalar constant)
    static let lift (s: TaylorShape) (x: Taylor) =
        if Object.ReferenceEquals(x.Shape, s) then
            x.Coeffs
        else
            let c = Array.zeroCreate s.Count
            c.[0] <- x.Coeffs.[0]
            c

    static let mul (s: TaylorShape) (a: float[]) (b: float[]) =
        let c = Array.zeroCreate s.Count
        let pi, pj, pk = s.ProductI, s.ProductJ, s.ProductK

        for t in 0 .. pi.Length - 1 do
            let k = pk.[t]
            c.[k] <- c.[k] + a.[pi.[t]] * b.[pj.[t]]

        c

    static let factorials = [| 1.0; 1.0; 2.0; 6.0; 24.0 |]

    /// The shape (variables and order) of this polynomial; the scalar shape for a shape-less constant.
    member _.Shape: TaylorShape = shape
    /// Coefficients c_α in the shape's monomial order (shared; do not modify).
    member internal _.Coeffs: float[] = coeffs
    /// The value f(x0) (the constant coefficient).
    member _.Value: float = coeffs.[0]
    /// Number of variables (0 for a shape-less constant).
    member _.NVars = shape.NVars
    /// Truncation order (0 for a shape-less constant).
    member _.Order: int = shape.Order
    /// True for a shape-less constant (made by a float conversion; adopts the other operand's shape in operations).
    member _.IsShapeless = shape.NVars = 0
    /// A copy of the coefficients c_α in the shape's monomial order (graded; see `TaylorShape`).
    member _.Coefficients = Array.copy coeffs

    /// The variable x_index of n variables, truncated at order p, at the value `value`: x0 + h_index.
    /// n in 1..12, p in 0..4, index in 0..n-1.
    static member Variable(nvars: int, order: int, index: int, value: float) =
        Validate.intInRange "nvars" 1 TaylorShape.MaxVars nvars
        Validate.intInRange "index" 0 (nvars - 1) index
        let s = TaylorShape.Get(nvars, order)
        let c = Array.zeroCreate s.Count
        c.[0] <- value

        if order >= 1 then
            c.[1 + index] <- 1.0

        Taylor(s, c)

    /// The n variables x_0..x_{n-1} (n = values.Length) of one computation at the point `values`, order p.
    static member Variables(order: int, values: float[]) =
        Array.init values.Length (fun i -> Taylor.Variable(values.Length, order, i, values.[i]))

    /// The constant `value` with an explicit shape (n in 1..12 variables, order p in 0..4).
    static member Constant(nvars: int, order: int, value: float) =
        Validate.intInRange "nvars" 1 TaylorShape.MaxVars nvars
        let s = TaylorShape.Get(nvars, order)
        let c = Array.zeroCreate s.Count
        c.[0] <- value
        Taylor(s, c)

    /// A Taylor polynomial from its shape and coefficients (length shape.Count; copied).
    static member OfCoefficients(shape: TaylorShape, coefficients: float[]) =
        Validate.length "coefficients" shape.Count coefficients
        Taylor(shape, Array.copy coefficients)

    /// The shape-less constant 0.
    static member Zero = Taylor(TaylorShape.Scalar, [| 0.0 |])
    /// The shape-less constant 1.
    static member One = Taylor(TaylorShape.Scalar, [| 1.0 |])

    /// The mixed partial derivative ∂^α f(x0) = α! c_α for the exponent vector α (length n, |α| <= p).
    /// A shape-less constant accepts any α: its value for α = 0, else 0.
    member _.Derivative(multiIndex: int[]) =
        if shape.NVars = 0 then
            if Array.forall ((=) 0) multiIndex then coeffs.[0] else 0.0
        else
            let i = shape.IndexOf multiIndex
            shape.Factorial i * coeffs.[i]

    /// The partial derivative ∂_{v_1}···∂_{v_k} f(x0) for a list of variable indices (repeats allowed, any order),
    /// k <= p; e.g. [| 0; 0; 2 |] gives ∂²f/∂x_0²∂x_2.
    member t.Partial(variables: int[]) =
        let n = shape.NVars

        if n = 0 then
            if variables.Length = 0 then coeffs.[0] else 0.0
        else
            let alpha = Array.zeroCreate n

            for v in variables do
                Validate.intInRange "variables" 0 (n - 1) v
                alpha.[v] <- alpha.[v] + 1

            t.Derivative alpha

    /// The gradient ∂f/∂x_i, i = 0..n-1 (needs order >= 1; a shape-less constant raises).
    member t.Gradient: float[] =
        let d = t.DerivativeTensor 1
        d

    /// The Hessian ∂²f/∂x_i∂x_j (n x n, needs order >= 2).
    member t.Hessian: float[,] =
        let n = shape.NVars
        let d = t.DerivativeTensor 2
        Array2D.init n n (fun i j -> d.[i * n + j])

    /// The full symmetric derivative tensor of order k (0 <= k <= p): n^k entries, row-major,
    /// entry (i_1..i_k) = ∂^k f/∂x_{i_1}···∂x_{i_k}. A shape-less constant raises (it has no variables).
    member _.DerivativeTensor(k: int) : float[] =
        if shape.NVars = 0 then
            invalidArg "k" "a shape-less constant has no variables; build it with Taylor.Constant(nvars, order, value)"

        Validate.intInRange "k" 0 shape.Order k
        let map = shape.TensorIndex k
        Array.init map.Length (fun f -> let i = map.[f] in shape.Factorial i * coeffs.[i])

    /// Writes the order-k derivative tensor (see `DerivativeTensor`) into out[offset ..], without allocating.
    member _.DerivativeTensorInto(k: int, out: float[], offset: int) =
        if shape.NVars = 0 then
            invalidArg "k" "a shape-less constant has no variables; build it with Taylor.Constant(nvars, order, value)"

        Validate.intInRange "k" 0 shape.Order k
        let map = shape.TensorIndex k

        for f in 0 .. map.Length - 1 do
            let i = map.[f]
            out.[offset + f] <- shape.Factorial i * coeffs.[i]

    /// f(x) for a smooth univariate f given its derivatives f(v), f'(v), ..., f^(p)(v) at the value v of x
    /// (at least p + 1 of them): the univariate Taylor series of f composed with x (multivariate Faà di Bruno,
    /// evaluated by Horner's rule on h = x - v, whose powers beyond p vanish).
    static member Chain(x: Taylor, derivatives: float[]) =
        let s = x.Shape
        let p = s.Order

        if derivatives.Length < p + 1 then
            invalidArg
                "derivatives"
                (sprintf "Chain needs f, f', ..., f^(%d) (%d values), got %d" p (p + 1) derivatives.Length)

        if p = 0 then
            Taylor(s, [| derivatives.[0] |])
        else
            let h = Array.copy x.Coeffs
            h.[0] <- 0.0
            let mutable acc = Array.zeroCreate s.Count
            acc.[0] <- derivatives.[p] / factorials.[p]

            for k in p - 1 .. -1 .. 0 do
                acc <- mul s acc h
                acc.[0] <- acc.[0] + derivatives.[k] / factorials.[k]

            Taylor(s, acc)

    /// Sum (a shape-less constant adopts the other operand's shape).
    static member (+)(a: Taylor, b: Taylor) =
        let s = common a b
        let x, y = lift s a, lift s b
        Taylor(s, Array.init s.Count (fun i -> x.[i] + y.[i]))

    /// Difference (a shape-less constant adopts the other operand's shape).
    static member (-)(a: Taylor, b: Taylor) =
        let s = common a b
        let x, y = lift s a, lift s b
        Taylor(s, Array.init s.Count (fun i -> x.[i] - y.[i]))

    /// Negation.
    static member (~-)(a: Taylor) =
        Taylor(a.Shape, Array.map (fun c -> -c) a.Coeffs)

    /// Truncated Cauchy product (a constant factor scales).
    static member (*)(a: Taylor, b: Taylor) =
        if b.Shape.NVars = 0 then
            let c = b.Coeffs.[0]
            Taylor(a.Shape, Array.map (fun x -> c * x) a.Coeffs)
        elif a.Shape.NVars = 0 then
            let c = a.Coeffs.[0]
            Taylor(b.Shape, Array.map (fun x -> c * x) b.Coeffs)
        else
            let s = common a b
            Taylor(s, mul s a.Coeffs b.Coeffs)

    /// Truncated quotient a * (1/b), 1/b by composition with the series of 1/x.
    static member (/)(a: Taylor, b: Taylor) =
        if b.Shape.NVars = 0 then
            let c = 1.0 / b.Coeffs.[0]
            Taylor(a.Shape, Array.map (fun x -> c * x) a.Coeffs)
        else
            let r = 1.0 / b.Value
            // derivatives of 1/x: (-1)^k k! / x^(k+1)
            let d =
                Array.init (b.Order + 1) (fun k -> float (pown -1 k) * factorials.[k] * pown r (k + 1))

            a * Taylor.Chain(b, d)

    /// e^x.
    static member Exp(x: Taylor) =
        let e = Math.Exp x.Value
        Taylor.Chain(x, Array.create (x.Order + 1) e)

    /// Natural logarithm (x > 0).
    static member Log(x: Taylor) =
        let v = x.Value
        // derivatives of log: log v, then (-1)^(k-1) (k-1)! / v^k
        let d =
            Array.init (x.Order + 1) (fun k ->
                if k = 0 then
                    Math.Log v
                else
                    float (pown -1 (k - 1)) * factorials.[k - 1] / pown v k)

        Taylor.Chain(x, d)

    /// Square root (x > 0 for derivatives).
    static member Sqrt(x: Taylor) =
        let v = x.Value
        let s = Math.Sqrt v
        // d^k/dv^k v^(1/2) = (1/2)(1/2 - 1)...(1/2 - k + 1) v^(1/2 - k)
        let d = Array.zeroCreate (x.Order + 1)
        d.[0] <- s

        for k in 1 .. x.Order do
            d.[k] <- d.[k - 1] * (0.5 - float (k - 1)) / v

        Taylor.Chain(x, d)

    /// Sine.
    static member Sin(x: Taylor) =
        let s, c = Math.Sin x.Value, Math.Cos x.Value
        Taylor.Chain(x, Array.init (x.Order + 1) (fun k -> [| s; c; -s; -c |].[k % 4]))

    /// Cosine.
    static member Cos(x: Taylor) =
        let s, c = Math.Sin x.Value, Math.Cos x.Value
        Taylor.Chain(x, Array.init (x.Order + 1) (fun k -> [| c; -s; -c; s |].[k % 4]))

    /// Hyperbolic tangent.
    static member Tanh(x: Taylor) =
        let t = Math.Tanh x.Value
        let d1 = 1.0 - t * t

        let d =
            [| t
               d1
               -2.0 * t * d1
               d1 * (6.0 * t * t - 2.0)
               d1 * (16.0 * t - 24.0 * t * t * t) |]

        Taylor.Chain(x, d)

    /// |x| (the polynomial or its negation, by the sign of the value).
    static member Abs(x: Taylor) = if x.Value < 0.0 then -x else x

    /// x^y: for a constant exponent y = q (no variables, or all derivative coefficients zero), the series of v^q;
    /// otherwise exp(y log x).
    static member Pow(x: Taylor, y: Taylor) =
        if y.Shape.NVars = 0 || Array.forall (fun c -> c = 0.0) y.Coeffs.[1..] then
            let q = y.Value

            if q = Math.Round q && q >= 0.0 && q <= 64.0 then
                Taylor.Pown(x, int q)
            else
                let v = x.Value
                let d = Array.zeroCreate (x.Order + 1)
                d.[0] <- Math.Pow(v, q)

                for k in 1 .. x.Order do
                    d.[k] <- d.[k - 1] * (q - float (k - 1)) / v

                Taylor.Chain(x, d)
        else
            Taylor.Exp(y * Taylor.Log x)

    /// x^n for an integer exponent (exact at x = 0 for n >= 0).
    static member Pown(x: Taylor, n: int) =
        if n < 0 then
            Taylor.One / Taylor.Pown(x, -n)
        else
            let v = x.Value
            Taylor.Chain(x, Array.init (x.Order + 1) (fun k -> JetMath.powerDerivative n k v))

    /// The shape-less constant c (conversion used by `Scalar.ofFloat`); it adopts the other operand's shape.
    static member op_Explicit(c: float) : Taylor = Taylor(TaylorShape.Scalar, [| c |])
    /// The value (conversion used by `Scalar.value`).
    static member op_Explicit(x: Taylor) : float = x.Value

    override _.ToString() =
        sprintf "Taylor(nvars=%d, order=%d; %s)" shape.NVars shape.Order (String.Join(", ", coeffs))

    /// Equal when the values and all coefficients agree (a shape-less constant is compared as a constant polynomial).
    override x.Equals(o) =
        match o with
        | :? Taylor as y ->
            if
                x.Shape.NVars <> 0
                && y.Shape.NVars <> 0
                && not (Object.ReferenceEquals(x.Shape, y.Shape))
            then
                false
            else
                let s = common x y
                lift s x = lift s y
        | _ -> false

    override x.GetHashCode() = x.Value.GetHashCode()

    interface IComparable with
        /// Compares values only (the primal), so that branches in model code follow the value.
        member x.CompareTo(o) =
            match o with
            | :? Taylor as y -> compare x.Value y.Value
            | _ -> invalidArg "o" "a Taylor compares only with a Taylor"
