namespace Qmmm.Host.IO;

/// <summary>
/// A malformed extended XYZ file. The message is one line, <c>FILE:LINE: field 'NAME' (column C): WHAT</c>
/// (column only for per-atom fields), e.g. <c>cell.xyz:3: field 'pos' (column 2): expected a number, got 'abc'</c>.
/// </summary>
public sealed class ExtXyzFormatException : QmmmInputException
{
    /// <summary>Creates the exception; <paramref name="column"/> is the 1-based whitespace-separated field of a per-atom line, or 0.</summary>
    public ExtXyzFormatException(string file, int line, string field, int column, string what)
        : base(Format(file, line, field, column, what), file, line, field, what, null)
    {
        Column = column;
    }

    /// <summary>1-based whitespace-separated column of a per-atom line, 0 when not applicable.</summary>
    public int Column { get; }

    private static string Format(string file, int line, string field, int column, string what) =>
        column > 0
            ? $"{file}:{line}: field '{field}' (column {column}): {what}"
            : $"{file}:{line}: field '{field}': {what}";
}
