using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Qmmm.Host;
using Qmmm.Host.IO;

namespace Qmmm.Cli;

/// <summary>
/// <c>qmmm ghost-forces</c>: the paper's Fig. 4.2(a) and patch test. The hybrid forces of energy mixing, energy mixing
/// with ghost-force correction and force mixing on the unrelaxed configuration (a vacancy, or with <c>--defect none</c>
/// the perfect lattice), printed per scheme as the largest force in the QM core, at the QM/MM interface and in the MM
/// region, and drawn as |F| against the distance from the core (PNG, <c>-o</c>).
/// </summary>
internal static class GhostForcesCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    internal static Command Build(TextWriter output, TextWriter error)
    {
        var setup = RelaxCommand.MakeSetupOptions("vacancy");
        var mmOption = new Option<string>("--mm") { HelpName = "MODEL", Description = "MM model.", Required = true };
        var rmm = new Option<double>("--rmm") { HelpName = "R", Description = "Free region |x - core| <= R_MM, in units of r0.", DefaultValueFactory = _ => 8.0 };
        var rqm = new Option<double>("--rqm") { HelpName = "R", Description = "QM region |x - core| < R_QM, in units of r0.", DefaultValueFactory = _ => 3.0 };
        var rbuf = new Option<double?>("--rbuf") { HelpName = "R", Description = "Buffer width R_BUF in units of r0; default: the smallest integer >= 2 QM cutoffs / r0." };
        var json = new Option<bool>("--json") { Description = "Print the numbers as one JSON object." };
        var png = new Option<string?>("--output", "-o") { HelpName = "FILE.png", Description = "Draw |F| against the distance from the core for the three schemes (PNG)." };
        var command = new Command("ghost-forces", "Hybrid forces of the three coupling schemes on the unrelaxed configuration (the paper's ghost-force picture and patch test).")
        {
            setup.Defect, setup.Crystal, setup.Model, mmOption, rmm, rqm, rbuf, setup.R0, setup.A, setup.ThreeD, json, png,
        };

        command.SetAction(parse =>
        {
            try
            {
                var (qm, options) = RelaxCommand.ReadSetup(parse, setup);
                Model mm;
                try
                {
                    mm = Models.Create(parse.GetValue(mmOption)!);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException("--mm: " + Cli.Clean(e));
                }

                var rmmValue = parse.GetValue(rmm);
                var rqmValue = parse.GetValue(rqm);
                if (!double.IsFinite(rmmValue) || rmmValue <= 0 || !double.IsFinite(rqmValue) || rqmValue <= 0 || rqmValue >= rmmValue)
                {
                    throw new UsageException($"--rqm/--rmm: expected 0 < R_QM < R_MM (units of r0), got R_QM = {rqmValue.ToString(Inv)}, R_MM = {rmmValue.ToString(Inv)}");
                }

                options.Rmm = rmmValue;
                var system = DefectSystem.Create(qm, options);
                var rows = new List<(string Scheme, double Core, double Interface, double Mm, double[] D, double[] F)>();
                foreach (var (kind, name) in new[] { (CouplingSchemeKind.Energy, "energy"), (CouplingSchemeKind.EnergyGfc, "energy-gfc"), (CouplingSchemeKind.Force, "force") })
                {
                    var (f, d, region) = system.HybridForces(mm, kind, rqmValue, parse.GetValue(rbuf));
                    var rq = rqmValue * system.R0;
                    var mag = new double[d.Length];
                    double core = 0, iface = 0, mmMax = 0;
                    for (var i = 0; i < d.Length; i++)
                    {
                        mag[i] = Math.Sqrt((f[i, 0] * f[i, 0]) + (f[i, 1] * f[i, 1]) + (f[i, 2] * f[i, 2]));
                        if (region[i] == "fixed")
                        {
                            continue;
                        }

                        // core: inside R_QM/2 (where the ghost-force correction's β is 0); interface: from there to one MM
                        // cutoff beyond R_QM; MM: the rest of the free atoms
                        if (d[i] < 0.5 * rq)
                        {
                            core = Math.Max(core, mag[i]);
                        }
                        else if (d[i] < rq + mm.Cutoff)
                        {
                            iface = Math.Max(iface, mag[i]);
                        }
                        else
                        {
                            mmMax = Math.Max(mmMax, mag[i]);
                        }
                    }

                    var free = Enumerable.Range(0, d.Length).Where(i => region[i] != "fixed").ToArray();
                    rows.Add((name, core, iface, mmMax, [.. free.Select(i => d[i])], [.. free.Select(i => mag[i])]));
                }

                if (parse.GetValue(png) is { } path)
                {
                    Draw(path, rows, rqmValue * system.R0, qm.Name, mm.Name);
                }

                if (parse.GetValue(json))
                {
                    using var stream = new MemoryStream();
                    using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                    {
                        w.WriteStartObject();
                        w.WriteString("units", "eV/Angstrom");
                        w.WriteString("qm_model", qm.Name);
                        w.WriteString("mm_model", mm.Name);
                        w.WriteNumber("rqm", rqmValue * system.R0);
                        foreach (var r in rows)
                        {
                            w.WriteStartObject(r.Scheme);
                            w.WriteNumber("core", r.Core);
                            w.WriteNumber("interface", r.Interface);
                            w.WriteNumber("mm", r.Mm);
                            w.WriteEndObject();
                        }

                        w.WriteEndObject();
                    }

                    output.Write(Encoding.UTF8.GetString(stream.ToArray()) + "\n");
                }
                else
                {
                    output.WriteLine($"max |F| (eV/Angstrom) on the unrelaxed configuration, QM {qm.Name}, MM {mm.Name}, R_QM {(rqmValue * system.R0).ToString("R", Inv)} Angstrom");
                    output.WriteLine("scheme        core (< R_QM/2)   interface (R_QM/2 .. R_QM + rc_MM)   MM");
                    foreach (var r in rows)
                    {
                        output.WriteLine(string.Create(Inv, $"{r.Scheme,-13} {r.Core,15:E3}   {r.Interface,32:E3}   {r.Mm:E3}"));
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

    private static void Draw(string path, List<(string Scheme, double Core, double Interface, double Mm, double[] D, double[] F)> rows, double rqm, string qm, string mm)
    {
        var plot = new ScottPlot.Plot();
        plot.Font.Set("DejaVu Sans");
        var colors = new[] { ScottPlot.Colors.Red, ScottPlot.Colors.Blue, ScottPlot.Colors.Green };
        for (var k = 0; k < rows.Count; k++)
        {
            var r = rows[k];
            var ys = r.F.Select(f => Math.Log10(Math.Max(f, 1e-16))).ToArray();
            var s = plot.Add.ScatterPoints(r.D, ys);
            s.LegendText = r.Scheme;
            s.Color = colors[k];
            s.MarkerSize = 4;
        }

        var line = plot.Add.VerticalLine(rqm);
        line.LegendText = "R_QM";
        line.Color = ScottPlot.Colors.Black;
        plot.Title($"hybrid forces on the free atoms, unrelaxed (QM {qm}, MM {mm})");
        plot.XLabel("distance from the core (Angstrom)");
        plot.YLabel("log10 |F| (eV/Angstrom)");
        plot.ShowLegend();
        var bytes = plot.GetImageBytes(900, 600, ScottPlot.ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
