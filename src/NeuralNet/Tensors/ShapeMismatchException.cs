namespace NeuralNet.Tensors;

/// <summary>
/// Thrown when an operation receives tensors whose shapes do not fit together.
/// The message names the operation and every shape involved, e.g.
/// <c>Linear.Forward: input (32, 100) does not match weight (10, 784): expected 784 input features.</c>
/// </summary>
public sealed class ShapeMismatchException : ArgumentException
{
    /// <summary>An exception whose <paramref name="message"/> names the operation and the shapes involved.</summary>
    public ShapeMismatchException(string message) : base(message) { }

    /// <summary>Throws unless <paramref name="a"/> and <paramref name="b"/> are the same shape.</summary>
    public static void ThrowIfDifferent(string operation, Shape a, Shape b, string nameA = "a", string nameB = "b")
    {
        if (a != b) throw new ShapeMismatchException($"{operation}: {nameA} {a} and {nameB} {b} must have the same shape.");
    }
}
