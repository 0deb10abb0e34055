#!/usr/bin/env python3
"""Independent PyTorch (float64) oracle for the NeuralNet C# library.

Writes golden values to:
  tests/NeuralNet.Tests/Golden/layers.json
  tests/NeuralNet.Tests/Golden/optimizers.json

Run from anywhere:  /usr/bin/python3 tools/golden/make_golden.py
Deterministic: fixed seeds, explicit torch.Generator, float64 everywhere.
"""
import json
import os
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write(
        "error: PyTorch is not importable by this interpreter (%s).\n"
        "Install the Debian packages and use the system python:\n"
        "    sudo apt-get install -y python3-torch python3-numpy\n"
        "    /usr/bin/python3 tools/golden/make_golden.py\n" % sys.executable)
    sys.exit(1)

SEED = 1234
DT = torch.float64

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT_DIR = os.path.join(REPO, "tests", "NeuralNet.Tests", "Golden")

torch.manual_seed(SEED)
torch.set_default_dtype(DT)
gen = torch.Generator().manual_seed(SEED)


def randn(*shape, g=None):
    return torch.randn(*shape, generator=g or gen, dtype=DT)


def away_from_zero(t, margin=0.1):
    """Push every element to |x| >= margin, keeping its sign."""
    s = torch.where(t >= 0, torch.ones_like(t), -torch.ones_like(t))
    return s * (t.abs() + margin)


def L(t):
    """Tensor -> nested Python lists of floats (or a float for 0-d)."""
    t = t.detach()
    return t.item() if t.dim() == 0 else t.tolist()


def elementwise_case(fn, x):
    x = x.clone().requires_grad_()
    y = fn(x)
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    return {"x": L(x), "dy": L(dy), "y": L(y), "dx": L(x.grad)}


# ----------------------------------------------------------------- layers
def make_layers():
    out = {"torch_version": torch.__version__}
    N = 4

    # linear
    x = randn(N, 5).requires_grad_()
    w = randn(3, 5).requires_grad_()
    b = randn(3).requires_grad_()
    y = F.linear(x, w, b)
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    out["linear"] = {"x": L(x), "weight": L(w), "bias": L(b), "dy": L(dy),
                     "y": L(y), "dx": L(x.grad), "dweight": L(w.grad), "dbias": L(b.grad)}

    out["relu"] = elementwise_case(torch.relu, away_from_zero(randn(N, 6)))
    c = elementwise_case(lambda t: F.leaky_relu(t, negative_slope=0.01), away_from_zero(randn(N, 6)))
    out["leaky_relu"] = {"negative_slope": 0.01, **c}
    out["sigmoid"] = elementwise_case(torch.sigmoid, randn(N, 6) * 2)
    out["tanh"] = elementwise_case(torch.tanh, randn(N, 6) * 2)
    out["softmax"] = elementwise_case(lambda t: torch.softmax(t, dim=1), randn(N, 6) * 3)

    # cross entropy variants (mean over batch)
    def ce_case(scale, smoothing=None):
        logits = (randn(N, 5) * scale).requires_grad_()
        labels = torch.randint(0, 5, (N,), generator=gen)
        kw = {} if smoothing is None else {"label_smoothing": smoothing}
        loss = F.cross_entropy(logits, labels, **kw)
        loss.backward()
        d = {"logits": L(logits), "labels": labels.tolist(), "loss": L(loss), "dlogits": L(logits.grad)}
        if smoothing is not None:
            d["label_smoothing"] = smoothing
        return d

    out["cross_entropy"] = ce_case(2.0)
    out["cross_entropy_smoothing"] = ce_case(2.0, smoothing=0.1)
    out["cross_entropy_large"] = ce_case(1000.0)

    # mse (mean over all elements)
    inp = randn(N, 3).requires_grad_()
    tgt = randn(N, 3)
    loss = F.mse_loss(inp, tgt)
    loss.backward()
    out["mse"] = {"input": L(inp), "target": L(tgt), "loss": L(loss), "dinput": L(inp.grad)}

    # bce with logits (mean over all elements)
    inp = (randn(N, 3) * 3).requires_grad_()
    tgt = torch.randint(0, 2, (N, 3), generator=gen).to(DT)
    loss = F.binary_cross_entropy_with_logits(inp, tgt)
    loss.backward()
    out["bce_with_logits"] = {"input": L(inp), "target": L(tgt), "loss": L(loss), "dinput": L(inp.grad)}

    # mlp: Linear(5,7) -> Tanh -> Linear(7,6) -> ReLU -> Linear(6,3) -> CE
    for k in range(1000):
        g = torch.Generator().manual_seed(SEED + 1 + k)
        x = randn(N, 5, g=g)
        w0, b0 = randn(7, 5, g=g) * 0.6, randn(7, g=g) * 0.3
        w1, b1 = randn(6, 7, g=g) * 0.5, randn(6, g=g) * 0.3
        w2, b2 = randn(3, 6, g=g) * 0.5, randn(3, g=g) * 0.3
        labels = torch.randint(0, 3, (N,), generator=g)
        with torch.no_grad():
            pre = F.linear(torch.tanh(F.linear(x, w0, b0)), w1, b1)
        if pre.abs().min().item() >= 1e-3:
            break
    else:
        raise RuntimeError("could not draw an MLP with ReLU inputs away from 0")
    mlp_seed = SEED + 1 + k
    ps = [t.clone().requires_grad_() for t in (x, w0, b0, w1, b1, w2, b2)]
    x_, w0_, b0_, w1_, b1_, w2_, b2_ = ps
    h = torch.tanh(F.linear(x_, w0_, b0_))
    h = torch.relu(F.linear(h, w1_, b1_))
    logits = F.linear(h, w2_, b2_)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    out["mlp"] = {"x": L(x_), "labels": labels.tolist(),
                  "w0": L(w0_), "b0": L(b0_), "w1": L(w1_), "b1": L(b1_), "w2": L(w2_), "b2": L(b2_),
                  "loss": L(loss), "dx": L(x_.grad),
                  "dw0": L(w0_.grad), "db0": L(b0_.grad), "dw1": L(w1_.grad), "db1": L(b1_.grad),
                  "dw2": L(w2_.grad), "db2": L(b2_.grad)}
    return out, mlp_seed, pre.abs().min().item()


# -------------------------------------------------------------- optimizers
def make_optimizers():
    g = torch.Generator().manual_seed(SEED + 10000)
    param0 = randn(2, 3, g=g)
    grads = [randn(2, 3, g=g) for _ in range(10)]

    sgd_base = {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}
    adam_base = {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False}
    rms_base = {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False}
    specs = [
        ("sgd_plain", "sgd", dict(sgd_base)),
        ("sgd_momentum", "sgd", dict(sgd_base, momentum=0.9)),
        ("sgd_nesterov", "sgd", dict(sgd_base, momentum=0.9, nesterov=True)),
        ("sgd_weight_decay", "sgd", dict(sgd_base, momentum=0.9, weight_decay=0.01)),
        ("adam", "adam", dict(adam_base)),
        ("adam_weight_decay", "adam", dict(adam_base, weight_decay=0.01)),
        ("adamw", "adamw", dict(adam_base, weight_decay=0.01)),
        ("rmsprop", "rmsprop", dict(rms_base)),
        ("rmsprop_momentum", "rmsprop", dict(rms_base, momentum=0.9)),
    ]
    classes = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam,
               "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}
    cases = []
    for name, opt_name, hyper in specs:
        kw = dict(hyper)
        if "betas" in kw:
            kw["betas"] = tuple(kw["betas"])
        p = param0.clone().requires_grad_()
        try:
            opt = classes[opt_name]([p], foreach=False, **kw)
        except TypeError:  # very old torch without foreach=
            opt = classes[opt_name]([p], **kw)
        params = []
        for t in range(10):
            p.grad = grads[t].clone()
            opt.step()
            params.append(L(p.detach().clone()))
        cases.append({"name": name, "optimizer": opt_name, "hyper": hyper, "params": params})
    return {"torch_version": torch.__version__, "param0": L(param0),
            "grads": [L(t) for t in grads], "cases": cases}


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def main():
    print("torch", torch.__version__, "python", sys.version.split()[0])
    os.makedirs(OUT_DIR, exist_ok=True)
    layers, mlp_seed, min_pre = make_layers()
    opts = make_optimizers()
    lp = os.path.join(OUT_DIR, "layers.json")
    op = os.path.join(OUT_DIR, "optimizers.json")
    write(lp, layers)
    write(op, opts)
    print("mlp generator seed %d, min |ReLU pre-activation| = %.4g" % (mlp_seed, min_pre))
    for p in (lp, op):
        print("wrote %s (%d bytes)" % (os.path.relpath(p, REPO), os.path.getsize(p)))


if __name__ == "__main__":
    main()
