/// The model-generic physics table (STYLE 19) run over every EAM model (analytic Marinica, analytic Zhou, Zhou from the
/// LAMMPS setfl file), the evaluation layer (threads, errors, stress, partial energies) and the setfl reader.
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

// ---------------------------------------------------------------------------------------------------------------
// Evaluation layer.

let private evaluation =
    let pot = lazy (Eam.potential Marinica.model)

    testList
        "evaluation"
        [ testCase "results are bit-identical for 1 and 2 threads and between runs"
          <| fun () ->
              let p = pot.Force()
              let c0 = bcc 3.1434 (3, 3, 3) [| true; true; true |]
              let c = displaced c0 (randomDisplacements 61 0.1 c0.Count)
              let nl = Neighbours.reference p.Cutoff c
              let one = Evaluate.allWith { Evaluate.defaults with Threads = 1 } p c nl
              let two = Evaluate.allWith { Evaluate.defaults with Threads = 2 } p c nl
              let again = Evaluate.allWith { Evaluate.defaults with Threads = 2 } p c nl
              Expect.equal two.Forces one.Forces "forces, 1 vs 2 threads"
              Expect.equal two.Virial one.Virial "virial, 1 vs 2 threads"
              Expect.equal two.Energy one.Energy "energy, 1 vs 2 threads"
              Expect.equal again.Forces two.Forces "forces, run to run"

          testCase "the chunk count changes results only by rounding"
          <| fun () ->
              let p = pot.Force()
              let c0 = bcc 3.1434 (2, 2, 2) [| true; true; true |]
              let c = displaced c0 (randomDisplacements 62 0.1 c0.Count)
              let nl = Neighbours.reference p.Cutoff c
              let a = Evaluate.allWith { Evaluate.defaults with Chunks = 1 } p c nl
              let b = Evaluate.allWith { Evaluate.defaults with Chunks = 5 } p c nl

              for k in 0 .. a.Forces.Length - 1 do
                  Expect.floatClose { absolute = 1e-12; relative = 1e-12 } b.Forces.[k] a.Forces.[k] "forces"

          testCase "an element unknown to the model is named in the error"
          <| fun () ->
              let p = pot.Force()
              let c = bcc 3.1434 (1, 1, 1) [| true; true; true |]
              let c = { c with Species = [| "W"; "Mo" |] }
              let nl = Neighbours.reference p.Cutoff c

              try
                  Evaluate.all p c nl |> ignore
                  failtest "expected an error"
              with :? ArgumentException as e ->
                  Expect.stringContains e.Message "'Mo'" "message names the element"
                  Expect.stringContains e.Message "eam-w-marinica" "message names the model"

          testCase "a neighbour list with a cutoff below the model's is refused"
          <| fun () ->
              let p = pot.Force()
              let c = bcc 3.1434 (1, 1, 1) [| true; true; true |]
              let nl = Neighbours.reference 3.0 c

              try
                  Evaluate.all p c nl |> ignore
                  failtest "expected an error"
              with :? ArgumentException as e ->
                  Expect.stringContains e.Message "below the cutoff" "message states the condition"

          testCase "stress is -W/V on a periodic cell and refused for a slab"
          <| fun () ->
              let p = pot.Force()
              let c = bcc 3.1 (1, 1, 1) [| true; true; true |]
              let r = evalAll p c
              let s = Evaluate.stress c r
              let v = 3.1 ** 3.0

              for k in 0..8 do
                  Expect.floatClose { absolute = 1e-14; relative = 1e-12 } s.[k] (-r.Virial.[k] / v) "σ = -W/V"

              // compressed below a0: positive pressure p = -tr σ/3 ... and σ = -W/V with W > 0 means σ < 0 (ASE sign)
              Expect.isGreaterThan r.Virial.[0] 0.0 "compressed cell: W_xx > 0"
              let slab = bcc 3.1 (1, 1, 1) [| false; false; true |]
              let rs = evalAll p slab

              Expect.throwsT<ArgumentException> (fun () -> Evaluate.stress slab rs |> ignore) "slab has no stress"

          testCase "Results.Create checks the shapes"
          <| fun () ->
              Expect.throwsT<ArgumentException>
                  (fun () -> Results.Create(0.0, [| 0.0; 0.0 |], [| 0.0 |], Array.zeroCreate 9) |> ignore)
                  "forces of the wrong length"

              Expect.throwsT<ArgumentException>
                  (fun () -> Results.Create(0.0, [| 0.0 |], Array.zeroCreate 3, Array.zeroCreate 6) |> ignore)
                  "virial of the wrong length" ]

// ---------------------------------------------------------------------------------------------------------------
// Setfl reader: synthetic files (always available) with known functions.

/// A synthetic setfl text: grid (nrho, drho, nr, dr, cutoff), per element F = fF e x, density blocks fRho e j x
/// (one block for alloy, n for fs), and r·φ = fZ i j x for the lower triangle.
let setflText
    (kind: SetflKind)
    (elements: string[])
    (nrho: int, drho: float, nr: int, dr: float, cutoff: float)
    (fF: int -> float -> float)
    (fRho: int -> int -> float -> float)
    (fZ: int -> int -> float -> float)
    =
    let sb = Text.StringBuilder()
    let line (s: string) = sb.Append(s).Append('\n') |> ignore
    let n = elements.Length
    line "comment one"
    line "comment two"
    line "comment three"
    line (sprintf "%d %s" n (String.Join(" ", elements)))
    line (sprintf "%d %.17g %d %.17g %.17g" nrho drho nr dr cutoff)

    // five values per line
    let table (f: float -> float) (m: int) (d: float) =
        for start in 0..5 .. m - 1 do
            [ for k in start .. min (m - 1) (start + 4) -> sprintf "%.17g" (f (float k * d)) ]
            |> String.concat " "
            |> line

    for e in 0 .. n - 1 do
        line (sprintf "%d 100.0 3.0 bcc" (e + 1))
        table (fF e) nrho drho

        match kind with
        | Alloy -> table (fRho e 0) nr dr
        | FinnisSinclair ->
            for j in 0 .. n - 1 do
                table (fRho e j) nr dr

    for i in 0 .. n - 1 do
        for j in 0..i do
            table (fZ i j) nr dr

    sb.ToString()

let private simpleText () =
    setflText Alloy [| "W" |] (20, 0.5, 20, 0.25, 4.5) (fun _ x -> -x) (fun _ _ x -> 5.0 - x) (fun _ _ x -> 5.0 - x)

let private expectParseError (text: string) (fragments: string list) =
    try
        Setfl.parse Alloy "W.eam.alloy" text |> ignore
        failtest "expected a QmmmException"
    with :? QmmmException as e ->
        for f in fragments do
            Expect.stringContains e.Message f "message content"

/// Replaces line `k` (1-based) of a text.
let private withLine (k: int) (newLine: string) (text: string) =
    let lines = text.Split('\n')
    lines.[k - 1] <- newLine
    String.Join("\n", lines)

let private setfl =
    testList
        "setfl reader"
        [ testCase "a malformed header field is reported with file, line and field"
          <| fun () ->
              expectParseError
                  (simpleText () |> withLine 5 "20 0.5 abc 0.25 4.5")
                  [ "W.eam.alloy:5: field 'Nr': expected an integer, got 'abc'" ]

              expectParseError
                  (simpleText () |> withLine 5 "20 0.5 20 0.25")
                  [ "W.eam.alloy:5: field 'cutoff'"; "missing" ]

              expectParseError
                  (simpleText () |> withLine 4 "2 W")
                  [ "W.eam.alloy:4: field 'elements'"; "expected 2 element names, got 1" ]

              expectParseError
                  (simpleText () |> withLine 4 "one W")
                  [ "W.eam.alloy:4: field 'nelements': expected an integer, got 'one'" ]

              expectParseError (simpleText () |> withLine 6 "74") [ "W.eam.alloy:6: field 'mass[W]'"; "missing" ]

          testCase "a bad number in a table is reported with file, line and field"
          <| fun () ->
              // line 7 holds F values 0..4
              expectParseError
                  (simpleText () |> withLine 7 "0 -0.5 1.0x -1.5 -2")
                  [ "W.eam.alloy:7: field 'F[W][2]': expected a finite number, got '1.0x'" ]

              expectParseError
                  (simpleText () |> withLine 12 "5 4.75 NaN 4.25 4")
                  [ "W.eam.alloy:12: field 'rho[W][7]'"; "'NaN'" ]

          testCase "a truncated table names the line where the data ran out"
          <| fun () ->
              let lines = (simpleText ()).Split('\n')
              // 5 header + 1 element line + 4 F lines + 4 rho lines + 4 r*phi lines; keep 16 lines
              let cut = String.Join("\n", lines.[0..15])

              expectParseError
                  cut
                  [ "W.eam.alloy:16: field 'r*phi[W,W]'"
                    "expected 20 values, the file ended after 10 of them" ]

              expectParseError (String.Join("\n", lines.[0..3])) [ "W.eam.alloy:5: field 'Nrho'"; "ended" ]

          testCase "a table running past its line end and trailing data are refused"
          <| fun () ->
              expectParseError
                  (simpleText () |> withLine 10 "-15 -15.5 -16 -16.5 -17 -99")
                  [ "W.eam.alloy:10: field 'F[W]'"; "1 more" ]

              expectParseError (simpleText () + "1.0\n") [ "W.eam.alloy:19: field 'end'"; "unexpected data" ]

          testCase "the header is read: elements, masses, grid, cutoff"
          <| fun () ->
              let d = Setfl.parse Alloy "x" (simpleText ())
              Expect.equal d.Elements [| "W" |] "elements"
              Expect.equal d.AtomicNumbers [| 1 |] "Z"
              Expect.equal (d.Nrho, d.Drho, d.Nr, d.Dr, d.Cutoff) (20, 0.5, 20, 0.25, 4.5) "grid"
              Expect.equal d.Embedding.[0].[3] -1.5 "F at ρ = 3 drho"
              Expect.equal d.RPhi.[0].[4] 4.0 "r φ at r = 4 dr"

          testCase "the interpolant reproduces a cubic exactly away from the first and last two nodes"
          <| fun () ->
              // LAMMPS's slopes: 5-point stencil inside (exact to degree 4), Hermite cubics (exact to degree 3)
              let cubicF (x: float) =
                  0.3 - 0.7 * x + 0.2 * x * x - 0.05 * x * x * x

              let text =
                  setflText
                      Alloy
                      [| "W" |]
                      (40, 0.1, 40, 0.1, 3.8)
                      (fun _ x -> cubicF x)
                      (fun _ _ x -> cubicF x)
                      (fun _ _ x -> cubicF x)

              let m = Setfl.model "cubic" (Setfl.parse Alloy "cubic" text)

              for x in [ 0.35; 0.5; 1.234; 2.0; 3.3 ] do
                  let d = m.Density.[0].D(Dual.Variable x)
                  let dF = 0.2 * 2.0 * x - 0.7 - 0.15 * x * x
                  Expect.floatClose { absolute = 1e-12; relative = 1e-12 } d.V (cubicF x) "density value"
                  Expect.floatClose { absolute = 1e-11; relative = 1e-11 } d.D dF "density slope"
                  let e = m.Embedding.[0].D(Dual.Variable x)
                  Expect.floatClose { absolute = 1e-12; relative = 1e-12 } e.V (cubicF x) "embedding value"
                  let p = m.Pair.[0].D(Dual.Variable x)
                  // the table holds r φ, so φ = cubic/r
                  Expect.floatClose { absolute = 1e-12; relative = 1e-12 } p.V (cubicF x / x) "pair value"

                  Expect.floatClose
                      { absolute = 1e-11; relative = 1e-11 }
                      p.D
                      ((dF * x - cubicF x) / (x * x))
                      "pair slope"

          testCase "the interpolant passes through the nodes and uses LAMMPS's end-point slopes"
          <| fun () ->
              let f (x: float) = Math.Exp(-x) * (1.0 + x)

              let text =
                  setflText Alloy [| "W" |] (30, 0.2, 30, 0.2, 5.0) (fun _ x -> f x) (fun _ _ x -> f x) (fun _ _ x ->
                      f x)

              let m = Setfl.model "exp" (Setfl.parse Alloy "exp" text)
              let g = m.Density.[0]

              for k in 0..28 do
                  Expect.floatClose
                      { absolute = 1e-15; relative = 1e-14 }
                      (g.F(0.2 * float k))
                      (f (0.2 * float k))
                      "node value"

              // slope at node 0: one-sided difference (f1 - f0)/dr; node 5: the 5-point stencil
              let s0 = (g.D(Dual.Variable 0.0)).D
              Expect.floatClose { absolute = 1e-14; relative = 1e-12 } s0 ((f 0.2 - f 0.0) / 0.2) "first-node slope"
              let x5 = 1.0
              let s5 = (g.D(Dual.Variable x5)).D
              let fd = ((f 0.6 - f 1.4) + 8.0 * (f 1.2 - f 0.8)) / 12.0 / 0.2
              Expect.floatClose { absolute = 1e-14; relative = 1e-12 } s5 fd "interior slope"

          testCase "the embedding energy continues linearly above the table"
          <| fun () ->
              let text = simpleText () |> withLine 10 "-15 -15.5 -16 -16.5 -17.5"
              let m = Setfl.model "lin" (Setfl.parse Alloy "lin" text)
              let f = m.Embedding.[0]
              let rhoMax = 19.0 * 0.5
              let top = f.D(Dual.Variable rhoMax)
              let above = f.D(Dual.Variable(rhoMax + 3.0))

              Expect.floatClose
                  { absolute = 1e-13; relative = 1e-13 }
                  above.V
                  (top.V + 3.0 * top.D)
                  "linear continuation"

              Expect.floatClose { absolute = 1e-13; relative = 1e-13 } above.D top.D "constant slope"

          testCase "eam/fs density blocks map to the host and neighbour species as in LAMMPS"
          <| fun () ->
              // linear tables (interpolated exactly): block j of element i = (10 i + j + 1) (4 - r)
              let text =
                  setflText
                      FinnisSinclair
                      [| "A"; "B" |]
                      (20, 1.0, 20, 0.25, 4.0)
                      (fun e x -> float (e + 1) * x)
                      (fun i j x -> float (10 * i + j + 1) * (4.0 - x))
                      (fun _ _ _ -> 0.0)

              let data = Setfl.parse FinnisSinclair "ab.eam.fs" text
              let m = Setfl.model "ab" data
              let p = Eam.potential m

              let dimer =
                  { Species = [| "A"; "B" |]
                    Positions = [| 0.0; 0.0; 0.0; 1.5; 0.0; 0.0 |]
                    Cell = (cluster 3.0 0.1).Cell }

              let es = Evaluate.siteEnergies p dimer (Neighbours.reference 4.0 dimer)
              // host A (F = ρ) sees block A of element B: (10·1 + 0 + 1)(4 - 1.5); host B (F = 2ρ) block B of A: (0 + 1 + 1)(2.5)
              Expect.floatClose { absolute = 1e-12; relative = 1e-12 } es.[0] (11.0 * 2.5) "A hosts B"
              Expect.floatClose { absolute = 1e-12; relative = 1e-12 } es.[1] (2.0 * 2.0 * 2.5) "B hosts A"

          testCase "the W Zhou file is read completely"
          <| fun () ->
              let d = zhouSetfl.Force()
              Expect.equal d.Elements [| "W" |] "element"
              Expect.equal (d.Nrho, d.Nr) (10001, 10001) "grid sizes"
              Expect.floatClose { absolute = 1e-12; relative = 0.0 } d.Cutoff 7.8925 "cutoff"
              Expect.floatClose { absolute = 1e-12; relative = 0.0 } d.Masses.[0] 183.84 "mass"
              Expect.equal d.Embedding.[0].[1] -0.01797161363460762426 "second F value as printed" ]

// ---------------------------------------------------------------------------------------------------------------
// The fast EAM evaluation (each pair once, two passes) against the generic per-site path (the oracle).

/// Settings forcing the generic path.
let private genericSettings =
    { Evaluate.defaults with
        Generic = true }

/// Cubic taper (1 - r/rc)³ for r < rc, 0 beyond: smooth synthetic radial functions that vanish at the cutoff.
let private taper (rc: float) (r: float) =
    if r < rc then (1.0 - r / rc) ** 3.0 else 0.0

/// A synthetic two-species setfl model ("A", "B"; cutoff 5.5 Å) with species-dependent smooth functions: densities
/// differ per (element, block) so that ρ_ab ≠ ρ_ba for eam/fs, embeddings -√ρ-like, pairs of Morse-like shape.
let private twoSpecies (kind: SetflKind) =
    let rc = 5.5

    let text =
        setflText
            kind
            [| "A"; "B" |]
            (2000, 0.05, 2000, 0.003, rc)
            (fun e x -> -(1.0 + 0.2 * float e) * sqrt x + 0.01 * x * x)
            (fun i j x -> (1.0 + 0.3 * float i + 0.7 * float j) * exp (-(x - 2.7)) * taper rc x)
            (fun i j x ->
                let a = 0.8 + 0.1 * float (i + j)
                let b = 1.2 + 0.05 * float (i * j)
                x * (a * exp (-2.0 * (x - 2.6)) - b * exp (-(x - 2.6))) * taper rc x)

    Setfl.model (sprintf "AB-%A" kind) (Setfl.parse kind "AB" text)

/// The same model with every radial function behind a plain closure, so the fast evaluation cannot see the tables
/// and uses its closure kernel.
let private asClosures (m: EamModel) =
    let wrap (f: Radial) =
        { F = (fun r -> f.F r)
          D = f.D
          J = f.J }

    { m with
        Pair = Array.map wrap m.Pair
        Density = Array.map wrap m.Density }

/// A configuration with species drawn at random from `elements` (fixed seed).
let private withSpecies (seed: int) (elements: string[]) (c: Configuration) =
    let rng = Random(seed)

    { c with
        Species = Array.init c.Count (fun _ -> elements.[rng.Next elements.Length]) }

/// The geometries of the comparison, perturbed by up to 0.115 Å: periodic cells (a 2-atom cell whose atoms see many
/// periodic images of themselves, and a 54-atom cell), a cluster, and a slab periodic along z only.
let private fastGeometries (a: float) =
    [ "2-atom periodic cell", displaced (bcc a (1, 1, 1) [| true; true; true |]) (randomDisplacements 71 0.115 2)
      "54-atom periodic cell", displaced (bcc a (3, 3, 3) [| true; true; true |]) (randomDisplacements 72 0.115 54)
      "cluster",
      (let c = cluster a 4.6
       displaced c (randomDisplacements 73 0.115 c.Count))
      "slab periodic in z", displaced (bcc a (2, 2, 1) [| false; false; true |]) (randomDisplacements 74 0.115 8) ]

/// Checks that the fast evaluation (default settings) of every quantity equals the generic one to rounding.
let private expectFastEqualsGeneric (what: string) (p: ISitePotential) (c: Configuration) =
    let nl = Neighbours.reference p.Cutoff c
    let fast = Evaluate.all p c nl
    let gen = Evaluate.allWith genericSettings p c nl
    let energy = { absolute = 1e-10; relative = 1e-12 }
    let small = { absolute = 1e-10; relative = 1e-10 }
    Expect.floatClose energy fast.Energy gen.Energy (sprintf "%s: energy" what)
    Expect.isGreaterThan (maxAbs gen.Forces) 1e-3 (sprintf "%s: the configuration has sizeable forces" what)

    for i in 0 .. c.Count - 1 do
        Expect.floatClose small fast.SiteEnergies.[i] gen.SiteEnergies.[i] (sprintf "%s: site energy %d" what i)

    for k in 0 .. 3 * c.Count - 1 do
        Expect.floatClose small fast.Forces.[k] gen.Forces.[k] (sprintf "%s: force component %d" what k)

    for k in 0..8 do
        Expect.floatClose
            { absolute = 1e-9; relative = 1e-10 }
            fast.Virial.[k]
            gen.Virial.[k]
            (sprintf "%s: W[%d]" what k)

    // the energy-only pass
    let es = Evaluate.siteEnergies p c nl
    let esGen = Evaluate.siteEnergiesWith genericSettings p c nl

    for i in 0 .. c.Count - 1 do
        Expect.floatClose small es.[i] esGen.[i] (sprintf "%s: energy-only site energy %d" what i)

    Expect.floatClose energy (Evaluate.energy p c nl) gen.Energy (sprintf "%s: energy-only total" what)

    // a partial energy (random selection of about half the sites)
    let rng = Random(79)
    let mask = Array.init c.Count (fun _ -> rng.NextDouble() < 0.5)
    let part = Evaluate.partial p c nl mask
    let partGen = Evaluate.partialWith genericSettings p c nl mask
    Expect.floatClose energy part.Energy partGen.Energy (sprintf "%s: partial energy" what)

    for i in 0 .. c.Count - 1 do
        Expect.floatClose small part.SiteEnergies.[i] partGen.SiteEnergies.[i] (sprintf "%s: partial site %d" what i)

    for k in 0 .. 3 * c.Count - 1 do
        Expect.floatClose small part.Forces.[k] partGen.Forces.[k] (sprintf "%s: partial force %d" what k)

    for k in 0..8 do
        Expect.floatClose
            { absolute = 1e-9; relative = 1e-10 }
            part.Virial.[k]
            partGen.Virial.[k]
            (sprintf "%s: partial W[%d]" what k)

let private fastPath =
    let alloy = lazy (twoSpecies Alloy)
    let fs = lazy (twoSpecies FinnisSinclair)

    testList
        "fast evaluation"
        [ for name, m in models do
              testCase (sprintf "equals the generic path on perturbed cells, a cluster and a slab (%s)" name)
              <| fun () ->
                  for gname, c in fastGeometries 3.165 do
                      expectFastEqualsGeneric (sprintf "%s, %s" name gname) (m.Force()) c

          for name, m in [ "eam/alloy", alloy; "eam/fs", fs ] do
              testCase (sprintf "equals the generic path for a two-species %s model, tables and closures" name)
              <| fun () ->
                  let tables = Eam.potential (m.Force())
                  let closures = Eam.potential (asClosures (m.Force()))

                  for gname, c in fastGeometries 3.165 do
                      let c = withSpecies 75 [| "A"; "B" |] c
                      expectFastEqualsGeneric (sprintf "%s tables, %s" name gname) tables c
                      expectFastEqualsGeneric (sprintf "%s closures, %s" name gname) closures c

          testCase "the two-species models distinguish ρ_ab from ρ_ba, so the asymmetric branches are exercised"
          <| fun () ->
              // host A, neighbour B vs host B, neighbour A at the same distance
              for m in [ fs.Force(); alloy.Force() ] do
                  let rab = m.Density.[0 * 2 + 1].F 3.0
                  let rba = m.Density.[1 * 2 + 0].F 3.0

                  Expect.isGreaterThan
                      (abs (rab - rba))
                      (0.1 * abs rab)
                      (sprintf "%s: ρ_AB(3) = %g, ρ_BA(3) = %g" m.Name rab rba)

          testCase "setfl models take the table kernel; analytic models and wrapped closures do not"
          <| fun () ->
              Expect.isSome (EamFast.setflTables (Setfl.model "z" (zhouSetfl.Force()))) "W_zhou setfl"
              Expect.isSome (EamFast.setflTables (alloy.Force())) "two-species alloy"
              Expect.isSome (EamFast.setflTables (fs.Force())) "two-species fs"
              Expect.isNone (EamFast.setflTables Marinica.model) "Marinica"
              Expect.isNone (EamFast.setflTables Zhou.model) "Zhou analytic"
              Expect.isNone (EamFast.setflTables (asClosures (alloy.Force()))) "wrapped closures"

          testCase "results are bit-identical for 1, 2 and 3 threads"
          <| fun () ->
              let c0 = bcc 3.165 (3, 3, 3) [| true; true; true |]
              let c = displaced c0 (randomDisplacements 76 0.1 c0.Count)

              for name, p in
                  [ "setfl", Eam.potential (Setfl.model "z" (zhouSetfl.Force()))
                    "Marinica", Eam.potential Marinica.model
                    "fs closures", Eam.potential (asClosures (fs.Force())) ] do
                  let c =
                      if name = "fs closures" then
                          withSpecies 77 [| "A"; "B" |] c
                      else
                          c

                  let nl = Neighbours.reference p.Cutoff c

                  let run threads =
                      let s =
                          { Evaluate.defaults with
                              Threads = threads }

                      let mask = Array.init c.Count (fun i -> i % 3 = 0)
                      Evaluate.allWith s p c nl, Evaluate.siteEnergiesWith s p c nl, Evaluate.partialWith s p c nl mask

                  let one, e1, p1 = run 1

                  for threads in [ 2; 3 ] do
                      let r, e, part = run threads
                      Expect.equal part.Forces p1.Forces (sprintf "%s: partial forces, %d threads" name threads)
                      Expect.equal part.Energy p1.Energy (sprintf "%s: partial energy, %d threads" name threads)
                      Expect.equal r.Energy one.Energy (sprintf "%s: energy, %d threads" name threads)

                      Expect.equal
                          r.SiteEnergies
                          one.SiteEnergies
                          (sprintf "%s: site energies, %d threads" name threads)

                      Expect.equal r.Forces one.Forces (sprintf "%s: forces, %d threads" name threads)
                      Expect.equal r.Virial one.Virial (sprintf "%s: virial, %d threads" name threads)
                      Expect.equal e e1 (sprintf "%s: energy-only site energies, %d threads" name threads)

          testCase "the chunk count changes the fast results only by rounding"
          <| fun () ->
              let p = Eam.potential (Setfl.model "z" (zhouSetfl.Force()))
              let c0 = bcc 3.165 (3, 3, 3) [| true; true; true |]
              let c = displaced c0 (randomDisplacements 78 0.1 c0.Count)
              let nl = Neighbours.reference p.Cutoff c
              let a = Evaluate.allWith { Evaluate.defaults with Chunks = 1 } p c nl

              for chunks in [ 3; 8; 54; 1000 ] do
                  let b =
                      Evaluate.allWith
                          { Evaluate.defaults with
                              Chunks = chunks }
                          p
                          c
                          nl

                  Expect.floatClose { absolute = 1e-10; relative = 1e-12 } b.Energy a.Energy "energy"

                  for k in 0 .. a.Forces.Length - 1 do
                      Expect.floatClose { absolute = 1e-12; relative = 1e-12 } b.Forces.[k] a.Forces.[k] "forces"

          testCase "reused and concurrent evaluations of one potential object give the same results"
          <| fun () ->
              let p = Eam.potential Marinica.model
              let c0 = bcc 3.1434 (3, 3, 3) [| true; true; true |]

              let configs =
                  [| for seed in 80..85 ->
                         let c =
                             if seed % 2 = 0 then
                                 c0
                             else
                                 bcc 3.1434 (2, 2, 2) [| true; true; true |]

                         displaced c (randomDisplacements seed 0.1 c.Count) |]

              let lists = configs |> Array.map (fun c -> Neighbours.reference p.Cutoff c)
              // sequential, alternating sizes (the cached scratch is replaced), then the same again
              let first = Array.map2 (Evaluate.all p) configs lists
              let again = Array.map2 (Evaluate.all p) configs lists
              // concurrently on the same object, several rounds
              let concurrent =
                  Array.Parallel.init 24 (fun k -> Evaluate.all p configs.[k % 6] lists.[k % 6])

              for k in 0..5 do
                  Expect.equal again.[k].Forces first.[k].Forces (sprintf "config %d: forces, second run" k)
                  Expect.equal again.[k].SiteEnergies first.[k].SiteEnergies (sprintf "config %d: site energies" k)

              for k in 0..23 do
                  Expect.equal concurrent.[k].Forces first.[k % 6].Forces (sprintf "concurrent run %d: forces" k)
                  Expect.equal concurrent.[k].Virial first.[k % 6].Virial (sprintf "concurrent run %d: virial" k) ]

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Potentials.Eam"
        [ testList "physics" [ for name, m in models -> physics name m ]
          evaluation
          fastPath
          setfl ]
