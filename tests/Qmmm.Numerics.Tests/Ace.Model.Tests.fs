/// The linear ACE model: the contracted energy against the basis one function at a time, gradients against jets and
/// finite differences, and the whole-configuration protocol on periodic cells, clusters and discs.
module Qmmm.Numerics.Tests.AceModelTests

open System
open Expecto
open Qmmm.Numerics
open Qmmm.Numerics.Tests.AceBasisTests

/// W-like radial parameters: r0 = nearest-neighbour distance of bcc W, cutoff 5.5 Å.
let wRadial =
    { AceRadial.defaults with
        R0 = 2.74
        RIn = 1.37
        RCut = 5.5 }

/// A (3, 10) basis for W and random coefficients of size `scale` (seeded).
let randomModel (order: int) (degree: float) (seed: int) (scale: float) =
    let b =
        AceBasis.create
            { AceBasis.spec order degree with
                Radial = wRadial }

    let rng = Random seed
    let c = Array.init b.Size (fun _ -> scale * (2.0 * rng.NextDouble() - 1.0))
    AcePotential("ace-test", "W", b, c)

let private model310 = lazy (randomModel 3 10.0 21 0.01)
let private model420 = lazy (randomModel 4 14.0 22 0.01)

let private siteEnergy (p: AcePotential) (rs: float[]) =
    (p :> ISitePotential).SiteEnergy(0, rs, Array.zeroCreate (rs.Length / 3), 0, rs.Length / 3)

let private siteGradient (p: AcePotential) (rs: float[]) =
    let g = Array.zeroCreate rs.Length

    let e =
        (p :> ISitePotential).SiteGradient(0, rs, Array.zeroCreate (rs.Length / 3), 0, rs.Length / 3, g)

    e, g

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Ace.Model"
        [ testCase "the contracted site energy equals Σ_B c_B B evaluated one basis function at a time"
          <| fun () ->
              let rng = Random 31

              for p in [ model310.Force(); model420.Force() ] do
                  for _ in 1..5 do
                      let n = 8 + rng.Next 9
                      let rs = randomNeighbours rng n 1.8 5.6
                      let bs = AceBasis.evaluate p.Basis rs n
                      let direct = Array.fold2 (fun acc c b -> acc + c * b) 0.0 p.Coefficients bs
                      let e = siteEnergy p rs
                      Expect.isLessThan (abs (e - direct)) (1e-12 * (1.0 + abs direct)) "contracted vs direct"
                      let eg, _ = siteGradient p rs
                      Expect.equal eg e "SiteGradient returns the same energy"

          testCase "the gradient equals Dual differentiation of the generic site energy, every component"
          <| fun () ->
              let rng = Random 32
              let p = model420.Force()
              let n = 12
              let rs = randomNeighbours rng n 1.8 5.4
              let _, g = siteGradient p rs

              for k in 0 .. rs.Length - 1 do
                  let d =
                      rs |> Array.mapi (fun i x -> if i = k then Dual.Variable x else Dual.Constant x)

                  let e = AceModel.siteEnergyGeneric p.Basis p.Contraction d n
                  Expect.isLessThan (abs (e.D - g.[k])) (1e-11 * (1.0 + abs g.[k])) (sprintf "∂V/∂g_%d" k)

          testCase
              "the gradient agrees with centred differences over a range of steps (error falls ~ h², minimum < 1e-8)"
          <| fun () ->
              let rng = Random 33
              let p = model310.Force()
              let n = 14
              let rs = randomNeighbours rng n 1.8 5.4
              let _, g = siteGradient p rs
              let dir = Array.init rs.Length (fun _ -> rng.NextDouble() - 0.5)
              let dg = Array.fold2 (fun acc a b -> acc + a * b) 0.0 g dir

              let errs =
                  [ for e in 1..8 ->
                        let h = Math.Pow(10.0, -float e)
                        let plus = Array.map2 (fun x d -> x + h * d) rs dir
                        let minus = Array.map2 (fun x d -> x - h * d) rs dir
                        abs ((siteEnergy p plus - siteEnergy p minus) / (2.0 * h) - dg) ]

              Expect.isLessThan (List.min errs) (1e-8 * (1.0 + abs dg)) "smallest error"
              Expect.isLessThan (List.min errs) (1e-3 * List.head errs) "error falls with h"

          testCase "neighbours at or beyond the cutoff do not contribute; energy and gradient are continuous there"
          <| fun () ->
              let rng = Random 34
              let p = model310.Force()
              let rs = randomNeighbours rng 10 1.8 5.0
              let e0 = siteEnergy p rs
              let far = Array.append rs [| 0.0; 5.5; 0.0; 3.0; 4.0; 5.0 |]
              Expect.equal (siteEnergy p far) e0 "neighbours at r >= rcut are ignored"
              let near = Array.append rs [| 0.0; 5.5 - 1e-6; 0.0 |]
              Expect.isLessThan (abs (siteEnergy p near - e0)) 1e-9 "energy continuous at rcut"
              let _, g = siteGradient p near
              Expect.isLessThan (abs g.[g.Length - 2]) 1e-5 "force continuous at rcut"

          testCase
              "through the protocol: perfect bcc W, every site energy equals the isolated site energy of the lattice"
          <| fun () ->
              let p = model310.Force()
              let pot = Potential.ofSite p
              let lat = Lattice.bcc "W" 3.1652
              let config = Domains.periodic lat 3 3 3
              let r = Potential.compute pot config
              let stencil = Lattice.stencil lat 5.5
              let rs = stencil |> Array.collect (fun v -> [| v.X; v.Y; v.Z |])
              let e = siteEnergy p rs

              for v in r.SiteEnergies do
                  Expect.floatClose Accuracy.veryHigh v e "site energy"

              Expect.isLessThan (Array.max (Array.map abs r.Forces)) 1e-11 "forces vanish on the perfect crystal"

          testCase
              "through the protocol: forces equal centred differences of the energy on a perturbed cell, cluster and disc"
          <| fun () ->
              let p = model310.Force()
              let pot = Potential.ofSite p
              let lat = Lattice.bcc "W" 3.1652

              for config in
                  [ Domains.periodic lat 2 2 2 |> Domains.perturb 1 0.1
                    Domains.cluster lat 5.0 |> Domains.perturb 2 0.1
                    Domains.quasi2D lat 6.0 |> Domains.perturb 3 0.1 ] do
                  let r = Potential.compute pot config

                  let energy (x: float[]) =
                      (Potential.compute pot { config with Positions = x }).Energy

                  let h = 1e-5

                  for k in [ 0; 4; 3 * config.Count - 1 ] do
                      let xp = Array.copy config.Positions
                      let xm = Array.copy config.Positions
                      xp.[k] <- xp.[k] + h
                      xm.[k] <- xm.[k] - h
                      let fd = -(energy xp - energy xm) / (2.0 * h)
                      Expect.isLessThan (abs (fd - r.Forces.[k])) (1e-7 * (1.0 + abs fd)) (sprintf "force %d" k)

                  Expect.isLessThan (abs (Array.sum r.SiteEnergies - r.Energy)) 1e-10 "Σ V_ℓ = E"

          testCase "energies and forces are bit-identical for 1 and 2 threads"
          <| fun () ->
              let p = model310.Force()
              let pot = Potential.ofSite p

              let config =
                  Domains.periodic (Lattice.bcc "W" 3.1652) 3 3 3 |> Domains.perturb 4 0.05

              let nl = Potential.neighbourList pot Request.All 0.0 config

              let run (t: int) =
                  Potential.evaluate
                      pot
                      config
                      nl
                      { Request.All with
                          Settings =
                              { EvaluationSettings.Defaults with
                                  Threads = t } }

              let a = run 1
              let b = run 2
              Expect.equal (BitConverter.DoubleToInt64Bits a.Energy) (BitConverter.DoubleToInt64Bits b.Energy) "energy"
              Expect.equal a.Forces b.Forces "forces"

          testCase "wrong coefficient counts and non-finite coefficients are rejected"
          <| fun () ->
              let b = model310.Force().Basis

              Expect.throwsT<ArgumentException>
                  (fun () -> AcePotential("x", "W", b, Array.zeroCreate 3) |> ignore)
                  "wrong length"

              Expect.throwsT<ArgumentException>
                  (fun () -> AcePotential("x", "W", b, Array.create b.Size nan) |> ignore)
                  "NaN" ]
