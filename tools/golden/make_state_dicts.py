#!/usr/bin/env python3
"""Real PyTorch models for NeuralNet's import tests: state_dicts as .safetensors and .npz, plus inputs and logits.

Writes to tests/NeuralNet.Tests/Golden/StateDicts/:
  mlp.safetensors, mlp.npz   nn.Sequential(Linear(784, 5), ReLU, Linear(5, 3), ReLU, Linear(3, 10)): what
                             `nn import --arch mlp --hidden 5,3` builds
  cnn.safetensors, cnn.npz   conv(1→4, 3×3, pad 1, no bias)–BN–ReLU–maxpool 2 → conv(4→6, 3×3, pad 1)–BN–ReLU–maxpool 2
                             → flatten → linear 24→16–ReLU–dropout → linear 16→10, on 1×8×8 images
  cnn.arch.json              the same CNN in NeuralNet's architecture JSON (for `nn import --arch cnn.arch.json`)
  mlp_io.npz, cnn_io.npz     "inputs" and PyTorch's eval-mode "logits" for them (float32)

Each model first takes a few SGD steps in training mode on random data, so its weights have moved from their
initialization and BatchNorm's running statistics are far from (0, 1). The .npz files are what a PyTorch user writes
with NumPy: np.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()}). Debian has no Python safetensors
package and this torch cannot write the format, so save_safetensors below writes it (the layout is in
src/NeuralNet/Checkpoints/Safetensors.cs).

Run from anywhere:  /usr/bin/python3 tools/golden/make_state_dicts.py
Deterministic: fixed seed, CPU, float32.
"""
import json
import os
import struct
import sys

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError:
    sys.stderr.write("error: PyTorch or NumPy is not importable by %s; use /usr/bin/python3 (python3-torch, python3-numpy).\n" % sys.executable)
    sys.exit(1)

SEED = 2024
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "NeuralNet.Tests", "Golden", "StateDicts")

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL"}


def save_safetensors(path, state_dict, metadata=None):
    """8-byte little-endian header length, the JSON header padded with spaces to a multiple of 8, then the data."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        data = t.numpy().tobytes()  # row-major, native order: little-endian (checked in main)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def save_npz(path, state_dict):
    np.savez(path, **{k: v.numpy() for k, v in state_dict.items()})


def train_a_little(model, make_batch, steps=5):
    """SGD with momentum on random labels, in training mode: moves the weights and the running statistics."""
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.train()
    for _ in range(steps):
        x = make_batch()
        y = torch.randint(0, 10, (x.shape[0],))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()


def write(name, model, inputs):
    with torch.no_grad():
        logits = model(inputs)
    sd = model.state_dict()
    save_safetensors(os.path.join(OUT, name + ".safetensors"), sd, {"format": "pt"})
    save_npz(os.path.join(OUT, name + ".npz"), sd)
    np.savez(os.path.join(OUT, name + "_io.npz"), inputs=inputs.numpy(), logits=logits.numpy())
    print("%s: %s" % (name, ", ".join("%s %s" % (k, tuple(v.shape)) for k, v in sd.items())))


def main():
    print("torch", torch.__version__, "numpy", np.__version__)
    assert sys.byteorder == "little", "safetensors data is little-endian"
    torch.manual_seed(SEED)
    os.makedirs(OUT, exist_ok=True)

    mlp = nn.Sequential(nn.Linear(784, 5), nn.ReLU(), nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 10))
    train_a_little(mlp, lambda: torch.rand(16, 784))
    write("mlp", mlp, torch.rand(3, 784))

    cnn = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(6 * 2 * 2, 16), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(16, 10))
    # Inputs with a mean and spread far from (0, 1), so the running statistics end up far from their start.
    train_a_little(cnn, lambda: 2.0 + 3.0 * torch.randn(8, 1, 8, 8))
    write("cnn", cnn, 2.0 + 3.0 * torch.randn(4, 1, 8, 8))

    arch = {"type": "Sequential", "layers": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3, "stride": 1, "padding": 1, "bias": False},
        {"type": "BatchNorm2d", "num_features": 4, "eps": 1e-5, "momentum": 0.1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2, "stride": 2},
        {"type": "Conv2d", "in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": 1, "padding": 1, "bias": True},
        {"type": "BatchNorm2d", "num_features": 6, "eps": 1e-5, "momentum": 0.1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2, "stride": 2},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 24, "out_features": 16, "bias": True},
        {"type": "ReLU"},
        {"type": "Dropout", "p": 0.25},
        {"type": "Linear", "in_features": 16, "out_features": 10, "bias": True},
    ]}
    with open(os.path.join(OUT, "cnn.arch.json"), "w") as f:
        json.dump(arch, f, indent=1)
        f.write("\n")

    for f in sorted(os.listdir(OUT)):
        print("wrote %s (%d bytes)" % (os.path.relpath(os.path.join(OUT, f), REPO), os.path.getsize(os.path.join(OUT, f))))


if __name__ == "__main__":
    main()
