using System.Globalization;
using System.Text;

namespace NeuralNet.Cli.Tables;

/// <summary>
/// A CSV file as text cells: a header row, then rows of as many fields. The separator is detected from the header
/// (comma, semicolon or tab: whichever occurs most); quoted fields may hold separators, quotes ("") and line breaks.
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
        using var reader = new StreamReader(path);
        int line = 1;
        var header = ReadRecord(reader, separator, ref line, path) ?? throw new CliException($"{path}: empty file; a CSV table needs a header row of column names", 1);
        string[] columns = header.Select(c => c.Trim()).ToArray();
        for (int i = 0; i < columns.Length; i++)
        {
            if (columns[i].Length == 0) throw new CliException($"{path}: row 1 (the header): column {i + 1} has no name", 1);
            int first = Array.IndexOf(columns, columns[i]);
            if (first < i) throw new CliException($"{path}: row 1 (the header): columns {first + 1} and {i + 1} are both named '{columns[i]}'", 1);
        }
        var rows = new List<string[]>();
        var lines = new List<int>();
        while (true)
        {
            int start = line;
            var record = ReadRecord(reader, separator, ref line, path);
            if (record is null) break;
            if (record.Length == 1 && record[0].Length == 0) continue; // a blank line
            if (record.Length != columns.Length)
                throw new CliException($"{path}: row {start} has {record.Length} fields, the header has {columns.Length} ({string.Join(", ", columns)}); is a field with '{(separator == '\t' ? "\\t" : separator.ToString())}' in it unquoted?", 1);
            rows.Add(record);
            lines.Add(start);
        }
        if (rows.Count == 0) throw new CliException($"{path}: the header has no data rows under it", 1);
        return new CsvTable(path, separator, columns, rows, lines);
    }

    /// <summary>
    /// One record (RFC 4180): fields split at <paramref name="separator"/>; a field in double quotes may hold the
    /// separator, line breaks and "" for a quote. Unquoted fields are trimmed. Null at the end of the file;
    /// <paramref name="line"/> advances past the record's lines.
    /// </summary>
    internal static string[]? ReadRecord(TextReader reader, char separator, ref int line, string path)
    {
        if (reader.Peek() < 0) return null;
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, wasQuoted = false;
        int startLine = line;
        while (true)
        {
            int c = reader.Read();
            if (quoted)
            {
                if (c < 0) throw new CliException($"{path}: row {startLine}: a quoted field is never closed", 1);
                if (c == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else quoted = false;
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append((char)c);
                }
                continue;
            }
            if (c == '"' && field.ToString().Trim().Length == 0)
            {
                field.Clear();
                quoted = wasQuoted = true;
            }
            else if (c == separator || c == '\n' || c == '\r' || c < 0)
            {
                fields.Add(wasQuoted ? field.ToString() : field.ToString().Trim());
                field.Clear();
                wasQuoted = false;
                if (c == separator) continue;
                if (c == '\r' && reader.Peek() == '\n') reader.Read();
                if (c >= 0) line++;
                return fields.ToArray();
            }
            else field.Append((char)c);
        }
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
