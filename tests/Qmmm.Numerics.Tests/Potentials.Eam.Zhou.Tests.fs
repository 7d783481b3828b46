module Qmmm.Numerics.Tests.PotentialsEamZhou

// (tests not yet written)
