#!/usr/bin/env python3
"""sgemm GFLOP/s: NeuralNet's Gemm against OpenBLAS (through NumPy), side by side, interleaved, with efficiencies.

Each round runs, for every thread count asked for, our quick benchmark (a separate process) and then NumPy on the same
shapes (another process, with OPENBLAS_NUM_THREADS set before NumPy is imported), so both see the same machine state;
the table reports the median over rounds and the ratio of times (ours / OpenBLAS).

Efficiency is GFLOP/s over the measured FMA peak (the quick benchmark's chain-free FMA loop on as many threads, best
over the rounds): ours against the peak of the vector width our kernels use (--isa), OpenBLAS against the higher of
the 256- and 512-bit peaks, since it picks its own kernels (threadpoolctl's "architecture" names them).

    sudo apt-get install -y python3-numpy python3-threadpoolctl libopenblas0-pthread   # Debian: NumPy on the pthread OpenBLAS
    dotnet build -c Release bench/NeuralNet.Benchmarks
    /usr/bin/python3 bench/gemm_vs_openblas.py [--rounds 3] [--threads 2 | --threads 1,2] [--seconds 1.0] [--isa avx2]

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


def numpy_worker(threads, seconds, cases):
    """Runs in its own process: the BLAS thread count is read when NumPy loads OpenBLAS."""
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import numpy as np
    try:
        from threadpoolctl import threadpool_info
        blas = [{k: d.get(k) for k in ("internal_api", "version", "architecture", "threading_layer", "num_threads", "filepath")}
                for d in threadpool_info() if d.get("user_api") == "blas"]
    except ImportError:
        blas = "threadpoolctl missing: sudo apt-get install -y python3-threadpoolctl"
    print(json.dumps({"numpy": np.__version__, "blas": blas}), flush=True)
    for m, n, k, ta, tb in cases:
        print(json.dumps({"key": [m, n, k, ta, tb], "gflops": numpy_gflops(np, m, n, k, ta, tb, seconds)}), flush=True)


def run_ours(threads, args):
    cmd = ["dotnet", DLL, "quick", "--threads", str(threads), "--seconds", str(args.seconds)]
    if args.isa:
        cmd += ["--isa", args.isa]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    machine, peaks, rows = None, [], []
    for line in out.splitlines():
        r = json.loads(line)
        if "machine" in r:
            machine = r["machine"]
        elif r.get("op") == "fma_peak":
            peaks.append(r)
        elif r.get("op") == "sgemm":
            rows.append(r)
    return machine, peaks, rows


def run_numpy(threads, seconds, keys):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--numpy-worker", "--threads", str(threads),
                          "--seconds", str(seconds), "--cases", json.dumps([k[1:] for k in keys])],
                         check=True, capture_output=True, text=True, env=env).stdout.splitlines()
    info = json.loads(out[0])
    return info, {tuple(json.loads(l)["key"]): json.loads(l)["gflops"] for l in out[1:]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="2", help="a thread count or a comma-separated list, e.g. 1,2")
    ap.add_argument("--seconds", type=float, default=1.0, help="per shape and contender, per round")
    ap.add_argument("--isa", choices=["scalar", "avx2", "avx512"], help="our kernels' instruction set (default: the widest)")
    ap.add_argument("--numpy-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cases", help=argparse.SUPPRESS)
    args = ap.parse_args()
    thread_counts = [int(t) for t in str(args.threads).split(",") if t.strip()]
    if not thread_counts or min(thread_counts) < 1:
        sys.exit(f"--threads {args.threads}: expected positive counts, e.g. 2 or 1,2")
    if args.numpy_worker:
        numpy_worker(thread_counts[0], args.seconds, json.loads(args.cases))
        return
    if not os.path.exists(DLL):
        sys.exit(f"{DLL} is missing: dotnet build -c Release bench/NeuralNet.Benchmarks")

    ours, theirs, peaks, cases, machine, blas = {}, {}, {}, [], None, {}
    for r in range(args.rounds):
        for t in thread_counts:  # contenders alternate: ours, OpenBLAS, ours, OpenBLAS, …
            machine, round_peaks, rows = run_ours(t, args)
            for p in round_peaks:
                peaks.setdefault((t, p["bits"]), []).append((p["gflops"], p["isa"], p["active"]))
            for row in rows:
                key = (row["case"], row["m"], row["n"], row["k"], row["transA"], row["transB"])
                if key not in cases:
                    cases.append(key)
                ours.setdefault((t, key), []).append(row["gflops"])
            blas[t], got = run_numpy(t, args.seconds, cases)
            for key in cases:
                theirs.setdefault((t, key), []).append(got[tuple(key[1:])])
            print(f"round {r + 1}, {t} thread(s) done", file=sys.stderr, flush=True)

    print(f"CPU: {machine['cpu']} ({machine['logical_cores']} logical cores); NeuralNet kernels: {machine['isa']} "
          f"(widest here {machine['best_isa']}; JIT prefers 512-bit: {machine['jit_prefers_512']}); {machine['dotnet']}")
    results = []
    for t in thread_counts:
        info = blas[t]
        lib = info["blas"]
        if isinstance(lib, list):
            text = "; ".join(f"{b['internal_api']} {b['version']} ({b['architecture']} kernels, {b['threading_layer']}, "
                             f"{b['num_threads']} thread(s)) {b['filepath']}" for b in lib)
            if any(b["num_threads"] != t for b in lib):
                text += f"  WARNING: threadpoolctl reports a thread count other than {t}"
        else:
            text = lib
        peak_by_bits = {bits: max(g for g, _, _ in v) for (tt, bits), v in peaks.items() if tt == t}
        active_bits = next(bits for (tt, bits), v in peaks.items() if tt == t and v[0][2])
        ours_peak, machine_peak = peak_by_bits[active_bits], max(peak_by_bits.values())
        print(f"\n{t} thread(s). NumPy {info['numpy']} on {text}")
        print("FMA peak (best of rounds): " + ", ".join(f"{bits}-bit {g:.1f} GFLOP/s" for bits, g in sorted(peak_by_bits.items())))
        print(f"| shape (m×n×k) | product | NeuralNet GFLOP/s | NeuralNet % of {active_bits}-bit peak | OpenBLAS GFLOP/s "
              f"| OpenBLAS % of peak | time ratio (ours/OpenBLAS) |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for key in cases:
            name, m, n, k, ta, tb = key
            o, b = statistics.median(ours[(t, key)]), statistics.median(theirs[(t, key)])
            results.append({"op": "sgemm", "case": name, "m": m, "n": n, "k": k, "transA": ta, "transB": tb, "threads": t,
                            "isa": machine["isa"], "ours_gflops": round(o, 1), "ours_efficiency": round(o / ours_peak, 3),
                            "openblas_gflops": round(b, 1), "openblas_efficiency": round(b / machine_peak, 3),
                            "time_ratio": round(b / o, 3)})
            print(f"| {m}×{n}×{k} | {name} | {o:.1f} | {100 * o / ours_peak:.0f}% | {b:.1f} | {100 * b / machine_peak:.0f}% | {b / o:.2f} |")
    print(f"\n{args.rounds} rounds × {args.seconds} s per shape and contender, interleaved; medians of rounds")
    print(json.dumps({"machine": machine, "blas": {str(t): blas[t] for t in thread_counts},
                      "fma_peak": [{"threads": t, "bits": bits, "gflops": max(g for g, _, _ in v)} for (t, bits), v in sorted(peaks.items())]},
                     ensure_ascii=False))
    for r in results:
        print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
