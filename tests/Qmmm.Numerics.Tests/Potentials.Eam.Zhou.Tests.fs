/// The analytic Zhou–Johnson–Wadley (2004) W model against the third-party tabulation W_zhou.eam.alloy (read by our
/// setfl reader and interpolated as LAMMPS does), and the documented effect of its smooth cutoff.
module Qmmm.Numerics.Tests.PotentialsEamZhou

open Expecto
open Qmmm.Numerics
open Qmmm.Numerics.Tests.PotentialsEam

/// The 128-atom cell of the comparison: 4x4x4 conventional bcc cubes, a = 3.165 Å, displacements uniform in
/// ±0.1 Å per component (seed 2004).
let perturbed128 () =
    let c0 = bcc 3.165 (4, 4, 4) [| true; true; true |]
    displaced c0 (randomDisplacements 2004 0.1 c0.Count)

/// The published formulas with a hard cutoff far out (12 Å, where f ≈ 1e-18): the "no taper" reference.
let untapered: EamModel =
    { Zhou.model with
        Name = "eam-w-zhou-untapered"
        Cutoff = 12.0
        Pair =
            [| { F = (fun r -> Zhou.pair r)
                 D = (fun r -> Zhou.pair r)
                 J = (fun r -> Zhou.pair r) } |]
        Density =
            [| { F = (fun r -> Zhou.density r)
                 D = (fun r -> Zhou.density r)
                 J = (fun r -> Zhou.density r) } |] }

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Potentials.Eam.Zhou"
        [ testCase "the embedding slope at ρ_o is the closed-form one from both branches (the branches join C¹)"
          <| fun () ->
              // left: d/dρ Σ F_i (ρ/ρ_e − 1)^i at ρ_o; right: d/dρ F_e[1 − η ln(ρ/ρ_s)](ρ/ρ_s)^η = −F_e η² ln(ρ/ρ_s)(ρ/ρ_s)^η/ρ
              let t = Zhou.rhoO / Zhou.rhoE - 1.0

              let left =
                  (Zhou.Fm.[1] + 2.0 * Zhou.Fm.[2] * t + 3.0 * Zhou.Fm.[3] * t * t) / Zhou.rhoE

              let s = Zhou.rhoO / Zhou.rhoS

              let right =
                  -Zhou.Fe * Zhou.eta * Zhou.eta * log s * System.Math.Pow(s, Zhou.eta)
                  / Zhou.rhoO

              let slope (rho: float) = (Zhou.embedding (Dual.Variable rho)).D
              let below = slope (Zhou.rhoO * (1.0 - 1e-12))
              let at = slope Zhou.rhoO
              Expect.floatClose { absolute = 0.0; relative = 1e-9 } below left "cubic branch just below ρ_o"
              Expect.floatClose { absolute = 0.0; relative = 1e-12 } at right "logarithmic branch at ρ_o"
              // the published parameters make the two slopes agree to 4 digits (0.005965 eV per density unit)
              Expect.floatClose { absolute = 0.0; relative = 2e-4 } left right "C¹ join"

          testCase
              "analytic and tabulated per-atom energies agree to 1e-9 eV and forces to 1e-8 eV/Å (128 perturbed atoms; measured 1.5e-11, 2.0e-9)"
          <| fun () ->
              let c = perturbed128 ()
              let analytic = Eam.potential Zhou.model
              let table = Eam.potential (Setfl.model "setfl" (zhouSetfl.Force()))
              let nl = Neighbours.reference 7.8925 c
              let ra = Evaluate.all analytic c nl
              let rt = Evaluate.all table c nl

              for i in 0 .. c.Count - 1 do
                  Expect.floatClose
                      { absolute = 1e-9; relative = 0.0 }
                      ra.SiteEnergies.[i]
                      rt.SiteEnergies.[i]
                      (sprintf "E_%d" i)

              for k in 0 .. 3 * c.Count - 1 do
                  Expect.floatClose { absolute = 1e-8; relative = 0.0 } ra.Forces.[k] rt.Forces.[k] (sprintf "F[%d]" k)

              Expect.isGreaterThan (maxAbs ra.Forces) 0.5 "the displacements produce sizeable forces"

          testCase "the formulas reproduce the tabulated nodes of W_zhou.eam.alloy"
          <| fun () ->
              let d = zhouSetfl.Force()

              for m in 0 .. d.Nr - 1 do
                  let r = float m * d.Dr

                  if r >= 2.0 && r <= 7.5 then
                      Expect.floatClose
                          { absolute = 1e-14; relative = 1e-10 }
                          (Zhou.density r)
                          d.Density.[0].[m]
                          (sprintf "f(%g)" r)

                      Expect.floatClose
                          { absolute = 1e-14; relative = 1e-10 }
                          (r * Zhou.pair r)
                          d.RPhi.[0].[m]
                          (sprintf "r φ(%g)" r)

              for m in 1 .. d.Nrho - 1 do
                  let rho = float m * d.Drho

                  if rho < Zhou.rhoO then
                      Expect.floatClose
                          { absolute = 1e-12; relative = 1e-10 }
                          (Zhou.embedding rho)
                          d.Embedding.[0].[m]
                          (sprintf "F(%g)" rho)

          testCase "the taper changes per-atom energies by less than 1e-8 eV (vs the untapered formulas to 12 Å)"
          <| fun () ->
              let tapered = Eam.potential Zhou.model
              let reference = Eam.potential untapered

              for c in
                  [ bcc 3.165 (2, 2, 2) [| true; true; true |]
                    displaced (bcc 3.165 (2, 2, 2) [| true; true; true |]) (randomDisplacements 5 0.1 16) ] do
                  let nl = Neighbours.reference 12.0 c
                  let a = Evaluate.siteEnergies tapered c nl
                  let b = Evaluate.siteEnergies reference c nl

                  for i in 0 .. c.Count - 1 do
                      Expect.floatClose { absolute = 1e-8; relative = 0.0 } a.[i] b.[i] "site energy"

          testCase "below the taper the model is the published formula exactly"
          <| fun () ->
              for r in [ 2.2; 2.74; 3.165; 5.0; 7.49 ] do
                  Expect.equal (Zhou.model.Pair.[0].F r) (Zhou.pair r) "φ"
                  Expect.equal (Zhou.model.Density.[0].F r) (Zhou.density r) "f"

          testCase "the taper is 1 inside, 0 outside and C³ at both ends"
          <| fun () ->
              let c = Zhou.defaultCutoff
              Expect.equal (Zhou.taper c 7.0) 1.0 "inside"
              Expect.equal (Zhou.taper c 8.0) 0.0 "outside"

              Expect.floatClose
                  { absolute = 1e-15; relative = 0.0 }
                  (Zhou.taper c ((c.Inner + c.Outer) / 2.0))
                  0.5
                  "midpoint"

              for x, v in [ c.Inner, 1.0; c.Outer, 0.0 ] do
                  for s in [ -1.0; 1.0 ] do
                      let j = Zhou.taper c (Jet.Variable(x + s * 1e-9))
                      Expect.floatClose { absolute = 1e-12; relative = 0.0 } (j.Derivative 0) v "value"
                      // S^(k) = O(δ^(4-k)) next to either end
                      Expect.isLessThan (abs (j.Derivative 1)) 1e-12 "S'"
                      Expect.isLessThan (abs (j.Derivative 2)) 1e-9 "S''"
                      Expect.isLessThan (abs (j.Derivative 3)) 1e-3 "S'''"

          testCase "the three embedding branches join continuously at ρ_n and ρ_o (published parameters)"
          <| fun () ->
              let f = Zhou.model.Embedding.[0]
              let eps = 1e-9

              Expect.floatClose
                  { absolute = 1e-6; relative = 0.0 }
                  (f.F(Zhou.rhoN - eps))
                  (f.F(Zhou.rhoN + eps))
                  "at ρ_n"

              Expect.floatClose
                  { absolute = 1e-3; relative = 0.0 }
                  (f.F(Zhou.rhoO - eps))
                  (f.F(Zhou.rhoO + eps))
                  "at ρ_o"

          testCase "the model carries its documented name, element and cutoff"
          <| fun () ->
              Expect.equal Zhou.model.Name "eam-w-zhou" "name"
              Expect.equal Zhou.model.Elements [| "W" |] "element"
              Expect.equal Zhou.model.Cutoff 7.8925 "cutoff = the setfl file's"

              Expect.throwsT<System.ArgumentException>
                  (fun () -> Zhou.modelWith { Inner = 7.0; Outer = 6.0 } |> ignore)
                  "Inner must be below Outer" ]
