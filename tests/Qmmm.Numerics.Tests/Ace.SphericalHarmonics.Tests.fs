/// Spherical harmonics against explicit low-l formulas, the addition theorem, the poles and jets.
module Qmmm.Numerics.Tests.AceSphericalHarmonicsTests

open System
open System.Numerics
open Expecto
open Qmmm.Numerics

let private table = SphericalHarmonics.table 12

/// Y_lm by the explicit textbook formulas (Condon–Shortley phase) in θ, φ for l <= 2.
let private explicitY (l: int) (m: int) (theta: float) (phi: float) : Complex =
    let c = Math.Cos theta
    let s = Math.Sin theta

    let e (k: int) =
        Complex.Exp(Complex(0.0, float k * phi))

    let pi = Math.PI

    match l, m with
    | 0, 0 -> Complex(0.5 * sqrt (1.0 / pi), 0.0)
    | 1, 0 -> Complex(0.5 * sqrt (3.0 / pi) * c, 0.0)
    | 1, 1 -> -0.5 * sqrt (3.0 / (2.0 * pi)) * s * e 1
    | 1, -1 -> 0.5 * sqrt (3.0 / (2.0 * pi)) * s * e -1
    | 2, 0 -> Complex(0.25 * sqrt (5.0 / pi) * (3.0 * c * c - 1.0), 0.0)
    | 2, 1 -> -0.5 * sqrt (15.0 / (2.0 * pi)) * s * c * e 1
    | 2, -1 -> 0.5 * sqrt (15.0 / (2.0 * pi)) * s * c * e -1
    | 2, 2 -> 0.25 * sqrt (15.0 / (2.0 * pi)) * s * s * e 2
    | 2, -2 -> 0.25 * sqrt (15.0 / (2.0 * pi)) * s * s * e -2
    | 3, 0 -> Complex(0.25 * sqrt (7.0 / pi) * (5.0 * c * c * c - 3.0 * c), 0.0)
    | 3, 3 -> -0.125 * sqrt (35.0 / pi) * s * s * s * e 3
    | _ -> failwith "not tabulated"

let private eval (x: float) (y: float) (z: float) =
    let n = SphericalHarmonics.count table.LMax
    let re = Array.zeroCreate n
    let im = Array.zeroCreate n
    SphericalHarmonics.evaluate table x y z re im
    re, im

/// Associated Legendre function P_l^m(x) with the Condon–Shortley phase by the textbook recurrence in l (oracle).
let private legendre (l: int) (m: int) (x: float) =
    let mutable pmm = 1.0
    let s = sqrt ((1.0 - x) * (1.0 + x))

    for k in 1..m do
        pmm <- -pmm * (2.0 * float k - 1.0) * s

    if l = m then
        pmm
    else
        let mutable p0 = pmm
        let mutable p1 = x * (2.0 * float m + 1.0) * pmm

        for ll in m + 2 .. l do
            let p2 =
                ((2.0 * float ll - 1.0) * x * p1 - float (ll + m - 1) * p0) / float (ll - m)

            p0 <- p1
            p1 <- p2

        p1

let private factorial (k: int) =
    List.fold (fun a b -> a * float b) 1.0 [ 1..k ]

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Ace.SphericalHarmonics"
        [ testCase "Y_lm equals the explicit formulas for l <= 3"
          <| fun () ->
              let rng = Random 7

              for _ in 1..20 do
                  let theta = Math.PI * rng.NextDouble()
                  let phi = 2.0 * Math.PI * rng.NextDouble()
                  let r = 0.5 + 3.0 * rng.NextDouble()

                  let re, im =
                      eval (r * Math.Sin theta * Math.Cos phi) (r * Math.Sin theta * Math.Sin phi) (r * Math.Cos theta)

                  for (l, m) in [ 0, 0; 1, 0; 1, 1; 1, -1; 2, 0; 2, 1; 2, -1; 2, 2; 2, -2; 3, 0; 3, 3 ] do
                      let y = explicitY l m theta phi
                      let k = SphericalHarmonics.index l m
                      Expect.floatClose Accuracy.veryHigh re.[k] y.Real (sprintf "Re Y_%d%d" l m)
                      Expect.floatClose Accuracy.veryHigh im.[k] y.Imaginary (sprintf "Im Y_%d%d" l m)

          testCase "Y_lm equals N_lm P_l^m(cos θ) e^{imφ} for every l <= 12 (textbook Legendre recurrence)"
          <| fun () ->
              let rng = Random 8

              for _ in 1..10 do
                  let theta = Math.PI * rng.NextDouble()
                  let phi = 2.0 * Math.PI * rng.NextDouble()

                  let re, im =
                      eval (Math.Sin theta * Math.Cos phi) (Math.Sin theta * Math.Sin phi) (Math.Cos theta)

                  for l in 0..12 do
                      for m in 0..l do
                          let nlm =
                              sqrt ((2.0 * float l + 1.0) / (4.0 * Math.PI) * factorial (l - m) / factorial (l + m))

                          let y =
                              nlm * legendre l m (Math.Cos theta) * Complex.Exp(Complex(0.0, float m * phi))

                          let k = SphericalHarmonics.index l m
                          Expect.isLessThan (abs (re.[k] - y.Real) + abs (im.[k] - y.Imaginary)) 1e-12 "Y_lm"
                          // negative m by conjugation
                          let kk = SphericalHarmonics.index l -m
                          let sign = if m % 2 = 0 then 1.0 else -1.0
                          Expect.floatClose Accuracy.veryHigh re.[kk] (sign * y.Real) "Re Y_l,-m"
                          Expect.floatClose Accuracy.veryHigh im.[kk] (-sign * y.Imaginary) "Im Y_l,-m"

          testCase "Σ_m |Y_lm|² = (2l + 1)/(4π), also at and near the poles"
          <| fun () ->
              let rng = Random 9

              let points =
                  [ yield 0.0, 0.0, 1.0
                    yield 0.0, 0.0, -2.5
                    yield 1e-9, -2e-9, 1.0
                    yield 3e-14, 1e-14, -1.0
                    for _ in 1..10 -> rng.NextDouble() - 0.5, rng.NextDouble() - 0.5, rng.NextDouble() - 0.5 ]

              for (x, y, z) in points do
                  let re, im = eval x y z

                  for l in 0..12 do
                      let mutable s = 0.0

                      for m in -l .. l do
                          let k = SphericalHarmonics.index l m
                          s <- s + re.[k] * re.[k] + im.[k] * im.[k]

                      Expect.floatClose
                          Accuracy.veryHigh
                          s
                          ((2.0 * float l + 1.0) / (4.0 * Math.PI))
                          (sprintf "l = %d at (%g, %g, %g)" l x y z)
                      // at the pole only m = 0 survives
                      if x = 0.0 && y = 0.0 then
                          for m in -l .. l do
                              if m <> 0 then
                                  Expect.equal re.[SphericalHarmonics.index l m] 0.0 "m <> 0 vanishes at a pole"

          testCase "the gradient path equals Dual in each direction and centred differences, near the poles too"
          <| fun () ->
              let n = SphericalHarmonics.count 12
              let re = Array.zeroCreate n
              let im = Array.zeroCreate n
              let dre = Array.zeroCreate (3 * n)
              let dim = Array.zeroCreate (3 * n)
              let dr = Array.zeroCreate n
              let di = Array.zeroCreate n
              let rng = Random 10

              let points =
                  [ yield 1e-7, 2e-7, 1.3
                    yield 0.0, 0.0, -0.7
                    for _ in 1..6 -> rng.NextDouble() - 0.5, rng.NextDouble() - 0.5, rng.NextDouble() - 0.5 ]

              for (x, y, z) in points do
                  SphericalHarmonics.evaluateWithGradient table x y z re im dre dim 0
                  let r0, i0 = eval x y z

                  for k in 0 .. n - 1 do
                      Expect.floatClose Accuracy.veryHigh re.[k] r0.[k] "value re"
                      Expect.floatClose Accuracy.veryHigh im.[k] i0.[k] "value im"

                  for c in 0..2 do
                      let v (k: int) (t: float) =
                          if c = k then Dual.Variable t else Dual.Constant t

                      SphericalHarmonics.evaluate table (v 0 x) (v 1 y) (v 2 z) dr di

                      for k in 0 .. n - 1 do
                          let scale = 1.0 + abs dr.[k].D + abs di.[k].D
                          Expect.isLessThan (abs (dre.[3 * k + c] - dr.[k].D)) (1e-12 * scale) "d re"
                          Expect.isLessThan (abs (dim.[3 * k + c] - di.[k].D)) (1e-12 * scale) "d im"

              // centred differences at one generic point
              let x, y, z = 0.3, -0.4, 0.8
              SphericalHarmonics.evaluateWithGradient table x y z re im dre dim 0
              let h = 1e-6

              for c in 0..2 do
                  let shift (s: float) =
                      eval
                          (x + (if c = 0 then s else 0.0))
                          (y + (if c = 1 then s else 0.0))
                          (z + (if c = 2 then s else 0.0))

                  let rp, ip = shift h
                  let rm, im2 = shift -h

                  for k in 0 .. n - 1 do
                      Expect.isLessThan (abs ((rp.[k] - rm.[k]) / (2.0 * h) - dre.[3 * k + c])) 1e-6 "fd re"
                      Expect.isLessThan (abs ((ip.[k] - im2.[k]) / (2.0 * h) - dim.[3 * k + c])) 1e-6 "fd im"
          testCase "the m >= 0 force-loop path reconstructs Y_lm and its gradient (projected once) of the full path"
          <| fun () ->
              let n = SphericalHarmonics.count 12
              let np = SphericalHarmonics.positiveCount 12
              let re = Array.zeroCreate n
              let im = Array.zeroCreate n
              let dre = Array.zeroCreate (3 * n)
              let dim = Array.zeroCreate (3 * n)
              let buf () = Array.zeroCreate (np + 5)
              let yre, yim, pre, pim, qre, qim = buf (), buf (), buf (), buf (), buf (), buf ()

              for (x, y, z) in [ 0.3, -0.4, 0.8; 1e-8, 0.0, -2.0; -1.1, 0.2, 0.05 ] do
                  SphericalHarmonics.evaluateWithGradient table x y z re im dre dim 0
                  SphericalHarmonics.evaluatePositive table x y z yre yim pre pim qre qim 5
                  let r = sqrt (x * x + y * y + z * z)
                  let u = [| x / r; y / r; z / r |]

                  for l in 0..12 do
                      for m in 0..l do
                          let k = SphericalHarmonics.index l m
                          let p = 5 + SphericalHarmonics.positiveIndex l m
                          Expect.equal yre.[p] re.[k] "Re Y"
                          Expect.equal yim.[p] im.[k] "Im Y"
                          let gr = [| pre.[p]; -pim.[p]; qre.[p] |]
                          let gi = [| pim.[p]; pre.[p]; qim.[p] |]
                          let dr = Array.fold2 (fun a b c -> a + b * c) 0.0 u gr
                          let di = Array.fold2 (fun a b c -> a + b * c) 0.0 u gi

                          for c in 0..2 do
                              let sr = 1e-12 * (1.0 + abs dre.[3 * k + c])
                              let si = 1e-12 * (1.0 + abs dim.[3 * k + c])
                              Expect.isLessThan (abs ((gr.[c] - u.[c] * dr) / r - dre.[3 * k + c])) sr "∇ Re Y"
                              Expect.isLessThan (abs ((gi.[c] - u.[c] * di) / r - dim.[3 * k + c])) si "∇ Im Y" ]
