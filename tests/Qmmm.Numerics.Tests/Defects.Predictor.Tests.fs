/// CLE predictors: the Navier equations (continuum residual by Richardson-extrapolated differences), isotropic limit of
/// the Stroh solution, Burgers vector (continuum jump and an atomistic Burgers circuit), a sound predicted
/// configuration (no close pairs, bulk coordination) and the decay of its atomistic residual forces.
module Qmmm.Numerics.Tests.DefectsPredictor

open System
open Expecto
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Elasticity

/// Si cubic constants (GPa → eV/Å³) as an input tensor (C11 = 165.7, C12 = 63.9, C44 = 79.6 GPa), rotated to the Si
/// dislocation axes.
let siTensor () =
    let g = 1.0 / Elasticity.GPa

    let cube =
        Elasticity.ofCubic
            { C11 = 165.7 * g
              C12 = 63.9 * g
              C44 = 79.6 * g }

    Elasticity.rotate (DefectGeometry.lattice Crystal.Si 5.43).Rotation cube

/// ∂_j ∂_l u (j, l ∈ {x, y}) by centred differences with steps h, h/2, h/4 and two Richardson levels (error O(h⁶)).
let hessian (f: float -> float -> Vec3) (x: float) (y: float) (h: float) =
    let d (j: int) (l: int) (h: float) =
        let ex, ey = (if j = 0 then h else 0.0), (if j = 1 then h else 0.0)
        let fx, fy = (if l = 0 then h else 0.0), (if l = 1 then h else 0.0)
        let p a b = f (x + a) (y + b)

        (1.0 / (4.0 * h * h))
        * (p (ex + fx) (ey + fy) - p (ex - fx) (ey - fy) - p (-ex + fx) (-ey + fy)
           + p (-ex - fx) (-ey - fy))

    Array.init 4 (fun n ->
        let j, l = n / 2, n % 2
        let d1, d2, d3 = d j l h, d j l (h / 2.0), d j l (h / 4.0)
        let r1 = (4.0 * d2 - d1) * (1.0 / 3.0)
        let r2 = (4.0 * d3 - d2) * (1.0 / 3.0)
        (16.0 * r2 - r1) * (1.0 / 15.0))

/// max_i |Σ ℂ_ijkl ∂_j ∂_l u_k| / max_i Σ |ℂ_ijkl ∂_j ∂_l u_k| over points at radii 6 and 15 Å (angles off the cut).
let navierRatio (c: float[]) (f: float -> float -> Vec3) =
    let mutable worst = 0.0

    for r in [ 6.0; 15.0 ] do
        for t in [ 0.7; 2.0; 3.5; 5.0 ] do
            let x, y = r * cos t, r * sin t
            let hs = hessian f x y (0.02 * r)
            let mutable res = 0.0
            let mutable scale = 0.0

            for i in 0..2 do
                let mutable s = 0.0
                let mutable a = 0.0

                for j in 0..1 do
                    for l in 0..1 do
                        for k in 0..2 do
                            let v = c.[27 * i + 9 * j + 3 * k + l] * hs.[2 * j + l].[k]
                            s <- s + v
                            a <- a + abs v

                res <- max res (abs s)
                scale <- max scale a

            worst <- max worst (res / scale)

    worst

/// The predicted configuration x0 + u0 of a domain.
let predicted (kind: PredictorKind) (d: DefectDomain) =
    let u0 = Predictor.displacements kind (Predictor.defaultSmoothing d) d

    { d.Reference with
        Positions = Array.map2 (+) d.Reference.Positions u0 }

/// Closure failure of the Burgers circuit around the core on the z = 0 layer: the rectangle of grid sites
/// (i p_x, j p_y), |i|, |j| <= m, walked counter-clockwise; each deformed step y(next) − y(current) is mapped to the
/// nearest perfect-lattice step (components rounded to multiples of p_x, p_y) and the mapped steps are summed.
let burgersCircuit (d: DefectDomain) (y: Configuration) (m: int) =
    let px, py = Lattice.period d.Lattice 0, Lattice.period d.Lattice 1
    let x0 = d.Reference.Positions
    let index = Collections.Generic.Dictionary<struct (int * int), int>()

    for i in 0 .. d.Reference.Count - 1 do
        let p = Vec3.get x0 i
        let gi, gj = Math.Round(p.X / px), Math.Round(p.Y / py)

        if abs p.Z < 1e-9 && abs (p.X - gi * px) < 1e-9 && abs (p.Y - gj * py) < 1e-9 then
            index.[struct (int gi, int gj)] <- i

    let path =
        [ for i in -m .. m - 1 -> (i, -m) ]
        @ [ for j in -m .. m - 1 -> (m, j) ]
        @ [ for i in m .. -1 .. -m + 1 -> (i, m) ]
        @ [ for j in m .. -1 .. -m + 1 -> (-m, j) ]
        @ [ (-m, -m) ]

    let mutable sx = 0.0
    let mutable sy = 0.0

    for (a, b) in List.pairwise path do
        let p = Vec3.get y.Positions index.[struct (fst a, snd a)]
        let q = Vec3.get y.Positions index.[struct (fst b, snd b)]
        sx <- sx + px * Math.Round((q.X - p.X) / px)
        sy <- sy + py * Math.Round((q.Y - p.Y) / py)

    Vec3(sx, sy, 0.0)

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Defects.Predictor"
        [ testCase
              "the Stroh solution satisfies the Navier equations away from the core (W from Zhou, Si rotated; ratio <= 1e-9)"
          <| fun () ->
              let a = aZhou.Force()

              for name, c, b in
                  [ "W", cZhou.Force(), Vec3(a, 0.0, 0.0)
                    "Si", siTensor (), Vec3(5.43 / sqrt 2.0, 0.0, 0.0) ] do
                  let s = Cle.stroh c b
                  let ratio = navierRatio c (Cle.strohDisplacement s)
                  Expect.isLessThan ratio 1e-9 (sprintf "%s: residual / scale = %g" name ratio)

          testCase "the isotropic edge formula satisfies the isotropic Navier equations (ratio <= 1e-9)"
          <| fun () ->
              let lam, mu = 1.1, 0.6
              let nu = lam / (2.0 * (lam + mu))
              let ratio = navierRatio (Elasticity.isotropic lam mu) (Cle.isotropicEdge nu 3.0)
              Expect.isLessThan ratio 1e-9 (sprintf "residual / scale = %g" ratio)

          testCase "for an isotropic ℂ the Stroh solution (degenerate roots: perturbed route) is the isotropic one"
          <| fun () ->
              let lam, mu = 1.1, 0.6
              let nu = lam / (2.0 * (lam + mu))
              let b = 3.0
              let s = Cle.stroh (Elasticity.isotropic lam mu) (Vec3(b, 0.0, 0.0))
              Expect.isGreaterThan s.Weights.Length 1 "the degenerate route was taken"
              // both are unique up to a constant displacement: compare u(x) − u(x_ref)
              let ref = Vec3(2.0, 3.0, 0.0)

              for (x, y) in [ (5.0, 2.0); (-3.0, 4.0); (1.0, -7.0); (10.0, -0.5); (-20.0, -20.0) ] do
                  let d1 = Cle.strohDisplacement s x y - Cle.strohDisplacement s ref.X ref.Y
                  let d2 = Cle.isotropicEdge nu b x y - Cle.isotropicEdge nu b ref.X ref.Y
                  Expect.isLessThan (Vec3.norm (d1 - d2)) (1e-9 * b) (sprintf "at (%g, %g)" x y)

          testCase "the continuum Burgers circuit closes to b: u(θ → 2π) − u(θ → 0) = b (W, Si, isotropic)"
          <| fun () ->
              let a = aZhou.Force()

              for name, f, b in
                  [ "W", Cle.strohDisplacement (Cle.stroh (cZhou.Force()) (Vec3(a, 0.0, 0.0))), a
                    "Si", Cle.strohDisplacement (Cle.stroh (siTensor ()) (Vec3(3.84, 0.0, 0.0))), 3.84
                    "iso", Cle.isotropicEdge 0.3 2.5, 2.5 ] do
                  for r in [ 1.0; 7.0; 50.0 ] do
                      let j = f r -1e-11 - f r 1e-11
                      Expect.floatClose { absolute = 1e-9; relative = 0.0 } j.X b (sprintf "%s r = %g: x" name r)
                      Expect.floatClose { absolute = 1e-9; relative = 0.0 } j.Y 0.0 (sprintf "%s r = %g: y" name r)

          testCase
              "the atomistic Burgers circuit of the predicted W and Si configurations closes to −b (0 without defect)"
          <| fun () ->
              for crystal, a, c in [ Crystal.W, aZhou.Force(), cZhou.Force(); Crystal.Si, 5.43, siTensor () ] do
                  let d =
                      DefectGeometry.create crystal DefectKind.Edge DomainShape.Quasi2D a (12.0 * a)

                  let y = predicted (PredictorKind.Anisotropic c) d
                  let closure = burgersCircuit d y 6
                  let b = DefectGeometry.burgers crystal a
                  Expect.floatClose { absolute = 1e-9; relative = 0.0 } closure.X -b.X (sprintf "%A: x" crystal)
                  Expect.floatClose { absolute = 1e-9; relative = 0.0 } closure.Y 0.0 (sprintf "%A: y" crystal)
                  let perfect = burgersCircuit d d.Reference 6
                  Expect.floatClose { absolute = 1e-9; relative = 0.0 } perfect.X 0.0 "perfect crystal"

          testCase
              "after applying u0 no two atoms are closer than 0.6 r_nn and atoms away from the core keep bulk coordination"
          <| fun () ->
              for crystal, a, c, z in [ Crystal.W, aZhou.Force(), cZhou.Force(), 8; Crystal.Si, 5.43, siTensor (), 4 ] do
                  for kind in [ PredictorKind.Anisotropic c; PredictorKind.Isotropic 0.28 ] do
                      let R = 20.0 * a
                      let d = DefectGeometry.create crystal DefectKind.Edge DomainShape.Quasi2D a R
                      let y = predicted kind d
                      let rnn = Lattice.nearestNeighbourDistance d.Lattice
                      // midway between the first and second neighbour shells: bcc a √3/2 and a; diamond a √3/4 and a/√2
                      let r2 =
                          match crystal with
                          | Crystal.W -> a
                          | Crystal.Si -> a / sqrt 2.0

                      let nl = Neighbours.build (0.5 * (rnn + r2)) y
                      let close = Neighbours.build (0.6 * rnn) y
                      Expect.equal close.Pairs 0 (sprintf "%A %A: pairs closer than 0.6 r_nn" crystal kind)

                      for i in 0 .. y.Count - 1 do
                          let r = DefectGeometry.distance d.Shape d.Core (Vec3.get d.Reference.Positions i)

                          if r > 4.0 * a && r < R - 1.5 * a then
                              Expect.equal
                                  (nl.Start.[i + 1] - nl.Start.[i])
                                  z
                                  (sprintf "%A %A: coordination of atom %d at r = %.2f Å" crystal kind i r)

          testCase "the atomistic residual forces of the predicted W edge dislocation decay at least like r^-2.5 (Zhou)"
          <| fun () ->
              let a = aZhou.Force()

              let d =
                  DefectGeometry.create Crystal.W DefectKind.Edge DomainShape.Quasi2D a (24.0 * a)

              let y = predicted (PredictorKind.Anisotropic(cZhou.Force())) d
              let f = (Potential.compute (zhou.Force()) y).Forces

              let maxIn (lo: float) (hi: float) =
                  let mutable m = 0.0

                  for i in 0 .. y.Count - 1 do
                      let r = DefectGeometry.distance d.Shape d.Core (Vec3.get d.Reference.Positions i)

                      if r >= lo * a && r < hi * a then
                          m <- max m (Vec3.norm (Vec3.get f i))

                  m

              // annuli [8a, 10a) and [16a, 18a), more than 2 cutoffs inside the free surface at 24a
              let f1, f2 = maxIn 8.0 10.0, maxIn 16.0 18.0
              let slope = log (f2 / f1) / log (17.0 / 9.0)
              Expect.isLessThan slope -2.5 (sprintf "decay exponent %.2f (|F| %.2e -> %.2e)" slope f1 f2) ]
