/// QM/MM coupling (Coupling.Hybrid.fs) against independent truths: with MM = QM and a buffer wider than the QM
/// model's reach the hybrid energy and forces are the full model's (the cluster is exact); energy-mixing forces are
/// the derivatives of the hybrid energy (centred differences); on the perfect lattice energy mixing with a
/// first-order-mismatched MM model shows ghost forces at the interface and none with MM = T_2 V (first order matched
/// exactly), while the ghost-force correction and force mixing have none (the patch test, Fig. 4.2).
module Qmmm.Numerics.Tests.CouplingHybrid

open System
open Expecto
open Qmmm.Numerics

let private a = 3.14339
let private lat = Lattice.bcc "W" a
let private marinica = Potential.ofSite (Eam.potential Marinica.model)
let private zhou = Potential.ofSite (Eam.potential Zhou.model)
let private settings = EvaluationSettings.Defaults

/// In-plane distance of atom i from the origin (the defect core of a quasi-2D disc).
let private planar (c: Configuration) (i: int) =
    let x, y = c.Positions.[3 * i], c.Positions.[3 * i + 1]
    sqrt (x * x + y * y)

/// QM sites |x| < rqm, buffer rqm <= |x| < rqm + rbuf (in-plane), cluster periodic along z.
let private sitesOf (c: Configuration) (rqm: float) (rbuf: float) =
    { Qm = Array.init c.Count (fun i -> planar c i < rqm)
      Buffer = Array.init c.Count (fun i -> planar c i >= rqm && planar c i < rqm + rbuf)
      ClusterPbc = [| false; false; true |] }

let private maxAbsOver (c: Configuration) (keep: int -> bool) (f: float[]) =
    let mutable m = 0.0

    for i in 0 .. c.Count - 1 do
        if keep i then
            for k in 0..2 do
                m <- max m (abs f.[3 * i + k])

    m

let private disc = lazy (Domains.quasi2D lat 30.0)

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Coupling.Hybrid"
        [ testCase "energy mixing with MM = QM and a buffer beyond the cutoff is the full model (energy and forces)"
          <| fun () ->
              let c = Domains.perturb 7 0.05 (Domains.quasi2D lat 18.0)

              let h =
                  Coupling.EnergyMixing(marinica, marinica, sitesOf c 6.0 (marinica.Cutoff + 0.5), settings)

              let full = Potential.compute marinica c
              let hyb = Potential.compute h c
              Expect.floatClose { absolute = 1e-9; relative = 1e-12 } hyb.Energy full.Energy "energy"

              for k in 0 .. full.Forces.Length - 1 do
                  Expect.floatClose
                      { absolute = 1e-10; relative = 0.0 }
                      hyb.Forces.[k]
                      full.Forces.[k]
                      (sprintf "F[%d]" k)

              for k in 0..8 do
                  Expect.floatClose
                      { absolute = 1e-8; relative = 1e-10 }
                      hyb.Virial.[k]
                      full.Virial.[k]
                      (sprintf "W[%d]" k)

          testCase "force mixing with MM = QM and a buffer beyond twice the cutoff gives the full model's forces"
          <| fun () ->
              let c = Domains.perturb 8 0.05 (Domains.quasi2D lat 22.0)

              let fm =
                  Coupling.ForceMixing(marinica, marinica, sitesOf c 5.0 (2.0 * marinica.Cutoff + 0.5), settings)

              let full = Potential.compute marinica c
              let f = fm.Forces c

              for k in 0 .. f.Length - 1 do
                  Expect.floatClose { absolute = 1e-10; relative = 0.0 } f.[k] full.Forces.[k] (sprintf "F[%d]" k)

          testCase "energy-mixing forces are minus the derivatives of the hybrid energy (mismatched models)"
          <| fun () ->
              let c = Domains.perturb 9 0.05 (Domains.quasi2D lat 14.0)
              let h = Coupling.EnergyMixing(marinica, zhou, sitesOf c 5.0 3.0, settings)
              let r = Potential.compute h c

              let energyAt (x: float[]) =
                  (Potential.compute h { c with Positions = x }).Energy

              let step = 1e-5
              let rng = Random 3

              for _ in 1..12 do
                  let k = rng.Next(3 * c.Count)
                  let xp = Array.copy c.Positions
                  let xm = Array.copy c.Positions
                  xp.[k] <- xp.[k] + step
                  xm.[k] <- xm.[k] - step
                  let fd = -(energyAt xp - energyAt xm) / (2.0 * step)
                  Expect.floatClose { absolute = 1e-6; relative = 1e-6 } r.Forces.[k] fd (sprintf "coordinate %d" k)

          testCase "patch test: energy mixing shows ghost forces with a mismatched MM model, none with MM = T_2 V"
          <| fun () ->
              let c = disc.Force()
              let sites = sitesOf c 6.0 6.0
              let inner i = planar c i < 12.0

              let mismatched =
                  Potential.compute (Coupling.EnergyMixing(marinica, zhou, sites, settings)) c

              let ghost = maxAbsOver c inner mismatched.Forces
              Expect.isGreaterThan ghost 1e-3 (sprintf "ghost forces at the interface: %g eV/Å" ghost)

              let t2 =
                  Potential.ofSite (
                      TaylorModel.potential (
                          TaylorModel.ofReference
                              "harmonic"
                              (Eam.potential Marinica.model)
                              (Some(Pooled.ofEam Marinica.model 0))
                              lat
                              2
                      )
                  )

              let matched =
                  Potential.compute (Coupling.EnergyMixing(marinica, t2, sites, settings)) c

              let none = maxAbsOver c inner matched.Forces
              Expect.isLessThan none 1e-10 (sprintf "first order matched: %g eV/Å" none)

          testCase
              "patch test: the ghost-force correction removes the interface forces where beta = 1 and force mixing has none"
          <| fun () ->
              let c = disc.Force()
              let sites = sitesOf c 6.0 (2.0 * marinica.Cutoff + 0.5)
              let inner i = planar c i < 12.0
              let em = Coupling.EnergyMixing(marinica, zhou, sites, settings)
              let beta = Coupling.stepBeta (planar c) c.Count 6.0
              let gfc = Coupling.GhostForceCorrected(em, c, beta)
              let fg = (Potential.compute gfc c).Forces
              // F^GFC(y0) = (1 − β) F^H(y0): no force wherever β = 1 (|x| >= R_QM/2); inside, the interface forces of a
              // QM core within the MM cutoff of the interface remain by design
              Expect.isLessThan (maxAbsOver c (fun i -> inner i && beta.[i] = 1.0) fg) 1e-10 "E^GFC where beta = 1"
              let fh = (Potential.compute em c).Forces
              Expect.isGreaterThan (maxAbsOver c inner fh) 1e-3 "E^H itself has ghost forces there"
              let fm = Coupling.ForceMixing(marinica, zhou, sites, settings)
              Expect.isLessThan (maxAbsOver c inner (fm.Forces c)) 1e-10 "F^H"

          testCase "the ghost-force correction subtracts beta F(y0) and stays a gradient system"
          <| fun () ->
              let c0 = Domains.quasi2D lat 14.0
              let sites = sitesOf c0 5.0 3.0
              let em = Coupling.EnergyMixing(marinica, zhou, sites, settings)
              let beta = Coupling.stepBeta (planar c0) c0.Count 5.0
              let gfc = Coupling.GhostForceCorrected(em, c0, beta)
              let c = Domains.perturb 10 0.05 c0
              let f0 = (Potential.compute em c0).Forces
              let fh = (Potential.compute em c).Forces
              let r = Potential.compute gfc c

              for k in 0 .. fh.Length - 1 do
                  Expect.floatClose
                      { absolute = 1e-12; relative = 1e-12 }
                      r.Forces.[k]
                      (fh.[k] - beta.[k / 3] * f0.[k])
                      (sprintf "F[%d]" k)

              let energyAt (x: float[]) =
                  (Potential.compute gfc { c with Positions = x }).Energy

              let step = 1e-5

              for k in [ 0; 7; 3 * (c.Count / 2) + 1; 3 * c.Count - 1 ] do
                  let xp = Array.copy c.Positions
                  let xm = Array.copy c.Positions
                  xp.[k] <- xp.[k] + step
                  xm.[k] <- xm.[k] - step
                  let fd = -(energyAt xp - energyAt xm) / (2.0 * step)
                  Expect.floatClose { absolute = 1e-6; relative = 1e-6 } r.Forces.[k] fd (sprintf "coordinate %d" k) ]
