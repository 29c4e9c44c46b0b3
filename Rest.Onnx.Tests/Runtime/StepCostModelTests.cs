namespace Rest.Onnx.Tests.Runtime;

/// <summary>The step-cost model on scripted timings: trimmed means, interpolation, borrowing a shape, the envelope.</summary>
public class StepCostModelTests
{
    [Test]
    public void EmptyModelHasNoCurve()
    {
        var model = new StepCostModel();
        Assert.That(model.Curve(100).IsEmpty);
        Assert.That(double.IsNaN(model.Estimate(3, 100)));
        Assert.That(model.IsCalibrated, Is.False);
    }

    [Test]
    public void MeasuredRowsAreTrimmedMeansAndGapsAreInterpolated()
    {
        var model = new StepCostModel();
        foreach (var t in new[] { 1.0, 3.0, 50.0, 2.0 }) model.Record(1, 100, t);
        Assert.That(model.Estimate(1, 100), Is.EqualTo(2.0), "the mean without the one stall");
        model.Record(5, 100, 4.0);
        model.Record(9, 100, 12.0);
        Assert.That(model.Estimate(3, 100), Is.EqualTo(3.0).Within(1e-12), "halfway between 1 and 5");
        Assert.That(model.Estimate(7, 100), Is.EqualTo(8.0).Within(1e-12));
        Assert.That(model.Estimate(11, 100), Is.EqualTo(16.0).Within(1e-12), "the last slope extended");
        Assert.That(model.Measured(100).Select(m => m.Rows), Is.EqualTo(new[] { 1, 5, 9 }));
    }

    [Test]
    public void TheCurveIsTheLowerNonDecreasingEnvelope()
    {
        var model = new StepCostModel();
        model.Record(1, 10, 2.0);
        model.Record(2, 10, 1.0);      // cheaper than one row: one row costs at most that
        model.Record(4, 10, 9.0);      // a slow outlier between cheaper neighbours is ignored
        model.Record(8, 10, 3.0);
        var curve = model.Curve(10);
        for (var r = 2; r < curve.Length; r++) Assert.That(curve[r], Is.GreaterThanOrEqualTo(curve[r - 1]));
        Assert.That(model.Estimate(1, 10), Is.EqualTo(1.0));
        Assert.That(model.Estimate(4, 10), Is.EqualTo(3.0));
    }

    [Test]
    public void LongerCachesBorrowTheShapeOfShorterOnesScaled()
    {
        var model = new StepCostModel();
        // Calibrated at a short cache: t(1) = 1, t(8) = 2, t(64) = 10 (three samples each: trusted).
        for (var i = 0; i < 3; i++)
        {
            model.Record(1, 100, 1.0);
            model.Record(8, 100, 2.0);
            model.Record(64, 100, 10.0);
            // At 1,000 cached positions only single rows were measured, twice as slow.
            model.Record(1, 1000, 2.0);
        }
        // One slow sample of 8 rows at 1,000 is not trusted over the borrowed shape.
        model.Record(8, 1000, 50.0);
        Assert.That(StepCostModel.LengthClass(100), Is.Not.EqualTo(StepCostModel.LengthClass(1000)));
        Assert.That(model.Estimate(8, 1000), Is.EqualTo(4.0).Within(1e-12));
        Assert.That(model.Estimate(64, 1000), Is.EqualTo(20.0).Within(1e-12));
        Assert.That(model.Estimate(64, 100), Is.EqualTo(10.0).Within(1e-12), "the short class is unchanged");
    }

    [Test]
    public void OldSamplesFadeAndOneStallDoesNotMoveTheEstimate()
    {
        var model = new StepCostModel();
        for (var i = 0; i < 100; i++) model.Record(4, 50, 1.0);
        for (var i = 0; i < 100; i++) model.Record(4, 50, 2.0);
        Assert.That(model.Estimate(4, 50), Is.EqualTo(2.0), "the mean of recent samples follows the machine");
        model.Record(4, 50, 1000.0);
        for (var i = 0; i < 15; i++) model.Record(4, 50, 2.0);
        Assert.That(model.Estimate(4, 50), Is.EqualTo(2.0), "one stall among the recent samples is dropped");
        model.Record(4, 50, 32.0);
        for (var i = 0; i < 15; i++) model.Record(4, 50, i == 0 ? 30.0 : 2.0);
        Assert.That(model.Estimate(4, 50), Is.EqualTo((14 * 2.0 + 30) / 15).Within(1e-12), "a second slow step counts: it is part of the expected time");
    }

    [Test]
    public void BadSamplesAreRefused()
    {
        var model = new StepCostModel();
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Record(0, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Record(1, 1, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Record(1, 1, -1));
    }
}

/// <summary>The winner's-curse factor on scripted steps.</summary>
public class GainCalibrationTests
{
    [Test]
    public void TheFactorIsRealisedOverExpectedOnceThereIsEvidence()
    {
        var gain = new GainCalibration();
        gain.Record(2, 0);
        Assert.That(gain.Scale, Is.EqualTo(1.0), "too little evidence");
        for (var i = 0; i < 200; i++) gain.Record(1.0, 0.8);
        Assert.That(gain.Scale, Is.EqualTo(0.8).Within(0.02));
        for (var i = 0; i < 1000; i++) gain.Record(1.0, 0.0);
        Assert.That(gain.Scale, Is.EqualTo(0.25), "clamped");
    }
}
