namespace Qmmm.Numerics

open System

/// The j-th derivative δʲV(g) of a site potential, stored sparsely by neighbour tuples and Cartesian components: the
/// entries V_{,ρ}[a_1..a_j] = ∂ʲV / ∂g_{ρ_1,a_1} ··· ∂g_{ρ_j,a_j} of (1.1), ρ = (ρ_1, ..., ρ_j) a tuple of neighbours.
///
/// Neighbours are indices into `Stencil`, the neighbour vectors ρ of the homogeneous lattice (Λ^h_* ∩ B_r, Section
/// 2.2). At the homogeneous lattice δʲV^h(0) is evaluated at g = ρ (u = 0; see `Derivatives.siteTensors`).
/// The tensor covers the `Sites`: every stencil index i with |ρ_i| <= `Radius`. Because δʲV is symmetric under any
/// permutation of its (neighbour, component) index pairs, only one canonical representative of each permutation class
/// of neighbour tuples is stored: the sorted tuples i_1 <= ... <= i_j of site indices, in lexicographic order, each
/// with its 3^j component block (row-major, a_1 slowest, components referring to the sorted positions). `SiteTensor.get`
/// answers for a tuple in any order by permuting the components accordingly.
type SiteTensor =
    {
        /// Derivative order j (1..4).
        Order: int
        /// Neighbour vectors ρ (Å) of the homogeneous lattice that index the tensor (the site potential's stencil).
        Stencil: Vec3[]
        /// Radius r_j (Å): the tensor covers neighbours with |ρ| <= Radius.
        Radius: float
        /// Covered stencil indices (|ρ_i| <= Radius), ascending.
        Sites: int[]
        /// Canonical tuples, flattened, Order entries each: sorted stencil indices, lexicographic order.
        Tuples: int[]
        /// Component blocks, 3^Order floats per tuple (units eV/Å^j), in the order of `Tuples`.
        Values: float[]
    }

/// Construction, lookup, norms (3.1)-(3.2) and the Cauchy–Born contraction (3.5) of site tensors.
[<RequireQualifiedAccess>]
module SiteTensor =

    /// 3^j.
    let blockSize (order: int) = pown 3 order

    /// Stencil indices i with |ρ_i| <= radius, ascending.
    let sites (stencil: Vec3[]) (radius: float) =
        [| for i in 0 .. stencil.Length - 1 do
               if Vec3.norm stencil.[i] <= radius then
                   yield i |]

    /// All sorted tuples s_1 <= ... <= s_j of `sites` (ascending), lexicographic, flattened.
    let canonicalTuples (sites: int[]) (order: int) =
        let out = ResizeArray<int>()
        let cur = Array.zeroCreate order

        let rec go (pos: int) (from: int) =
            if pos = order then
                out.AddRange cur
            else
                for k in from .. sites.Length - 1 do
                    cur.[pos] <- sites.[k]
                    go (pos + 1) k

        go 0 0
        out.ToArray()

    /// A zero tensor of order j (1..4) over the stencil sites within `radius` (Å), all canonical tuples present.
    let create (order: int) (stencil: Vec3[]) (radius: float) : SiteTensor =
        Validate.intInRange "order" 1 4 order
        Validate.finite "radius" radius
        let s = sites stencil radius
        let tuples = canonicalTuples s order

        { Order = order
          Stencil = stencil
          Radius = radius
          Sites = s
          Tuples = tuples
          Values = Array.zeroCreate (tuples.Length / order * blockSize order) }

    /// Number of stored (canonical) tuples.
    let count (t: SiteTensor) = t.Tuples.Length / t.Order

    /// Canonical tuple number k (a copy).
    let tupleAt (t: SiteTensor) (k: int) =
        Array.sub t.Tuples (k * t.Order) t.Order

    /// Component block of canonical tuple k (a copy, 3^j entries, row-major).
    let blockAt (t: SiteTensor) (k: int) =
        let b = blockSize t.Order
        Array.sub t.Values (k * b) b

    /// Position of a sorted tuple among the canonical tuples (binary search), or -1 when it is not stored.
    let find (t: SiteTensor) (sorted: int[]) =
        let j = t.Order
        let mutable lo = 0
        let mutable hi = count t - 1
        let mutable res = -1

        while res < 0 && lo <= hi do
            let mid = (lo + hi) / 2
            let mutable c = 0
            let mutable p = 0

            while c = 0 && p < j do
                c <- compare t.Tuples.[mid * j + p] sorted.[p]
                p <- p + 1

            if c = 0 then res <- mid
            elif c < 0 then lo <- mid + 1
            else hi <- mid - 1

        res

    let private checkTuple (t: SiteTensor) (tuple: int[]) =
        if tuple.Length <> t.Order then
            invalidArg
                "tuple"
                (sprintf "a tuple of a tensor of order %d has %d entries, got %d" t.Order t.Order tuple.Length)

        for i in tuple do
            if i < 0 || i >= t.Stencil.Length then
                invalidArg "tuple" (sprintf "neighbour index %d outside the stencil 0..%d" i (t.Stencil.Length - 1))

            if Vec3.norm t.Stencil.[i] > t.Radius then
                invalidArg
                    "tuple"
                    (sprintf
                        "neighbour %d at |ρ| = %g Å lies outside the tensor's radius %g Å"
                        i
                        (Vec3.norm t.Stencil.[i])
                        t.Radius)

    /// The entry V_{,ρ}[a_1..a_j] of (1.1) for a tuple of stencil indices in ANY order and components a_i ∈ {0, 1, 2}
    /// (x, y, z) of the corresponding neighbours; symmetry supplies the non-canonical orderings. Raises for a neighbour
    /// outside the tensor's radius.
    let get (t: SiteTensor) (tuple: int[]) (components: int[]) =
        checkTuple t tuple
        Validate.length "components" t.Order components

        for a in components do
            Validate.intInRange "components" 0 2 a

        let perm = Array.init t.Order id |> Array.sortBy (fun p -> tuple.[p])
        let sorted = perm |> Array.map (fun p -> tuple.[p])
        let k = find t sorted

        if k < 0 then
            invalidArg "tuple" (sprintf "tuple %A is not stored" tuple)

        let mutable c = 0

        for p in perm do
            c <- 3 * c + components.[p]

        t.Values.[k * blockSize t.Order + c]

    /// The 3^j block V_{,ρ}[a_1..a_j] for a tuple of stencil indices in ANY order, row-major in the tuple's order
    /// (a_1 slowest): the canonical block with its component axes permuted. Raises for a neighbour outside the radius.
    let block (t: SiteTensor) (tuple: int[]) =
        checkTuple t tuple
        let j = t.Order
        let perm = Array.init j id |> Array.sortBy (fun p -> tuple.[p])
        let k = find t (perm |> Array.map (fun p -> tuple.[p]))

        if k < 0 then
            invalidArg "tuple" (sprintf "tuple %A is not stored" tuple)

        let nComp = blockSize j
        // stride of the tuple's position p in the canonical (sorted) layout
        let stride = Array.zeroCreate j

        for q in 0 .. j - 1 do
            stride.[perm.[q]] <- pown 3 (j - 1 - q)

        Array.init nComp (fun c ->
            let mutable r = c
            let mutable idx = 0

            for p in j - 1 .. -1 .. 0 do
                idx <- idx + (r % 3) * stride.[p]
                r <- r / 3

            t.Values.[k * nComp + idx])

    /// j!/(m_1!···m_r!) for a tuple whose distinct entries occur m_1, ..., m_r times: the number of distinct orderings
    /// a canonical tuple stands for in the sums over (Λ^h_*)^j of (3.1), (3.5), (3.6).
    let multiplicity (tuple: int[]) =
        let fact n = List.fold (*) 1 [ 1..n ]

        let denom =
            tuple |> Array.countBy id |> Array.fold (fun acc (_, m) -> acc * fact m) 1

        fact tuple.Length / denom

    /// The weight w_j(ρ) = Π_i exp(-2γ|ρ_i|) of (3.2) of canonical tuple k (γ > 0 in 1/Å).
    let weight (gamma: float) (t: SiteTensor) (k: int) =
        let mutable s = 0.0

        for p in 0 .. t.Order - 1 do
            s <- s + Vec3.norm t.Stencil.[t.Tuples.[k * t.Order + p]]

        Math.Exp(-2.0 * gamma * s)

    /// The squared Frobenius norm |V_{,ρ}|² of the 3^j block of canonical tuple k.
    let private blockNormSquared (t: SiteTensor) (k: int) =
        let b = blockSize t.Order
        let mutable s = 0.0

        for c in 0 .. b - 1 do
            let v = t.Values.[k * b + c]
            s <- s + v * v

        s

    /// (Σ over ordered tuples of |V_{,ρ}|² / w(k))^{1/2}, each canonical tuple k counted with its `multiplicity`.
    let private multiplicitySum (t: SiteTensor) (inverseWeight: int -> float) =
        let mutable acc = 0.0

        for k in 0 .. count t - 1 do
            acc <-
                acc
                + float (multiplicity (tupleAt t k)) * blockNormSquared t k * inverseWeight k

        Math.Sqrt acc

    /// The weighted norm |δʲV|_{w_j^{-1}} of (3.1): (Σ_{ρ ∈ (Λ^h_*)^j} |V_{,ρ}|² w_j^{-1}(ρ))^{1/2}, the sum over all
    /// ordered tuples of covered sites (each canonical tuple counted with its `multiplicity`), |·| the Frobenius norm
    /// of the 3^j block, w_j of (3.2) with decay γ (1/Å, > 0).
    let norm (gamma: float) (t: SiteTensor) =
        Validate.positive "gamma" gamma
        multiplicitySum t (fun k -> 1.0 / weight gamma t k)

    /// The norm of (3.1) with unit weights (w_j ≡ 1, the limit γ → 0): (Σ_{ρ ∈ (Λ^h_*)^j} |V_{,ρ}|²)^{1/2} over all
    /// ordered tuples of covered sites.
    let unweightedNorm (t: SiteTensor) = multiplicitySum t (fun _ -> 1.0)

    /// The virial-type weighted norm of (3.6): (Σ_{ρ ∈ (Λ^h_*)^j} |V_{,ρ} ⊗ ρ_1 ⊗ ··· ⊗ ρ_j|² w_j^{-1}(ρ))^{1/2} over all
    /// ordered tuples of covered sites; |X ⊗ ρ_1 ⊗ ··· ⊗ ρ_j| = |X| Π|ρ_i| (Frobenius). γ > 0 in 1/Å. Apply it to
    /// `sub` of two tensors of order j + 1 for ε_j^V.
    let virialNorm (gamma: float) (t: SiteTensor) =
        Validate.positive "gamma" gamma

        // |X ⊗ ρ_1 ⊗ ··· ⊗ ρ_j|² = |X|² Π|ρ_i|²
        let rho2 (k: int) =
            let mutable r = 1.0

            for p in 0 .. t.Order - 1 do
                let v = t.Stencil.[t.Tuples.[k * t.Order + p]]
                r <- r * Vec3.dot v v

            r

        multiplicitySum t (fun k -> rho2 k / weight gamma t k)

    /// a - b for two tensors over the same stencil, order and tuples (e.g. δʲV^h(0) - δʲV^MM(0) in (3.1)).
    let sub (a: SiteTensor) (b: SiteTensor) =
        if a.Order <> b.Order || a.Tuples <> b.Tuples || a.Stencil <> b.Stencil then
            invalidArg "b" "site tensors must share order, stencil and tuples to be subtracted"

        { a with
            Values = Array.map2 (-) a.Values b.Values }

    /// The dense tensor over the covered sites: (3 n)^j entries, n = Sites.Length, row-major, index of position i is
    /// 3 s_i + a_i with s_i the slot of the neighbour in `Sites`. For small cases (at most 2^24 entries).
    let toDense (t: SiteTensor) =
        let n3 = 3 * t.Sites.Length
        let size = pown (float n3) t.Order

        if size > float (1 <<< 24) then
            invalidArg "t" (sprintf "dense tensor would have %g entries (limit 2^24)" size)

        let j = t.Order
        let dense = Array.zeroCreate (int size)
        let tuple = Array.zeroCreate j
        let comps = Array.zeroCreate j

        for f in 0 .. dense.Length - 1 do
            let mutable r = f

            for p in j - 1 .. -1 .. 0 do
                let q = r % n3
                r <- r / n3
                tuple.[p] <- t.Sites.[q / 3]
                comps.[p] <- q % 3

            dense.[f] <- get t tuple comps

        dense

    /// All permutations of 0..j-1 (j! arrays), in lexicographic order.
    let permutations (j: int) =
        let rec perms (xs: int list) =
            match xs with
            | [] -> [ [] ]
            | _ ->
                [ for x in xs do
                      for rest in perms (List.filter ((<>) x) xs) -> x :: rest ]

        perms [ 0 .. j - 1 ] |> List.map Array.ofList |> Array.ofList

    /// The Cauchy–Born derivative ∂_F^j W_cb(I) of (3.4)-(3.5) from δʲV^h(0): Σ_{ρ ∈ (Λ^h_*)^j} V_{,ρ} ⊗ ρ_1 ⊗ ··· ⊗ ρ_j
    /// over all ordered tuples of covered sites, a 3^{2j} array indexed (a_1 b_1 a_2 b_2 ... a_j b_j) row-major, where
    /// (a_i, b_i) is the i-th deformation-gradient index F_{a_i b_i} (eV). It equals ∂_F^j of W_cb(F) = V^h((F - I)·Λ^h_*)
    /// when the tensor's radius covers the potential's cutoff.
    /// Sign: this is the derivative itself (checked against finite differences of W_cb); the paper's (3.5) prints a
    /// leading minus (the virial convention W = -∂E/∂ε); (3.6) compares two such tensors, where the sign cancels.
    let cauchyBorn (t: SiteTensor) =
        let j = t.Order
        let b = blockSize j
        let nF = pown 9 j
        // A = Σ_T (1/Π m_i!) X_T ⊗ ρ_{t_1} ⊗ ... ⊗ ρ_{t_j} in slot order; then symmetrise over the j! slot permutations.
        let acc = Array.zeroCreate nF
        let rho = Array.zeroCreate (3 * j)

        for k in 0 .. count t - 1 do
            let tuple = tupleAt t k
            let w = float (multiplicity tuple) / float (List.fold (*) 1 [ 1..j ])

            for p in 0 .. j - 1 do
                let v = t.Stencil.[tuple.[p]]
                rho.[3 * p] <- v.X
                rho.[3 * p + 1] <- v.Y
                rho.[3 * p + 2] <- v.Z

            for f in 0 .. nF - 1 do
                // decode (a_1 b_1 ... a_j b_j)
                let mutable r = f
                let mutable c = 0
                let mutable prod = w
                let mutable scale = 1

                for p in j - 1 .. -1 .. 0 do
                    let bb = r % 3
                    r <- r / 3
                    let aa = r % 3
                    r <- r / 3
                    c <- c + aa * scale
                    scale <- scale * 3
                    prod <- prod * rho.[3 * p + bb]

                acc.[f] <- acc.[f] + prod * t.Values.[k * b + c]

        let perms = permutations j
        let out = Array.zeroCreate nF
        let slots = Array.zeroCreate j

        for f in 0 .. nF - 1 do
            let mutable r = f

            for p in j - 1 .. -1 .. 0 do
                slots.[p] <- r % 9
                r <- r / 9

            let mutable s = 0.0

            for sigma in perms do
                let mutable g = 0

                for p in 0 .. j - 1 do
                    g <- 9 * g + slots.[sigma.[p]]

                s <- s + acc.[g]

            out.[f] <- s

        out
