using System.Security.Cryptography;

namespace NeuralNet.Checkpoints;

/// <summary>Writes a file so that readers see either the old file or the complete new one, never half of it.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// <paramref name="write"/> fills a temp file <c>path.tmp-&lt;random&gt;</c> in the same folder, which is flushed to
    /// disk and then renamed over <paramref name="path"/>. If anything throws, the temp file is deleted and any previous
    /// file at <paramref name="path"/> is left untouched; an I/O failure (a full disk) is reported as an IOException
    /// naming <paramref name="path"/> and saying so.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        // Same folder, so the final rename stays on one file system and is atomic (rename(2), MoveFileEx).
        string tmp = full + ".tmp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try
            {
                File.Delete(tmp);
            }
            catch (IOException)
            {
                // Best effort: the original exception matters more than a stray temp file.
            }
            catch (UnauthorizedAccessException)
            {
            }
            if (e is IOException)
                throw new IOException($"{path}: not written ({e.Message}); an earlier file under this name, if any, is intact.", e);
            throw;
        }
    }
}
