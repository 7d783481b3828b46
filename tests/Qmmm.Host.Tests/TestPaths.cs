namespace Qmmm.Host.Tests;

/// <summary>Locations of test inputs.</summary>
internal static class TestPaths
{
    /// <summary>A golden file shipped with the tests (tests/Qmmm.Host.Tests/data, copied next to the test assembly).</summary>
    public static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "data", name);

    /// <summary>
    /// The team's shared potentials folder. In a developer's worktree it sits above the repository; in CI the
    /// repository is a fresh clone with <c>shared/</c> beside it (<c>../shared</c> from the repository root). Both are
    /// found by walking up from the test assembly and looking for <c>shared/potentials</c> in every ancestor.
    /// </summary>
    public static string Potential(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "potentials", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"shared/potentials/{name} not found in any ancestor of {AppContext.BaseDirectory}");
    }

    /// <summary>The repository root: the nearest ancestor of the test assembly holding <c>Qmmm.slnx</c>.</summary>
    public static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Qmmm.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"Qmmm.slnx not found in any ancestor of {AppContext.BaseDirectory}");
    }

    /// <summary>A fresh path in the temporary folder (the file is not created).</summary>
    public static string Temp(string suffix) => Path.Combine(Path.GetTempPath(), $"qmmm-test-{Guid.NewGuid():N}{suffix}");
}
