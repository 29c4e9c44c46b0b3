Console.Error.WriteLine("Rest.Onnx.Bench: main job not implemented yet"); return 2;
