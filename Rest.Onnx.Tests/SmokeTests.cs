using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests;

public class TokenizerFingerprintTests
{
    [Test]
    public void FingerprintDiffersWhenBytesDiffer()
    {
        var a = TokenizerFingerprint.OfBytes([1, 2, 3]);
        var b = TokenizerFingerprint.OfBytes([1, 2, 4]);
        Assert.That(a, Does.StartWith(TokenizerFingerprint.Scheme));
        Assert.That(a, Is.Not.EqualTo(b));
        Assert.That(TokenizerFingerprint.OfBytes([1, 2, 3]), Is.EqualTo(a));
    }

    [Test]
    public void MissingTokenizerFolderNamesThePath()
    {
        var dir = Directory.CreateTempSubdirectory("rest-fp-").FullName;
        try
        {
            var e = Assert.Throws<FileNotFoundException>(() => TokenizerFingerprint.ResolveFile(dir));
            Assert.That(e!.Message, Does.Contain(dir));
        }
        finally { Directory.Delete(dir, true); }
    }
}
