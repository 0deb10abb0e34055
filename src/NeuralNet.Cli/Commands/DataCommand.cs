using System.CommandLine;

namespace NeuralNet.Cli.Commands;

/// <summary><c>nn data fetch mnist|fashion-mnist</c>: finds or downloads a data set and prints its folder.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var dataset = new Argument<string>("dataset") { Description = "mnist or fashion-mnist" };
        var data = new Option<string?>("--data") { Description = "Folder holding mnist/ and fashion-mnist/" };
        var fetch = new Command("fetch", "Find the data set (--data, $NN_DATA, the cache) or download it into the cache, verifying checksums.");
        fetch.Arguments.Add(dataset);
        fetch.Options.Add(data);
        fetch.SetAction(p => Cli.Guard(() =>
        {
            string folder = DataSource.Locate(p.GetValue(dataset)!, p.GetValue(data), quiet: false);
            Console.WriteLine(folder);
            return 0;
        }));
        var cmd = new Command("data", "Data set management.");
        cmd.Subcommands.Add(fetch);
        return cmd;
    }
}
