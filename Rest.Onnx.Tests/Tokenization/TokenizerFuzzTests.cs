using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.Tokenization;

/// <summary>Fixed-seed byte flips and truncations of a real tokenizer.model: a clear error or a working tokenizer.</summary>
public class TokenizerFuzzTests
{
    [Test]
    public void ByteFlipsAndTruncationsGiveAClearErrorOrAWorkingTokenizer()
    {
        var original = File.ReadAllBytes(TokenizerTestFiles.DemoTokenizer);
        var folder = Directory.CreateTempSubdirectory("rest-tok-fuzz-").FullName;
        var path = Path.Combine(folder, "tokenizer.model");
        var random = new Random(71);
        var (rejected, loaded) = (0, 0);
        try
        {
            for (var f = 0; f < 150; f++)
            {
                var copy = (byte[])original.Clone();
                if (f % 4 == 3) copy = copy[..random.Next(copy.Length)];
                else
                {
                    // Flips weighted towards the start, where the protobuf framing and trainer spec live.
                    var at = f % 2 == 0 ? random.Next(Math.Min(copy.Length, 256)) : random.Next(copy.Length);
                    copy[at] ^= (byte)random.Next(1, 256);
                }
                File.WriteAllBytes(path, copy);
                TextTokenizer tokenizer;
                try { tokenizer = TextTokenizer.Load(path); }
                catch (InvalidDataException e)
                {
                    Assert.That(e.Message, Is.Not.Empty, $"flip {f}");
                    rejected++;
                    continue;
                }
                var ids = tokenizer.Encode("def main():\n    return [x * 2 for x in range(10)]  # ünïcode");
                Assert.That(ids, Has.All.InRange(0, tokenizer.VocabularySize - 1), $"flip {f}");
                Assert.That(tokenizer.Decode(ids), Is.Not.Null);
                loaded++;
            }
        }
        finally { Directory.Delete(folder, true); }
        Assert.That(rejected, Is.GreaterThan(0));
        Assert.That(loaded, Is.GreaterThan(0));
    }
}
