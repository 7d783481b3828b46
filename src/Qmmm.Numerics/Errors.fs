namespace Qmmm.Numerics

open System

/// Base of Qmmm's exception family: an input or set-up error the caller can fix (STYLE 14).
type QmmmException(message: string, inner: exn | null) =
    inherit Exception(message, inner)
    /// Creates the exception with a one-line message.
    new(message: string) = QmmmException(message, null)

/// A numerical method did not converge; the message names iterations, residual and tolerance.
type ConvergenceException(message: string, iterations: int, residual: float, tolerance: float) =
    inherit QmmmException(message)
    /// Iterations performed before giving up.
    member _.Iterations = iterations
    /// Residual at the last iterate.
    member _.Residual = residual
    /// Tolerance that was asked for.
    member _.Tolerance = tolerance

/// A computation produced a result that cannot be trusted (a non-finite energy, force or virial); the message names
/// the model and, where known, the atom (STYLE 14).
type ComputationException(message: string) =
    inherit QmmmException(message)

/// Contract checks shared by the library: each raises `ArgumentException` naming the argument and the offending value.
[<RequireQualifiedAccess>]
module Validate =

    /// Raises unless `value` is finite.
    let finite (name: string) (value: float) =
        if Double.IsNaN value || Double.IsInfinity value then
            invalidArg name (sprintf "%s must be finite, got %g" name value)

    /// Raises unless `value > 0`.
    let positive (name: string) (value: float) =
        if not (value > 0.0) then
            invalidArg name (sprintf "%s must be positive, got %g" name value)

    /// Raises unless `value >= 0` (NaN fails).
    let nonNegative (name: string) (value: float) =
        if not (value >= 0.0) then
            invalidArg name (sprintf "%s must be non-negative, got %g" name value)

    /// Raises unless `lo <= value <= hi`.
    let intInRange (name: string) (lo: int) (hi: int) (value: int) =
        if value < lo || value > hi then
            invalidArg name (sprintf "%s must lie in [%d, %d], got %d" name lo hi value)

    /// Raises unless the array has exactly `length` entries.
    let length (name: string) (length: int) (a: 'T[]) =
        if a.Length <> length then
            invalidArg name (sprintf "%s must have %d entries, got %d" name length a.Length)

    /// Raises unless every entry of the array is finite, naming the first bad index.
    let allFinite (name: string) (a: float[]) =
        for i in 0 .. a.Length - 1 do
            if Double.IsNaN a.[i] || Double.IsInfinity a.[i] then
                invalidArg name (sprintf "%s[%d] must be finite, got %g" name i a.[i])
