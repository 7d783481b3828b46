namespace Qmmm.Host.IO;

/// <summary>
/// Reads lines from a <see cref="TextReader"/> like <see cref="TextReader.ReadLine"/> (ends at <c>\n</c>, <c>\r</c>
/// or <c>\r\n</c>), but refuses a line longer than a limit before it is held in memory: a file without line breaks
/// (or <c>/dev/zero</c>) costs at most the limit, never unbounded memory.
/// </summary>
internal sealed class LineReader
{
    private readonly TextReader reader;
    private readonly char[] buffer = new char[1 << 16];
    private readonly long maxLength;
    private int pos;
    private int len;
    private bool end;

    /// <summary>Lines of <paramref name="reader"/>, each at most <paramref name="maxLength"/> characters.</summary>
    internal LineReader(TextReader reader, long maxLength)
    {
        this.reader = reader;
        this.maxLength = maxLength;
    }

    /// <summary>
    /// The next line without its terminator, or null at the end; a line over the limit raises
    /// <see cref="ExtXyzFormatException"/> at <paramref name="source"/>:<paramref name="lineNo"/>.
    /// </summary>
    internal string? ReadLine(string source, int lineNo)
    {
        System.Text.StringBuilder? long_ = null;
        while (true)
        {
            if (pos == len)
            {
                if (end || !Fill())
                {
                    return long_?.ToString();
                }
            }

            var span = buffer.AsSpan(pos, len - pos);
            var k = span.IndexOfAny('\n', '\r');
            var piece = k < 0 ? span : span[..k];
            if ((long_?.Length ?? 0) + (long)piece.Length > maxLength)
            {
                throw new ExtXyzFormatException(source, lineNo, "line", 0, $"the line is longer than the limit of {maxLength} characters (set QMMM_MAX_LINE to raise it; is this a text file?)");
            }

            if (k < 0)
            {
                (long_ ??= new System.Text.StringBuilder()).Append(piece);
                pos = len;
                continue;
            }

            var line = long_ is null ? new string(piece) : long_.Append(piece).ToString();
            var terminator = span[k];
            pos += k + 1;
            if (terminator == '\r')
            {
                if (pos == len)
                {
                    Fill();
                }

                if (pos < len && buffer[pos] == '\n')
                {
                    pos++;
                }
            }

            return line;
        }
    }

    private bool Fill()
    {
        pos = 0;
        len = reader.Read(buffer, 0, buffer.Length);
        if (len <= 0)
        {
            len = 0;
            end = true;
            return false;
        }

        return true;
    }
}
