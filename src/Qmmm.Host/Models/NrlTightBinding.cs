using System.Globalization;
using Qmmm.Numerics;

namespace Qmmm.Host;

/// <summary>
/// The NRL tight-binding model for Si (paper Appendix D) in the <see cref="Models"/> registry: <c>nrltb-si</c> with the
/// defaults (zero temperature at fixed eF = 5.5212408 eV, Γ point only, spin factor 2, <c>original</c> cutoff), or
/// <c>nrltb-si:KEY=VALUE,...</c> with the keys
/// <list type="bullet">
/// <item><c>kT</c>: Fermi–Dirac smearing (eV, ≥ 0; 0 = zero temperature), or <c>beta</c> = 1/kT (1/eV);</item>
/// <item><c>eF</c>: chemical potential (eV);</item>
/// <item><c>k</c>: k-point grid <c>N1xN2xN3</c> along the periodic axes (Γ-centred), <c>mp</c>=1 for the original
/// Monkhorst–Pack grid;</item>
/// <item><c>spin</c>: spin factor, 2 (physical, default) or 1 (the paper's code family, energies exactly half);</item>
/// <item><c>cutoff</c>: <c>original</c> (default), <c>energyshift</c> or <c>forceshift</c>.</item>
/// </list>
/// Example: <c>nrltb-si:kT=0.0333,k=4x4x4,spin=1</c>. The model's name repeats every setting, so reports show them.
/// </summary>
public static class NrlTightBinding
{
    /// <summary>Parses the options after <c>nrltb-si:</c> (empty: the defaults).</summary>
    /// <exception cref="ArgumentException">An unknown key, a malformed or out-of-range value (the message names the key).</exception>
    public static TightBindingOptions ParseOptions(string args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var d = TightBindingOptions.Defaults;
        var mu = d.ChemicalPotential;
        var kT = d.Temperature;
        var spin = d.SpinFactor;
        var grid = new[] { 1, 1, 1 };
        var gamma = true;
        var cutoff = d.Cutoff;
        foreach (var part in args.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ArgumentException($"nrltb-si: expected KEY=VALUE, got '{part}' (keys: kT, beta, eF, k, mp, spin, cutoff)", nameof(args));
            }

            var key = part[..eq].Trim();
            var value = part[(eq + 1)..].Trim();
            double Number(double lo)
            {
                if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !double.IsFinite(x) || x < lo)
                {
                    throw new ArgumentException($"nrltb-si: {key} must be a number >= {lo.ToString(CultureInfo.InvariantCulture)}, got '{value}'", nameof(args));
                }

                return x;
            }

            switch (key.ToLowerInvariant())
            {
                case "kt":
                    kT = Number(0);
                    break;
                case "beta":
                    var beta = Number(0);
                    if (beta <= 0)
                    {
                        throw new ArgumentException($"nrltb-si: beta must be positive, got '{value}'", nameof(args));
                    }

                    kT = 1 / beta;
                    break;
                case "ef":
                    mu = Number(double.MinValue);
                    break;
                case "spin":
                    spin = Number(0);
                    if (spin is not (1 or 2))
                    {
                        throw new ArgumentException($"nrltb-si: spin must be 1 or 2, got '{value}'", nameof(args));
                    }

                    break;
                case "k":
                    var n = value.Split('x', 'X');
                    if (n.Length != 3 || n.Any(t => !int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < 1 || v > 1000))
                    {
                        throw new ArgumentException($"nrltb-si: k must be N1xN2xN3 with whole numbers from 1 to 1000, got '{value}'", nameof(args));
                    }

                    grid = [.. n.Select(t => int.Parse(t, CultureInfo.InvariantCulture))];
                    break;
                case "mp":
                    gamma = value switch
                    {
                        "1" or "true" => false,
                        "0" or "false" => true,
                        _ => throw new ArgumentException($"nrltb-si: mp must be 0 or 1, got '{value}'", nameof(args)),
                    };
                    break;
                case "cutoff":
                    cutoff = value.ToLowerInvariant() switch
                    {
                        "original" => NrlCutoff.Original,
                        "energyshift" => NrlCutoff.EnergyShift,
                        "forceshift" => NrlCutoff.ForceShift,
                        _ => throw new ArgumentException($"nrltb-si: cutoff must be original, energyshift or forceshift, got '{value}'", nameof(args)),
                    };
                    break;
                default:
                    throw new ArgumentException($"nrltb-si: unknown key '{key}' (keys: kT, beta, eF, k, mp, spin, cutoff)", nameof(args));
            }
        }

        return new TightBindingOptions(d.Parameters, cutoff, mu, kT, new KGrid(grid, gamma), spin, d.Backend);
    }

    /// <summary>The model for the options after <c>nrltb-si:</c> (empty: the defaults); see <see cref="ParseOptions"/>.</summary>
    public static Model Create(string args)
    {
        var options = ParseOptions(args);
        var potential = TightBinding.model(options);
        return new Model(args.Length == 0 ? "nrltb-si" : "nrltb-si:" + args, potential);
    }

    /// <summary>
    /// For an NRL tight-binding model at zero temperature: a warning naming the window (<c>TightBinding.LevelWindow</c>
    /// = 0.01 eV) when some level of <paramref name="structure"/> lies that close to eF, where forces are discontinuous;
    /// null otherwise and for every other model. Costs one eigen-solve per k-point.
    /// </summary>
    public static string? LevelWarning(Model model, Structure structure)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(structure);
        var options = TightBinding.optionsOf(model.Potential);
        if (options is null)
        {
            return null;
        }

        var config = structure.ToConfiguration();
        var nl = Neighbours.build(model.Cutoff, config);
        var warning = TightBinding.levelWarning(options.Value, TightBinding.LevelWindow, config, nl);
        return warning is null ? null : warning.Value;
    }
}
