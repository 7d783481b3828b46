module Qmmm.Numerics.Tests.JetsTaylor

// (tests not yet written)
