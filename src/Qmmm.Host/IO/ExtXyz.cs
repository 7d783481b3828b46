using System.Globalization;
using System.Text;
using Qmmm.Numerics;

namespace Qmmm.Host.IO;

/// <summary>
/// Extended XYZ files with ASE's conventions (ase.io.extxyz, checked against ASE 3.22.1): per frame a line with the
/// atom count, a comment line of <c>key=value</c> pairs, then one line per atom with the columns that
/// <c>Properties=name:T:n:...</c> declares (T = R real, I integer, S string, L logical).
/// <list type="bullet">
/// <item><c>Lattice="a1x a1y a1z a2x a2y a2z a3x a3y a3z"</c>: cell rows (Å); absent for a structure without cell.</item>
/// <item><c>pbc="T T F"</c>: periodicity; without it, periodic along all axes when a Lattice is given, else none.</item>
/// <item><c>Properties=species:S:1:pos:R:3[:forces:R:3][:energies:R:1]</c>: symbols, positions (Å), forces (eV/Å),
/// site energies (eV); any other column is kept as an <see cref="XyzColumn"/> and written back.</item>
/// <item><c>energy=</c> (eV); <c>virial="..."</c> (eV) and <c>stress="..."</c> (eV/Å³, σ = −W/V): 9 numbers of the
/// 3×3 matrix in column-major order, as ASE writes them (<c>stress</c> also accepted as 6 Voigt numbers xx yy zz yz xz xy).</item>
/// <item>Other keys: kept in <see cref="Structure.Info"/> as text. Values may be quoted with <c>"</c>, <c>'</c>,
/// <c>{}</c> or <c>[]</c>, with <c>\</c> escaping the next character; a bare key means <c>T</c>.</item>
/// </list>
/// Units are not written into the file (ASE does not); they are eV, Å, eV/Å, eV/Å³ throughout.
/// Reals are written with the shortest representation that reads back to the same double, so a write→read
/// round trip is exact.
/// </summary>
public static class ExtXyz
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Reads every frame of the extended XYZ file at <paramref name="path"/>.</summary>
    /// <exception cref="QmmmInputException">The file does not exist or cannot be read.</exception>
    /// <exception cref="ExtXyzFormatException">The content is malformed; the message names file, line and field.</exception>
    public static Structure[] Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            throw new QmmmInputException($"{path}: is a directory, expected an extended XYZ file");
        }

        if (!File.Exists(path))
        {
            throw new QmmmInputException($"{path}: no such file");
        }

        // Devices (/dev/zero) and FIFOs report length 0, as an empty file does: all are refused before opening, so
        // nothing blocks on a FIFO without writer or reads an endless device.
        if (new FileInfo(path).Length == 0)
        {
            throw new ExtXyzFormatException(path, 1, "atom count", 0, "the file is empty (0 bytes), or is not a regular file (a device or FIFO); expected an extended XYZ file");
        }

        try
        {
            using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
            return Read(reader, path);
        }
        catch (IOException e)
        {
            throw new QmmmInputException($"{path}: cannot read: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new QmmmInputException($"{path}: cannot read: {e.Message}", e);
        }
    }

    /// <summary>Reads every frame from <paramref name="reader"/>; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="ExtXyzFormatException">The content is malformed; the message names source, line and field.</exception>
    public static Structure[] Read(TextReader reader, string source) => Read(reader, source, Limits.Current);

    /// <summary>Reads every frame from <paramref name="textReader"/> under <paramref name="limits"/> (atoms, values per frame, line length).</summary>
    /// <exception cref="ExtXyzFormatException">The content is malformed or exceeds a limit; the message names source, line and field.</exception>
    public static Structure[] Read(TextReader textReader, string source, Limits limits)
    {
        ArgumentNullException.ThrowIfNull(textReader);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(limits);
        var reader = new LineReader(textReader, limits.MaxLineLength);
        var frames = new List<Structure>();
        var lineNo = 0;
        while (true)
        {
            var header = reader.ReadLine(source, lineNo + 1);
            lineNo++;
            if (header is null || header.Trim().Length == 0)
            {
                // End of data (ASE stops at the first blank header line too); anything after it must be blank.
                while (header is not null)
                {
                    if (header.Trim().Length != 0)
                    {
                        throw new ExtXyzFormatException(source, lineNo, "atom count", 0, $"text after a blank line: '{Clip(header)}'");
                    }

                    header = reader.ReadLine(source, lineNo + 1);
                    lineNo++;
                }

                break;
            }

            var countText = header.Trim();
            if (countText.Length == 0 || !countText.All(char.IsAsciiDigit))
            {
                throw new ExtXyzFormatException(source, lineNo, "atom count", 0, $"expected a non-negative integer, got '{Clip(countText)}'");
            }

            if (!long.TryParse(countText, NumberStyles.None, Inv, out var count) || count > limits.MaxAtoms)
            {
                throw new ExtXyzFormatException(source, lineNo, "atom count", 0, Limits.Exceeded("the atom count", count > 0 ? count : double.Parse(countText, Inv), limits.MaxAtoms, "QMMM_MAX_ATOMS"));
            }

            if (count > Array.MaxLength)
            {
                throw new ExtXyzFormatException(source, lineNo, "atom count", 0, $"the atom count {count} exceeds the largest array .NET can hold ({Array.MaxLength})");
            }

            frames.Add(ReadFrame(reader, source, ref lineNo, (int)count, limits));
        }

        return [.. frames];
    }

    /// <summary>Reads every frame from the text of an extended XYZ file; <paramref name="source"/> names it in error messages.</summary>
    public static Structure[] Parse(string text, string source = "<text>")
    {
        ArgumentNullException.ThrowIfNull(text);
        using var reader = new StringReader(text);
        return Read(reader, source);
    }

    /// <summary>Writes the frames to <paramref name="path"/> (replacing it), one frame per structure.</summary>
    /// <exception cref="QmmmInputException">The file cannot be written, or a structure cannot be represented (non-finite position, clashing column name).</exception>
    public static void Write(string path, IEnumerable<Structure> frames)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(frames);
        var list = frames.ToList();
        foreach (var s in list)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(frames));
            CheckWritable(s); // before the file is touched: a structure that cannot be written leaves no file
        }

        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            foreach (var s in list)
            {
                WriteFrame(writer, s);
            }
        });
    }

    /// <summary>Writes the frames to <paramref name="writer"/>.</summary>
    public static void Write(TextWriter writer, IEnumerable<Structure> frames)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(frames);
        foreach (var s in frames)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(frames));
            CheckWritable(s);
            WriteFrame(writer, s);
        }
    }

    /// <summary>The extended XYZ text of the frames (lines end with <c>\n</c>).</summary>
    public static string ToText(IEnumerable<Structure> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        using var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(w, frames);
        return w.ToString();
    }

    /// <summary>
    /// Formats a real as ASE reads it back exactly: the shortest round-trip representation with a decimal point or
    /// exponent (<c>0.0</c>, <c>3.1434</c>, <c>1e-05</c>), <c>nan</c>, <c>inf</c>, <c>-inf</c> for non-finite values.
    /// </summary>
    public static string FormatReal(double v)
    {
        if (double.IsNaN(v))
        {
            return "nan";
        }

        if (double.IsInfinity(v))
        {
            return v > 0 ? "inf" : "-inf";
        }

        var s = v.ToString("R", Inv).Replace('E', 'e');
        return s.Contains('.') || s.Contains('e') ? s : s + ".0";
    }

    /// <summary>Parses a real: invariant-culture decimal or exponent notation, also <c>nan</c>, <c>inf</c>, <c>-inf</c> (Python's spellings).</summary>
    public static bool TryParseReal(string text, out double value)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (double.TryParse(text, NumberStyles.Float, Inv, out value))
        {
            return true;
        }

        switch (text.ToLowerInvariant())
        {
            case "nan":
            case "+nan":
            case "-nan":
                value = double.NaN;
                return true;
            case "inf":
            case "+inf":
            case "infinity":
                value = double.PositiveInfinity;
                return true;
            case "-inf":
            case "-infinity":
                value = double.NegativeInfinity;
                return true;
            default:
                value = 0.0;
                return false;
        }
    }

    /// <summary>Parses a logical as ASE does: <c>T</c>, <c>True</c>, <c>true</c> or <c>F</c>, <c>False</c>, <c>false</c>.</summary>
    public static bool TryParseLogical(string text, out bool value)
    {
        switch (text)
        {
            case "T":
            case "True":
            case "true":
                value = true;
                return true;
            case "F":
            case "False":
            case "false":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>
    /// Splits an extended XYZ comment line into ordered <c>(key, value)</c> pairs: whitespace separates pairs,
    /// <c>=</c> separates key and value, values may be quoted with <c>"</c>, <c>'</c>, <c>{}</c> or <c>[]</c>,
    /// <c>\</c> escapes the next character; a key without value gets <c>T</c> (ASE's rule). Later duplicates win.
    /// </summary>
    public static OrderedDictionary<string, string> ParseCommentLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var pairs = new List<(StringBuilder Key, List<StringBuilder> Values)>();
        StringBuilder? part = null; // the part (key or value) characters go to; null between words
        var awaitingValue = false;  // after '=' until the value's first character (allows "key= value")
        var closing = '\0';
        var escaped = false;

        foreach (var ch in line.Trim())
        {
            if (escaped)
            {
                part!.Append(ch);
                escaped = false;
                continue;
            }

            if (closing != '\0')
            {
                if (ch == '\\')
                {
                    escaped = true;
                }
                else if (ch == closing)
                {
                    closing = '\0';
                }
                else
                {
                    part!.Append(ch);
                }

                continue;
            }

            if (char.IsWhiteSpace(ch))
            {
                part = null;
                continue;
            }

            if (ch == '=')
            {
                if (pairs.Count == 0)
                {
                    pairs.Add((new StringBuilder(), []));
                }

                part = new StringBuilder();
                pairs[^1].Values.Add(part);
                awaitingValue = true;
                continue;
            }

            if (part is null)
            {
                if (awaitingValue)
                {
                    part = pairs[^1].Values[^1];
                }
                else
                {
                    part = new StringBuilder();
                    pairs.Add((part, []));
                }
            }

            awaitingValue = false;
            switch (ch)
            {
                case '\\':
                    escaped = true;
                    break;
                case '"' or '\'':
                    closing = ch;
                    break;
                case '{':
                    closing = '}';
                    break;
                case '[':
                    closing = ']';
                    break;
                default:
                    part.Append(ch);
                    break;
            }
        }

        var result = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, values) in pairs)
        {
            result[key.ToString()] = values.Count == 0 ? "T" : string.Join("=", values.Select(b => b.ToString()));
        }

        return result;
    }

    private static Structure ReadFrame(LineReader reader, string source, ref int lineNo, int n, Limits limits)
    {
        var comment = reader.ReadLine(source, lineNo + 1);
        lineNo++;
        if (comment is null)
        {
            throw new ExtXyzFormatException(source, lineNo, "comment line", 0, $"the frame declares {n} atoms but the file ends before its comment line");
        }

        var commentLine = lineNo;
        var info = ParseCommentLine(comment);
        if (info.ContainsKey(""))
        {
            throw new ExtXyzFormatException(source, commentLine, "comment line", 0, "a value without a key ('=' with nothing before it)");
        }

        // Cell and periodicity.
        var cell = new double[3, 3];
        var hasLattice = info.Remove("Lattice", out var latticeText);
        if (hasLattice)
        {
            var v = ParseReals(latticeText!, source, commentLine, "Lattice", 9, 9);
            for (var k = 0; k < 9; k++)
            {
                cell[k / 3, k % 3] = v[k];
            }
        }

        bool[] pbc;
        if (info.Remove("pbc", out var pbcText))
        {
            pbc = ParsePbc(pbcText!, source, commentLine);
        }
        else
        {
            pbc = hasLattice ? [true, true, true] : [false, false, false];
        }

        for (var k = 0; k < 3; k++)
        {
            if (pbc[k] && cell[k, 0] == 0.0 && cell[k, 1] == 0.0 && cell[k, 2] == 0.0)
            {
                throw new ExtXyzFormatException(source, commentLine, "pbc", 0, $"axis {k + 1} is periodic (T) but lattice vector a{k + 1} is {(hasLattice ? "zero" : "missing (no Lattice)")}");
            }
        }

        // Columns.
        var properties = info.Remove("Properties", out var propText) ? propText! : "species:S:1:pos:R:3";
        var columns = ParseProperties(properties, source, commentLine, limits.MaxLineLength);

        // Per-frame results.
        double? energy = null;
        if (info.Remove("energy", out var energyText))
        {
            energy = ParseReals(energyText!, source, commentLine, "energy", 1, 1)[0];
        }

        double[,]? virial = null;
        if (info.Remove("virial", out var virialText))
        {
            virial = ColumnMajor(ParseReals(virialText!, source, commentLine, "virial", 9, 9));
        }

        double[,]? stress = null;
        if (info.Remove("stress", out var stressText))
        {
            var v = ParseReals(stressText!, source, commentLine, "stress", 6, 9);
            stress = v.Length == 9
                ? ColumnMajor(v)
                : new double[,] { { v[0], v[5], v[4] }, { v[5], v[1], v[3] }, { v[4], v[3], v[2] } };
        }

        // Atom lines. Sizes in 64-bit, checked against the limits before anything is allocated.
        var total = columns.Sum(c => (long)c.Width);
        if (total > limits.MaxLineLength / 2)
        {
            throw new ExtXyzFormatException(source, commentLine, "Properties", 0, $"the columns declare {total} values per atom line, which cannot fit a line of at most {limits.MaxLineLength} characters (set QMMM_MAX_LINE to raise it)");
        }

        if ((long)n * total > limits.MaxValues)
        {
            throw new ExtXyzFormatException(source, commentLine, "Properties", 0, Limits.Exceeded($"the number of values of the frame ({n} atoms x {total} columns)", (double)n * total, limits.MaxValues, "QMMM_MAX_VALUES"));
        }

        var widest = columns.Max(c => c.Width);
        if ((long)n * widest > Array.MaxLength)
        {
            throw new ExtXyzFormatException(source, commentLine, "Properties", 0, $"a column of {n} atoms x {widest} values exceeds the largest array .NET can hold ({Array.MaxLength})");
        }

        // Arrays grow with the lines actually read, so a wrong (huge) atom count in a short file fails on the missing
        // lines, not on an allocation of the declared size.
        var capacity = (int)Math.Min(n, Math.Max(1, 65536 / total));
        var data = columns.Select(c => NewArray(c.Kind, capacity * c.Width)).ToArray();
        string? lastString = null; // the previous string value, reused while equal (species repeat line after line)
        for (var atom = 0; atom < n; atom++)
        {
            if (atom == capacity)
            {
                capacity = (int)Math.Min(n, 2L * capacity);
                for (var c = 0; c < columns.Length; c++)
                {
                    var grown = NewArray(columns[c].Kind, capacity * columns[c].Width);
                    Array.Copy(data[c], grown, data[c].Length);
                    data[c] = grown;
                }
            }

            var line = reader.ReadLine(source, lineNo + 1);
            lineNo++;
            if (line is null)
            {
                throw new ExtXyzFormatException(source, lineNo, "atom count", 0, $"the frame declares {n} atoms but the file ends after {atom}");
            }

            // Tokens are spans of the line (no string per number): whitespace-separated, as string.Split(null) splits.
            var span = line.AsSpan();
            var at = 0;
            var t = 0;
            for (var c = 0; c < columns.Length; c++)
            {
                var col = columns[c];
                for (var k = 0; k < col.Width; k++, t++)
                {
                    var token = NextToken(span, ref at);
                    if (token.IsEmpty)
                    {
                        throw new ExtXyzFormatException(source, lineNo, col.Name, t + 1, $"missing: the line has {CountTokens(span)} columns, Properties declares {total}");
                    }

                    StoreValue(data[c], col, atom * col.Width + k, token, ref lastString, source, lineNo, t + 1, atom, k);
                }
            }

            var extra = NextToken(span, ref at);
            if (!extra.IsEmpty)
            {
                throw new ExtXyzFormatException(source, lineNo, "Properties", (int)total + 1, $"the line has {CountTokens(span)} columns, Properties declares {total}: '{Clip(extra.ToString())}' is extra");
            }
        }

        // Assemble.
        var speciesIndex = Array.FindIndex(columns, c => c.Name == "species");
        var posIndex = Array.FindIndex(columns, c => c.Name == "pos");
        var species = (string[])data[speciesIndex];
        var flatPos = (double[])data[posIndex];
        var s = new Structure(species, Structure.Unflatten(flatPos), cell, pbc);
        s.Source = source;
        s.FirstAtomLine = commentLine + 1;
        s.Energy = energy;
        s.Virial = virial;
        s.Stress = stress;
        for (var c = 0; c < columns.Length; c++)
        {
            var col = columns[c];
            switch (col.Name)
            {
                case "species":
                case "pos":
                    break;
                case "forces":
                    s.Forces = Structure.Unflatten((double[])data[c]);
                    break;
                case "energies":
                    s.SiteEnergies = (double[])data[c];
                    break;
                default:
                    s.Columns.Add(col.Kind switch
                    {
                        XyzColumnKind.Real => XyzColumn.Real(col.Name, col.Width, (double[])data[c]),
                        XyzColumnKind.Integer => XyzColumn.Integer(col.Name, col.Width, (long[])data[c]),
                        XyzColumnKind.String => XyzColumn.String(col.Name, col.Width, (string[])data[c]),
                        _ => XyzColumn.Logical(col.Name, col.Width, (bool[])data[c]),
                    });
                    break;
            }
        }

        foreach (var kv in info)
        {
            s.Info[kv.Key] = kv.Value;
        }

        return s;
    }

    private readonly record struct ColumnSpec(string Name, XyzColumnKind Kind, int Width);

    private static ColumnSpec[] ParseProperties(string text, string source, int line, long maxLineLength)
    {
        var maxWidth = (int)Math.Min(int.MaxValue, maxLineLength / 2);
        var parts = text.Split(':');
        if (parts.Length % 3 != 0)
        {
            throw new ExtXyzFormatException(source, line, "Properties", 0, $"expected name:type:count triples, got '{Clip(text)}'");
        }

        var specs = new List<ColumnSpec>();
        for (var p = 0; p < parts.Length; p += 3)
        {
            var name = parts[p];
            if (name.Length == 0)
            {
                throw new ExtXyzFormatException(source, line, "Properties", 0, $"empty column name in '{Clip(text)}'");
            }

            if (name.Any(ch => char.IsWhiteSpace(ch) || char.IsControl(ch) || ch is '=' or '"' or '\'' or '\\' or '{' or '}' or '[' or ']'))
            {
                throw new ExtXyzFormatException(source, line, "Properties", 0, $"column name '{Clip(name)}' must not contain whitespace, '=', quotes, brackets or '\\'");
            }

            XyzColumnKind kind = parts[p + 1] switch
            {
                "R" => XyzColumnKind.Real,
                "I" => XyzColumnKind.Integer,
                "S" => XyzColumnKind.String,
                "L" => XyzColumnKind.Logical,
                _ => throw new ExtXyzFormatException(source, line, "Properties", 0, $"column '{name}': unknown type '{parts[p + 1]}' (expected R, I, S or L)"),
            };
            var widthText = parts[p + 2];
            if (widthText.Length == 0 || !widthText.All(char.IsAsciiDigit))
            {
                throw new ExtXyzFormatException(source, line, "Properties", 0, $"column '{name}': expected a positive column count, got '{Clip(widthText)}'");
            }

            if (!int.TryParse(widthText, NumberStyles.None, Inv, out var width) || width > maxWidth)
            {
                throw new ExtXyzFormatException(source, line, "Properties", 0, $"column '{name}': {Clip(widthText)} values per atom cannot fit a line of at most {maxWidth * 2} characters (set QMMM_MAX_LINE to raise it)");
            }

            if (width < 1)
            {
                throw new ExtXyzFormatException(source, line, "Properties", 0, $"column '{name}': expected a positive column count, got '{widthText}'");
            }

            if (specs.Any(s => s.Name == name))
            {
                throw new ExtXyzFormatException(source, line, "Properties", 0, $"column '{name}' is declared twice");
            }

            specs.Add(new ColumnSpec(name, kind, width));
        }

        Require(specs, "species", XyzColumnKind.String, 1, true, source, line);
        Require(specs, "pos", XyzColumnKind.Real, 3, true, source, line);
        Require(specs, "forces", XyzColumnKind.Real, 3, false, source, line);
        Require(specs, "energies", XyzColumnKind.Real, 1, false, source, line);
        return [.. specs];
    }

    private static void Require(List<ColumnSpec> specs, string name, XyzColumnKind kind, int width, bool mandatory, string source, int line)
    {
        var i = specs.FindIndex(s => s.Name == name);
        var letter = XyzLetter(kind);
        if (i < 0)
        {
            if (mandatory)
            {
                throw new ExtXyzFormatException(source, line, "Properties", 0, $"no '{name}:{letter}:{width}' column");
            }

            return;
        }

        if (specs[i].Kind != kind || specs[i].Width != width)
        {
            throw new ExtXyzFormatException(source, line, "Properties", 0, $"column '{name}' must be {name}:{letter}:{width}, got {name}:{XyzLetter(specs[i].Kind)}:{specs[i].Width}");
        }
    }

    private static char XyzLetter(XyzColumnKind kind) => kind switch
    {
        XyzColumnKind.Real => 'R',
        XyzColumnKind.Integer => 'I',
        XyzColumnKind.String => 'S',
        _ => 'L',
    };

    private static Array NewArray(XyzColumnKind kind, int length) => kind switch
    {
        XyzColumnKind.Real => new double[length],
        XyzColumnKind.Integer => new long[length],
        XyzColumnKind.String => new string[length],
        _ => new bool[length],
    };

    /// <summary>The next whitespace-separated token of <paramref name="line"/> from <paramref name="at"/> on (empty at the end).</summary>
    private static ReadOnlySpan<char> NextToken(ReadOnlySpan<char> line, ref int at)
    {
        while (at < line.Length && char.IsWhiteSpace(line[at]))
        {
            at++;
        }

        var start = at;
        while (at < line.Length && !char.IsWhiteSpace(line[at]))
        {
            at++;
        }

        return line[start..at];
    }

    private static int CountTokens(ReadOnlySpan<char> line)
    {
        var at = 0;
        var count = 0;
        while (!NextToken(line, ref at).IsEmpty)
        {
            count++;
        }

        return count;
    }

    private static void StoreValue(Array target, ColumnSpec col, int index, ReadOnlySpan<char> token, ref string? lastString, string source, int line, int column, int atom, int component)
    {
        switch (col.Kind)
        {
            case XyzColumnKind.Real:
                if (!double.TryParse(token, NumberStyles.Float, Inv, out var r) && !TryParseReal(token.ToString(), out r))
                {
                    throw new ExtXyzFormatException(source, line, col.Name, column, $"expected a number, got '{Clip(token.ToString())}'");
                }

                if (col.Name == "pos" && !double.IsFinite(r))
                {
                    throw new ExtXyzFormatException(source, line, col.Name, column, $"atom {atom}: coordinate {"xyz"[component]} is {FormatReal(r)}, not a finite number");
                }

                ((double[])target)[index] = r;
                break;
            case XyzColumnKind.Integer:
                if (!long.TryParse(token, NumberStyles.AllowLeadingSign, Inv, out var i))
                {
                    throw new ExtXyzFormatException(source, line, col.Name, column, $"expected an integer, got '{Clip(token.ToString())}'");
                }

                ((long[])target)[index] = i;
                break;
            case XyzColumnKind.String:
                if (lastString is null || !token.SequenceEqual(lastString))
                {
                    lastString = token.ToString();
                }

                ((string[])target)[index] = lastString;
                break;
            default:
                if (!TryParseLogical(token.ToString(), out var b))
                {
                    throw new ExtXyzFormatException(source, line, col.Name, column, $"expected T or F, got '{Clip(token.ToString())}'");
                }

                ((bool[])target)[index] = b;
                break;
        }
    }

    private static double[] ParseReals(string text, string source, int line, string field, int minCount, int maxCount)
    {
        var tokens = text.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length < minCount || tokens.Length > maxCount)
        {
            var expected = minCount == maxCount ? $"{minCount}" : $"{minCount} or {maxCount}";
            throw new ExtXyzFormatException(source, line, field, 0, $"expected {expected} number{(maxCount == 1 ? "" : "s")}, got {tokens.Length} ('{Clip(text)}')");
        }

        var values = new double[tokens.Length];
        for (var k = 0; k < tokens.Length; k++)
        {
            if (!TryParseReal(tokens[k], out values[k]))
            {
                throw new ExtXyzFormatException(source, line, field, 0, $"expected a number, got '{Clip(tokens[k])}'");
            }

            if (!double.IsFinite(values[k]))
            {
                throw new ExtXyzFormatException(source, line, field, 0, $"entry {k + 1} is {FormatReal(values[k])}, not a finite number");
            }
        }

        return values;
    }

    private static bool[] ParsePbc(string text, string source, int line)
    {
        var tokens = text.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length is not (1 or 3))
        {
            throw new ExtXyzFormatException(source, line, "pbc", 0, $"expected 3 logicals (T/F), got '{Clip(text)}'");
        }

        var values = new bool[tokens.Length];
        for (var k = 0; k < tokens.Length; k++)
        {
            if (!TryParseLogical(tokens[k], out values[k]))
            {
                throw new ExtXyzFormatException(source, line, "pbc", 0, $"expected T or F, got '{Clip(tokens[k])}'");
            }
        }

        return values.Length == 3 ? values : [values[0], values[0], values[0]];
    }

    /// <summary>A 3×3 matrix from 9 numbers in column-major (Fortran) order, as ASE writes virial and stress.</summary>
    private static double[,] ColumnMajor(double[] v)
    {
        var m = new double[3, 3];
        for (var k = 0; k < 9; k++)
        {
            m[k % 3, k / 3] = v[k];
        }

        return m;
    }

    private static string ColumnMajorText(double[,] m)
    {
        var parts = new string[9];
        for (var k = 0; k < 9; k++)
        {
            parts[k] = FormatReal(m[k % 3, k / 3]);
        }

        return string.Join(' ', parts);
    }

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "species", "pos", "forces", "energies",
    };

    private static readonly HashSet<string> ReservedKeys = new(StringComparer.Ordinal)
    {
        "Lattice", "Properties", "pbc", "energy", "virial", "stress",
    };

    private static void CheckWritable(Structure s)
    {
        var n = s.Count;
        for (var i = 0; i < n; i++)
        {
            for (var k = 0; k < 3; k++)
            {
                if (!double.IsFinite(s.Positions[i, k]))
                {
                    throw new QmmmInputException($"cannot write atom {i}: coordinate {"xyz"[k]} is {FormatReal(s.Positions[i, k])}, not a finite number");
                }
            }
        }

        foreach (var c in s.Columns)
        {
            if (Reserved.Contains(c.Name))
            {
                throw new QmmmInputException($"cannot write extra column '{c.Name}': the name is reserved (use Structure.{(c.Name == "forces" ? "Forces" : c.Name == "energies" ? "SiteEnergies" : c.Name == "pos" ? "Positions" : "Species")})");
            }

            if (c.Count != n)
            {
                throw new QmmmInputException($"cannot write extra column '{c.Name}': it has {c.Count} rows, the structure has {n} atoms");
            }
        }

        foreach (var kv in s.Info)
        {
            if (ReservedKeys.Contains(kv.Key))
            {
                throw new QmmmInputException($"cannot write info key '{kv.Key}': the key is reserved (set the Structure property instead)");
            }
        }
    }

    /// <summary>Atoms per formatting chunk of <see cref="WriteFrame"/> (chunks are formatted in parallel, written in order).</summary>
    private const int AtomsPerChunk = 4096;

    private static void WriteFrame(TextWriter w, Structure s)
    {
        var n = s.Count;
        var props = new StringBuilder("species:S:1:pos:R:3");
        foreach (var c in s.Columns)
        {
            props.Append(CultureInfo.InvariantCulture, $":{c.Name}:{c.TypeLetter}:{c.Width}");
        }

        if (s.Forces is not null)
        {
            props.Append(":forces:R:3");
        }

        if (s.SiteEnergies is not null)
        {
            props.Append(":energies:R:1");
        }

        var comment = new List<string>();
        if (s.HasCell)
        {
            var lattice = new string[9];
            for (var k = 0; k < 9; k++)
            {
                lattice[k] = FormatReal(s.Cell[k / 3, k % 3]);
            }

            comment.Add($"Lattice=\"{string.Join(' ', lattice)}\"");
        }

        comment.Add($"Properties={props}");
        foreach (var kv in s.Info)
        {
            if (ReservedKeys.Contains(kv.Key))
            {
                throw new QmmmInputException($"cannot write info key '{kv.Key}': the key is reserved (set the Structure property instead)");
            }

            comment.Add($"{Escape(kv.Key)}={Escape(kv.Value)}");
        }

        if (s.Energy is { } e)
        {
            comment.Add($"energy={FormatReal(e)}");
        }

        if (s.Virial is not null)
        {
            comment.Add($"virial=\"{ColumnMajorText(s.Virial)}\"");
        }

        if (s.Stress is not null)
        {
            comment.Add($"stress=\"{ColumnMajorText(s.Stress)}\"");
        }

        comment.Add($"pbc=\"{string.Join(' ', s.Pbc.Select(p => p ? "T" : "F"))}\"");

        w.Write(n.ToString(Inv));
        w.Write('\n');
        w.Write(string.Join(' ', comment));
        w.Write('\n');

        // Atom lines, formatted chunk by chunk in parallel (allocation-free number formatting) and written in order.
        var chunks = (n + AtomsPerChunk - 1) / AtomsPerChunk;
        var batch = Math.Max(1, 4 * Environment.ProcessorCount);
        var text = new StringBuilder[Math.Min(batch, Math.Max(chunks, 1))];
        for (var first = 0; first < chunks; first += batch)
        {
            var count = Math.Min(batch, chunks - first);
            Parallel.For(0, count, b =>
            {
                var sb = text[b] ??= new StringBuilder();
                sb.Clear();
                var lo = (first + b) * AtomsPerChunk;
                AppendAtoms(sb, s, lo, Math.Min(n, lo + AtomsPerChunk));
            });
            for (var b = 0; b < count; b++)
            {
                w.Write(text[b]);
            }
        }
    }

    private static void AppendAtoms(StringBuilder sb, Structure s, int lo, int hi)
    {
        for (var i = lo; i < hi; i++)
        {
            sb.Append(s.Species[i].PadRight(2));
            for (var k = 0; k < 3; k++)
            {
                AppendReal(sb, s.Positions[i, k]);
            }

            foreach (var c in s.Columns)
            {
                for (var k = 0; k < c.Width; k++)
                {
                    var j = (i * c.Width) + k;
                    switch (c.Kind)
                    {
                        case XyzColumnKind.Real:
                            AppendReal(sb, c.Reals![j]);
                            break;
                        case XyzColumnKind.Integer:
                            sb.Append(' ').Append(c.Integers![j].ToString(Inv).PadLeft(8));
                            break;
                        case XyzColumnKind.String:
                            sb.Append(' ').Append(c.Strings![j].PadRight(2));
                            break;
                        default:
                            sb.Append("  ").Append(c.Logicals![j] ? 'T' : 'F');
                            break;
                    }
                }
            }

            if (s.Forces is not null)
            {
                for (var k = 0; k < 3; k++)
                {
                    AppendReal(sb, s.Forces[i, k]);
                }
            }

            if (s.SiteEnergies is not null)
            {
                AppendReal(sb, s.SiteEnergies[i]);
            }

            sb.Append('\n');
        }
    }

    /// <summary>Appends ' ' and <see cref="FormatReal"/>(v) padded on the left to 16 characters, without allocating.</summary>
    private static void AppendReal(StringBuilder sb, double v)
    {
        Span<char> buf = stackalloc char[40];
        int len;
        if (!double.IsFinite(v))
        {
            var t = FormatReal(v);
            t.AsSpan().CopyTo(buf);
            len = t.Length;
        }
        else
        {
            v.TryFormat(buf, out len, "R", Inv);
            var marked = false;
            for (var k = 0; k < len; k++)
            {
                if (buf[k] == 'E')
                {
                    buf[k] = 'e';
                    marked = true;
                }
                else if (buf[k] == '.')
                {
                    marked = true;
                }
            }

            if (!marked)
            {
                buf[len++] = '.';
                buf[len++] = '0';
            }
        }

        sb.Append(' ', 1 + Math.Max(0, 16 - len)).Append(buf[..len]);
    }

    /// <summary>Quotes a key or value when ASE's reader needs it (whitespace, quotes, brackets, '=', '\', empty), escaping '"' and '\'.</summary>
    private static string Escape(string text)
    {
        var needs = text.Length == 0 || text.Any(ch => char.IsWhiteSpace(ch) || ch is '"' or '\'' or '{' or '}' or '[' or ']' or '=' or '\\');
        return needs ? "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"" : text;
    }

    private static string Clip(string text) => text.Length <= 40 ? text : text[..37] + "...";
}
