namespace Qmmm.Host;

/// <summary>Entry point of the C# facade (filled in by the facade work).</summary>
public static class QmmmInfo
{
    /// <summary>The library's version string.</summary>
    public static string Version => typeof(QmmmInfo).Assembly.GetName().Version?.ToString() ?? "0.0.0";
}
