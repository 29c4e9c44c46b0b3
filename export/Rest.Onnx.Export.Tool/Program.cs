Console.Error.WriteLine("rest-export: not implemented yet"); return 2;
