using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Qmmm.Host;
using Spectre.Console;

namespace Qmmm.Cli;

/// <summary>
/// <c>qmmm derivatives</c>: the exact derivative tensor δʲV^h(0) (paper (3.1)) of a model's site energy at the
/// homogeneous lattice, for the neighbours within a radius. Prints a summary table, or the whole tensor as JSON
/// (<c>--json</c> on standard output, <c>-o FILE</c> to a file).
/// </summary>
internal static class DerivativesCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Largest stencil (neighbours within the radius) accepted for orders 3 and 4.</summary>
    internal const int MaxNeighboursHighOrder = 100;

    /// <summary>Largest number of stored tensor components (tuples × 3^j) accepted.</summary>
    internal const double MaxStoredNumbers = 2e7;

    /// <summary>The JSON layout, stated in the help text and in README.md.</summary>
    internal const string JsonLayout =
        "JSON: {\"units\": {\"energy\": \"eV\", \"length\": \"Angstrom\", \"tensor\": \"eV/Angstrom^j\"}, \"model\", "
        + "\"lattice\": {\"kind\", \"element\", \"a\", \"orient\"}, \"order\": j, \"radius\", \"stencil\": [[x,y,z], ...] "
        + "(neighbours rho with |rho| <= radius, Angstrom), \"tuples\": [[i1..ij], ...] (canonical: sorted 0-based "
        + "stencil indices, lexicographically ordered), \"multiplicity\": [...] (orderings each tuple stands for), "
        + "\"blocks\": [[3^j numbers], ...] with block[c] = d^jV / dg_{i1,a1}...dg_{ij,aj}, c = sum_p a_p 3^(j-1-p), "
        + "a = 0,1,2 for x,y,z (a1 slowest)}.";

    internal static Command Build(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model", "-m")
        {
            HelpName = "MODEL",
            Description = "Model: " + string.Join(" | ", Models.Known) + " (qmmm models lists them).",
            DefaultValueFactory = _ => "eam-w-marinica",
        };
        var kind = new Option<string>("--lattice") { Description = "Lattice kind.", DefaultValueFactory = _ => "bcc" };
        kind.AcceptOnlyFromAmong([.. Lattices.Kinds]);
        var element = new Option<string>("--element") { HelpName = "SYMBOL", Description = "Element symbol of every site.", DefaultValueFactory = _ => "W" };
        var a = new Option<double>("--a") { HelpName = "A", Description = "Cubic lattice constant a (Angstrom), e.g. 3.1434 for W.", Required = true };
        var orient = new Option<string>("--orient")
        {
            HelpName = "X,Y,Z",
            Description = "Miller directions of the x, y, z axes, comma-separated (e.g. 100,010,001 or 1-10,111,-1-12).",
            DefaultValueFactory = _ => "100,010,001",
        };
        var order = new Option<int>("--order") { HelpName = "J", Description = "Derivative order j, 1..4.", Required = true };
        var radius = new Option<double>("--radius") { HelpName = "R", Description = "Radius R (Angstrom): the tensor covers the neighbours rho with |rho| <= R (and within the model's cutoff).", Required = true };
        var gamma = new Option<double>("--gamma") { HelpName = "GAMMA", Description = "Decay gamma (1/Angstrom, >= 0) of the weighted norm (3.1)-(3.2) in the summary; 0 = unweighted.", DefaultValueFactory = _ => 0.0 };
        var json = new Option<bool>("--json") { Description = "Print the tensor as JSON on standard output. " + JsonLayout };
        var outputPath = new Option<string?>("--output", "-o") { HelpName = "FILE", Description = "Write the tensor as JSON to FILE (the summary still goes to standard output)." };

        var command = new Command("derivatives", "Print the exact derivative tensor d^jV^h(0) (3.1) of a model's site energy at the homogeneous lattice (eV/Angstrom^j).")
        {
            model, kind, element, a, orient, order, radius, gamma, json, outputPath,
        };

        command.SetAction(parse =>
        {
            try
            {
                var j = parse.GetValue(order);
                if (j is < 1 or > 4)
                {
                    throw new UsageException($"--order: expected a derivative order in 1..4, got {j}");
                }

                var r = parse.GetValue(radius);
                if (!double.IsFinite(r) || r <= 0)
                {
                    throw new UsageException($"--radius: expected a positive radius in Angstrom, got {r.ToString(Inv)}");
                }

                var aValue = parse.GetValue(a);
                if (!double.IsFinite(aValue) || aValue <= 0)
                {
                    throw new UsageException($"--a: expected a positive lattice constant in Angstrom, got {aValue.ToString(Inv)}");
                }

                var g = parse.GetValue(gamma);
                if (!double.IsFinite(g) || g < 0)
                {
                    throw new UsageException($"--gamma: expected a non-negative decay in 1/Angstrom, got {g.ToString(Inv)}");
                }

                var m = Cli.CreateModel("--model", parse.GetValue(model)!);

                LatticeSpec lattice;
                try
                {
                    lattice = Lattices.Create(parse.GetValue(kind)!, parse.GetValue(element)!, aValue);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException("--element/--lattice/--a: " + Cli.Clean(e));
                }

                lattice = LatticeCommand.Orient(lattice, parse.GetValue(orient)!);
                CheckSize(lattice, m, j, r);

                DerivativeTensor t;
                try
                {
                    t = m.DerivativeTensors(lattice, j, r);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException("--element: " + Cli.Clean(e));
                }

                // Everything is computed before anything is printed: a failure prints no number.
                var text = Json(t, m, lattice);
                var norm = g == 0 ? t.UnweightedNorm() : t.Norm(g);
                var outPath = parse.GetValue(outputPath);
                if (outPath is not null)
                {
                    Host.IO.AtomicFile.WriteAllText(outPath, text);
                }

                if (parse.GetValue(json) && outPath is null)
                {
                    output.Write(text);
                }
                else
                {
                    Summary(output, t, m, lattice, g, norm, outPath);
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
    /// Refuses a tensor too large to hold: more than <see cref="MaxNeighboursHighOrder"/> neighbours at order ≥ 3, or
    /// more than <see cref="MaxStoredNumbers"/> stored numbers (C(K+j−1, j) sorted tuples × 3^j components).
    /// </summary>
    private static void CheckSize(LatticeSpec lattice, Model m, int j, double r)
    {
        var k = lattice.Stencil(Math.Min(r, m.Cutoff)).GetLength(0);
        if (j >= 3 && k > MaxNeighboursHighOrder)
        {
            throw new UsageException($"--radius: {r.ToString(Inv)} Angstrom covers {k} neighbours; order {j} is limited to {MaxNeighboursHighOrder} neighbours (use a smaller radius)");
        }

        var tuples = 1.0;
        for (var p = 0; p < j; p++)
        {
            tuples = tuples * (k + p) / (p + 1);
        }

        var numbers = tuples * Math.Pow(3, j);
        if (numbers > MaxStoredNumbers)
        {
            throw new UsageException($"--radius: {r.ToString(Inv)} Angstrom at order {j} needs {numbers.ToString("0", Inv)} stored numbers (limit {MaxStoredNumbers.ToString("0", Inv)}; use a smaller radius)");
        }
    }

    /// <summary>The covered stencil indices of <paramref name="t"/> and the map from full-stencil index to JSON index.</summary>
    private static (int[] Sites, Dictionary<int, int> Index) Covered(DerivativeTensor t)
    {
        var sites = t.Sites;
        var index = new Dictionary<int, int>(sites.Length);
        for (var i = 0; i < sites.Length; i++)
        {
            index[sites[i]] = i;
        }

        return (sites, index);
    }

    /// <summary>The JSON report; layout in <see cref="JsonLayout"/>.</summary>
    internal static string Json(DerivativeTensor t, Model m, LatticeSpec lattice)
    {
        var (sites, index) = Covered(t);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteStartObject("units");
            w.WriteString("energy", "eV");
            w.WriteString("length", "Angstrom");
            w.WriteString("tensor", "eV/Angstrom^j");
            w.WriteEndObject();
            w.WriteString("model", m.Name);
            w.WriteStartObject("lattice");
            w.WriteString("kind", lattice.Kind);
            w.WriteString("element", lattice.Element);
            w.WriteNumber("a", lattice.A);
            w.WriteStartArray("orient");
            var o = lattice.Orientation;
            for (var i = 0; i < 3; i++)
            {
                w.WriteStartArray();
                for (var c = 0; c < 3; c++)
                {
                    w.WriteNumberValue(o[i, c]);
                }

                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteNumber("order", t.Order);
            w.WriteNumber("radius", t.Radius);
            w.WriteStartArray("stencil");
            foreach (var s in sites)
            {
                w.WriteStartArray();
                for (var c = 0; c < 3; c++)
                {
                    w.WriteNumberValue(t.Stencil[s, c]);
                }

                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteStartArray("tuples");
            for (var k = 0; k < t.Count; k++)
            {
                w.WriteStartArray();
                foreach (var i in t.Tuple(k))
                {
                    w.WriteNumberValue(index[i]);
                }

                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteStartArray("multiplicity");
            for (var k = 0; k < t.Count; k++)
            {
                w.WriteNumberValue(t.Multiplicity(k));
            }

            w.WriteEndArray();
            w.WriteStartArray("blocks");
            for (var k = 0; k < t.Count; k++)
            {
                w.WriteStartArray();
                foreach (var v in t.Block(k))
                {
                    w.WriteNumberValue(v);
                }

                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>The human-readable summary table (plain text, no colours).</summary>
    private static void Summary(TextWriter output, DerivativeTensor t, Model m, LatticeSpec lattice, double gamma, double norm, string? outPath)
    {
        var (sites, index) = Covered(t);
        var (maxV, maxK, maxC) = (0.0, -1, -1);
        for (var k = 0; k < t.Count; k++)
        {
            var b = t.Block(k);
            for (var c = 0; c < b.Length; c++)
            {
                if (Math.Abs(b[c]) > Math.Abs(maxV))
                {
                    (maxV, maxK, maxC) = (b[c], k, c);
                }
            }
        }

        var console = SummaryTable.Console(output);
        var j = t.Order;
        var unit = j == 1 ? "eV/Angstrom" : $"eV/Angstrom^{j}";
        var table = SummaryTable.Create($"derivative tensor d^{j}V^h(0) (3.1)");
        SummaryTable.Row(table, "model", m.ToString(), "");
        SummaryTable.Row(table, "lattice", lattice.ToString(), "");
        SummaryTable.Row(table, "order j", j.ToString(Inv), "");
        SummaryTable.Row(table, "radius", t.Radius.ToString("R", Inv), "Angstrom");
        SummaryTable.Row(table, "stencil neighbours", sites.Length.ToString(Inv), "");
        SummaryTable.Row(table, "canonical tuples", t.Count.ToString(Inv), "");
        SummaryTable.Row(table, $"norm |d^{j}V| (gamma = {gamma.ToString("R", Inv)})", norm.ToString("R", Inv), unit);
        if (maxK >= 0)
        {
            var tuple = string.Join(",", t.Tuple(maxK).Select(i => index[i].ToString(Inv)));
            var comps = new char[j];
            for (int p = 0, c = maxC; p < j; p++)
            {
                comps[j - 1 - p] = "xyz"[c % 3];
                c /= 3;
            }

            SummaryTable.Row(table, $"largest entry (tuple {tuple}, {new string(comps)})", maxV.ToString("R", Inv), unit);
        }

        console.Write(table);
        if (outPath is not null)
        {
            output.WriteLine($"wrote the tensor ({t.Count} tuples x {t.BlockSize} components) as JSON to {outPath}");
        }
    }

}
