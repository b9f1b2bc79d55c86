DiffusionLab.Runtime.NativeRuntime.Configure();
return DiffusionLab.Cli.CliApp.Run(args, Console.Out, Console.Error);
