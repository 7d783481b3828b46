namespace Qmmm.Numerics

// Exact derivative tensors of pooled site potentials (issue item 7; DESIGN §2).
//
// A pooled site potential is V(g) = G(S), S_k = Σ_n ψ_k(g_n), k = 0..K-1, with one-particle functions ψ (the same for
// every neighbour) and a small outer map G of K channels (EAM: ψ = (φ(r), ρ(r)), G(s, t) = s/2 + F(t)).
// Its j-th derivative in the neighbour components follows from the multivariate Faà di Bruno formula over the set
// partitions π of the positions {1..j} of an index tuple ((n_1, a_1), ..., (n_j, a_j)):
//
//   ∂ʲV / ∂g_{n_1 a_1}···∂g_{n_j a_j} = Σ_π Σ_{k_B, B ∈ π} ∂^{|π|}G / Π_B ∂S_{k_B} · Π_{B ∈ π} ∂^{|B|} S_{k_B} / Π_{i ∈ B} ∂g_{n_i a_i}
//
// and ∂^{|B|} S_k / Π_{i∈B} ∂g_{n_i a_i} vanishes unless all n_i, i ∈ B, are one neighbour n_B, when it is the
// derivative of ψ_k at that single neighbour: ∂^{|B|} ψ_k(g_{n_B}) / Π_{i∈B} ∂g_{a_i}. So only the partitions whose
// blocks each hold a single neighbour contribute (for j distinct neighbours: the partition into singletons, through
// the mixed derivatives of G alone). The engine needs the derivatives of ψ at each neighbour (a 3-variable `Taylor`,
// one per neighbour) and the derivatives of G at S (channel space) — never a differentiation of the whole site energy
// in the 3n neighbour components.
//
// The homogeneous lattice. The paper's V^h takes the displacement stencil Du(0) = (D_ρ u(0))_ρ; the neighbour vectors
// are g_ρ = ρ + D_ρ u(0). Derivatives with respect to D_ρ u at Du = 0 therefore equal derivatives of V(g) with
// respect to g_ρ at g_ρ = ρ, the lattice vectors themselves: δʲV^h(0) = (∂ʲV/∂g_{ρ_1}···∂g_{ρ_j})(g = ρ).

/// Nonzero entries of one symmetric derivative tensor ∂^m G / ∂s_{k_1}···∂s_{k_m} of the outer map of a pooled
/// potential, at one point S of channel space: every ORDERED key (k_1..k_m) with a nonzero entry is listed (all
/// orderings of a symmetric entry appear). m = 0 holds the value G(S) with an empty key.
type ChannelTensor =
    {
        /// Order m (0..4).
        Order: int
        /// Keys, m channel indices per entry, flattened.
        Keys: int[]
        /// Entries (one per key).
        Values: float[]
    }

/// A pooled site potential V(g) = G(Σ_n ψ(g_n)) with K channels (DESIGN §2): EAM, linear ACE, ... Single species:
/// every neighbour contributes the same ψ (the homogeneous lattice of one element).
type IPooledPotential =
    /// Model name.
    abstract Name: string
    /// Number K of channels of ψ and of the argument of G.
    abstract Channels: int
    /// Cutoff (Å): ψ(g) = 0 for |g| >= Cutoff.
    abstract Cutoff: float
    /// ψ_k(g), k = 0..K-1, for one neighbour vector g given as three Taylor polynomials (its x, y, z components, the
    /// variables of one computation): returns K Taylor polynomials of the same shape (exact derivatives of ψ_k).
    abstract Inner: g: Taylor[] -> Taylor[]
    /// The derivatives of G at the point s (K values) for m = 0..order (order <= 4): element m lists the nonzero
    /// entries of ∂^m G.
    abstract Outer: s: float[] * order: int -> ChannelTensor[]

/// Pooled potentials: adapters from models, generic helpers.
[<RequireQualifiedAccess>]
module Pooled =

    /// f(x) for a radial function given as a `Radial` and a Taylor argument: the univariate derivatives of f at the
    /// value of x (from the order-4 `Jet` instance, exact) composed with x (`Taylor.Chain`).
    let radial (f: Radial) (x: Taylor) =
        let j = f.J(Jet.Variable x.Value)
        Taylor.Chain(x, [| j.C0; j.Derivative 1; j.Derivative 2; j.Derivative 3; j.Derivative 4 |])

    /// |g| for a vector given as three Taylor polynomials.
    let distance (g: Taylor[]) =
        sqrt (g.[0] * g.[0] + g.[1] * g.[1] + g.[2] * g.[2])

    /// The single-species EAM site potential of `species` as a pooled potential: K = 2 channels, ψ(g) = (φ(|g|), ρ(|g|))
    /// with φ = Pair[a*n+a], ρ = Density[a*n+a], and G(s, t) = s/2 + F(t) with F = Embedding[a]. The derivatives of G
    /// are written down directly: ∂G/∂s = 1/2, ∂^m G/∂t^m = F^(m)(t), mixed ones vanish.
    let ofEam (m: EamModel) (species: int) : IPooledPotential =
        let n = m.Elements.Length
        Validate.intInRange "species" 0 (n - 1) species
        let phi = m.Pair.[species * n + species]
        let rho = m.Density.[species * n + species]
        let emb = m.Embedding.[species]

        { new IPooledPotential with
            member _.Name = m.Name
            member _.Channels = 2
            member _.Cutoff = m.Cutoff

            member _.Inner(g) =
                let r = distance g
                [| radial phi r; radial rho r |]

            member _.Outer(s, order) =
                Validate.intInRange "order" 0 4 order
                let j = emb.J(Jet.Variable s.[1])

                [| for mm in 0..order ->
                       match mm with
                       | 0 ->
                           { Order = 0
                             Keys = [||]
                             Values = [| 0.5 * s.[0] + j.C0 |] }
                       | 1 ->
                           { Order = 1
                             Keys = [| 0; 1 |]
                             Values = [| 0.5; j.Derivative 1 |] }
                       | _ ->
                           { Order = mm
                             Keys = Array.create mm 1
                             Values = [| j.Derivative mm |] } |] }

    /// The derivatives ∂^m G(s), m = 0..order, of an outer map G of K <= 12 channels written on `Taylor` (e.g. as
    /// generic inline code), by evaluating G on K Taylor variables at s: the general route for a new pooled model
    /// with few channels. Entries with |value| = 0 are dropped.
    let outerOfTaylor (g: Taylor[] -> Taylor) (s: float[]) (order: int) : ChannelTensor[] =
        Validate.intInRange "order" 0 4 order
        let k = s.Length
        Validate.intInRange "s.Length" 1 TaylorShape.MaxVars k
        let vars = Taylor.Variables(order, s)
        let gv = g vars

        let gv =
            if gv.IsShapeless then
                Taylor.Constant(k, order, gv.Value)
            else
                gv

        [| for m in 0..order ->
               let d = gv.DerivativeTensor m
               let keys = ResizeArray<int>()
               let values = ResizeArray<float>()

               for f in 0 .. d.Length - 1 do
                   if d.[f] <> 0.0 || m = 0 then
                       let mutable r = f
                       let key = Array.zeroCreate m

                       for p in m - 1 .. -1 .. 0 do
                           key.[p] <- r % k
                           r <- r / k

                       keys.AddRange key
                       values.Add d.[f]

               { Order = m
                 Keys = keys.ToArray()
                 Values = values.ToArray() } |]

    /// The site energy V(g) = G(Σ_n ψ(g_n)) (eV) at neighbour vectors g (Å), on floats (order-0 Taylors).
    let siteEnergy (pot: IPooledPotential) (g: Vec3[]) =
        let s = Array.zeroCreate pot.Channels

        for v in g do
            let psi = pot.Inner(Taylor.Variables(0, [| v.X; v.Y; v.Z |]))

            for k in 0 .. s.Length - 1 do
                s.[k] <- s.[k] + psi.[k].Value

        (pot.Outer(s, 0)).[0].Values.[0]

/// Exact derivative tensors δʲV(g), j = 1..4, of pooled site potentials by the multivariate Faà di Bruno formula
/// (see the file header), in particular δʲV^h(0) at the homogeneous lattice (Section 3.1, (3.1)).
[<RequireQualifiedAccess>]
module Derivatives =

    // One set partition of the positions 0..j-1, with lookup tables for the component indices of its blocks.
    type private Partition =
        { Blocks: int // number of blocks m
          Sizes: int[] // block sizes
          Positions: int[][] // positions of each block, ascending
          // Comp[b * 3^j + c]: offset of the block's component multi-index within the ψ derivative layout of one
          // (neighbour, channel): offset(size) + row-major index of (a_q, q in block b) for the components c.
          Comp: int[] }

    // offset of the order-m derivatives in the per-(neighbour, channel) layout [order 0 | order 1 (3) | order 2 (9) ...]
    let private offset (m: int) = (pown 3 m - 1) / 2

    // All set partitions of {0..j-1} (restricted growth strings), with their component tables.
    let private partitions (j: int) : Partition[] =
        let nComp = pown 3 j
        let out = ResizeArray()

        let rec go (pos: int) (labels: int list) (maxLabel: int) =
            if pos = j then
                let labels = labels |> List.rev |> Array.ofList
                let m = maxLabel + 1

                let positions =
                    Array.init m (fun b ->
                        [| for q in 0 .. j - 1 do
                               if labels.[q] = b then
                                   yield q |])

                let comp = Array.zeroCreate (m * nComp)

                for c in 0 .. nComp - 1 do
                    // components a_q of c (row-major, a_0 slowest)
                    let a = Array.init j (fun q -> (c / pown 3 (j - 1 - q)) % 3)

                    for b in 0 .. m - 1 do
                        let mutable idx = 0

                        for q in positions.[b] do
                            idx <- 3 * idx + a.[q]

                        comp.[b * nComp + c] <- offset positions.[b].Length + idx

                out.Add
                    { Blocks = m
                      Sizes = positions |> Array.map Array.length
                      Positions = positions
                      Comp = comp }
            else
                for l in 0 .. maxLabel + 1 do
                    go (pos + 1) (l :: labels) (max maxLabel l)

        go 0 [] -1
        out.ToArray()

    let private partitionTable =
        Array.init 5 (fun j -> if j = 0 then [||] else partitions j)

    // The derivatives of ψ at every neighbour (layout: ((n * K + k) * stride + offset(m) + component index)) and of G.
    let private prepare (pot: IPooledPotential) (g: Vec3[]) (order: int) =
        let kc = pot.Channels
        let stride = offset (order + 1)
        let psi = Array.zeroCreate (g.Length * kc * stride)
        let s = Array.zeroCreate kc

        for n in 0 .. g.Length - 1 do
            let v = g.[n]
            let out = pot.Inner(Taylor.Variables(order, [| v.X; v.Y; v.Z |]))

            if out.Length <> kc then
                invalidArg "pot" (sprintf "%s: Inner returned %d channels, Channels = %d" pot.Name out.Length kc)

            for k in 0 .. kc - 1 do
                let t = out.[k]
                s.[k] <- s.[k] + t.Value
                let baseIdx = (n * kc + k) * stride

                if t.IsShapeless then
                    psi.[baseIdx] <- t.Value
                else
                    for m in 0..order do
                        t.DerivativeTensorInto(m, psi, baseIdx + offset m)

        let outer = pot.Outer(s, order)
        psi, stride, outer

    // Fills the 3^j block of the tuple tuple[t0 .. t0+j-1] (any order) into out[o0 ..].
    let private fillBlock
        (kc: int)
        (psi: float[])
        (stride: int)
        (outer: ChannelTensor[])
        (j: int)
        (tuple: int[])
        (t0: int)
        (out: float[])
        (o0: int)
        (bases: int[])
        =
        let nComp = pown 3 j
        let parts = partitionTable.[j]

        for c in 0 .. nComp - 1 do
            out.[o0 + c] <- 0.0

        for part in parts do
            // valid only when each block holds one neighbour
            let mutable ok = true

            for b in 0 .. part.Blocks - 1 do
                let ps = part.Positions.[b]
                let n0 = tuple.[t0 + ps.[0]]

                for q in ps do
                    if tuple.[t0 + q] <> n0 then
                        ok <- false

                bases.[b] <- n0 * kc

            if ok then
                let m = part.Blocks
                let gt = outer.[m]
                let keys = gt.Keys
                let vals = gt.Values
                let comp = part.Comp

                for c in 0 .. nComp - 1 do
                    let mutable acc = 0.0

                    for e in 0 .. vals.Length - 1 do
                        let mutable prod = vals.[e]

                        for b in 0 .. m - 1 do
                            prod <- prod * psi.[(bases.[b] + keys.[e * m + b]) * stride + comp.[b * nComp + c]]

                        acc <- acc + prod

                    out.[o0 + c] <- out.[o0 + c] + acc

    let private check (pot: IPooledPotential) (order: int) =
        Validate.intInRange "order" 1 4 order

        if pot.Channels < 1 then
            invalidArg "pot" (sprintf "%s has %d channels" pot.Name pot.Channels)

    /// δʲV(g) for j = order (1..4) at arbitrary neighbour vectors g (Å; g.[i] is the neighbour indexed by stencil.[i],
    /// e.g. g_ρ = ρ + D_ρ u for a displaced configuration), over the canonical tuples of the stencil sites with
    /// |ρ| <= radius (Å). `g` must hold every neighbour the site interacts with. Exact (Faà di Bruno over set
    /// partitions, see the file header); entries in eV/Å^j.
    let siteTensorsAt (pot: IPooledPotential) (stencil: Vec3[]) (g: Vec3[]) (order: int) (radius: float) : SiteTensor =
        check pot order

        if g.Length <> stencil.Length then
            invalidArg "g" (sprintf "g has %d neighbours, the stencil %d" g.Length stencil.Length)

        let t = SiteTensor.create order stencil radius
        let psi, stride, outer = prepare pot g order
        let nComp = pown 3 order
        let bases = Array.zeroCreate 4

        for k in 0 .. SiteTensor.count t - 1 do
            fillBlock pot.Channels psi stride outer order t.Tuples (k * order) t.Values (k * nComp) bases

        t

    /// δʲV^h(0), j = order (1..4), of a pooled site potential at the homogeneous lattice (3.1): the derivatives of
    /// V(g) at g = ρ (u = 0, see the file header) for all sorted tuples of the stencil neighbours within `radius` (Å,
    /// the r_j of issue item 7). `stencil` = Λ^h_* ∩ B_r with r >= the cutoff (e.g. `Lattice.stencil lat cutoff`).
    let siteTensors (pot: IPooledPotential) (stencil: Vec3[]) (order: int) (radius: float) : SiteTensor =
        siteTensorsAt pot stencil stencil order radius

    /// δʲV^h(0) for j = 1..radii.Length at the homogeneous lattice, order j over the neighbours within radii.[j-1]
    /// (Å; the per-order radii r_j of issue item 7): the observations of (3.1) for a fit.
    let siteTensorsUpTo (pot: IPooledPotential) (stencil: Vec3[]) (radii: float[]) : SiteTensor[] =
        Validate.intInRange "radii.Length" 1 4 radii.Length
        radii |> Array.mapi (fun i r -> siteTensors pot stencil (i + 1) r)

    /// The 3^j block V_{,ρ}(g) of (1.1) for ONE tuple of neighbour indices into g, in any order (j = tuple.Length,
    /// 1..4), row-major in the tuple's order. Used for checks of symmetry and by callers that need a few entries.
    let block (pot: IPooledPotential) (g: Vec3[]) (tuple: int[]) : float[] =
        let j = tuple.Length
        check pot j

        for i in tuple do
            Validate.intInRange "tuple" 0 (g.Length - 1) i

        let psi, stride, outer = prepare pot g j
        let out = Array.zeroCreate (pown 3 j)
        fillBlock pot.Channels psi stride outer j tuple 0 out 0 (Array.zeroCreate 4)
        out

    /// The blocks V_{,ρ}(g) for many tuples of one order (each in any order, as in `block`), sharing one evaluation of
    /// the derivatives of ψ and G.
    let blocks (pot: IPooledPotential) (g: Vec3[]) (tuples: int[][]) : float[][] =
        if tuples.Length = 0 then
            [||]
        else
            let j = tuples.[0].Length
            check pot j

            for tu in tuples do
                Validate.length "tuples" j tu

                for i in tu do
                    Validate.intInRange "tuples" 0 (g.Length - 1) i

            let psi, stride, outer = prepare pot g j
            let bases = Array.zeroCreate 4

            tuples
            |> Array.map (fun tu ->
                let out = Array.zeroCreate (pown 3 j)
                fillBlock pot.Channels psi stride outer j tu 0 out 0 bases
                out)

    /// The gradient ∂V/∂g_n (eV/Å) at neighbour vectors g, 3 per neighbour (δ¹V as a flat array).
    let gradient (pot: IPooledPotential) (g: Vec3[]) : float[] =
        let psi, stride, outer = prepare pot g 1
        let out = Array.zeroCreate (3 * g.Length)
        let tuple = Array.init g.Length id
        let bases = Array.zeroCreate 4

        for n in 0 .. g.Length - 1 do
            fillBlock pot.Channels psi stride outer 1 tuple n out (3 * n) bases

        out

    /// The site energy V(g) (eV).
    let energy (pot: IPooledPotential) (g: Vec3[]) = Pooled.siteEnergy pot g
