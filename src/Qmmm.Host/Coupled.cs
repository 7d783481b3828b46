using System.Globalization;
using Microsoft.FSharp.Core;
using Qmmm.Host.IO;
using Qmmm.Numerics;

namespace Qmmm.Host;

/// <summary>The QM/MM coupling schemes of the paper's Sections 3.2–3.3.</summary>
public enum CouplingSchemeKind
{
    /// <summary>Energy mixing E^H (3.8), minimised.</summary>
    Energy,

    /// <summary>Energy mixing with the ghost-force correction E^GFC (3.10)–(3.11), minimised.</summary>
    EnergyGfc,

    /// <summary>Force mixing F^H (3.16)–(3.17), solved for F^H = 0 by Newton–Krylov (not a gradient system).</summary>
    Force,
}

/// <summary>The coupling of a defect system: scheme, QM radius and buffer width (units of r0, as the defect's radii).</summary>
public sealed class CouplingOptions
{
    /// <summary>The scheme; default force mixing.</summary>
    public CouplingSchemeKind Scheme { get; set; } = CouplingSchemeKind.Force;

    /// <summary>R_QM (units of r0): QM sites |x − x̂| &lt; R_QM (strict); default 3.</summary>
    public double Rqm { get; set; } = 3;

    /// <summary>R_BUF (units of r0): buffer R_QM ≤ |x − x̂| &lt; R_QM + R_BUF; default: the smallest width ≥ 2 × the QM cutoff.</summary>
    public double? Rbuf { get; set; }

    /// <summary>Also relax with the QM model alone (the reference solution ū) and report ‖Dū − Dū^H‖ (2.2); default false.</summary>
    public bool Reference { get; set; }
}

/// <summary>A coupled relaxation: the relaxed structure (region tags QM, buffer, MM, fixed), the work and, with a reference, the error.</summary>
public sealed class CoupledRelaxationResult
{
    internal CoupledRelaxationResult(CoupledResult r, Structure structure, double rqm, double rbuf, (int Qm, int Buffer, int Mm, int FarField) counts, double? error, RelaxationResult? reference)
    {
        Residual = r.Residual;
        Iterations = r.Report.Iterations;
        NewtonIterations = r.Report.NewtonIterations;
        Evaluations = r.Report.Evaluations;
        ClusterSize = r.ClusterSize;
        QmEvaluations = r.QmEvaluations;
        Seconds = r.Seconds;
        Structure = structure;
        Rqm = rqm;
        Rbuf = rbuf;
        Counts = counts;
        Error = error;
        ReferenceResult = reference;
    }

    /// <summary>‖F‖∞ of the scheme's forces over the free atoms (eV/Å).</summary>
    public double Residual { get; }

    /// <summary>L-BFGS iterations (0 for force mixing).</summary>
    public int Iterations { get; }

    /// <summary>Newton–Krylov iterations.</summary>
    public int NewtonIterations { get; }

    /// <summary>Force evaluations of the coupled model.</summary>
    public int Evaluations { get; }

    /// <summary>Atoms of the QM cluster Λ^QM ∪ Λ^BUF.</summary>
    public int ClusterSize { get; }

    /// <summary>QM computations.</summary>
    public int QmEvaluations { get; }

    /// <summary>Wall time of the coupled solve (s).</summary>
    public double Seconds { get; }

    /// <summary>R_QM (Å).</summary>
    public double Rqm { get; }

    /// <summary>R_BUF (Å).</summary>
    public double Rbuf { get; }

    /// <summary>Atoms per region: QM, buffer, MM (free), far field.</summary>
    public (int Qm, int Buffer, int Mm, int FarField) Counts { get; }

    /// <summary>‖Dū − Dū^H‖_{ℓ²_N} (2.2) against the reference solution (Å); null without <see cref="CouplingOptions.Reference"/>.</summary>
    public double? Error { get; }

    /// <summary>The reference relaxation (QM model alone); null without <see cref="CouplingOptions.Reference"/>.</summary>
    public RelaxationResult? ReferenceResult { get; }

    /// <summary>The relaxed structure with columns <c>region</c> (QM, buffer, MM, fixed), <c>u0</c>, <c>u</c>.</summary>
    public Structure Structure { get; }
}

/// <summary>Coupled QM/MM relaxations of a defect system (its model is the QM model).</summary>
public sealed partial class DefectSystem
{
    /// <summary>
    /// Relaxes the defect with the coupled model: this system's model on Λ^QM (computed on the cluster
    /// Λ^QM ∪ Λ^BUF), <paramref name="mm"/> elsewhere, far field clamped at the predictor; energy schemes are minimised,
    /// force mixing is solved by Newton–Krylov. With <see cref="CouplingOptions.Reference"/> the same problem is also
    /// relaxed with the QM model alone and the error ‖Dū − Dū^H‖ (2.2) is reported.
    /// </summary>
    /// <exception cref="ArgumentException">Inconsistent radii (R_QM ≥ R_MM, negative or non-finite), or an MM model without the element.</exception>
    /// <exception cref="QmmmComputationException">The solver did not reach the tolerance (iterations, residual, tolerance).</exception>
    public CoupledRelaxationResult RelaxCoupled(Model mm, CouplingOptions coupling, RelaxOptions? options = null, Action<RelaxProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(mm);
        ArgumentNullException.ThrowIfNull(coupling);
        options ??= new RelaxOptions();
        var element = Problem.Domain.Lattice.Element;
        if (Array.IndexOf(mm.Elements, element) < 0)
        {
            throw new ArgumentException($"MM model '{mm.Name}' has no element '{element}' (it knows {string.Join(", ", mm.Elements)})", nameof(mm));
        }

        if (!(coupling.Rqm > 0) || !double.IsFinite(coupling.Rqm))
        {
            throw new ArgumentException($"R_QM must be a positive number of r0, got {coupling.Rqm.ToString(CultureInfo.InvariantCulture)}", nameof(coupling));
        }

        var rqm = coupling.Rqm * R0;
        var rbuf = coupling.Rbuf is { } b ? b * R0 : RegionsModule.defaultWidth(R0, Model.Cutoff) * R0;
        if (!(rbuf >= 0) || !double.IsFinite(rbuf))
        {
            throw new ArgumentException($"R_BUF must be a non-negative number of r0, got {coupling.Rbuf?.ToString(CultureInfo.InvariantCulture)}", nameof(coupling));
        }

        var sites = CoupledProblem.sites(Problem, rqm, rbuf);
        var c = CoupledProblem.counts(Problem, sites);
        var settings = Settings(options, progress, cancellation);
        var ev = Evaluation(options);
        var precond = options.Preconditioner ? PreconditionerKind.NewExp(ExpPreconditionerSettings.Defaults) : PreconditionerKind.NoPreconditioner;
        var scheme = coupling.Scheme switch
        {
            CouplingSchemeKind.Energy => CouplingScheme.Energy,
            CouplingSchemeKind.EnergyGfc => CouplingScheme.EnergyGfc,
            _ => CouplingScheme.Force,
        };
        var r = Boundary.Run(() => CoupledProblem.relax(settings, ev, precond, scheme, Model.Potential, mm.Potential, Problem, rqm, sites));
        RelaxationResult? reference = null;
        double? error = null;
        if (coupling.Reference)
        {
            reference = Relax(options, progress, cancellation);
            error = CoupledProblem.error(Problem, reference.Structure.FlatPositions, r.Positions);
        }

        var s = ToStructure(r.Positions, null, null);
        var region = new string[s.Count];
        for (var i = 0; i < s.Count; i++)
        {
            region[i] = sites.Qm[i] ? "QM" : sites.Buffer[i] ? "buffer" : Problem.Regions.Of[i].IsFree ? "MM" : "fixed";
        }

        s.Columns.RemoveAll(col => col.Name == "region");
        s.Columns.Insert(0, XyzColumn.String("region", 1, region));
        s.Info["scheme"] = coupling.Scheme switch { CouplingSchemeKind.Energy => "energy", CouplingSchemeKind.EnergyGfc => "energy-gfc", _ => "force" };
        s.Info["qm_model"] = Model.Name;
        s.Info["mm_model"] = mm.Name;
        return new CoupledRelaxationResult(r, s, rqm, rbuf, (c.Item1, c.Item2, c.Item3, c.Item4), error, reference);
    }

    /// <summary>
    /// The hybrid forces (eV/Å, N×3) of <paramref name="scheme"/> on the unrelaxed configuration x0 + u0, with the
    /// distance of every atom from the core (Å) and its region tag: the ghost-force picture (paper, Fig. 4.2). With
    /// this system's defect <see cref="DefectType.None"/> it is the patch test on the perfect lattice.
    /// </summary>
    /// <exception cref="ArgumentException">Inconsistent radii, or an MM model without the element.</exception>
    public (double[,] Forces, double[] Distance, string[] Region) HybridForces(Model mm, CouplingSchemeKind scheme, double rqm, double? rbuf = null)
    {
        ArgumentNullException.ThrowIfNull(mm);
        var r = rqm * R0;
        var b = rbuf is { } w ? w * R0 : RegionsModule.defaultWidth(R0, Model.Cutoff) * R0;
        var sites = CoupledProblem.sites(Problem, r, b);
        var kind = scheme switch
        {
            CouplingSchemeKind.Energy => CouplingScheme.Energy,
            CouplingSchemeKind.EnergyGfc => CouplingScheme.EnergyGfc,
            _ => CouplingScheme.Force,
        };
        var f = Boundary.Run(() => CoupledProblem.forcesAt(EvaluationSettings.Defaults, kind, Model.Potential, mm.Potential, Problem, r, sites));
        var n = Problem.Domain.Reference.Count;
        var distance = new double[n];
        var region = new string[n];
        for (var i = 0; i < n; i++)
        {
            var x = Problem.Domain.Reference.Positions;
            distance[i] = DefectGeometry.distance(Problem.Domain.Shape, Problem.Domain.Core, new Vec3(x[3 * i], x[(3 * i) + 1], x[(3 * i) + 2]));
            region[i] = sites.Qm[i] ? "QM" : sites.Buffer[i] ? "buffer" : Problem.Regions.Of[i].IsFree ? "MM" : "fixed";
        }

        return (Structure.Unflatten(f), distance, region);
    }

    private static SolverSettings Settings(RelaxOptions options, Action<RelaxProgress>? progress, CancellationToken cancellation)
    {
        if (!(options.Tolerance > 0))
        {
            throw new ArgumentException($"the tolerance must be positive, got {options.Tolerance.ToString(CultureInfo.InvariantCulture)}", nameof(options));
        }

        var d = SolverSettings.Defaults;
        var report = progress is null
            ? d.Progress
            : FuncConvert.FromAction<SolverProgress>(p => progress(new RelaxProgress(p.Method, p.Iteration, p.Value, p.Residual)));
        return new SolverSettings(options.Tolerance, options.MaxIterations, options.MaxNewtonIterations, d.NewtonSwitch, d.Memory, d.MaxStep, d.DifferenceStep, d.Symmetric, report, cancellation);
    }

    private static EvaluationSettings Evaluation(RelaxOptions options)
    {
        var ev = EvaluationSettings.Defaults;
        return options.Threads is { } t ? new EvaluationSettings(t, ev.Chunks, ev.Generic, ev.Skin) : ev;
    }
}
