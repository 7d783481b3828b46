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
/// One entry of the model registry: a name (<c>eam-w-marinica</c>) or a prefix taking an argument
/// (<c>setfl:</c> + path), how to build the model, and an example the model-generic tests run over.
/// </summary>
public sealed class ModelEntry
{
    internal ModelEntry(string name, string summary, Func<string, Model> create, string? example, Func<LatticeSpec>? testLattice, string argumentName = "ARG")
    {
        ArgumentName = argumentName;
        Name = name;
        Summary = summary;
        Create = create;
        Example = example;
        TestLattice = testLattice;
    }

    /// <summary>The name, or a prefix ending in <c>:</c> whose argument follows it in a specification.</summary>
    public string Name { get; }

    /// <summary>One line saying what the model is.</summary>
    public string Summary { get; }

    /// <summary>What the argument of a prefix entry stands for in listings (<c>PATH</c>, <c>MODEL</c>, <c>ARG</c>).</summary>
    public string ArgumentName { get; }

    /// <summary>True when the entry is a prefix taking an argument (<c>setfl:PATH</c>).</summary>
    public bool TakesArgument => Name.EndsWith(':');

    /// <summary>Builds the model from the argument after the prefix (empty for a plain name).</summary>
    internal Func<string, Model> Create { get; }

    /// <summary>A complete specification that works on any machine with the project's files (null: none).</summary>
    public string? Example { get; }

    /// <summary>A lattice of an element the model knows, near its equilibrium (for model-generic checks); null: none.</summary>
    public Func<LatticeSpec>? TestLattice { get; }
}

/// <summary>
/// The entry point of the C# facade and the model registry: maps names used on the command line and in study files
/// to model constructors, so that a new model needs no CLI change beyond its registration. Load structures with
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
    private static readonly object Gate = new();
    private static readonly List<ModelEntry> Entries = [];

    static Models()
    {
        Register("eam-w-marinica", "Marinica et al. 2013 EAM4 for W (analytic; the default W model)",
            _ => Model.OfEam("eam-w-marinica", Marinica.model), "eam-w-marinica", () => Lattices.Bcc("W", 3.14339));
        Register("eam-w-zhou", "Zhou–Johnson–Wadley 2004 EAM for W (analytic, smooth cutoff 7.5–7.8925 Å)",
            _ => Model.OfEam("eam-w-zhou", Zhou.model), "eam-w-zhou", () => Lattices.Bcc("W", 3.1648));
        Register("setfl:", "a LAMMPS setfl file (eam/alloy, eam/fs), interpolated as LAMMPS does: setfl:PATH",
            path => Model.OfEam("setfl:" + path, LoadSetfl(path)), null, null, "PATH");
        Register("harmonic:", "the harmonic expansion T_2 V^h of a model at its lattice: harmonic:MODEL[@KIND:A]",
            arg => Taylor(2, arg, "harmonic:" + arg), "harmonic:eam-w-marinica", () => Lattices.Bcc("W", 3.14339), "MODEL");
        Register("taylor:2:", "the 2nd-order Taylor expansion of a model at its lattice: taylor:2:MODEL[@KIND:A]",
            arg => Taylor(2, arg, "taylor:2:" + arg), null, null, "MODEL");
        Register("taylor:3:", "the 3rd-order Taylor expansion of a model at its lattice: taylor:3:MODEL[@KIND:A]",
            arg => Taylor(3, arg, "taylor:3:" + arg), null, null, "MODEL");
        Register("nrltb-si", "NRL tight binding for Si, sp basis (Appendix D): zero temperature at eF = 5.5212408 eV, Gamma point, spin factor 2",
            NrlTightBinding.Create, "nrltb-si", () => Lattices.Diamond("Si", 5.43));
        Register("nrltb-si:", "NRL tight binding for Si with options: nrltb-si:kT=...,beta=...,eF=...,k=N1xN2xN3,mp=1,spin=1|2,cutoff=original|energyshift|forceshift",
            NrlTightBinding.Create, "nrltb-si:kT=0.1", () => Lattices.Diamond("Si", 5.43), "OPTIONS");
        Register("ace:", "a linear ACE potential file (JSON, schema qmmm-ace version 1): ace:PATH.json",
            path => IO.AceFile.ToModel("ace:" + path, IO.AceFile.Read(path)), null, null, "PATH");
    }

    /// <summary>
    /// A Taylor model from its argument <c>MODEL[@KIND:A]</c>: the reference specification, and the lattice (kind and
    /// cubic constant, Å) of the expansion; without <c>@KIND:A</c> the reference's registered test lattice (its
    /// equilibrium lattice) is used.
    /// </summary>
    private static Model Taylor(int order, string arg, string spec)
    {
        var at = arg.LastIndexOf('@');
        var referenceSpec = at >= 0 ? arg[..at] : arg;
        var reference = Create(referenceSpec);
        LatticeSpec lattice;
        if (at >= 0)
        {
            var parts = arg[(at + 1)..].Split(':');
            if (parts.Length != 2 || !double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var a))
            {
                throw new ArgumentException($"model '{spec}': the lattice must read @KIND:A (e.g. @bcc:3.14339), got '@{arg[(at + 1)..]}'", nameof(arg));
            }

            lattice = Lattices.Create(parts[0], reference.Elements[0], a);
        }
        else
        {
            var entry = Registered.FirstOrDefault(e => !e.TakesArgument && e.Name == referenceSpec && e.TestLattice is not null)
                ?? throw new ArgumentException($"model '{spec}': no lattice known for '{referenceSpec}'; give one as {spec}@KIND:A (e.g. @bcc:3.14339)", nameof(arg));
            lattice = entry.TestLattice!();
        }

        return Model.TaylorExpansion(reference, lattice, order, spec);
    }

    /// <summary>The registered entries, in registration order.</summary>
    public static IReadOnlyList<ModelEntry> Registered
    {
        get
        {
            lock (Gate)
            {
                return [.. Entries];
            }
        }
    }

    /// <summary>The registered names, with <c>PATH</c>/<c>ARG</c> after prefixes (e.g. <c>setfl:PATH</c>).</summary>
    public static IReadOnlyList<string> Known => [.. Registered.Select(e => e.TakesArgument ? e.Name + e.ArgumentName : e.Name)];

    /// <summary>
    /// Registers a model under <paramref name="name"/> (a plain name, or a prefix ending in <c>:</c> whose argument
    /// follows it). <paramref name="create"/> receives the argument (empty for plain names) and returns the model;
    /// <paramref name="example"/> is a complete specification and <paramref name="testLattice"/> a lattice of an
    /// element the model knows, for the model-generic checks; <paramref name="argumentName"/> names a prefix's argument in
    /// listings (<c>setfl:PATH</c>, <c>harmonic:MODEL</c>). A later registration of the same name replaces the earlier.
    /// </summary>
    /// <exception cref="ArgumentException">An empty name, or one containing white space.</exception>
    public static void Register(string name, string summary, Func<string, Model> create, string? example = null, Func<LatticeSpec>? testLattice = null, string argumentName = "ARG")
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(create);
        if (name.Length == 0 || name.Any(char.IsWhiteSpace) || name == ":")
        {
            throw new ArgumentException($"a model name must be non-empty without white space, got '{name}'", nameof(name));
        }

        lock (Gate)
        {
            Entries.RemoveAll(e => e.Name == name);
            Entries.Add(new ModelEntry(name, summary, create, example, testLattice, argumentName));
        }
    }

    /// <summary>Removes the entry named <paramref name="name"/> (no effect when absent); returns whether one was removed.</summary>
    public static bool Unregister(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (Gate)
        {
            return Entries.RemoveAll(e => e.Name == name) > 0;
        }
    }

    /// <summary>
    /// Creates a model from its specification: a registered name (<see cref="Registered"/>), or a registered prefix
    /// followed by its argument. Built in:
    /// <list type="bullet">
    /// <item><c>eam-w-marinica</c>: Marinica et al. 2013 "EAM4" for W (analytic; the default W model).</item>
    /// <item><c>eam-w-zhou</c>: Zhou–Johnson–Wadley 2004 EAM for W (analytic, smooth cutoff 7.5–7.8925 Å).</item>
    /// <item><c>setfl:PATH</c>: a LAMMPS setfl file, interpolated as LAMMPS does. The dialect follows the extension
    /// (<c>.eam.alloy</c>: eam/alloy; <c>.eam.fs</c> or <c>.fs</c>: eam/fs); for other names the file is read as
    /// eam/alloy and, if that fails, as eam/fs.</item>
    /// </list>
    /// </summary>
    /// <exception cref="ArgumentException">Unknown specification (the message lists the known ones), or a prefix without its argument.</exception>
    /// <exception cref="QmmmInputException">A model file is missing, unreadable or malformed (the message names file, line and field).</exception>
    public static Model Create(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var s = spec.Trim();
        var entries = Registered;
        foreach (var e in entries)
        {
            if (!e.TakesArgument && e.Name == s)
            {
                return Boundary.Run(() => e.Create(""));
            }
        }

        // the longest matching prefix wins (e.g. taylor:3: before taylor:)
        var prefix = entries.Where(e => e.TakesArgument && s.StartsWith(e.Name, StringComparison.Ordinal)).MaxBy(e => e.Name.Length);
        if (prefix is not null)
        {
            var arg = s[prefix.Name.Length..];
            if (arg.Length == 0)
            {
                throw new ArgumentException($"model '{prefix.Name}' needs an argument: {prefix.Summary}", nameof(spec));
            }

            return Boundary.Run(() => prefix.Create(arg));
        }

        throw new ArgumentException($"unknown model '{spec}' (known: {string.Join(", ", Known)})", nameof(spec));
    }

    /// <summary>Reads and parses a LAMMPS setfl file (dialect from the extension, else by content; see <see cref="Create"/>).</summary>
    private static EamModel LoadSetfl(string path)
    {
        if (!File.Exists(path))
        {
            throw new QmmmInputException(Directory.Exists(path) ? $"{path}: is a directory, expected a setfl file" : $"{path}: no such file");
        }

        // Devices and FIFOs report length 0 like an empty file: refused before opening (no endless read, no block).
        var length = new FileInfo(path).Length;
        if (length == 0)
        {
            throw new QmmmInputException(path, 1, "comment 1", "the file is empty (0 bytes), or is not a regular file (a device or FIFO); expected a setfl file");
        }

        if (length > int.MaxValue / 2)
        {
            throw new QmmmInputException(path, 0, "size", $"{length} bytes is more than a setfl file can hold in memory ({int.MaxValue / 2} bytes)");
        }

        var l = Limits.Current;
        var limits = new SetflLimits(
            (int)Math.Min(int.MaxValue, l.MaxElements), (int)Math.Min(int.MaxValue, l.MaxTableLength), l.MinCutoff, l.MaxCutoff, l.MaxTableValue);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new QmmmInputException($"{path}: cannot read: {e.Message}", e);
        }

        var name = "setfl:" + Path.GetFileName(path);
        var lower = path.ToLowerInvariant();
        if (lower.EndsWith(".eam.alloy", StringComparison.Ordinal))
        {
            return Setfl.model(name, Setfl.parseWith(limits, SetflKind.Alloy, path, text));
        }

        if (lower.EndsWith(".eam.fs", StringComparison.Ordinal) || lower.EndsWith(".fs", StringComparison.Ordinal))
        {
            return Setfl.model(name, Setfl.parseWith(limits, SetflKind.FinnisSinclair, path, text));
        }

        try
        {
            return Setfl.model(name, Setfl.parseWith(limits, SetflKind.Alloy, path, text));
        }
        catch (QmmmException alloyError)
        {
            try
            {
                return Setfl.model(name, Setfl.parseWith(limits, SetflKind.FinnisSinclair, path, text));
            }
            catch (QmmmException)
            {
                throw Boundary.Located(alloyError.Message, alloyError);
            }
        }
    }
}
