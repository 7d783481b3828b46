using Qmmm.Numerics;

namespace Qmmm.Host;

/// <summary>
/// The j-th derivative δʲV^h(0) of a site energy at the homogeneous lattice (paper (3.1)), a sparse tensor indexed by
/// tuples of neighbours (indices into <see cref="Stencil"/>) and Cartesian components: entry
/// V_{,ρ}[a_1..a_j] = ∂ʲV / ∂g_{ρ_1,a_1} ··· ∂g_{ρ_j,a_j} (eV/Å^j). The tensor is symmetric under permutations of its
/// (neighbour, component) pairs, so only sorted tuples are stored (<see cref="Tuple"/>, <see cref="Block"/>);
/// <see cref="Get"/> answers for a tuple in any order. A C# view of the numerics core's <c>SiteTensor</c>.
/// </summary>
public sealed class DerivativeTensor
{
    internal DerivativeTensor(SiteTensor tensor, string model, double? errorEstimate)
    {
        Tensor = tensor;
        ErrorEstimate = errorEstimate;
        Model = model;
        Stencil = LatticeSpec.Vectors(tensor.Stencil);
    }

    internal SiteTensor Tensor { get; }

    /// <summary>
    /// For tensors computed by centred differences: the Richardson estimate of the largest absolute error of an entry
    /// (eV/Å^j), i.e. max |D(h) − D(h/2)| / 3 over all stored entries; null for exact tensors (jets).
    /// </summary>
    public double? ErrorEstimate { get; }

    /// <summary>Name of the model differentiated.</summary>
    public string Model { get; }

    /// <summary>Derivative order j (1..4).</summary>
    public int Order => Tensor.Order;

    /// <summary>Radius r_j (Å): the tensor covers the neighbours ρ with |ρ| ≤ Radius.</summary>
    public double Radius => Tensor.Radius;

    /// <summary>The neighbour vectors ρ of the homogeneous lattice (K×3, Å) that tuple entries index.</summary>
    public double[,] Stencil { get; }

    /// <summary>The stencil indices covered (|ρ_i| ≤ Radius), ascending (a copy).</summary>
    public int[] Sites => (int[])Tensor.Sites.Clone();

    /// <summary>Number of stored (sorted) neighbour tuples.</summary>
    public int Count => SiteTensorModule.count(Tensor);

    /// <summary>Number of components per tuple, 3^j.</summary>
    public int BlockSize => SiteTensorModule.blockSize(Order);

    /// <summary>Stored tuple <paramref name="k"/>: j sorted stencil indices (a copy).</summary>
    public int[] Tuple(int k)
    {
        CheckIndex(k);
        return SiteTensorModule.tupleAt(Tensor, k);
    }

    /// <summary>The 3^j components of stored tuple <paramref name="k"/> (eV/Å^j), row-major with a_1 slowest (a copy).</summary>
    public double[] Block(int k)
    {
        CheckIndex(k);
        return SiteTensorModule.blockAt(Tensor, k);
    }

    /// <summary>
    /// The entry V_{,ρ}[a_1..a_j] for neighbours <paramref name="tuple"/> (stencil indices, any order) and components
    /// <paramref name="components"/> (0 = x, 1 = y, 2 = z), eV/Å^j.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong lengths, or a neighbour outside the tensor's radius.</exception>
    public double Get(int[] tuple, int[] components)
    {
        ArgumentNullException.ThrowIfNull(tuple);
        ArgumentNullException.ThrowIfNull(components);
        return SiteTensorModule.get(Tensor, (int[])tuple.Clone(), (int[])components.Clone());
    }

    /// <summary>Number of orderings stored tuple <paramref name="k"/> stands for: j!/(m_1!···m_r!).</summary>
    public int Multiplicity(int k) => SiteTensorModule.multiplicity(Tuple(k));

    /// <summary>The weighted norm |δʲV|_{w_j^{-1}} of (3.1) with the weights w_j(ρ) = Π_i exp(−2γ|ρ_i|) of (3.2), γ in 1/Å (&gt; 0).</summary>
    public double Norm(double gamma) => SiteTensorModule.norm(gamma, Tensor);

    /// <summary>The norm (3.1) with unit weights (γ = 0): (Σ over ordered tuples of |V_{,ρ}|²)^{1/2}.</summary>
    public double UnweightedNorm() => SiteTensorModule.unweightedNorm(Tensor);

    private void CheckIndex(int k)
    {
        if (k < 0 || k >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"tuple index must lie in [0, {Count - 1}]");
        }
    }
}
