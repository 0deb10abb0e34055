using System.Numerics;
using NeuralNet.Modules;
using NeuralNet.Tensors;

namespace NeuralNet.Optim;

/// <summary>
/// Updates parameters from their gradients. <see cref="Step"/> applies one update to every parameter;
/// <see cref="ZeroGrad"/> clears the gradients for the next batch. State (momentum buffers, moment estimates) is
/// allocated once, at construction, so steps allocate nothing; <see cref="State"/> exposes it for checkpoints.
/// </summary>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private double _learningRate;

    /// <summary>Takes the parameters to update (at least one; copied into an array, order kept) and the initial learning rate η (finite, ≥ 0).</summary>
    /// <exception cref="ArgumentException">The parameter list is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is negative, infinite or NaN.</exception>
    protected Optimizer(IEnumerable<Parameter<T>> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters.ToArray();
        if (_parameters.Length == 0) throw new ArgumentException($"{GetType().Name}: the parameter list is empty.", nameof(parameters));
        LearningRate = learningRate;
    }

    /// <summary>The parameters, in the order given.</summary>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <summary>The learning rate used by the next <see cref="Step"/>; schedules set it between epochs.</summary>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value >= 0) || double.IsInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, $"{GetType().Name}: the learning rate must be a finite number ≥ 0.");
            _learningRate = value;
        }
    }

    /// <summary>Number of steps taken so far (t in the update formulas, 1 during the first step).</summary>
    public long StepCount { get; protected set; }

    /// <summary>
    /// Applies one update to every parameter. Updates are elementwise, so the parameters are cut into chunks of
    /// <see cref="ChunkSize"/> elements that the kernel threads update in parallel; every element's arithmetic is
    /// the same whichever thread runs it.
    /// </summary>
    public void Step()
    {
        StepCount++;
        _job ??= new StepJob(this);
        TensorOps.RunParts(_job, _job.Chunks.Length);
    }

    /// <summary>Elements per parallel chunk of <see cref="Step"/>.</summary>
    public const int ChunkSize = 16384;

    private StepJob? _job;

    /// <summary>
    /// Updates elements [offset, offset + value.Length) of parameter <paramref name="index"/> in place from their
    /// gradient; state tensors are sliced the same way.
    /// </summary>
    protected abstract void Update(int index, int offset, Span<T> value, ReadOnlySpan<T> grad);

    /// <summary>The chunks of every parameter, updated in parallel; built once, so a step allocates nothing.</summary>
    private sealed class StepJob : PartitionedWork
    {
        private readonly Optimizer<T> _owner;

        public StepJob(Optimizer<T> owner)
        {
            _owner = owner;
            var chunks = new List<(int, int, int)>();
            for (int i = 0; i < owner._parameters.Length; i++)
            {
                int n = owner._parameters[i].Value.Length;
                for (int off = 0; off < n; off += ChunkSize) chunks.Add((i, off, Math.Min(ChunkSize, n - off)));
            }
            Chunks = chunks.ToArray();
        }

        public (int Index, int Offset, int Length)[] Chunks { get; }

        public override void Execute(int part)
        {
            var (i, off, len) = Chunks[part];
            var p = _owner._parameters[i];
            _owner.Update(i, off, p.Value.Span.Slice(off, len), p.Grad.ReadOnlySpan.Slice(off, len));
        }
    }

    /// <summary>Sets every parameter's gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
    }

    /// <summary>The state tensors, named "NAME.INDEX" (e.g. "exp_avg.0"), for saving; empty for plain SGD.</summary>
    public abstract IReadOnlyList<(string Name, Tensor<T> Tensor)> State();

    /// <summary>Hyper-parameters by name, for saving and display.</summary>
    public abstract IReadOnlyDictionary<string, double> Hyperparameters { get; }

    /// <summary>Restores state saved from an optimizer of the same kind over parameters of the same shapes.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor<T>> state, long stepCount)
    {
        foreach (var (name, tensor) in State())
        {
            if (!state.TryGetValue(name, out var saved))
                throw new InvalidDataException($"{GetType().Name}: the saved optimizer state has no '{name}'.");
            if (saved.Shape != tensor.Shape)
                throw new ShapeMismatchException($"{GetType().Name}: saved state '{name}' has shape {saved.Shape}, expected {tensor.Shape}.");
            saved.CopyTo(tensor);
        }
        StepCount = stepCount;
    }

    /// <summary>One zero tensor per parameter, shaped like it.</summary>
    protected Tensor<T>[] ZerosLikeParameters() => _parameters.Select(p => new Tensor<T>(p.Shape)).ToArray();

    /// <summary>Rejects a hyper-parameter outside its range, naming it and the value.</summary>
    protected void Require(bool ok, string name, double value, string range)
    {
        if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{GetType().Name}: invalid {name} {value}; expected {range}.");
    }
}
