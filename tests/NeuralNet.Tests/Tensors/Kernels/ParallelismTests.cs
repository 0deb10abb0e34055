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
            await NoFailureWithinTwoMinutes(task);
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [Fact]
    public async Task Background_jobs_run_every_part_exactly_once_beside_kernel_runs()
    {
        // A job is posted, kernel runs come and go while helpers take its parts between them, then the caller completes it:
        // every part once, whoever ran it, and a newer job's claims never run an older job's work.
        int saved = Parallelism.MaxThreads;
        var task = Task.Run(() =>
        {
            var jobs = new[] { new SlowCountingWork(64), new SlowCountingWork(64), new SlowCountingWork(64) };
            var kernel = new CountingWork(8);
            int[] sizes = [1, 3, 64, 2, 17, 40];
            int caller = Environment.CurrentManagedThreadId;
            long byHelpers = 0;
            for (int i = 0; i < 20_000; i++)
            {
                Parallelism.MaxThreads = 2 + i % 2;
                var job = jobs[i % 3];
                int parts = sizes[i % sizes.Length];
                Parallelism.Post(job, parts);
                for (int k = 0; k < i % 3; k++)
                {
                    Parallelism.Run(kernel, 8);
                    Array.Clear(kernel.Runs);
                }
                if (i % 5 == 0) Thread.SpinWait(200); // time for helpers to take parts
                Parallelism.Complete(job);
                for (int p = 0; p < job.Runs.Length; p++)
                {
                    int expected = p < parts ? 1 : 0;
                    if (job.Runs[p] != expected) return $"job {i} ({parts} parts): part {p} ran {job.Runs[p]} times";
                    job.Runs[p] = 0;
                    if (p < parts && job.Thread[p] != caller) byHelpers++;
                }
            }
            return byHelpers > 0 ? null : "no helper ever took a part: the test did not exercise the background path";
        });
        try
        {
            await NoFailureWithinTwoMinutes(task);
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [Fact]
    public async Task Two_threads_posting_jobs_at_once_each_get_every_part_run_exactly_once()
    {
        // The slot holds one job: a thread that posts while the other's job is posted completes that one first.
        var threads = Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            var job = new SlowCountingWork(40);
            var kernel = new CountingWork(8);
            for (int i = 0; i < 5_000; i++)
            {
                int parts = 1 + (i * 7 + t * 13) % 40;
                Parallelism.Post(job, parts);
                if (i % 2 == t) Parallelism.Run(kernel, 8);
                Parallelism.Complete(job);
                for (int p = 0; p < job.Runs.Length; p++)
                {
                    int expected = p < parts ? 1 : 0;
                    if (job.Runs[p] != expected) return $"thread {t}, job {i} ({parts} parts): part {p} ran {job.Runs[p]} times";
                    job.Runs[p] = 0;
                }
            }
            return null;
        })).ToArray();
        foreach (var t in threads) await NoFailureWithinTwoMinutes(t);
    }

    [Fact]
    public void A_job_another_thread_completed_reports_its_failure_to_its_own_Complete()
    {
        var failing = new FailingWork();
        Parallelism.Post(failing, 5);
        var other = new CountingWork(3);
        var thread = new Thread(() =>
        {
            Parallelism.Post(other, 3); // finishes the failing job first, then posts its own
            Parallelism.Complete(other);
        });
        thread.Start();
        thread.Join();
        Assert.Equal([1, 1, 1], other.Runs);
        var e = Assert.Throws<AggregateException>(() => Parallelism.Complete(failing));
        Assert.Equal("part 3 fails", e.InnerException!.Message);
        Parallelism.Complete(failing); // reported once
    }

    [Fact]
    public void Two_jobs_of_one_thread_each_report_their_own_failure()
    {
        // Two loaders on one thread: the second job's Post finishes the first, whose failure is the first's to report.
        var failing = new FailingWork();
        var other = new CountingWork(2);
        Parallelism.Post(failing, 5);
        Parallelism.Post(other, 2);
        Parallelism.Complete(other);
        Assert.Equal([1, 1], other.Runs);
        var e = Assert.Throws<AggregateException>(() => Parallelism.Complete(failing));
        Assert.Equal("part 3 fails", e.InnerException!.Message);
    }

    [Fact]
    public void A_failing_background_part_surfaces_in_Complete_and_the_next_job_runs()
    {
        var failing = new FailingWork();
        Parallelism.Post(failing, 5);
        var e = Assert.Throws<AggregateException>(() => Parallelism.Complete(failing));
        Assert.Equal("part 3 fails", e.InnerException!.Message);
        var next = new CountingWork(4);
        Parallelism.Post(next, 4);
        Parallelism.Complete(next);
        Assert.Equal([1, 1, 1, 1], next.Runs);
        Parallelism.Complete(next); // a second Complete of a finished job does nothing
        Assert.Equal([1, 1, 1, 1], next.Runs);
    }

    /// <summary>Waits for <paramref name="task"/>, which returns null or what went wrong; a lost part would make it hang.</summary>
    private static async Task NoFailureWithinTwoMinutes(Task<string?> task)
    {
        var finished = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(120)));
        Assert.True(finished == task, "the runs did not finish within 2 minutes (a lost part?)");
        Assert.Null(await task);
    }

    /// <summary>Counts runs per part like <see cref="CountingWork"/>, each part taking a moment, and records who ran it.</summary>
    private sealed class SlowCountingWork(int maxParts) : IParallelWork
    {
        public readonly int[] Runs = new int[maxParts];
        public readonly int[] Thread = new int[maxParts];

        public void Execute(int part)
        {
            System.Threading.Thread.SpinWait(100);
            Thread[part] = Environment.CurrentManagedThreadId;
            Interlocked.Increment(ref Runs[part]);
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
