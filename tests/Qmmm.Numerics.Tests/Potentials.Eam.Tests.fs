module Qmmm.Numerics.Tests.PotentialsEam

// (tests not yet written)
