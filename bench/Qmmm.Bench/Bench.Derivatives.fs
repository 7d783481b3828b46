/// Derivative tensors δʲV^h(0) at the bcc W lattice (issue item 7): the pooled Faà di Bruno engine against the
/// brute-force Taylor oracle (whole site energy, per tuple) measured in the same run on a subset of tuples.
module Qmmm.Bench.Derivatives

open System
open System.Diagnostics
open Qmmm.Numerics
open Qmmm.Bench.Harness

// A smooth analytic EAM with W-like scales (the same form as the test model of Derivatives.Tensors.Tests):
// φ(r) = 0.6 exp(-3 (r - 2.7)) fc, ρ(r) = exp(-1.5 (r - 2.7)) fc, F(ρ) = -√ρ + 0.02 ρ², fc = (1 - r/rc)^5.
let private rc = 5.4604375

let inline private taper (r: ^T) : ^T =
    if value r >= rc then
        ofFloat 0.0
    else
        powi (1.0 .- r /. rc) 5

let inline private pair (r: ^T) : ^T =
    exp ((r -. 2.7) *. -3.0) *. 0.6 * taper r

let inline private density (r: ^T) : ^T = exp ((r -. 2.7) *. -1.5) * taper r
let inline private embedding (t: ^T) : ^T = 0.02 .* (t * t) - sqrt t

let private analytic: EamModel =
    { Name = "analytic test EAM (W-like, rc = 5.4604375 Å)"
      Elements = [| "W" |]
      Cutoff = rc
      Pair = [| { F = pair; D = pair; J = pair } |]
      Density =
        [| { F = density
             D = density
             J = density } |]
      Embedding =
        [| { F = embedding
             D = embedding
             J = embedding } |] }

/// The models benchmarked: Marinica EAM4 (the default W model) and the analytic model with the same cutoff.
let private models () = [ Marinica.model; analytic ]

/// Times δʲV for all canonical tuples within `radius`, and the oracle on every `stride`-th tuple.
let private one (m: EamModel) (stencil: Vec3[]) (order: int) (radius: float) (stride: int) (label: string) =
    let pot = Pooled.ofEam m 0
    let mutable t = Unchecked.defaultof<SiteTensor>

    let seconds =
        median 5 (fun () -> t <- Derivatives.siteTensors pot stencil order radius)

    let n = SiteTensor.count t
    report (sprintf "δ%dV %s: %d canonical tuples, pooled engine" order label n) seconds "s"
    // oracle on a subset (same run)
    let picks = [| 0..stride .. n - 1 |]
    let sw = Stopwatch.StartNew()
    let mutable worst = 0.0
    let scale = t.Values |> Array.fold (fun acc v -> max acc (abs v)) 0.0
    let nComp = pown 3 order

    for k in picks do
        let b = ReferenceDerivatives.eamBlock m 0 stencil (SiteTensor.tupleAt t k)

        for c in 0 .. nComp - 1 do
            worst <- max worst (abs (b.[c] - t.Values.[k * nComp + c]))

    let perTuple = sw.Elapsed.TotalSeconds / float picks.Length
    report (sprintf "  brute-force Taylor oracle, %d tuples (s per tuple)" picks.Length) perTuple "s"
    report "  oracle extrapolated to all tuples" (perTuple * float n) "s"
    report "  speed-up of the pooled engine over the oracle" (perTuple * float n / seconds) "x"
    report "  max |pooled - oracle| / max |entry| on the subset" (worst / scale) ""

/// Runs the benchmark: δ¹V, δ²V, δ³V for all tuples within the cutoff (58 neighbours), δ⁴V for all quadruples within
/// the second shell (14 neighbours); the brute-force oracle on a subset as the same-run baseline; and the general
/// route for non-pooled models (nested centred differences of the analytic gradient) for δ²V and δ³V.
let run (_args: string[]) =
    for m in models () do
        let a = 3.1434
        let stencil = Lattice.stencil (Lattice.bcc "W" a) m.Cutoff
        let second = 0.5 * (a + a * Math.Sqrt 2.0)
        printfn "Derivative tensors of %s at bcc W, a = %g Å, %d neighbours" m.Name a stencil.Length
        one m stencil 1 m.Cutoff 1 "within the cutoff"
        one m stencil 2 m.Cutoff 7 "within the cutoff"
        one m stencil 3 m.Cutoff 171 "within the cutoff"
        one m stencil 4 second 60 "within the second shell"
        let site = Eam.potential m
        let zs = Array.zeroCreate stencil.Length

        for j, radius in [ 2, m.Cutoff; 3, second ] do
            let pooled = Derivatives.siteTensors (Pooled.ofEam m 0) stencil j radius
            let sw = Stopwatch.StartNew()

            let fd =
                ReferenceDerivatives.byGradientDifferences
                    site
                    0
                    zs
                    stencil
                    stencil
                    j
                    radius
                    (ReferenceDerivatives.defaultStep j)

            let seconds = sw.Elapsed.TotalSeconds
            let scale = pooled.Values |> Array.fold (fun acc v -> max acc (abs v)) 0.0

            let err =
                Array.fold2 (fun acc x y -> max acc (abs (x - y))) 0.0 fd.Values pooled.Values

            report
                (sprintf
                    "δ%dV by centred differences of the gradient, radius %.3f Å (%d tuples)"
                    j
                    radius
                    (SiteTensor.count fd))
                seconds
                "s"

            report "  max |differences - exact| / max |entry|" (err / scale) ""
