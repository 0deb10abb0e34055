#!/usr/bin/env python3
"""The same MNIST MLP written from scratch in NumPy (matrix products on OpenBLAS): forward, backward, Adam.

784→128→64→10 with ReLU, He-normal weights stored (in, out) so the forward is x·W + b, the fused softmax–cross-entropy
gradient (softmax − onehot)/B, Adam (lr 1e-3) updated in place; batch 128. As the shared peer numpy_mlp.py does, the
weight gradients are written into preallocated arrays and the first layer skips its unused input gradient.

Prints a JSON line {"impl":"numpy","info":{…}} (CPU, threadpoolctl's BLAS report), then one per epoch:
{"impl":"numpy","epoch":E,"seconds":S,"train_loss":L}. OPENBLAS_NUM_THREADS is set before NumPy loads.
Usage: /usr/bin/python3 bench/mnist_mlp_numpy.py --data ../shared/data/mnist --epochs 3 --threads 2
"""
import argparse, json, time
import peer_env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()
    peer_env.configure_threads(args.threads)
    import numpy as np
    f32 = np.float32
    rng = np.random.default_rng(42)
    x, y = peer_env.load(args.data, "train")
    sizes = [784, 128, 64, 10]
    ws = [(rng.standard_normal((sizes[i], sizes[i + 1])) * np.sqrt(2.0 / sizes[i])).astype(f32) for i in range(3)]
    bs = [np.zeros(sizes[i + 1], f32) for i in range(3)]
    params = [p for i in range(3) for p in (ws[i], bs[i])]
    grads = [np.zeros_like(p) for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1, b2, eps, t = 1e-3, 0.9, 0.999, 1e-8, 0
    print(json.dumps({"impl": "numpy", "info": peer_env.report("numpy")}), flush=True)
    n = x.shape[0]
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        perm = rng.permutation(n)
        total = 0.0
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            xb, yb = x[idx], y[idx]
            B = len(idx)
            r = np.arange(B)
            # forward: z = x·W + b, h = max(z, 0)
            h0 = xb @ ws[0] + bs[0]; mask0 = h0 > 0; h0 *= mask0
            h1 = h0 @ ws[1] + bs[1]; mask1 = h1 > 0; h1 *= mask1
            z2 = h1 @ ws[2] + bs[2]
            z2 -= z2.max(axis=1, keepdims=True)
            e = np.exp(z2); s = e.sum(axis=1, keepdims=True)
            total += float(np.sum(np.log(s[:, 0]) - z2[r, yb]))
            # backward: d = ∂L/∂z;  ∂L/∂W = hᵀ·d,  ∂L/∂b = Σ d,  ∂L/∂h = d·Wᵀ
            d2 = e / s; d2[r, yb] -= 1; d2 *= f32(1.0 / B)
            np.matmul(h1.T, d2, out=grads[4]); np.sum(d2, axis=0, out=grads[5])
            d1 = (d2 @ ws[2].T) * mask1
            np.matmul(h0.T, d1, out=grads[2]); np.sum(d1, axis=0, out=grads[3])
            d0 = (d1 @ ws[1].T) * mask0
            np.matmul(xb.T, d0, out=grads[0]); np.sum(d0, axis=0, out=grads[1])
            # Adam: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ − lr·m̂/(√v̂ + ε)
            t += 1
            step = f32(lr / (1 - b1 ** t)); inv_c2 = f32(1 / np.sqrt(1 - b2 ** t))
            for p, g, mk, vk in zip(params, grads, m, v):
                mk *= f32(b1); mk += f32(1 - b1) * g
                vk *= f32(b2); vk += f32(1 - b2) * (g * g)
                denom = np.sqrt(vk); denom *= inv_c2; denom += f32(eps)
                p -= step * mk / denom
        print(json.dumps({"impl": "numpy", "epoch": epoch, "seconds": time.perf_counter() - t0, "train_loss": total / n}), flush=True)


if __name__ == "__main__":
    main()
