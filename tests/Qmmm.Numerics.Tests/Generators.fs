/// Shared FsCheck generators and float-comparison helpers for the Numerics tests.
module Qmmm.Numerics.Tests.Generators

open Expecto
open FsCheck
open FsCheck.FSharp

/// Reproducible FsCheck configuration used by every property (fixed seed; 100 cases).
let config =
    { FsCheckConfig.defaultConfig with
        maxTest = 100
        replay = Some(1234UL, 5679UL, None) }

/// Floats uniform in [lo, hi].
let floatIn (lo: float) (hi: float) : Gen<float> =
    Gen.choose (0, 1_000_000) |> Gen.map (fun k -> lo + (hi - lo) * float k / 1e6)
