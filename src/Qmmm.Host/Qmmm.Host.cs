using Qmmm.Numerics;

namespace Qmmm.Host;

/// <summary>Version information of the Qmmm library.</summary>
public static class QmmmInfo
{
    /// <summary>The library's version string.</summary>
    public static string Version => typeof(QmmmInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Units of every number Qmmm reads or writes: energies eV, lengths Å, forces eV/Å, virials eV, stresses eV/Å³.</summary>
    public const string Units = "energy eV, length Angstrom, forces eV/Angstrom, virial eV, stress eV/Angstrom^3";
}

/// <summary>
/// The entry point of the C# facade: creates models from a short specification. Load structures with
/// <see cref="Structure.Load"/>, build them with <see cref="Lattices"/> and <see cref="Domains"/>, evaluate with
/// <see cref="Model.Evaluate"/>.
/// <code>
/// var model = Models.Create("eam-w-marinica");
/// var cell = Lattices.Bcc("W", 3.1434).Periodic(4, 4, 4);
/// var result = model.Evaluate(cell);   // result.Energy (eV), result.Forces (N×3, eV/Å), result.Stress (eV/Å³)
/// </code>
/// </summary>
public static class Models
{
    /// <summary>The built-in model names and the setfl form accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Known { get; } = ["eam-w-marinica", "eam-w-zhou", "setfl:PATH"];

    /// <summary>
    /// Creates a model from its specification:
    /// <list type="bullet">
    /// <item><c>eam-w-marinica</c>: Marinica et al. 2013 "EAM4" for W (analytic; the default W model).</item>
    /// <item><c>eam-w-zhou</c>: Zhou–Johnson–Wadley 2004 EAM for W (analytic, smooth cutoff 7.5–7.8925 Å).</item>
    /// <item><c>setfl:PATH</c>: a LAMMPS setfl file, interpolated as LAMMPS does. The dialect follows the extension
    /// (<c>.eam.alloy</c>: eam/alloy; <c>.eam.fs</c> or <c>.fs</c>: eam/fs); for other names the file is read as
    /// eam/alloy and, if that fails, as eam/fs.</item>
    /// </list>
    /// </summary>
    /// <exception cref="ArgumentException">Unknown specification (the message lists the known ones).</exception>
    /// <exception cref="QmmmException">A setfl file is missing, unreadable or malformed (the message names file, line and field).</exception>
    public static Model Create(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var s = spec.Trim();
        switch (s)
        {
            case "eam-w-marinica":
                return new Model(s, Marinica.model);
            case "eam-w-zhou":
                return new Model(s, Zhou.model);
        }

        if (s.StartsWith("setfl:", StringComparison.Ordinal))
        {
            var path = s["setfl:".Length..];
            if (path.Length == 0)
            {
                throw new ArgumentException("model 'setfl:' needs a file path, e.g. setfl:W_zhou.eam.alloy", nameof(spec));
            }

            return new Model(s, LoadSetfl(path));
        }

        throw new ArgumentException($"unknown model '{spec}' (known: {string.Join(", ", Known)})", nameof(spec));
    }

    /// <summary>Reads and parses a LAMMPS setfl file (dialect from the extension, else by content; see <see cref="Create"/>).</summary>
    private static EamModel LoadSetfl(string path)
    {
        if (!File.Exists(path))
        {
            throw new QmmmException(Directory.Exists(path) ? $"{path}: is a directory, expected a setfl file" : $"{path}: no such file");
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new QmmmException($"{path}: cannot read: {e.Message}", e);
        }

        var name = "setfl:" + Path.GetFileName(path);
        var lower = path.ToLowerInvariant();
        if (lower.EndsWith(".eam.alloy", StringComparison.Ordinal))
        {
            return Setfl.model(name, Setfl.parse(SetflKind.Alloy, path, text));
        }

        if (lower.EndsWith(".eam.fs", StringComparison.Ordinal) || lower.EndsWith(".fs", StringComparison.Ordinal))
        {
            return Setfl.model(name, Setfl.parse(SetflKind.FinnisSinclair, path, text));
        }

        try
        {
            return Setfl.model(name, Setfl.parse(SetflKind.Alloy, path, text));
        }
        catch (QmmmException alloyError)
        {
            try
            {
                return Setfl.model(name, Setfl.parse(SetflKind.FinnisSinclair, path, text));
            }
            catch (QmmmException)
            {
                throw new QmmmException(alloyError.Message, alloyError);
            }
        }
    }
}
