Console.Error.WriteLine("rest-demo-model: not implemented yet"); return 2;
