using Qmmm.Host;

// A reference model from the registry (`qmmm models` lists them all).
var model = Models.Create("eam-w-marinica");

// A ball of bcc W (radius 12 Å around a lattice site) with a vacancy at its centre: the defective reference Λ.
var lattice = Lattices.Bcc("W", 3.1434);
var cluster = lattice.Cluster(12.0).WithVacancyAtOrigin();

// Energy (eV), site energies (eV) and forces (eV/Å) of the unrelaxed vacancy cluster.
var result = model.Evaluate(cluster);
var strongest = result.ForceVectors.Select((f, i) => (Norm: f.Norm, Atom: i)).MaxBy(p => p.Norm);
Console.WriteLine($"atoms {cluster.Count}");
Console.WriteLine($"energy {result.Energy:R} eV");
Console.WriteLine($"max force {result.MaxForce:R} eV/A on atom {strongest.Atom}");

// The exact second derivative δ²V(0) of the site energy at the perfect lattice, neighbours within 3.2 Å (3.1).
var d2 = model.DerivativeTensors(lattice, order: 2, radius: 3.2);
Console.WriteLine($"d2V pairs {d2.Count} norm {d2.UnweightedNorm():R}");

// Bad input is a QmmmInputException that says where: file, line and field.
var bad = Path.Combine(Path.GetTempPath(), $"qmmm-example-{Environment.ProcessId}.xyz");
File.WriteAllText(bad, "1\nProperties=species:S:1:pos:R:3\nW 0.0 zero 0.0\n");
try
{
    Structure.Load(bad);
}
catch (QmmmInputException e)
{
    Console.WriteLine($"input error line {e.Line} field {e.Field}: {e.What}");
}
finally
{
    File.Delete(bad);
}
