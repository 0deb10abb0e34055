#!/usr/bin/env python3
"""sgemm GFLOP/s: NeuralNet's Gemm against OpenBLAS (through NumPy), side by side, interleaved.

Each round runs our quick benchmark (a separate process) and then NumPy on the same shapes, so both see the
same machine state; the table reports the median over rounds and the ratio of times (ours / OpenBLAS).

    sudo apt-get install -y python3-numpy libopenblas0-pthread     # Debian: NumPy on the pthread OpenBLAS
    dotnet build -c Release bench/NeuralNet.Benchmarks
    /usr/bin/python3 bench/gemm_vs_openblas.py [--rounds 3] [--threads 2]

The shapes are the MLP's (forward X·Wᵀ, weight gradient Xᵀ·dY, input gradient dY·W, at batch 128 and 784→128)
and squares 256, 512, 1024 (see bench/NeuralNet.Benchmarks/QuickBench.cs).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLL = os.path.join(ROOT, "bench/NeuralNet.Benchmarks/bin/Release/net10.0/NeuralNet.Benchmarks.dll")


def numpy_gflops(np, m, n, k, trans_a, trans_b, seconds):
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if trans_b else (k, n)).astype(np.float32)
    out = np.empty((m, n), dtype=np.float32)
    opa = a.T if trans_a else a
    opb = b.T if trans_b else b
    np.matmul(opa, opb, out=out)
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.02:
        np.matmul(opa, opb, out=out)
        reps += 1
    samples, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(samples) < 5:
        t = time.perf_counter()
        for _ in range(reps):
            np.matmul(opa, opb, out=out)
        samples.append(2.0 * m * n * k * reps / (time.perf_counter() - t) / 1e9)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()
    # OpenBLAS reads its thread count when it loads: set it before importing NumPy.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    try:
        import numpy as np
    except ImportError:
        sys.exit("NumPy is missing: sudo apt-get install -y python3-numpy libopenblas0-pthread")
    if not os.path.exists(DLL):
        sys.exit(f"{DLL} is missing: dotnet build -c Release bench/NeuralNet.Benchmarks")

    ours, theirs, cases = {}, {}, []
    for _ in range(args.rounds):
        out = subprocess.run(["dotnet", DLL, "quick", "--threads", str(args.threads), "--seconds", str(args.seconds)],
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            r = json.loads(line)
            key = (r["case"], r["m"], r["n"], r["k"], r["transA"], r["transB"])
            if key not in ours:
                cases.append(key)
            ours.setdefault(key, []).append(r["gflops"])
        for key in cases:
            _, m, n, k, ta, tb = key
            theirs.setdefault(key, []).append(numpy_gflops(np, m, n, k, ta, tb, args.seconds))

    print(f"| shape (m×n×k) | product | NeuralNet GFLOP/s | OpenBLAS GFLOP/s | time ratio (ours/OpenBLAS) |")
    print(f"|---|---|---:|---:|---:|")
    rows = []
    for key in cases:
        name, m, n, k, ta, tb = key
        o, t = statistics.median(ours[key]), statistics.median(theirs[key])
        rows.append({"op": "sgemm", "case": name, "m": m, "n": n, "k": k, "transA": ta, "transB": tb,
                     "threads": args.threads, "ours_gflops": round(o, 1), "openblas_gflops": round(t, 1),
                     "time_ratio": round(t / o, 3)})
        print(f"| {m}×{n}×{k} | {name} | {o:.1f} | {t:.1f} | {t / o:.2f} |")
    print(f"\n{args.rounds} rounds, {args.threads} threads, median of rounds; NumPy {np.__version__}")
    for r in rows:
        print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
