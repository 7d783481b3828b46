/// Taylor models T_K V^h (Potentials.Taylor.fs) against independent truths: Taylor's theorem (the error against the
/// reference shrinks like ε^{K+1}), the reference's exact derivative tensors (recovered by centred differences of the
/// model for j ≤ K, zero for j = K+1), finite differences of the site energy, and the perfect lattice.
module Qmmm.Numerics.Tests.PotentialsTaylor

open System
open Expecto
open Qmmm.Numerics

let private lat = Lattice.bcc "W" 3.14339
let private reference = Eam.potential Marinica.model
let private pooled = Pooled.ofEam Marinica.model 0

let private model =
    Lazy<TaylorModel[]>(fun () ->
        [| for k in 1..3 -> TaylorModel.ofReference (sprintf "taylor:%d" k) reference (Some pooled) lat k |])

/// A fixed random direction d (3 per stencil vector, components in [-1, 1]).
let private direction (n: int) =
    let rng = Random 2024
    Array.init (3 * n) (fun _ -> 2.0 * rng.NextDouble() - 1.0)

/// Neighbour vectors g = ρ + ε d (3 per stencil vector).
let private displaced (stencil: Vec3[]) (d: float[]) (eps: float) =
    Array.init (3 * stencil.Length) (fun x ->
        let p = stencil.[x / 3]

        (match x % 3 with
         | 0 -> p.X
         | 1 -> p.Y
         | _ -> p.Z)
        + eps * d.[x])

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Potentials.Taylor"
        [ testCase "the error against the reference shrinks like eps^(K+1) (Taylor's theorem), K = 1, 2, 3"
          <| fun () ->
              for m in model.Force() do
                  let pot = TaylorModel.potential m
                  let n = m.Stencil.Length
                  let d = direction n
                  let zs = Array.zeroCreate n

                  let err (eps: float) =
                      let g = displaced m.Stencil d eps
                      abs (pot.SiteEnergy(0, g, zs, 0, n) - reference.SiteEnergy(0, g, zs, 0, n))

                  // ratios at eps = 0.02 -> 0.01 -> 0.005 Å approach 2^(K+1)
                  let r1 = err 0.02 / err 0.01
                  let r2 = err 0.01 / err 0.005
                  let expected = 2.0 ** float (m.Order + 1)

                  Expect.isLessThan
                      (abs (r2 / expected - 1.0))
                      0.1
                      (sprintf "K = %d: ratio %g (then %g), expected %g" m.Order r1 r2 expected)

          testCase "the perfect lattice: every site has V^h(0) and the forces vanish"
          <| fun () ->
              let m = model.Force().[1]
              let cfg = Domains.periodic lat 3 3 3
              let r = Potential.compute (Potential.ofSite (TaylorModel.potential m)) cfg
              let v0 = TaylorModel.latticeSiteEnergy reference 0 m.Stencil

              for e in r.SiteEnergies do
                  Expect.floatClose Accuracy.veryHigh e v0 "site energy"

              Expect.isLessThan (Array.max (Array.map abs r.Forces)) 1e-12 "no forces"

          testCase "centred differences of T_2 recover the exact delta^2 V^h(0) and give delta^3 = 0"
          <| fun () ->
              let m = model.Force().[1]
              let pot = TaylorModel.potential m
              let stencil = m.Stencil
              let radius = 3.2
              let exact = Derivatives.siteTensors pooled stencil 2 radius

              let d2 =
                  (DifferenceDerivatives.siteTensors DifferenceDerivatives.Options.Defaults pot 0 stencil 2 radius)
                      .Tensor

              let scale = Array.max (Array.map abs exact.Values)

              for x in 0 .. exact.Values.Length - 1 do
                  Expect.isLessThan (abs (d2.Values.[x] - exact.Values.[x])) (1e-7 * scale) (sprintf "entry %d" x)

              let d3 =
                  (DifferenceDerivatives.siteTensors DifferenceDerivatives.Options.Defaults pot 0 stencil 3 radius)
                      .Tensor

              Expect.isLessThan (Array.max (Array.map abs d3.Values)) (1e-5 * scale) "third derivative of a quadratic"

          testCase "the gradient equals centred differences of the site energy near the lattice (K = 3)"
          <| fun () ->
              let m = model.Force().[2]
              let pot = TaylorModel.potential m
              let n = m.Stencil.Length
              let g = displaced m.Stencil (direction n) 0.05
              let zs = Array.zeroCreate n
              let grad = Array.zeroCreate (3 * n)
              pot.SiteGradient(0, g, zs, 0, n, grad) |> ignore
              let h = 1e-5

              for x in 0 .. 3 * n - 1 do
                  let gp = Array.copy g
                  let gm = Array.copy g
                  gp.[x] <- gp.[x] + h
                  gm.[x] <- gm.[x] - h

                  let fd =
                      (pot.SiteEnergy(0, gp, zs, 0, n) - pot.SiteEnergy(0, gm, zs, 0, n)) / (2.0 * h)

                  Expect.floatClose { absolute = 1e-8; relative = 1e-6 } grad.[x] fd (sprintf "component %d" x)

          testCase "missing neighbours count as undisplaced: a surface site of a perfect cluster has V^h(0)"
          <| fun () ->
              let m = model.Force().[1]
              let cfg = Domains.cluster lat 8.0
              let r = Potential.compute (Potential.ofSite (TaylorModel.potential m)) cfg
              let v0 = TaylorModel.latticeSiteEnergy reference 0 m.Stencil

              for e in r.SiteEnergies do
                  Expect.floatClose Accuracy.veryHigh e v0 "site energy"

          testCase "tensors that do not cover the stencil are refused"
          <| fun () ->
              let stencil = Lattice.stencil lat reference.Cutoff
              let t = Derivatives.siteTensors pooled stencil 1 3.0

              Expect.throwsT<ArgumentException>
                  (fun () -> TaylorModel.create "t" "W" 0.0 [| t |] 2.7 |> ignore)
                  "a partial tensor" ]
