module Qmmm.Numerics.Tests.GeometryNeighbours

// (tests not yet written)
