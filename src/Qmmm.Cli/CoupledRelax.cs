using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Qmmm.Host;
using Qmmm.Host.IO;

namespace Qmmm.Cli;

/// <summary>
/// The coupled form of <c>qmmm relax</c>: <c>--mm MODEL</c> (with <c>--qm MODEL</c>, default <c>--model</c>) relaxes the
/// defect with a QM/MM scheme (<c>--scheme energy|energy-gfc|force</c>, <c>--rqm</c>, <c>--rbuf</c> in units of r0),
/// optionally against the reference solution (<c>--reference</c>: the QM model alone on the same domain).
/// </summary>
internal static class CoupledRelax
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The coupling options of <c>qmmm relax</c>.</summary>
    internal sealed record Options(Option<string?> Qm, Option<string?> Mm, Option<string> Scheme, Option<double> Rqm, Option<double?> Rbuf, Option<bool> Reference);

    internal static Options Make() => new(
        new Option<string?>("--qm") { HelpName = "MODEL", Description = "QM model of a coupled relaxation (default: --model)." },
        new Option<string?>("--mm") { HelpName = "MODEL", Description = "MM model: relax with a QM/MM coupling scheme instead of the QM model alone." },
        new Option<string>("--scheme") { Description = "Coupling scheme (with --mm): energy mixing (3.8), with ghost-force correction (3.10), or force mixing (3.16).", DefaultValueFactory = _ => "force" },
        new Option<double>("--rqm") { HelpName = "R", Description = "QM region |x - core| < R_QM, in units of r0 (with --mm).", DefaultValueFactory = _ => 3.0 },
        new Option<double?>("--rbuf") { HelpName = "R", Description = "Buffer width R_BUF in units of r0 (with --mm); default: the smallest integer >= 2 QM cutoffs / r0." },
        new Option<bool>("--reference") { Description = "Also relax with the QM model alone and report the error ||Du - Du^H|| (2.2) (with --mm)." });

    /// <summary>The QM model when <c>--qm</c> is given, else null.</summary>
    internal static Model? QmModel(ParseResult parse, Options o)
    {
        if (parse.GetValue(o.Qm) is not { } spec)
        {
            return null;
        }

        try
        {
            return Models.Create(spec);
        }
        catch (ArgumentException e)
        {
            throw new UsageException("--qm: " + Cli.Clean(e));
        }
    }

    /// <summary>Runs the coupled relaxation and prints its report; returns the exit code.</summary>
    internal static int Run(ParseResult parse, Options o, DefectSystem system, RelaxOptions relaxOptions, List<(string Name, string Value, bool User)> parameters, string? outputPath, bool json, TextWriter output, TextWriter error)
    {
        Model mm;
        try
        {
            mm = Models.Create(parse.GetValue(o.Mm)!);
        }
        catch (ArgumentException e)
        {
            throw new UsageException("--mm: " + Cli.Clean(e));
        }

        var scheme = parse.GetValue(o.Scheme) switch
        {
            "energy" => CouplingSchemeKind.Energy,
            "energy-gfc" => CouplingSchemeKind.EnergyGfc,
            "force" => CouplingSchemeKind.Force,
            var s => throw new UsageException($"--scheme: expected energy, energy-gfc or force, got '{s}'"),
        };
        var rqm = parse.GetValue(o.Rqm);
        if (!double.IsFinite(rqm) || rqm <= 0)
        {
            throw new UsageException($"--rqm: expected a positive radius in units of r0, got {rqm.ToString(Inv)}");
        }

        var rbuf = parse.GetValue(o.Rbuf);
        if (rbuf is { } b && (!double.IsFinite(b) || b < 0))
        {
            throw new UsageException($"--rbuf: expected a non-negative width in units of r0, got {b.ToString(Inv)}");
        }

        if (rqm >= system.Options.Rmm)
        {
            throw new UsageException($"--rqm: R_QM = {rqm.ToString(Inv)} r0 must be below R_MM = {system.Options.Rmm.ToString(Inv)} r0");
        }

        var coupling = new CouplingOptions { Scheme = scheme, Rqm = rqm, Rbuf = rbuf, Reference = parse.GetValue(o.Reference) };
        var r = system.RelaxCoupled(mm, coupling, relaxOptions, p =>
        {
            if (p.Method == "newton" || p.Iteration % 25 == 0)
            {
                error.WriteLine(string.Create(Inv, $"qmmm relax: {p.Method} {p.Iteration}: max|F| = {p.Residual:E3} eV/A"));
            }
        });
        error.WriteLine(string.Create(Inv, $"qmmm relax: coupled ({parse.GetValue(o.Scheme)}): QM {r.Counts.Qm}, buffer {r.Counts.Buffer}, MM {r.Counts.Mm}, far field {r.Counts.FarField} atoms; QM cluster {r.ClusterSize} atoms"));
        if (outputPath is { } path)
        {
            ExtXyz.Write(path, [r.Structure]);
        }

        if (json)
        {
            output.Write(Json(system, mm, parse.GetValue(o.Scheme)!, r, parameters));
        }
        else
        {
            output.WriteLine(string.Create(Inv, $"coupled {parse.GetValue(o.Scheme)}: QM {system.Model.Name}, MM {mm.Name}; R_QM {r.Rqm:R} A, R_BUF {r.Rbuf:R} A"));
            output.WriteLine(string.Create(Inv, $"max|F| {r.Residual:E3} eV/A after {r.Iterations} L-BFGS + {r.NewtonIterations} Newton iterations, {r.Evaluations} evaluations, {r.QmEvaluations} QM computations, {r.Seconds:F2} s"));
            if (r.Error is { } err)
            {
                output.WriteLine(string.Create(Inv, $"error ||Du - Du^H|| {err:E6} A"));
            }
        }

        return Cli.Success;
    }

    private static string Json(DefectSystem system, Model mm, string scheme, CoupledRelaxationResult r, List<(string Name, string Value, bool User)> parameters)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("units");
            w.WriteString("residual", "eV/Angstrom");
            w.WriteString("lengths", "Angstrom");
            w.WriteString("error", "Angstrom");
            w.WriteEndObject();
            w.WriteString("scheme", scheme);
            w.WriteString("qm_model", system.Model.Name);
            w.WriteString("mm_model", mm.Name);
            w.WriteNumber("rqm", r.Rqm);
            w.WriteNumber("rbuf", r.Rbuf);
            w.WriteNumber("residual", r.Residual);
            w.WriteNumber("iterations", r.Iterations);
            w.WriteNumber("newton_iterations", r.NewtonIterations);
            w.WriteNumber("force_evaluations", r.Evaluations);
            w.WriteNumber("qm_evaluations", r.QmEvaluations);
            w.WriteNumber("qm_cluster_size", r.ClusterSize);
            w.WriteNumber("seconds", r.Seconds);
            w.WriteNumber("natoms", system.AtomCount);
            w.WriteStartObject("counts");
            w.WriteNumber("qm", r.Counts.Qm);
            w.WriteNumber("buffer", r.Counts.Buffer);
            w.WriteNumber("mm", r.Counts.Mm);
            w.WriteNumber("far_field", r.Counts.FarField);
            w.WriteEndObject();
            w.WriteNumber("a", system.LatticeConstant);
            w.WriteNumber("r0", system.R0);
            if (r.Error is { } e)
            {
                w.WriteNumber("error", e);
            }

            if (r.ReferenceResult is { } rr)
            {
                w.WriteStartObject("reference");
                w.WriteNumber("energy", rr.Energy);
                w.WriteNumber("residual", rr.Residual);
                w.WriteNumber("seconds", rr.Seconds);
                w.WriteEndObject();
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
