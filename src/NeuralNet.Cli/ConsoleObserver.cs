using System.Diagnostics;
using System.Globalization;
using NeuralNet.Training;
using Spectre.Console;

namespace NeuralNet.Cli;

/// <summary>
/// Draws training progress: a live bar per epoch (batches, running loss, images per second) that turns into the
/// epoch's summary row. Training runs on a worker thread; the bars are redrawn from the console thread.
/// </summary>
internal sealed class ConsoleObserver : ITrainingObserver
{
    private readonly int _epochs;
    private readonly Action<EpochRecord, bool>? _onEpochEnd;
    private readonly Action<int>? _onResumePoint;
    private readonly Stopwatch _clock = new();
    private volatile int _epoch = -1;
    private volatile int _batch;
    private volatile int _batches = 1;
    private double _runningLoss;
    private long _samples;
    private readonly Queue<(EpochRecord Record, bool IsBest)> _finished = new();

    public ConsoleObserver(int epochs, Action<EpochRecord, bool>? onEpochEnd, Action<int>? onResumePoint = null) =>
        (_epochs, _onEpochEnd, _onResumePoint) = (epochs, onEpochEnd, onResumePoint);

    public void OnEpochStart(int epoch, int batches, double learningRate)
    {
        _batches = batches;
        _batch = 0;
        Interlocked.Exchange(ref _samples, 0);
        _clock.Restart();
        _epoch = epoch;
    }

    public void OnBatchEnd(int epoch, int batch, int batches, double runningLoss, long samplesSoFar)
    {
        Volatile.Write(ref _runningLoss, runningLoss);
        Interlocked.Exchange(ref _samples, samplesSoFar);
        _batch = batch + 1;
    }

    public void OnEpochEnd(EpochRecord record, bool isBest)
    {
        _onEpochEnd?.Invoke(record, isBest);
        lock (_finished) _finished.Enqueue((record, isBest));
    }

    public void OnResumePoint(int nextEpoch) => _onResumePoint?.Invoke(nextEpoch);

    public static string Summary(EpochRecord r, int epochs, bool isBest) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {r.Epoch + 1,3}/{epochs}  train loss {r.TrainLoss:F4} acc {r.TrainAccuracy:P2}  val loss {r.ValidationLoss:F4} acc {r.ValidationAccuracy:P2}  {r.Seconds:F2}s{(isBest ? "  *best" : "")}");

    /// <summary>
    /// Runs <paramref name="train"/> on a worker thread, drawing progress until it finishes; returns its result. An
    /// exception of <paramref name="train"/> (a checkpoint that could not be written, say) is rethrown as it was, not
    /// wrapped, so that the command reports it in one line.
    /// </summary>
    public T Run<T>(Func<T> train, bool quiet)
    {
        try
        {
            return RunAndDraw(train, quiet);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException!);
            throw; // not reached
        }
    }

    private T RunAndDraw<T>(Func<T> train, bool quiet)
    {
        var task = Task.Factory.StartNew(train, TaskCreationOptions.LongRunning);
        if (quiet || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            while (!task.Wait(200))
                if (!quiet) Drain(r => Console.WriteLine(Summary(r.Record, _epochs, r.IsBest)));
            if (!quiet) Drain(r => Console.WriteLine(Summary(r.Record, _epochs, r.IsBest)));
            return task.GetAwaiter().GetResult();
        }

        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                ProgressTask? current = null;
                int shown = -1;
                while (true)
                {
                    bool done = task.Wait(100);
                    Drain(r =>
                    {
                        if (current is not null && shown == r.Record.Epoch)
                        {
                            current.Description = Markup.Escape(Summary(r.Record, _epochs, r.IsBest));
                            current.Value = current.MaxValue;
                            current.StopTask();
                            current = null;
                        }
                    });
                    int epoch = _epoch;
                    if (epoch >= 0 && epoch != shown && current is null)
                    {
                        current = ctx.AddTask($"epoch {epoch + 1}/{_epochs}", maxValue: _batches);
                        shown = epoch;
                    }
                    if (current is not null)
                    {
                        current.Value = _batch;
                        double seconds = Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
                        current.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                            $"epoch {epoch + 1,3}/{_epochs}  batch {_batch}/{_batches}  loss {Volatile.Read(ref _runningLoss):F4}  {Interlocked.Read(ref _samples) / seconds:N0} img/s"));
                    }
                    if (done) break;
                }
                current?.StopTask();
            });
        return task.GetAwaiter().GetResult();
    }

    private void Drain(Action<(EpochRecord Record, bool IsBest)> show)
    {
        while (true)
        {
            (EpochRecord, bool) item;
            lock (_finished)
            {
                if (_finished.Count == 0) return;
                item = _finished.Dequeue();
            }
            show(item);
        }
    }
}
