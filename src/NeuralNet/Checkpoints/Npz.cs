namespace NeuralNet.Checkpoints;

/// <summary>
/// Crash-safe .npz files: <see cref="Save"/> never leaves a half-written archive at the destination.
/// Read with <see cref="NpzReader"/>; the format is <c>np.savez</c>'s (see <see cref="NpzWriter"/>).
/// </summary>
public static class Npz
{
    /// <summary>
    /// Writes an .npz at <paramref name="path"/> atomically: <paramref name="write"/> fills a temp file
    /// <c>path.tmp-&lt;random&gt;</c> in the same folder, which is flushed to disk and then renamed over
    /// <paramref name="path"/>. If <paramref name="write"/> (or anything else) throws, the temp file is
    /// deleted and any previous file at <paramref name="path"/> is left untouched.
    /// </summary>
    /// <example><code>Npz.Save("model.npz", w => { w.Add("0.weight", w0); w.Add("0.bias", b0); });</code></example>
    public static void Save(string path, Action<NpzWriter> write, bool compressed = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        AtomicFile.Write(path, stream =>
        {
            // NOTE: no `using` on the writer: on an exception, finishing the zip would only waste time.
            var writer = new NpzWriter(stream, compressed, leaveOpen: true);
            write(writer);
            writer.Dispose();
        });
    }
}
