using System.Diagnostics;
using System.Globalization;
using System.Text;
using NeuralNet.Tensors;

namespace NeuralNet.Tests.Fuzz;

/// <summary>A binary field of a seed file that mutations set to extreme values: offset, width in bytes, byte order.</summary>
internal readonly record struct FuzzField(int Offset, int Width, bool BigEndian);

/// <summary>
/// One reader under fuzz: valid seed files, how to read one (the whole way, every tensor), the fields worth setting to
/// extremes, text tokens worth swapping (dtypes, names), and what its error messages must name.
/// </summary>
internal sealed record FuzzTarget(
    string Name,
    IReadOnlyList<byte[]> Seeds,
    Action<byte[], string> Read,
    Func<byte[], IReadOnlyList<FuzzField>> Fields,
    IReadOnlyList<(string Find, string[] Replacements)> Tokens,
    Func<string, string> Named);

/// <summary>What a run saw: how many cases read cleanly, were refused as documented, and every case that broke a rule.</summary>
internal sealed record FuzzReport(string Target, int Cases, int Loaded, int Refused, IReadOnlyList<string> Defects);

/// <summary>
/// Seeded mutation fuzzing: truncation at every byte (a seeded sample for long seeds), bit flips, header fields set to
/// 0, −1, 2³¹−1 and products that overflow, numbers in text headers replaced by extremes, dtypes and names swapped,
/// ranges duplicated, deleted or overwritten, and random bytes. Every case must read or end within
/// <see cref="CaseTimeout"/> in <see cref="InvalidDataException"/> (or <see cref="NotSupportedException"/>) whose message
/// names the file, allocating no more than 16 × the input + 16 MB.
/// </summary>
internal static class Fuzzer
{
    public static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How many cases to run and from which seed: NN_FUZZ_CASES and NN_FUZZ_SEED when set, else the defaults.</summary>
    public static (int Cases, ulong Seed) Settings(int defaultCases)
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("NN_FUZZ_CASES"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : defaultCases;
        ulong seed = ulong.TryParse(Environment.GetEnvironmentVariable("NN_FUZZ_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out ulong s) ? s : 20261129;
        return (cases, seed);
    }

    private static readonly long[] s_extremes = [0, -1, int.MaxValue, int.MinValue, 0x10000, 0x7FFF_FFFF_FFFF_FFFF, 46341, 65536 * 65536L, 1];

    private static readonly string[] s_numbers = ["0", "-1", "2147483647", "2147483648", "4294967296", "46341", "65536", "9223372036854775807",
        "18446744073709551615", "99999999999999999999999", "1e308", "-0", "1.5", "\"7\"", "null", "[]", "{}", "true"];

    /// <summary>Runs <paramref name="cases"/> cases against <paramref name="target"/> from a fixed <paramref name="seed"/>.</summary>
    public static FuzzReport Run(FuzzTarget target, int cases, ulong seed)
    {
        var rng = new Rng(seed);
        var defects = new List<string>();
        int loaded = 0, refused = 0;
        var fields = target.Seeds.Select(target.Fields).ToArray();
        // The first cases cut every seed at every byte, as long as that is at most half the budget.
        var cuts = new List<(int Seed, int At)>();
        long totalCuts = target.Seeds.Sum(s => (long)s.Length);
        if (totalCuts <= cases / 2)
            for (int s = 0; s < target.Seeds.Count; s++)
                for (int at = 0; at < target.Seeds[s].Length; at++) cuts.Add((s, at));

        for (int c = 0; c < cases; c++)
        {
            string what;
            byte[] input;
            if (c < cuts.Count)
            {
                (int s, int at) = cuts[c];
                input = target.Seeds[s][..at];
                what = $"seed {s} cut at {at}";
            }
            else
            {
                int s = rng.NextInt(target.Seeds.Count);
                (input, what) = Mutate(target.Seeds[s], fields[s], target.Tokens, rng);
                what = $"seed {s} {what}";
            }
            string name = $"fuzz-{target.Name}-{c}";
            switch (Check(target, input, name, out string? defect))
            {
                case true: loaded++; break;
                case false: refused++; break;
                case null:
                    if (defects.Count < 20) defects.Add($"case {c} ({what}): {defect}");
                    else if (defects.Count == 20) defects.Add("… (more defects not listed)");
                    break;
            }
        }
        return new FuzzReport(target.Name, cases, loaded, refused, defects);
    }

    /// <summary>True: read; false: refused as documented; null: a defect, described in <paramref name="defect"/>.</summary>
    public static bool? Check(FuzzTarget target, byte[] input, string name, out string? defect)
    {
        defect = null;
        long allocated = 0;
        Exception? error = null;
        var task = Task.Run(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                target.Read(input, name);
            }
            catch (Exception e)
            {
                error = e;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        var clock = Stopwatch.StartNew();
        if (!task.Wait(CaseTimeout))
        {
            defect = $"no answer within {CaseTimeout.TotalSeconds} s";
            return null;
        }
        long limit = 16L * input.Length + (16 << 20);
        if (allocated > limit)
        {
            defect = string.Create(CultureInfo.InvariantCulture, $"allocated {allocated:N0} bytes for a {input.Length}-byte input (limit {limit:N0}); {Describe(error)}");
            return null;
        }
        if (error is null) return true;
        if (error is not (InvalidDataException or NotSupportedException))
        {
            defect = Describe(error);
            return null;
        }
        string expected = target.Named(name);
        if (!error.Message.Contains(expected, StringComparison.Ordinal))
        {
            defect = $"the message does not name '{expected}': {Describe(error)}";
            return null;
        }
        return false;
    }

    private static string Describe(Exception? e) => e is null ? "no exception"
        : $"{e.GetType().Name}: {e.Message} @ {e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("NeuralNet.", StringComparison.Ordinal) && !l.Contains("Fuzz", StringComparison.Ordinal))?.Trim()}";

    /// <summary>One seeded mutation of <paramref name="seed"/> and a description of it.</summary>
    internal static (byte[], string) Mutate(byte[] seed, IReadOnlyList<FuzzField> fields, IReadOnlyList<(string Find, string[] Replacements)> tokens, Rng rng)
    {
        var b = new List<byte>(seed);
        int n = seed.Length;
        switch (rng.NextInt(9))
        {
            case 0:
            {
                int at = rng.NextInt(n + 1);
                return (seed[..at], $"cut at {at}");
            }
            case 1:
            {
                byte[] x = (byte[])seed.Clone();
                int flips = 1 + rng.NextInt(4);
                var where = new List<string>();
                for (int i = 0; i < flips && n > 0; i++)
                {
                    int at = rng.NextInt(n), bit = rng.NextInt(8);
                    x[at] ^= (byte)(1 << bit);
                    where.Add($"{at}.{bit}");
                }
                return (x, $"bit flips {string.Join(" ", where)}");
            }
            case 2 when fields.Count > 0:
            {
                byte[] x = (byte[])seed.Clone();
                FuzzField f = fields[rng.NextInt(fields.Count)];
                long v = s_extremes[rng.NextInt(s_extremes.Length)];
                if (f.Offset + f.Width > n) return (x, "field past the end");
                for (int i = 0; i < f.Width; i++)
                {
                    byte part = (byte)(v >> (8 * i));
                    x[f.BigEndian ? f.Offset + f.Width - 1 - i : f.Offset + i] = part;
                }
                return (x, $"field at {f.Offset} ({f.Width} bytes) = {v}");
            }
            case 3:
            {
                // A number in a text header (shape, offsets, sizes) replaced by an extreme or by another JSON kind.
                var digits = new List<(int Start, int Length)>();
                for (int i = 0; i < n; i++)
                {
                    if (!char.IsAsciiDigit((char)seed[i]) || (i > 0 && char.IsAsciiDigit((char)seed[i - 1]))) continue;
                    int j = i;
                    while (j < n && char.IsAsciiDigit((char)seed[j])) j++;
                    digits.Add((i, j - i));
                }
                if (digits.Count == 0) goto default;
                var (start, length) = digits[rng.NextInt(digits.Count)];
                string value = s_numbers[rng.NextInt(s_numbers.Length)];
                return ([.. seed[..start], .. Encoding.ASCII.GetBytes(value), .. seed[(start + length)..]], $"number at {start} = {value}");
            }
            case 4 when tokens.Count > 0:
            {
                var (find, replacements) = tokens[rng.NextInt(tokens.Count)];
                byte[] f = Encoding.UTF8.GetBytes(find);
                int at = seed.AsSpan().IndexOf(f);
                if (at < 0) goto default;
                string r = replacements[rng.NextInt(replacements.Length)];
                return ([.. seed[..at], .. Encoding.UTF8.GetBytes(r), .. seed[(at + f.Length)..]], $"'{find}' at {at} → '{r}'");
            }
            case 5:
            {
                // Duplicate a range (a repeated entry, tensor or field) at a random place.
                int from = rng.NextInt(n + 1), len = rng.NextInt(Math.Min(256, n - from) + 1), to = rng.NextInt(n + 1);
                b.InsertRange(to, seed[from..(from + len)]);
                return (b.ToArray(), $"{len} bytes from {from} copied to {to}");
            }
            case 6:
            {
                int from = rng.NextInt(n + 1), len = rng.NextInt(Math.Min(64, n - from) + 1);
                b.RemoveRange(from, len);
                return (b.ToArray(), $"{len} bytes removed at {from}");
            }
            case 7:
            {
                byte[] x = (byte[])seed.Clone();
                int from = rng.NextInt(n + 1), len = rng.NextInt(Math.Min(16, n - from) + 1);
                for (int i = 0; i < len; i++) x[from + i] = (byte)rng.NextInt(256);
                return (x, $"{len} random bytes at {from}");
            }
            default:
            {
                // Random bytes, sometimes after the seed's first bytes so that the format is still recognized.
                int keep = rng.NextInt(2) == 0 ? 0 : Math.Min(n, 1 + rng.NextInt(16));
                int len = rng.NextInt(2 * n + 1);
                byte[] x = new byte[keep + len];
                seed.AsSpan(0, keep).CopyTo(x);
                for (int i = keep; i < x.Length; i++) x[i] = (byte)rng.NextInt(256);
                return (x, $"{len} random bytes after {keep} of the seed");
            }
        }
    }
}
