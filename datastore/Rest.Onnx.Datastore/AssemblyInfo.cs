namespace Rest.Onnx.Datastore;
