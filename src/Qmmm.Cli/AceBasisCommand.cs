using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Qmmm.Numerics;

namespace Qmmm.Cli;

/// <summary>
/// <c>qmmm ace-basis --order N --degree D [--wl 1.5] [--json]</c>: the size of a one-species linear ACE basis in total
/// and per correlation order, the number of one-particle functions (n, l) and of atomic-base entries A_nlm, l_max, and
/// a SHA-256 checksum of the ordered basis (factors, columns and coupling coefficients, bit for bit) — users size a fit
/// before running it, and two runs can be compared for determinism.
/// </summary>
internal static class AceBasisCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Builds the command writing to <paramref name="output"/> and reporting errors on <paramref name="error"/>.</summary>
    internal static Command Build(TextWriter output, TextWriter error)
    {
        var order = new Option<int>("--order") { HelpName = "N", Description = "Correlation order N (1..6).", Required = true };
        var degree = new Option<double>("--degree") { HelpName = "D", Description = "Total degree D: products with sum of (n + wL l) <= D.", Required = true };
        var wl = new Option<double>("--wl") { HelpName = "WL", Description = "Weight wL of the angular degree.", DefaultValueFactory = _ => 1.5 };
        var json = new Option<bool>("--json") { Description = "Print JSON (keys size, byOrder, oneParticle, atomicBase, lMax, blocks, checksum)." };
        var command = new Command("ace-basis", "Size of a linear ACE basis (total and per correlation order), one-particle functions, l_max.")
        {
            order, degree, wl, json,
        };

        command.SetAction(parse =>
        {
            try
            {
                var n = parse.GetValue(order);
                var d = parse.GetValue(degree);
                var w = parse.GetValue(wl);
                if (n < 1 || n > 6)
                {
                    throw new UsageException($"--order: expected 1..6, got {n}");
                }

                if (!double.IsFinite(d) || d < 1)
                {
                    throw new UsageException($"--degree: expected a number >= 1, got {d.ToString(Inv)}");
                }

                if (!double.IsFinite(w) || w <= 0)
                {
                    throw new UsageException($"--wl: expected a positive number, got {w.ToString(Inv)}");
                }

                var spec = new AceBasisSpec(n, d, w, AceRadial.defaults);
                var basis = AceBasisModule.create(spec);
                var checksum = Checksum(basis);
                if (parse.GetValue(json))
                {
                    using var stream = new MemoryStream();
                    using (var j = new Utf8JsonWriter(stream))
                    {
                        j.WriteStartObject();
                        j.WriteNumber("order", n);
                        j.WriteNumber("degree", d);
                        j.WriteNumber("wL", w);
                        j.WriteNumber("size", basis.Size);
                        j.WriteStartArray("byOrder");
                        foreach (var b in basis.ByOrder)
                        {
                            j.WriteNumberValue(b);
                        }

                        j.WriteEndArray();
                        j.WriteNumber("oneParticle", basis.N.Length);
                        j.WriteNumber("atomicBase", basis.ACount);
                        j.WriteNumber("lMax", basis.LMax);
                        j.WriteNumber("blocks", basis.Blocks.Length);
                        j.WriteString("checksum", checksum);
                        j.WriteEndObject();
                    }

                    output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
                }
                else
                {
                    output.WriteLine($"ACE basis N = {n}, D = {d.ToString(Inv)}, wL = {w.ToString(Inv)}");
                    output.WriteLine($"  size            {basis.Size}");
                    output.WriteLine($"  by order        {string.Join(" + ", basis.ByOrder)}");
                    output.WriteLine($"  (n,l) functions {basis.N.Length}");
                    output.WriteLine($"  A_nlm entries   {basis.ACount}");
                    output.WriteLine($"  l_max           {basis.LMax}");
                    output.WriteLine($"  blocks          {basis.Blocks.Length}");
                    output.WriteLine($"  checksum        {checksum}");
                }

                return Cli.Success;
            }
            catch (ArgumentException e)
            {
                return Cli.Fail(error, Cli.UsageError, Cli.Clean(e));
            }
            catch (Exception e)
            {
                return Cli.Report(error, e);
            }
        });
        return command;
    }

    /// <summary>SHA-256 (hex) of the ordered basis: per block its order, factors (n, l), column indices and coupling bits.</summary>
    internal static string Checksum(AceBasis basis)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buf = new byte[8];
        void Int(int v)
        {
            BitConverter.TryWriteBytes(buf, (long)v);
            h.AppendData(buf);
        }

        foreach (var b in basis.Blocks)
        {
            Int(b.Order);
            foreach (var f in b.Factors)
            {
                Int(basis.N[f]);
                Int(basis.L[f]);
            }

            foreach (var c in b.ColumnIndices)
            {
                Int(c);
            }

            foreach (var u in b.Coupling)
            {
                BitConverter.TryWriteBytes(buf, BitConverter.DoubleToInt64Bits(u));
                h.AppendData(buf);
            }
        }

        return Convert.ToHexString(h.GetHashAndReset()).ToLowerInvariant();
    }
}
