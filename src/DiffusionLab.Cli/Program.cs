return DiffusionLab.Cli.CliApp.Run(args, Console.Out, Console.Error); // CliApp.Run applies NativeRuntime.Configure()
