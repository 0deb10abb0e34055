using System.Numerics;
using NeuralNet.Tensors;

namespace NeuralNet.Modules;

/// <summary>
/// A layer or a network: an explicit <see cref="Forward"/> and <see cref="Backward"/> pair, named parameters,
/// and a training/evaluation mode. There is no autograd tape: each module saves what its backward needs
/// during forward, in buffers it keeps and reuses while the shapes stay the same.
/// </summary>
/// <remarks>
/// Contract: <see cref="Backward"/> must follow the <see cref="Forward"/> it differentiates, and the input given
/// to Forward must not be modified in between. The tensors a module returns are its own buffers: the next call
/// overwrites them, so copy (<see cref="Tensor{T}.Clone"/>) what you want to keep.
/// Backward adds the parameter gradients into <see cref="Parameter{T}.Grad"/> and returns ∂L/∂input.
/// </remarks>
public abstract class Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Parameter<T>[]? _parameters;

    /// <summary>True in training mode (the default), false after <see cref="Eval"/>.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Computes the output for a batch of inputs and saves what <see cref="Backward"/> needs.</summary>
    public abstract Tensor<T> Forward(Tensor<T> input);

    /// <summary>Given ∂L/∂output, accumulates the parameter gradients and returns ∂L/∂input.</summary>
    public abstract Tensor<T> Backward(Tensor<T> gradOutput);

    /// <summary>This module's own parameters (not its children's), with local names such as "weight".</summary>
    protected virtual IEnumerable<(string Name, Parameter<T> Parameter)> LocalParameters() => [];

    /// <summary>
    /// Non-learnable state that belongs in a checkpoint (e.g. BatchNorm's running mean), named like parameters.
    /// </summary>
    protected virtual IEnumerable<(string Name, Tensor<T> Buffer)> LocalBuffers() => [];

    /// <summary>Every buffer of this module and its children, named by path.</summary>
    public IEnumerable<(string Name, Tensor<T> Buffer)> NamedBuffers()
    {
        foreach (var b in LocalBuffers()) yield return b;
        foreach (var (childName, child) in Children())
            foreach (var (name, b) in child.NamedBuffers()) yield return ($"{childName}.{name}", b);
    }

    /// <summary>
    /// Every tensor that defines the trained model — parameter values, then buffers — by name: what a checkpoint
    /// stores and what "keep the best weights" copies.
    /// </summary>
    public IEnumerable<(string Name, Tensor<T> Tensor)> StateDict() =>
        NamedParameters().Select(p => (p.Name, p.Parameter.Value)).Concat(NamedBuffers());

    /// <summary>
    /// This module's own random sources (e.g. Dropout's mask generator), with local names such as "rng": state that
    /// changes as training runs and that an exact resume must restore along with the weights.
    /// </summary>
    protected virtual IEnumerable<(string Name, Rng Rng)> LocalRandomSources() => [];

    /// <summary>Every random source of this module and its children, named by path: "10.rng".</summary>
    public IEnumerable<(string Name, Rng Rng)> NamedRandomSources()
    {
        foreach (var r in LocalRandomSources()) yield return r;
        foreach (var (childName, child) in Children())
            foreach (var (name, r) in child.NamedRandomSources()) yield return ($"{childName}.{name}", r);
    }

    /// <summary>The modules this one contains, with local names such as "0".</summary>
    public virtual IEnumerable<(string Name, Module<T> Module)> Children() => [];

    /// <summary>Every parameter of this module and its children, named by path: "0.weight", "2.bias".</summary>
    public IEnumerable<(string Name, Parameter<T> Parameter)> NamedParameters()
    {
        foreach (var p in LocalParameters()) yield return p;
        foreach (var (childName, child) in Children())
            foreach (var (name, p) in child.NamedParameters()) yield return ($"{childName}.{name}", p);
    }

    /// <summary>Every parameter, in the order of <see cref="NamedParameters"/> (cached after the first call).</summary>
    public IReadOnlyList<Parameter<T>> Parameters() => _parameters ??= NamedParameters().Select(p => p.Parameter).ToArray();

    /// <summary>Total number of learnable scalars.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Value.Length);

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad()
    {
        var ps = _parameters ??= NamedParameters().Select(p => p.Parameter).ToArray();
        for (int i = 0; i < ps.Length; i++) ps[i].ZeroGrad();
    }

    /// <summary>Switches this module and its children to training mode (or evaluation mode when <paramref name="mode"/> is false).</summary>
    public Module<T> Train(bool mode = true)
    {
        IsTraining = mode;
        foreach (var (_, child) in Children()) child.Train(mode);
        return this;
    }

    /// <summary>Switches to evaluation mode (dropout off, running statistics in normalization layers).</summary>
    public Module<T> Eval() => Train(false);

    /// <summary>
    /// Returns <paramref name="buffer"/> when it already has <paramref name="shape"/>; otherwise a tensor of that
    /// shape, reusing the buffer's storage when it is large enough. Steady-state steps therefore allocate nothing.
    /// </summary>
    protected static Tensor<T> Reuse(ref Tensor<T>? buffer, Shape shape)
    {
        if (buffer is not null && buffer.Shape == shape) return buffer;
        if (buffer is not null && buffer.Offset == 0 && buffer.Buffer.Length >= shape.Length)
            buffer = new Tensor<T>(buffer.Buffer, 0, shape);
        else
            buffer = new Tensor<T>(shape);
        return buffer;
    }

    /// <summary>The rank-2 form of <see cref="Reuse(ref Tensor{T}?, Shape)"/>; checks the extents before building a shape, so a hit allocates nothing.</summary>
    protected static Tensor<T> Reuse(ref Tensor<T>? buffer, int rows, int cols)
    {
        if (buffer is not null && buffer.Rank == 2 && buffer.Shape[0] == rows && buffer.Shape[1] == cols) return buffer;
        return Reuse(ref buffer, new Shape(rows, cols));
    }

    /// <summary>
    /// A zero tensor of <paramref name="shape"/> standing for an input gradient nobody asked for (a first layer's):
    /// allocated when the shape changes and never written, so it stays zero without a pass per step.
    /// </summary>
    protected static Tensor<T> UnrequestedGradient(ref Tensor<T>? buffer, Shape shape)
    {
        if (buffer is null || buffer.Shape != shape) buffer = new Tensor<T>(shape);
        return buffer;
    }

    /// <summary>Throws when <paramref name="gradOutput"/> does not have the shape of the last output.</summary>
    protected void CheckGradShape(Tensor<T>? output, Tensor<T> gradOutput)
    {
        if (output is null) throw new InvalidOperationException($"{GetType().Name}.Backward was called before Forward.");
        if (output.Shape != gradOutput.Shape)
            throw new ShapeMismatchException($"{GetType().Name}.Backward: gradOutput {gradOutput.Shape} does not match the last output {output.Shape}.");
    }

    /// <summary>A one-line description, PyTorch style: <c>Linear(in_features=784, out_features=128)</c>.</summary>
    public override string ToString() => GetType().Name.Split('`')[0] + "()";
}
