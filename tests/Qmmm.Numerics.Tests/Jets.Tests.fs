/// Jets (Dual, Jet) against closed-form derivatives and finite differences, all orders 1..4.
module Qmmm.Numerics.Tests.JetsTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators

/// A test function written once over the scalar type: exercises +, -, *, /, float mixing, exp, log, sqrt, powc, powi.
let inline f (x: ^T) : ^T =
    let a = exp (x *. 0.7) / (x +. 2.0)
    let b = log (x * x +. 1.0) *. 0.3
    let c = sqrt (x +. 3.0) * powc (x +. 1.5) 1.3
    let d = 2.0 .- powi x 3 *. 0.1
    a + b - c * d

/// The k-th derivative of `f` by centred differences of the (k-1)-th derivative from the jet (one order at a time).
let fdDerivative (k: int) (x: float) (h: float) =
    let dk1 (y: float) = (f (Jet.Variable y)).Derivative(k - 1)
    (dk1 (x + h) - dk1 (x - h)) / (2.0 * h)

/// Closed form: derivatives of exp(x) * sin(x) are 2^(k/2) e^x sin(x + k pi/4).
let closedExpSin (k: int) (x: float) =
    Math.Pow(2.0, float k / 2.0)
    * Math.Exp x
    * Math.Sin(x + float k * Math.PI / 4.0)

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Jets"
        [ testCase "float, Dual and Jet give the same value of a generic function"
          <| fun () ->
              for x in [ -0.9; 0.1; 0.5; 2.7 ] do
                  let v = f x
                  Expect.floatClose Accuracy.veryHigh (f (Dual.Variable x)).V v "Dual value"
                  Expect.floatClose Accuracy.veryHigh (f (Jet.Variable x)).C0 v "Jet value"

          testCase "Dual derivative equals Jet first derivative"
          <| fun () ->
              for x in [ -0.9; 0.1; 0.5; 2.7 ] do
                  Expect.floatClose
                      Accuracy.veryHigh
                      (f (Dual.Variable x)).D
                      ((f (Jet.Variable x)).Derivative 1)
                      "first derivative"

          testCase "derivatives of exp(x) sin(x) match the closed form to order 4"
          <| fun () ->
              for x in [ -1.3; 0.0; 0.4; 2.2 ] do
                  let j = exp (Jet.Variable x) * sin (Jet.Variable x)

                  for k in 0..4 do
                      Expect.floatClose
                          Accuracy.veryHigh
                          (j.Derivative k)
                          (closedExpSin k x)
                          (sprintf "order %d at %g" k x)

          testCase "derivatives of 1/(1+x^2), sqrt, log, x^p match closed forms to order 4"
          <| fun () ->
              let x = 0.6
              let j = Jet.Variable x
              // 1/(1+x^2): derivatives via the closed form of d^k/dx^k Re(-i/2 [1/(x-i) - 1/(x+i)])
              let inv = 1.0 ./ (j * j +. 1.0)
              let fact = [| 1.0; 1.0; 2.0; 6.0; 24.0 |]

              for k in 0..4 do
                  // d^k/dx^k 1/(x - i) = (-1)^k k! (x - i)^(-k-1); 1/(1+x^2) = Im(1/(x - i))
                  let dk =
                      (float (pown -1 k)
                       * fact.[k]
                       * Numerics.Complex.Pow(Numerics.Complex(x, -1.0), -(float k + 1.0)))
                          .Imaginary

                  Expect.floatClose Accuracy.veryHigh (inv.Derivative k) dk (sprintf "1/(1+x^2) order %d" k)

              let p = 2.3
              let pw = powc j p
              let mutable coef = 1.0

              for k in 0..4 do
                  Expect.floatClose
                      Accuracy.veryHigh
                      (pw.Derivative k)
                      (coef * Math.Pow(x, p - float k))
                      (sprintf "x^p order %d" k)

                  coef <- coef * (p - float k)

              let lg = log j

              let lgExpected =
                  [| Math.Log x; 1.0 / x; -1.0 / (x * x); 2.0 / (x ** 3.0); -6.0 / (x ** 4.0) |]

              for k in 0..4 do
                  Expect.floatClose Accuracy.veryHigh (lg.Derivative k) lgExpected.[k] (sprintf "log order %d" k)

              let sq = sqrt j

              let sqExpected =
                  [| sqrt x
                     0.5 * x ** -0.5
                     -0.25 * x ** -1.5
                     0.375 * x ** -2.5
                     -0.9375 * x ** -3.5 |]

              for k in 0..4 do
                  Expect.floatClose Accuracy.veryHigh (sq.Derivative k) sqExpected.[k] (sprintf "sqrt order %d" k)

          testCase "integer powers are exact at zero"
          <| fun () ->
              let j = powi (Jet.Variable 0.0) 3

              Expect.equal
                  [ j.Derivative 0
                    j.Derivative 1
                    j.Derivative 2
                    j.Derivative 3
                    j.Derivative 4 ]
                  [ 0.0; 0.0; 0.0; 6.0; 0.0 ]
                  "x^3 at 0"

          testPropertyWithConfig config "every order k = 1..4 equals the centred difference of order k-1"
          <| Prop.forAll (Arb.fromGen (floatIn -0.9 3.0)) (fun x ->
              for k in 1..4 do
                  let exact = (f (Jet.Variable x)).Derivative k
                  let fd = fdDerivative k x 1e-5
                  Expect.floatClose { absolute = 1e-6; relative = 1e-6 } exact fd (sprintf "order %d at %g" k x))

          testCase "comparison follows the value only"
          <| fun () ->
              Expect.isTrue (Jet(1.0, 5.0, 0.0, 0.0, 0.0) < Jet(2.0, -5.0, 0.0, 0.0, 0.0)) "Jet compares by value"
              Expect.isTrue (Dual(1.0, 5.0) < Dual(2.0, -5.0)) "Dual compares by value"
              Expect.equal (value (Jet(3.0, 1.0, 0.0, 0.0, 0.0))) 3.0 "value of a jet"

          testCase "a Line jet gives the directional Taylor coefficients of a two-variable function"
          <| fun () ->
              // g(x, y) = x^2 y along (x0 + t dx, y0 + t dy): d2/dt2 = 2 y dx^2 + 4 x dx dy
              let x0, y0, dx, dy = 0.3, -1.1, 0.7, 0.2
              let gx = Jet.Line(x0, dx)
              let gy = Jet.Line(y0, dy)
              let g = gx * gx * gy

              Expect.floatClose
                  Accuracy.veryHigh
                  (g.Derivative 2)
                  (2.0 * y0 * dx * dx + 4.0 * x0 * dx * dy)
                  "second directional derivative"

              Expect.floatClose Accuracy.veryHigh (g.Derivative 3) (6.0 * dx * dx * dy) "third directional derivative" ]
