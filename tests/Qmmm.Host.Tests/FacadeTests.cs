using Xunit;

namespace Qmmm.Host.Tests;

public class FacadeTests
{
    [Fact]
    public void VersionIsReported() => Assert.False(string.IsNullOrEmpty(QmmmInfo.Version));
}
