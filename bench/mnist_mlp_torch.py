#!/usr/bin/env python3
"""One MNIST MLP (784→128→64→10, ReLU) trained with Adam (lr 1e-3), batch 128, in PyTorch on the CPU.

Prints a JSON line {"impl":"torch","info":{…}} (CPU, threadpoolctl's pools, PyTorch's CPU path), then one JSON line per
epoch: {"impl":"torch","epoch":E,"seconds":S,"train_loss":L}. Only the training loop is timed (shuffle, batches,
forward, loss, backward, step), as in NeuralNet's epoch_seconds. The thread count and OMP_WAIT_POLICY=PASSIVE are
set before PyTorch loads (peer_env.py says why).
Usage: /usr/bin/python3 bench/mnist_mlp_torch.py --data ../shared/data/mnist --epochs 3 --threads 2
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
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    x, y = peer_env.load(args.data, "train")
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    print(json.dumps({"impl": "torch", "info": peer_env.report("torch", torch)}), flush=True)
    n = x.shape[0]
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        print(json.dumps({"impl": "torch", "epoch": epoch, "seconds": time.perf_counter() - t0, "train_loss": total / n}), flush=True)


if __name__ == "__main__":
    main()
