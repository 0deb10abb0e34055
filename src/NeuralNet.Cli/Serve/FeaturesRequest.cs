using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using NeuralNet.Cli.Tables;

namespace NeuralNet.Cli.Serve;

/// <summary>
/// Reads <c>{"features": {"column": value, …}}</c>: one row for a table model, checked column by column before anything
/// reaches the model. Every input column is required: a number for a numeric column, one of the training categories (a
/// string) for a categorical one, or null where the model was trained with <c>--fill</c>. Other top-level properties are
/// ignored.
/// </summary>
internal static class FeaturesRequest
{
    /// <summary>
    /// The row in <paramref name="json"/> as text cells in the order of <paramref name="prep"/>'s columns, ready for
    /// <see cref="TablePreprocessing.Features"/> (numbers written round-trip, a missing value as "").
    /// </summary>
    /// <exception cref="ProblemException">
    /// 400, naming the column: malformed JSON, no "features" (or "pixels" instead), an unknown, duplicate or missing column,
    /// a numeric value that is no finite number, a category the model does not know.
    /// </exception>
    public static string[] Parse(ReadOnlySpan<byte> json, TablePreprocessing prep)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Bad("Not a JSON object", "the body must be a JSON object: {\"features\": {\"column\": value, …}}");
            string[]? cells = null;
            bool pixels = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isFeatures = reader.ValueTextEquals("features"u8);
                pixels |= reader.ValueTextEquals("pixels"u8);
                reader.Read();
                if (!isFeatures)
                {
                    reader.Skip();
                    continue;
                }
                if (cells is not null) throw Bad("Duplicate \"features\"", "\"features\" appears twice in the object");
                cells = ReadRow(ref reader, prep);
            }
            if (reader.TokenType != JsonTokenType.EndObject) throw Bad("Malformed JSON", "the JSON object is not closed");
            if (reader.Read()) throw Bad("Malformed JSON", $"text follows the JSON object at byte {reader.TokenStartIndex}");
            if (cells is null && pixels)
                throw Bad("Model takes features", $"this is a table model: it takes {{\"features\": {{\"column\": value, …}}}} with the columns {ColumnList(prep)}, not \"pixels\"");
            return cells ?? throw Bad("Missing \"features\"", $"the object has no \"features\" property: send {{\"features\": {{\"column\": value, …}}}} with the columns {ColumnList(prep)}");
        }
        catch (JsonException e)
        {
            throw Bad("Malformed JSON", $"the body is not valid JSON: {e.Message}");
        }
    }

    private static string[] ReadRow(ref Utf8JsonReader reader, TablePreprocessing prep)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Bad("\"features\" is no object", $"\"features\" must be an object of column → value, got {reader.TokenType}");
        var columns = prep.Columns;
        var cells = new string?[columns.Length];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            int j = Array.FindIndex(columns, c => c.Name == name);
            if (j < 0)
            {
                string what = name == prep.Target ? $"'{name}' is what the model predicts, not one of its inputs" : $"the model has no input column '{name}'";
                throw Bad("Unknown column", $"{what}; its input columns are {ColumnList(prep)}");
            }
            if (cells[j] is not null) throw Bad("Duplicate column", $"column '{name}' appears twice in \"features\"");
            reader.Read();
            cells[j] = Cell(ref reader, columns[j]);
        }
        var missing = columns.Where((c, j) => cells[j] is null).Select(c => $"'{c.Name}'").ToArray();
        if (missing.Length > 0)
            throw Bad("Missing column", $"\"features\" has no value for {string.Join(", ", missing)}; every input column is required ({ColumnList(prep)})");
        return cells!;
    }

    /// <summary>One value as a cell: a number written round-trip, a known category, or "" for a null the model can fill.</summary>
    private static string Cell(ref Utf8JsonReader reader, TableColumn column)
    {
        string name = column.Name;
        if (reader.TokenType == JsonTokenType.Null)
        {
            if (column.Fill is null && column.FillCategory is null)
                throw Bad("Missing value", $"column '{name}' is null, but the model was trained without --fill and cannot fill missing values; send {Expected(column)}");
            return "";
        }
        if (column.IsNumeric)
        {
            if (reader.TokenType != JsonTokenType.Number)
            {
                string got = reader.TokenType == JsonTokenType.String ? $"the string \"{reader.GetString()}\"" : reader.TokenType.ToString();
                reader.Skip();
                throw Bad("Not a number", $"column '{name}' is numeric; got {got}, expected a number (JSON has no NaN or Infinity)");
            }
            // a double first, so that 1e400 is reported rather than becoming infinity
            if (!reader.TryGetDouble(out double v) || !double.IsFinite(v))
                throw Bad("Value not finite", $"column '{name}' is not a finite number");
            return v.ToString("R", CultureInfo.InvariantCulture);
        }
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            throw Bad("Not a category", $"column '{name}' is categorical; send one of its categories as a string: {CategoryList(column)}");
        }
        string cell = reader.GetString()!;
        if (Array.IndexOf(column.Categories, cell) < 0)
            throw Bad("Unknown category", $"column '{name}': '{cell}' is not a category the model knows; its categories are {CategoryList(column)}");
        return cell;
    }

    private static string Expected(TableColumn column) => column.IsNumeric ? "a number" : $"one of {CategoryList(column)}";

    private static string CategoryList(TableColumn column) => string.Join(", ", column.Categories.Select(c => $"'{c}'"));

    private static string ColumnList(TablePreprocessing prep) => string.Join(", ", prep.Columns.Select(c => $"'{c.Name}'"));

    private static ProblemException Bad(string title, string detail) => new(StatusCodes.Status400BadRequest, title, detail);
}
