using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Qmmm.Host;
using Qmmm.Numerics;

namespace Qmmm.Cli;

/// <summary>
/// The <c>qmmm</c> command line: <c>qmmm lattice</c> writes lattice configurations, <c>qmmm eval</c> evaluates them, <c>qmmm derivatives</c> prints the derivative tensors δʲV^h(0) of a site energy at the lattice, <c>qmmm relax</c> relaxes a defect.
/// Machine output (extended XYZ, JSON) goes plainly to standard output; a failure prints exactly one line
/// <c>qmmm: error: ...</c> on standard error and nothing else. Exit codes: 0 success, 1 input error (missing or malformed
/// file, invalid structure), 2 usage error (bad or missing option, unknown model), 3 internal error.
/// </summary>
public static class Cli
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code for bad input: a missing or malformed file, NaN coordinates, overlapping atoms.</summary>
    public const int InputError = 1;

    /// <summary>Exit code for bad usage: unknown command or option, bad option value, unknown model.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code for an unexpected internal failure (a bug).</summary>
    public const int InternalError = 3;

    /// <summary>Exit code for a failed computation: a non-finite energy, force or virial, or a solver that did not converge.</summary>
    public const int ComputationError = 4;

    /// <summary>
    /// Runs <c>qmmm</c> with <paramref name="args"/>, writing normal output to <paramref name="output"/> and errors to
    /// <paramref name="error"/>; returns the exit code. Used by <see cref="Program.Main"/> and by tests in-process.
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var root = BuildRoot(output, error);
        var parse = root.Parse(args);
        var isHelpOrVersion = parse.Action is HelpAction or VersionAction;
        if (parse.Errors.Count > 0 && !isHelpOrVersion)
        {
            var message = parse.UnmatchedTokens.Count > 0
                ? $"unrecognized command or argument '{parse.UnmatchedTokens[0]}' (see qmmm --help)"
                : Friendly(parse.Errors[0].Message);
            if (parse.CommandResult.Command == root && parse.UnmatchedTokens.Count == 0)
            {
                message = "no command given: use 'qmmm lattice', 'qmmm eval' or 'qmmm derivatives' (see qmmm --help)";
            }

            return Fail(error, UsageError, message);
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return Report(error, e);
        }
    }

    /// <summary>
    /// A parser message without .NET type names: <c>Cannot parse argument 'abc' for option '--radius' as expected type
    /// 'System.Nullable`1[System.Double]'</c> becomes <c>--radius: expected a number, got 'abc'</c>.
    /// </summary>
    internal static string Friendly(string message)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, @"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']*)' as expected type '(?<type>[^']*)'");
        if (!m.Success)
        {
            return message;
        }

        var type = m.Groups["type"].Value;
        var what = type.Contains("Double", StringComparison.Ordinal) || type.Contains("Single", StringComparison.Ordinal) ? "a number"
            : type.Contains("Int", StringComparison.Ordinal) ? "an integer"
            : type.Contains("Boolean", StringComparison.Ordinal) ? "true or false"
            : "a valid value";
        return $"{m.Groups["option"].Value}: expected {what}, got '{m.Groups["value"].Value}'";
    }

    /// <summary>Prints the one error line and returns <paramref name="code"/>.</summary>
    internal static int Fail(TextWriter error, int code, string message)
    {
        error.WriteLine("qmmm: error: " + OneLine(message));
        return code;
    }

    /// <summary>Maps an exception to its error line and exit code.</summary>
    internal static int Report(TextWriter error, Exception e) => e switch
    {
        UsageException u => Fail(error, UsageError, u.Message),
        QmmmInputException q => Fail(error, InputError, q.Message),
        QmmmComputationException c => Fail(error, ComputationError, c.Message),
        Numerics.QmmmException q => Fail(error, q is Numerics.ComputationException or Numerics.ConvergenceException ? ComputationError : InputError, q.Message),
        ArgumentException a => Fail(error, InputError, Clean(a)),
        IOException or UnauthorizedAccessException => Fail(error, InputError, e.Message),
        _ => Fail(error, InternalError, $"internal error ({e.GetType().Name}): {e.Message}"),
    };

    /// <summary>The model of a model option (<paramref name="option"/>, e.g. <c>--model</c>): an unknown or malformed specification is a usage error naming the option.</summary>
    internal static Model CreateModel(string option, string spec)
    {
        try
        {
            return Models.Create(spec);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(option + ": " + Clean(e));
        }
    }

    /// <summary>The message of an ArgumentException without .NET's " (Parameter 'x')" suffix.</summary>
    internal static string Clean(ArgumentException e)
    {
        var m = e.Message;
        var suffix = e.ParamName is null ? null : $" (Parameter '{e.ParamName}')";
        return suffix is not null && m.EndsWith(suffix, StringComparison.Ordinal) ? m[..^suffix.Length] : m;
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()));

    private static RootCommand BuildRoot(TextWriter output, TextWriter error)
    {
        var root = new RootCommand(
            "qmmm: QM/MM simulations of crystalline defects. Units: energies eV, lengths Angstrom, forces eV/Angstrom, "
            + "virial eV, stress eV/Angstrom^3 (ASE's sign).");
        foreach (var option in root.Options)
        {
            if (option is VersionOption)
            {
                option.Action = new VersionAction();
            }
        }

        root.Subcommands.Add(LatticeCommand.Build(output, error));
        root.Subcommands.Add(EvalCommand.Build(output, error));
        root.Subcommands.Add(DerivativesCommand.Build(output, error));
        root.Subcommands.Add(RelaxCommand.Build(output, error));
        root.Subcommands.Add(GhostForcesCommand.Build(output, error));
        root.Subcommands.Add(AceBasisCommand.Build(output, error));
        return root;
    }

    /// <summary>Prints <c>qmmm VERSION</c> (the library version) for <c>--version</c>.</summary>
    private sealed class VersionAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine($"qmmm {QmmmInfo.Version}");
            return Success;
        }
    }
}

/// <summary>A bad command line detected after parsing (conflicting or out-of-range option values): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
