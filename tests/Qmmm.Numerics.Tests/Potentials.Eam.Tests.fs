/// The model-generic physics table (STYLE 19) run over every EAM model (analytic Marinica, analytic Zhou, Zhou from the
/// LAMMPS setfl file), and the helpers shared with the other EAM and evaluation test files.
module Qmmm.Numerics.Tests.PotentialsEam

open System
open System.IO
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators

// ---------------------------------------------------------------------------------------------------------------
// Helpers shared with the Marinica and Zhou test files.

/// A bcc configuration of reps conventional cubes (constant a, Å) with the given periodicity; atoms ordered cube by
/// cube (corner site, then body centre).
let bcc (a: float) (n1: int, n2: int, n3: int) (pbc: bool[]) : Configuration =
    let pos = ResizeArray()

    for i in 0 .. n1 - 1 do
        for j in 0 .. n2 - 1 do
            for k in 0 .. n3 - 1 do
                pos.AddRange [ float i * a; float j * a; float k * a ]
                pos.AddRange [ (float i + 0.5) * a; (float j + 0.5) * a; (float k + 0.5) * a ]

    { Species = Array.create (pos.Count / 3) "W"
      Positions = pos.ToArray()
      Cell =
        Cell.create (Vec3(float n1 * a, 0.0, 0.0)) (Vec3(0.0, float n2 * a, 0.0)) (Vec3(0.0, 0.0, float n3 * a)) pbc }

/// A finite bcc cluster: every site within `radius` (Å) of a lattice site, in a large non-periodic box.
let cluster (a: float) (radius: float) : Configuration =
    let pts = Lattice.ball (Lattice.bcc "W" a) Vec3.Zero radius
    let pos = Array.zeroCreate (3 * pts.Length)
    pts |> Array.iteri (fun i p -> Vec3.set pos i p)

    { Species = Array.create pts.Length "W"
      Positions = pos
      Cell = Cell.create (Vec3(50.0, 0.0, 0.0)) (Vec3(0.0, 50.0, 0.0)) (Vec3(0.0, 0.0, 50.0)) [| false; false; false |] }

/// The configuration with positions y + d.
let displaced (c: Configuration) (d: float[]) =
    { c with
        Positions = Array.map2 (+) c.Positions d }

/// Uniform random displacements in [-amplitude, amplitude] per component, from a fixed seed.
let randomDisplacements (seed: int) (amplitude: float) (n: int) =
    let rng = Random(seed)
    Array.init (3 * n) (fun _ -> amplitude * (2.0 * rng.NextDouble() - 1.0))

/// The configuration deformed by y -> (I + e) y (positions and cell vectors), e row-major 3x3.
let deformed (c: Configuration) (e: float[]) =
    let apply (v: Vec3) =
        Vec3(
            v.X + e.[0] * v.X + e.[1] * v.Y + e.[2] * v.Z,
            v.Y + e.[3] * v.X + e.[4] * v.Y + e.[5] * v.Z,
            v.Z + e.[6] * v.X + e.[7] * v.Y + e.[8] * v.Z
        )

    let pos = Array.copy c.Positions

    for i in 0 .. c.Count - 1 do
        Vec3.set pos i (apply (Vec3.get pos i))

    { c with
        Positions = pos
        Cell =
            Cell.create
                (apply (Cell.vector c.Cell 0))
                (apply (Cell.vector c.Cell 1))
                (apply (Cell.vector c.Cell 2))
                c.Cell.Pbc }

/// Full evaluation with the O(N²) reference neighbour list.
let evalAll (pot: ISitePotential) (c: Configuration) =
    Evaluate.all pot c (Neighbours.reference pot.Cutoff c)

/// Energy with the O(N²) reference neighbour list.
let energyOf (pot: ISitePotential) (c: Configuration) =
    Evaluate.energy pot c (Neighbours.reference pot.Cutoff c)

/// Centred-difference sweep: errors |(E(x+hv) - E(x-hv))/2h - d| over h = 1e-2 .. 1e-7; checks that the best error is
/// <= 1e-3 x the largest and <= 1e-6 (absolute), the scale-free criterion of STYLE 19.
let checkSweep (what: string) (exact: float) (energyAt: float -> float) =
    let errors =
        [ for p in 2..7 ->
              let h = Math.Pow(10.0, -float p)
              abs ((energyAt h - energyAt -h) / (2.0 * h) - exact) ]

    let best = List.min errors
    let worst = List.max errors

    Expect.isTrue
        (best <= 1e-6 && (best <= 1e-3 * worst || best <= 1e-10))
        (sprintf "%s: derivative %g, errors over h = 1e-2..1e-7: %A" what exact errors)

/// Where the tabulated Zhou W file lives: $QMMM_POTENTIALS, or data/potentials or shared/potentials in an ancestor of
/// the test binary (the repository, or the team's shared folder next to it).
let potentialFile (name: string) =
    let env =
        match Environment.GetEnvironmentVariable "QMMM_POTENTIALS" with
        | null -> ""
        | e -> e

    let ancestors =
        let rec up (d: DirectoryInfo | null) : string list =
            match d with
            | null -> []
            | d -> d.FullName :: up d.Parent

        up (DirectoryInfo AppContext.BaseDirectory)

    let candidates =
        [ if not (String.IsNullOrEmpty env) then
              Path.Combine(env, name)
          for d in ancestors do
              Path.Combine(d, "data", "potentials", name)
              Path.Combine(d, "shared", "potentials", name) ]

    match candidates |> List.tryFind File.Exists with
    | Some p -> p
    | None -> failwithf "%s not found; set QMMM_POTENTIALS to its folder (looked in %A)" name candidates

/// The LAMMPS setfl file of the Zhou W potential, parsed by our reader (the independent third-party truth).
let zhouSetfl =
    lazy
        (let path = potentialFile "W_zhou.eam.alloy"
         Setfl.parse Alloy "W_zhou.eam.alloy" (File.ReadAllText path))

/// The three W models of the physics table.
let models: (string * Lazy<ISitePotential>) list =
    [ "Marinica EAM4", lazy (Eam.potential Marinica.model)
      "Zhou analytic", lazy (Eam.potential Zhou.model)
      "Zhou setfl", lazy (Eam.potential (Setfl.model "eam-w-zhou-setfl" (zhouSetfl.Force()))) ]

/// The three geometries of the table: periodic cell, finite cluster, quasi-2D slab (periodic along z only).
let geometries: (string * Configuration) list =
    [ "periodic 2x2x2 cell", bcc 3.165 (2, 2, 2) [| true; true; true |]
      "cluster", cluster 3.165 4.6
      "slab periodic in z", bcc 3.165 (2, 2, 1) [| false; false; true |] ]

/// A rotation matrix (row-major) from three angles (rad): Rz(a) Ry(b) Rx(c).
let rotation (a: float) (b: float) (c: float) =
    let ca, sa, cb, sb, cc, sc = cos a, sin a, cos b, sin b, cos c, sin c

    [| ca * cb
       ca * sb * sc - sa * cc
       ca * sb * cc + sa * sc
       sa * cb
       sa * sb * sc + ca * cc
       sa * sb * cc - ca * sc
       -sb
       cb * sc
       cb * cc |]

/// Applies the linear map y -> R y to positions and cell (rotation when R is orthogonal).
let transformed (c: Configuration) (r: float[]) =
    deformed c (Array.init 9 (fun k -> r.[k] - (if k % 4 = 0 then 1.0 else 0.0)))

let private fastConfig = { config with maxTest = 6 }

/// Max |x|.
let maxAbs (a: float[]) =
    a |> Array.fold (fun m x -> max m (abs x)) 0.0

// ---------------------------------------------------------------------------------------------------------------
// The physics table, one list per model.

let private physics (name: string) (model: Lazy<ISitePotential>) =
    let pot () = model.Force()

    let perturbedGen (c: Configuration) =
        Gen.arrayOfLength (3 * c.Count) (floatIn -0.115 0.115)

    testList
        name
        [ for gname, c0 in geometries do
              testPropertyWithConfig
                  fastConfig
                  (sprintf "energy is invariant under translation, rotation and permutation (%s)" gname)
              <| Prop.forAll
                  (Arb.fromGen (
                      gen {
                          let! d = perturbedGen c0
                          let! t = Gen.arrayOfLength 3 (floatIn -3.0 3.0)
                          let! angles = Gen.arrayOfLength 3 (floatIn -3.1 3.1)
                          let! perm = Gen.shuffle [| 0 .. c0.Count - 1 |]
                          return d, t, angles, perm
                      }
                  ))
                  (fun (d, t, angles, perm) ->
                      let p = pot ()
                      let c = displaced c0 d
                      let e = energyOf p c
                      let shifted = displaced c (Array.init (3 * c.Count) (fun k -> t.[k % 3]))
                      let rotated = transformed c (rotation angles.[0] angles.[1] angles.[2])

                      let permuted =
                          { c with
                              Species = perm |> Array.map (fun i -> c.Species.[i])
                              Positions = Array.init (3 * c.Count) (fun k -> c.Positions.[3 * perm.[k / 3] + k % 3]) }

                      let acc = { absolute = 1e-10; relative = 1e-12 }
                      Expect.floatClose acc (energyOf p shifted) e "translation"
                      Expect.floatClose acc (energyOf p rotated) e "rotation"
                      Expect.floatClose acc (energyOf p permuted) e "permutation")

          for gname, c0 in geometries do
              testCase (sprintf "forces are minus the gradient of the energy by centred differences (%s)" gname)
              <| fun () ->
                  let p = pot ()
                  let c = displaced c0 (randomDisplacements 11 0.115 c0.Count)
                  let r = evalAll p c
                  let v = randomDisplacements 12 1.0 c.Count
                  let nv = sqrt (Array.sumBy (fun x -> x * x) v)
                  let v = v |> Array.map (fun x -> x / nv)
                  let fv = Array.fold2 (fun s f x -> s + f * x) 0.0 r.Forces v
                  checkSweep "random direction" -fv (fun h -> energyOf p (displaced c (v |> Array.map ((*) h))))

                  for k in 0..5 do
                      let e = Array.init (3 * c.Count) (fun q -> if q = k then 1.0 else 0.0)

                      checkSweep (sprintf "component %d" k) -r.Forces.[k] (fun h ->
                          energyOf p (displaced c (e |> Array.map ((*) h))))

          testCase "forces sum to zero on a periodic cell"
          <| fun () ->
              let p = pot ()
              let c0 = bcc 3.165 (2, 2, 2) [| true; true; true |]
              let r = evalAll p (displaced c0 (randomDisplacements 21 0.115 c0.Count))
              let scale = maxAbs r.Forces

              for a in 0..2 do
                  let s = Seq.sum (seq { for i in 0 .. c0.Count - 1 -> r.Forces.[3 * i + a] })
                  Expect.isLessThan (abs s) (1e-12 * scale * float c0.Count) (sprintf "Σ F component %d" a)

              Expect.isGreaterThan scale 0.1 "the perturbed cell has sizeable forces"

          for gname, periodic in [ "periodic", true; "slab", false ] do
              testCase (sprintf "virial equals -dE/dε by centred differences under strain and is symmetric (%s)" gname)
              <| fun () ->
                  let p = pot ()

                  let c0 =
                      if periodic then
                          bcc 3.165 (2, 2, 2) [| true; true; true |]
                      else
                          bcc 3.165 (2, 2, 1) [| false; false; true |]

                  let c = displaced c0 (randomDisplacements 31 0.115 c0.Count)
                  let w = (evalAll p c).Virial
                  let h = 1e-5

                  for a in 0..2 do
                      for b in 0..2 do
                          let strain s =
                              Array.init 9 (fun k -> if k = 3 * a + b then s else 0.0)

                          let dE =
                              (energyOf p (deformed c (strain h)) - energyOf p (deformed c (strain -h)))
                              / (2.0 * h)
                          // y_a -> y_a + ε_ab y_b: dE/dε_ab = Σ ∂V/∂g_a g_b = -W[3b + a]
                          Expect.floatClose
                              { absolute = 1e-6; relative = 1e-6 }
                              w.[3 * b + a]
                              -dE
                              (sprintf "W[%d,%d]" b a)

                          Expect.floatClose
                              { absolute = 1e-10; relative = 1e-10 }
                              w.[3 * a + b]
                              w.[3 * b + a]
                              "symmetric"

          testCase "site energies sum to the energy (float path vs gradient path)"
          <| fun () ->
              let p = pot ()

              for _, c0 in geometries do
                  let c = displaced c0 (randomDisplacements 41 0.115 c0.Count)
                  let nl = Neighbours.reference p.Cutoff c
                  let es = Evaluate.siteEnergies p c nl
                  let r = Evaluate.all p c nl
                  Expect.floatClose { absolute = 1e-10; relative = 1e-12 } (Array.sum es) r.Energy "Σ V_ℓ = E"
                  Expect.floatClose { absolute = 1e-10; relative = 1e-12 } (Evaluate.energy p c nl) r.Energy "energy"

                  for i in 0 .. c.Count - 1 do
                      Expect.floatClose { absolute = 1e-12; relative = 1e-12 } r.SiteEnergies.[i] es.[i] "site energy"

          testCase "perfect-crystal site energy equals the cell energy per atom"
          <| fun () ->
              let p = pot ()
              let big = evalAll p (bcc 3.165 (2, 2, 2) [| true; true; true |])
              let unit = evalAll p (bcc 3.165 (1, 1, 1) [| true; true; true |])

              for e in big.SiteEnergies do
                  Expect.floatClose { absolute = 1e-11; relative = 1e-12 } e (big.Energy / 16.0) "V_ℓ = E/N"

                  Expect.floatClose
                      { absolute = 1e-11; relative = 1e-12 }
                      e
                      (unit.Energy / 2.0)
                      "same as the 2-atom cell"

              Expect.isLessThan (maxAbs big.Forces) 1e-10 "no force in the perfect crystal"

          testCase "energy is continuous at the cutoff (dimer just inside and just outside)"
          <| fun () ->
              let p = pot ()

              let dimer (r: float) =
                  { Species = [| "W"; "W" |]
                    Positions = [| 0.0; 0.0; 0.0; r; 0.0; 0.0 |]
                    Cell = (cluster 3.165 0.1).Cell }

              let rc = p.Cutoff
              let inside = evalAll p (dimer (rc * (1.0 - 1e-12)))
              let outside = evalAll p (dimer (rc * (1.0 + 1e-12)))

              let isolated =
                  evalAll
                      p
                      { dimer 1.0 with
                          Species = [| "W" |]
                          Positions = [| 0.0; 0.0; 0.0 |] }

              Expect.floatClose { absolute = 1e-9; relative = 0.0 } inside.Energy outside.Energy "E continuous at r_c"

              Expect.floatClose
                  { absolute = 1e-12; relative = 0.0 }
                  outside.Energy
                  (2.0 * isolated.Energy)
                  "no interaction beyond r_c"

              Expect.isLessThan (maxAbs inside.Forces) 1e-8 "force vanishes at r_c"
              // an isolated atom: F(0) (= 0 for both analytic forms, 8.9e-16 in the file), no NaN in forces
              Expect.floatClose { absolute = 1e-12; relative = 0.0 } isolated.Energy 0.0 "isolated atom energy F(0) = 0"
              Expect.equal isolated.Forces [| 0.0; 0.0; 0.0 |] "isolated atom feels no force"

          testCase "a dimer beyond the density range but within the pair range has finite forces equal to -dE/dr"
          <| fun () ->
              // r = 5.0 Å: beyond Marinica's last density knot (4.9 Å), so ρ̄ = 0 and F'(0) is guarded
              let p = pot ()

              let dimer (r: float) =
                  { Species = [| "W"; "W" |]
                    Positions = [| 0.0; 0.0; 0.0; r; 0.0; 0.0 |]
                    Cell = (cluster 3.165 0.1).Cell }

              let r = evalAll p (dimer 5.0)
              Expect.isTrue (r.Forces |> Array.forall Double.IsFinite) "finite forces"
              checkSweep "dE/dr" -r.Forces.[3] (fun h -> energyOf p (dimer (5.0 + h)))

          testCase "partial energies over a partition sum to the total and partial forces are -∇(partial energy)"
          <| fun () ->
              let p = pot ()

              for gname, c0 in geometries do
                  let c = displaced c0 (randomDisplacements 51 0.115 c0.Count)
                  let nl = Neighbours.reference p.Cutoff c
                  let rng = Random(52)
                  let maskA = Array.init c.Count (fun _ -> rng.NextDouble() < 0.4)
                  let maskB = Array.map not maskA
                  let full = Evaluate.all p c nl
                  let ra = Evaluate.partial p c nl maskA
                  let rb = Evaluate.partial p c nl maskB
                  let acc = { absolute = 1e-10; relative = 1e-12 }
                  Expect.floatClose acc (ra.Energy + rb.Energy) full.Energy (sprintf "E_A + E_B = E (%s)" gname)

                  for k in 0 .. 3 * c.Count - 1 do
                      Expect.floatClose acc (ra.Forces.[k] + rb.Forces.[k]) full.Forces.[k] "F_A + F_B = F"

                  for k in 0..8 do
                      Expect.floatClose acc (ra.Virial.[k] + rb.Virial.[k]) full.Virial.[k] "W_A + W_B = W"

                  let partialEnergy (y: Configuration) =
                      let es = Evaluate.siteEnergies p y (Neighbours.reference p.Cutoff y)

                      Seq.sum (
                          seq {
                              for i in 0 .. y.Count - 1 do
                                  if maskA.[i] then
                                      es.[i]
                          }
                      )

                  let v = randomDisplacements 53 1.0 c.Count
                  let fv = Array.fold2 (fun s f x -> s + f * x) 0.0 ra.Forces v

                  checkSweep (sprintf "partial energy (%s)" gname) -fv (fun h ->
                      partialEnergy (displaced c (v |> Array.map ((*) h))))

          testCase "the radial functions agree on float, Dual and Jet, and Jet derivatives match centred differences"
          <| fun () ->
              let radials =
                  match name with
                  | "Marinica EAM4" -> Marinica.model
                  | "Zhou analytic" -> Zhou.model
                  | _ -> Setfl.model "setfl" (zhouSetfl.Force())
                  |> fun em ->
                      [ "pair", em.Pair.[0], [ 2.3; 2.74; 3.165; 4.2; 5.3 ]
                        "density", em.Density.[0], [ 2.3; 2.74; 3.165; 4.2; 4.8 ]
                        "embedding", em.Embedding.[0], [ 5.0; 20.0; 33.0; 38.0; 45.0 ] ]

              for fname, f, xs in radials do
                  for x in xs do
                      let v = f.F x
                      let d = f.D(Dual.Variable x)
                      let j = f.J(Jet.Variable x)
                      let acc = { absolute = 1e-12; relative = 1e-10 }
                      Expect.floatClose acc d.V v (sprintf "%s Dual value at %g" fname x)
                      Expect.floatClose acc j.C0 v (sprintf "%s Jet value at %g" fname x)
                      Expect.floatClose acc (j.Derivative 1) d.D (sprintf "%s Jet = Dual derivative at %g" fname x)
                      // each order against the centred difference of the previous one
                      let h = 1e-5 * max 1.0 x
                      // the setfl cubics are only C¹ across nodes: check order 1 only for them
                      let top = if name = "Zhou setfl" then 1 else 4

                      for k in 1..top do
                          let dk1 (y: float) = (f.J(Jet.Variable y)).Derivative(k - 1)
                          let fd = (dk1 (x + h) - dk1 (x - h)) / (2.0 * h)

                          Expect.floatClose
                              { absolute = 1e-6 * (1.0 + abs (j.Derivative k))
                                relative = 1e-5 }
                              (j.Derivative k)
                              fd
                              (sprintf "%s order %d at %g" fname k x) ]

[<Tests>]
let tests =
    testList "Qmmm.Numerics.Potentials.Eam" [ testList "physics" [ for name, m in models -> physics name m ] ]
