namespace Rest.Onnx.Tests.Runtime;

/// <summary>Base of the fixtures that run the default tiny model through one generator (opened once per fixture).</summary>
public abstract class TinyModelFixture
{
    protected RestModel Model { get; private set; } = null!;

    protected Generator Generator { get; private set; } = null!;

    [OneTimeSetUp]
    public void OpenTinyModel()
    {
        Model = RestModel.Load(TinyModels.Folder(TinyModels.Default), new ModelOptions { MaxSequenceLength = 256, IntraOpThreads = 1 });
        Generator = Model.CreateGenerator();
    }

    [OneTimeTearDown]
    public void CloseTinyModel()
    {
        Generator.Dispose();
        Model.Dispose();
    }
}
