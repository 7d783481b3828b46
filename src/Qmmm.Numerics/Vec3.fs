namespace Qmmm.Numerics

open System

/// A 3-vector of floats (Å or eV/Å), immutable struct.
[<Struct>]
type Vec3 =
    /// x component.
    val X: float
    /// y component.
    val Y: float
    /// z component.
    val Z: float
    /// Creates (x, y, z).
    new(x, y, z) = { X = x; Y = y; Z = z }
    /// Sum.
    static member inline (+)(a: Vec3, b: Vec3) = Vec3(a.X + b.X, a.Y + b.Y, a.Z + b.Z)
    /// Difference.
    static member inline (-)(a: Vec3, b: Vec3) = Vec3(a.X - b.X, a.Y - b.Y, a.Z - b.Z)
    /// Negation.
    static member inline (~-)(a: Vec3) = Vec3(-a.X, -a.Y, -a.Z)
    /// Scaling by a float.
    static member inline (*)(c: float, a: Vec3) = Vec3(c * a.X, c * a.Y, c * a.Z)
    /// Scaling by a float.
    static member inline (*)(a: Vec3, c: float) = Vec3(c * a.X, c * a.Y, c * a.Z)
    /// Zero vector.
    static member Zero = Vec3(0.0, 0.0, 0.0)

    /// Component i (0, 1, 2).
    member v.Item
        with get (i: int) =
            match i with
            | 0 -> v.X
            | 1 -> v.Y
            | 2 -> v.Z
            | _ -> invalidArg "i" (sprintf "a Vec3 has components 0..2, asked for %d" i)

    override v.ToString() = sprintf "(%g, %g, %g)" v.X v.Y v.Z

/// Operations on Vec3 and on flat arrays holding 3 floats per atom.
[<RequireQualifiedAccess>]
module Vec3 =
    /// Dot product.
    let inline dot (a: Vec3) (b: Vec3) = a.X * b.X + a.Y * b.Y + a.Z * b.Z

    /// Cross product.
    let inline cross (a: Vec3) (b: Vec3) =
        Vec3(a.Y * b.Z - a.Z * b.Y, a.Z * b.X - a.X * b.Z, a.X * b.Y - a.Y * b.X)

    /// Euclidean norm.
    let inline norm (a: Vec3) = Math.Sqrt(dot a a)

    /// a / |a|.
    let normalize (a: Vec3) =
        let n = norm a

        if n = 0.0 then
            invalidArg "a" "cannot normalise the zero vector"

        (1.0 / n) * a

    /// Reads atom i of a flat array (3 floats per atom).
    let inline get (xs: float[]) (i: int) =
        Vec3(xs.[3 * i], xs.[3 * i + 1], xs.[3 * i + 2])

    /// Writes atom i of a flat array (3 floats per atom).
    let inline set (xs: float[]) (i: int) (v: Vec3) =
        xs.[3 * i] <- v.X
        xs.[3 * i + 1] <- v.Y
        xs.[3 * i + 2] <- v.Z

    /// Adds v to atom i of a flat array.
    let inline addTo (xs: float[]) (i: int) (v: Vec3) =
        xs.[3 * i] <- xs.[3 * i] + v.X
        xs.[3 * i + 1] <- xs.[3 * i + 1] + v.Y
        xs.[3 * i + 2] <- xs.[3 * i + 2] + v.Z
