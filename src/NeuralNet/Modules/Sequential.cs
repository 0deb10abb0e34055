using System.Globalization;
using System.Numerics;
using System.Text;
using NeuralNet.Activations;
using NeuralNet.Layers;
using NeuralNet.Tensors;

namespace NeuralNet.Modules;

/// <summary>
/// A chain of modules: Forward runs them in order, Backward in reverse, each receiving the gradient the next one
/// returned. Children are named "0", "1", … so parameters are "0.weight", "0.bias", "2.weight", ….
/// A BatchNorm directly followed by a ReLU runs as one pass over memory, forward (the ReLU applied as the normalized
/// values are written) and backward (the ReLU's mask applied as the BatchNorm reads the gradient); the values and
/// gradients are exactly those of running the two modules one after the other.
/// </summary>
/// <example><code>
/// var model = new Sequential&lt;float&gt;(new Linear&lt;float&gt;(784, 128), new ReLU&lt;float&gt;(), new Linear&lt;float&gt;(128, 10));
/// </code></example>
public sealed class Sequential<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Module<T>[] _modules;

    /// <summary>Chains <paramref name="modules"/> (none may be null; the array is copied), named "0", "1", … in order.</summary>
    public Sequential(params Module<T>[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        if (modules.Any(m => m is null)) throw new ArgumentException("Sequential: a module is null.", nameof(modules));
        _modules = (Module<T>[])modules.Clone();
    }

    /// <summary>The modules, in order.</summary>
    public IReadOnlyList<Module<T>> Modules => _modules;

    /// <summary>Number of modules.</summary>
    public int Count => _modules.Length;

    /// <summary>Module <paramref name="index"/>.</summary>
    public Module<T> this[int index] => _modules[index];

    /// <summary>The modules, named by their index: "0", "1", ….</summary>
    public override IEnumerable<(string Name, Module<T> Module)> Children() =>
        _modules.Select((m, i) => (i.ToString(CultureInfo.InvariantCulture), m));

    /// <summary>y = fₖ(…f₂(f₁(x))): each module's output is the next one's input.</summary>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        var x = input;
        for (int i = 0; i < _modules.Length; i++)
        {
            if (_modules[i] is BatchNorm<T> norm && i + 1 < _modules.Length && _modules[i + 1] is ReLU<T> relu)
            {
                // BatchNorm then ReLU: one pass over the activations instead of two (same values, same backward).
                x = relu.Adopt(norm.ForwardReLU(x));
                i++;
                continue;
            }
            x = _modules[i].Forward(x);
        }
        return x;
    }

    /// <summary>dx = f₁.Backward(…fₖ.Backward(dy)): the modules in reverse, each taking the gradient the next one returned.</summary>
    public override Tensor<T> Backward(Tensor<T> gradOutput)
    {
        var g = gradOutput;
        for (int i = _modules.Length - 1; i >= 0; i--)
        {
            if (_modules[i] is MaxPool2d<T> pool && i > 1 && _modules[i - 1] is ReLU<T> && _modules[i - 2] is BatchNorm<T> pooledNorm)
            {
                // BatchNorm–ReLU (fused in Forward) then max pooling: the pooling's gradient is formed slice by slice
                // inside the BatchNorm's backward pass instead of as a full tensor.
                g = pooledNorm.BackwardReLUMaxPool(g, pool);
                i -= 2;
                continue;
            }
            if (_modules[i] is ReLU<T> && i > 0 && _modules[i - 1] is BatchNorm<T> norm)
            {
                // The pair fused in Forward: the ReLU's mask applied inside the BatchNorm's backward pass.
                g = norm.BackwardReLU(g);
                i--;
                continue;
            }
            g = _modules[i].Backward(g);
        }
        return g;
    }

    /// <summary>PyTorch style: <c>Sequential(</c>, one <c>(i): module</c> line per module, <c>)</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("Sequential(\n");
        for (int i = 0; i < _modules.Length; i++) sb.Append(CultureInfo.InvariantCulture, $"  ({i}): {_modules[i]}\n");
        return sb.Append(')').ToString();
    }
}
