// NN_MAX_ISA=scalar|avx2|avx512 caps the kernels' instruction set for the whole run (the library reads no environment).
if (Environment.GetEnvironmentVariable("NN_MAX_ISA") is { } isa && NeuralNet.Tensors.TensorOps.ParseInstructionSet(isa) is { } level)
    NeuralNet.Tensors.TensorOps.InstructionSet = level;
return NeuralNet.Cli.Cli.Run(args);
