module Qmmm.Numerics.Tests.LinearAlgebra

// (tests not yet written)
