#!/usr/bin/env python3
"""MNIST CNN epoch time: NeuralNet (`nn train --model cnn`) vs PyTorch, interleaved, same machine and threads.

Same network (bench/mnist_cnn_torch.py is `nn train --model cnn`'s CNN, as is the shared peers' `torch_cnn.py --bn`),
data (60,000 images: --val-fraction 0, or the first --limit), batch 128, Adam lr 1e-3, label smoothing 0.1, constant
learning rate. PyTorch gets its thread count and OMP_WAIT_POLICY=PASSIVE before it loads (peer_env.py). Each round
runs both for --epochs epochs, alternating who goes first; the first epoch of every run is dropped (warm-up). Prints
the machine and PyTorch's threadpoolctl report, median epoch seconds (min–max) and our time as a share of PyTorch's,
then one JSON line {"ours_s":…, "torch_s":…, "ratio_torch":…}.

    dotnet build -c Release src/NeuralNet.Cli && dotnet build -c Release bench/NeuralNet.Benchmarks
    /usr/bin/python3 bench/mnist_cnn_compare.py --data ../shared/data --rounds 2 [--threads 2] [--limit 12800]
"""
import argparse, json, os, statistics, sys
import peer_env
from mnist_mlp_compare import ensure_python_deps, header, interleave, run_ours, run_peer, spread, NN, ROOT


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("NN_DATA", os.path.join(ROOT, "..", "shared", "data")))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2, help="per run; the first is dropped")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, help="train on the first N images only (short runs; 12800 = 100 steps)")
    args = ap.parse_args()
    args.data = os.path.abspath(args.data)
    if args.epochs < 2:
        sys.exit("--epochs must be ≥ 2: the first epoch of every run is dropped")
    ensure_python_deps()
    if not os.path.exists(NN):
        sys.exit(f"{NN} is missing: dotnet build -c Release src/NeuralNet.Cli")
    machine = peer_env.ours_machine()
    limit = ["--limit", str(args.limit)] if args.limit else []
    infos = {}

    def torch_run():
        infos["torch"], s = run_peer("mnist_cnn_torch.py", args, limit)
        return s

    times = interleave([
        ("ours", lambda: run_ours(args, ["--model", "cnn", "--schedule", "none", *limit])),
        ("torch", torch_run),
    ], args.rounds)
    header(machine, [infos.get("torch")])
    o, t = statistics.median(times["ours"]), statistics.median(times["torch"])
    images = f"first {args.limit:,} images" if args.limit else "60,000 images"
    print("| implementation | median epoch seconds (min–max) | NeuralNet's time / this one's |")
    print("|---|---:|---:|")
    print(f"| NeuralNet (`nn train --model cnn`) | {spread(times['ours'])} | 1.00 |")
    print(f"| PyTorch (CPU, {args.threads} thread{'s' if args.threads > 1 else ''}) | {spread(times['torch'])} | {o / t:.2f} |")
    print(f"\n{args.rounds} rounds × {args.epochs - 1} timed epochs each (first epoch dropped), interleaved; {images}, "
          f"batch 128, Adam, label smoothing 0.1, {args.threads} threads")
    unsteady = peer_env.unsteady(times)
    print(json.dumps({"machine": machine, "peers": infos}, ensure_ascii=False))
    print(json.dumps({"ours_s": round(o, 3), "torch_s": round(t, 3), "ratio_torch": round(o / t, 3), "threads": args.threads,
                      "limit": args.limit, "unsteady": unsteady}))


if __name__ == "__main__":
    main()
