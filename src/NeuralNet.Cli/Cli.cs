using System.CommandLine;
using System.Reflection;
using NeuralNet.Cli.Commands;

namespace NeuralNet.Cli;

/// <summary>The <c>nn</c> command line: train, evaluate, predict, export, import, summary, gradcheck, experiment, data, serve.</summary>
public static class Cli
{
    /// <summary>Runs the command line and returns the exit code (0 success, 1 failure, 2 bad usage).</summary>
    public static int Run(string[] args)
    {
        var root = new RootCommand("nn: a neural-network library and tool written from scratch in C#. Trains models on MNIST, CSV tables and folders of pictures, exports them to ONNX, checks gradients, compares optimizers.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(GradcheckCommand.Create());
        root.Subcommands.Add(ExperimentCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(SummaryCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        if (args is ["--version"])
        {
            Console.WriteLine(VersionLine());
            return 0;
        }
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine("Run 'nn --help' or 'nn <command> --help' for usage.");
            return 2;
        }
        return parse.Invoke();
    }

    /// <summary>"nn 0.2.0 (AVX2+FMA)": the version and the instruction set the kernels use on this machine.</summary>
    internal static string VersionLine()
    {
        string version = typeof(Cli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = version.IndexOf('+', StringComparison.Ordinal); // the commit the build came from, if any
        if (plus >= 0) version = version[..plus];
        return $"nn {version} ({NeuralNet.Tensors.TensorOps.InstructionSetName})";
    }

    /// <summary>Runs a command body, turning user errors into one line on stderr and an exit code.</summary>
    internal static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return e.ExitCode;
        }
        // A model that does not fit its data (a checkpoint for other images, say) says so with both shapes, in one line.
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or NeuralNet.Tensors.ShapeMismatchException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
