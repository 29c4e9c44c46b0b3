namespace Rest.Onnx;
