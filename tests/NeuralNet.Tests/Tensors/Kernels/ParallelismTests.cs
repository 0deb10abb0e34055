using NeuralNet.Tensors.Kernels;

namespace NeuralNet.Tests.Tensors.Kernels;

[Collection("Serial")]
public class ParallelismTests
{
    /// <summary>Counts how often each part ran; a part that runs twice or never shows up in the counts.</summary>
    private sealed class CountingWork(int maxParts) : IParallelWork
    {
        public readonly int[] Runs = new int[maxParts];

        public void Execute(int part) => Interlocked.Increment(ref Runs[part]);
    }

    [Fact]
    public async Task Back_to_back_runs_of_different_sizes_run_every_part_exactly_once()
    {
        // Runs alternate between part counts and thread counts, so helpers that wake late meet a newer, larger run:
        // a claim must never be taken against another run's size (the bug this guards against counted one part twice
        // and then waited forever).
        int saved = Parallelism.MaxThreads;
        var task = Task.Run(() =>
        {
            var works = new[] { new CountingWork(64), new CountingWork(64) };
            int[] sizes = [1, 2, 3, 5, 33, 2, 64, 7];
            for (int i = 0; i < 200_000; i++)
            {
                Parallelism.MaxThreads = 2 + i % 3;
                var work = works[i % 2];
                int parts = sizes[i % sizes.Length];
                Parallelism.Run(work, parts);
                for (int p = 0; p < work.Runs.Length; p++)
                {
                    int expected = p < parts ? 1 : 0;
                    if (work.Runs[p] != expected) return $"run {i} ({parts} parts): part {p} ran {work.Runs[p]} times";
                    work.Runs[p] = 0;
                }
            }
            return null;
        });
        try
        {
            var finished = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(120)));
            Assert.True(finished == task, "the runs did not finish within 2 minutes (a lost part?)");
            Assert.Null(await task);
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    /// <summary>Records the thread that ran each part.</summary>
    private sealed class ThreadRecordingWork(int parts) : IParallelWork
    {
        public readonly int[] Thread = new int[parts];

        public void Execute(int part)
        {
            Thread[part] = Environment.CurrentManagedThreadId;
            if (part == 0) System.Threading.Thread.SpinWait(2000); // time for a spinning helper to reach the claims
        }
    }

    [Fact]
    public void The_caller_always_runs_part_zero()
    {
        // Kernels rely on it to keep slice 0 of their data in the caller's cache from call to call.
        int saved = Parallelism.MaxThreads;
        try
        {
            foreach (int threads in new[] { 2, 3 })
            {
                Parallelism.MaxThreads = threads;
                for (int i = 0; i < 2000; i++)
                {
                    var work = new ThreadRecordingWork(threads);
                    Parallelism.Run(work, threads);
                    Assert.Equal(Environment.CurrentManagedThreadId, work.Thread[0]);
                }
            }
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [Fact]
    public void A_failing_part_is_reported_after_the_run_and_the_pool_keeps_working()
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 2;
            var error = Assert.Throws<AggregateException>(() => Parallelism.Run(new FailingWork(), 8));
            Assert.IsType<InvalidOperationException>(error.InnerException);
            var work = new CountingWork(8);
            Parallelism.Run(work, 8);
            Assert.All(work.Runs, r => Assert.Equal(1, r));
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    private sealed class FailingWork : IParallelWork
    {
        public void Execute(int part)
        {
            if (part == 3) throw new InvalidOperationException("part 3 fails");
        }
    }
}
