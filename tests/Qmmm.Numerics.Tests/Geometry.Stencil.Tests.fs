module Qmmm.Numerics.Tests.GeometryStencil

// (tests not yet written)
