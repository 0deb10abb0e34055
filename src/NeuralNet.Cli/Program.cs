return NeuralNet.Cli.Cli.Run(args);
