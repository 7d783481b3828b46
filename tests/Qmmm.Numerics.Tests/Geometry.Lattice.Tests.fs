module Qmmm.Numerics.Tests.GeometryLattice

// (tests not yet written)
