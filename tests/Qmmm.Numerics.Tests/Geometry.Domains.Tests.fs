module Qmmm.Numerics.Tests.GeometryDomains

// (tests not yet written)
