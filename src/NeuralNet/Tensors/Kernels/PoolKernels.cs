using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// 2-D max and average pooling over planes: x is P planes of (H, W) (P = N·C of an NCHW tensor), y is P planes of
/// (Ho, Wo) with Ho = (H − k)/s + 1 (no padding, floor), Wo likewise. Planes are independent and run in parallel
/// blocks; every output is written by one thread, so results do not depend on the thread count. Nothing is allocated
/// once each thread has its job object.
/// </summary>
public static unsafe class PoolKernels
{
    private enum Kind { MaxForward, MaxBackward, AvgForward, AvgBackward }

    /// <summary>
    /// y = max over each k×k window; <paramref name="argmax"/> (y's length) gets the flat index in its input plane of
    /// the element that won. Ties go to the first maximum in row-major window order; a NaN wins its window (the last
    /// one, as PyTorch).
    /// </summary>
    public static void MaxPool2d<T>(ReadOnlySpan<T> x, int planes, int height, int width, int kernelSize, int stride, Span<T> y, Span<int> argmax)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (oh, ow) = Check(nameof(MaxPool2d), x.Length, y.Length, planes, height, width, kernelSize, stride);
        Elementwise.CheckLengths(y.Length, argmax.Length, nameof(MaxPool2d));
        fixed (T* px = x, py = y)
        fixed (int* parg = argmax)
        {
            var job = Job<T>.ForThisThread;
            job.Set(Kind.MaxForward, height, width, oh, ow, kernelSize, stride);
            job.In = px;
            job.Out = py;
            job.ArgMax = parg;
            job.Start(planes, x.Length);
        }
    }

    /// <summary>dx = 0, then dx[a] += dy for every output and its arg-max a (overlapping windows collect several).</summary>
    public static void MaxPool2dBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<int> argmax, int planes, int height, int width, int kernelSize, int stride, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (oh, ow) = Check(nameof(MaxPool2dBackward), dx.Length, dy.Length, planes, height, width, kernelSize, stride);
        Elementwise.CheckLengths(dy.Length, argmax.Length, nameof(MaxPool2dBackward));
        fixed (T* pdy = dy, pdx = dx)
        fixed (int* parg = argmax)
        {
            var job = Job<T>.ForThisThread;
            job.Set(Kind.MaxBackward, height, width, oh, ow, kernelSize, stride);
            job.Out = pdy;
            job.In = pdx;
            job.ArgMax = parg;
            job.Start(planes, dx.Length);
        }
    }

    /// <summary>y = (1/k²)·Σ over each k×k window.</summary>
    public static void AvgPool2d<T>(ReadOnlySpan<T> x, int planes, int height, int width, int kernelSize, int stride, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (oh, ow) = Check(nameof(AvgPool2d), x.Length, y.Length, planes, height, width, kernelSize, stride);
        fixed (T* px = x, py = y)
        {
            var job = Job<T>.ForThisThread;
            job.Set(Kind.AvgForward, height, width, oh, ow, kernelSize, stride);
            job.In = px;
            job.Out = py;
            job.Start(planes, x.Length);
        }
    }

    /// <summary>dx = 0, then dx += dy/k² over each output's window.</summary>
    public static void AvgPool2dBackward<T>(ReadOnlySpan<T> dy, int planes, int height, int width, int kernelSize, int stride, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (oh, ow) = Check(nameof(AvgPool2dBackward), dx.Length, dy.Length, planes, height, width, kernelSize, stride);
        fixed (T* pdy = dy, pdx = dx)
        {
            var job = Job<T>.ForThisThread;
            job.Set(Kind.AvgBackward, height, width, oh, ow, kernelSize, stride);
            job.Out = pdy;
            job.In = pdx;
            job.Start(planes, dx.Length);
        }
    }

    /// <summary>Checks the sizes; returns (Ho, Wo).</summary>
    private static (int Oh, int Ow) Check(string operation, int inLength, int outLength, int planes, int height, int width, int kernelSize, int stride)
    {
        int oh = Im2Col.OutputSize(height, kernelSize, stride, 0), ow = Im2Col.OutputSize(width, kernelSize, stride, 0);
        if (kernelSize < 1 || stride < 1 || oh < 1 || ow < 1 || planes < 0)
            throw new ArgumentException($"PoolKernels.{operation}: a {kernelSize}×{kernelSize} window with stride {stride} does not fit a ({height}, {width}) plane.");
        if (inLength != planes * height * width || outLength != planes * oh * ow)
            throw new ShapeMismatchException($"PoolKernels.{operation}: {planes} planes of ({height}, {width}) → ({oh}, {ow}) need {planes * height * width} and {planes * oh * ow} elements, got {inLength} and {outLength}.");
        return (oh, ow);
    }

    /// <summary>
    /// One max-pooled plane without NaNs. Which element wins is data-dependent, so a branch per element would
    /// mispredict half the time (measured 4× slower); the index is selected with an integer mask and the value with MaxNative.
    /// </summary>
    private static void MaxPlane<T>(ReadOnlySpan<T> x, Span<T> y, Span<int> arg, int w, int oh, int ow, int k, int s)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < oh; r++)
        {
            int c = 0;
            if (typeof(T) == typeof(float) && k == 2 && s == 2 && Simd.Use256 && Avx2.IsSupported)
                c = MaxRow2x2(x, y, arg, w, ow, r);
            for (; c < ow; c++)
            {
                int top = r * s * w + c * s, best = top;
                T max = x[top];
                for (int i = 0; i < k; i++)
                {
                    int row = top + i * w;
                    for (int j = 0; j < k; j++)
                    {
                        T v = x[row + j];
                        int take = -(v > max ? 1 : 0); // all ones when v is a new maximum: ties keep the first
                        best = (best & ~take) | ((row + j) & take);
                        max = T.MaxNative(max, v);
                    }
                }
                y[r * ow + c] = max;
                arg[r * ow + c] = best;
            }
        }
    }

    /// <summary>
    /// The outputs of row r for the common 2×2, stride-2 window, eight at a time (the last few with masked loads and stores):
    /// the two input rows are split into even and odd columns, and the four candidates are compared in the window's
    /// row-major order with a strict "greater", so ties keep the first, as the scalar loop does. Returns Wo.
    /// </summary>
    private static int MaxRow2x2<T>(ReadOnlySpan<T> x, Span<T> y, Span<int> arg, int w, int ow, int r)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = 0;
        fixed (T* px = x, py = y)
        fixed (int* parg = arg)
        {
            float* top = (float*)px + 2L * r * w, bottom = top + w;
            var lanes = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
            var one = Vector256.Create(1);
            var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            for (; c < ow; c += 8)
            {
                int count = Math.Min(8, ow - c);
                float* t = top + 2 * c, b = bottom + 2 * c;
                Vector256<float> a0, a1, b0, b1;
                if (count == 8)
                {
                    a0 = Avx.LoadVector256(t);
                    a1 = Avx.LoadVector256(t + 8);
                    b0 = Avx.LoadVector256(b);
                    b1 = Avx.LoadVector256(b + 8);
                }
                else
                {
                    // Fewer than 8 outputs left (all of them when Wo < 8): masked loads read only their 2·count columns,
                    // so nothing past the row is touched; the other lanes are zero and are not stored.
                    var low = Vector256.LessThan(lane, Vector256.Create(2 * count)).AsSingle();
                    var high = Vector256.LessThan(lane, Vector256.Create(2 * count - 8)).AsSingle();
                    a0 = Avx.MaskLoad(t, low);
                    a1 = Avx.MaskLoad(t + 8, high);
                    b0 = Avx.MaskLoad(b, low);
                    b1 = Avx.MaskLoad(b + 8, high);
                }
                // Even and odd columns of each row, in order: shuffle within 128-bit lanes, then put the 64-bit pairs in place.
                var ae = Avx2.Permute4x64(Avx.Shuffle(a0, a1, 0x88).AsDouble(), 0xD8).AsSingle();
                var ao = Avx2.Permute4x64(Avx.Shuffle(a0, a1, 0xDD).AsDouble(), 0xD8).AsSingle();
                var be = Avx2.Permute4x64(Avx.Shuffle(b0, b1, 0x88).AsDouble(), 0xD8).AsSingle();
                var bo = Avx2.Permute4x64(Avx.Shuffle(b0, b1, 0xDD).AsDouble(), 0xD8).AsSingle();
                var max = ae;
                var which = Vector256<int>.Zero; // 0: (0,0), 1: (0,1), 2: (1,0), 3: (1,1)
                var take = Vector256.GreaterThan(ao, max);
                max = Vector256.ConditionalSelect(take, ao, max);
                which = Vector256.ConditionalSelect(take.AsInt32(), one, which);
                take = Vector256.GreaterThan(be, max);
                max = Vector256.ConditionalSelect(take, be, max);
                which = Vector256.ConditionalSelect(take.AsInt32(), Vector256.Create(2), which);
                take = Vector256.GreaterThan(bo, max);
                max = Vector256.ConditionalSelect(take, bo, max);
                which = Vector256.ConditionalSelect(take.AsInt32(), Vector256.Create(3), which);
                // Flat index in the plane: the window's top-left (2r·w + 2c + 2·lane), plus column (which & 1), plus row (which >> 1)·w.
                var index = Vector256.Create(2 * r * w + 2 * c) + lanes + (which & one) + Vector256.ShiftRightLogical(which, 1) * Vector256.Create(w);
                if (count == 8)
                {
                    max.Store((float*)py + r * ow + c);
                    index.Store(parg + r * ow + c);
                }
                else
                {
                    var keep = Vector256.LessThan(lane, Vector256.Create(count));
                    Avx.MaskStore((float*)py + r * ow + c, keep.AsSingle(), max);
                    Avx2.MaskStore(parg + r * ow + c, keep, index);
                }
            }
        }
        return c;
    }

    /// <summary>One max-pooled plane that holds a NaN: a NaN wins its window (the last one, as PyTorch).</summary>
    private static void MaxPlaneWithNaN<T>(ReadOnlySpan<T> x, Span<T> y, Span<int> arg, int w, int oh, int ow, int k, int s)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < oh; r++)
        {
            for (int c = 0; c < ow; c++)
            {
                int top = r * s * w + c * s, best = top;
                T max = x[top];
                for (int i = 0; i < k; i++)
                {
                    for (int j = 0; j < k; j++)
                    {
                        T v = x[top + i * w + j];
                        if (v > max || T.IsNaN(v)) (max, best) = (v, top + i * w + j);
                    }
                }
                y[r * ow + c] = max;
                arg[r * ow + c] = best;
            }
        }
    }

    private static void AvgPlane<T>(ReadOnlySpan<T> x, Span<T> y, int w, int oh, int ow, int k, int s)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T scale = T.One / T.CreateChecked(k * k);
        for (int r = 0; r < oh; r++)
        {
            for (int c = 0; c < ow; c++)
            {
                int top = r * s * w + c * s;
                T sum = T.Zero;
                for (int i = 0; i < k; i++)
                {
                    int row = top + i * w;
                    for (int j = 0; j < k; j++) sum += x[row + j];
                }
                y[r * ow + c] = sum * scale;
            }
        }
    }

    private static void AvgPlaneBackward<T>(ReadOnlySpan<T> dy, Span<T> dx, int w, int oh, int ow, int k, int s)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T scale = T.One / T.CreateChecked(k * k);
        dx.Clear();
        for (int r = 0; r < oh; r++)
        {
            for (int c = 0; c < ow; c++)
            {
                int top = r * s * w + c * s;
                T g = dy[r * ow + c] * scale;
                for (int i = 0; i < k; i++)
                {
                    int row = top + i * w;
                    for (int j = 0; j < k; j++) dx[row + j] += g;
                }
            }
        }
    }

    /// <summary>
    /// One plane of max pooling's backward: dx = 0, then dx[a] += dy for each output in order. (Writing each 2×2 window
    /// whole from vector compares measured 2–4× slower than this clear and scalar scatter: the scatter touches a quarter
    /// of the plane, and per-value selects branch on data.)
    /// </summary>
    internal static void MaxPlaneBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<int> arg, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        dx.Clear();
        for (int o = 0; o < dy.Length; o++) dx[arg[o]] += dy[o];
    }

    /// <summary>One call's pointers and sizes, shared by the threads that run its plane blocks; one per calling thread.</summary>
    private sealed class Job<T> : PlaneBlocks where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic] private static Job<T>? t_job;

        private Kind _kind;
        private int _h, _w, _oh, _ow, _k, _s, _planes;

        public static Job<T> ForThisThread => t_job ??= new Job<T>();

        /// <summary>The input-side planes (x, or dx) and the output-side planes (y, or dy).</summary>
        public T* In, Out;
        public int* ArgMax;

        public void Set(Kind kind, int h, int w, int oh, int ow, int k, int s)
        {
            (_kind, _h, _w, _oh, _ow, _k, _s) = (kind, h, w, oh, ow, k, s);
            ArgMax = null;
        }

        public void Start(int planes, int elements)
        {
            _planes = planes;
            Run(planes, elements);
        }

        protected override void Execute(int first, int count)
        {
            int inPlane = _h * _w, outPlane = _oh * _ow;
            var input = new Span<T>(In, _planes * inPlane);
            var output = new Span<T>(Out, _planes * outPlane);
            var argmax = new Span<int>(ArgMax, ArgMax is null ? 0 : _planes * outPlane);
            for (int plane = first; plane < first + count; plane++)
            {
                Span<T> x = input.Slice(plane * inPlane, inPlane), y = output.Slice(plane * outPlane, outPlane);
                switch (_kind)
                {
                    case Kind.MaxForward:
                    {
                        Span<int> arg = argmax.Slice(plane * outPlane, outPlane);
                        // Max is NaN when any element is: such (rare) planes take the exact NaN-aware loop.
                        if (T.IsNaN(Elementwise.Max<T>(x))) MaxPlaneWithNaN<T>(x, y, arg, _w, _oh, _ow, _k, _s);
                        else MaxPlane<T>(x, y, arg, _w, _oh, _ow, _k, _s);
                        break;
                    }
                    case Kind.MaxBackward:
                        MaxPlaneBackward<T>(y, argmax.Slice(plane * outPlane, outPlane), x);
                        break;
                    case Kind.AvgForward:
                        AvgPlane<T>(x, y, _w, _oh, _ow, _k, _s);
                        break;
                    default:
                        AvgPlaneBackward<T>(y, x, _w, _oh, _ow, _k, _s);
                        break;
                }
            }
        }
    }
}
