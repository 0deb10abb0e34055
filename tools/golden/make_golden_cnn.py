#!/usr/bin/env python3
"""PyTorch (float64) oracle for NeuralNet's CNN layers: Conv2d, MaxPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d.

Writes tests/NeuralNet.Tests/Golden/cnn_layers.json.

Run from anywhere:  /usr/bin/python3 tools/golden/make_golden_cnn.py
Deterministic: fixed seed, explicit torch.Generator, float64 everywhere.
Each case stores the inputs (x, parameters, upstream gradient dy) and PyTorch's outputs and gradients of
f = sum(y * dy), the same scalar the C# tests backpropagate.
"""
import json
import os
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write("error: PyTorch is not importable by %s; use /usr/bin/python3 (python3-torch).\n" % sys.executable)
    sys.exit(1)

SEED = 4321
DT = torch.float64
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "NeuralNet.Tests", "Golden", "cnn_layers.json")

torch.set_default_dtype(DT)
gen = torch.Generator().manual_seed(SEED)


def randn(*shape):
    return torch.randn(*shape, generator=gen, dtype=DT)


def L(t):
    t = t.detach()
    return t.item() if t.dim() == 0 else t.tolist()


def backprop(y):
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    return dy


def conv_case(n, c, h, w, out, k, stride, padding):
    x = randn(n, c, h, w).requires_grad_()
    weight = randn(out, c, k, k).requires_grad_()
    bias = randn(out).requires_grad_()
    y = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    dy = backprop(y)
    return {"stride": stride, "padding": padding, "x": L(x), "weight": L(weight), "bias": L(bias), "dy": L(dy),
            "y": L(y), "dx": L(x.grad), "dweight": L(weight.grad), "dbias": L(bias.grad)}


def pool_case(fn, k, stride, shape):
    # Distinct values (a permutation scaled) so max pooling has no ties.
    count = 1
    for d in shape:
        count *= d
    x = (torch.randperm(count, generator=gen).to(DT) / count + 0.01 * randn(count)).reshape(shape).requires_grad_()
    y = fn(x, kernel_size=k, stride=stride)
    dy = backprop(y)
    return {"kernel_size": k, "stride": stride, "x": L(x), "dy": L(dy), "y": L(y), "dx": L(x.grad)}


def batchnorm_case(shape, momentum=0.1, eps=1e-5):
    c = shape[1]
    bn = torch.nn.BatchNorm1d(c, eps=eps, momentum=momentum) if len(shape) < 4 else torch.nn.BatchNorm2d(c, eps=eps, momentum=momentum)
    with torch.no_grad():
        bn.weight.copy_(1 + 0.5 * randn(c))
        bn.bias.copy_(randn(c))
        bn.running_mean.copy_(randn(c))
        bn.running_var.copy_(1 + randn(c).abs())
    rm0, rv0 = bn.running_mean.clone(), bn.running_var.clone()
    # Channels with different means and scales, so normalization has something to do.
    x = (3 * randn(*shape) + 2).requires_grad_()

    bn.train()
    y = bn(x)
    dy = backprop(y)
    case = {"eps": eps, "momentum": momentum, "x": L(x), "weight": L(bn.weight), "bias": L(bn.bias),
            "running_mean0": L(rm0), "running_var0": L(rv0), "dy": L(dy),
            "y": L(y), "dx": L(x.grad), "dweight": L(bn.weight.grad), "dbias": L(bn.bias.grad),
            "running_mean": L(bn.running_mean), "running_var": L(bn.running_var)}

    # Evaluation mode, with the running statistics just updated.
    bn.eval()
    bn.zero_grad()
    xe = x.detach().clone().requires_grad_()
    ye = bn(xe)
    dye = backprop(ye)
    case.update({"eval_dy": L(dye), "eval_y": L(ye), "eval_dx": L(xe.grad),
                 "eval_dweight": L(bn.weight.grad), "eval_dbias": L(bn.bias.grad)})
    return case


def main():
    print("torch", torch.__version__, "python", sys.version.split()[0])
    out = {"torch_version": torch.__version__, "seed": SEED}
    out["conv2d"] = conv_case(2, 3, 7, 6, 4, 3, stride=2, padding=1)
    out["conv2d_k5"] = conv_case(2, 2, 9, 8, 3, 5, stride=1, padding=2)
    out["maxpool"] = pool_case(F.max_pool2d, 2, 2, (2, 3, 6, 7))
    out["maxpool_overlap"] = pool_case(F.max_pool2d, 3, 2, (2, 2, 7, 8))
    out["avgpool"] = pool_case(F.avg_pool2d, 2, 2, (2, 3, 6, 7))
    out["avgpool_overlap"] = pool_case(F.avg_pool2d, 3, 2, (2, 2, 7, 8))
    out["batchnorm2d"] = batchnorm_case((4, 3, 5, 6))
    out["batchnorm1d"] = batchnorm_case((8, 5), momentum=0.2, eps=1e-3)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote %s (%d bytes)" % (os.path.relpath(OUT, REPO), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
