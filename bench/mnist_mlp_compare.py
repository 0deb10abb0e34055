#!/usr/bin/env python3
"""MNIST MLP epoch time: NeuralNet (`nn train`) vs PyTorch vs a from-scratch NumPy MLP, interleaved, same machine.

Identical model (784→128→64→10, ReLU), data (60,000 MNIST training images: --val-fraction 0), batch 128, Adam lr 1e-3,
plain cross-entropy and a constant learning rate (`nn train` is given --label-smoothing 0 --schedule none, as the peers
train), threads = --threads for all three. PyTorch and NumPy get OPENBLAS_NUM_THREADS/OMP_NUM_THREADS and
OMP_WAIT_POLICY=PASSIVE before they load (peer_env.py). Each round runs the three one after another, starting with a
different one each round; every run trains --epochs epochs and its first epoch (warm-up: JIT, allocator, thread pools)
is dropped. Only the training loop of an epoch is timed, on every side.

Prints the machine and every peer's threadpoolctl report, a table of median epoch seconds (min–max) and our time as a
share of each peer's, then one JSON line {"ours_s":…, "torch_s":…, "numpy_s":…, "ratio_torch":…, "ratio_numpy":…}.

    sudo apt-get install -y python3-torch python3-numpy python3-threadpoolctl libopenblas0-pthread     # if missing
    dotnet build -c Release src/NeuralNet.Cli && dotnet build -c Release bench/NeuralNet.Benchmarks
    /usr/bin/python3 bench/mnist_mlp_compare.py --data ../shared/data --rounds 3 [--threads 2] [--epochs 3]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile
import peer_env

HERE = peer_env.HERE
ROOT = peer_env.ROOT
NN = os.path.join(ROOT, "src/NeuralNet.Cli/bin/Release/net10.0/nn.dll")


def ensure_python_deps():
    try:
        import numpy, torch, threadpoolctl  # noqa: F401
    except ImportError:
        print("installing python3-torch python3-numpy python3-threadpoolctl libopenblas0-pthread with apt…", file=sys.stderr)
        subprocess.run(["sudo" if os.geteuid() != 0 else "env", "apt-get", "install", "-y", "python3-torch", "python3-numpy",
                        "python3-threadpoolctl", "libopenblas0-pthread"], check=True)


def run_ours(args, extra):
    """Epoch seconds of one `nn train` run (its metrics.json), the first epoch dropped."""
    with tempfile.TemporaryDirectory() as out:
        cmd = ["dotnet", NN, "train", "--data", args.data, "--epochs", str(args.epochs), "--batch-size", "128",
               "--threads", str(args.threads), "--val-fraction", "0", "--patience", "0", "--quiet", "--no-figures",
               "--output", out] + extra
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "metrics.json")) as f:
            return json.load(f)["epoch_seconds"][1:]


def run_peer(script, args, extra=()):
    """(report, epoch seconds without the first) of one peer script run in its own process."""
    out = subprocess.run([sys.executable, os.path.join(HERE, script), "--data", os.path.join(args.data, "mnist"),
                          "--epochs", str(args.epochs), "--threads", str(args.threads), *extra],
                         check=True, capture_output=True, text=True, cwd=HERE).stdout
    info, seconds = None, []
    for line in out.splitlines():
        r = json.loads(line)
        if "info" in r:
            info = r["info"]
        elif "seconds" in r:
            seconds.append(r["seconds"])
    return info, seconds[1:]


def interleave(contenders, rounds):
    """Runs every contender once per round, rotating who goes first; returns {name: [epoch seconds…]}."""
    times = {name: [] for name, _ in contenders}
    for r in range(rounds):
        for j in range(len(contenders)):
            name, run = contenders[(r + j) % len(contenders)]
            times[name] += run()
        print(f"round {r + 1}: " + "  ".join(f"{n} {statistics.median(t):.3f}s" for n, t in times.items()), file=sys.stderr, flush=True)
    return times


def spread(t):
    return f"{statistics.median(t):.3f} ({min(t):.3f}–{max(t):.3f})"


def header(machine, infos):
    print(f"NeuralNet: {machine.get('cpu')} ({machine.get('logical_cores')} logical cores); kernels use {machine.get('isa')}"
          + (f" (widest here {machine['best_isa']}); {machine['dotnet']}" if "dotnet" in machine else ""))
    for info in infos:
        if info:
            print(peer_env.describe(info))
    print()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("NN_DATA", os.path.join(ROOT, "..", "shared", "data")))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3, help="per run; the first is dropped")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    args.data = os.path.abspath(args.data)
    if args.epochs < 2:
        sys.exit("--epochs must be ≥ 2: the first epoch of every run is dropped")
    ensure_python_deps()
    if not os.path.exists(NN):
        sys.exit(f"{NN} is missing: dotnet build -c Release src/NeuralNet.Cli")
    machine = peer_env.ours_machine()
    infos = {}

    def peer(name, script):
        def run():
            infos[name], s = run_peer(script, args)
            return s
        return run

    times = interleave([
        ("ours", lambda: run_ours(args, ["--optimizer", "adam", "--lr", "0.001", "--label-smoothing", "0", "--schedule", "none"])),
        ("torch", peer("torch", "mnist_mlp_torch.py")),
        ("numpy", peer("numpy", "mnist_mlp_numpy.py")),
    ], args.rounds)
    header(machine, [infos.get("torch"), infos.get("numpy")])
    o, t, n = (statistics.median(times[k]) for k in ("ours", "torch", "numpy"))
    print("| implementation | median epoch seconds (min–max) | NeuralNet's time / this one's |")
    print("|---|---:|---:|")
    print(f"| NeuralNet (`nn train`) | {spread(times['ours'])} | 1.00 |")
    print(f"| PyTorch (CPU, {args.threads} thread{'s' if args.threads > 1 else ''}) | {spread(times['torch'])} | {o / t:.2f} |")
    print(f"| NumPy from scratch (OpenBLAS, {args.threads} thread{'s' if args.threads > 1 else ''}) | {spread(times['numpy'])} | {o / n:.2f} |")
    print(f"\n{args.rounds} rounds × {args.epochs - 1} timed epochs each (first epoch of every run dropped), interleaved; "
          f"batch 128, Adam, {args.threads} threads")
    unsteady = peer_env.unsteady(times)
    print(json.dumps({"machine": machine, "peers": infos}, ensure_ascii=False))
    print(json.dumps({"ours_s": round(o, 4), "torch_s": round(t, 4), "numpy_s": round(n, 4),
                      "ratio_torch": round(o / t, 3), "ratio_numpy": round(o / n, 3), "threads": args.threads,
                      "unsteady": unsteady}))


if __name__ == "__main__":
    main()
