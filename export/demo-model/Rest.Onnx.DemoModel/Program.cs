using Rest.Onnx.DemoModel;

return DemoModelCli.Run(args);
