using Qmmm.Host.IO;
using Qmmm.Numerics;

namespace Qmmm.Host;

/// <summary>
/// An atomic structure as C# callers see it: species, Cartesian positions (Å, N×3), the cell (rows a1, a2, a3 in Å;
/// all zeros when there is none) with per-axis periodicity, results attached to it (energy, forces, ...), and
/// whatever else its extended XYZ file carried (extra per-atom columns, unknown comment-line keys), kept so that
/// saving writes it back. Arrays are returned by reference: a caller may edit positions in place.
/// </summary>
public sealed partial class Structure
{
    private double[,]? forces;
    private double[]? siteEnergies;
    private double[,]? virial;
    private double[,]? stress;

    /// <summary>
    /// Creates a structure. <paramref name="positions"/> is N×3 (Å); <paramref name="cell"/> is 3×3 with rows
    /// a1, a2, a3 (Å), null for none (a cluster); <paramref name="pbc"/> has three entries (default: periodic along
    /// every axis when a cell is given, none otherwise). Arrays are used as given, not copied.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree, a species is empty, or a periodic axis has a zero vector.</exception>
    public Structure(string[] species, double[,] positions, double[,]? cell = null, bool[]? pbc = null)
    {
        ArgumentNullException.ThrowIfNull(species);
        ArgumentNullException.ThrowIfNull(positions);
        if (positions.GetLength(0) != species.Length || positions.GetLength(1) != 3)
        {
            throw new ArgumentException($"positions must be {species.Length}x3 (one row per species entry), got {positions.GetLength(0)}x{positions.GetLength(1)}", nameof(positions));
        }

        for (var i = 0; i < species.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(species[i]) || species[i].Any(char.IsWhiteSpace))
            {
                throw new ArgumentException($"species[{i}] must be a non-empty symbol without whitespace, got '{species[i]}'", nameof(species));
            }
        }

        cell ??= new double[3, 3];
        if (cell.GetLength(0) != 3 || cell.GetLength(1) != 3)
        {
            throw new ArgumentException($"cell must be 3x3, got {cell.GetLength(0)}x{cell.GetLength(1)}", nameof(cell));
        }

        var hasCell = cell.Cast<double>().Any(v => v != 0.0);
        pbc ??= hasCell ? [true, true, true] : [false, false, false];
        if (pbc.Length != 3)
        {
            throw new ArgumentException($"pbc must have 3 entries, got {pbc.Length}", nameof(pbc));
        }

        for (var k = 0; k < 3; k++)
        {
            if (pbc[k] && cell[k, 0] == 0.0 && cell[k, 1] == 0.0 && cell[k, 2] == 0.0)
            {
                throw new ArgumentException($"pbc[{k}] is true but lattice vector a{k + 1} is zero", nameof(pbc));
            }
        }

        Species = species;
        Positions = positions;
        Cell = cell;
        Pbc = pbc;
    }

    /// <summary>Number of atoms N.</summary>
    public int Count => Species.Length;

    /// <summary>Element symbol of each atom.</summary>
    public string[] Species { get; }

    /// <summary>Cartesian positions, N×3 (Å).</summary>
    public double[,] Positions { get; }

    /// <summary>Cell, 3×3, rows a1, a2, a3 (Å); all zeros when the structure has no cell.</summary>
    public double[,] Cell { get; }

    /// <summary>Periodicity along a1, a2, a3 (quasi-2D: <c>[false, false, true]</c>; cluster: all false).</summary>
    public bool[] Pbc { get; }

    /// <summary>True when some lattice vector is non-zero.</summary>
    public bool HasCell => Cell.Cast<double>().Any(v => v != 0.0);

    /// <summary>True when periodic along all three axes (then <see cref="Volume"/> and a stress are defined).</summary>
    public bool IsFullyPeriodic => Pbc[0] && Pbc[1] && Pbc[2];

    /// <summary>Cell volume |a1 · (a2 × a3)| (Å³); 0 without a cell.</summary>
    public double Volume => Math.Abs(CellModule.volume(ToCell()));

    /// <summary>Extra per-atom columns carried from and to extended XYZ files, in file order.</summary>
    public List<XyzColumn> Columns { get; } = [];

    /// <summary>
    /// Comment-line keys Qmmm does not interpret, in file order, with their unquoted values as text
    /// (e.g. <c>note</c> → <c>made by ASE</c>, <c>step</c> → <c>7</c>, <c>relaxed</c> → <c>T</c>). Written back on save.
    /// </summary>
    public OrderedDictionary<string, string> Info { get; } = new(StringComparer.Ordinal);

    /// <summary>Total energy (eV), or null. Extended XYZ key <c>energy</c>.</summary>
    public double? Energy { get; set; }

    /// <summary>Site (per-atom) energies (eV), length N, or null. Extended XYZ column <c>energies:R:1</c>.</summary>
    public double[]? SiteEnergies
    {
        get => siteEnergies;
        set => siteEnergies = value is null || value.Length == Count
            ? value
            : throw new ArgumentException($"SiteEnergies must have {Count} entries, got {value.Length}", nameof(value));
    }

    /// <summary>Forces F = −∂E/∂y, N×3 (eV/Å), or null. Extended XYZ column <c>forces:R:3</c>.</summary>
    public double[,]? Forces
    {
        get => forces;
        set => forces = CheckShape(value, Count, 3, nameof(Forces));
    }

    /// <summary>Virial W = −∂E/∂ε = −σV, 3×3 (eV), or null. Extended XYZ key <c>virial</c> (9 numbers, column-major as ASE).</summary>
    public double[,]? Virial
    {
        get => virial;
        set => virial = CheckShape(value, 3, 3, nameof(Virial));
    }

    /// <summary>Stress σ = −W/V, 3×3 (eV/Å³, ASE's sign: positive under tension), or null. Extended XYZ key <c>stress</c>.</summary>
    public double[,]? Stress
    {
        get => stress;
        set => stress = CheckShape(value, 3, 3, nameof(Stress));
    }

    /// <summary>Where the structure was read from (file name as given), or null when built in code.</summary>
    public string? Source { get; internal set; }

    /// <summary>1-based line of atom 0 in <see cref="Source"/> (0 when built in code); error messages use it.</summary>
    public int FirstAtomLine { get; internal set; }

    /// <summary>Reads the only frame of an extended XYZ file (see <see cref="ExtXyz.Read(string)"/>).</summary>
    /// <exception cref="QmmmInputException">Missing file, malformed content (message names file, line and field), or more than one frame.</exception>
    public static Structure Load(string path)
    {
        var frames = ExtXyz.Read(path);
        if (frames.Length != 1)
        {
            throw new QmmmInputException($"{path}: expected one frame, found {frames.Length} (use Structure.LoadAll)");
        }

        return frames[0];
    }

    /// <summary>Reads every frame of an extended XYZ file, in order.</summary>
    /// <exception cref="QmmmInputException">Missing file or malformed content (message names file, line and field).</exception>
    public static Structure[] LoadAll(string path) => ExtXyz.Read(path);

    /// <summary>Writes this structure (with its results, columns and info) as one extended XYZ frame, replacing the file.</summary>
    public void Save(string path) => ExtXyz.Write(path, [this]);

    /// <summary>A deep copy (arrays, columns, info and results copied).</summary>
    public Structure Clone()
    {
        var s = new Structure((string[])Species.Clone(), (double[,])Positions.Clone(), (double[,])Cell.Clone(), (bool[])Pbc.Clone())
        {
            Energy = Energy,
            Source = Source,
            FirstAtomLine = FirstAtomLine,
        };
        s.siteEnergies = (double[]?)siteEnergies?.Clone();
        s.forces = (double[,]?)forces?.Clone();
        s.virial = (double[,]?)virial?.Clone();
        s.stress = (double[,]?)stress?.Clone();
        foreach (var c in Columns)
        {
            s.Columns.Add(c.Clone());
        }

        foreach (var kv in Info)
        {
            s.Info.Add(kv.Key, kv.Value);
        }

        return s;
    }

    /// <summary>A copy with the results of <paramref name="evaluation"/> attached (energy, site energies, forces, virial, stress).</summary>
    public Structure WithResults(Evaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        if (evaluation.Count != Count)
        {
            throw new ArgumentException($"the evaluation is for {evaluation.Count} atoms, the structure has {Count}", nameof(evaluation));
        }

        var s = Clone();
        s.Energy = evaluation.Energy;
        s.SiteEnergies = evaluation.SiteEnergies.Length == Count ? (double[])evaluation.SiteEnergies.Clone() : null;
        s.Forces = (double[,])evaluation.Forces.Clone();
        s.Virial = (double[,])evaluation.Virial.Clone();
        s.Stress = (double[,]?)evaluation.Stress?.Clone();
        s.Info["units"] = ResultUnits;
        return s;
    }

    /// <summary>The <c>units</c> info value written with results: every output states its units.</summary>
    public const string ResultUnits = "energy=eV length=Angstrom forces=eV/Angstrom virial=eV stress=eV/Angstrom^3";

    /// <summary>
    /// Orthogonality defect (Π|a_k| / volume of the periodic vectors) above which the cell is LLL-reduced before a
    /// neighbour search (validation and evaluation): the same lattice with nearly orthogonal vectors needs few images.
    /// </summary>
    public const double MaxOrthogonalityDefect = 2.0;

    /// <summary>Smallest distance two atoms may have (Å): closer atoms are rejected by <see cref="Validate"/>.</summary>
    public const double MinimumSeparation = 0.5;

    /// <summary>
    /// Checks that the structure can be evaluated: every coordinate and cell entry finite, and no two atoms (periodic
    /// images included) closer than <see cref="MinimumSeparation"/> (0.5 Å), found with a cell-list closest-pair search.
    /// Messages are one line; for a structure read from a file they start with <c>FILE:LINE:</c> of the offending atom.
    /// </summary>
    /// <exception cref="QmmmInputException">The structure has no atoms or more than <see cref="Limits.MaxAtoms"/>, a coordinate is NaN/∞, or two atoms overlap.</exception>
    public void Validate()
    {
        if (Count == 0)
        {
            var what = "the frame has 0 atoms; a structure to evaluate needs at least one";
            throw Boundary.Located(Source is null ? $"field 'atom count': {what}" : $"{Source}:{Math.Max(1, FirstAtomLine - 2)}: field 'atom count': {what}", null);
        }

        var limit = Limits.Current.MaxAtoms;
        if (Count > limit)
        {
            var what = Limits.Exceeded("the number of atoms", Count, limit, "QMMM_MAX_ATOMS");
            throw Boundary.Located(Source is null ? $"field 'atom count': {what}" : $"{Source}:{Math.Max(1, FirstAtomLine - 2)}: field 'atom count': {what}", null);
        }

        CheckFinite();
        {
            int i, j;
            double d;
            try
            {
                (i, j, d) = Numerics.ClosestPair.within(MinimumSeparation, Numerics.CellReduction.reduceConfiguration(MaxOrthogonalityDefect, ToConfiguration()));
            }
            catch (ArgumentException e)
            {
                // degenerate or absurdly thin cells, atoms far outside the cell: the cell (comment line) is the place
                throw Boundary.Located(Locate(-1, HasCell ? "Lattice" : "pos", CleanMessage(e)), e);
            }

            CheckSeparation(i, j, d);
        }
    }

    /// <summary>Raises unless every coordinate and cell entry is finite (message located at the atom).</summary>
    internal void CheckFinite()
    {
        for (var i = 0; i < Count; i++)
        {
            for (var k = 0; k < 3; k++)
            {
                if (!double.IsFinite(Positions[i, k]))
                {
                    throw new QmmmInputException(Locate(i, "pos", $"atom {i}: coordinate {"xyz"[k]} is {ExtXyz.FormatReal(Positions[i, k])}, not a finite number"));
                }
            }
        }

        foreach (var v in Cell)
        {
            if (!double.IsFinite(v))
            {
                throw new QmmmInputException(Locate(-1, "Lattice", $"the cell has a non-finite entry {ExtXyz.FormatReal(v)}"));
            }
        }
    }

    /// <summary>Raises when the closest pair (i ≤ j at distance d, Å; i = j for an atom and its own image) is closer than <see cref="MinimumSeparation"/>.</summary>
    internal void CheckSeparation(int i, int j, double d)
    {
        if (d < MinimumSeparation)
        {
            var what = i == j
                ? $"atom {i} is {Fmt(d)} Å from its own periodic image (closer than {Fmt(MinimumSeparation)} Å): the cell is too small"
                : $"atoms {i} and {j} are {Fmt(d)} Å apart (closer than {Fmt(MinimumSeparation)} Å)";
            throw Boundary.Located(Locate(Math.Max(i, j), "pos", what), null);
        }
    }

    /// <summary>
    /// The closest pair of atoms (i ≤ j, distance in Å), periodic images included (i = j: an atom and its own image);
    /// (−1, −1, +∞) for fewer than two atoms and no periodic axis.
    /// </summary>
    public (int I, int J, double Distance) ClosestPair()
    {
        var struct_ = Numerics.ClosestPair.find(ToConfiguration());
        return (struct_.Item1, struct_.Item2, struct_.Item3);
    }

    /// <summary>A one-line message located at atom <paramref name="atom"/> (or the comment line when negative): <c>FILE:LINE: field 'F': WHAT</c> when read from a file, else <c>field 'F': WHAT</c>.</summary>
    internal string Locate(int atom, string field, string what)
    {
        if (Source is null)
        {
            return $"field '{field}': {what}";
        }

        var line = atom >= 0 ? FirstAtomLine + atom : FirstAtomLine - 1;
        return $"{Source}:{line}: field '{field}': {what}";
    }

    /// <summary>The message of an ArgumentException without .NET's " (Parameter 'x')" suffix.</summary>
    internal static string CleanMessage(ArgumentException e)
    {
        var suffix = e.ParamName is null ? null : $" (Parameter '{e.ParamName}')";
        return suffix is not null && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
    }

    private static string Fmt(double v) => v.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Cartesian position of atom <paramref name="i"/> (Å).</summary>
    public (double X, double Y, double Z) Position(int i) => (Positions[i, 0], Positions[i, 1], Positions[i, 2]);

    /// <summary>The positions as vectors (Å), one per atom, for LINQ: <c>PositionVectors.Max(p =&gt; p.Norm)</c>.</summary>
    public IReadOnlyList<Vector3D> PositionVectors =>
        [.. Enumerable.Range(0, Count).Select(i => new Vector3D(Positions[i, 0], Positions[i, 1], Positions[i, 2]))];

    /// <summary>The positions flattened, 3 numbers per atom (x y z of atom 0 first; Å), a copy; read vector i with <see cref="Vector3D.At"/>.</summary>
    public double[] FlatPositions => Flatten(Positions);

    /// <summary>Row-major flat 3×3 (or N×3) copy of a 2-D array.</summary>
    internal static double[] Flatten(double[,] a)
    {
        var rows = a.GetLength(0);
        var flat = new double[rows * 3];
        for (var i = 0; i < rows; i++)
        {
            flat[3 * i] = a[i, 0];
            flat[3 * i + 1] = a[i, 1];
            flat[3 * i + 2] = a[i, 2];
        }

        return flat;
    }

    /// <summary>An N×3 array from a flat one (3 per row).</summary>
    internal static double[,] Unflatten(double[] flat)
    {
        var rows = flat.Length / 3;
        var a = new double[rows, 3];
        for (var i = 0; i < rows; i++)
        {
            a[i, 0] = flat[3 * i];
            a[i, 1] = flat[3 * i + 1];
            a[i, 2] = flat[3 * i + 2];
        }

        return a;
    }

    /// <summary>The numerics core's cell.</summary>
    internal Numerics.Cell ToCell() => new(Flatten(Cell), (bool[])Pbc.Clone());

    /// <summary>The numerics core's configuration (copies).</summary>
    internal Configuration ToConfiguration() => new((string[])Species.Clone(), Flatten(Positions), ToCell());

    /// <summary>A structure from the numerics core's configuration (copies).</summary>
    internal static Structure FromConfiguration(Configuration config) =>
        new((string[])config.Species.Clone(), Unflatten(config.Positions), Unflatten(config.Cell.Vectors), (bool[])config.Cell.Pbc.Clone());

    private static double[,]? CheckShape(double[,]? value, int rows, int cols, string name) =>
        value is null || (value.GetLength(0) == rows && value.GetLength(1) == cols)
            ? value
            : throw new ArgumentException($"{name} must be {rows}x{cols}, got {value.GetLength(0)}x{value.GetLength(1)}", name);
}
