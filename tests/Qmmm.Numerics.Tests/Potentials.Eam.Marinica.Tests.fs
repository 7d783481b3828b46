module Qmmm.Numerics.Tests.PotentialsEamMarinica

// (tests not yet written)
