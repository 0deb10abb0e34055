#!/usr/bin/env python3
"""MNIST MLP epoch time: NeuralNet (`nn train`) vs PyTorch vs a from-scratch NumPy MLP, interleaved, same machine.

Identical model (784→128→64→10, ReLU), data (60,000 MNIST training images; NeuralNet trains on the 54,000 left after
its validation carve-out unless --val-fraction 0 is passed, which this script does), batch 128, Adam lr 1e-3,
threads = --threads for all three. Each round runs the three one after another; every run trains --epochs epochs and
the first epoch (warm-up: JIT, allocator, thread pool) is dropped. Prints a table of median epoch seconds and the
ratios, then one JSON line {"ours_s":…, "torch_s":…, "numpy_s":…, "ratio_torch":…, "ratio_numpy":…}.

    sudo apt-get install -y python3-torch python3-numpy libopenblas0-pthread     # if missing
    dotnet build -c Release src/NeuralNet.Cli
    /usr/bin/python3 bench/mnist_mlp_compare.py --data ../shared/data --rounds 3
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NN = os.path.join(ROOT, "src/NeuralNet.Cli/bin/Release/net10.0/nn.dll")


def ensure_python_deps():
    try:
        import numpy, torch  # noqa: F401
    except ImportError:
        print("installing python3-torch python3-numpy libopenblas0-pthread with apt…", file=sys.stderr)
        subprocess.run(["sudo" if os.geteuid() != 0 else "env", "apt-get", "install", "-y", "python3-torch", "python3-numpy",
                        "libopenblas0-pthread"], check=True)


def run_ours(args):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(["dotnet", NN, "train", "--data", args.data, "--epochs", str(args.epochs), "--batch-size", "128",
                        "--optimizer", "adam", "--lr", "0.001", "--threads", str(args.threads), "--val-fraction", "0",
                        "--patience", "0", "--quiet", "--no-figures", "--output", out], check=True)
        with open(os.path.join(out, "metrics.json")) as f:
            return json.load(f)["epoch_seconds"][1:]


def run_py(script, args, env_extra):
    env = dict(os.environ, **env_extra)
    out = subprocess.run([sys.executable, os.path.join(HERE, script), "--data", os.path.join(args.data, "mnist"),
                          "--epochs", str(args.epochs)] + (["--threads", str(args.threads)] if "torch" in script else []),
                         check=True, capture_output=True, text=True, env=env, cwd=HERE).stdout
    return [json.loads(l)["seconds"] for l in out.splitlines()][1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("NN_DATA", os.path.join(ROOT, "..", "shared", "data")))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    args.data = os.path.abspath(args.data)
    ensure_python_deps()
    if not os.path.exists(NN):
        sys.exit(f"{NN} is missing: dotnet build -c Release src/NeuralNet.Cli")
    threads_env = {"OMP_NUM_THREADS": str(args.threads), "OPENBLAS_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    ours, torch_s, numpy_s = [], [], []
    for r in range(args.rounds):
        ours += run_ours(args)
        torch_s += run_py("mnist_mlp_torch.py", args, threads_env)
        numpy_s += run_py("mnist_mlp_numpy.py", args, threads_env)
        print(f"round {r + 1}: ours {statistics.median(ours):.3f}s torch {statistics.median(torch_s):.3f}s numpy {statistics.median(numpy_s):.3f}s",
              file=sys.stderr)
    o, t, n = statistics.median(ours), statistics.median(torch_s), statistics.median(numpy_s)
    print("| implementation | median epoch seconds | NeuralNet's time as a share |")
    print("|---|---:|---:|")
    print(f"| NeuralNet (`nn train`) | {o:.3f} | 1.00 |")
    print(f"| PyTorch (CPU, {args.threads} threads) | {t:.3f} | {o / t:.2f} |")
    print(f"| NumPy from scratch (OpenBLAS, {args.threads} threads) | {n:.3f} | {o / n:.2f} |")
    print(f"\n{args.rounds} rounds × {args.epochs - 1} timed epochs each (first epoch of every run dropped); batch 128, Adam, {args.threads} threads")
    print(json.dumps({"ours_s": round(o, 4), "torch_s": round(t, 4), "numpy_s": round(n, 4),
                      "ratio_torch": round(o / t, 3), "ratio_numpy": round(o / n, 3)}))


if __name__ == "__main__":
    main()
