/// Exact lattice derivatives of every ACE basis function against jets through the whole basis, the foundation's pooled
/// engine, centred differences of gradients, the lattice point group, and Cauchy–Born finite differences.
module Qmmm.Numerics.Tests.AceDerivativesTests

open System
open System.Collections.Generic
open Expecto
open Qmmm.Numerics
open Qmmm.Numerics.Tests.AceModelTests

let private lattice = Lattice.bcc "W" 3.1652
let private stencil = Lattice.stencil lattice wRadial.RCut

let private basis =
    lazy
        (AceBasis.create
            { AceBasis.spec 3 8.0 with
                Radial = wRadial })

let private tensors =
    lazy (Array.init 3 (fun j -> AceDerivatives.siteTensors (basis.Force()) stencil (j + 1) 3.2))

/// The derivative entries of every B for one tuple by Taylor jets through the whole basis evaluation: the coordinates
/// of the tuple's distinct sites are the variables, every other neighbour a constant. Returns [B][component].
let private oracle (b: AceBasis) (tuple: int[]) =
    let j = tuple.Length
    let sites = Array.distinct tuple
    let nv = 3 * sites.Length

    let rs =
        stencil
        |> Array.mapi (fun i v ->
            let p = Array.IndexOf(sites, i)
            let c = [| v.X; v.Y; v.Z |]

            Array.init 3 (fun a ->
                if p >= 0 then
                    Taylor.Variable(nv, j, 3 * p + a, c.[a])
                else
                    Taylor.Constant(nv, j, c.[a])))
        |> Array.concat

    let bs = AceBasis.evaluate b rs stencil.Length
    let nc = pown 3 j

    bs
    |> Array.map (fun t ->
        let d = t.DerivativeTensor j

        Array.init nc (fun c ->
            let mutable f = 0

            for p in 0 .. j - 1 do
                let a = (c / pown 3 (j - 1 - p)) % 3
                f <- f * nv + 3 * Array.IndexOf(sites, tuple.[p]) + a

            d.[f]))

/// A linear ACE model Σ c_B B as a pooled potential for the foundation engine: 2 #A real channels (Re A, Im A) and
/// the outer map's derivatives written down from the product terms: ∂/∂(Re A_k) = ∂/∂A_k, ∂/∂(Im A_k) = i ∂/∂A_k.
let pooledOf (b: AceBasis) (c: AceContraction) : IPooledPotential =
    { new IPooledPotential with
        member _.Name = "ace-pooled"
        member _.Channels = 2 * b.ACount
        member _.Cutoff = b.Radial.Spec.RCut

        member _.Inner(g) =
            let struct (re, im) = AceBasis.atomicBase b g 1
            Array.init (2 * b.ACount) (fun q -> if q % 2 = 0 then re.[q / 2] else im.[q / 2])

        member _.Outer(s, order) =
            let are = Array.init b.ACount (fun k -> s.[2 * k])
            let aim = Array.init b.ACount (fun k -> s.[2 * k + 1])

            [| for m in 0..order ->
                   if m = 0 then
                       { Order = 0
                         Keys = [||]
                         Values = [| AceModel.energyOfAtomicBase c are aim |] }
                   else
                       let keys = ResizeArray<int[]>()
                       let values = ResizeArray<float>()
                       let at = Dictionary<string, int>()

                       for nu in m .. c.Indices.Length do
                           let idx = c.Indices.[nu - 1]
                           let w = c.Weights.[nu - 1]

                           for t in 0 .. w.Length - 1 do
                               for f in AceDerivatives.injections nu m do
                                   // w Π_{u ∉ f} A
                                   let mutable pr = w.[t]
                                   let mutable pi = 0.0

                                   for u in 0 .. nu - 1 do
                                       if not (Array.contains u f) then
                                           let k = idx.[t * nu + u]
                                           let npr = pr * are.[k] - pi * aim.[k]
                                           pi <- pr * aim.[k] + pi * are.[k]
                                           pr <- npr

                                   for bits in 0 .. (1 <<< m) - 1 do
                                       let key = Array.init m (fun p -> 2 * idx.[t * nu + f.[p]] + ((bits >>> p) &&& 1))
                                       // Re(i^q z), q = number of imaginary channels
                                       let v =
                                           match (Array.sumBy (fun x -> x % 2) key) % 4 with
                                           | 0 -> pr
                                           | 1 -> -pi
                                           | 2 -> -pr
                                           | _ -> pi

                                       let sk = String.Join(",", key)

                                       match at.TryGetValue sk with
                                       | true, p -> values.[p] <- values.[p] + v
                                       | _ ->
                                           at.[sk] <- values.Count
                                           keys.Add key
                                           values.Add v

                       { Order = m
                         Keys = Array.concat keys
                         Values = values.ToArray() } |] }

/// Σ_B c_B δʲB as one tensor.
let private combine (ts: SiteTensor[]) (c: float[]) =
    let v = Array.zeroCreate ts.[0].Values.Length

    for k in 0 .. ts.Length - 1 do
        for e in 0 .. v.Length - 1 do
            v.[e] <- v.[e] + c.[k] * ts.[k].Values.[e]

    { ts.[0] with Values = v }

let private maxAbs (a: float[]) =
    a |> Array.fold (fun m x -> max m (abs x)) 0.0

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Ace.Derivatives"
        [ testCase "set partitions and injections have the Bell and falling-factorial counts"
          <| fun () ->
              Expect.equal ([ 1..4 ] |> List.map (fun j -> (AceDerivatives.partitions j).Length)) [ 1; 2; 5; 15 ] "Bell"
              Expect.equal (AceDerivatives.injections 4 2).Length 12 "4·3"
              Expect.equal (AceDerivatives.injections 3 3).Length 6 "3!"

          testCase "δʲB(0), j = 1..3, equal Taylor jets through the whole basis for every B on sample tuples"
          <| fun () ->
              let b = basis.Force()

              for j in 1..3 do
                  let t = tensors.Force().[j - 1].[0]
                  let count = SiteTensor.count t

                  for ti in [ 0; 1; count / 3; count / 2; count - 1 ] do
                      let tuple = SiteTensor.tupleAt t ti
                      let expected = oracle b tuple
                      let nc = pown 3 j

                      for k in 0 .. b.Size - 1 do
                          let got = Array.sub tensors.Value.[j - 1].[k].Values (ti * nc) nc
                          let scale = 1.0 + maxAbs expected.[k]

                          for c in 0 .. nc - 1 do
                              if abs (got.[c] - expected.[k].[c]) > 1e-10 * scale then
                                  failtestf
                                      "j=%d tuple %A B_%d component %d: %g vs %g"
                                      j
                                      tuple
                                      k
                                      c
                                      got.[c]
                                      expected.[k].[c]

          testCase "Σ c_B δʲB(0) equals the foundation's pooled engine on the same linear model (j = 1..3)"
          <| fun () ->
              let b = basis.Force()
              let rng = Random 41
              let c = Array.init b.Size (fun _ -> 2.0 * rng.NextDouble() - 1.0)
              let pooled = pooledOf b (AceModel.contract b c)

              for j in 1..3 do
                  let mine = combine tensors.Value.[j - 1] c
                  let theirs = Derivatives.siteTensors pooled stencil j 3.2
                  Expect.equal mine.Tuples theirs.Tuples "same canonical tuples"
                  let err = maxAbs (Array.map2 (-) mine.Values theirs.Values)
                  Expect.isLessThan err (1e-10 * (1.0 + maxAbs theirs.Values)) (sprintf "j = %d" j)
                  // the model route (coefficients folded into the coupling) gives the same tensor
                  let direct = AceDerivatives.modelTensor (AcePotential("m", "W", b, c)) stencil j 3.2
                  let err2 = maxAbs (Array.map2 (-) direct.Values theirs.Values)
                  Expect.isLessThan err2 (1e-10 * (1.0 + maxAbs theirs.Values)) (sprintf "modelTensor, j = %d" j)

          testCase "Σ c_B δʲB(0) equals centred differences of the model's analytic gradient (j = 2, 3)"
          <| fun () ->
              let b = basis.Force()
              let rng = Random 42
              let c = Array.init b.Size (fun _ -> 2.0 * rng.NextDouble() - 1.0)
              let p = AcePotential("ace", "W", b, c)

              for j in 2..3 do
                  let mine = combine tensors.Value.[j - 1] c

                  let fd =
                      ReferenceDerivatives.byGradientDifferences
                          p
                          0
                          (Array.zeroCreate stencil.Length)
                          stencil
                          stencil
                          j
                          3.2
                          (ReferenceDerivatives.defaultStep j)

                  let err = maxAbs (Array.map2 (-) mine.Values fd.Values)
                  let tol = (if j = 2 then 1e-7 else 1e-5) * (1.0 + maxAbs mine.Values)
                  Expect.isLessThan err tol (sprintf "j = %d" j)

          testCase
              "δ²B(0) is symmetric in its index pairs and invariant under the cubic point group (a 90° rotation about z)"
          <| fun () ->
              let b = basis.Force()
              let t2 = tensors.Value.[1]
              let t = t2.[0]
              // rotation (x, y, z) -> (-y, x, z) maps the stencil to itself
              let image =
                  t.Stencil
                  |> Array.map (fun v ->
                      let w = Vec3(-v.Y, v.X, v.Z)
                      t.Stencil |> Array.findIndex (fun u -> Vec3.norm (u - w) < 1e-9))

              let rot = [| 0.0; -1.0; 0.0; 1.0; 0.0; 0.0; 0.0; 0.0; 1.0 |]

              for k in 0 .. b.Size - 1 do
                  let tk = t2.[k]

                  for ti in 0 .. SiteTensor.count t - 1 do
                      let tuple = SiteTensor.tupleAt t ti
                      let blk = SiteTensor.block tk tuple
                      // symmetry in index pairs: block of the reversed tuple is the transpose
                      let rev = SiteTensor.block tk [| tuple.[1]; tuple.[0] |]

                      for a in 0..2 do
                          for c in 0..2 do
                              Expect.floatClose Accuracy.veryHigh rev.[3 * c + a] blk.[3 * a + c] "pair symmetry"

                      // δ²B[Qρ, Qρ'] = Q δ²B[ρ, ρ'] Qᵀ
                      let img = SiteTensor.block tk [| image.[tuple.[0]]; image.[tuple.[1]] |]

                      for a in 0..2 do
                          for c in 0..2 do
                              let mutable s = 0.0

                              for p in 0..2 do
                                  for q in 0..2 do
                                      s <- s + rot.[3 * a + p] * blk.[3 * p + q] * rot.[3 * c + q]

                              if abs (img.[3 * a + c] - s) > 1e-11 * (1.0 + abs s) then
                                  failtestf "B_%d tuple %A (%d,%d): %g vs %g" k tuple a c img.[3 * a + c] s

          testCase "Cauchy–Born derivatives of every B equal finite differences of W_cb(F) = B(F ρ) (j = 1, 2)"
          <| fun () ->
              let b =
                  AceBasis.create
                      { AceBasis.spec 2 6.0 with
                          Radial = wRadial }

              let wcb (f: float[]) =
                  let rs =
                      stencil
                      |> Array.collect (fun v ->
                          [| f.[0] * v.X + f.[1] * v.Y + f.[2] * v.Z
                             f.[3] * v.X + f.[4] * v.Y + f.[5] * v.Z
                             f.[6] * v.X + f.[7] * v.Y + f.[8] * v.Z |])

                  AceBasis.evaluate b rs stencil.Length

              let id = [| 1.0; 0.0; 0.0; 0.0; 1.0; 0.0; 0.0; 0.0; 1.0 |]

              let shifted (pairs: (int * float) list) =
                  let f = Array.copy id

                  for (q, h) in pairs do
                      f.[q] <- f.[q] + h

                  wcb f

              let t1 = AceDerivatives.siteTensors b stencil 1 wRadial.RCut
              let c1 = AceDerivatives.cauchyBorn t1
              let h = 1e-5

              for q in 0..8 do
                  let p = shifted [ q, h ]
                  let m = shifted [ q, -h ]

                  for k in 0 .. b.Size - 1 do
                      let fd = (p.[k] - m.[k]) / (2.0 * h)
                      Expect.isLessThan (abs (fd - c1.[k].[q])) (1e-7 * (1.0 + abs fd)) (sprintf "∂W/∂F_%d of B_%d" q k)

              let t2 = AceDerivatives.siteTensors b stencil 2 wRadial.RCut
              let c2 = AceDerivatives.cauchyBorn t2
              let h = 1e-4

              for (q, r) in [ 0, 0; 0, 4; 1, 3; 2, 8; 5, 7 ] do
                  let pp = shifted [ q, h; r, h ]
                  let pm = shifted [ q, h; r, -h ]
                  let mp = shifted [ q, -h; r, h ]
                  let mm = shifted [ q, -h; r, -h ]

                  for k in 0 .. b.Size - 1 do
                      let fd = (pp.[k] - pm.[k] - mp.[k] + mm.[k]) / (4.0 * h * h)
                      let v = c2.[k].[9 * q + r]
                      Expect.isLessThan (abs (fd - v)) (1e-5 * (1.0 + abs fd)) (sprintf "∂²W/∂F_%d∂F_%d of B_%d" q r k) ]
