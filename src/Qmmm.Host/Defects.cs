using System.Globalization;
using Microsoft.FSharp.Core;
using Qmmm.Host.IO;
using Qmmm.Numerics;

namespace Qmmm.Host;

/// <summary>The crystal of a defect problem: bcc W in cube axes, or diamond Si with x ∥ [110], y ∥ [001], z ∥ [1−10].</summary>
public enum DefectCrystal
{
    /// <summary>bcc tungsten, x = [100], y = [010], z = [001].</summary>
    W,

    /// <summary>diamond silicon, x ∥ [110], y ∥ [001], z ∥ [1−10].</summary>
    Si,
}

/// <summary>The defect at the core.</summary>
public enum DefectType
{
    /// <summary>The perfect crystal.</summary>
    None,

    /// <summary>The lattice site at the origin removed.</summary>
    Vacancy,

    /// <summary>A straight edge dislocation along z, Burgers vector along x, glide-plane normal y.</summary>
    Edge,
}

/// <summary>The far-field predictor u0 of (A.2).</summary>
public enum FarFieldPredictor
{
    /// <summary>Anisotropic CLE (Stroh) with the model's Cauchy–Born constants.</summary>
    Anisotropic,

    /// <summary>Isotropic CLE with Poisson ratio <see cref="DefectOptions.PoissonRatio"/>.</summary>
    Isotropic,

    /// <summary>u0 = 0.</summary>
    None,
}

/// <summary>Options of a defect problem; radii in units of r0 (<see cref="NearestNeighbourUnit"/>).</summary>
public sealed class DefectOptions
{
    /// <summary>The crystal (default W).</summary>
    public DefectCrystal Crystal { get; set; } = DefectCrystal.W;

    /// <summary>The defect (default vacancy).</summary>
    public DefectType Defect { get; set; } = DefectType.Vacancy;

    /// <summary>Cubic lattice constant a (Å); null (default): the model's zero-pressure lattice constant, computed.</summary>
    public double? LatticeConstant { get; set; }

    /// <summary>R_MM in units of r0 (default 10): free atoms |x − x̂| ≤ R_MM.</summary>
    public double Rmm { get; set; } = 10;

    /// <summary>Far-field width R_FF in units of r0; null (default): the smallest integer ≥ 2 × cutoff / r0.</summary>
    public double? Rff { get; set; }

    /// <summary>r0 = nearest-neighbour distance when true; the lattice constant (default, as in the paper) when false.</summary>
    public bool NearestNeighbourUnit { get; set; }

    /// <summary>The far-field predictor (default anisotropic).</summary>
    public FarFieldPredictor Predictor { get; set; } = FarFieldPredictor.Anisotropic;

    /// <summary>Poisson ratio of the isotropic predictor (default 0.25).</summary>
    public double PoissonRatio { get; set; } = 0.25;

    /// <summary>A 3-D ball instead of the quasi-2D disc (default false).</summary>
    public bool ThreeDimensional { get; set; }
}

/// <summary>Solver options of a relaxation.</summary>
public sealed class RelaxOptions
{
    /// <summary>Stop at ‖F‖∞ ≤ Tolerance over the free atoms (eV/Å; default 1e-8).</summary>
    public double Tolerance { get; set; } = 1e-8;

    /// <summary>Cap on the L-BFGS iterations (default 10000).</summary>
    public int MaxIterations { get; set; } = 10000;

    /// <summary>Cap on the Newton–Krylov polish iterations (default 20).</summary>
    public int MaxNewtonIterations { get; set; } = 20;

    /// <summary>Use the Exp lattice-Laplacian preconditioner (default true).</summary>
    public bool Preconditioner { get; set; } = true;

    /// <summary>Threads of the force evaluations; null: all cores.</summary>
    public int? Threads { get; set; }
}

/// <summary>One progress report of a relaxation.</summary>
/// <param name="Method"><c>lbfgs</c> or <c>newton</c>.</param>
/// <param name="Iteration">Iterations of that method so far.</param>
/// <param name="EnergyDifference">The energy-difference functional (2.7) at the iterate (eV).</param>
/// <param name="Residual">‖F‖∞ over the free atoms (eV/Å).</param>
public sealed record RelaxProgress(string Method, int Iteration, double EnergyDifference, double Residual);

/// <summary>The outcome of <see cref="DefectSystem.Relax"/>.</summary>
public sealed class RelaxationResult
{
    internal RelaxationResult(Numerics.RelaxResult r, double? formation, Structure structure)
    {
        Energy = r.Energy;
        EnergyDifference = r.EnergyDifference;
        Residual = r.Residual;
        Iterations = r.Report.Iterations;
        NewtonIterations = r.Report.NewtonIterations;
        Evaluations = r.Report.Evaluations;
        Seconds = r.Report.Seconds;
        FormationEnergy = formation;
        Structure = structure;
    }

    /// <summary>Total energy of the relaxed domain (eV; per z-period for the quasi-2D disc).</summary>
    public double Energy { get; }

    /// <summary>The energy-difference functional (2.7): E(relaxed) − E(predicted) as a sum of site-energy differences (eV).</summary>
    public double EnergyDifference { get; }

    /// <summary>‖F‖∞ over the free atoms (eV/Å).</summary>
    public double Residual { get; }

    /// <summary>L-BFGS iterations.</summary>
    public int Iterations { get; }

    /// <summary>Newton–Krylov iterations.</summary>
    public int NewtonIterations { get; }

    /// <summary>Force evaluations in total.</summary>
    public int Evaluations { get; }

    /// <summary>Wall-clock time of the solve (s).</summary>
    public double Seconds { get; }

    /// <summary>For a vacancy: E_f = E_def − E_perf + μ (eV; E_perf the perfect domain with the same regions, μ the bulk energy per atom); else null.</summary>
    public double? FormationEnergy { get; }

    /// <summary>The relaxed structure with columns <c>region</c>, <c>u0</c>, <c>u</c>, forces and energy.</summary>
    public Structure Structure { get; }
}

/// <summary>
/// A defect domain set up for a model (Section 2, Appendix A): lattice constant (the model's equilibrium unless given),
/// Cauchy–Born elastic constants, the domain of radius R_MM + R_FF around the core x̂, its regions and the far-field
/// predictor. <see cref="Relax"/> relaxes the free atoms with any model.
/// <code>
/// var model = Models.Create("eam-w-zhou");
/// var system = DefectSystem.Create(model, new DefectOptions { Defect = DefectType.Edge, Rmm = 20 });
/// var result = system.Relax(new RelaxOptions { Tolerance = 1e-10 }, p => Console.Error.WriteLine(p), CancellationToken.None);
/// </code>
/// </summary>
public sealed partial class DefectSystem
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private DefectSystem(Model model, DefectOptions options, DefectSpec spec, DefectProblem problem, double r0, double rffUnits, bool aComputed, CubicConstants c)
    {
        Model = model;
        Options = options;
        Spec = spec;
        Problem = problem;
        R0 = r0;
        RffUnits = rffUnits;
        LatticeConstantComputed = aComputed;
        ElasticConstantsGPa = (c.C11 * Elasticity.GPa, c.C12 * Elasticity.GPa, c.C44 * Elasticity.GPa);
    }

    /// <summary>The model.</summary>
    public Model Model { get; }

    /// <summary>The options it was built from.</summary>
    public DefectOptions Options { get; }

    internal DefectSpec Spec { get; }

    internal DefectProblem Problem { get; }

    /// <summary>The lattice constant a (Å).</summary>
    public double LatticeConstant => Spec.A;

    /// <summary>True when a is the model's computed zero-pressure lattice constant (not given).</summary>
    public bool LatticeConstantComputed { get; }

    /// <summary>r0 (Å): a or the nearest-neighbour distance.</summary>
    public double R0 { get; }

    /// <summary>The nearest-neighbour distance (Å).</summary>
    public double NearestNeighbourDistance => LatticeModule.nearestNeighbourDistance(Problem.Domain.Lattice);

    /// <summary>R_FF in units of r0 (the default when not given).</summary>
    public double RffUnits { get; }

    /// <summary>C11, C12, C44 (GPa, cube axes) of the model's Cauchy–Born energy at a.</summary>
    public (double C11, double C12, double C44) ElasticConstantsGPa { get; }

    /// <summary>Atoms of the domain.</summary>
    public int AtomCount => Problem.Domain.Reference.Count;

    /// <summary>Free atoms (|x − x̂| ≤ R_MM).</summary>
    public int FreeCount => Problem.Regions.Free.Length;

    /// <summary>Far-field atoms clamped to the predictor.</summary>
    public int FarFieldCount => Problem.Regions.FarField.Length;

    /// <summary>The core position x̂ (Å).</summary>
    public (double X, double Y, double Z) Core => (Problem.Domain.Core.X, Problem.Domain.Core.Y, Problem.Domain.Core.Z);

    /// <summary>The Burgers vector (Å; zero for point defects).</summary>
    public (double X, double Y, double Z) Burgers => (Problem.Domain.Burgers.X, Problem.Domain.Burgers.Y, Problem.Domain.Burgers.Z);

    /// <summary>
    /// Sets up the problem for <paramref name="model"/>: computes a (unless given), the elastic constants, the domain,
    /// regions and predictor.
    /// </summary>
    /// <exception cref="ArgumentException">Bad options (non-positive radii, Poisson ratio outside (−1, 0.5)) or a model without the crystal's element.</exception>
    public static DefectSystem Create(Model model, DefectOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.Rmm > 0) || !double.IsFinite(options.Rmm))
        {
            throw new ArgumentException($"R_MM must be a positive number of r0, got {options.Rmm.ToString(Inv)}", nameof(options));
        }

        if (options.Rff is { } w && (!(w >= 0) || !double.IsFinite(w)))
        {
            throw new ArgumentException($"R_FF must be a non-negative number of r0, got {w.ToString(Inv)}", nameof(options));
        }

        var crystal = options.Crystal == DefectCrystal.W ? Crystal.W : Crystal.Si;
        var element = options.Crystal == DefectCrystal.W ? "W" : "Si";
        if (Array.IndexOf(model.Elements, element) < 0)
        {
            throw new ArgumentException($"model '{model.Name}' has no element '{element}' (it knows {string.Join(", ", model.Elements)})", nameof(model));
        }

        var pot = model.Potential;
        var guess = options.Crystal == DefectCrystal.W ? 3.16 : 5.43;
        var a = options.LatticeConstant ?? Elasticity.equilibriumLatticeConstant(pot, FuncConvert.FromFunc<double, Lattice>(x => DefectGeometry.lattice(crystal, x)), guess);
        if (!(a > 0) || !double.IsFinite(a))
        {
            throw new ArgumentException($"the lattice constant must be positive, got {a.ToString(Inv)}", nameof(options));
        }

        var lattice = DefectGeometry.lattice(crystal, a);
        var r0 = RegionsModule.r0(options.NearestNeighbourUnit ? RadiusUnit.NearestNeighbour : RadiusUnit.LatticeConstant, lattice);
        var rff = options.Rff ?? RegionsModule.defaultWidth(r0, pot.Cutoff);

        // ℂ in cube axes (W: the lattice itself; Si: the unrotated diamond), rotated to the simulation axes
        var cube = options.Crystal == DefectCrystal.W ? LatticeModule.bcc("W", a) : LatticeModule.diamond("Si", a);
        var cCube = Elasticity.stiffness(pot, cube);
        var cSim = Elasticity.rotate(lattice.Rotation, cCube);
        var predictor = options.Defect != DefectType.Edge ? PredictorKind.NoPredictor : options.Predictor switch
        {
            FarFieldPredictor.Anisotropic => PredictorKind.NewAnisotropic(cSim),
            FarFieldPredictor.Isotropic => PredictorKind.NewIsotropic(options.PoissonRatio),
            _ => PredictorKind.NoPredictor,
        };
        if (options.Predictor == FarFieldPredictor.Isotropic && !(options.PoissonRatio > -1 && options.PoissonRatio < 0.5))
        {
            throw new ArgumentException($"the Poisson ratio must lie in (-1, 0.5), got {options.PoissonRatio.ToString(Inv)}", nameof(options));
        }

        var spec = new DefectSpec(
            crystal,
            options.Defect switch { DefectType.Vacancy => DefectKind.Vacancy, DefectType.Edge => DefectKind.Edge, _ => DefectKind.NoDefect },
            options.ThreeDimensional ? DomainShape.Ball : DomainShape.Quasi2D,
            a,
            options.Rmm * r0,
            rff * r0,
            predictor,
            FSharpOption<double>.None);
        var problem = Boundary.Run(() => DefectProblemModule.create(spec));
        return new DefectSystem(model, options, spec, problem, r0, rff, options.LatticeConstant is null, Elasticity.cubic(cCube));
    }

    /// <summary>The predicted (unrelaxed) configuration x0 + u0 with columns <c>region</c>, <c>u0</c>, <c>u</c> (= u0).</summary>
    public Structure Predicted() => ToStructure(Problem.Predicted.Positions, null, null);

    /// <summary>
    /// Relaxes the free atoms with the model to ‖F‖∞ ≤ <see cref="RelaxOptions.Tolerance"/> (L-BFGS on the
    /// energy-difference functional (2.7), then a Newton–Krylov polish); <paramref name="progress"/> is called after
    /// every iteration; <paramref name="cancellation"/> is checked once per iteration.
    /// </summary>
    /// <exception cref="QmmmComputationException">The tolerance was not reached (the message names iterations, residual and tolerance; <see cref="QmmmComputationException.Iterations"/>, <see cref="QmmmComputationException.Residual"/> and <see cref="QmmmComputationException.Tolerance"/> carry them).</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public RelaxationResult Relax(RelaxOptions? options = null, Action<RelaxProgress>? progress = null, CancellationToken cancellation = default)
    {
        options ??= new RelaxOptions();
        var settings = Settings(options, progress, cancellation);
        var ev = Evaluation(options);
        var precond = options.Preconditioner ? PreconditionerKind.NewExp(ExpPreconditionerSettings.Defaults) : PreconditionerKind.NoPreconditioner;
        var r = Boundary.Run(() => Numerics.Relax.problem(settings, ev, precond, Model.Potential, Problem));
        double? ef = Spec.Defect.IsVacancy ? Numerics.Relax.formationEnergy(Model.Potential, Spec, r.Energy) : null;
        var forces = Numerics.Potential.compute(Model.Potential, WithPositions(r.Positions)).Forces;
        return new RelaxationResult(r, ef, ToStructure(r.Positions, forces, r.Energy));
    }

    private Configuration WithPositions(double[] positions) => new(Problem.Predicted.Species, positions, Problem.Predicted.Cell);

    private Structure ToStructure(double[] positions, double[]? forces, double? energy)
    {
        var config = WithPositions(positions);
        var s = Structure.FromConfiguration(config);
        var n = s.Count;
        var x0 = Problem.Domain.Reference.Positions;
        var u = new double[3 * n];
        for (var k = 0; k < 3 * n; k++)
        {
            u[k] = positions[k] - x0[k];
        }

        var region = new string[n];
        for (var i = 0; i < n; i++)
        {
            region[i] = Problem.Regions.Of[i].IsFree ? "MM" : "fixed";
        }

        s.Columns.Add(XyzColumn.String("region", 1, region));
        s.Columns.Add(XyzColumn.Real("u0", 3, (double[])Problem.U0.Clone()));
        s.Columns.Add(XyzColumn.Real("u", 3, u));
        static string V(double x, double y, double z) => $"{ExtXyz.FormatReal(x)} {ExtXyz.FormatReal(y)} {ExtXyz.FormatReal(z)}";
        s.Info["core_positions"] = V(Core.X, Core.Y, Core.Z);
        if (Spec.Defect.IsEdge)
        {
            s.Info["burgers_vectors"] = V(Burgers.X, Burgers.Y, Burgers.Z);
        }

        s.Info["a"] = ExtXyz.FormatReal(LatticeConstant);
        s.Info["r0"] = ExtXyz.FormatReal(R0);
        if (forces is not null)
        {
            s.Forces = Structure.Unflatten(forces);
            s.Energy = energy;
            s.Info["units"] = Structure.ResultUnits;
        }

        return s;
    }
}
