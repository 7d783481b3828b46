using System.Globalization;
using Qmmm.Numerics;

namespace Qmmm.Host;

/// <summary>
/// Constructors of crystal lattices (Section 2.1 of the paper: Bravais lattice with a basis, the homogeneous
/// lattice Λ^h), in crystal axes; orient them with <see cref="LatticeSpec.Oriented(string, string, string)"/>.
/// Example: <c>Lattices.Bcc("W", 3.1434).Oriented("1-10", "111", "-1-12").Cluster(12.0)</c>.
/// </summary>
public static class Lattices
{
    /// <summary>The lattice kinds understood by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Kinds { get; } = [.. LatticeKind.All.Select(k => k.Name)];

    /// <summary>Body-centred cubic lattice of <paramref name="element"/> with cubic lattice constant <paramref name="a"/> (Å, &gt; 0), e.g. W with 3.1434.</summary>
    /// <exception cref="ArgumentException">a is not a positive finite number or the element is empty.</exception>
    public static LatticeSpec Bcc(string element, double a) => Create("bcc", element, a);

    /// <summary>Face-centred cubic lattice with cubic lattice constant <paramref name="a"/> (Å, &gt; 0).</summary>
    /// <exception cref="ArgumentException">a is not a positive finite number or the element is empty.</exception>
    public static LatticeSpec Fcc(string element, double a) => Create("fcc", element, a);

    /// <summary>Diamond lattice (fcc with a two-site basis) with cubic lattice constant <paramref name="a"/> (Å, &gt; 0), e.g. Si with 5.43.</summary>
    /// <exception cref="ArgumentException">a is not a positive finite number or the element is empty.</exception>
    public static LatticeSpec Diamond(string element, double a) => Create("diamond", element, a);

    /// <summary>A lattice by kind name (<c>bcc</c>, <c>fcc</c>, <c>diamond</c>; case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown kind, empty element, or a not a positive finite number.</exception>
    public static LatticeSpec Create(string kind, string element, double a)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentException.ThrowIfNullOrWhiteSpace(element);
        if (!double.IsFinite(a) || a <= 0)
        {
            throw new ArgumentException($"lattice constant a must be a positive number (Å), got {a.ToString(CultureInfo.InvariantCulture)}", nameof(a));
        }

        var parsed = LatticeKind.TryParse(kind)?.Value
            ?? throw new ArgumentException($"unknown lattice kind '{kind}' (known: {string.Join(", ", Kinds)})", nameof(kind));
        var lat = parsed.Tag switch
        {
            LatticeKind.Tags.Bcc => LatticeModule.bcc(element, a),
            LatticeKind.Tags.Fcc => LatticeModule.fcc(element, a),
            _ => LatticeModule.diamond(element, a),
        };
        var spec = new LatticeSpec(lat, [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
        if (!(spec.NearestNeighbourDistance >= Structure.MinimumSeparation))
        {
            throw new ArgumentException(
                $"lattice constant a = {a.ToString(CultureInfo.InvariantCulture)} Å puts nearest neighbours {spec.NearestNeighbourDistance.ToString("G4", CultureInfo.InvariantCulture)} Å apart, closer than the minimum separation of atoms ({Structure.MinimumSeparation.ToString(CultureInfo.InvariantCulture)} Å)",
                nameof(a));
        }

        return spec;
    }

    /// <summary>
    /// Parses a Miller direction: compact digits with optional minus signs (<c>"1-10"</c>, <c>"-1-12"</c>, one digit per
    /// index) or three integers separated by commas or spaces, optionally in brackets (<c>"[1,-1,0]"</c>, <c>"1 -1 0"</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The text is not three integers.</exception>
    public static int[] ParseDirection(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().TrimStart('[', '<', '(').TrimEnd(']', '>', ')').Trim();
        if (t.IndexOfAny([',', ' ', '\t']) >= 0)
        {
            var parts = t.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 3 && parts.All(p => int.TryParse(p, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
            {
                int[] v = [.. parts.Select(p => int.Parse(p, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture))];
                if (v.Any(c => Math.Abs((long)c) > MaxMillerIndex))
                {
                    throw new ArgumentException($"Miller direction '{text}': indices must lie in -{MaxMillerIndex}..{MaxMillerIndex}", nameof(text));
                }

                return v;
            }
        }
        else
        {
            var v = new List<int>();
            for (var i = 0; i < t.Length; i++)
            {
                var sign = 1;
                if (t[i] == '-' && i + 1 < t.Length)
                {
                    sign = -1;
                    i++;
                }

                if (!char.IsAsciiDigit(t[i]))
                {
                    v.Clear();
                    break;
                }

                v.Add(sign * (t[i] - '0'));
            }

            if (v.Count == 3)
            {
                return [.. v];
            }
        }

        throw new ArgumentException($"expected a Miller direction such as 100, 1-10 or [1,-1,0], got '{text}'", nameof(text));
    }

    /// <summary>Largest magnitude of a Miller index accepted by <see cref="ParseDirection"/> (larger ones make cells too long to build).</summary>
    public const int MaxMillerIndex = 1000;
}

/// <summary>
/// A lattice (element, kind, cubic constant a, basis) with an orientation: the crystal directions that become the
/// simulation x, y and z axes. Immutable; builds computational domains (Section 2.1, 4.2): periodic cells, clusters
/// (balls) and the paper's quasi-2D discs.
/// </summary>
public sealed class LatticeSpec
{
    internal LatticeSpec(Lattice lattice, int[][] orientation)
    {
        Lattice = lattice;
        orientationRows = orientation;
    }

    private readonly int[][] orientationRows;

    internal Lattice Lattice { get; }

    /// <summary>Element symbol of every site.</summary>
    public string Element => Lattice.Element;

    /// <summary>Lattice kind: <c>bcc</c>, <c>fcc</c> or <c>diamond</c>.</summary>
    public string Kind => Lattice.Kind.Name;

    /// <summary>Cubic lattice constant a (Å).</summary>
    public double A => Lattice.A;

    /// <summary>Nearest-neighbour distance r0 (Å): a√3/2 (bcc), a/√2 (fcc), a√3/4 (diamond).</summary>
    public double NearestNeighbourDistance => LatticeModule.nearestNeighbourDistance(Lattice);

    /// <summary>The Miller directions (crystal axes) of the simulation x, y, z axes, rows of a 3×3 array.</summary>
    public int[,] Orientation
    {
        get
        {
            var o = new int[3, 3];
            for (var i = 0; i < 3; i++)
            {
                for (var k = 0; k < 3; k++)
                {
                    o[i, k] = orientationRows[i][k];
                }
            }

            return o;
        }
    }

    /// <summary>The orientation as text, e.g. <c>x=[1,-1,0] y=[1,1,1] z=[-1,-1,2]</c>.</summary>
    public string OrientationText =>
        string.Join(' ', "xyz".Select((c, i) => $"{c}=[{string.Join(',', orientationRows[i])}]"));

    /// <summary>
    /// The same lattice oriented so that the Miller directions <paramref name="x"/>, <paramref name="y"/>, <paramref name="z"/>
    /// (crystal axes) become the simulation axes; they must be non-zero, mutually orthogonal and right-handed.
    /// </summary>
    /// <exception cref="ArgumentException">A direction is not three integers, or the three are not an orthogonal right-handed set.</exception>
    public LatticeSpec Oriented(int[] x, int[] y, int[] z)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(z);
        foreach (var (v, name) in new[] { (x, "x"), (y, "y"), (z, "z") })
        {
            if (v.Length != 3)
            {
                throw new ArgumentException($"direction {name} must have 3 Miller indices, got {v.Length}", name);
            }

            if (v.Any(c => Math.Abs((long)c) > Lattices.MaxMillerIndex))
            {
                throw new ArgumentException($"direction {name} = [{string.Join(',', v)}]: Miller indices must lie in -{Lattices.MaxMillerIndex}..{Lattices.MaxMillerIndex}", name);
            }
        }

        var lat = LatticeModule.orient((int[])x.Clone(), (int[])y.Clone(), (int[])z.Clone(), Lattice);
        return new LatticeSpec(lat, [(int[])x.Clone(), (int[])y.Clone(), (int[])z.Clone()]);
    }

    /// <summary>The same lattice oriented by three Miller directions given as text (see <see cref="Lattices.ParseDirection"/>), e.g. <c>Oriented("100", "010", "001")</c>.</summary>
    /// <exception cref="ArgumentException">A direction cannot be parsed, or the three are not an orthogonal right-handed set.</exception>
    public LatticeSpec Oriented(string x, string y, string z) =>
        Oriented(Lattices.ParseDirection(x), Lattices.ParseDirection(y), Lattices.ParseDirection(z));

    /// <summary>The lattice period along simulation axis <paramref name="axis"/> (0 = x, 1 = y, 2 = z), Å.</summary>
    public double Period(int axis)
    {
        if (axis is < 0 or > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis, "axis must be 0, 1 or 2");
        }

        return LatticeModule.period(Lattice, axis);
    }

    /// <summary>
    /// The stencil of site 0 within <paramref name="radius"/> (Å): the neighbour vectors ρ ∈ Λ^h_* ∩ B_radius
    /// (Section 2.2), K×3 (Å), ordered by distance, then x, y, z.
    /// </summary>
    public double[,] Stencil(double radius)
    {
        CheckSites(Ball(radius), Limits.Current.MaxStencil, "QMMM_MAX_STENCIL", nameof(radius), $"the stencil within radius {Num(radius)} Å");
        return Vectors(LatticeModule.stencil(Lattice, radius));
    }

    /// <summary>
    /// An upper bound on the number of sites of this lattice in a region of <paramref name="volume"/> Å³: no packing of
    /// points at least the nearest-neighbour distance d apart is denser than √2/d³ (fcc), so volume·√2/d³ + 1 bounds
    /// every lattice here (bcc: 9 % above its 2/a³).
    /// </summary>
    public double SitesBound(double volume)
    {
        var d = NearestNeighbourDistance;
        return (volume * Math.Sqrt(2.0) / (d * d * d)) + 1.0;
    }

    /// <summary>Volume (Å³) of the ball of <paramref name="radius"/> padded by one nearest-neighbour distance.</summary>
    private double Ball(double radius)
    {
        var r = radius + NearestNeighbourDistance;
        return 4.0 / 3.0 * Math.PI * r * r * r;
    }

    /// <summary>Raises <see cref="ArgumentException"/> (naming <paramref name="param"/>) when the site bound of <paramref name="volume"/> exceeds <paramref name="limit"/>.</summary>
    private void CheckSites(double volume, long limit, string variable, string param, string what)
    {
        var bound = SitesBound(volume);
        if (!(bound <= limit))
        {
            throw new ArgumentException(Limits.Exceeded($"the number of sites of {what} (a bound for {this})", bound, limit, variable), param);
        }
    }

    private static string Num(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>
    /// A periodic supercell of <paramref name="n1"/>×<paramref name="n2"/>×<paramref name="n3"/> lattice periods along the
    /// oriented axes (pbc T T T), sites ordered by distance from the origin (site 0 at the origin).
    /// </summary>
    public Structure Periodic(int n1, int n2, int n3)
    {
        var limits = Limits.Current;
        foreach (var n in (int[])[n1, n2, n3])
        {
            if (n < 1 || n > limits.MaxRepeat)
            {
                throw new ArgumentException(n < 1 ? $"repeats must be at least 1, got {n1}x{n2}x{n3}" : Limits.Exceeded("a repeat", n, limits.MaxRepeat, "QMMM_MAX_REPEAT"), "repeat");
            }
        }

        var volume = (double)n1 * n2 * n3 * Period(0) * Period(1) * Period(2);
        CheckSites(volume, limits.MaxAtoms, "QMMM_MAX_ATOMS", "repeat", $"a {n1}x{n2}x{n3} cell");
        return Structure.FromConfiguration(Numerics.Domains.periodic(Lattice, n1, n2, n3));
    }

    /// <summary>The finite cluster Λ^h ∩ B_radius around the site at the origin (pbc F F F), <paramref name="radius"/> in Å.</summary>
    public Structure Cluster(double radius)
    {
        CheckSites(Ball(radius), Limits.Current.MaxAtoms, "QMMM_MAX_ATOMS", nameof(radius), $"a cluster of radius {Num(radius)} Å");
        return Structure.FromConfiguration(Numerics.Domains.cluster(Lattice, radius));
    }

    /// <summary>
    /// The paper's quasi-2D domain (Section 4.2): sites with x² + y² ≤ radius² (Å) and one lattice period along z,
    /// periodic along z only (pbc F F T).
    /// </summary>
    public Structure Quasi2D(double radius)
    {
        var r = radius + NearestNeighbourDistance;
        CheckSites(Math.PI * r * r * Period(2), Limits.Current.MaxAtoms, "QMMM_MAX_ATOMS", nameof(radius), $"a quasi-2D disc of radius {Num(radius)} Å");
        return Structure.FromConfiguration(Numerics.Domains.quasi2D(Lattice, radius));
    }

    /// <summary>A one-line description, e.g. <c>bcc W a=3.1434 Å x=[1,0,0] y=[0,1,0] z=[0,0,1]</c>.</summary>
    public override string ToString() => $"{Kind} {Element} a={A.ToString("R", CultureInfo.InvariantCulture)} Å {OrientationText}";

    internal static double[,] Vectors(Vec3[] v)
    {
        var a = new double[v.Length, 3];
        for (var i = 0; i < v.Length; i++)
        {
            a[i, 0] = v[i].X;
            a[i, 1] = v[i].Y;
            a[i, 2] = v[i].Z;
        }

        return a;
    }
}
