namespace Qmmm.Host;

/// <summary>
/// A Cartesian 3-vector (Å for positions, eV/Å for forces): the facade's element type for positions and forces, so
/// that C# callers can use LINQ (<c>evaluation.ForceVectors.Max(f =&gt; f.Norm)</c>) instead of <c>double[,]</c>.
/// </summary>
/// <param name="X">x component.</param>
/// <param name="Y">y component.</param>
/// <param name="Z">z component.</param>
public readonly record struct Vector3D(double X, double Y, double Z)
{
    /// <summary>Euclidean norm √(x² + y² + z²).</summary>
    public double Norm => Math.Sqrt((X * X) + (Y * Y) + (Z * Z));

    /// <summary>Component sum.</summary>
    public static Vector3D operator +(Vector3D a, Vector3D b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);

    /// <summary>Component difference.</summary>
    public static Vector3D operator -(Vector3D a, Vector3D b) => new(a.X - b.X, a.Y - b.Y, a.Z - b.Z);

    /// <summary>Scaling by a number.</summary>
    public static Vector3D operator *(double s, Vector3D a) => new(s * a.X, s * a.Y, s * a.Z);

    /// <summary>Dot product.</summary>
    public double Dot(Vector3D b) => (X * b.X) + (Y * b.Y) + (Z * b.Z);

    /// <summary>Vector i of a flat array holding 3 numbers per vector.</summary>
    public static Vector3D At(ReadOnlySpan<double> flat, int i) => new(flat[3 * i], flat[(3 * i) + 1], flat[(3 * i) + 2]);
}
