using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Qmmm.Host;
using Qmmm.Host.IO;
using Spectre.Console;

namespace Qmmm.Cli;

/// <summary>
/// <c>qmmm eval</c>: evaluates every frame of an extended XYZ file with a model; prints the energy (eV), writes
/// per-atom energies, forces and the virial as extended XYZ (<c>-o FILE</c>) and/or as JSON on standard output
/// (<c>--json</c>).
/// </summary>
internal static class EvalCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    internal static Command Build(TextWriter output, TextWriter error)
    {
        var config = new Argument<string>("CONFIG") { Description = "Configuration file (extended XYZ, one or more frames)." };
        var model = new Option<string>("--model", "-m")
        {
            HelpName = "MODEL",
            Description = "Model: " + string.Join(" | ", Models.Known) + " (qmmm models lists them).",
            DefaultValueFactory = _ => "eam-w-marinica",
        };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON on standard output (units included)." };
        var outputPath = new Option<string?>("--output", "-o") { HelpName = "FILE", Description = "Write the frames with energy, per-atom energies, forces, virial and stress as extended XYZ." };
        var threads = new Option<int?>("--threads") { HelpName = "N", Description = "Maximum number of threads (default: all cores); results do not depend on it." };

        var command = new Command("eval", "Evaluate energy (eV), per-atom energies, forces (eV/Angstrom), virial (eV) and stress (eV/Angstrom^3) of a configuration.")
        {
            config, model, json, outputPath, threads,
        };

        command.SetAction(parse =>
        {
            try
            {
                Model m;
                try
                {
                    m = Models.Create(parse.GetValue(model)!);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException("--model: " + Cli.Clean(e));
                }

                var threadCount = parse.GetValue(threads);
                if (threadCount is < 1 or > 4096)
                {
                    throw new UsageException($"--threads: expected a whole number from 1 to 4096, got {threadCount}");
                }

                var path = parse.GetValue(config)!;
                var timing = Environment.GetEnvironmentVariable("QMMM_TIMING") == "1";
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var frames = Structure.LoadAll(path);
                var tLoad = clock.Elapsed.TotalSeconds;
                if (frames.Length == 0)
                {
                    throw new QmmmInputException($"{path}: the file holds no frame");
                }

                var results = frames.Select(f => m.Evaluate(f, threadCount)).ToArray();
                foreach (var f in frames)
                {
                    if (NrlTightBinding.LevelWarning(m, f) is string warning)
                    {
                        error.WriteLine("qmmm: warning: " + warning);
                    }
                }

                var tEval = clock.Elapsed.TotalSeconds;

                // Everything is computed before anything is printed: a failure prints no number.
                var outPath = parse.GetValue(outputPath);
                if (outPath is not null)
                {
                    ExtXyz.Write(outPath, frames.Select((f, k) => f.WithResults(results[k])));
                }

                if (timing)
                {
                    // QMMM_TIMING=1: where the time of the process goes (seconds), on standard error
                    error.WriteLine(string.Create(Inv, $"qmmm: timing: read {tLoad:F3} s, evaluate {tEval - tLoad:F3} s, write {clock.Elapsed.TotalSeconds - tEval:F3} s"));
                }

                if (parse.GetValue(json))
                {
                    output.Write(Json(path, m, frames, results));
                }
                else
                {
                    Summary(output, path, m, frames, results, outPath);
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
    /// The JSON report: one object per frame (an array when the file has several), with the units stated:
    /// <c>{"units": {...}, "model", "source", "frame", "natoms", "pbc", "energy", "energies", "forces", "virial", "stress"}</c>;
    /// <c>stress</c> is null unless the cell is periodic along all three axes.
    /// </summary>
    internal static string Json(string source, Model model, Structure[] frames, Evaluation[] results)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            if (frames.Length > 1)
            {
                w.WriteStartArray();
            }

            for (var k = 0; k < frames.Length; k++)
            {
                var r = results[k];
                w.WriteStartObject();
                w.WriteStartObject("units");
                w.WriteString("energy", "eV");
                w.WriteString("energies", "eV");
                w.WriteString("forces", "eV/Angstrom");
                w.WriteString("virial", "eV");
                w.WriteString("stress", "eV/Angstrom^3");
                w.WriteString("positions", "Angstrom");
                w.WriteEndObject();
                w.WriteString("model", model.Name);
                w.WriteString("source", source);
                w.WriteNumber("frame", k);
                w.WriteNumber("natoms", r.Count);
                w.WriteStartArray("pbc");
                foreach (var p in frames[k].Pbc)
                {
                    w.WriteBooleanValue(p);
                }

                w.WriteEndArray();
                w.WriteNumber("energy", r.Energy);
                w.WriteStartArray("energies");
                foreach (var e in r.SiteEnergies)
                {
                    w.WriteNumberValue(e);
                }

                w.WriteEndArray();
                Matrix(w, "forces", r.Forces);
                Matrix(w, "virial", r.Virial);
                if (r.Stress is null)
                {
                    w.WriteNull("stress");
                }
                else
                {
                    Matrix(w, "stress", r.Stress);
                }

                w.WriteEndObject();
            }

            if (frames.Length > 1)
            {
                w.WriteEndArray();
            }
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Matrix(Utf8JsonWriter w, string name, double[,] m)
    {
        w.WriteStartArray(name);
        for (var i = 0; i < m.GetLength(0); i++)
        {
            w.WriteStartArray();
            for (var j = 0; j < m.GetLength(1); j++)
            {
                w.WriteNumberValue(m[i, j]);
            }

            w.WriteEndArray();
        }

        w.WriteEndArray();
    }

    /// <summary>The human-readable summary: a table per frame (plain text, no colours when not on a terminal).</summary>
    private static void Summary(TextWriter output, string source, Model model, Structure[] frames, Evaluation[] results, string? outPath)
    {
        var console = SummaryTable.Console(output);
        for (var k = 0; k < frames.Length; k++)
        {
            var s = frames[k];
            var r = results[k];
            var table = SummaryTable.Create($"{source}{(frames.Length > 1 ? $" frame {k}" : "")}: {s.Count} atoms, pbc {string.Join(' ', s.Pbc.Select(p => p ? "T" : "F"))}, model {model}");
            SummaryTable.Row(table, "energy", F(r.Energy), "eV");
            SummaryTable.Row(table, "energy per atom", F(r.EnergyPerAtom), "eV");
            SummaryTable.Row(table, "max |force|", F(r.MaxForce), "eV/Angstrom");
            for (var i = 0; i < 3; i++)
            {
                SummaryTable.Row(table, i == 0 ? "virial" : "", Vec(r.Virial, i), i == 0 ? "eV" : "");
            }

            if (r.Stress is not null)
            {
                for (var i = 0; i < 3; i++)
                {
                    SummaryTable.Row(table, i == 0 ? "stress (sigma = -W/V)" : "", Vec(r.Stress, i), i == 0 ? "eV/Angstrom^3" : "");
                }

                var pressure = -(r.Stress[0, 0] + r.Stress[1, 1] + r.Stress[2, 2]) / 3 * Evaluation.EvPerCubicAngstromInGpa;
                SummaryTable.Row(table, "pressure -tr(sigma)/3", F(pressure), "GPa");
            }

            console.Write(table);
        }

        if (outPath is not null)
        {
            output.WriteLine($"wrote energies, per-atom energies, forces, virial{(results.Any(r => r.Stress is not null) ? " and stress" : "")} to {outPath}");
        }
    }

    private static string F(double v) => v.ToString("R", Inv);

    private static string Vec(double[,] m, int i) =>
        string.Join("  ", Enumerable.Range(0, 3).Select(j => (Math.Abs(m[i, j]) < 5e-10 ? 0.0 : m[i, j]).ToString("0.000000000", Inv).PadLeft(16)));
}
