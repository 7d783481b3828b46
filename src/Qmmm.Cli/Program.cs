namespace Qmmm.Cli;

/// <summary>The qmmm command (placeholder until the CLI work lands).</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        System.Console.WriteLine($"qmmm {Qmmm.Host.QmmmInfo.Version}");
        return 0;
    }
}
