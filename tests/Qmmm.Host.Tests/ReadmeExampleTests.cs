using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace Qmmm.Host.Tests;

/// <summary>
/// The README's C# section is a real program: it is the file examples/FirstProgram/Program.cs (compiled by every build),
/// and running it gives the numbers an independent count and an in-process evaluation give. Also: the facade's public
/// type names do not clash with the F# core's, so <c>using Qmmm.Host; using Qmmm.Numerics;</c> compiles.
/// </summary>
public sealed partial class ReadmeExampleTests
{
    private static string ReadmeBlock()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.Repository(), "README.md"));
        var section = readme.IndexOf("## From C#", StringComparison.Ordinal);
        Assert.True(section >= 0, "README has a 'From C#' section");
        var m = CSharpBlock().Match(readme, section);
        Assert.True(m.Success, "the section has a ```csharp block");
        return m.Groups[1].Value;
    }

    [Fact]
    public void TheReadmeBlockIsTheCompiledExampleProgram()
    {
        var program = File.ReadAllText(Path.Combine(TestPaths.Repository(), "examples", "FirstProgram", "Program.cs"));
        Assert.Equal(program.ReplaceLineEndings("\n").TrimEnd(), ReadmeBlock().ReplaceLineEndings("\n").TrimEnd());
    }

    [Fact]
    public void TheExampleRunsAndPrintsWhatTheFacadeComputes()
    {
        var dll = Path.Combine(TestPaths.Repository(), "examples", "FirstProgram", "bin", Configuration(), "net10.0", "FirstProgram.dll");
        Assert.True(File.Exists(dll), $"built example at {dll}");
        var start = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "the example finishes within a minute");
        Assert.True(p.ExitCode == 0, $"exit code {p.ExitCode}: {stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        // independent count: bcc sites n + {0, ½}³ (units of a) with |x| ≤ 12 Å, minus the vacancy
        const double a = 3.1434, r = 12.0;
        var count = 0;
        for (var i = -5; i <= 5; i++)
        {
            for (var j = -5; j <= 5; j++)
            {
                for (var k = -5; k <= 5; k++)
                {
                    foreach (var h in new[] { 0.0, 0.5 })
                    {
                        var (x, y, z) = (a * (i + h), a * (j + h), a * (k + h));
                        if ((x * x) + (y * y) + (z * z) <= r * r)
                        {
                            count++;
                        }
                    }
                }
            }
        }

        Assert.Equal($"atoms {count - 1}", lines[0]);

        var model = Models.Create("eam-w-marinica");
        var cluster = Lattices.Bcc("W", a).Cluster(r).WithVacancyAtOrigin();
        var e = model.Evaluate(cluster);
        Assert.Equal(e.Energy, Number(lines[1], "energy"));
        Assert.Equal(e.MaxForce, Number(lines[2], "max force"));
        Assert.True(e.MaxForce > 0.1, "an unrelaxed vacancy cluster is not in equilibrium");
        Assert.StartsWith("d2V pairs ", lines[3], StringComparison.Ordinal);
        Assert.Equal("input error line 3 field pos: expected a number, got 'zero'", lines[4]);
    }

    [Fact]
    public void NoPublicTypeNameOfTheFacadeClashesWithTheCore()
    {
        static HashSet<string> Names(Assembly a) => [.. a.GetExportedTypes().Where(t => !t.IsNested).Select(t => t.Name)];
        var host = Names(typeof(Models).Assembly);
        var core = Names(typeof(Numerics.IPotential).Assembly);
        Assert.Empty(host.Intersect(core));
    }

    [Fact]
    public void CoreInputErrorsReachCSharpCallersAsHostExceptionsWithTheirPlace()
    {
        var path = TestPaths.Temp(".eam.alloy");
        var lines = File.ReadAllLines(TestPaths.Potential("W_zhou.eam.alloy"));
        lines[3] = "2 W"; // line 4: two elements declared, one named
        File.WriteAllLines(path, lines);
        try
        {
            var e = Assert.Throws<QmmmInputException>(() => Models.Create("setfl:" + path));
            Assert.Equal(path, e.File);
            Assert.Equal(4, e.Line);
            Assert.False(string.IsNullOrEmpty(e.Field));
            Assert.IsAssignableFrom<Numerics.QmmmException>(e.InnerException);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double Number(string line, string label)
    {
        Assert.StartsWith(label + " ", line, StringComparison.Ordinal);
        return double.Parse(line[(label.Length + 1)..].Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static string Configuration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";

    [GeneratedRegex("```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
