#!/usr/bin/env python3
"""MNIST CNN epoch time: NeuralNet (`nn train --model cnn`) vs PyTorch, interleaved, same machine and threads.

Same network, data (60,000 images: --val-fraction 0), batch 128, Adam lr 1e-3, label smoothing 0.1. Each round
runs both for --epochs epochs; the first epoch of every run is dropped (warm-up). Prints median epoch seconds and
the ratio, then one JSON line {"ours_s":…, "torch_s":…, "ratio_torch":…}.

    dotnet build -c Release src/NeuralNet.Cli
    /usr/bin/python3 bench/mnist_cnn_compare.py --data ../shared/data --rounds 2
"""
import argparse, json, os, statistics, subprocess, sys, tempfile
from mnist_mlp_compare import ensure_python_deps, NN, HERE, ROOT


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("NN_DATA", os.path.join(ROOT, "..", "shared", "data")))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    args.data = os.path.abspath(args.data)
    ensure_python_deps()
    if not os.path.exists(NN):
        sys.exit(f"{NN} is missing: dotnet build -c Release src/NeuralNet.Cli")
    ours, theirs = [], []
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(["dotnet", NN, "train", "--model", "cnn", "--data", args.data, "--epochs", str(args.epochs),
                            "--threads", str(args.threads), "--val-fraction", "0", "--patience", "0", "--schedule", "none",
                            "--quiet", "--no-figures", "--output", out], check=True)
            with open(os.path.join(out, "metrics.json")) as f:
                ours += json.load(f)["epoch_seconds"][1:]
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
        lines = subprocess.run([sys.executable, os.path.join(HERE, "mnist_cnn_torch.py"), "--data", os.path.join(args.data, "mnist"),
                                "--epochs", str(args.epochs), "--threads", str(args.threads)],
                               check=True, capture_output=True, text=True, env=env, cwd=HERE).stdout.splitlines()
        theirs += [json.loads(l)["seconds"] for l in lines][1:]
        print(f"round {r + 1}: ours {statistics.median(ours):.2f}s torch {statistics.median(theirs):.2f}s", file=sys.stderr)
    o, t = statistics.median(ours), statistics.median(theirs)
    print("| implementation | median epoch seconds | ratio to PyTorch |")
    print("|---|---:|---:|")
    print(f"| NeuralNet (`nn train --model cnn`) | {o:.2f} | {o / t:.2f} |")
    print(f"| PyTorch (CPU, {args.threads} threads) | {t:.2f} | 1.00 |")
    print(f"\n{args.rounds} rounds × {args.epochs - 1} timed epochs each (first epoch dropped); batch 128, Adam, {args.threads} threads")
    print(json.dumps({"ours_s": round(o, 3), "torch_s": round(t, 3), "ratio_torch": round(o / t, 3)}))


if __name__ == "__main__":
    main()
