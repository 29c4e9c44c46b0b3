Console.Error.WriteLine("rest-datastore: not implemented yet"); return 2;
