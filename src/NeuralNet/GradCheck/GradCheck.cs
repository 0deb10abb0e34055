using System.Numerics;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.GradCheck;

/// <summary>
/// Numerical gradient checking: compares the gradients from Backward with central differences
/// (f(θ + h) − f(θ − h)) / 2h for every entry of the input and of every parameter.
/// </summary>
/// <remarks>
/// For a module alone, the scalar checked is f = Σ module(x) ⊙ dy with a random upstream gradient dy (CS231n's
/// trick: no loss needed, and every output entry's derivative is exercised). With a loss, f is the loss itself.
/// Central differences have error O(h²); in float64 with h = 1e-6 the round-off is about ε/h ≈ 1e-10, so a
/// correct derivative gives relative errors near 1e-9 and a wrong one errors near 1. In float32 (ε ≈ 1e-7) the
/// round-off alone is about 1e-2 at any h small enough to be accurate: check in double.
/// </remarks>
public static class GradCheck
{
    /// <summary>Checks a module with a random upstream gradient dy ~ N(0, 1) drawn from <paramref name="rng"/>.</summary>
    public static GradCheckReport Check<T>(Module<T> module, Tensor<T> input, Rng rng, double h = 1e-6)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var probe = module.Forward(input);
        var dy = Tensor<T>.RandomNormal(rng, 0, 1, probe.Shape.ToArray());
        return Check(module, input, dy, h);
    }

    /// <summary>Checks a module for f = Σ module(x) ⊙ <paramref name="gradOutput"/>.</summary>
    public static GradCheckReport Check<T>(Module<T> module, Tensor<T> input, Tensor<T> gradOutput, double h = 1e-6)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double Evaluate()
        {
            var y = module.Forward(input);
            ShapeMismatchException.ThrowIfDifferent("GradCheck", y.Shape, gradOutput.Shape, "output", "gradOutput");
            double s = 0;
            ReadOnlySpan<T> ys = y.ReadOnlySpan, gs = gradOutput.ReadOnlySpan;
            for (int i = 0; i < ys.Length; i++) s += double.CreateChecked(ys[i]) * double.CreateChecked(gs[i]);
            return s;
        }
        Tensor<T> Backward()
        {
            module.Forward(input);
            return module.Backward(gradOutput);
        }
        return Run(module.ToString() ?? module.GetType().Name, input, module.NamedParameters().ToList(), module.ZeroGrad, Evaluate, Backward, h);
    }

    /// <summary>Checks loss(model(x), target) (or loss(x, target) when <paramref name="model"/> is null).</summary>
    public static GradCheckReport Check<T>(Module<T>? model, Loss<T> loss, Tensor<T> input, Tensor<T> target, double h = 1e-6)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        CheckWithLoss(model, loss, input, x => loss.Forward(x, target), h);

    /// <summary>Checks cross-entropy(model(x), labels) (or of x itself when <paramref name="model"/> is null).</summary>
    public static GradCheckReport Check<T>(Module<T>? model, CrossEntropyLoss<T> loss, Tensor<T> input, int[] labels, double h = 1e-6)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        CheckWithLoss(model, loss, input, x => loss.Forward(x, labels), h);

    private static GradCheckReport CheckWithLoss<T>(Module<T>? model, Loss<T> loss, Tensor<T> input, Func<Tensor<T>, T> forwardLoss, double h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double Evaluate() => double.CreateChecked(forwardLoss(model is null ? input : model.Forward(input)));
        Tensor<T> Backward()
        {
            Evaluate();
            var g = loss.Backward();
            return model is null ? g : model.Backward(g);
        }
        var parameters = model?.NamedParameters().ToList() ?? [];
        string subject = model is null ? loss.ToString()! : $"{model} + {loss}";
        return Run(subject, input, parameters, () => model?.ZeroGrad(), Evaluate, Backward, h);
    }

    private static GradCheckReport Run<T>(string subject, Tensor<T> input, List<(string Name, Parameter<T> Parameter)> parameters,
        Action zeroGrad, Func<double> evaluate, Func<Tensor<T>> backward, double h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        zeroGrad();
        var analyticInput = backward().Clone();
        var analytic = parameters.Select(p => p.Parameter.Grad.Clone()).ToList();

        var results = new List<GradCheckResult> { Compare("input", input, analyticInput, evaluate, h) };
        for (int i = 0; i < parameters.Count; i++)
            results.Add(Compare(parameters[i].Name, parameters[i].Parameter.Value, analytic[i], evaluate, h));
        return new GradCheckReport(subject, results);
    }

    /// <summary>Central differences over every entry of <paramref name="value"/>, restored after each probe.</summary>
    private static GradCheckResult Compare<T>(string name, Tensor<T> value, Tensor<T> analytic, Func<double> evaluate, double h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> v = value.Span;
        double diff2 = 0, a2 = 0, n2 = 0, worstAbs = -1, worstA = 0, worstN = 0;
        int worstIndex = -1;
        for (int i = 0; i < v.Length; i++)
        {
            T saved = v[i];
            T step = T.CreateChecked(h);
            v[i] = saved + step;
            double plus = evaluate();
            v[i] = saved - step;
            double minus = evaluate();
            v[i] = saved;
            // The step actually taken may differ from h after rounding in T.
            double actualStep = double.CreateChecked((saved + step) - (saved - step));
            double numeric = (plus - minus) / actualStep;
            double a = double.CreateChecked(analytic[i]);
            double d = a - numeric;
            diff2 += d * d;
            a2 += a * a;
            n2 += numeric * numeric;
            if (Math.Abs(d) > worstAbs)
            {
                (worstAbs, worstIndex, worstA, worstN) = (Math.Abs(d), i, a, numeric);
            }
        }
        double denominator = Math.Sqrt(a2) + Math.Sqrt(n2);
        double rel = denominator == 0 ? 0 : Math.Sqrt(diff2) / denominator;
        return new GradCheckResult(name, v.Length, rel, worstIndex, worstA, worstN);
    }
}
