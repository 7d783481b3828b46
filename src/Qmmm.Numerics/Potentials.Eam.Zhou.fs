namespace Qmmm.Numerics

// (not yet written: see the file list in Qmmm.Numerics.fsproj)
