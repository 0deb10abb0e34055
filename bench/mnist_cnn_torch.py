#!/usr/bin/env python3
"""The MNIST CNN of `nn train --model cnn` in PyTorch on the CPU: conv(1→32, 3×3, pad 1, no bias)–BN–ReLU–maxpool 2 →
conv(32→64, 3×3, pad 1, no bias)–BN–ReLU–maxpool 2 → flatten → linear 3136→128–ReLU–dropout 0.25 → linear 128→10;
Adam lr 1e-3, batch 128, cross-entropy with label smoothing 0.1 (as `nn train`'s defaults; the same network as
`torch_cnn.py --bn` among the shared peer scripts).

Prints a JSON line {"impl":"torch","info":{…}}, then one per epoch: {"impl":"torch","epoch":E,"seconds":S,"train_loss":L}
(training loop only). The thread count and OMP_WAIT_POLICY=PASSIVE are set before PyTorch loads.
Usage: /usr/bin/python3 bench/mnist_cnn_torch.py --data ../shared/data/mnist --epochs 2 --threads 2 [--limit N]
"""
import argparse, json, time
import peer_env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--limit", type=int, help="train on the first N images only (quick runs)")
    args = ap.parse_args()
    peer_env.configure_threads(args.threads)
    import torch
    import torch.nn as nn
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    x, y = peer_env.load(args.data, "train")
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    x = torch.from_numpy(x).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(y)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    print(json.dumps({"impl": "torch", "info": peer_env.report("torch", torch)}), flush=True)
    n = x.shape[0]
    model.train()
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        print(json.dumps({"impl": "torch", "epoch": epoch, "seconds": time.perf_counter() - t0, "train_loss": total / n}), flush=True)


if __name__ == "__main__":
    main()
