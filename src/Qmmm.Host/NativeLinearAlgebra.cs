namespace Qmmm.Host;

/// <summary>
/// The native dense linear algebra (LAPACKE over Debian's OpenBLAS, with a managed MathNet fallback) as C# callers
/// see it: which backend runs and OpenBLAS's thread count.
/// </summary>
public static class NativeLinearAlgebra
{
    /// <summary>True when the native libraries load (otherwise the managed fallback is used).</summary>
    public static bool Available => Numerics.Native.available();

    /// <summary>One line naming the native backend (OpenBLAS configuration, reference LAPACK, or why it is unavailable).</summary>
    public static string Description => Numerics.Native.describe();

    /// <summary>OpenBLAS's current thread count (1 when OpenBLAS is not loaded).</summary>
    public static int Threads => Numerics.Native.threads();

    /// <summary>
    /// Sets OpenBLAS's thread count (1..4096). Process-global (OpenBLAS has one pool); no effect without OpenBLAS.
    /// </summary>
    /// <exception cref="ArgumentException">n outside 1..4096.</exception>
    public static void SetThreads(int n) => Numerics.Native.setThreads(n);
}
