/// Marinica et al. (2013) EAM4 against its published numbers and the properties of its analytic form.
module Qmmm.Numerics.Tests.PotentialsEamMarinica

open System
open Expecto
open Qmmm.Numerics
open Qmmm.Numerics.Tests.PotentialsEam

let private pot = lazy (Eam.potential Marinica.model)

/// Energy per atom (eV) of the perfect bcc crystal with lattice constant a (2-atom cubic cell).
let energyPerAtom (a: float) =
    energyOf (pot.Force()) (bcc a (1, 1, 1) [| true; true; true |]) / 2.0

/// Golden-section minimisation of f on [lo, hi] down to an interval of width tol.
let goldenSection (f: float -> float) (lo: float) (hi: float) (tol: float) =
    let g = (Math.Sqrt 5.0 - 1.0) / 2.0
    let mutable a = lo
    let mutable b = hi
    let mutable c = b - g * (b - a)
    let mutable d = a + g * (b - a)
    let mutable fc = f c
    let mutable fd = f d

    while b - a > tol do
        if fc < fd then
            b <- d
            d <- c
            fd <- fc
            c <- b - g * (b - a)
            fc <- f c
        else
            a <- c
            c <- d
            fc <- fd
            d <- a + g * (b - a)
            fd <- f d

    0.5 * (a + b)

/// The relaxed lattice constant (Å) by golden section on E/N.
let relaxedA = lazy (goldenSection energyPerAtom 3.0 3.3 1e-8)

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Potentials.Eam.Marinica"
        [ testCase "the relaxed bcc lattice constant is the published 3.1434 Å (4 digits)"
          <| fun () ->
              let a0 = relaxedA.Force()
              Expect.floatClose { absolute = 5e-5; relative = 0.0 } a0 3.1434 "a0 (Å)"

          testCase "the virial vanishes at the energy minimum and changes sign across it"
          <| fun () ->
              // an independent route to a0: the pressure from the analytic virial, not from energy differences
              let a0 = relaxedA.Force()

              let w (a: float) =
                  (evalAll (pot.Force()) (bcc a (1, 1, 1) [| true; true; true |])).Virial

              let trace (v: float[]) = v.[0] + v.[4] + v.[8]
              Expect.isLessThan (abs (trace (w a0))) 1e-6 "tr W = 0 at a0"
              Expect.isGreaterThan (trace (w (a0 - 0.01))) 0.0 "compressed: W > 0"
              Expect.isLessThan (trace (w (a0 + 0.01))) 0.0 "stretched: W < 0"

          testCase "the model carries its documented name, element and cutoff"
          <| fun () ->
              let m = Marinica.model
              Expect.equal m.Name "eam-w-marinica" "name"
              Expect.equal m.Elements [| "W" |] "element"
              Expect.equal m.Cutoff 5.4604375 "cutoff = last pair knot"

          testCase "pair and density functions are the published knot sums"
          <| fun () ->
              let knotSum (d: float[]) (a: float[]) (r: float) =
                  Array.fold2 (fun s dk ak -> s + ak * Math.Pow(Math.Max(dk - r, 0.0), 3.0)) 0.0 d a

              for r in [ 2.0; 2.6; 2.74; 3.0; 3.14; 3.6; 4.5; 4.95; 5.42; 5.5 ] do
                  let m = Marinica.model

                  Expect.floatClose
                      { absolute = 1e-12; relative = 1e-12 }
                      (m.Pair.[0].F r)
                      (knotSum Marinica.pairKnots Marinica.pairCoefficients r)
                      (sprintf "φ(%g)" r)

                  Expect.floatClose
                      { absolute = 1e-12; relative = 1e-12 }
                      (m.Density.[0].F r)
                      (knotSum Marinica.densityKnots Marinica.densityCoefficients r)
                      (sprintf "ρ(%g)" r)

          testCase "pair and density vanish with two continuous derivatives at their last knot"
          <| fun () ->
              for f, rc in [ Marinica.model.Pair.[0], 5.4604375; Marinica.model.Density.[0], 4.9 ] do
                  let inside = f.J(Jet.Variable(rc - 1e-10))
                  let outside = f.J(Jet.Variable(rc + 1e-10))

                  for k in 0..2 do
                      Expect.floatClose
                          { absolute = 1e-8; relative = 0.0 }
                          (inside.Derivative k)
                          (outside.Derivative k)
                          (sprintf "order %d continuous at %g" k rc)

                      Expect.equal (outside.Derivative k) 0.0 "zero beyond the knot"

          testCase "the embedding energy of an empty neighbourhood is 0 with finite derivatives on every scalar"
          <| fun () ->
              let f = Marinica.model.Embedding.[0]
              Expect.equal (f.F 0.0) 0.0 "F(0) = 0"
              let d = f.D(Dual.Variable 0.0)
              Expect.equal (d.V, d.D) (0.0, 0.0) "Dual at 0: no NaN, F'(0) := 0"
              let j = f.J(Jet.Variable 0.0)
              Expect.isTrue ([ 0..4 ] |> List.forall (fun k -> Double.IsFinite(j.Derivative k))) "Jet at 0 finite"
              // away from 0 the closed form -a√ρ - bρ² and its derivative
              let rho = 4.7
              let d = f.D(Dual.Variable rho)

              Expect.floatClose
                  { absolute = 1e-13; relative = 1e-13 }
                  d.V
                  (-5.553986589859130 * sqrt rho - 0.045691157657292 * rho * rho)
                  "F(ρ)"

              Expect.floatClose
                  { absolute = 1e-13; relative = 1e-13 }
                  d.D
                  (-5.553986589859130 * 0.5 / sqrt rho - 2.0 * 0.045691157657292 * rho)
                  "F'(ρ)" ]
