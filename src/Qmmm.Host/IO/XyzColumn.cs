namespace Qmmm.Host.IO;

/// <summary>
/// Type letter of a per-atom column in an extended XYZ <c>Properties=</c> string (ASE convention):
/// <c>R</c> real, <c>I</c> integer, <c>S</c> string, <c>L</c> logical.
/// </summary>
public enum XyzColumnKind
{
    /// <summary><c>R</c>: double-precision real numbers.</summary>
    Real,

    /// <summary><c>I</c>: integers (read as 64-bit).</summary>
    Integer,

    /// <summary><c>S</c>: strings without whitespace.</summary>
    String,

    /// <summary><c>L</c>: logicals, written <c>T</c>/<c>F</c> (read also <c>True</c>/<c>False</c>).</summary>
    Logical,
}

/// <summary>
/// A per-atom column of an extended XYZ file that Qmmm does not interpret itself (for example ASE's <c>tags:I:1</c>,
/// <c>momenta:R:3</c> or a user's <c>region:S:1</c>). Read from a file and written back unchanged, so nothing a user
/// stored is dropped. Values are flat, atom-major: entry <c>Width * atom + component</c>.
/// </summary>
public sealed class XyzColumn
{
    private XyzColumn(string name, XyzColumnKind kind, int width, Array values)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, $"column '{name}': width must be at least 1, got {width}");
        }

        if (values.Length % width != 0)
        {
            throw new ArgumentException($"column '{name}': {values.Length} values are not a whole number of rows of width {width}", nameof(values));
        }

        if (name.IndexOfAny([':', ' ', '\t', '"', '=']) >= 0)
        {
            throw new ArgumentException($"column name '{name}' must not contain ':', '=', quotes or whitespace", nameof(name));
        }

        Name = name;
        Kind = kind;
        Width = width;
        Values = values;
    }

    /// <summary>Column name as it appears in <c>Properties=</c> (e.g. <c>tags</c>).</summary>
    public string Name { get; }

    /// <summary>Type of the values.</summary>
    public XyzColumnKind Kind { get; }

    /// <summary>Number of values per atom (the <c>n</c> of <c>name:T:n</c>).</summary>
    public int Width { get; }

    /// <summary>Number of atoms (rows) the column holds.</summary>
    public int Count => Values.Length / Width;

    /// <summary>The values: a <c>double[]</c>, <c>long[]</c>, <c>string[]</c> or <c>bool[]</c> according to <see cref="Kind"/>.</summary>
    public Array Values { get; }

    /// <summary>The values of a <see cref="XyzColumnKind.Real"/> column, otherwise null.</summary>
    public double[]? Reals => Values as double[];

    /// <summary>The values of an <see cref="XyzColumnKind.Integer"/> column, otherwise null.</summary>
    public long[]? Integers => Values as long[];

    /// <summary>The values of a <see cref="XyzColumnKind.String"/> column, otherwise null.</summary>
    public string[]? Strings => Values as string[];

    /// <summary>The values of a <see cref="XyzColumnKind.Logical"/> column, otherwise null.</summary>
    public bool[]? Logicals => Values as bool[];

    /// <summary>A real column with <paramref name="width"/> values per atom (flat, atom-major).</summary>
    public static XyzColumn Real(string name, int width, double[] values) =>
        new(name, XyzColumnKind.Real, width, values ?? throw new ArgumentNullException(nameof(values)));

    /// <summary>An integer column with <paramref name="width"/> values per atom (flat, atom-major).</summary>
    public static XyzColumn Integer(string name, int width, long[] values) =>
        new(name, XyzColumnKind.Integer, width, values ?? throw new ArgumentNullException(nameof(values)));

    /// <summary>A string column; strings must be non-empty and free of whitespace (they are whitespace-separated fields).</summary>
    public static XyzColumn String(string name, int width, string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        foreach (var s in values)
        {
            if (string.IsNullOrEmpty(s) || s.Any(char.IsWhiteSpace))
            {
                throw new ArgumentException($"column '{name}': string values must be non-empty without whitespace, got '{s}'", nameof(values));
            }
        }

        return new(name, XyzColumnKind.String, width, values);
    }

    /// <summary>A logical column with <paramref name="width"/> values per atom (flat, atom-major).</summary>
    public static XyzColumn Logical(string name, int width, bool[] values) =>
        new(name, XyzColumnKind.Logical, width, values ?? throw new ArgumentNullException(nameof(values)));

    /// <summary>The type letter used in <c>Properties=</c> (<c>R</c>, <c>I</c>, <c>S</c>, <c>L</c>).</summary>
    public char TypeLetter => Kind switch
    {
        XyzColumnKind.Real => 'R',
        XyzColumnKind.Integer => 'I',
        XyzColumnKind.String => 'S',
        _ => 'L',
    };

    /// <summary>A deep copy (the values array is copied).</summary>
    public XyzColumn Clone() => new(Name, Kind, Width, (Array)Values.Clone());

    /// <summary>A copy holding only the rows (atoms) whose index <paramref name="keep"/> accepts, in order.</summary>
    internal XyzColumn SelectRows(Func<int, bool> keep)
    {
        var rows = Enumerable.Range(0, Count).Where(keep).ToArray();
        var result = Array.CreateInstance(Values.GetType().GetElementType()!, rows.Length * Width);
        for (var r = 0; r < rows.Length; r++)
        {
            Array.Copy(Values, rows[r] * Width, result, r * Width, Width);
        }

        return new(Name, Kind, Width, result);
    }
}
