namespace Qmmm.Numerics

open System
open System.Threading.Tasks

/// Derivative tensors δʲV(g) (3.1) of site potentials that are not pooled (tight binding, models written in C#): the
/// non-pooled route of the derivative engine. The j-th derivative is the (j−1)-fold nested centred difference of the
/// analytic gradient ∂V/∂g (`ISitePotential.SiteGradient`), computed for EVERY ordering of each neighbour tuple and
/// averaged over all permutations of the (neighbour, component) index pairs, so the result is exactly symmetric (the
/// raw difference treats its last index analytically and the others by differences); then Richardson-extrapolated from
/// the steps h and h/2 (error O(h⁴) instead of O(h²)), with the estimate max |D(h/2) − D(h)| / 3 of the error reported
/// next to the tensor. The exact pooled engine (`Derivatives`) is the oracle this route is tested against.
///
/// Step sweep (Zhou W EAM at the bcc lattice, relative max error against the pooled engine, with Richardson):
/// order 2: h = 1e-2 → 1e-9, 1e-3 → 1e-11, 1e-4 → 1e-10 (rounding grows as ε/h); order 3: 1e-2 → 1e-7,
/// 3e-3 → 1e-9, 1e-3 → 1e-8. The defaults `defaultStep` balance truncation O(h⁴) against rounding O(ε/h^{j−1}):
/// h_j = ε^{1/(j+3)} (7.4e-4, 2.5e-3, 5.8e-3 Å for j = 2, 3, 4).
[<RequireQualifiedAccess>]
module DifferenceDerivatives =

    /// Tunable options of the difference route (STYLE 4).
    type Options =
        {
            /// Step h (Å) of the centred differences; 0 selects `defaultStep` for the order.
            Step: float
            /// Richardson extrapolation from h and h/2 (twice the gradient evaluations); default true. Without it the
            /// error estimate is not available (reported as NaN).
            Richardson: bool
            /// Maximum number of threads; default `Environment.ProcessorCount`. The result does not depend on it.
            Threads: int
        }

        /// Default options: step per order, Richardson on, all cores.
        static member Defaults =
            { Step = 0.0
              Richardson = true
              Threads = Environment.ProcessorCount }

    /// A tensor computed by differences with its error estimate.
    type Result =
        {
            /// δʲV, symmetric, in the layout of `SiteTensor`.
            Tensor: SiteTensor
            /// Estimate of the largest absolute entry error (eV/Å^j): max |D(h/2) − D(h)| / 3 (0 for j = 1, which is
            /// analytic; NaN without Richardson).
            ErrorEstimate: float
            /// The step h used (Å; 0 for j = 1).
            Step: float
        }

    /// Default step h_j = ε^{1/(j+3)} (ε = 2.2e-16) for Richardson-extrapolated (j−1)-fold centred differences of an
    /// analytic gradient: truncation O(h⁴) against rounding O(ε/h^{j−1}); 0 for j = 1 (no differences).
    let defaultStep (order: int) =
        Validate.intInRange "order" 1 4 order

        if order = 1 then
            0.0
        else
            Math.Pow(2.2e-16, 1.0 / float (order + 3))

    /// Fixed number of work chunks (results depend on it only through summation order, never on the thread count).
    let private chunks = 8

    /// Raw symmetrised differences at step h: accumulates, for every ordered tuple (prefix P, last L) of covered
    /// sites, the nested centred difference over P of the analytic gradient component of L into the canonical block
    /// (components permuted to the sorted order), divides by the number of orderings, and symmetrises every block over
    /// the permutations that fix its tuple.
    let private raw
        (threads: int)
        (pot: ISitePotential)
        (zi: int)
        (zs: int[])
        (g: Vec3[])
        (t: SiteTensor)
        (step: float)
        : float[] =
        let order = t.Order
        let sites = t.Sites
        let ns = sites.Length
        let n = g.Length
        let nComp = pown 3 order
        let nPre = pown 3 (order - 1)
        let nPrefix = pown ns (order - 1)
        let nc = max 1 (min chunks nPrefix)
        let sums = Array.init nc (fun _ -> Array.zeroCreate t.Values.Length)

        let body (c: int) =
            let lo = int (int64 c * int64 nPrefix / int64 nc)
            let hi = int (int64 (c + 1) * int64 nPrefix / int64 nc)
            let rs = Array.zeroCreate (3 * n)
            let grad = Array.zeroCreate (3 * n)
            let acc = Array.zeroCreate (3 * n)
            let prefix = Array.zeroCreate (max 1 (order - 1))
            let full = Array.zeroCreate order
            let comps = Array.zeroCreate order
            let perm = Array.zeroCreate order
            let sorted = Array.zeroCreate order
            let sum = sums.[c]

            for p in lo .. hi - 1 do
                // prefix number p in base ns, most significant first
                let mutable q = p

                for i in order - 2 .. -1 .. 0 do
                    prefix.[i] <- sites.[q % ns]
                    q <- q / ns

                for cp in 0 .. nPre - 1 do
                    Array.fill acc 0 acc.Length 0.0

                    for signs in 0 .. (1 <<< (order - 1)) - 1 do
                        for i in 0 .. n - 1 do
                            rs.[3 * i] <- g.[i].X
                            rs.[3 * i + 1] <- g.[i].Y
                            rs.[3 * i + 2] <- g.[i].Z

                        let mutable sgn = 1.0

                        for i in 0 .. order - 2 do
                            let a = (cp / pown 3 (order - 2 - i)) % 3
                            let s = if (signs >>> i) &&& 1 = 1 then -1.0 else 1.0
                            sgn <- sgn * s
                            rs.[3 * prefix.[i] + a] <- rs.[3 * prefix.[i] + a] + s * step

                        pot.SiteGradient(zi, rs, zs, 0, n, grad) |> ignore

                        for f in 0 .. acc.Length - 1 do
                            acc.[f] <- acc.[f] + sgn * grad.[f]

                    let scale = 1.0 / pown (2.0 * step) (order - 1)

                    for i in 0 .. order - 2 do
                        full.[i] <- prefix.[i]
                        comps.[i] <- (cp / pown 3 (order - 2 - i)) % 3

                    for last in sites do
                        full.[order - 1] <- last
                        // stable sort of the positions by site index: perm.[r] = position of the r-th smallest
                        for i in 0 .. order - 1 do
                            perm.[i] <- i

                        for i in 1 .. order - 1 do
                            let mutable k = i

                            while k > 0 && full.[perm.[k - 1]] > full.[perm.[k]] do
                                let tmp = perm.[k]
                                perm.[k] <- perm.[k - 1]
                                perm.[k - 1] <- tmp
                                k <- k - 1

                        for r in 0 .. order - 1 do
                            sorted.[r] <- full.[perm.[r]]

                        let k = SiteTensor.find t sorted

                        for b in 0..2 do
                            comps.[order - 1] <- b
                            let mutable idx = 0

                            for r in 0 .. order - 1 do
                                idx <- 3 * idx + comps.[perm.[r]]

                            sum.[k * nComp + idx] <- sum.[k * nComp + idx] + scale * acc.[3 * last + b]

        if threads = 1 || nc = 1 then
            for c in 0 .. nc - 1 do
                body c
        else
            Parallel.For(0, nc, ParallelOptions(MaxDegreeOfParallelism = threads), Action<int> body)
            |> ignore

        // deterministic reduction in chunk order, then the mean over orderings
        let values = Array.zeroCreate t.Values.Length

        for c in 0 .. nc - 1 do
            let s = sums.[c]

            for x in 0 .. values.Length - 1 do
                values.[x] <- values.[x] + s.[x]

        let count = SiteTensor.count t
        let tuple = Array.zeroCreate order
        let digits = Array.zeroCreate order
        let block = Array.zeroCreate nComp
        let perms = SiteTensor.permutations order

        for k in 0 .. count - 1 do
            for i in 0 .. order - 1 do
                tuple.[i] <- t.Tuples.[k * order + i]

            let m = float (SiteTensor.multiplicity tuple)
            // symmetrise over the permutations σ that fix the tuple: S[a] = mean_σ R[a∘σ]
            let fixing =
                perms
                |> Array.filter (fun (s: int[]) ->
                    Array.forall (fun i -> tuple.[s.[i]] = tuple.[i]) [| 0 .. order - 1 |])

            for c in 0 .. nComp - 1 do
                let mutable x = c

                for i in order - 1 .. -1 .. 0 do
                    digits.[i] <- x % 3
                    x <- x / 3

                let mutable s = 0.0

                for sigma in fixing do
                    let mutable idx = 0

                    for i in 0 .. order - 1 do
                        idx <- 3 * idx + digits.[sigma.[i]]

                    s <- s + values.[k * nComp + idx]

                block.[c] <- s / float fixing.Length / m

            Array.blit block 0 values (k * nComp) nComp

        values

    /// δʲV(g) (3.1) of any site potential at the neighbour configuration `g` (one vector per stencil entry, Å) over
    /// the canonical tuples of the stencil sites within `radius` (Å); `zi` is the species of the centre, `zs` of each
    /// neighbour. j = 1 is the analytic gradient; j >= 2 the symmetrised, Richardson-extrapolated centred differences
    /// of the gradient described on the module. Raises ArgumentException for an order outside 1..4, a non-finite
    /// radius, a negative step or mismatched lengths.
    let siteTensorsAt
        (options: Options)
        (pot: ISitePotential)
        (zi: int)
        (zs: int[])
        (stencil: Vec3[])
        (g: Vec3[])
        (order: int)
        (radius: float)
        : Result =
        Validate.length "g" stencil.Length g
        Validate.length "zs" stencil.Length zs
        Validate.intInRange "options.Threads" 1 Int32.MaxValue options.Threads
        let t = SiteTensor.create order stencil radius

        if order = 1 then
            let n = g.Length
            let rs = Array.zeroCreate (3 * n)
            let grad = Array.zeroCreate (3 * n)

            for i in 0 .. n - 1 do
                Vec3.set rs i g.[i]

            pot.SiteGradient(zi, rs, zs, 0, n, grad) |> ignore

            for k in 0 .. SiteTensor.count t - 1 do
                let s = t.Tuples.[k]

                for b in 0..2 do
                    t.Values.[3 * k + b] <- grad.[3 * s + b]

            { Tensor = t
              ErrorEstimate = 0.0
              Step = 0.0 }
        else
            let h =
                if options.Step = 0.0 then
                    defaultStep order
                else
                    options.Step

            Validate.positive "options.Step" h
            let coarse = raw options.Threads pot zi zs g t h

            if options.Richardson then
                let fine = raw options.Threads pot zi zs g t (0.5 * h)
                let mutable err = 0.0

                for x in 0 .. t.Values.Length - 1 do
                    t.Values.[x] <- (4.0 * fine.[x] - coarse.[x]) / 3.0
                    err <- max err (abs (fine.[x] - coarse.[x]) / 3.0)

                { Tensor = t
                  ErrorEstimate = err
                  Step = h }
            else
                Array.blit coarse 0 t.Values 0 coarse.Length

                { Tensor = t
                  ErrorEstimate = Double.NaN
                  Step = h }

    /// δʲV^h(0) (3.1) at the homogeneous lattice (g = ρ, u = 0) of a single-species site potential whose centre and
    /// neighbours all have species index `species`, over the stencil sites within `radius` (Å); see `siteTensorsAt`.
    let siteTensors
        (options: Options)
        (pot: ISitePotential)
        (species: int)
        (stencil: Vec3[])
        (order: int)
        (radius: float)
        : Result =
        siteTensorsAt options pot species (Array.create stencil.Length species) stencil stencil order radius
