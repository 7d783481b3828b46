/// The ACE radial basis against independent integration, the chain rule by jets and finite differences.
module Qmmm.Numerics.Tests.AceRadialTests

open System
open Expecto
open Qmmm.Numerics

let private basis = lazy (AceRadial.create AceRadial.defaults 12)

/// y(r) of the radial basis (the affine image of the transform), written out independently of the module.
let private yOf (spec: AceRadialSpec) (r: float) =
    let x (s: float) =
        Math.Pow((1.0 + spec.R0) / (1.0 + s), float spec.TransformPower)

    (x r - x spec.RCut) / (x spec.RIn - x spec.RCut)

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Ace.Radial"
        [ testCase "Gauss–Legendre nodes integrate polynomials of degree 2m − 1 exactly on [0, 1]"
          <| fun () ->
              let struct (x, w) = AceRadial.gaussLegendre 7

              for k in 0..13 do
                  let s = Array.fold2 (fun acc xi wi -> acc + wi * Math.Pow(xi, float k)) 0.0 x w
                  Expect.floatClose Accuracy.veryHigh s (1.0 / float (k + 1)) (sprintf "∫ y^%d" k)

          testCase "R_n are orthonormal in y on [0, 1] (composite Simpson on 20001 points, independent of the nodes)"
          <| fun () ->
              let b = basis.Force()
              let spec = b.Spec
              // invert y(r) on a fine grid in y: r(y) from x = x_cut + y / scale
              let m = 20000
              let g = Array.zeroCreate ((m + 1) * b.Count)
              let v = Array.zeroCreate b.Count

              for i in 0..m do
                  let y = float i / float m
                  let x = b.XCut + y / b.Scale
                  let r = (1.0 + spec.R0) / Math.Pow(x, 1.0 / float spec.TransformPower) - 1.0
                  Expect.floatClose Accuracy.high (yOf spec (min r (spec.RCut - 1e-14))) y "y(r(y))"
                  AceRadial.evaluate b (min r (spec.RCut - 1e-15)) v
                  Array.blit v 0 g (i * b.Count) b.Count

              for p in 0 .. b.Count - 1 do
                  for q in 0 .. b.Count - 1 do
                      let mutable s = 0.0

                      for i in 0..m do
                          let w =
                              if i = 0 || i = m then 1.0
                              elif i % 2 = 1 then 4.0
                              else 2.0

                          s <- s + w * g.[i * b.Count + p] * g.[i * b.Count + q]

                      s <- s / (3.0 * float m)
                      let expected = if p = q then 1.0 else 0.0
                      Expect.isLessThan (abs (s - expected)) 1e-8 (sprintf "<R_%d, R_%d>" (p + 1) (q + 1))

          testCase "R_1 is the normalised envelope: √(2e + 1) y^e"
          <| fun () ->
              let b = basis.Force()
              let v = Array.zeroCreate b.Count

              for r in [ 1.0; 2.2; 3.7; 4.9 ] do
                  AceRadial.evaluate b r v
                  let y = yOf b.Spec r
                  Expect.floatClose Accuracy.veryHigh v.[0] (sqrt 5.0 * y * y) (sprintf "R_1(%g)" r)

          testCase "the float derivative path equals Dual and centred differences; zero beyond the cutoff"
          <| fun () ->
              let b = basis.Force()
              let v = Array.zeroCreate b.Count
              let d = Array.zeroCreate b.Count
              let vd = Array.zeroCreate b.Count
              let vp = Array.zeroCreate b.Count
              let vm = Array.zeroCreate b.Count

              for r in [ 0.8; 1.9; 2.74; 3.3; 4.6; 4.99 ] do
                  AceRadial.evaluateWithDerivative b r v d 0
                  AceRadial.evaluate b (Dual.Variable r) vd
                  let h = 1e-6
                  AceRadial.evaluate b (r + h) vp
                  AceRadial.evaluate b (r - h) vm

                  for k in 0 .. b.Count - 1 do
                      Expect.floatClose Accuracy.veryHigh v.[k] vd.[k].V "value"
                      Expect.floatClose Accuracy.veryHigh d.[k] vd.[k].D "Dual derivative"
                      let fd = (vp.[k] - vm.[k]) / (2.0 * h)
                      Expect.isLessThan (abs (fd - d.[k])) (1e-6 * (1.0 + abs d.[k])) "centred difference"

              AceRadial.evaluateWithDerivative b 5.0 v d 0
              Expect.isTrue (Array.forall ((=) 0.0) v && Array.forall ((=) 0.0) d) "zero at r = rcut"

          testCase "the cutoff rule keeps every shell inside the reference cutoff (bcc W, Marinica 5.46 Å)"
          <| fun () ->
              let a = 3.1652

              let shells =
                  [| a * sqrt 3.0 / 2.0
                     a
                     a * sqrt 2.0
                     a * sqrt 11.0 / 2.0
                     a * sqrt 3.0
                     2.0 * a |]

              let rc = AceRadial.cutoffFromReference Marinica.cutoff shells
              Expect.equal rc Marinica.cutoff "the reference cutoff already lies beyond the midpoint 5.366 Å"
              let rc2 = AceRadial.cutoffFromReference 5.3 shells
              Expect.floatClose Accuracy.veryHigh rc2 (0.5 * (a * sqrt 11.0 / 2.0 + a * sqrt 3.0)) "midpoint rule"

              Expect.throwsT<ArgumentException>
                  (fun () -> AceRadial.cutoffFromReference 1.0 shells |> ignore)
                  "no shell inside" ]
