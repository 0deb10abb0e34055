using System.Globalization;
using CsvHelper;

namespace NeuralNet.Cli.Tables;

/// <summary>
/// A CSV file as text cells, read with CsvHelper: a header row, then rows of as many fields. The separator is detected
/// from the header (comma, semicolon or tab: whichever occurs most); quoted fields may hold separators, quotes ("") and
/// line breaks; spaces around unquoted fields are trimmed and blank lines skipped.
/// Semicolon files may write numbers with a decimal comma (3,5), as spreadsheets in many locales do.
/// </summary>
internal sealed class CsvTable
{
    private CsvTable(string path, char separator, string[] columns, List<string[]> rows, List<int> lines)
    {
        Path = path;
        Separator = separator;
        Columns = columns;
        Rows = rows;
        Lines = lines;
    }

    /// <summary>The file, as given (used in every error message).</summary>
    public string Path { get; }

    /// <summary>',', ';' or '\t'.</summary>
    public char Separator { get; }

    /// <summary>True when numbers may use a decimal comma (semicolon-separated files).</summary>
    public bool DecimalComma => Separator == ';';

    /// <summary>The header's column names.</summary>
    public string[] Columns { get; }

    /// <summary>The data rows, each with <see cref="Columns"/>.Length cells.</summary>
    public List<string[]> Rows { get; }

    /// <summary>The file's line number (1-based, the header is line 1) on which each data row starts.</summary>
    public List<int> Lines { get; }

    /// <summary>Where row <paramref name="row"/>, column <paramref name="column"/> is, for messages: "data.csv: row 7, column 'age'".</summary>
    public string Where(int row, int column) => $"{Path}: row {Lines[row]}, column '{Columns[column]}'";

    /// <summary>The index of <paramref name="name"/>, or an error listing the columns.</summary>
    public int IndexOf(string name, string option)
    {
        int i = Array.IndexOf(Columns, name);
        if (i < 0)
            throw new CliException($"{option} '{name}': {Path} has no such column; its columns are {string.Join(", ", Columns.Select(c => $"'{c}'"))}", 1);
        return i;
    }

    /// <summary>Reads <paramref name="path"/>, refusing a missing header, duplicate column names and ragged rows.</summary>
    public static CsvTable Read(string path)
    {
        if (!File.Exists(path)) throw new CliException($"CSV file not found: {path}", 1);
        string? headerLine;
        using (var peek = new StreamReader(path)) headerLine = peek.ReadLine();
        if (string.IsNullOrWhiteSpace(headerLine)) throw new CliException($"{path}: empty file; a CSV table needs a header row of column names", 1);
        char separator = DetectSeparator(headerLine);
        var options = new CsvReaderOptions { Separator = separator, HasHeader = false, TrackLineNumbers = true, TrimWhitespace = true, SkipEmptyLines = true };
        using var reader = CsvReader.FromFile(path, options);
        string[] Fields()
        {
            var fields = new string[reader.FieldCount];
            for (int i = 0; i < fields.Length; i++) fields[i] = reader.GetString(i);
            return fields;
        }
        if (!reader.Read()) throw new CliException($"{path}: empty file; a CSV table needs a header row of column names", 1);
        string[] columns = Fields();
        for (int i = 0; i < columns.Length; i++)
        {
            if (columns[i].Length == 0) throw new CliException($"{path}: row 1 (the header): column {i + 1} has no name", 1);
            int first = Array.IndexOf(columns, columns[i]);
            if (first < i) throw new CliException($"{path}: row 1 (the header): columns {first + 1} and {i + 1} are both named '{columns[i]}'", 1);
        }
        var rows = new List<string[]>();
        var lines = new List<int>();
        while (reader.Read())
        {
            int line = (int)reader.LineNumber;
            var record = Fields();
            if (record.Length != columns.Length)
                throw new CliException($"{path}: row {line} has {record.Length} fields, the header has {columns.Length} ({string.Join(", ", columns)}); is a field with '{(separator == '\t' ? "\\t" : separator.ToString())}' in it unquoted?", 1);
            rows.Add(record);
            lines.Add(line);
        }
        if (rows.Count == 0) throw new CliException($"{path}: the header has no data rows under it", 1);
        return new CsvTable(path, separator, columns, rows, lines);
    }

    /// <summary>
    /// A table of one row held in memory: <paramref name="cells"/> under <paramref name="columns"/>, numbers written with a
    /// decimal point. <paramref name="source"/> stands for the file in error messages ("the request").
    /// </summary>
    public static CsvTable OfRow(string source, string[] columns, string[] cells)
    {
        if (cells.Length != columns.Length) throw new ArgumentException($"CsvTable.OfRow: {cells.Length} cells for {columns.Length} columns", nameof(cells));
        return new CsvTable(source, ',', columns, [cells], [2]);
    }

    /// <summary>The separator that occurs most often in the header outside quotes (',' on ties and when none does).</summary>
    public static char DetectSeparator(string header)
    {
        int comma = 0, semicolon = 0, tab = 0;
        bool quoted = false;
        foreach (char ch in header)
        {
            if (ch == '"') quoted = !quoted;
            else if (!quoted)
            {
                if (ch == ',') comma++;
                else if (ch == ';') semicolon++;
                else if (ch == '\t') tab++;
            }
        }
        if (tab > comma && tab >= semicolon) return '\t';
        return semicolon > comma ? ';' : ',';
    }

    /// <summary>True for cells that mean "no value": empty, NA, N/A, NaN, null, and infinities (which no statistic survives).</summary>
    public static bool IsMissing(string cell) => cell.Length == 0 || cell.ToUpperInvariant() is
        "NA" or "N/A" or "NAN" or "NULL" or "NONE" or "?" or "INF" or "+INF" or "-INF" or "INFINITY" or "+INFINITY" or "-INFINITY";

    /// <summary>Parses a number with a decimal point (or, when <paramref name="decimalComma"/>, a decimal comma); false for text.</summary>
    public static bool TryNumber(string cell, bool decimalComma, out double value)
    {
        var style = NumberStyles.Float;
        if (double.TryParse(cell, style, CultureInfo.InvariantCulture, out value) && double.IsFinite(value)) return true;
        if (decimalComma && cell.Contains(',') && !cell.Contains('.')
            && double.TryParse(cell.Replace(',', '.'), style, CultureInfo.InvariantCulture, out value) && double.IsFinite(value)) return true;
        return false;
    }
}
