namespace NeuralNet.Tensors.Kernels;

/// <summary>A unit of work split into independent parts, run by <see cref="Parallelism"/>.</summary>
internal interface IParallelWork
{
    /// <summary>Runs part <paramref name="part"/> of the work. Parts never write to the same memory.</summary>
    void Execute(int part);
}

/// <summary>
/// The kernels' thread pool: a fixed set of worker threads that wait on events, so that running a
/// parallel kernel allocates nothing (unlike Parallel.For, which allocates per call).
/// Which thread runs a part does not change any result: each part's arithmetic is fixed by the part alone.
/// </summary>
public static class Parallelism
{
    private static int s_threads = Environment.ProcessorCount;
    private static Pool? s_pool;
    private static readonly object s_gate = new();
    [ThreadStatic] private static bool t_insideWork;

    /// <summary>The largest <see cref="MaxThreads"/> accepted (the pool's run tickets count helpers in 16 bits).</summary>
    public const int MaxThreadLimit = 4096;

    /// <summary>
    /// The number of threads kernels may use (default: the number of logical processors), in [1, <see cref="MaxThreadLimit"/>].
    /// Results do not depend on it: every output element is computed by one thread in a fixed order.
    /// </summary>
    public static int MaxThreads
    {
        get => s_threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxThreadLimit);
            s_threads = value;
        }
    }

    /// <summary>Runs <paramref name="parts"/> parts of <paramref name="work"/> on up to <see cref="MaxThreads"/> threads and waits for all.</summary>
    internal static void Run(IParallelWork work, int parts)
    {
        if (parts <= 0) return;
        if (parts == 1 || s_threads == 1 || t_insideWork)
        {
            for (int p = 0; p < parts; p++) work.Execute(p);
            return;
        }
        lock (s_gate)
        {
            s_pool ??= new Pool();
            t_insideWork = true;
            try
            {
                s_pool.Run(work, parts, Math.Min(s_threads, parts));
            }
            finally
            {
                t_insideWork = false;
            }
        }
    }

    // Background work: one job at a time whose parts idle helper threads take between kernel runs (a helper finishes the
    // part it holds, a few microseconds, before it joins a kernel run), and its poster finishes in Complete.
    // s_background = (generation << 40) | (parts << 20) | next unclaimed part: claims are compare-and-swaps on all three,
    // so a helper can never take a part of a newer job with the work of an older one. Posting and completing hold
    // s_backgroundGate, so a job is replaced only once all its parts are counted. A job finished by another job's Post
    // keeps its failure in s_failedElsewhere for its own Complete, recorded before the slot is cleared.
    private static long s_background;
    private static IParallelWork? s_backgroundWork;
    private static int s_backgroundDone;
    private static Exception? s_backgroundError;
    private static readonly object s_backgroundGate = new();
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IParallelWork, Exception> s_failedElsewhere = new();
    private const int PartBits = 20;
    private const long PartMask = (1L << PartBits) - 1;

    /// <summary>
    /// Offers the <paramref name="parts"/> parts of <paramref name="work"/> to helper threads that have nothing else to
    /// do; <see cref="Complete"/> runs what is left on the caller and waits for the parts in flight. One job is posted at
    /// a time: a job still posted (whoever posted it) is finished here first, and a failure of its parts is reported by
    /// its own <see cref="Complete"/>. Parts must not touch what the caller works on meanwhile.
    /// </summary>
    internal static void Post(IParallelWork work, int parts)
    {
        if (parts > PartMask) throw new ArgumentOutOfRangeException(nameof(parts), parts, $"Parallelism.Post: at most {PartMask} parts.");
        lock (s_backgroundGate)
        {
            if (s_backgroundWork is { } previous)
            {
                if (FinishHeld() is { } error) s_failedElsewhere.AddOrUpdate(previous, error);
                Volatile.Write(ref s_backgroundWork, null); // after the failure is recorded: its Complete looks there next
            }
            if (parts <= 0) return;
            long generation = (Volatile.Read(ref s_background) >> (2 * PartBits)) + 1;
            s_backgroundError = null;
            Volatile.Write(ref s_backgroundDone, 0); // no helper counts a part of the previous job any more: all were counted
            Volatile.Write(ref s_backgroundWork, work);
            Interlocked.Exchange(ref s_background, (generation << (2 * PartBits)) | ((long)parts << PartBits)); // claimable from here on
        }
    }

    /// <summary>
    /// Runs the unclaimed parts of <paramref name="work"/> and waits until all are done (nothing when it was finished
    /// already, here or by a later <see cref="Post"/>); throws if one of its parts failed.
    /// </summary>
    internal static void Complete(IParallelWork work)
    {
        Exception? error = null;
        if (Volatile.Read(ref s_backgroundWork) == work)
        {
            lock (s_backgroundGate)
            {
                if (s_backgroundWork == work)
                {
                    error = FinishHeld();
                    Volatile.Write(ref s_backgroundWork, null);
                }
            }
        }
        if (error is null && s_failedElsewhere.TryGetValue(work, out var failed))
        {
            s_failedElsewhere.Remove(work);
            error = failed;
        }
        if (error is not null) throw new AggregateException("A background kernel failed.", error);
    }

    /// <summary>With the gate held: runs what is left of the posted job and waits for its parts in flight; returns a part's failure.</summary>
    private static Exception? FinishHeld()
    {
        while (RunBackgroundPart()) { }
        int parts = (int)((Volatile.Read(ref s_background) >> PartBits) & PartMask);
        var spinner = new SpinWait();
        while (Volatile.Read(ref s_backgroundDone) != parts) spinner.SpinOnce(sleep1Threshold: -1);
        var error = s_backgroundError;
        s_backgroundError = null;
        return error;
    }

    /// <summary>Claims and runs one part of the posted job; false when none is left.</summary>
    private static bool RunBackgroundPart()
    {
        while (true)
        {
            long claim = Volatile.Read(ref s_background);
            long next = claim & PartMask, parts = (claim >> PartBits) & PartMask;
            if (next >= parts) return false;
            if (Interlocked.CompareExchange(ref s_background, claim + 1, claim) != claim) continue;
            // The job cannot be completed (nor replaced) before this part is counted, so the work read now is its own.
            var work = Volatile.Read(ref s_backgroundWork)!;
            try
            {
                work.Execute((int)next);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref s_backgroundError, e, null);
            }
            Interlocked.Increment(ref s_backgroundDone);
            return true;
        }
    }

    /// <summary>True when the posted job has an unclaimed part.</summary>
    private static bool BackgroundPending
    {
        get
        {
            long claim = Volatile.Read(ref s_background);
            return (claim & PartMask) < ((claim >> PartBits) & PartMask);
        }
    }

    /// <summary>
    /// The caller runs part 0; the other parts are claimed one at a time by whichever thread is free (the caller
    /// included), and a run ends when every part is done, not when every helper has checked in: on a busy machine a
    /// helper that the OS has not scheduled yet costs nothing, because the caller takes its parts. Claims carry the
    /// run's number, so a helper that wakes late can never take a part of a newer run by mistake.
    /// </summary>
    private sealed class Pool
    {
        /// <summary>How long a waiting thread spins before it blocks: kernels come back to back during training,
        /// and waking a blocked thread costs tens of microseconds, as long as a small matrix multiply.</summary>
        private static readonly long s_spinTicks = System.Diagnostics.Stopwatch.Frequency / 5000; // 200 µs

        private Worker[] _workers = [];
        private IParallelWork? _work;
        private int _parts;
        /// <summary>
        /// (run number &lt;&lt; 40) | (parts of the run &lt;&lt; 20) | index of the next unclaimed part: a claim is one
        /// compare-and-swap on all three, so a thread decides from one snapshot whether a part of its run is left.
        /// </summary>
        private long _claim;
        private const int IndexBits = 20;
        private const long IndexMask = (1L << IndexBits) - 1;
        private const long RunMask = (1L << (64 - 2 * IndexBits - 1)) - 1; // run numbers wrap before the sign bit

        /// <summary>The run number of a claim word.</summary>
        private static long RunOf(long claim) => (claim >> (2 * IndexBits)) & RunMask;
        private int _completed;
        private volatile bool _failed;
        /// <summary>
        /// (run number &lt;&lt; 16) | helpers of that run, published in one write so that a worker reads which run
        /// started and whether it takes part together (two separate fields could be read from two different runs).
        /// </summary>
        private long _ticket;
        private Exception? _error;
        private readonly ManualResetEventSlim _done = new(false);

        public Pool()
        {
            // ManualResetEventSlim creates its lock object the first time a wait blocks; do that now, so that no
            // later kernel call allocates.
            _done.Wait(1);
        }

        public void Run(IParallelWork work, int parts, int threads)
        {
            int helpers = threads - 1;
            if (_workers.Length < helpers)
            {
                var grown = new Worker[helpers];
                Array.Copy(_workers, grown, _workers.Length);
                for (int i = _workers.Length; i < helpers; i++) grown[i] = new Worker(this, i);
                _workers = grown;
            }
            if (parts > IndexMask) throw new ArgumentOutOfRangeException(nameof(parts), parts, $"Parallelism: at most {IndexMask} parts per run.");
            long run = (RunOf(Volatile.Read(ref _claim)) + 1) & RunMask;
            _work = work;
            _parts = parts;
            _error = null;
            _failed = false;
            _done.Reset();
            Volatile.Write(ref _completed, 0);
            // Part 0 is the caller's before any helper can claim: a kernel whose part t touches slice t of some data
            // (MatMulSplit, the optimizer's step) then finds part 0's slice in this core's cache from call to call.
            Interlocked.Exchange(ref _claim, (run << (2 * IndexBits)) | ((long)parts << IndexBits) | 1); // parts 1.. can be claimed from here on
            // Only the first `helpers` workers join this run: the pool may have grown under a larger MaxThreads.
            Interlocked.Exchange(ref _ticket, (((_ticket >> 16) + 1) << 16) | (long)helpers); // spinning workers start here
            for (int i = 0; i < helpers; i++) _workers[i].Start.Set(); // blocked ones here
            Execute(0, parts);
            Drain(run);
            if (!SpinUntil(static pool => Volatile.Read(ref pool._completed) == pool._parts, this))
            {
                // The count, not the event, says when the run is over: a Set left over from an earlier run must not end this one early.
                while (Volatile.Read(ref _completed) != parts)
                {
                    _done.Reset();
                    if (Volatile.Read(ref _completed) == parts) break;
                    _done.Wait();
                }
            }
            _work = null;
            if (_error is not null) throw new AggregateException("A parallel kernel failed.", _error);
        }

        /// <summary>Claims and runs parts of run <paramref name="run"/> until none is left (or a newer run has started).</summary>
        private void Drain(long run)
        {
            while (true)
            {
                long claim = Volatile.Read(ref _claim);
                if (RunOf(claim) != run) return;
                int part = (int)(claim & IndexMask), parts = (int)((claim >> IndexBits) & IndexMask);
                if (part >= parts) return;
                if (Interlocked.CompareExchange(ref _claim, claim + 1, claim) != claim) continue;
                Execute(part, parts);
            }
        }

        /// <summary>Runs a claimed part and counts it; the run cannot end before it is counted, so _work is this run's.</summary>
        private void Execute(int part, int parts)
        {
            if (!_failed)
            {
                try
                {
                    _work!.Execute(part);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, e, null);
                    _failed = true; // the remaining parts are claimed and counted without running
                }
            }
            if (Interlocked.Increment(ref _completed) == parts) _done.Set();
        }

        /// <summary>Spins up to <see cref="s_spinTicks"/> until <paramref name="condition"/> holds (a static lambda: nothing allocated).</summary>
        private static bool SpinUntil<TState>(Func<TState, bool> condition, TState state)
        {
            long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + s_spinTicks;
            while (!condition(state))
            {
                if (System.Diagnostics.Stopwatch.GetTimestamp() > deadline) return false;
                Thread.SpinWait(8);
            }
            return true;
        }

        private sealed class Worker
        {
            public readonly ManualResetEventSlim Start = new(false);
            private readonly Pool _pool;
            private readonly int _index;
            private long _seen;

            public Worker(Pool pool, int index)
            {
                (_pool, _index) = (pool, index);
                // Read the ticket here, not on the new thread: Run publishes a new one right after creating the workers,
                // and a worker that started late would otherwise wait for the next run while this one waits for it.
                _seen = Volatile.Read(ref pool._ticket);
                var thread = new Thread(Loop)
                {
                    IsBackground = true,
                    Name = $"NeuralNet kernel worker {index}",
                };
                thread.Start();
            }

            private void Loop()
            {
                t_insideWork = true;
                while (true)
                {
                    while (Volatile.Read(ref _pool._ticket) == _seen)
                    {
                        // Between kernel runs, a part of the background job (if this helper is within the thread count).
                        if (_index < s_threads - 1 && RunBackgroundPart()) continue;
                        if (!SpinUntil(static w => Volatile.Read(ref w._pool._ticket) != w._seen || (w._index < s_threads - 1 && BackgroundPending), this))
                        {
                            Start.Wait();
                            Start.Reset();
                        }
                    }
                    _seen = Volatile.Read(ref _pool._ticket);
                    if (_index < (int)(_seen & 0xFFFF)) _pool.Drain(RunOf(Volatile.Read(ref _pool._claim)));
                }
            }
        }
    }
}
