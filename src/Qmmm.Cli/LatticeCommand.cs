using System.CommandLine;
using System.Globalization;
using Qmmm.Host;
using Qmmm.Host.IO;

namespace Qmmm.Cli;

/// <summary>
/// <c>qmmm lattice</c>: writes a bulk, vacancy, cluster or quasi-2D configuration of a lattice as extended XYZ
/// (to <c>-o FILE</c>, or to standard output).
/// </summary>
internal static class LatticeCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    internal static Command Build(TextWriter output, TextWriter error)
    {
        var element = new Option<string>("--element") { HelpName = "SYMBOL", Description = "Element symbol of every site.", DefaultValueFactory = _ => "W" };
        var kind = new Option<string>("--lattice") { Description = "Lattice kind.", DefaultValueFactory = _ => "bcc" };
        kind.AcceptOnlyFromAmong([.. Lattices.Kinds]);
        var a = new Option<double?>("--a") { HelpName = "A", Description = "Cubic lattice constant a (Angstrom), e.g. 3.1434 for W (required unless --defect: then the model's zero-pressure value by default)." };
        var defect = RelaxCommand.MakeSetupOptions(null, a);
        var orient = new Option<string>("--orient")
        {
            HelpName = "X,Y,Z",
            Description = "Miller directions of the x, y, z axes, comma-separated (e.g. 100,010,001 or 1-10,111,-1-12).",
            DefaultValueFactory = _ => "100,010,001",
        };
        var radius = new Option<double?>("--radius") { HelpName = "R", Description = "Radius R (Angstrom): a cluster (ball) or, with --quasi2d, a quasi-2D disc." };
        var quasi2d = new Option<bool>("--quasi2d") { Description = "With --radius: the paper's quasi-2D domain (disc of radius R, one period along z, periodic in z only)." };
        var repeat = new Option<string?>("--repeat") { HelpName = "N1xN2xN3", Description = "Periodic cell of N1xN2xN3 lattice periods (e.g. 4x4x4)." };
        var vacancy = new Option<bool>("--vacancy") { Description = "Remove the site at the origin (the defect core)." };
        var perturb = new Option<double?>("--perturb") { HelpName = "AMPLITUDE", Description = "Random displacement amplitude (Angstrom): uniform in [-A, A] per coordinate. Needs --seed." };
        var seed = new Option<int?>("--seed") { HelpName = "SEED", Description = "Seed of the random displacements." };
        var outputPath = new Option<string?>("--output", "-o") { HelpName = "FILE", Description = "Output file (extended XYZ); standard output when omitted." };

        var command = new Command("lattice", "Write a lattice configuration (bulk cell, cluster, quasi-2D disc, optional vacancy and random displacements; or, with --defect, a W/Si vacancy or edge dislocation with the far-field predictor applied) as extended XYZ.")
        {
            element, kind, a, orient, radius, quasi2d, repeat, vacancy, perturb, seed, outputPath,
            defect.Defect, defect.Crystal, defect.Model, defect.Predictor, defect.Nu, defect.ThreeD,
        };

        command.SetAction(parse =>
        {
            try
            {
                if (parse.GetValue(defect.Defect) is not null)
                {
                    return RelaxCommand.WriteDefectLattice(parse, defect, parse.GetValue(radius), parse.GetValue(outputPath), output, error);
                }

                var aValue = parse.GetValue(a) ?? throw new UsageException("Option '--a' is required.");
                if (!double.IsFinite(aValue) || aValue <= 0)
                {
                    throw new UsageException($"--a: expected a positive lattice constant in Angstrom, got {aValue.ToString(Inv)}");
                }

                var r = parse.GetValue(radius);
                var rep = parse.GetValue(repeat);
                if (r is null == rep is null)
                {
                    throw new UsageException("give either --radius R (cluster, or quasi-2D disc with --quasi2d) or --repeat N1xN2xN3 (periodic cell)");
                }

                if (r is { } rv && (!double.IsFinite(rv) || rv <= 0))
                {
                    throw new UsageException($"--radius: expected a positive radius in Angstrom, got {rv.ToString(Inv)}");
                }

                var q2d = parse.GetValue(quasi2d);
                if (q2d && r is null)
                {
                    throw new UsageException("--quasi2d needs --radius R (the disc radius)");
                }

                var amp = parse.GetValue(perturb);
                var seedValue = parse.GetValue(seed);
                if (amp is { } av && (!double.IsFinite(av) || av < 0))
                {
                    throw new UsageException($"--perturb: expected a non-negative amplitude in Angstrom, got {av.ToString(Inv)}");
                }

                if (amp is not null && seedValue is null)
                {
                    throw new UsageException("--perturb needs an explicit --seed (every random choice takes a seed)");
                }

                LatticeSpec lattice;
                try
                {
                    lattice = Lattices.Create(parse.GetValue(kind)!, parse.GetValue(element)!, aValue);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException("--element/--lattice/--a: " + Cli.Clean(e));
                }

                lattice = Orient(lattice, parse.GetValue(orient)!);

                Structure s;
                string domain;
                if (rep is not null)
                {
                    var (n1, n2, n3) = ParseRepeat(rep);
                    s = lattice.Periodic(n1, n2, n3);
                    domain = "periodic";
                    s.Info["repeat"] = $"{n1}x{n2}x{n3}";
                }
                else if (q2d)
                {
                    s = lattice.Quasi2D(r!.Value);
                    domain = "quasi2d";
                    s.Info["radius"] = ExtXyz.FormatReal(r.Value);
                }
                else
                {
                    s = lattice.Cluster(r!.Value);
                    domain = "cluster";
                    s.Info["radius"] = ExtXyz.FormatReal(r.Value);
                }

                s.Info["domain"] = domain;
                s.Info["units"] = "length=Angstrom";
                s.Info["lattice"] = lattice.Kind;
                s.Info["a"] = ExtXyz.FormatReal(lattice.A);
                s.Info["orient"] = lattice.OrientationText; // "x=[1,0,0] y=[0,1,0] z=[0,0,1]": ASE keeps it a string
                if (parse.GetValue(vacancy))
                {
                    s = s.WithVacancyAtOrigin();
                    s.Info["vacancy"] = "T";
                }

                if (amp is { } amplitude)
                {
                    s = s.Perturbed(seedValue!.Value, amplitude);
                    s.Info["perturb"] = ExtXyz.FormatReal(amplitude);
                    s.Info["seed"] = seedValue.Value.ToString(Inv);
                }

                var path = parse.GetValue(outputPath);
                if (path is null)
                {
                    output.Write(ExtXyz.ToText([s]));
                }
                else
                {
                    s.Save(path);
                    output.WriteLine($"wrote {s.Count} atoms ({domain}, {lattice}{(parse.GetValue(vacancy) ? ", vacancy at the origin" : "")}) to {path}");
                }

                return Cli.Success;
            }
            catch (ArgumentException e)
            {
                // No input file here: an invalid argument can only come from the option values.
                var option = e.ParamName switch { "radius" => "--radius: ", "repeat" => "--repeat: ", _ => "" };
                return Cli.Fail(error, Cli.UsageError, option + Cli.Clean(e));
            }
            catch (Exception e)
            {
                return Cli.Report(error, e);
            }
        });
        return command;
    }

    internal static LatticeSpec Orient(LatticeSpec lattice, string text)
    {
        var parts = SplitDirections(text);
        if (parts.Length != 3)
        {
            throw new UsageException($"--orient: expected three comma-separated Miller directions such as 100,010,001, got '{text}'");
        }

        try
        {
            var d = parts.Select(Lattices.ParseDirection).ToArray();
            return lattice.Oriented(d[0], d[1], d[2]);
        }
        catch (ArgumentException e)
        {
            throw new UsageException("--orient: " + Cli.Clean(e));
        }
    }

    /// <summary>
    /// Splits an <c>--orient</c> value into its three directions: bracketed groups (<c>[50,50,1]</c>, <c>&lt;1 -1 0&gt;</c>,
    /// <c>(1,1,1)</c>) are kept whole; between them, commas, semicolons, slashes and spaces separate compact directions.
    /// </summary>
    internal static string[] SplitDirections(string text)
    {
        var parts = new List<string>();
        var current = new System.Text.StringBuilder();
        var close = '\0';
        foreach (var ch in text)
        {
            if (close != '\0')
            {
                current.Append(ch);
                if (ch == close)
                {
                    close = '\0';
                    parts.Add(current.ToString());
                    current.Clear();
                }
            }
            else if (ch is '[' or '<' or '(')
            {
                if (current.ToString().Trim().Length > 0)
                {
                    parts.Add(current.ToString().Trim());
                }

                current.Clear().Append(ch);
                close = ch switch { '[' => ']', '<' => '>', _ => ')' };
            }
            else if (ch is ',' or ';' or '/' || char.IsWhiteSpace(ch))
            {
                if (current.ToString().Trim().Length > 0)
                {
                    parts.Add(current.ToString().Trim());
                }

                current.Clear();
            }
            else
            {
                current.Append(ch);
            }
        }

        if (current.ToString().Trim().Length > 0)
        {
            parts.Add(current.ToString().Trim());
        }

        return [.. parts];
    }

    private static (int, int, int) ParseRepeat(string text)
    {
        var parts = text.Split(['x', 'X', ',', '*'], StringSplitOptions.TrimEntries);
        int[] n = parts.Length == 1 ? [0] : new int[parts.Length];
        var ok = parts.Length is 1 or 3;
        for (var k = 0; ok && k < parts.Length; k++)
        {
            ok = int.TryParse(parts[k], NumberStyles.None, Inv, out n[k]) && n[k] >= 1;
        }

        if (!ok)
        {
            throw new UsageException($"--repeat: expected N1xN2xN3 with positive integers (e.g. 4x4x4), got '{text}'");
        }

        return parts.Length == 1 ? (n[0], n[0], n[0]) : (n[0], n[1], n[2]);
    }
}
