namespace Rest.Onnx.Tests.Drafting;

/// <summary>Odds calibration on scripted trees and model outputs.</summary>
public class AcceptanceCalibrationTests
{
    [Test]
    public void OddsStartAtTheRawShareAndConvergeToTheAcceptedRate()
    {
        var calibration = new AcceptanceCalibration();
        var code = AcceptanceCalibration.Code(0.9f, 3, 1);
        Assert.That(calibration.Estimate(code, 0.9f), Is.EqualTo(0.9f).Within(1e-6));
        // The source claims 0.9; the model accepts such nodes 30% of the time.
        var random = new Random(5);
        for (var i = 0; i < 4000; i++) calibration.Record(code, random.NextDouble() < 0.3);
        Assert.That(calibration.Estimate(code, 0.9f), Is.EqualTo(0.3).Within(0.03));
        Assert.That(calibration.Observations, Is.EqualTo(4000));
    }

    [Test]
    public void ObserveLabelsReachedNodesVerifiedOrNot()
    {
        // Tree: 5 -> 6 -> 7, 5 -> 8, 9 (root children 5 and 9); the model produced 5, 8, 4.
        var tree = new DraftTree(8);
        var a = tree.Add(5, -1, 0.5f);
        var b = tree.Add(6, a, 0.5f);
        tree.Add(7, b, 0.5f);
        tree.Add(8, a, 0.5f);
        tree.Add(9, -1, 0.5f);
        var calibration = new AcceptanceCalibration();
        calibration.Score(tree, matchLength: 2);
        calibration.Observe(tree, [5, 8, 4]);
        // Reached: 5 (yes), 9 (no), 6 (no), 8 (yes); 7 is under a rejected node: not reached.
        Assert.That(calibration.Observations, Is.EqualTo(4));
        var depth1 = AcceptanceCalibration.Code(0.5f, 2, 1);
        var depth2 = AcceptanceCalibration.Code(0.5f, 2, 2);
        var prior = 0.5f;
        Assert.That(calibration.Estimate(depth1, prior), Is.EqualTo((1 + 2 * 0.5) / (2 + 2)).Within(1e-6));
        Assert.That(calibration.Estimate(depth2, prior), Is.EqualTo((1 + 2 * 0.5) / (2 + 2)).Within(1e-6));
        var depth3 = AcceptanceCalibration.Code(0.5f, 2, 3);
        Assert.That(depth3, Is.EqualTo(depth2), "depths 2 and 3 share a bin");
    }

    [Test]
    public void ScoringReplacesRawSharesByCalibratedOddsAndUnscoredNodesGetTheDepthCode()
    {
        var tree = new DraftTree(4);
        tree.Add(5, -1, 1f);
        tree.Add(6, 0);
        var calibration = new AcceptanceCalibration();
        var code = AcceptanceCalibration.Code(1f, 16, 1);
        for (var i = 0; i < 98; i++) calibration.Record(code, accepted: false);
        calibration.Score(tree, matchLength: 16);
        Assert.That(tree.Probabilities[0], Is.EqualTo(2.0 / 100).Within(1e-6));
        Assert.That(tree.Evidence[0], Is.EqualTo(code));
        Assert.That(float.IsNaN(tree.Probabilities[1]), Is.False, "scoring writes a code even for a share it has to guess");
        var unscored = new DraftTree(4);
        unscored.Add(5, -1);
        calibration.ScoreUnscored(unscored);
        Assert.That(unscored.Probabilities[0], Is.EqualTo(0.5f));
        Assert.That(unscored.Evidence[0], Is.EqualTo(AcceptanceCalibration.UnscoredCode(1)));
    }

    [Test]
    public void ConcurrentRecordsAreAllCounted()
    {
        var calibration = new AcceptanceCalibration();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 10_000; i++) calibration.Record(i % AcceptanceCalibration.Codes, i % 2 == 0);
        });
        Assert.That(calibration.Observations, Is.EqualTo(80_000));
    }
}
