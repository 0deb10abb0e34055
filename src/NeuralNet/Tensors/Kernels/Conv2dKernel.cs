using System.Numerics;
using System.Runtime.CompilerServices;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// A 2-D convolution (square kernel k, stride s, zero padding p) over a batch, as GEMMs whose B panels are packed
/// straight from zero-padded images (implicit im2col; no column matrix is formed):
/// <code>
///   forward   y[n] (O, P)  = W (O, K) · cols(x[n]) (K, P)                 K = C·k·k, P = Ho·Wo
///   weights   dW (O, K)   += Σₙ G[n] (O, P) · cols(x[n])ᵀ (P, K)          one GEMM per chunk of samples, inner dim n·P
///   input     dx[n] (C, H·W) = Wrot (C, O·k·k) · cols(pad(G[n], k−1−p))   stride 1, "same" padding: the full convolution with the
///                                                                         kernel turned 180°, Wrot[c,(o,i,j)] = W[o,c,k−1−i,k−1−j]
/// </code>
/// Other strides and paddings take dcols = Wᵀ·G and col2im. Where they apply (float, 256/512-bit, stride 1), faster
/// forms replace the packed GEMMs, with the same bytes where the summation order is the same: a small window's forward
/// (<see cref="Conv2dSmallWindow"/>) and weight gradient (<see cref="Conv2dWeightGradient"/>), the forward and input
/// gradient with the image read in place (<see cref="Conv2dDirect"/>), and the weight gradient likewise
/// (<see cref="Conv2dDirectWeightGradient"/>, summed per sample). The batch is cut into at most 32 fixed chunks run in parallel; each
/// GEMM runs on one thread, and the per-chunk weight-gradient sums are added in chunk order, so the result does not
/// depend on the thread count. Buffers are kept between calls and regrown only when the batch shape grows.
/// </summary>
internal sealed unsafe class Conv2dKernel<T> : IParallelWork where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int MaxChunks = 32;

    private readonly int _c, _o, _k, _s, _p;
    private int _n, _h, _w, _oh, _ow, _hp, _wp, _chunk, _chunks;
    private bool _direct;       // dx as a full convolution (stride 1, "same" padding)
    private int _hg, _wg;       // padded gradient plane for the direct dx
    private bool _geometryChanged; // the image size changed since the buffers were last sized

    private T[] _xpad = [];     // (N, C, Hp, Wp), written by Forward, read by Backward
    private int[] _kOff = [];   // (C·k·k): c·Hp·Wp + i·Wp + j
    private int[] _qOff = [];   // (P): oh·s·Wp + ow·s
    private int[] _kOffDx = []; // (O·k·k): o·Hg·Wg + i·Wg + j
    private int[] _qOffDx = []; // (H·W): h·Wg + w
    private T[] _gpad = [];     // per chunk (O, Hg, Wg)
    private T[] _wrot = [];     // (C, O·k·k)
    private T[] _cols = [];     // per chunk (K, P): dcols, when dx is not the direct convolution
    private T[] _dw = [];       // per chunk (O, K)
    private readonly PatchRuns _runs = new();   // of _qOff, stride 1
    private readonly PatchRuns _runsDx = new(); // of _qOffDx
    private T[] _db = [];       // per chunk (O)
    private float[] _packedW = [];   // the weights packed once per call for the direct form (Conv2dDirect)
    private float[] _grid = [];      // per chunk: the direct form's intermediate Tᵀ (positions × channels)
    private int _gridLength;         // floats of _grid per chunk in the current call
    private bool _smallForward;      // the current forward runs Conv2dSmallWindow
    private bool _directForward, _directDx; // the current call runs Conv2dDirect
    private bool _directDw;          // the current call runs Conv2dDirectWeightGradient
    private float[] _dwAcc = [];     // per chunk: its dWᵀ accumulator
    private float[] _gT = [];        // per chunk: a sample's Gᵀ strips (64-byte aligned inside)
    private int _dwAccLength, _gTLength;

    // The current call.
    private bool _forward, _hasBias, _wantDx;
    private SimdLevel _level;
    private T* _x, _y, _weight, _bias, _g, _dx;

    public Conv2dKernel(int inChannels, int outChannels, int kernelSize, int stride, int padding) =>
        (_c, _o, _k, _s, _p) = (inChannels, outChannels, kernelSize, stride, padding);

    private int FieldSize => _c * _k * _k;

    /// <summary>y (N, O, Ho, Wo) = conv(x (N, C, H, W), weight (O, C, k, k)) + bias (O, or empty).</summary>
    public void Forward(ReadOnlySpan<T> x, int n, int h, int w, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, Span<T> y)
    {
        Prepare(n, h, w);
        fixed (T* px = x)
        fixed (T* pw = weight)
        fixed (T* pb = bias)
        fixed (T* py = y)
        {
            _x = px; _weight = pw; _bias = pb; _y = py;
            (_hasBias, _forward, _level) = (!bias.IsEmpty, true, Simd.Active);
            _smallForward = UseDirect && Conv2dSmallWindow.Applies<T>(_level, _s, FieldSize, _o, _ow);
            _directForward = !_smallForward && UseDirect && Conv2dDirect.Applies<T>(_level, _s, _o, FieldSize);
            if (_directForward) PrepareDirect(pw, _o, FieldSize, _oh * _ow);
            else if (!_smallForward) BuildRuns(_runs, _qOff.AsSpan(0, _oh * _ow));
            Parallelism.Run(this, _chunks);
        }
    }

    /// <summary>
    /// dW += Σₙ G[n]·cols(x[n])ᵀ, db += Σ G over n and positions, and, when <paramref name="dx"/> is not empty,
    /// dx = the gradient for the input of the last <see cref="Forward"/> (whose padded input is reused).
    /// </summary>
    public void Backward(ReadOnlySpan<T> gradOutput, ReadOnlySpan<T> weight, Span<T> weightGrad, Span<T> biasGrad, Span<T> dx)
    {
        if (_direct && !dx.IsEmpty) RotateWeight(weight);
        fixed (T* pg = gradOutput)
        fixed (T* pw = weight)
        fixed (T* pdx = dx)
        {
            _g = pg; _weight = pw; _dx = pdx;
            (_wantDx, _hasBias, _forward, _level) = (!dx.IsEmpty, !biasGrad.IsEmpty, false, Simd.Active);
            _directDx = _direct && _wantDx && UseDirect && Conv2dDirect.Applies<T>(_level, 1, _c, _o * _k * _k);
            if (_directDx)
            {
                fixed (T* wrot = _wrot) PrepareDirect(wrot, _c, _o * _k * _k, _h * _w);
            }
            else if (_direct && _wantDx) BuildRuns(_runsDx, _qOffDx.AsSpan(0, _h * _w));
            _directDw = UseDirect && !Conv2dWeightGradient.Applies<T>(_level, _s, FieldSize, _ow) && Conv2dDirectWeightGradient.Applies<T>(_level, _s, _o);
            if (_directDw)
            {
                _dwAccLength = checked((int)Conv2dDirectWeightGradient.AccumulatorLength(_level, FieldSize, _o));
                _gTLength = checked((int)Conv2dDirectWeightGradient.PackedLength(_level, _o, _oh * _ow) + 16);
                if (_dwAcc.Length < (long)_chunks * _dwAccLength) _dwAcc = GC.AllocateArray<float>(checked(_chunks * _dwAccLength), pinned: true);
                if (_gT.Length < (long)_chunks * _gTLength) _gT = GC.AllocateArray<float>(checked(_chunks * _gTLength), pinned: true);
            }
            Parallelism.Run(this, _chunks);
        }
        // Partial sums in chunk order.
        int wLen = _o * FieldSize;
        for (int c = 0; c < _chunks; c++) Elementwise.Add(weightGrad, _dw.AsSpan(c * wLen, wLen), weightGrad);
        if (_hasBias)
        {
            for (int c = 0; c < _chunks; c++) Elementwise.Add(biasGrad, _db.AsSpan(c * _o, _o), biasGrad);
        }
    }

    public void Execute(int chunk)
    {
        int start = chunk * _chunk, end = Math.Min(_n, start + _chunk);
        if (_forward) ForwardChunk(start, end);
        else BackwardChunk(chunk, start, end);
    }

    /// <summary>False makes every call take the packed GEMM (the tests compare the two forms).</summary>
    internal bool UseDirect { get; set; } = true;

    /// <summary>Packs the A (M, K) of a direct-form call once and sizes the per-chunk grids.</summary>
    private void PrepareDirect(T* a, int m, int k, int positions)
    {
        if (_packedW.Length < Conv2dDirect.PackedLength(_level, m, k))
            _packedW = GC.AllocateArray<float>(checked((int)Conv2dDirect.PackedLength(_level, m, k)), pinned: true);
        fixed (float* packed = _packedW) Conv2dDirect.PackWeights(_level, (float*)a, m, k, packed);
        _gridLength = checked((int)Conv2dDirect.GridLength(_level, m, positions));
        if (_grid.Length < (long)_chunks * _gridLength) _grid = GC.AllocateArray<float>(checked(_chunks * _gridLength), pinned: true);
    }

    private void Prepare(int n, int h, int w)
    {
        if (n == _n && h == _h && w == _w) return;
        _geometryChanged = h != _h || w != _w;
        (_n, _h, _w) = (n, h, w);
        _oh = Im2Col.OutputSize(h, _k, _s, _p);
        _ow = Im2Col.OutputSize(w, _k, _s, _p);
        (_hp, _wp) = (h + 2 * _p, w + 2 * _p);
        _chunk = Math.Max(1, (n + MaxChunks - 1) / MaxChunks);
        _chunks = (n + _chunk - 1) / _chunk;
        // The full convolution reads the gradient padded by k − 1 − p and does C·H·W·O·k² multiply-adds; dcols = Wᵀ·G
        // does C·k²·Ho·Wo·O plus a col2im pass. Equal work for "same" padding (H·W = Ho·Wo), where the direct form
        // saves the col2im pass; with less padding the direct form multiplies mostly zeros (5×5 without padding on
        // 8×8 outputs: 2.25× the work), so dcols is used.
        _direct = _s == 1 && _p <= _k - 1 && h * w <= _oh * _ow;
        _runs.Reset();
        _runsDx.Reset();

        // Buffers only grow: a smaller batch (an evaluation's last) reuses them, and their zero borders stay zero
        // because only interiors are ever written.
        Grow(ref _xpad, (long)n * _c * _hp * _wp, zero: true);
        Grow(ref _kOff, FieldSize);
        for (int c = 0, r = 0; c < _c; c++)
            for (int i = 0; i < _k; i++)
                for (int j = 0; j < _k; j++) _kOff[r++] = c * _hp * _wp + i * _wp + j;
        Grow(ref _qOff, _oh * _ow);
        for (int oh = 0, q = 0; oh < _oh; oh++)
            for (int ow = 0; ow < _ow; ow++) _qOff[q++] = oh * _s * _wp + ow * _s;
        Grow(ref _dw, (long)_chunks * _o * FieldSize);
        Grow(ref _db, (long)_chunks * _o);
        if (_direct)
        {
            int pg = _k - 1 - _p;
            (_hg, _wg) = (_oh + 2 * pg, _ow + 2 * pg);
            Grow(ref _gpad, (long)_chunks * _o * _hg * _wg, zero: true);
            Grow(ref _wrot, (long)_c * _o * _k * _k);
            Grow(ref _kOffDx, _o * _k * _k);
            for (int o = 0, r = 0; o < _o; o++)
                for (int i = 0; i < _k; i++)
                    for (int j = 0; j < _k; j++) _kOffDx[r++] = o * _hg * _wg + i * _wg + j;
            Grow(ref _qOffDx, h * w);
            for (int y = 0, q = 0; y < h; y++)
                for (int x = 0; x < w; x++) _qOffDx[q++] = y * _wg + x;
        }
        else
        {
            Grow(ref _cols, (long)_chunks * FieldSize * _oh * _ow);
        }
    }

    /// <summary>
    /// Makes <paramref name="buffer"/> hold at least <paramref name="length"/> elements (plus slack: vector copies may
    /// read past the end), keeping it when it does. With <paramref name="zero"/> a kept buffer is cleared, for the padded
    /// planes whose borders must be zero when the image size changed.
    /// </summary>
    private void Grow<TElement>(ref TElement[] buffer, long length, bool zero = false) where TElement : unmanaged
    {
        long needed = length + GemmBuffers<T>.Slack;
        if (buffer.Length >= needed)
        {
            if (zero && _geometryChanged) Array.Clear(buffer);
            return;
        }
        buffer = GC.AllocateArray<TElement>(checked((int)needed), pinned: true);
    }

    /// <summary>Run tables for stride 1 and the NR of the current level (built once per shape and level).</summary>
    private void BuildRuns(PatchRuns runs, ReadOnlySpan<int> qOff)
    {
        if (_s != 1) return;
        int nr = GemmMicroKernel.NR<T>(_level);
        if (!runs.IsBuilt(nr, qOff.Length)) runs.Build(nr, qOff);
    }

    private void ForwardChunk(int start, int end)
    {
        int k = FieldSize, p = _oh * _ow, plane = _h * _w;
        long padded = (long)_c * _hp * _wp;
        fixed (T* xpadBase = _xpad)
        fixed (int* kOff = _kOff)
        fixed (int* qOff = _qOff)
        {
            for (int n = start; n < end; n++)
            {
                T* xpad = xpadBase + n * padded;
                PadInto(_x + (long)n * _c * plane, _c, _h, _w, xpad, _hp, _wp, _p);
                T* yn = _y + (long)n * _o * p;
                if (_smallForward)
                {
                    Conv2dSmallWindow.Forward((float*)xpad, kOff, k, (float*)_weight, _hasBias ? (float*)_bias : null, _o, _oh, _ow, _wp, (float*)yn);
                    continue;
                }
                if (_directForward)
                {
                    fixed (float* packed = _packedW)
                    fixed (float* grid = _grid)
                    {
                        Conv2dDirect.Run(_level, packed, _o, k, (float*)xpad, kOff, qOff, p, _hasBias ? (float*)_bias : null,
                            grid + (long)(start / _chunk) * _gridLength, (float*)yn);
                    }
                    continue;
                }
                if (_hasBias)
                {
                    for (int oc = 0; oc < _o; oc++) new Span<T>(yn + (long)oc * p, p).Fill(_bias[oc]);
                }
                var a = new StridedA<T>(false, _weight, k);
                var b = new PatchB<T>(xpad, kOff, qOff, _s == 1 ? _runs : PatchRuns.None);
                GemmCore.Run(_level, _o, p, k, ref a, ref b, T.One, _hasBias ? T.One : T.Zero, yn, p);
            }
        }
    }

    private void BackwardChunk(int chunk, int start, int end)
    {
        int k = FieldSize, p = _oh * _ow, count = end - start;
        long padded = (long)_c * _hp * _wp, gStride = (long)_o * p;
        fixed (T* xpadBase = _xpad)
        fixed (int* kOff = _kOff)
        fixed (int* qOff = _qOff)
        fixed (T* dwBase = _dw)
        {
            T* dw = dwBase + (long)chunk * _o * k;
            if (Conv2dWeightGradient.Applies<T>(_level, _s, k, _ow))
            {
                // A window of a few values (a first layer): the direct correlation beats packing a GEMM this thin.
                Conv2dWeightGradient.Run(_level, (float*)(_g + start * gStride), (float*)(xpadBase + start * padded), count,
                    _c, _o, _k, _oh, _ow, _hp, _wp, (float*)dw);
            }
            else if (_directDw)
            {
                fixed (float* accBase = _dwAcc)
                fixed (float* gTBase = _gT)
                {
                    float* acc = accBase + (long)chunk * _dwAccLength;
                    float* gT = (float*)(((nint)(gTBase + (long)chunk * _gTLength) + 63) & ~(nint)63);
                    new Span<float>(acc, _dwAccLength).Clear();
                    for (int n = start; n < end; n++)
                    {
                        Conv2dDirectWeightGradient.Accumulate(_level, (float*)(xpadBase + n * padded), kOff, k, (float*)(_g + n * gStride),
                            _o, qOff, p, gT, acc);
                    }
                    Conv2dDirectWeightGradient.StoreTransposed(_level, acc, k, _o, (float*)dw);
                }
            }
            else
            {
                // dW_chunk (O, K) = [G[start] … G[end−1]] (O, count·P) · [cols(x[start]) … ]ᵀ (count·P, K).
                var a = new SamplesA<T>(_g + start * gStride, _o, p);
                var b = new PatchTransposedB<T>(xpadBase + start * padded, padded, p, kOff, qOff, _s == 1 ? _ow : 0);
                GemmCore.Run(_level, _o, k, count * p, ref a, ref b, T.One, T.Zero, dw, k);
            }
        }
        if (_hasBias)
        {
            Span<T> db = _db.AsSpan(chunk * _o, _o);
            for (int oc = 0; oc < _o; oc++)
            {
                T sum = T.Zero;
                for (int n = start; n < end; n++) sum += Elementwise.Sum(new ReadOnlySpan<T>(_g + n * gStride + (long)oc * p, p));
                db[oc] = sum;
            }
        }
        if (!_wantDx) return;
        int plane = _h * _w;
        for (int n = start; n < end; n++)
        {
            T* gn = _g + n * gStride;
            T* dxn = _dx + (long)n * _c * plane;
            if (_direct)
            {
                fixed (T* gpadBase = _gpad)
                fixed (T* wrot = _wrot)
                fixed (int* kOff = _kOffDx)
                fixed (int* qOff = _qOffDx)
                {
                    T* gpad = gpadBase + (long)chunk * _o * _hg * _wg;
                    PadInto(gn, _o, _oh, _ow, gpad, _hg, _wg, _k - 1 - _p);
                    if (_directDx)
                    {
                        fixed (float* packed = _packedW)
                        fixed (float* grid = _grid)
                        {
                            Conv2dDirect.Run(_level, packed, _c, _o * _k * _k, (float*)gpad, kOff, qOff, plane, null,
                                grid + (long)chunk * _gridLength, (float*)dxn);
                        }
                        continue;
                    }
                    var a = new StridedA<T>(false, wrot, _o * _k * _k);
                    var b = new PatchB<T>(gpad, kOff, qOff, _runsDx);
                    GemmCore.Run(_level, _c, plane, _o * _k * _k, ref a, ref b, T.One, T.Zero, dxn, plane);
                }
            }
            else
            {
                // dcols (K, P) = Wᵀ (K, O) · G (O, P), then dx[n] = col2im(dcols).
                fixed (T* colsBase = _cols)
                {
                    T* cols = colsBase + (long)chunk * k * p;
                    var a = new StridedA<T>(true, _weight, k);
                    var b = new StridedB<T>(false, gn, p);
                    GemmCore.Run(_level, k, p, _o, ref a, ref b, T.One, T.Zero, cols, p);
                    var dxs = new Span<T>(dxn, _c * plane);
                    dxs.Clear();
                    Im2Col.Fold<T>(new ReadOnlySpan<T>(cols, k * p), _c, _h, _w, _k, _s, _p, dxs);
                }
            }
        }
    }

    /// <summary>Wrot[c, (o, i, j)] = W[o, c, k−1−i, k−1−j]: the kernel turned 180° with in and out channels swapped.</summary>
    private void RotateWeight(ReadOnlySpan<T> weight)
    {
        int kk = _k * _k;
        for (int o = 0; o < _o; o++)
            for (int c = 0; c < _c; c++)
                for (int i = 0; i < _k; i++)
                    for (int j = 0; j < _k; j++)
                        _wrot[(long)c * _o * kk + o * kk + i * _k + j] = weight[(o * _c + c) * kk + (_k - 1 - i) * _k + (_k - 1 - j)];
    }

    /// <summary>Copies planes (C, H, W) into the interior of zero-bordered planes (C, Hp, Wp) at offset (pad, pad).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PadInto(T* src, int channels, int h, int w, T* dst, int hp, int wp, int pad)
    {
        long bytes = (long)w * sizeof(T);
        for (int c = 0; c < channels; c++)
        {
            T* s = src + (long)c * h * w;
            T* d = dst + (long)c * hp * wp + (long)pad * wp + pad;
            for (int r = 0; r < h; r++) Buffer.MemoryCopy(s + (long)r * w, d + (long)r * wp, bytes, bytes);
        }
    }
}
