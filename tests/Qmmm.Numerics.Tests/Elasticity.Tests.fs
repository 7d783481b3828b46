/// Cauchy–Born elastic constants and the equilibrium lattice constant, against energy-only finite differences (an
/// independent route: no forces, no virial), cubic symmetry and the zero-pressure condition.
module Qmmm.Numerics.Tests.Elasticity

open System
open Expecto
open Qmmm.Numerics

/// The Zhou W model through the protocol.
let zhou = lazy (Eam.potential Zhou.model |> Potential.ofSite)

/// Zhou W's zero-pressure lattice constant (computed once; an input to the defect tests).
let aZhou =
    lazy (Elasticity.equilibriumLatticeConstant (zhou.Force()) (fun a -> Lattice.bcc "W" a) 3.16)

/// Zhou W's ℂ at aZhou.
let cZhou =
    lazy (Elasticity.stiffness (zhou.Force()) (Lattice.bcc "W" (aZhou.Force())))

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Elasticity"
        [ testCase
              "the lattice constant minimises the energy per atom (centred energy differences vanish, curvature positive)"
          <| fun () ->
              let pot = zhou.Force()
              let a = aZhou.Force()

              let e (x: float) =
                  Elasticity.energyPerAtom pot (fun a -> Lattice.bcc "W" a) x

              let h = 1e-4
              let slope = (e (a + h) - e (a - h)) / (2.0 * h)
              let curv = (e (a + h) - 2.0 * e a + e (a - h)) / (h * h)
              // slope = E''·δa + O(h²) with E'' ≈ curv: |δa| <= 1e-7 Å
              Expect.isLessThan (abs (slope / curv)) 1e-7 "zero pressure at a"
              Expect.isGreaterThan curv 0.0 "a minimum"
              // the fit's r_e (reference/zhou2004-W-eam.md) is the equilibrium nearest-neighbour distance a √3 / 2
              Expect.floatClose { absolute = 1e-3; relative = 0.0 } a (2.0 * Zhou.re / sqrt 3.0) "a ≈ 2 r_e / √3"

          testCase "ℂ from virial differences equals ℂ from second differences of the energy (W, Zhou; 1e-5 relative)"
          <| fun () ->
              let pot = zhou.Force()
              let lat = Lattice.bcc "W" (aZhou.Force())
              let c = cZhou.Force()
              let cell = Elasticity.periodicCell lat (2.0 * pot.Cutoff + 1.0)
              let v0 = abs (Cell.volume cell.Cell)
              let h = 2e-4

              let energy (e: float[]) =
                  (Potential.compute pot (Elasticity.deform e cell)).Energy

              let sym (i: int) (j: int) (s: float) (e: float[]) =
                  e.[3 * i + j] <- e.[3 * i + j] + 0.5 * s
                  e.[3 * j + i] <- e.[3 * j + i] + 0.5 * s

              let second (i, j) (k, l) =
                  let ev si sk =
                      let e = Array.zeroCreate 9
                      sym i j si e
                      sym k l sk e
                      energy e

                  (ev h h - ev h -h - ev -h h + ev -h -h) / (4.0 * h * h * v0)

              let scale = c.[0]

              for (ij, kl) in
                  [ ((0, 0), (0, 0))
                    ((0, 0), (1, 1))
                    ((1, 2), (1, 2))
                    ((0, 1), (0, 2))
                    ((2, 2), (0, 1)) ] do
                  let (i, j), (k, l) = ij, kl
                  let fd = second ij kl
                  let got = c.[27 * i + 9 * j + 3 * k + l]

                  Expect.floatClose
                      { absolute = 1e-5 * scale
                        relative = 0.0 }
                      got
                      fd
                      (sprintf "C_%d%d%d%d" i j k l)

          testCase "ℂ of bcc W has cubic symmetry: C11 = C22 = C33, C44 = C55 = C66, major and minor symmetries, zeros"
          <| fun () ->
              let c = cZhou.Force()
              let at i j k l = c.[27 * i + 9 * j + 3 * k + l]

              let tol =
                  { absolute = 1e-9 * c.[0]
                    relative = 0.0 }

              Expect.floatClose tol (at 1 1 1 1) (at 0 0 0 0) "C22"
              Expect.floatClose tol (at 2 2 2 2) (at 0 0 0 0) "C33"
              Expect.floatClose tol (at 0 2 0 2) (at 1 2 1 2) "C55"
              Expect.floatClose tol (at 0 1 0 1) (at 1 2 1 2) "C66"
              Expect.floatClose tol (at 1 1 0 0) (at 0 0 1 1) "major"
              Expect.floatClose tol (at 0 0 0 1) 0.0 "C16"
              Expect.floatClose tol (at 0 1 2 2) 0.0 "C63"

          testCase "rotating a tensor: the isotropic one is invariant, a cubic one rotated by 90° about z is unchanged"
          <| fun () ->
              let t = 0.3
              let r = [| cos t; sin t; 0.0; -sin t; cos t; 0.0; 0.0; 0.0; 1.0 |]
              let iso = Elasticity.isotropic 1.3 0.7
              let rot = Elasticity.rotate r iso

              for n in 0..80 do
                  Expect.floatClose { absolute = 1e-14; relative = 0.0 } rot.[n] iso.[n] (sprintf "entry %d" n)

              let cub = Elasticity.ofCubic { C11 = 3.0; C12 = 1.0; C44 = 0.5 }
              let r90 = [| 0.0; 1.0; 0.0; -1.0; 0.0; 0.0; 0.0; 0.0; 1.0 |]
              let c90 = Elasticity.rotate r90 cub

              for n in 0..80 do
                  Expect.floatClose { absolute = 1e-14; relative = 0.0 } c90.[n] cub.[n] (sprintf "cubic entry %d" n) ]
