/// Derivative tensors δʲV (issue item 7) of pooled site potentials: against the site-energy gradient, centred
/// differences of the lower order, permutation symmetry, the cubic point group, vanishing lattice forces, decay with
/// distance, the brute-force oracles, the Cauchy–Born contraction (3.5) and the norm (3.1).
module Qmmm.Numerics.Tests.DerivativesTensors

open System
open System.Collections.Generic
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators

// ---------------------------------------------------------------------------------------------------------------
// A smooth analytic test EAM, written once over the scalar type:
//   φ(r) = A exp(-α (r - r0)) fc(r),  ρ(r) = exp(-β (r - r0)) fc(r),  F(ρ) = -√ρ + c ρ²,  fc(r) = (1 - r/rc)^5 (r < rc),
// A = 0.6 eV, α = 3/Å, β = 1.5/Å, r0 = 2.7 Å, c = 0.02 eV.
// fc is C^4 at rc, so every derivative up to order 4 is continuous.

let inline taper (rc: float) (r: ^T) : ^T =
    if value r >= rc then
        ofFloat 0.0
    else
        powi (1.0 .- r /. rc) 5

let inline pair (rc: float) (r: ^T) : ^T =
    exp ((r -. 2.7) *. -3.0) *. 0.6 * taper rc r

let inline density (rc: float) (r: ^T) : ^T = exp ((r -. 2.7) *. -1.5) * taper rc r
let inline embedding (t: ^T) : ^T = 0.02 .* (t * t) - sqrt t

/// The test EAM for W-like bcc with cutoff rc (Å).
let testModel (rc: float) : EamModel =
    { Name = sprintf "test-eam(rc=%g)" rc
      Elements = [| "W" |]
      Cutoff = rc
      Pair =
        [| { F = pair rc
             D = pair rc
             J = pair rc } |]
      Density =
        [| { F = density rc
             D = density rc
             J = density rc } |]
      Embedding =
        [| { F = embedding
             D = embedding
             J = embedding } |] }

/// The test EAM's site energy and its gradient, with Dual numbers (a code path independent of Taylor and of the
/// Faà di Bruno engine): ∂V/∂g_k = (φ'(r)/2 + F'(Σρ) ρ'(r)) g_k / r.
let sitePotential (m: EamModel) : ISitePotential =
    let phi, rho, emb = m.Pair.[0], m.Density.[0], m.Embedding.[0]

    { new ISitePotential with
        member _.Name = m.Name
        member _.Cutoff = m.Cutoff
        member _.Elements = m.Elements

        member _.SiteEnergy(_, rs, _, offset, count) =
            let mutable s = 0.0
            let mutable t = 0.0

            for k in offset .. offset + count - 1 do
                let r = Vec3.norm (Vec3.get rs k)
                s <- s + phi.F r
                t <- t + rho.F r

            0.5 * s + emb.F t

        member _.SiteGradient(_, rs, _, offset, count, grad) =
            let mutable s = 0.0
            let mutable t = 0.0

            for k in offset .. offset + count - 1 do
                let r = Vec3.norm (Vec3.get rs k)
                s <- s + phi.F r
                t <- t + rho.F r

            let ft = emb.D(Dual.Variable t)

            for k in offset .. offset + count - 1 do
                let g = Vec3.get rs k
                let r = Vec3.norm g
                let c = 0.5 * (phi.D(Dual.Variable r)).D + ft.D * (rho.D(Dual.Variable r)).D
                Vec3.set grad k ((c / r) * g)

            0.5 * s + ft.V }

let a0 = 3.1434
let lattice = Lattice.bcc "W" a0
/// Marinica EAM4's cutoff: 58 bcc neighbours (5 shells).
let rcBig = 5.4604375
/// A short cutoff: 14 neighbours (2 shells), for the heavier checks.
let rcSmall = 3.6
let bigModel = testModel rcBig
let smallModel = testModel rcSmall
let bigStencil = Lattice.stencil lattice rcBig
let smallStencil = Lattice.stencil lattice rcSmall
let bigPot = Pooled.ofEam bigModel 0
let smallPot = Pooled.ofEam smallModel 0

/// Shell radii (Å) of bcc: a√3/2, a, a√2, a√11/2, a√3.
let shells =
    [| a0 * sqrt 3.0 / 2.0
       a0
       a0 * sqrt 2.0
       a0 * sqrt 11.0 / 2.0
       a0 * sqrt 3.0 |]

let firstShell = 0.5 * (shells.[0] + shells.[1])
let secondShell = 0.5 * (shells.[1] + shells.[2])
let thirdShell = 0.5 * (shells.[2] + shells.[3])

let shellOf (v: Vec3) =
    shells |> Array.findIndex (fun s -> abs (Vec3.norm v - s) < 1e-6)

/// |a - e| <= abs + rel max(|a|, |e|), with the message built only on failure.
let inline close (absTol: float) (relTol: float) (a: float) (e: float) ([<InlineIfLambda>] msg: unit -> string) =
    if not (abs (a - e) <= absTol + relTol * max (abs a) (abs e)) then
        Expect.floatClose { absolute = absTol; relative = relTol } a e (msg ())

/// Neighbour vectors displaced by `d` (3 per neighbour).
let displace (stencil: Vec3[]) (d: float[]) =
    stencil
    |> Array.mapi (fun i v -> v + Vec3(d.[3 * i], d.[3 * i + 1], d.[3 * i + 2]))

/// Random displacements of amplitude <= 0.08 Å for n neighbours.
let displacements (n: int) =
    Gen.arrayOfLength (3 * n) (floatIn -0.08 0.08)

let flat (g: Vec3[]) =
    Array.init (3 * g.Length) (fun f -> g.[f / 3].[f % 3])

/// The 48 operations of the cubic point group (signed permutation matrices), row-major 3x3.
let cubicGroup =
    [| for p in
           [ [| 0; 1; 2 |]
             [| 0; 2; 1 |]
             [| 1; 0; 2 |]
             [| 1; 2; 0 |]
             [| 2; 0; 1 |]
             [| 2; 1; 0 |] ] do
           for s in 0..7 do
               let q = Array.zeroCreate 9

               for i in 0..2 do
                   q.[3 * i + p.[i]] <- if (s >>> i) &&& 1 = 1 then -1.0 else 1.0

               yield q |]

let apply (q: float[]) (v: Vec3) =
    Vec3(
        q.[0] * v.X + q.[1] * v.Y + q.[2] * v.Z,
        q.[3] * v.X + q.[4] * v.Y + q.[5] * v.Z,
        q.[6] * v.X + q.[7] * v.Y + q.[8] * v.Z
    )

let indexOf (stencil: Vec3[]) =
    let d = Dictionary<struct (int64 * int64 * int64), int>()

    let key (v: Vec3) =
        struct (int64 (Math.Round(v.X * 1e6)), int64 (Math.Round(v.Y * 1e6)), int64 (Math.Round(v.Z * 1e6)))

    stencil |> Array.iteri (fun i v -> d.[key v] <- i)
    fun (v: Vec3) -> d.[key v]

let cfg n = { config with maxTest = n }

/// δ¹V at g equals the site gradient of an independent ISitePotential.
let checkGradient (pot: IPooledPotential) (site: ISitePotential) (stencil: Vec3[]) (g: Vec3[]) =
    let t = Derivatives.siteTensorsAt pot stencil g 1 pot.Cutoff
    let grad = Array.zeroCreate (3 * g.Length)
    let e = site.SiteGradient(0, flat g, Array.zeroCreate g.Length, 0, g.Length, grad)
    Expect.floatClose Accuracy.veryHigh (Pooled.siteEnergy pot g) e "site energy"

    for n in 0 .. g.Length - 1 do
        for a in 0..2 do
            close 1e-13 1e-11 (SiteTensor.get t [| n |] [| a |]) grad.[3 * n + a] (fun () ->
                sprintf "neighbour %d component %d" n a)

/// δʲV(g) equals the centred difference (step 1e-5 Å) of δʲ⁻¹V, j = 2, 3, 4, over the first-shell tuples.
let checkCentredDifferences (pot: IPooledPotential) (stencil: Vec3[]) (g: Vec3[]) =
    let h = 1e-5

    for j in 2..4 do
        let t = Derivatives.siteTensorsAt pot stencil g j firstShell
        let n = SiteTensor.count t
        let prefixes = Array.init n (fun k -> (SiteTensor.tupleAt t k).[0 .. j - 2])
        // lower-order blocks at g ± h e_(m, b) for every first-shell coordinate (m, b)
        let lower = Dictionary<struct (int * int * int), float[][]>()

        for m in t.Sites do
            for b in 0..2 do
                for sgn in [ -1; 1 ] do
                    let gd = Array.copy g

                    let e =
                        Vec3((if b = 0 then 1.0 else 0.0), (if b = 1 then 1.0 else 0.0), (if b = 2 then 1.0 else 0.0))

                    gd.[m] <- gd.[m] + (float sgn * h) * e
                    lower.[struct (m, b, sgn)] <- Derivatives.blocks pot gd prefixes

        let nPre = pown 3 (j - 1)
        let scale = t.Values |> Array.fold (fun acc v -> max acc (abs v)) 0.0

        for k in 0 .. n - 1 do
            let tuple = SiteTensor.tupleAt t k
            let last = tuple.[j - 1]

            for cp in 0 .. nPre - 1 do
                for b in 0..2 do
                    let fd =
                        (lower.[struct (last, b, 1)].[k].[cp] - lower.[struct (last, b, -1)].[k].[cp])
                        / (2.0 * h)

                    close (1e-8 * scale) 1e-6 t.Values.[k * pown 3 j + 3 * cp + b] fd (fun () ->
                        sprintf "order %d tuple %A components %d,%d" j tuple cp b)

/// Every operation Q of the cubic point group maps δʲV^h(0) onto itself: V_{,ρ}[a] = Σ_b V_{,Qρ}[b] Π_i Q_{b_i a_i}.
let checkPointGroup (pot: IPooledPotential) (stencil: Vec3[]) (cases: (int * float) list) =
    let find = indexOf stencil

    for j, radius in cases do
        let t = Derivatives.siteTensors pot stencil j radius
        let nComp = pown 3 j
        let scale = t.Values |> Array.fold (fun acc v -> max acc (abs v)) 0.0

        for q in cubicGroup do
            // for the signed permutation Q: column a has its nonzero in row b(a) = perm.[a] with sign sg.[a]
            let perm =
                Array.init 3 (fun a -> [| 0..2 |] |> Array.find (fun b -> q.[3 * b + a] <> 0.0))

            let sg = Array.init 3 (fun a -> q.[3 * perm.[a] + a])
            // for every component multi-index a: the index of b = (perm a_1, ..., perm a_j) and the sign
            let bIndex = Array.zeroCreate nComp
            let bSign = Array.zeroCreate nComp

            for c in 0 .. nComp - 1 do
                let a = Array.init j (fun p -> (c / pown 3 (j - 1 - p)) % 3)
                bIndex.[c] <- a |> Array.fold (fun acc ai -> 3 * acc + perm.[ai]) 0
                bSign.[c] <- a |> Array.fold (fun acc ai -> acc * sg.[ai]) 1.0

            for k in 0 .. SiteTensor.count t - 1 do
                let tuple = SiteTensor.tupleAt t k

                let image =
                    SiteTensor.block t (tuple |> Array.map (fun i -> find (apply q stencil.[i])))

                for c in 0 .. nComp - 1 do
                    close (1e-14 * scale) 1e-11 (bSign.[c] * image.[bIndex.[c]]) t.Values.[k * nComp + c] (fun () ->
                        sprintf "order %d tuple %A component index %d under %A" j tuple c q)

/// The force on an atom of the perfect bcc lattice vanishes.
/// E = Σ_ℓ V(Du(ℓ)) with D_ρu(ℓ) = u(ℓ+ρ) - u(ℓ), so F_0 = -∂E/∂u(0) = Σ_ρ V_{ℓ=0,ρ} - Σ_ρ V_{ℓ=-ρ,ρ}: on the
/// homogeneous lattice both sums are Σ_ρ δ¹V^h(0)_ρ, and each vanishes by inversion symmetry (V_{,-ρ} = -V_{,ρ}).
let checkLatticeForce (pot: IPooledPotential) (site: ISitePotential) (stencil: Vec3[]) =
    let rc = pot.Cutoff
    // (a) Σ_ρ δ¹V^h(0)_ρ = 0 from the pooled tensor
    let t = Derivatives.siteTensors pot stencil 1 rc
    let mutable sum = Vec3.Zero

    for n in 0 .. stencil.Length - 1 do
        sum <-
            sum
            + Vec3(SiteTensor.get t [| n |] [| 0 |], SiteTensor.get t [| n |] [| 1 |], SiteTensor.get t [| n |] [| 2 |])

    Expect.isLessThan (Vec3.norm sum) 1e-12 "Σ_ρ δ¹V_ρ = 0"
    // (b) the same force from scratch: every site ℓ of a bcc ball within the cutoff of the centre, its own neighbour
    // list from the ball, the site-energy gradient of the independent ISitePotential, F_0 = -Σ_ℓ ∂V_ℓ/∂y_0
    let ball = Lattice.ball lattice Vec3.Zero (2.0 * rc + 0.5)
    let centre = ball |> Array.findIndex (fun p -> Vec3.norm p < 1e-9)
    let mutable force = Vec3.Zero

    for l in 0 .. ball.Length - 1 do
        if Vec3.norm ball.[l] < rc then
            let nb =
                [| for m in 0 .. ball.Length - 1 do
                       if m <> l && Vec3.norm (ball.[m] - ball.[l]) < rc then
                           yield m |]

            let rs = nb |> Array.map (fun m -> ball.[m] - ball.[l]) |> flat
            let grad = Array.zeroCreate rs.Length

            site.SiteGradient(0, rs, Array.zeroCreate nb.Length, 0, nb.Length, grad)
            |> ignore

            for k in 0 .. nb.Length - 1 do
                // g_k = y_{nb k} - y_l: ∂g_k/∂y_0 = +I if nb k = centre, -I if l = centre
                let dk = Vec3.get grad k

                if nb.[k] = centre then
                    force <- force - dk

                if l = centre then
                    force <- force + dk

    Expect.isLessThan (Vec3.norm force) 1e-12 "F_0 = 0"

/// The brute-force Taylor oracle agrees with the pooled tensors on every `stride`-th canonical tuple.
let checkOracle
    (model: EamModel)
    (pot: IPooledPotential)
    (stencil: Vec3[])
    (g: Vec3[])
    (cases: (int * float * int) list)
    =
    for j, radius, stride in cases do
        let t = Derivatives.siteTensorsAt pot stencil g j radius
        let scale = t.Values |> Array.fold (fun acc v -> max acc (abs v)) 0.0

        for k in 0..stride .. SiteTensor.count t - 1 do
            let tuple = SiteTensor.tupleAt t k
            let b = ReferenceDerivatives.eamBlock model 0 g tuple

            for c in 0 .. b.Length - 1 do
                close (1e-14 * scale) 1e-12 t.Values.[k * b.Length + c] b.[c] (fun () ->
                    sprintf "order %d tuple %A component %d" j tuple c)

/// Neighbour vectors displaced by a fixed pseudo-random field of amplitude `amp` (Å).
let shaken (stencil: Vec3[]) (amp: float) (seed: int) =
    let rnd = Random(seed)
    let u () = amp * (2.0 * rnd.NextDouble() - 1.0)
    stencil |> Array.map (fun v -> v + Vec3(u (), u (), u ()))

let marinica = Marinica.model
let marinicaPot = Pooled.ofEam marinica 0
let marinicaSite = Eam.potential marinica

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Derivatives.Tensors"
        [ testCase "the bcc stencil within EAM4's cutoff has 58 neighbours in 5 shells"
          <| fun () ->
              Expect.equal bigStencil.Length 58 "58 neighbours"
              Expect.equal (bigStencil |> Array.countBy shellOf |> Array.map snd) [| 8; 6; 12; 24; 8 |] "shells"

          testPropertyWithConfig (cfg 10) "δ¹V equals the gradient of the site energy (independent Dual code)"
          <| Prop.forAll (Arb.fromGen (Gen.oneof [ Gen.constant (Array.zeroCreate 174); displacements 58 ])) (fun d ->
              checkGradient bigPot (sitePotential bigModel) bigStencil (displace bigStencil d))

          testPropertyWithConfig
              (cfg 3)
              "δʲV equals the centred difference of δʲ⁻¹V at displaced configurations, j = 2, 3, 4"
          <| Prop.forAll (Arb.fromGen (displacements 58)) (fun d ->
              checkCentredDifferences bigPot bigStencil (displace bigStencil d))

          testCase "δ²V, δ³V, δ⁴V are symmetric under every permutation of their (neighbour, component) pairs"
          <| fun () ->
              // at a non-lattice configuration (no accidental symmetry), each ORDERED tuple of first-shell neighbours
              // computed separately; dense tensor over the 8 first-shell neighbours x 3 components
              let rnd = Random(7)

              let g =
                  bigStencil
                  |> Array.map (fun v ->
                      v
                      + Vec3(
                          0.1 * rnd.NextDouble() - 0.05,
                          0.1 * rnd.NextDouble() - 0.05,
                          0.1 * rnd.NextDouble() - 0.05
                      ))

              let sites = [| 0..7 |]
              let n3 = 24

              for j in 2..4 do
                  let ordered =
                      Array.init (pown 8 j) (fun f -> Array.init j (fun p -> sites.[(f / pown 8 (j - 1 - p)) % 8]))

                  let blocks = Derivatives.blocks bigPot g ordered
                  let dense = Array.zeroCreate (pown n3 j)

                  for f in 0 .. ordered.Length - 1 do
                      for c in 0 .. pown 3 j - 1 do
                          // dense index: position p -> 3 * slot + component
                          let mutable idx = 0

                          for p in 0 .. j - 1 do
                              idx <- n3 * idx + 3 * ordered.[f].[p] + (c / pown 3 (j - 1 - p)) % 3

                          dense.[idx] <- blocks.[f].[c]

                  // the adjacent transpositions (p, p+1) generate the symmetric group: invariance under each of them
                  // is invariance under every permutation
                  let perms =
                      Array.init (j - 1) (fun p ->
                          Array.init j (fun q ->
                              if q = p then p + 1
                              elif q = p + 1 then p
                              else q))

                  let slots = Array.zeroCreate j

                  for idx in 0 .. dense.Length - 1 do
                      for p in 0 .. j - 1 do
                          slots.[p] <- (idx / pown n3 (j - 1 - p)) % n3

                      for sigma in perms do
                          let mutable other = 0

                          for p in 0 .. j - 1 do
                              other <- n3 * other + slots.[sigma.[p]]

                          close 1e-14 1e-12 dense.[other] dense.[idx] (fun () ->
                              sprintf "order %d entry %A permuted by %A" j slots sigma)

                  // the canonical store answers for every ordering through `get`
                  let t = Derivatives.siteTensorsAt bigPot bigStencil g j firstShell

                  for f in 0..97 .. ordered.Length - 1 do
                      for c in 0 .. pown 3 j - 1 do
                          let comps = Array.init j (fun p -> (c / pown 3 (j - 1 - p)) % 3)

                          close 1e-14 1e-12 (SiteTensor.get t ordered.[f] comps) blocks.[f].[c] (fun () ->
                              sprintf "get %A %A" ordered.[f] comps)

          testCase "every operation of the cubic point group maps δʲV onto itself, j = 1..4"
          <| fun () -> checkPointGroup bigPot bigStencil [ 1, rcBig; 2, rcBig; 3, secondShell; 4, firstShell ]

          testCase "the force on every atom of the perfect lattice vanishes"
          <| fun () -> checkLatticeForce bigPot (sitePotential bigModel) bigStencil

          testCase "entries decay with the distance of the neighbours: the largest block per shell decreases"
          <| fun () ->
              // block size |V_{,ρ}| = Frobenius norm of the 3^j block (the |·| of (3.1); rotation invariant, so that
              // axis-aligned second-shell neighbours are not favoured over the (111) first shell), grouped by the shell
              // of the farthest neighbour of the tuple
              for j, radius in [ 1, rcBig; 2, rcBig; 3, rcBig; 4, thirdShell ] do
                  let t = Derivatives.siteTensors bigPot bigStencil j radius
                  let nComp = pown 3 j
                  let maxPerShell = Array.zeroCreate 5

                  for k in 0 .. SiteTensor.count t - 1 do
                      let s =
                          SiteTensor.tupleAt t k
                          |> Array.map (fun i -> shellOf bigStencil.[i])
                          |> Array.max

                      let mutable fr = 0.0

                      for c in 0 .. nComp - 1 do
                          fr <- fr + t.Values.[k * nComp + c] * t.Values.[k * nComp + c]

                      maxPerShell.[s] <- max maxPerShell.[s] (sqrt fr)

                  let present = maxPerShell |> Array.filter (fun v -> v > 0.0)
                  Expect.isGreaterThanOrEqual present.Length 3 "at least three shells"

                  for s in 1 .. present.Length - 1 do
                      Expect.isLessThan
                          present.[s]
                          present.[s - 1]
                          (sprintf "order %d: shell %d vs %d (%A)" j s (s - 1) present)

          testCase "the brute-force Taylor oracle agrees with the pooled tensors, j = 1..4"
          <| fun () ->
              for g in [ bigStencil; shaken bigStencil 0.03 11 ] do
                  checkOracle
                      bigModel
                      bigPot
                      bigStencil
                      g
                      [ 1, rcBig, 1; 2, secondShell, 1; 3, secondShell, 9; 4, secondShell, 97 ]

          testCase "Marinica EAM4: δ¹V equals the site gradient of Eam.potential, at the lattice and displaced"
          <| fun () ->
              for g in [ bigStencil; shaken bigStencil 0.05 3; shaken bigStencil 0.05 4 ] do
                  checkGradient marinicaPot marinicaSite bigStencil g

          testCase "Marinica EAM4: δʲV equals the centred difference of δʲ⁻¹V, j = 2, 3, 4"
          <| fun () ->
              // EAM4 is a cubic spline: its third radial derivatives jump at the knots. Displacements of at most
              // 0.005 Å keep every neighbour distance more than 0.007 Å from a knot, so no difference straddles one.
              checkCentredDifferences marinicaPot bigStencil (shaken bigStencil 0.005 5)

          testCase "Marinica EAM4: every operation of the cubic point group maps δʲV onto itself, j = 1..4"
          <| fun () -> checkPointGroup marinicaPot bigStencil [ 1, rcBig; 2, rcBig; 3, firstShell; 4, firstShell ]

          testCase "Marinica EAM4: the force on every atom of the perfect lattice vanishes"
          <| fun () -> checkLatticeForce marinicaPot marinicaSite bigStencil

          testCase "Marinica EAM4: the brute-force Taylor oracle agrees with the pooled tensors, j = 1..4"
          <| fun () ->
              checkOracle
                  marinica
                  marinicaPot
                  bigStencil
                  bigStencil
                  [ 1, rcBig, 1; 2, secondShell, 3; 3, secondShell, 17; 4, secondShell, 197 ]

          testCase "centred differences of the analytic gradient (the general route) agree with the pooled tensors"
          <| fun () ->
              // EAM4-sized stencil for j <= 3; the 14-neighbour model for j = 4 (26,000 gradient evaluations)
              for j, tol in [ 1, 1e-13; 2, 1e-9; 3, 1e-7; 4, 2e-5 ] do
                  let model, pooled, stencil =
                      if j = 4 then
                          smallModel, smallPot, smallStencil
                      else
                          bigModel, bigPot, bigStencil

                  let radius = if j = 2 then secondShell else firstShell
                  let zs = Array.zeroCreate stencil.Length
                  let t = Derivatives.siteTensors pooled stencil j radius

                  let r =
                      ReferenceDerivatives.byGradientDifferences
                          (sitePotential model)
                          0
                          zs
                          stencil
                          stencil
                          j
                          radius
                          (ReferenceDerivatives.defaultStep j)

                  Expect.equal r.Tuples t.Tuples "same tuples"
                  let scale = t.Values |> Array.map abs |> Array.max

                  for f in 0 .. t.Values.Length - 1 do
                      close (tol * scale) 0.0 r.Values.[f] t.Values.[f] (fun () -> sprintf "order %d entry %d" j f)

          testCase "the Cauchy–Born contraction (3.5) is the j-th derivative of W_cb(F) = V(F·Λ*) at F = I, j = 1..4"
          <| fun () ->
              // with the short cutoff (14 neighbours): W_cb(F) = V(Fρ); ∂_F^{j-1} W_cb(F) = Σ V_{,ρ}(Fρ) ⊗ ρ is the
              // contraction of the tensor at g = Fρ; its centred difference in F_{ab} must give order j.
              let site = sitePotential smallModel
              let st = smallStencil

              let strain (hab: float[]) =
                  st |> Array.map (fun v -> v + apply hab v)

              let h = 1e-5

              let cbAt (j: int) (hab: float[]) =
                  if j = 0 then
                      let g = strain hab |> flat
                      [| site.SiteEnergy(0, g, Array.zeroCreate st.Length, 0, st.Length) |]
                  else
                      SiteTensor.cauchyBorn (Derivatives.siteTensorsAt smallPot st (strain hab) j rcSmall)

              for j in 1..4 do
                  let cb = cbAt j (Array.zeroCreate 9)
                  Expect.equal cb.Length (pown 9 j) "3^{2j} entries"
                  let scale = cb |> Array.map abs |> Array.max

                  for ab in 0..8 do
                      let e = Array.zeroCreate 9
                      e.[ab] <- h
                      let plus, minus = cbAt (j - 1) e, cbAt (j - 1) (Array.map (fun x -> -x) e)

                      for pre in 0 .. plus.Length - 1 do
                          let fd = (plus.[pre] - minus.[pre]) / (2.0 * h)

                          close (1e-7 * scale) 1e-7 cb.[pre * 9 + ab] fd (fun () ->
                              sprintf "order %d entry (%d, %d)" j pre ab)

          testCase
              "the weighted norms (3.1) and (3.6) sum |V_{,ρ}|² w_j⁻¹(ρ) and |V_{,ρ} ⊗ ρ|² w_j⁻¹(ρ) over all ordered tuples"
          <| fun () ->
              let gamma = 0.7

              for j in 1..3 do
                  let t = Derivatives.siteTensors bigPot bigStencil j firstShell
                  let dense = SiteTensor.toDense t
                  let n3 = 3 * t.Sites.Length
                  let mutable acc = 0.0
                  let mutable accV = 0.0
                  let mutable acc0 = 0.0

                  for idx in 0 .. dense.Length - 1 do
                      let mutable dist = 0.0
                      let mutable rho2 = 1.0

                      for p in 0 .. j - 1 do
                          let slot = (idx / pown n3 (j - 1 - p)) % n3
                          let r = Vec3.norm bigStencil.[t.Sites.[slot / 3]]
                          dist <- dist + r
                          rho2 <- rho2 * r * r

                      acc <- acc + dense.[idx] * dense.[idx] * exp (2.0 * gamma * dist)
                      accV <- accV + dense.[idx] * dense.[idx] * rho2 * exp (2.0 * gamma * dist)
                      acc0 <- acc0 + dense.[idx] * dense.[idx]

                  Expect.floatClose Accuracy.veryHigh (SiteTensor.norm gamma t) (sqrt acc) (sprintf "order %d" j)

                  Expect.floatClose
                      Accuracy.veryHigh
                      (SiteTensor.unweightedNorm t)
                      (sqrt acc0)
                      (sprintf "unit weights, order %d" j)

                  Expect.floatClose
                      Accuracy.veryHigh
                      (SiteTensor.virialNorm gamma t)
                      (sqrt accV)
                      (sprintf "(3.6) order %d" j)

                  let quarter =
                      { t with
                          Values = t.Values |> Array.map (fun v -> 0.25 * v) }

                  Expect.floatClose
                      Accuracy.veryHigh
                      (SiteTensor.norm gamma (SiteTensor.sub t quarter))
                      (0.75 * sqrt acc)
                      "|t − t/4| = 3/4 |t| (3.1)"

          testCase "the outer map of EAM from a Taylor evaluation of G equals the directly written derivatives"
          <| fun () ->
              let emb = bigModel.Embedding.[0]
              let s = [| -0.3; 1.7 |]
              let direct = bigPot.Outer(s, 4)

              let viaTaylor =
                  Pooled.outerOfTaylor (fun v -> v.[0] *. 0.5 + Pooled.radial emb v.[1]) s 4

              for m in 0..4 do
                  let dense (c: ChannelTensor) =
                      let d = Array.zeroCreate (pown 2 m)

                      for e in 0 .. c.Values.Length - 1 do
                          let mutable idx = 0

                          for p in 0 .. m - 1 do
                              idx <- 2 * idx + c.Keys.[e * m + p]

                          d.[idx] <- d.[idx] + c.Values.[e]

                      d

                  let a, b = dense direct.[m], dense viaTaylor.[m]

                  for i in 0 .. a.Length - 1 do
                      Expect.floatClose Accuracy.veryHigh a.[i] b.[i] (sprintf "order %d entry %d" m i)

          testCase "lookups outside the tensor's radius or with bad components raise"
          <| fun () ->
              let t = Derivatives.siteTensors bigPot bigStencil 2 firstShell

              let e =
                  Expect.throwsC (fun () -> SiteTensor.get t [| 0; 20 |] [| 0; 0 |] |> ignore) id

              Expect.stringContains e.Message "outside the tensor's radius" "radius"

              let e2 =
                  Expect.throwsC (fun () -> SiteTensor.get t [| 0; 1 |] [| 0; 3 |] |> ignore) id

              Expect.stringContains e2.Message "components" "components"
              Expect.equal (SiteTensor.count t) 36 "8 neighbours: C(9, 2) = 36 canonical pairs"

          testCase
              "Zhou W (a smooth physical EAM): δʲV decays shell by shell, respects the cubic group, no lattice force"
          <| fun () ->
              // The Zhou 2004 functions decay like exp(-β r/r_e) and are smooth away from the taper (7.5-7.89 Å), so
              // the locality (2.6) must show in the largest block (Frobenius norm) per shell of the farthest neighbour:
              // beyond the nearest-neighbour pair of shells (whose first derivatives nearly balance at equilibrium, so
              // shell 1 may exceed shell 0) it decreases strictly from shell to shell, and shell 2 is at least ten
              // times below the first two.
              let zhouLattice = Lattice.bcc "W" 3.1648
              let zhouStencil = Lattice.stencil zhouLattice 6.0
              let zhouPot = Pooled.ofEam Zhou.model 0
              let a = 3.1648

              let zShells =
                  [| a * sqrt 3.0 / 2.0; a; a * sqrt 2.0; a * sqrt 11.0 / 2.0; a * sqrt 3.0 |]

              let zShellOf (v: Vec3) =
                  zShells |> Array.findIndex (fun r -> abs (Vec3.norm v - r) < 1e-6)

              let between i = 0.5 * (zShells.[i] + zShells.[i + 1])

              for j, radius in [ 1, between 3 + 0.5; 2, between 3 + 0.5; 3, between 2; 4, between 2 ] do
                  let t = Derivatives.siteTensors zhouPot zhouStencil j radius
                  let nComp = pown 3 j
                  let maxPerShell = Array.zeroCreate zShells.Length

                  for k in 0 .. SiteTensor.count t - 1 do
                      let sh =
                          SiteTensor.tupleAt t k
                          |> Array.map (fun i -> zShellOf zhouStencil.[i])
                          |> Array.max

                      let mutable fr = 0.0

                      for c in 0 .. nComp - 1 do
                          fr <- fr + t.Values.[k * nComp + c] * t.Values.[k * nComp + c]

                      maxPerShell.[sh] <- max maxPerShell.[sh] (sqrt fr)

                  let present = maxPerShell |> Array.filter (fun v -> v > 0.0)
                  Expect.isGreaterThanOrEqual present.Length 3 (sprintf "order %d: at least three shells" j)

                  Expect.isLessThan
                      present.[2]
                      (0.1 * max present.[0] present.[1])
                      (sprintf "order %d: shell 2 vs shells 0-1 (%A)" j present)

                  for sh in 2 .. present.Length - 1 do
                      Expect.isLessThan
                          present.[sh]
                          present.[sh - 1]
                          (sprintf "order %d: shell %d vs %d (%A)" j sh (sh - 1) present)

              checkPointGroup zhouPot zhouStencil [ 1, 6.0; 2, between 2; 3, between 1 ]
              checkLatticeForce zhouPot (Eam.potential Zhou.model) zhouStencil ]
