using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Qmmm.Host;
using Qmmm.Host.IO;

namespace Qmmm.Cli;

/// <summary>
/// <c>qmmm relax</c>: sets up a defect domain (W or Si; vacancy, edge dislocation or none; quasi-2D disc or 3-D ball)
/// for a model, echoes every parameter (marking defaults) and the region counts on standard error, relaxes the free
/// atoms (progress on standard error) and prints a summary or one JSON object on standard output; <c>-o FILE</c>
/// writes the relaxed configuration as extended XYZ with <c>region</c>, <c>u0</c>, <c>u</c> columns and forces.
/// A solve that does not converge is an input error (exit code 1) naming iterations, residual and tolerance.
/// </summary>
internal static class RelaxCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The options shared with <c>qmmm lattice --defect</c>.</summary>
    internal sealed class SetupOptions
    {
        public required Option<string> Defect { get; init; }
        public required Option<string> Crystal { get; init; }
        public required Option<string> Model { get; init; }
        public required Option<double?> A { get; init; }
        public required Option<string> R0 { get; init; }
        public required Option<string> Predictor { get; init; }
        public required Option<double> Nu { get; init; }
        public required Option<bool> ThreeD { get; init; }
    }

    internal static SetupOptions MakeSetupOptions(string? defaultDefect, Option<double?>? existingA = null)
    {
        var defect = new Option<string>("--defect") { Description = "Defect at the core." };
        if (defaultDefect is not null)
        {
            defect.DefaultValueFactory = _ => defaultDefect;
        }

        defect.AcceptOnlyFromAmong("vacancy", "edge", "none");
        var crystal = new Option<string>("--crystal") { Description = "Crystal: w (bcc, x=[100], y=[010], z=[001]) or si (diamond, x=[110], y=[001], z=[1-10]).", DefaultValueFactory = _ => "w" };
        crystal.AcceptOnlyFromAmong("w", "si");
        var model = new Option<string>("--model", "-m")
        {
            HelpName = "MODEL",
            Description = "Reference model: " + string.Join(" | ", Models.Known) + ".",
            DefaultValueFactory = _ => "eam-w-marinica",
        };
        var a = existingA ?? new Option<double?>("--a") { HelpName = "A", Description = "Cubic lattice constant (Angstrom); default: the model's zero-pressure value, computed." };
        var r0 = new Option<string>("--r0") { Description = "Unit r0 of the radii: the lattice constant (as in the paper) or the nearest-neighbour distance.", DefaultValueFactory = _ => "lattice" };
        r0.AcceptOnlyFromAmong("lattice", "nn");
        var predictor = new Option<string>("--predictor") { Description = "Far-field predictor of an edge dislocation (CLE).", DefaultValueFactory = _ => "aniso" };
        predictor.AcceptOnlyFromAmong("aniso", "iso", "none");
        var nu = new Option<double>("--nu") { HelpName = "NU", Description = "Poisson ratio of the isotropic predictor.", DefaultValueFactory = _ => 0.25 };
        var threeD = new Option<bool>("--3d") { Description = "A 3-D ball (open in all directions) instead of the quasi-2D disc (periodic in z, one period)." };
        return new SetupOptions { Defect = defect, Crystal = crystal, Model = model, A = a, R0 = r0, Predictor = predictor, Nu = nu, ThreeD = threeD };
    }

    internal static (Model Model, DefectOptions Options) ReadSetup(ParseResult parse, SetupOptions o)
    {
        Model m;
        try
        {
            m = Models.Create(parse.GetValue(o.Model)!);
        }
        catch (ArgumentException e)
        {
            throw new UsageException("--model: " + Cli.Clean(e));
        }

        var a = parse.GetValue(o.A);
        if (a is { } av && (!double.IsFinite(av) || av <= 0))
        {
            throw new UsageException($"--a: expected a positive lattice constant in Angstrom, got {av.ToString(Inv)}");
        }

        var nu = parse.GetValue(o.Nu);
        if (!(nu > -1 && nu < 0.5))
        {
            throw new UsageException($"--nu: the Poisson ratio must lie in (-1, 0.5), got {nu.ToString(Inv)}");
        }

        var options = new DefectOptions
        {
            Crystal = parse.GetValue(o.Crystal) == "si" ? DefectCrystal.Si : DefectCrystal.W,
            Defect = parse.GetValue(o.Defect) switch { "edge" => DefectType.Edge, "none" => DefectType.None, _ => DefectType.Vacancy },
            LatticeConstant = a,
            NearestNeighbourUnit = parse.GetValue(o.R0) == "nn",
            Predictor = parse.GetValue(o.Predictor) switch { "iso" => FarFieldPredictor.Isotropic, "none" => FarFieldPredictor.None, _ => FarFieldPredictor.Anisotropic },
            PoissonRatio = nu,
            ThreeDimensional = parse.GetValue(o.ThreeD),
        };
        return (m, options);
    }

    internal static Command Build(TextWriter output, TextWriter error)
    {
        var setup = MakeSetupOptions("vacancy");
        var rmm = new Option<double>("--rmm") { HelpName = "R", Description = "Free region |x - core| <= R_MM, in units of r0.", DefaultValueFactory = _ => 10.0 };
        var rff = new Option<double?>("--rff") { HelpName = "W", Description = "Width of the far-field shell clamped to the predictor, in units of r0; default: the smallest integer >= 2 cutoffs / r0." };
        var tol = new Option<double>("--tol") { HelpName = "TOL", Description = "Stop at max |F| <= TOL over the free atoms (eV/Angstrom).", DefaultValueFactory = _ => 1e-8 };
        var maxIt = new Option<int>("--max-iterations") { HelpName = "N", Description = "Cap on the L-BFGS iterations.", DefaultValueFactory = _ => 10000 };
        var noPrecond = new Option<bool>("--no-preconditioner") { Description = "Plain L-BFGS / GMRES (no Exp lattice-Laplacian preconditioner)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (energy, iterations, residual, natoms, counts, a, r0, parameters, formation_energy) on standard output." };
        var outputPath = new Option<string?>("--output", "-o") { HelpName = "FILE", Description = "Write the relaxed configuration as extended XYZ (region, u0, u columns; forces)." };
        var coupled = CoupledRelax.Make();

        var command = new Command("relax", "Relax a defect (vacancy, edge dislocation) in W or Si with a model: far-field predictor, free and clamped regions, L-BFGS + Newton-Krylov to a force tolerance.")
        {
            setup.Defect, setup.Crystal, setup.Model, rmm, rff, setup.R0, setup.A, setup.Predictor, setup.Nu, tol, maxIt, noPrecond, setup.ThreeD, json, outputPath,
            coupled.Qm, coupled.Mm, coupled.Scheme, coupled.Rqm, coupled.Rbuf, coupled.Reference,
        };

        command.SetAction(parse =>
        {
            try
            {
                var (model, options) = ReadSetup(parse, setup);
                model = CoupledRelax.QmModel(parse, coupled) ?? model;
                var rmmValue = parse.GetValue(rmm);
                if (!double.IsFinite(rmmValue) || rmmValue <= 0)
                {
                    throw new UsageException($"--rmm: expected a positive radius in units of r0, got {rmmValue.ToString(Inv)}");
                }

                var rffValue = parse.GetValue(rff);
                if (rffValue is { } w && (!double.IsFinite(w) || w < 0))
                {
                    throw new UsageException($"--rff: expected a non-negative width in units of r0, got {w.ToString(Inv)}");
                }

                var tolValue = parse.GetValue(tol);
                if (!double.IsFinite(tolValue) || tolValue <= 0)
                {
                    throw new UsageException($"--tol: expected a positive tolerance in eV/Angstrom, got {tolValue.ToString(Inv)}");
                }

                var maxValue = parse.GetValue(maxIt);
                if (maxValue < 1)
                {
                    throw new UsageException($"--max-iterations: expected a positive whole number, got {maxValue}");
                }

                options.Rmm = rmmValue;
                options.Rff = rffValue;
                var system = DefectSystem.Create(model, options);
                var parameters = Parameters(parse, command, system);
                foreach (var (name, value, user) in parameters)
                {
                    error.WriteLine($"qmmm relax: {name} = {value}{(user ? "" : "  (default)")}");
                }

                Echo(error, system);
                var relaxOptions = new RelaxOptions { Tolerance = tolValue, MaxIterations = maxValue, Preconditioner = !parse.GetValue(noPrecond) };
                if (parse.GetValue(coupled.Mm) is not null)
                {
                    return CoupledRelax.Run(parse, coupled, system, relaxOptions, parameters, parse.GetValue(outputPath), parse.GetValue(json), output, error);
                }

                var result = system.Relax(relaxOptions, p =>
                {
                    if (p.Method == "newton" || p.Iteration % 25 == 0)
                    {
                        error.WriteLine(string.Create(Inv, $"qmmm relax: {p.Method} {p.Iteration}: dE = {p.EnergyDifference:R} eV, max|F| = {p.Residual:E3} eV/A"));
                    }
                });

                if (parse.GetValue(outputPath) is { } path)
                {
                    ExtXyz.Write(path, [result.Structure]);
                }

                if (parse.GetValue(json))
                {
                    output.Write(Json(system, result, parameters));
                }
                else
                {
                    output.WriteLine(string.Create(Inv, $"energy {result.Energy:R} eV ({system.AtomCount} atoms), relaxation {result.EnergyDifference:R} eV"));
                    output.WriteLine(string.Create(Inv, $"max|F| {result.Residual:E3} eV/A after {result.Iterations} L-BFGS + {result.NewtonIterations} Newton iterations, {result.Evaluations} force evaluations, {result.Seconds:F2} s"));
                    if (result.FormationEnergy is { } ef)
                    {
                        output.WriteLine(string.Create(Inv, $"vacancy formation energy {ef:R} eV"));
                    }
                }

                return Cli.Success;
            }
            catch (Exception e)
            {
                return Cli.Report(error, e);
            }
        });
        return command;
    }

    /// <summary>
    /// <c>qmmm lattice --defect ...</c>: writes the unrelaxed defect configuration x0 + u0 of radius
    /// <paramref name="radius"/> (Angstrom, from the core; every atom in region MM) with the predictor applied.
    /// </summary>
    internal static int WriteDefectLattice(ParseResult parse, SetupOptions setup, double? radius, string? path, TextWriter output, TextWriter error)
    {
        if (radius is not { } r || !double.IsFinite(r) || r <= 0)
        {
            throw new UsageException("--defect needs --radius R (Angstrom, measured from the core)");
        }

        var (model, options) = ReadSetup(parse, setup);
        options.NearestNeighbourUnit = false;
        var a0 = options.LatticeConstant;
        var system0 = DefectSystem.Create(model, new DefectOptions { Crystal = options.Crystal, Defect = DefectType.None, LatticeConstant = a0, Rmm = 1, Rff = 0 });
        options.LatticeConstant = system0.LatticeConstant;
        options.Rmm = r / system0.LatticeConstant;
        options.Rff = 0;
        var system = DefectSystem.Create(model, options);
        Echo(error, system);
        var s = system.Predicted();
        s.Info["radius"] = ExtXyz.FormatReal(r);
        if (path is null)
        {
            output.Write(ExtXyz.ToText([s]));
        }
        else
        {
            s.Save(path);
            output.WriteLine($"wrote {s.Count} atoms ({parse.GetValue(setup.Defect)} in {parse.GetValue(setup.Crystal)}, predictor applied) to {path}");
        }

        return Cli.Success;
    }

    /// <summary>Prints the lattice constant, elastic constants, r0 and region counts of a set-up system.</summary>
    internal static void Echo(TextWriter error, DefectSystem system)
    {
        var c = system.ElasticConstantsGPa;
        error.WriteLine(string.Create(Inv, $"qmmm relax: a = {system.LatticeConstant:R} A ({(system.LatticeConstantComputed ? "computed: zero pressure of the model" : "given")}), r_nn = {system.NearestNeighbourDistance:R} A, r0 = {system.R0:R} A"));
        error.WriteLine(string.Create(Inv, $"qmmm relax: C11 = {c.C11:F2} GPa, C12 = {c.C12:F2} GPa, C44 = {c.C44:F2} GPa (Cauchy-Born, cube axes)"));
        error.WriteLine(string.Create(Inv, $"qmmm relax: R_FF = {system.RffUnits:R} r0; atoms {system.AtomCount}: free (MM) {system.FreeCount}, far field (fixed) {system.FarFieldCount}"));
    }

    private static List<(string Name, string Value, bool User)> Parameters(ParseResult parse, Command command, DefectSystem system)
    {
        var list = new List<(string, string, bool)>();
        foreach (var option in command.Options)
        {
            if (option.Name is "--help" or "-h" or "--json" or "--output")
            {
                continue;
            }

            var r = parse.GetResult(option);
            var user = r is not null && !r.Implicit;
            var value = option.Name switch
            {
                "--a" => (system.LatticeConstant).ToString("R", Inv),
                "--rff" => system.RffUnits.ToString("R", Inv),
                _ => r is null ? "" : Format(r.GetValueOrDefault<object?>()),
            };
            list.Add((option.Name.TrimStart('-'), value, user));
        }

        return list;
    }

    private static string Format(object? v) => v switch
    {
        null => "",
        double d => d.ToString("R", Inv),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(v, Inv) ?? "",
    };

    private static string Json(DefectSystem system, RelaxationResult result, List<(string Name, string Value, bool User)> parameters)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("units");
            w.WriteString("energy", "eV");
            w.WriteString("residual", "eV/Angstrom");
            w.WriteString("lengths", "Angstrom");
            w.WriteString("elastic_constants", "GPa");
            w.WriteEndObject();
            w.WriteString("model", system.Model.Name);
            w.WriteNumber("energy", result.Energy);
            w.WriteNumber("energy_difference", result.EnergyDifference);
            w.WriteNumber("iterations", result.Iterations);
            w.WriteNumber("newton_iterations", result.NewtonIterations);
            w.WriteNumber("force_evaluations", result.Evaluations);
            w.WriteNumber("residual", result.Residual);
            w.WriteNumber("seconds", result.Seconds);
            w.WriteNumber("natoms", system.AtomCount);
            w.WriteStartObject("counts");
            w.WriteNumber("MM", system.FreeCount);
            w.WriteNumber("fixed", system.FarFieldCount);
            w.WriteEndObject();
            w.WriteNumber("a", system.LatticeConstant);
            w.WriteBoolean("a_computed", system.LatticeConstantComputed);
            w.WriteNumber("r0", system.R0);
            w.WriteNumber("r_nn", system.NearestNeighbourDistance);
            var c = system.ElasticConstantsGPa;
            w.WriteStartObject("elastic_constants");
            w.WriteNumber("C11", c.C11);
            w.WriteNumber("C12", c.C12);
            w.WriteNumber("C44", c.C44);
            w.WriteEndObject();
            if (result.FormationEnergy is { } ef)
            {
                w.WriteNumber("formation_energy", ef);
            }

            w.WriteStartObject("parameters");
            foreach (var (name, value, user) in parameters)
            {
                w.WriteStartObject(name);
                w.WriteString("value", value);
                w.WriteBoolean("user_set", user);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
