using System.Numerics;
using NeuralNet.Activations;
using NeuralNet.Layers;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Tensors;
using NeuralNet.Tensors.Kernels;
using NeuralNet.Tests.Golden;
using NeuralNet.Tests.GradCheck;
using NeuralNet.Tests.Optim;

namespace NeuralNet.Tests.Layers;

/// <summary>
/// The layers at every instruction set this machine runs (<see cref="Simd.Supported"/>): the PyTorch golden comparisons
/// and gradient checks pass at each level, and every level's outputs and gradients agree with the scalar level's to
/// rounding.
/// </summary>
[Collection("Serial")]
public class InstructionSetTests
{
    // ---- the existing golden comparisons and gradient checks, at every level --------------------

    private static readonly Dictionary<string, Action> s_checks = new()
    {
        ["golden linear"] = () => new PyTorchGoldenTests().Linear_matches_pytorch(),
        ["golden activations"] = () =>
        {
            foreach (string name in new[] { "relu", "leaky_relu", "sigmoid", "tanh", "softmax" }) new PyTorchGoldenTests().Activation_matches_pytorch(name);
        },
        ["golden cross-entropy"] = () =>
        {
            foreach (string name in new[] { "cross_entropy", "cross_entropy_smoothing", "cross_entropy_large" }) new PyTorchGoldenTests().CrossEntropy_matches_pytorch(name);
            new PyTorchGoldenTests().CrossEntropy_with_one_hot_probability_target_matches_pytorch();
        },
        ["golden mlp"] = () => new PyTorchGoldenTests().Three_layer_mlp_matches_pytorch_end_to_end(),
        ["golden conv2d"] = () =>
        {
            new CnnGoldenTests().Conv2d_matches_pytorch("conv2d");
            new CnnGoldenTests().Conv2d_matches_pytorch("conv2d_k5");
        },
        ["golden pooling"] = () =>
        {
            foreach (string name in new[] { "maxpool", "maxpool_overlap", "avgpool", "avgpool_overlap" }) new CnnGoldenTests().Pooling_matches_pytorch(name);
        },
        ["golden batchnorm"] = () =>
        {
            new CnnGoldenTests().BatchNorm_training_and_eval_match_pytorch("batchnorm2d");
            new CnnGoldenTests().BatchNorm_training_and_eval_match_pytorch("batchnorm1d");
        },
        ["golden optimizers"] = () =>
        {
            foreach (var row in OptimizerTests.Cases()) new OptimizerTests().Ten_steps_match_torch_optim(row);
        },
        ["gradcheck modules"] = () =>
        {
            foreach (var row in GradCheckTests.Modules()) new GradCheckTests().Module_gradients_match_central_differences(row);
        },
        ["gradcheck cross-entropy"] = () =>
        {
            new GradCheckTests().CrossEntropy_gradient_matches(0.0);
            new GradCheckTests().CrossEntropy_gradient_matches(0.1);
            new GradCheckTests().CrossEntropy_soft_target_gradient_matches();
        },
        ["gradcheck conv2d"] = () =>
        {
            new CnnGradCheckTests().Conv2d_gradients_match(2, 3, 3, 1, 1, 6, 5, true);
            new CnnGradCheckTests().Conv2d_gradients_match(3, 2, 3, 2, 1, 7, 6, true);
            new CnnGradCheckTests().Conv2d_gradients_match(3, 4, 1, 1, 0, 4, 5, true);
        },
        ["gradcheck pooling"] = () =>
        {
            new CnnGradCheckTests().MaxPool2d_gradients_match(3, 2);
            new CnnGradCheckTests().AvgPool2d_gradients_match(3, 2);
        },
        ["gradcheck batchnorm"] = () =>
        {
            foreach (var row in CnnGradCheckTests.BatchNorms()) new CnnGradCheckTests().BatchNorm_gradients_match((string)row[0], (bool)row[1]);
        },
        ["gradcheck small cnn"] = () => new CnnGradCheckTests().Small_cnn_with_cross_entropy_matches_end_to_end(),
    };

    public static TheoryData<string> Checks() => new(s_checks.Keys);

    [Theory]
    [MemberData(nameof(Checks))]
    public void Golden_comparisons_and_gradient_checks_pass_at_every_level(string check) =>
        SimdLevels.ForEach(level =>
        {
            try
            {
                s_checks[check]();
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{check} failed at {level}: {e.Message}");
            }
        });

    // ---- every level against the scalar level ---------------------------------------------------

    public static TheoryData<string> Cases() =>
        new("linear", "conv2d", "conv2d_pointwise", "batchnorm2d_train", "batchnorm2d_eval", "batchnorm1d_train", "maxpool", "avgpool",
            "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "dropout", "cross_entropy", "cross_entropy_smoothing",
            "cross_entropy_soft", "adam", "adamw", "sgd_nesterov", "rmsprop_centered_momentum", "mlp_training_step");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Double_results_at_every_level_match_the_scalar_level(string name) => CompareWithScalar<double>(name, 1e-12);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float_results_at_every_level_match_the_scalar_level(string name) => CompareWithScalar<float>(name, 2e-5);

    [Fact]
    public void A_level_gives_the_same_bits_every_time()
    {
        // Determinism: same seed, thread count and instruction set → same bytes.
        SimdLevels.ForEach(level =>
        {
            var first = Run<float>("mlp_training_step");
            var second = Run<float>("mlp_training_step");
            for (int i = 0; i < first.Count; i++)
                Assert.True(first[i].Tensor.ContentEquals(second[i].Tensor), $"{level}: {first[i].Name} differs between two identical runs");
        });
    }

    private static void CompareWithScalar<T>(string name, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var expected = SimdLevels.AtScalar(() => Run<T>(name));
        SimdLevels.ForEach(level =>
        {
            var actual = Run<T>(name);
            Assert.Equal(expected.Count, actual.Count);
            for (int k = 0; k < expected.Count; k++)
            {
                var (what, e) = expected[k];
                var a = actual[k].Tensor;
                Assert.Equal(e.Shape, a.Shape);
                for (int i = 0; i < e.Length; i++)
                {
                    double ev = double.CreateChecked(e[i]), av = double.CreateChecked(a[i]);
                    if (!(Math.Abs(ev - av) <= tol * Math.Max(1, Math.Abs(ev))))
                        Assert.Fail($"{typeof(T).Name} {name} {what}[{i}] at {level}: {av:R}, at Scalar {ev:R}");
                }
            }
        });
    }

    /// <summary>
    /// Runs one case from a fixed seed and returns copies of everything it computed. Shapes are chosen so every vector
    /// width sees full vectors, unrolled bodies and tails.
    /// </summary>
    private static List<(string Name, Tensor<T> Tensor)> Run<T>(string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Rng(2024);
        var results = new List<(string, Tensor<T>)>();
        Tensor<T> Normal(params int[] dims) => Tensor<T>.RandomNormal(rng, 0, 1, dims);

        void Module(Module<T> m, Tensor<T> x)
        {
            var y = m.Forward(x);
            results.Add(("y", y.Clone()));
            m.ZeroGrad();
            results.Add(("dx", m.Backward(Normal(y.Shape.ToArray())).Clone()));
            foreach (var (pname, p) in m.NamedParameters()) results.Add(($"d{pname}", p.Grad.Clone()));
            foreach (var (bname, b) in m.NamedBuffers()) results.Add((bname, b.Clone()));
        }

        void OptimizerSteps(Func<IEnumerable<Parameter<T>>, Optimizer<T>> make)
        {
            // Two parameters of awkward lengths (vector bodies and tails), three steps.
            var ps = new[] { new Parameter<T>(Normal(37, 19)), new Parameter<T>(Normal(67)) };
            var opt = make(ps);
            for (int step = 0; step < 3; step++)
            {
                foreach (var p in ps) Normal(p.Shape.ToArray()).CopyTo(p.Grad);
                opt.Step();
            }
            foreach (var p in ps) results.Add(("θ", p.Value.Clone()));
            foreach (var (sname, s) in opt.State()) results.Add((sname, s.Clone()));
        }

        void CrossEntropy(double smoothing, bool soft)
        {
            var logits = Tensor<T>.RandomNormal(rng, 0, 3, 13, 37);
            var loss = new CrossEntropyLoss<T>(smoothing);
            T value;
            if (soft)
            {
                var q = new Tensor<T>(13, 37);
                for (int i = 0; i < 13; i++) q[i, rng.NextInt(37)] = T.One;
                value = loss.Forward(logits, q);
            }
            else
            {
                value = loss.Forward(logits, Enumerable.Range(0, 13).Select(_ => rng.NextInt(37)).ToArray());
            }
            results.Add(("loss", Tensor<T>.Scalar(value)));
            results.Add(("p", loss.Probabilities.Clone()));
            results.Add(("dlogits", loss.Backward().Clone()));
        }

        switch (name)
        {
            case "linear": Module(new Linear<T>(37, 19, rng: rng), Normal(13, 37)); break;
            case "conv2d": Module(new Conv2d<T>(3, 5, 3, 1, 1, rng: rng), Normal(4, 3, 9, 11)); break;
            case "conv2d_pointwise": Module(new Conv2d<T>(6, 4, 1, rng: rng), Normal(3, 6, 5, 7)); break;
            case "batchnorm2d_train" or "batchnorm2d_eval":
            {
                var bn = new BatchNorm2d<T>(5);
                for (int c = 0; c < 5; c++)
                {
                    bn.Weight.Value[c] = T.CreateChecked(1 + 0.3 * rng.NextNormal());
                    bn.Bias.Value[c] = T.CreateChecked(rng.NextNormal());
                    bn.RunningVar[c] = T.CreateChecked(0.5 + rng.NextDouble());
                }
                bn.Train(name.EndsWith("train", StringComparison.Ordinal));
                Module(bn, Tensor<T>.RandomNormal(rng, 2, 3, 6, 5, 7, 9));
                break;
            }
            case "batchnorm1d_train": Module(new BatchNorm1d<T>(5), Tensor<T>.RandomNormal(rng, 1, 2, 9, 5, 67)); break;
            case "maxpool": Module(new MaxPool2d<T>(3, 2), Normal(3, 4, 10, 12)); break;
            case "avgpool": Module(new AvgPool2d<T>(2), Normal(3, 4, 10, 12)); break;
            case "relu": Module(new ReLU<T>(), Normal(9, 67)); break;
            case "leaky_relu": Module(new LeakyReLU<T>(0.1), Normal(9, 67)); break;
            case "sigmoid": Module(new Sigmoid<T>(), Tensor<T>.RandomNormal(rng, 0, 4, 9, 67)); break;
            case "tanh": Module(new Tanh<T>(), Tensor<T>.RandomNormal(rng, 0, 2, 9, 67)); break;
            case "softmax": Module(new Softmax<T>(), Tensor<T>.RandomNormal(rng, 0, 3, 9, 67)); break;
            case "dropout": Module(new Dropout<T>(0.3, new Rng(5)), Normal(9, 67)); break;
            case "cross_entropy": CrossEntropy(0, soft: false); break;
            case "cross_entropy_smoothing": CrossEntropy(0.1, soft: false); break;
            case "cross_entropy_soft": CrossEntropy(0.1, soft: true); break;
            case "adam": OptimizerSteps(ps => new Adam<T>(ps, 1e-2, weightDecay: 0.01)); break;
            case "adamw": OptimizerSteps(ps => new AdamW<T>(ps, 1e-2)); break;
            case "sgd_nesterov": OptimizerSteps(ps => new SGD<T>(ps, 0.1, 0.9, weightDecay: 0.01, nesterov: true)); break;
            case "rmsprop_centered_momentum": OptimizerSteps(ps => new RMSProp<T>(ps, 1e-2, momentum: 0.5, centered: true)); break;
            case "mlp_training_step":
            {
                var model = new Sequential<T>(new Linear<T>(37, 33, rng: rng), new Tanh<T>(), new Linear<T>(33, 17, rng: rng), new ReLU<T>(),
                    new Linear<T>(17, 10, rng: rng));
                var loss = new CrossEntropyLoss<T>(0.1);
                var opt = new Adam<T>(model.Parameters(), 1e-2);
                var x = Normal(13, 37);
                int[] labels = Enumerable.Range(0, 13).Select(_ => rng.NextInt(10)).ToArray();
                for (int step = 0; step < 3; step++)
                {
                    opt.ZeroGrad();
                    results.Add(("loss", Tensor<T>.Scalar(loss.Forward(model.Forward(x), labels))));
                    model.Backward(loss.Backward());
                    opt.Step();
                }
                foreach (var (pname, p) in model.NamedParameters()) results.Add((pname, p.Value.Clone()));
                break;
            }
            default: throw new ArgumentException(name);
        }
        return results;
    }

    [Theory]
    [InlineData("scalar", SimdLevel.Scalar)]
    [InlineData(" AVX2 ", SimdLevel.Vector256)]
    [InlineData("vector256", SimdLevel.Vector256)]
    [InlineData("avx512", SimdLevel.Vector512)]
    public void Instruction_set_names_parse_capped_at_what_this_machine_runs(string name, SimdLevel named)
    {
        var expected = named < TensorOps.BestInstructionSet ? named : TensorOps.BestInstructionSet;
        Assert.Equal(expected, TensorOps.ParseInstructionSet(name));
        Assert.Null(TensorOps.ParseInstructionSet("sse9"));
    }
}
