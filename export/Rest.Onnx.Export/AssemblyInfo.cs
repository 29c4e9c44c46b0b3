namespace Rest.Onnx.Export;
