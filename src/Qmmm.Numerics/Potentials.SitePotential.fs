namespace Qmmm.Numerics

/// The site-potential protocol (the paper's V_ℓ, Section 2.2; JuLIP's idea, STYLE 5).
///
/// A model supplies its cutoff, the site energy from neighbour displacement vectors g_j = y_j - y_ℓ and the gradient
/// ∂V/∂g_j. Energy, forces, virial and site energies of a configuration are written once for all models
/// (Potentials.Evaluate.fs). Conventions: forces F = -∂E/∂y (eV/Å); virial W = -Σ_ℓ Σ_j g_j ⊗ ∂V_ℓ/∂g_j = -∂E/∂ε
/// (eV, = -σV); stress σ = -W/V (eV/Å^3); 3x3 tensors row-major; Voigt order xx, yy, zz, yz, xz, xy.
///
/// Arguments of one site: `zi` its species index, neighbours k = offset .. offset+count-1 with vectors
/// rs[3k .. 3k+2] and species indices zs[k]. Implementations must not allocate per call on the float path.
type ISitePotential =
    /// Human-readable model name (e.g. "eam-w-marinica").
    abstract Name: string
    /// Interaction cutoff radius (Å): neighbours at distance >= Cutoff do not contribute.
    abstract Cutoff: float
    /// Element symbols the model knows, in species-index order.
    abstract Elements: string[]
    /// Site energy V(g) (eV).
    abstract SiteEnergy: zi: int * rs: float[] * zs: int[] * offset: int * count: int -> float
    /// Site energy V(g) (eV) and its gradient ∂V/∂g_k (eV/Å), written to grad[3k .. 3k+2] for each neighbour k.
    abstract SiteGradient: zi: int * rs: float[] * zs: int[] * offset: int * count: int * grad: float[] -> float

/// Helpers for the site-potential protocol.
[<RequireQualifiedAccess>]
module SitePotential =

    /// Species index of `symbol` in the model, or an ArgumentException naming the model and the unknown element.
    let speciesIndex (model: ISitePotential) (symbol: string) =
        match Array.tryFindIndex ((=) symbol) model.Elements with
        | Some i -> i
        | None ->
            invalidArg
                "symbol"
                (sprintf
                    "model '%s' has no element '%s' (it knows %s)"
                    model.Name
                    symbol
                    (String.concat ", " model.Elements))
