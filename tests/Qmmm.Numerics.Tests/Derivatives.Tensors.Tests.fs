module Qmmm.Numerics.Tests.DerivativesTensors

// (tests not yet written)
