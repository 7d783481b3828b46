namespace Qmmm.Cli;

/// <summary>The <c>qmmm</c> executable: forwards to <see cref="Cli.Run"/> with the process's standard streams.</summary>
public static class Program
{
    /// <summary>Entry point; returns the exit code (0 success, 1 input error, 2 usage error, 3 internal error).</summary>
    public static int Main(string[] args) => Cli.Run(args, Console.Out, Console.Error);
}
