using System.Globalization;
using System.Text.RegularExpressions;

namespace Qmmm.Host;

/// <summary>
/// An input or set-up error the caller can fix: a missing or malformed file, a structure a model cannot evaluate,
/// an unknown element. The message is one line; when the error has a place it reads <c>FILE:LINE: field 'NAME': WHAT</c>
/// and <see cref="File"/>, <see cref="Line"/> and <see cref="Field"/> say where. The command line maps it to exit code 1.
/// </summary>
public class QmmmInputException : Exception
{
    /// <summary>An input error without a place in a file.</summary>
    public QmmmInputException(string message)
        : this(message, null)
    {
    }

    /// <summary>An input error without a place in a file, caused by <paramref name="inner"/>.</summary>
    public QmmmInputException(string message, Exception? inner)
        : base(message, inner)
    {
        What = message;
    }

    /// <summary>An input error at <paramref name="line"/> (1-based; 0 if unknown) of <paramref name="file"/>, in <paramref name="field"/>.</summary>
    public QmmmInputException(string file, int line, string field, string what, Exception? inner = null)
        : this(Format(file, line, field, what), file, line, field, what, inner)
    {
    }

    /// <summary>For derived types with their own message format.</summary>
    protected QmmmInputException(string message, string? file, int line, string? field, string what, Exception? inner)
        : base(message, inner)
    {
        File = file;
        Line = line;
        Field = field;
        What = what;
    }

    /// <summary>The file the error is in, as the caller named it; null when the error has no file.</summary>
    public string? File { get; }

    /// <summary>1-based line number in <see cref="File"/>; 0 when unknown.</summary>
    public int Line { get; }

    /// <summary>The offending field (a key, column or structural item such as <c>atom count</c>); null when unknown.</summary>
    public string? Field { get; }

    /// <summary>What is wrong, without the place.</summary>
    public string What { get; }

    private static string Format(string file, int line, string field, string what) =>
        line > 0 ? $"{file}:{line}: field '{field}': {what}" : $"{file}: field '{field}': {what}";
}

/// <summary>
/// A computation failed or produced a result that cannot be trusted: a non-finite energy, force or virial (the
/// message names the model and the atom), or a solver that did not converge (then <see cref="Iterations"/>,
/// <see cref="Residual"/> and <see cref="Tolerance"/> are set). The command line maps it to exit code 4.
/// </summary>
public sealed class QmmmComputationException : Exception
{
    /// <summary>A failed computation described by <paramref name="message"/>.</summary>
    public QmmmComputationException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>A solver that stopped after <paramref name="iterations"/> with <paramref name="residual"/> above <paramref name="tolerance"/>.</summary>
    public QmmmComputationException(string message, int iterations, double residual, double tolerance, Exception? inner = null)
        : base(message, inner)
    {
        Iterations = iterations;
        Residual = residual;
        Tolerance = tolerance;
    }

    /// <summary>Iterations performed before the solver gave up; null for other failures.</summary>
    public int? Iterations { get; }

    /// <summary>Residual at the last iterate; null for other failures.</summary>
    public double? Residual { get; }

    /// <summary>Tolerance that was asked for; null for other failures.</summary>
    public double? Tolerance { get; }
}

/// <summary>
/// The facade's boundary: F# exceptions of <c>Qmmm.Numerics</c> become the Host's own types, so C# callers catch
/// <see cref="QmmmInputException"/> and <see cref="QmmmComputationException"/> only.
/// </summary>
internal static partial class Boundary
{
    /// <summary>Runs <paramref name="f"/>, translating the core's exceptions.</summary>
    internal static T Run<T>(Func<T> f)
    {
        try
        {
            return f();
        }
        catch (Exception e) when (Translate(e) is { } t)
        {
            throw t;
        }
    }

    /// <summary>The Host exception for a core exception, or null when <paramref name="e"/> is not one of the core's.</summary>
    internal static Exception? Translate(Exception e) => e switch
    {
        Numerics.ConvergenceException c => new QmmmComputationException(c.Message, c.Iterations, c.Residual, c.Tolerance, c),
        Numerics.ComputationException c => new QmmmComputationException(c.Message, c),
        Numerics.QmmmException q => Located(q.Message, q),
        _ => null,
    };

    /// <summary>An input exception from a core message, with its place when the message starts with one (<c>FILE:LINE: field 'F': WHAT</c>).</summary>
    internal static QmmmInputException Located(string message, Exception? inner)
    {
        var m = Place().Match(message);
        return m.Success
            ? new QmmmInputException(m.Groups["file"].Value, int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture), m.Groups["field"].Value, m.Groups["what"].Value, inner)
            : new QmmmInputException(message, inner);
    }

    [GeneratedRegex(@"^(?<file>.+?):(?<line>[0-9]+): field '(?<field>[^']*)': (?<what>.*)$", RegexOptions.Singleline)]
    private static partial Regex Place();
}
