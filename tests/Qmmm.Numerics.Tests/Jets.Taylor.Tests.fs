/// Multivariate Taylor jets against closed-form mixed partials, finite differences and univariate jets, all orders
/// 1..4; perturbation independence (STYLE 17).
module Qmmm.Numerics.Tests.JetsTaylor

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators

/// A test function of three variables written once over the scalar type: every operation of the scalar protocol.
let inline f3 (x: ^T) (y: ^T) (z: ^T) : ^T =
    let a = exp (x * y *. 0.3) / (z +. 2.5)
    let b = log (x * x + y * y +. 1.0) * sin z
    let c = sqrt (x +. 3.0) * powc (y +. 2.0) 1.3 - cos (x * z)
    let d = tanh (y - z) * powi (x +. 0.5) 3 - abs (z -. 4.0) *. 0.1
    a + b - c * d + (2.0 .- x / (y +. 3.0))

/// All exponent vectors α with |α| = k in n variables.
let rec alphas (n: int) (k: int) : int[] list =
    if n = 1 then
        [ [| k |] ]
    else
        [ for a0 in k .. -1 .. 0 do
              for rest in alphas (n - 1) (k - a0) -> Array.append [| a0 |] rest ]

/// a^α = Π a_i^α_i.
let powAlpha (a: float[]) (alpha: int[]) =
    Array.fold2 (fun acc ai e -> acc * pown ai e) 1.0 a alpha

/// n-th falling factorial of p: p (p-1) ... (p-k+1).
let falling (p: float) (k: int) =
    List.fold (fun acc i -> acc * (p - float i)) 1.0 [ 0 .. k - 1 ]

/// A point x and a direction a in n = 1..5 variables.
let pointAndDirection =
    gen {
        let! n = Gen.choose (1, 5)
        let! x = Gen.arrayOfLength n (floatIn -0.5 0.5)
        let! a = Gen.arrayOfLength n (floatIn -0.8 0.8)
        return x, a
    }

/// Taylor variables at x, order 4, and the linear form a·x on them.
let linear (x: float[]) (a: float[]) =
    let v = Taylor.Variables(4, x)
    let mutable s = Taylor.Constant(x.Length, 4, 0.0)

    for i in 0 .. x.Length - 1 do
        s <- s + v.[i] *. a.[i]

    v, s, Array.fold2 (fun acc xi ai -> acc + xi * ai) 0.0 x a

let acc = { absolute = 1e-11; relative = 1e-11 }

/// Every exponent vector of order 0..4 in n = 1..5 variables (built once: formatting and enumeration are not free).
let allAlphas =
    Array.init 6 (fun n ->
        if n = 0 then
            [||]
        else
            [| for k in 0..4 do
                   yield! alphas n k |])

/// Checks every mixed partial of order 0..4 of `t` against `exact k alpha` (the message is built only on failure).
let checkAll (name: string) (t: Taylor) (n: int) (exact: int -> int[] -> float) =
    for alpha in allAlphas.[n] do
        let a, e = t.Derivative alpha, exact (Array.sum alpha) alpha

        if not (abs (a - e) <= acc.absolute + acc.relative * max (abs a) (abs e)) then
            Expect.floatClose acc a e (sprintf "%s: ∂^%A" name alpha)

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Jets.Taylor"
        [ testPropertyWithConfig
              config
              "mixed partials of exp, log, 1/(c + a·x), powers and sin of a linear form match closed forms to order 4"
          <| Prop.forAll (Arb.fromGen pointAndDirection) (fun (x, a) ->
              let n = x.Length
              let _, s, sv = linear x a
              // ∂^α g(c + a·x) = g^(k)(c + a·x) a^α for k = |α|
              checkAll "exp" (exp s) n (fun _ al -> Math.Exp sv * powAlpha a al)
              let c = 2.0

              checkAll "log" (log (s +. c)) n (fun k al ->
                  let d =
                      if k = 0 then
                          Math.Log(c + sv)
                      else
                          float (pown -1 (k - 1)) * falling (float (k - 1)) (k - 1) / pown (c + sv) k

                  d * powAlpha a al)

              checkAll "1/(c + a·x)" (1.0 ./ (s +. c)) n (fun k al ->
                  float (pown -1 k) * falling (float k) k / pown (c + sv) (k + 1) * powAlpha a al)

              let p = 2.7

              checkAll "(c + a·x)^p" (powc (s +. c) p) n (fun k al ->
                  falling p k * Math.Pow(c + sv, p - float k) * powAlpha a al)

              checkAll "sqrt" (sqrt (s +. c)) n (fun k al ->
                  falling 0.5 k * Math.Pow(c + sv, 0.5 - float k) * powAlpha a al)

              checkAll "sin" (sin s) n (fun k al -> Math.Sin(sv + float k * Math.PI / 2.0) * powAlpha a al)
              checkAll "cos" (cos s) n (fun k al -> Math.Cos(sv + float k * Math.PI / 2.0) * powAlpha a al))

          testPropertyWithConfig config "mixed partials of a monomial x^β are β!/(β-α)! x^(β-α), including at zero"
          <| Prop.forAll (Arb.fromGen pointAndDirection) (fun (x0, _) ->
              for x in [ x0; Array.zeroCreate x0.Length ] do
                  let n = x.Length
                  let v = Taylor.Variables(4, x)
                  let beta = Array.init n (fun i -> (i + 1) % 4)
                  let mutable t = Taylor.Constant(n, 4, 1.0)

                  for i in 0 .. n - 1 do
                      t <- t * powi v.[i] beta.[i]

                  checkAll "monomial" t n (fun _ al ->
                      Array.init n (fun i ->
                          if al.[i] > beta.[i] then
                              0.0
                          else
                              falling (float beta.[i]) al.[i] * pown x.[i] (beta.[i] - al.[i]))
                      |> Array.fold (*) 1.0))

          testPropertyWithConfig config "derivatives of r = |x| in 3-D match the closed forms to order 3"
          <| Prop.forAll (Arb.fromGen (Gen.arrayOfLength 3 (floatIn -2.0 2.0))) (fun x ->
              let x =
                  if Array.sumBy (fun v -> v * v) x < 0.25 then
                      [| 1.0; 0.3; -0.4 |]
                  else
                      x

              let v = Taylor.Variables(4, x)
              let t = sqrt (v.[0] * v.[0] + v.[1] * v.[1] + v.[2] * v.[2])
              let r = Math.Sqrt(Array.sumBy (fun v -> v * v) x)
              let dl i j = if i = j then 1.0 else 0.0
              let g = t.Gradient
              let h = t.Hessian
              let d3 = t.DerivativeTensor 3

              for i in 0..2 do
                  Expect.floatClose acc g.[i] (x.[i] / r) "∂_i r = x_i / r"

                  for j in 0..2 do
                      Expect.floatClose acc h.[i, j] ((dl i j - x.[i] * x.[j] / (r * r)) / r) "∂_ij r"

                      for k in 0..2 do
                          let e =
                              -(dl i j * x.[k] + dl i k * x.[j] + dl j k * x.[i]) / pown r 3
                              + 3.0 * x.[i] * x.[j] * x.[k] / pown r 5

                          Expect.floatClose acc d3.[(i * 3 + j) * 3 + k] e "∂_ijk r")

          testPropertyWithConfig config "every order k = 1..4 equals the centred difference of the order k-1 tensor"
          <| Prop.forAll (Arb.fromGen (Gen.arrayOfLength 3 (floatIn -0.8 0.8))) (fun x ->
              let tensor (p: float[]) (k: int) =
                  let v = Taylor.Variables(4, p)
                  (f3 v.[0] v.[1] v.[2]).DerivativeTensor k

              let h = 1e-5

              for k in 1..4 do
                  let dk = tensor x k

                  for i in 0..2 do
                      let xp = Array.copy x
                      let xm = Array.copy x
                      xp.[i] <- xp.[i] + h
                      xm.[i] <- xm.[i] - h
                      let lp, lm = tensor xp (k - 1), tensor xm (k - 1)

                      // entry (m, i) of order k = ∂_i of entry m of order k-1
                      for m in 0 .. lp.Length - 1 do
                          let fd = (lp.[m] - lm.[m]) / (2.0 * h)
                          let a = dk.[m * 3 + i]

                          if abs (a - fd) > 1e-6 * (1.0 + abs fd) then
                              Expect.floatClose
                                  { absolute = 1e-6; relative = 1e-6 }
                                  a
                                  fd
                                  (sprintf "order %d, entry %d, direction %d" k m i))

          testPropertyWithConfig config "directional derivatives agree with the univariate Jet along a line"
          <| Prop.forAll (Arb.fromGen (Gen.arrayOfLength 6 (floatIn -0.8 0.8))) (fun xd ->
              let x, d = xd.[0..2], xd.[3..5]
              let v = Taylor.Variables(4, x)
              let t = f3 v.[0] v.[1] v.[2]

              let j =
                  f3 (Jet.Line(x.[0], d.[0])) (Jet.Line(x.[1], d.[1])) (Jet.Line(x.[2], d.[2]))

              for k in 0..4 do
                  let tk = t.DerivativeTensor k
                  // Σ_{i_1..i_k} ∂^k f / ∂x_{i_1}..∂x_{i_k} d_{i_1}..d_{i_k}
                  let mutable s = 0.0

                  for f in 0 .. tk.Length - 1 do
                      let mutable r = f
                      let mutable w = 1.0

                      for _ in 1..k do
                          w <- w * d.[r % 3]
                          r <- r / 3

                      s <- s + w * tk.[f]

                  Expect.floatClose acc s (j.Derivative k) (sprintf "order %d" k))

          testCase "float and Taylor give the same value of a generic function"
          <| fun () ->
              let x = [| 0.2; -0.4; 0.7 |]
              let v = Taylor.Variables(2, x)

              Expect.floatClose Accuracy.veryHigh (f3 v.[0] v.[1] v.[2]).Value (f3 x.[0] x.[1] x.[2]) "value"

          testCase "perturbations cannot be confused: no jet can hold another jet (every coefficient is a float)"
          <| fun () ->
              // STYLE 17: Dual, Jet and Taylor carry plain float coefficients, so Jet<Jet>-style nesting (where
              // untagged perturbations get mixed up, Siskind–Pearlmutter) cannot be written; mixed derivatives come from
              // one multivariate Taylor. This fails if a jet type ever gets a field of a non-float type.
              let allowed =
                  [ typeof<float>
                    typeof<float[]>
                    typeof<int>
                    typeof<int[]>
                    typeof<TaylorShape> ]

              for ty in [ typeof<Dual>; typeof<Jet>; typeof<Taylor> ] do
                  let fields =
                      ty.GetFields(
                          System.Reflection.BindingFlags.Instance
                          ||| System.Reflection.BindingFlags.Public
                          ||| System.Reflection.BindingFlags.NonPublic
                      )

                  Expect.isNonEmpty fields (sprintf "%s has fields" ty.Name)

                  for f in fields do
                      Expect.isTrue
                          (List.contains f.FieldType allowed)
                          (sprintf "%s.%s has type %s" ty.Name f.Name f.FieldType.Name)

          testCase "derivatives in one variable never leak into another: separable functions factorise exactly"
          <| fun () ->
              let v = Taylor.Variables(4, [| 0.4; -0.2; 1.1 |])
              let a = exp v.[0] * sin v.[1]

              for k in 0..4 do
                  for alpha in alphas 3 k do
                      let expected =
                          if alpha.[2] > 0 then
                              0.0
                          else
                              Math.Exp 0.4 * Math.Sin(-0.2 + float alpha.[1] * Math.PI / 2.0)

                      Expect.floatClose acc (a.Derivative alpha) expected (sprintf "∂^%A" alpha)

          testCase "Taylor polynomials of different shapes cannot be mixed"
          <| fun () ->
              let a = Taylor.Variable(2, 3, 0, 1.0)
              let b = Taylor.Variable(3, 3, 0, 1.0)
              let c = Taylor.Variable(2, 2, 0, 1.0)

              for op in [ (fun () -> a + b); (fun () -> a * c); (fun () -> a / b); (fun () -> b - c) ] do
                  let e = Expect.throwsC (op >> ignore) id
                  Expect.isTrue (e :? ArgumentException) "ArgumentException"
                  Expect.stringContains e.Message "different shapes" "message names the condition"

          testCase "shape-less constants adopt the shape of the other operand"
          <| fun () ->
              let x = Taylor.Variable(3, 2, 1, 0.5)
              let c: Taylor = ofFloat 2.0
              Expect.isTrue c.IsShapeless "a float conversion is shape-less"

              for t in [ c + x; x - c; c * x; x / c; c / x ] do
                  Expect.equal (t.NVars, t.Order) (3, 2) "shape adopted"

              Expect.floatClose acc (c / x).Gradient.[1] (-2.0 / 0.25) "d/dx (2/x) = -2/x²"
              Expect.equal ((c + c).IsShapeless) true "constant + constant stays shape-less"
              Expect.equal (c.Derivative [| 1; 0 |]) 0.0 "derivatives of a constant vanish"

          testCase "comparison and conversion follow the value only"
          <| fun () ->
              let a = Taylor.Variable(2, 2, 0, 1.0)
              let b = Taylor.Variable(2, 2, 1, 2.0) *. -5.0
              Expect.isTrue (a > b) "1 > -10"
              Expect.equal (value a) 1.0 "value"
              Expect.isTrue (max a b = a) "max picks by value"

          testCase "bad arguments raise with messages naming the condition"
          <| fun () ->
              let e1 = Expect.throwsC (fun () -> Taylor.Variable(13, 2, 0, 0.0) |> ignore) id
              Expect.stringContains e1.Message "nvars" "nvars range"
              let e2 = Expect.throwsC (fun () -> Taylor.Variable(2, 5, 0, 0.0) |> ignore) id
              Expect.stringContains e2.Message "order" "order range"
              let x = Taylor.Variable(2, 2, 0, 1.0)
              let e3 = Expect.throwsC (fun () -> x.Derivative [| 3; 0 |] |> ignore) id
              Expect.stringContains e3.Message "order 3" "derivative order beyond truncation"

          testCase "the shape has C(n+p, p) monomials and graded variable positions"
          <| fun () ->
              for n in 1..12 do
                  for p in 0..4 do
                      let s = TaylorShape.Get(n, p)
                      let binom = List.fold (fun acc i -> acc * float (n + i) / float i) 1.0 [ 1..p ]
                      Expect.equal s.Count (int (Math.Round binom)) (sprintf "count n=%d p=%d" n p)

              let x = Taylor.Variable(5, 3, 2, 0.0)
              Expect.equal (x.Gradient) [| 0.0; 0.0; 1.0; 0.0; 0.0 |] "gradient of x_2" ]
