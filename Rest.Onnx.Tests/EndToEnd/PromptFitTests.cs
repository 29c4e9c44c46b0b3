using System.Text.Json;
using Rest.Onnx.Bench.EndToEnd;
using Rest.Onnx.Bench.Reporting;

namespace Rest.Onnx.Tests.EndToEnd;

/// <summary>
/// The main job's handling of prompts too long for the model (PromptFit in Rest.Onnx.Bench): one such
/// prompt is skipped or left-truncated, never the end of the run, and the report counts it.
/// </summary>
public sealed class PromptFitTests
{
    private static int[] Ids(int count, int first = 100) => Enumerable.Range(first, count).ToArray();

    // The case: a 256-position model, 128 new tokens, prompts of 100, 531 and 128 tokens.
    private static readonly (string Label, int[] Ids)[] Prompts =
        [("short.py:1", Ids(100)), ("HumanEval/7", Ids(531)), ("edge.py:3", Ids(128))];

    [Test]
    public void TooLongPromptIsSkippedAndTheOthersRunUnchanged()
    {
        var plans = PromptFit.Select(Prompts, positions: 256, maxNewTokens: 128, truncate: false, keepFirst: false);

        Assert.That(plans.Select(p => p.Fate), Is.EqualTo(new[] { PromptFate.Fits, PromptFate.Skipped, PromptFate.Fits }));
        Assert.That(plans[0].Ids, Is.EqualTo(Prompts[0].Ids));
        Assert.That(plans[2].Ids, Is.EqualTo(Prompts[2].Ids), "128 + 128 = 256 fits exactly");
        Assert.That(plans[1].Ids, Is.Empty);
        Assert.That(plans.Select(p => p.Index), Is.EqualTo(new[] { 0, 1, 2 }), "indices stay those of the prompts file");
        var line = PromptFit.Describe(plans[1], 256, 128);
        Assert.That(line, Does.Contain("prompt 1").And.Contain("HumanEval/7").And.Contain("531 tokens").And.Contain("256 positions"));
        Assert.That(PromptFit.Describe(plans[0], 256, 128), Is.Null);
    }

    [Test]
    public void TruncationKeepsTheEndOfThePrompt()
    {
        var plans = PromptFit.Select(Prompts, positions: 256, maxNewTokens: 128, truncate: true, keepFirst: false);

        Assert.That(plans.Select(p => p.Fate), Is.EqualTo(new[] { PromptFate.Fits, PromptFate.Truncated, PromptFate.Fits }));
        Assert.That(plans[1].Tokens, Is.EqualTo(531));
        Assert.That(plans[1].Ids, Is.EqualTo(Prompts[1].Ids[^128..]), "the last 128 tokens: prompt + 128 new = 256");
        Assert.That(PromptFit.Describe(plans[1], 256, 128), Does.Contain("Truncating prompt 1").And.Contain("last 128"));
    }

    [Test]
    public void TruncationKeepsBosFirst()
    {
        const int bos = 1;
        int[] ids = [bos, .. Ids(300)];
        var plans = PromptFit.Select([("bos.py:1", ids)], positions: 256, maxNewTokens: 56, truncate: true, keepFirst: true);

        Assert.That(plans[0].Ids, Has.Length.EqualTo(200));
        Assert.That(plans[0].Ids[0], Is.EqualTo(bos));
        Assert.That(plans[0].Ids[1..], Is.EqualTo(ids[^199..]));
    }

    [Test]
    public void OnlyWhenNothingCanRunIsItAnError()
    {
        Assert.That(() => PromptFit.Select([("long", Ids(531))], 256, 128, truncate: false, keepFirst: false),
            Throws.ArgumentException.With.Message.Contains("--truncate-prompts"));
        Assert.That(() => PromptFit.Select(Prompts, 256, 256, truncate: true, keepFirst: false),
            Throws.ArgumentException.With.Message.Contains("--max-new-tokens"));
        Assert.That(PromptFit.Select([("long", Ids(531))], 256, 128, truncate: true, keepFirst: false)[0].Ids, Has.Length.EqualTo(128));
    }

    [TestCase(false, 2, 0, 1, "skipped")]
    [TestCase(true, 3, 1, 0, "left-truncated")]
    public void ReportCountsPromptsRunTruncatedAndSkipped(bool truncate, int run, int truncated, int skipped, string mode)
    {
        var plans = PromptFit.Select(Prompts, 256, 128, truncate, keepFirst: false);
        var summary = PromptFit.Summarise(plans, 256, 128, truncate);
        var report = new MainJobReport { Setup = new Dictionary<string, string> { ["model"] = "test" }, Prompts = summary, Runs = [] };

        Assert.That(report.Table(), Does.StartWith($"Prompts: {run} of 3 run"));
        Assert.That(report.Table(), Does.Contain($"{skipped} skipped"));

        var folder = Directory.CreateTempSubdirectory("rest-prompt-fit-").FullName;
        try
        {
            report.Write(folder);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "report.json")));
            var prompts = json.RootElement.GetProperty("prompts");
            Assert.That(prompts.GetProperty("total").GetInt32(), Is.EqualTo(3));
            Assert.That(prompts.GetProperty("run").GetInt32(), Is.EqualTo(run));
            Assert.That(prompts.GetProperty("truncated").GetInt32(), Is.EqualTo(truncated));
            Assert.That(prompts.GetProperty("skipped").GetInt32(), Is.EqualTo(skipped));
            Assert.That(prompts.GetProperty("longPrompts").GetString(), Is.EqualTo(mode));
            var named = prompts.GetProperty(truncate ? "truncatedPrompts" : "skippedPrompts")[0];
            Assert.That(named.GetProperty("index").GetInt32(), Is.EqualTo(1));
            Assert.That(named.GetProperty("label").GetString(), Is.EqualTo("HumanEval/7"));
            Assert.That(named.GetProperty("tokens").GetInt32(), Is.EqualTo(531));
            Assert.That(named.GetProperty("keptTokens").GetInt32(), Is.EqualTo(truncate ? 128 : 0));
            Assert.That(File.ReadAllText(Path.Combine(folder, "report.md")), Does.Contain($"Prompts: {run} of 3 run"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void AHugeNewTokenCountIsNamedWithoutOverflowedNumbers()
    {
        // --max-new-tokens 2147483647 once leaked "Actual value was -2147483538" from an int overflow.
        var e = Assert.Throws<ArgumentException>(() => PromptFit.Select(Prompts, positions: 256, maxNewTokens: int.MaxValue, truncate: false, keepFirst: false));
        Assert.That(e!.Message, Does.Contain("2147483647").And.Contain("--max-new-tokens").And.Not.Contain("-21474"));
    }
}
