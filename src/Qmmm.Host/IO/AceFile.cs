using System.Text.Json;
using System.Text.Json.Nodes;
using Qmmm.Numerics;

namespace Qmmm.Host.IO;

/// <summary>
/// A malformed ACE potential file. The message is one line, <c>FILE: field 'PATH': WHAT</c>, with PATH the JSON path of
/// the offending field (e.g. <c>w.json: field 'version': this reader knows schema version 1, got 2</c>); for a JSON syntax
/// error <c>FILE:LINE: WHAT</c>.
/// </summary>
public sealed class AceFileFormatException : QmmmException
{
    /// <summary>Creates the exception for the field <paramref name="field"/> (a JSON path) of <paramref name="file"/>.</summary>
    public AceFileFormatException(string file, string field, string what)
        : base($"{file}: field '{field}': {what}")
    {
        File = file;
        Field = field;
        What = what;
    }

    /// <summary>Creates the exception for a JSON syntax error at a 1-based line.</summary>
    public AceFileFormatException(string file, long line, string what, Exception inner)
        : base($"{file}:{line}: {what}", inner)
    {
        File = file;
        Field = "";
        What = what;
    }

    /// <summary>The file name as given by the caller.</summary>
    public string File { get; }

    /// <summary>JSON path of the offending field (empty for a syntax error).</summary>
    public string Field { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string What { get; }
}

/// <summary>
/// A linear ACE potential as stored on disk: name, element, basis specification, coefficients (one per basis function
/// in the basis's deterministic order) and free metadata (e.g. a fit report).
/// </summary>
public sealed class AcePotentialFile
{
    /// <summary>Creates the description; arrays are not copied.</summary>
    public AcePotentialFile(string name, string element, AceBasisSpec basis, double[] coefficients, JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(element);
        ArgumentNullException.ThrowIfNull(basis);
        ArgumentNullException.ThrowIfNull(coefficients);
        Name = name;
        Element = element;
        Basis = basis;
        Coefficients = coefficients;
        Metadata = metadata ?? [];
    }

    /// <summary>The model name.</summary>
    public string Name { get; }

    /// <summary>The element symbol.</summary>
    public string Element { get; }

    /// <summary>The basis specification (correlation order, total degree, wL, radial parameters).</summary>
    public AceBasisSpec Basis { get; }

    /// <summary>The coefficients c_B (eV), one per basis function.</summary>
    public double[] Coefficients { get; }

    /// <summary>Free metadata (any JSON object).</summary>
    public JsonObject Metadata { get; }
}

/// <summary>
/// Reads and writes versioned JSON ACE potential files (schema <c>qmmm-ace</c>, version 1):
/// <code>
/// { "schema": "qmmm-ace", "version": 1, "name": "...", "element": "W",
///   "basis": { "order": 3, "degree": 10, "wL": 1.5, "size": 110,
///              "radial": { "r0": 2.74, "rIn": 1.37, "rCut": 5.5, "transformPower": 2, "envelopePower": 2 } },
///   "coefficients": [ ... ], "metadata": { ... } }
/// </code>
/// <c>basis.size</c> is redundant (the basis is rebuilt from the specification) and checked on reading. Numbers are
/// written in the shortest round-trip form, so a file read back gives bit-identical coefficients and energies.
/// </summary>
public static class AceFile
{
    /// <summary>The schema name.</summary>
    public const string Schema = "qmmm-ace";

    /// <summary>The schema version this code writes and reads.</summary>
    public const int Version = 1;

    /// <summary>The JSON text of <paramref name="potential"/> (indented).</summary>
    public static string ToJson(AcePotentialFile potential)
    {
        ArgumentNullException.ThrowIfNull(potential);
        var s = potential.Basis;
        var size = AceBasisModule.countBasis(s).Item1.Sum();
        var radial = new JsonObject
        {
            ["r0"] = s.Radial.R0,
            ["rIn"] = s.Radial.RIn,
            ["rCut"] = s.Radial.RCut,
            ["transformPower"] = s.Radial.TransformPower,
            ["envelopePower"] = s.Radial.EnvelopePower,
        };
        var basis = new JsonObject
        {
            ["order"] = s.Order,
            ["degree"] = s.Degree,
            ["wL"] = s.WL,
            ["size"] = size,
            ["radial"] = radial,
        };
        var coefficients = new JsonArray();
        foreach (var c in potential.Coefficients)
        {
            coefficients.Add(c);
        }

        var root = new JsonObject
        {
            ["schema"] = Schema,
            ["version"] = Version,
            ["name"] = potential.Name,
            ["element"] = potential.Element,
            ["basis"] = basis,
            ["coefficients"] = coefficients,
            ["metadata"] = JsonNode.Parse(potential.Metadata.ToJsonString()),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Writes <paramref name="potential"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, AcePotentialFile potential)
    {
        ArgumentNullException.ThrowIfNull(path);
        File.WriteAllText(path, ToJson(potential));
    }

    /// <summary>Reads an ACE potential file.</summary>
    /// <exception cref="QmmmException">The file is missing or unreadable.</exception>
    /// <exception cref="AceFileFormatException">Malformed JSON, a wrong schema or version, a missing or ill-typed field, or coefficients inconsistent with the basis (the message names the field).</exception>
    public static AcePotentialFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new QmmmException(Directory.Exists(path) ? $"{path}: is a directory, expected an ACE JSON file" : $"{path}: no such file");
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

        return Parse(path, text);
    }

    /// <summary>Parses the JSON text of an ACE potential file; <paramref name="file"/> names it in error messages.</summary>
    /// <exception cref="AceFileFormatException">See <see cref="Read"/>.</exception>
    public static AcePotentialFile Parse(string file, string text)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(text);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new AceFileFormatException(file, (e.LineNumber ?? 0) + 1, "invalid JSON: " + e.Message, e);
        }

        if (node is not JsonObject root)
        {
            throw new AceFileFormatException(file, "$", "expected a JSON object");
        }

        var schema = GetString(file, root, "schema", "schema");
        if (schema != Schema)
        {
            throw new AceFileFormatException(file, "schema", $"expected '{Schema}', got '{schema}'");
        }

        var version = GetInt(file, root, "version", "version");
        if (version != Version)
        {
            throw new AceFileFormatException(file, "version", $"this reader knows schema version {Version}, got {version}");
        }

        var name = GetString(file, root, "name", "name");
        var element = GetString(file, root, "element", "element");
        var basis = root["basis"] as JsonObject ?? throw new AceFileFormatException(file, "basis", "missing or not an object");
        var radial = basis["radial"] as JsonObject ?? throw new AceFileFormatException(file, "basis.radial", "missing or not an object");
        var spec = new AceBasisSpec(
            GetInt(file, basis, "order", "basis.order"),
            GetDouble(file, basis, "degree", "basis.degree"),
            GetDouble(file, basis, "wL", "basis.wL"),
            new AceRadialSpec(
                GetDouble(file, radial, "r0", "basis.radial.r0"),
                GetDouble(file, radial, "rIn", "basis.radial.rIn"),
                GetDouble(file, radial, "rCut", "basis.radial.rCut"),
                GetInt(file, radial, "transformPower", "basis.radial.transformPower"),
                GetInt(file, radial, "envelopePower", "basis.radial.envelopePower")));
        int size;
        try
        {
            size = AceBasisModule.countBasis(spec).Item1.Sum();
            _ = AceRadial.create(spec.Radial, 1);
        }
        catch (ArgumentException e)
        {
            throw new AceFileFormatException(file, "basis", "invalid specification: " + e.Message);
        }

        var declared = GetInt(file, basis, "size", "basis.size");
        if (declared != size)
        {
            throw new AceFileFormatException(file, "basis.size", $"the basis ({spec.Order}, {spec.Degree}, wL {spec.WL}) has {size} functions, the file declares {declared}");
        }

        var coeffs = root["coefficients"] as JsonArray ?? throw new AceFileFormatException(file, "coefficients", "missing or not an array");
        if (coeffs.Count != size)
        {
            throw new AceFileFormatException(file, "coefficients", $"{coeffs.Count} entries, the basis has {size} functions");
        }

        var c = new double[size];
        for (var k = 0; k < size; k++)
        {
            c[k] = coeffs[k] is JsonValue v && v.TryGetValue<double>(out var x) && double.IsFinite(x)
                ? x
                : throw new AceFileFormatException(file, $"coefficients[{k}]", "expected a finite number");
        }

        var metadata = root["metadata"] switch
        {
            null => [],
            JsonObject o => (JsonObject)JsonNode.Parse(o.ToJsonString())!,
            _ => throw new AceFileFormatException(file, "metadata", "expected a JSON object"),
        };
        return new AcePotentialFile(name, element, spec, c, metadata);
    }

    /// <summary>The model of a potential file: the basis built from its specification, coefficients contracted.</summary>
    public static Model ToModel(string spec, AcePotentialFile potential)
    {
        ArgumentNullException.ThrowIfNull(potential);
        var basis = AceBasisModule.create(potential.Basis);
        var site = new AcePotential(potential.Name, potential.Element, basis, potential.Coefficients);
        return new Model(spec, Numerics.Potential.ofSite(site), site);
    }

    private static string GetString(string file, JsonObject o, string key, string path) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s)
            ? s
            : throw new AceFileFormatException(file, path, "missing or not a string");

    private static double GetDouble(string file, JsonObject o, string key, string path) =>
        o[key] is JsonValue v && v.TryGetValue<double>(out var x) && double.IsFinite(x)
            ? x
            : throw new AceFileFormatException(file, path, "missing or not a finite number");

    private static int GetInt(string file, JsonObject o, string key, string path) =>
        o[key] is JsonValue v && v.TryGetValue<double>(out var x) && x == Math.Floor(x) && Math.Abs(x) < int.MaxValue
            ? (int)x
            : throw new AceFileFormatException(file, path, "missing or not an integer");
}
