using System.Numerics;

namespace NeuralNet.Tensors.Kernels;

/// <summary>
/// The specification of <see cref="Gemm"/>: C = α·op(A)·op(B) + β·C as a plain triple loop.
/// Slow on purpose; the tests compare the fast kernel with it.
/// </summary>
public static class GemmReference
{
    /// <summary>Same contract as <see cref="Gemm.Multiply{T}"/>.</summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        T alpha, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb,
        T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Gemm.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                T sum = T.Zero;
                for (int p = 0; p < k; p++)
                {
                    T aip = transA ? a[p * lda + i] : a[i * lda + p];
                    T bpj = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += aip * bpj;
                }
                T old = beta == T.Zero ? T.Zero : beta * c[i * ldc + j];
                c[i * ldc + j] = alpha * sum + old;
            }
        }
    }
}
