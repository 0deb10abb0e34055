using System.Diagnostics;
using System.Numerics;
using NeuralNet.Data;
using NeuralNet.Losses;
using NeuralNet.Modules;
using NeuralNet.Optim;
using NeuralNet.Optim.Schedules;
using NeuralNet.Tensors;

namespace NeuralNet.Training;

/// <summary>Settings of <see cref="Trainer.Fit{T}"/>.</summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs to train (the last epoch index is Epochs − 1).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Training samples per step (≥ 1; default 64).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Reshuffle the training set every epoch (seeded by <see cref="Seed"/> and the epoch).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Skip a last batch smaller than <see cref="BatchSize"/>.</summary>
    public bool DropLast { get; init; }

    /// <summary>Seeds the training set's shuffle: the order of epoch e depends on (Seed, e) alone (default 0).</summary>
    public ulong Seed { get; init; }

    /// <summary>Stop when the validation loss has not improved for this many epochs (null: never stop early).</summary>
    public int? Patience { get; init; }

    /// <summary>When training ends, put back the weights of the best epoch (lowest validation loss).</summary>
    public bool RestoreBestWeights { get; init; } = true;

    /// <summary>The learning rate per epoch; null keeps the optimizer's.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>η₀ for the schedule; null takes the optimizer's learning rate when Fit starts. Set it when resuming.</summary>
    public double? BaseLearningRate { get; init; }

    /// <summary>First epoch to run, when resuming from a checkpoint saved after epoch StartEpoch − 1.</summary>
    public int StartEpoch { get; init; }

    /// <summary>Batch size for evaluation passes (no gradients are kept, so it can be large).</summary>
    public int EvaluationBatchSize { get; init; } = 1000;

    /// <summary>Cancelling stops after the current batch; the best weights are restored and the history returned.</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>Thrown when the loss becomes NaN or infinite. The best weights have been restored; the history so far is attached.</summary>
public sealed class TrainingDivergedException(string message, History history) : Exception(message)
{
    /// <summary>The epochs completed before the loss diverged; its StopReason is Diverged.</summary>
    public History History { get; } = history;
}

/// <summary>The training loop: shuffled mini-batches, per-epoch metrics, early stopping and the best checkpoint.</summary>
public static class Trainer
{
    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="train"/> and returns the per-epoch history. Each step:
    /// zero the gradients, forward, loss, backward, optimizer step. After each epoch the model is evaluated on
    /// <paramref name="validation"/> (if given) in evaluation mode. <paramref name="augment"/>, if given, edits each
    /// gathered training batch in place (e.g. <see cref="Augment.RandomShift{T}"/>) with the epoch's random source.
    /// <para><paramref name="state"/> is where training stands (epochs done, early stopping, best weights); null starts
    /// afresh. Fit updates it after every completed epoch, before <see cref="ITrainingObserver.OnResumePoint"/>, so the
    /// observer can save it; a Fit given a saved state (with the model and optimizer saved at the same point) continues
    /// bit for bit as if never stopped. A cancelled, partial epoch is reported (history, observer) but never enters the
    /// state, and is the best only when no epoch was completed before it.</para>
    /// </summary>
    /// <remarks>
    /// <paramref name="loss"/> is any <see cref="Loss{T}"/>: a <see cref="CrossEntropyLoss{T}"/> takes the data set's
    /// class labels; every other loss (MSE, Huber, …) takes its <see cref="Dataset{T}.Targets"/>. <paramref name="metric"/>
    /// is reported beside the loss (default: <see cref="Accuracy{T}"/> for labels, <see cref="MeanAbsoluteError{T}"/> for
    /// targets); the best epoch is always the one with the lowest monitored loss.
    /// <para>Cancellation: the token is checked after each batch. A cancelled epoch that ran fewer than half of the
    /// training samples is dropped (not reported). One that ran at least half is evaluated and reported, with the stop
    /// reason <see cref="StopReason.Cancelled"/>, but never enters <paramref name="state"/>; its weights are kept only
    /// when no epoch was completed before it, otherwise the best completed epoch's weights are restored.</para>
    /// </remarks>
    public static History Fit<T>(Module<T> model, Loss<T> loss, Optimizer<T> optimizer, Dataset<T> train,
        Dataset<T>? validation, TrainerOptions options, ITrainingObserver? observer = null, Action<Tensor<T>, Rng>? augment = null,
        FitState<T>? state = null, Metric<T>? metric = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        CheckLossFitsData(loss, train);
        metric ??= DefaultMetric(loss, train);
        if (train.Count == 0) throw new ArgumentException("Trainer.Fit: the training set is empty.", nameof(train));
        var loader = new DataLoader<T>(train, options.BatchSize, options.Shuffle, options.DropLast, options.Seed, augment);
        if (loader.BatchCount == 0)
            throw new ArgumentException($"Trainer.Fit: {train.Count} training samples make no batch of {options.BatchSize} with DropLast.", nameof(train));
        if (state is null)
            state = new FitState<T>(model) { NextEpoch = options.StartEpoch };
        else if (options.StartEpoch != 0 && options.StartEpoch != state.NextEpoch)
            throw new ArgumentException($"Trainer.Fit: StartEpoch {options.StartEpoch} contradicts the state, whose next epoch is {state.NextEpoch}.", nameof(options));
        var weights = model.StateDict().Select(s => s.Tensor).ToArray();
        var best = state.BestWeights;
        if (best.Count != weights.Length)
            throw new ArgumentException($"Trainer.Fit: the state keeps {best.Count} best-weight tensors, the model has {weights.Length}.", nameof(state));
        var history = state.History;
        state.BaseLearningRate ??= options.BaseLearningRate ?? optimizer.LearningRate;
        double baseLr = state.BaseLearningRate.Value;
        history.MetricName = metric.Name;
        if (state.StoppedEarly(options.Patience)) history.StopReason = StopReason.EarlyStopping;

        for (int epoch = state.NextEpoch; epoch < options.Epochs && !state.StoppedEarly(options.Patience); epoch++)
        {
            if (options.Schedule is not null) optimizer.LearningRate = options.Schedule.At(epoch, baseLr);
            observer?.OnEpochStart(epoch, loader.BatchCount, optimizer.LearningRate);
            model.Train();
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            long seen = 0;
            bool cancelled = false;
            metric.Reset();
            foreach (var batch in loader.GetEpoch(epoch))
            {
                if (options.Schedule is { PerStep: true } perStep)
                    optimizer.LearningRate = perStep.AtStep(epoch, batch.Index, loader.BatchCount, baseLr);
                optimizer.ZeroGrad();
                var output = model.Forward(batch.Features);
                double batchLoss = double.CreateChecked(Forward(loss, output, batch));
                if (!double.IsFinite(batchLoss))
                {
                    history.StopReason = StopReason.Diverged;
                    if (history.BestEpoch >= 0) Restore(weights, best);
                    throw new TrainingDivergedException(
                        $"The training loss became {batchLoss} at epoch {epoch}, batch {batch.Index} (learning rate {optimizer.LearningRate}); " +
                        (history.BestEpoch >= 0 ? $"the weights of epoch {history.BestEpoch} were restored." : "no earlier epoch to restore."), history);
                }
                model.Backward(loss.Backward());
                optimizer.Step();

                lossSum += batchLoss * batch.Size;
                seen += batch.Size;
                metric.Update(output, batch);
                observer?.OnBatchEnd(epoch, batch.Index, loader.BatchCount, lossSum / seen, seen);
                if (options.CancellationToken.IsCancellationRequested && batch.Index < loader.BatchCount - 1)
                {
                    cancelled = true;
                    break;
                }
            }
            double trainSeconds = clock.Elapsed.TotalSeconds;
            if (cancelled && seen < train.Count / 2)
            {
                history.StopReason = StopReason.Cancelled;
                break;
            }

            double trainMetric = metric.Value;
            double valLoss = double.NaN, valMetric = double.NaN;
            if (validation is not null && validation.Count > 0)
                (valLoss, valMetric) = EvaluateLoss(model, loss, validation, options.EvaluationBatchSize, metric);
            var record = new EpochRecord(epoch, lossSum / seen, trainMetric, valLoss, valMetric, optimizer.LearningRate, trainSeconds);
            double monitored = double.IsNaN(valLoss) ? record.TrainLoss : valLoss;

            if (cancelled)
            {
                // Most of an epoch: reported, but the state stays at the last completed epoch, from which a resumed run
                // redoes this one whole. Its weights are kept only when no completed epoch came before; otherwise the best
                // completed epoch's are restored, so the outcome is one an uninterrupted run also passes through.
                bool first = history.BestEpoch < 0;
                var partial = history.Clone();
                partial.Add(record);
                if (first) partial.BestEpoch = epoch;
                partial.StopReason = StopReason.Cancelled;
                observer?.OnEpochEnd(record, first);
                if (options.RestoreBestWeights && !first) Restore(weights, best);
                return partial;
            }

            bool isBest = monitored < state.BestLoss;

            history.Add(record);
            if (isBest)
            {
                state.BestLoss = monitored;
                history.BestEpoch = epoch;
                state.EpochsSinceBest = 0;
                for (int i = 0; i < weights.Length; i++) weights[i].CopyTo(best[i]);
            }
            else state.EpochsSinceBest++;
            state.NextEpoch = epoch + 1;
            observer?.OnEpochEnd(record, isBest);
            observer?.OnResumePoint(state.NextEpoch);

            if (options.CancellationToken.IsCancellationRequested)
            {
                history.StopReason = StopReason.Cancelled;
                break;
            }
            if (state.StoppedEarly(options.Patience)) history.StopReason = StopReason.EarlyStopping;
        }
        if (options.RestoreBestWeights && history.BestEpoch >= 0) Restore(weights, best);
        return history;
    }

    /// <summary>
    /// The mean <paramref name="loss"/> and <paramref name="metric"/> of <paramref name="model"/> on <paramref name="data"/>,
    /// in evaluation mode (classification or regression).
    /// </summary>
    public static (double Loss, double Metric) EvaluateLoss<T>(Module<T> model, Loss<T> loss, Dataset<T> data, int batchSize, Metric<T> metric)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLossFitsData(loss, data);
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            metric.Reset();
            double lossSum = 0;
            var loader = new DataLoader<T>(data, batchSize, shuffle: false);
            foreach (var batch in loader.GetEpoch(0))
            {
                var output = model.Forward(batch.Features);
                lossSum += double.CreateChecked(Forward(loss, output, batch)) * batch.Size;
                metric.Update(output, batch);
            }
            return (lossSum / Math.Max(1, data.Count), metric.Value);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>The model's raw outputs (N, K) for <paramref name="features"/> (N, …), in evaluation mode (regression predictions, logits).</summary>
    public static Tensor<T> PredictOutputs<T>(Module<T> model, Tensor<T> features, int batchSize = 1000) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            Tensor<T>? result = null;
            for (int start = 0; start < features.Rows; start += batchSize)
            {
                int size = Math.Min(batchSize, features.Rows - start);
                var output = model.Forward(features.RowRange(start, size));
                result ??= new Tensor<T>(features.Rows, output.RowLength);
                output.ReadOnlySpan.CopyTo(result.Span.Slice(start * result.RowLength, output.Length));
            }
            return result ?? new Tensor<T>(0, 0);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>Loss, accuracy, confusion matrix and per-class metrics of <paramref name="model"/> on <paramref name="data"/>, in evaluation mode.</summary>
    public static Metrics Evaluate<T>(Module<T> model, CrossEntropyLoss<T> loss, Dataset<T> data, int batchSize = 1000, int? numClasses = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int classes = numClasses ?? data.NumClasses;
        var confusion = new long[classes, classes];
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            double lossSum = 0;
            var loader = new DataLoader<T>(data, batchSize, shuffle: false);
            foreach (var batch in loader.GetEpoch(0))
            {
                var logits = model.Forward(batch.Features);
                if (logits.Rank != 2 || logits.Shape[1] != classes)
                    throw new ShapeMismatchException($"Trainer.Evaluate: the model gives {logits.Shape} for a batch of {batch.Size}; the data set has {classes} classes.");
                lossSum += double.CreateChecked(loss.Forward(logits, batch.Labels)) * batch.Size;
                var labels = batch.Labels;
                for (int i = 0; i < batch.Size; i++) confusion[labels[i], ArgMax(logits.Row(i))]++;
            }
            return new Metrics(lossSum / Math.Max(1, data.Count), confusion);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>The predicted class (arg-max of the output) of every sample, in evaluation mode.</summary>
    public static int[] Predict<T>(Module<T> model, Tensor<T> features, int batchSize = 1000) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var predictions = new int[features.Rows];
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            for (int start = 0; start < features.Rows; start += batchSize)
            {
                int size = Math.Min(batchSize, features.Rows - start);
                var logits = model.Forward(features.RowRange(start, size));
                for (int i = 0; i < size; i++) predictions[start + i] = ArgMax(logits.Row(i));
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        return predictions;
    }

    /// <summary>Index of the largest value (the first one on ties).</summary>
    public static int ArgMax<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>Cross-entropy takes the batch's labels; every other loss its targets.</summary>
    private static T Forward<T>(Loss<T> loss, Tensor<T> output, in Batch<T> batch) where T : unmanaged, IFloatingPointIeee754<T> =>
        batch.Targets is null && loss is CrossEntropyLoss<T> ce ? ce.Forward(output, batch.Labels) : loss.Forward(output, batch.Targets!);

    private static void CheckLossFitsData<T>(Loss<T> loss, Dataset<T> data) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (data.Targets is null && loss is not CrossEntropyLoss<T>)
            throw new ArgumentException($"Trainer: {loss} needs regression targets, but the data set holds class labels ({data.NumClasses} classes); use CrossEntropyLoss or a data set with targets.");
    }

    private static Metric<T> DefaultMetric<T>(Loss<T> loss, Dataset<T> data) where T : unmanaged, IFloatingPointIeee754<T> =>
        data.Targets is null ? new Accuracy<T>() : new MeanAbsoluteError<T>();

    private static void Restore<T>(Tensor<T>[] weights, IReadOnlyList<Tensor<T>> saved) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < weights.Length; i++) saved[i].CopyTo(weights[i]);
    }
}
