using System.Globalization;

namespace Qmmm.Host;

/// <summary>
/// Resource limits on every size a user's input controls, decided before any work or allocation is done. The defaults
/// suit a workstation; each can be raised (or lowered) by an environment variable read once at start-up, named in
/// the error a limit raises. A request over a limit is an input (or usage) error that says what was asked, the limit,
/// and how to raise it. The sizes are computed in 64-bit or checked arithmetic, so no count wraps around.
/// </summary>
public sealed record Limits
{
    /// <summary>Largest number of atoms of a frame read, generated or evaluated (default 20,000,000; <c>QMMM_MAX_ATOMS</c>).</summary>
    public long MaxAtoms { get; init; } = 20_000_000;

    /// <summary>Largest number of per-atom values of a frame, atoms × declared columns (default 400,000,000; <c>QMMM_MAX_VALUES</c>).</summary>
    public long MaxValues { get; init; } = 400_000_000;

    /// <summary>Longest line of an input file, in characters (default 1,048,576; <c>QMMM_MAX_LINE</c>).</summary>
    public long MaxLineLength { get; init; } = 1 << 20;

    /// <summary>Largest number of points of one table of a model file (setfl Nrho, Nr; default 10,000,000; <c>QMMM_MAX_TABLE</c>).</summary>
    public long MaxTableLength { get; init; } = 10_000_000;

    /// <summary>Largest number of elements of a model file (default 118; <c>QMMM_MAX_ELEMENTS</c>).</summary>
    public long MaxElements { get; init; } = 118;

    /// <summary>Largest model cutoff accepted (Å; default 30; <c>QMMM_MAX_CUTOFF</c>).</summary>
    public double MaxCutoff { get; init; } = 30.0;

    /// <summary>Smallest model cutoff accepted (Å; default 0.5, the minimum separation of two atoms; <c>QMMM_MIN_CUTOFF</c>).</summary>
    public double MinCutoff { get; init; } = 0.5;

    /// <summary>Largest magnitude of a tabulated model value (default 1e10; <c>QMMM_MAX_TABLE_VALUE</c>): larger ones overflow the splines.</summary>
    public double MaxTableValue { get; init; } = 1e10;

    /// <summary>Largest number of neighbours of one atom in a neighbour list (default 5,000; <c>QMMM_MAX_NEIGHBOURS</c>), refused before the list is allocated.</summary>
    public long MaxNeighbours { get; init; } = 5_000;

    /// <summary>Largest number of lattice periods per axis of <c>qmmm lattice --repeat</c> (default 1000; <c>QMMM_MAX_REPEAT</c>).</summary>
    public long MaxRepeat { get; init; } = 1000;

    /// <summary>Largest stencil (neighbours of a site) of <c>qmmm derivatives</c> at order 1 or 2 (default 20,000; <c>QMMM_MAX_STENCIL</c>).</summary>
    public long MaxStencil { get; init; } = 20_000;

    /// <summary>The limits in force: the defaults, overridden by the environment variables named on each property.</summary>
    /// <exception cref="QmmmInputException">A limit variable is set but is not a positive number.</exception>
    public static Limits Current => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>
    /// The defaults overridden by the variables <paramref name="lookup"/> returns (null = not set). A set variable must be
    /// a positive number (integers for counts; <c>1e7</c> is accepted).
    /// </summary>
    /// <exception cref="QmmmInputException">A variable is set but is not a positive number.</exception>
    public static Limits FromEnvironment(Func<string, string?> lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        var d = new Limits();
        return d with
        {
            MaxAtoms = Count(lookup, "QMMM_MAX_ATOMS", d.MaxAtoms),
            MaxValues = Count(lookup, "QMMM_MAX_VALUES", d.MaxValues),
            MaxLineLength = Count(lookup, "QMMM_MAX_LINE", d.MaxLineLength),
            MaxTableLength = Count(lookup, "QMMM_MAX_TABLE", d.MaxTableLength),
            MaxElements = Count(lookup, "QMMM_MAX_ELEMENTS", d.MaxElements),
            MaxCutoff = Real(lookup, "QMMM_MAX_CUTOFF", d.MaxCutoff),
            MinCutoff = Real(lookup, "QMMM_MIN_CUTOFF", d.MinCutoff),
            MaxTableValue = Real(lookup, "QMMM_MAX_TABLE_VALUE", d.MaxTableValue),
            MaxRepeat = Count(lookup, "QMMM_MAX_REPEAT", d.MaxRepeat),
            MaxNeighbours = Count(lookup, "QMMM_MAX_NEIGHBOURS", d.MaxNeighbours),
            MaxStencil = Count(lookup, "QMMM_MAX_STENCIL", d.MaxStencil),
        };
    }

    /// <summary>
    /// Raises unless <paramref name="asked"/> ≤ <paramref name="limit"/>: "WHAT is ASKED, above the limit LIMIT (set
    /// VARIABLE to raise it)". The message has no place; callers that know one wrap it.
    /// </summary>
    /// <exception cref="QmmmInputException"><paramref name="asked"/> exceeds <paramref name="limit"/>.</exception>
    public static void Check(string what, double asked, double limit, string variable)
    {
        if (!(asked <= limit))
        {
            throw new QmmmInputException(Exceeded(what, asked, limit, variable));
        }
    }

    /// <summary>The message of a request over a limit: what was asked, the limit, and the variable that raises it.</summary>
    public static string Exceeded(string what, double asked, double limit, string variable) =>
        $"{what} is {Fmt(asked)}, above the limit {Fmt(limit)} (set {variable} to raise it)";

    private static string Fmt(double v) =>
        Math.Abs(v) < 1e15 && v == Math.Floor(v) ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("G6", CultureInfo.InvariantCulture);

    private static long Count(Func<string, string?> lookup, string name, long fallback)
    {
        var text = lookup(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !(v >= 1) || v > long.MaxValue / 2 || v != Math.Floor(v))
        {
            throw new QmmmInputException($"environment variable {name}: expected a positive integer, got '{text}'");
        }

        return (long)v;
    }

    private static double Real(Func<string, string?> lookup, string name, double fallback)
    {
        var text = lookup(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || !(v > 0))
        {
            throw new QmmmInputException($"environment variable {name}: expected a positive number, got '{text}'");
        }

        return v;
    }
}
