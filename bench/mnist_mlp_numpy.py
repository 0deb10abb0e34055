#!/usr/bin/env python3
"""The same MNIST MLP written from scratch in NumPy (matrix products on OpenBLAS): forward, backward, Adam.

Prints one JSON line per epoch: {"impl":"numpy","epoch":E,"seconds":S,"train_loss":L}.
Usage: OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/mnist_mlp_numpy.py --data ../shared/data/mnist --epochs 3
"""
import argparse, json, time
import numpy as np
from mnist_mlp_torch import load


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()
    rng = np.random.default_rng(42)
    x, y = load(args.data, "train")
    sizes = [784, 128, 64, 10]
    params = []
    for i in range(3):
        w = (rng.standard_normal((sizes[i + 1], sizes[i])) * np.sqrt(2.0 / sizes[i])).astype(np.float32)
        params += [w, np.zeros(sizes[i + 1], dtype=np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1, b2, eps, t = 1e-3, 0.9, 0.999, 1e-8, 0
    n = x.shape[0]
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        perm = rng.permutation(n)
        total = 0.0
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            xb, yb = x[idx], y[idx]
            B = len(idx)
            w0, c0, w1, c1, w2, c2 = params
            z0 = xb @ w0.T + c0; h0 = np.maximum(z0, 0)
            z1 = h0 @ w1.T + c1; h1 = np.maximum(z1, 0)
            z2 = h1 @ w2.T + c2
            z2 = z2 - z2.max(axis=1, keepdims=True)
            e = np.exp(z2); p = e / e.sum(axis=1, keepdims=True)
            total += -np.log(p[np.arange(B), yb] + 1e-30).sum()
            d2 = p; d2[np.arange(B), yb] -= 1; d2 /= B
            g = [None] * 6
            g[4] = d2.T @ h1; g[5] = d2.sum(0)
            d1 = (d2 @ w2) * (z1 > 0)
            g[2] = d1.T @ h0; g[3] = d1.sum(0)
            d0 = (d1 @ w1) * (z0 > 0)
            g[0] = d0.T @ xb; g[1] = d0.sum(0)
            t += 1
            for k in range(6):
                m[k] = b1 * m[k] + (1 - b1) * g[k]
                v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k]
                params[k] -= (lr / (1 - b1 ** t)) * m[k] / (np.sqrt(v[k] / (1 - b2 ** t)) + eps)
        print(json.dumps({"impl": "numpy", "epoch": epoch, "seconds": time.perf_counter() - t0, "train_loss": total / n}), flush=True)


if __name__ == "__main__":
    main()
