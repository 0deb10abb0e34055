#!/usr/bin/env python3
"""ONNX files written by PyTorch's exporter (and two by onnx.helper) for NeuralNet's ONNX import tests.

Writes to tests/NeuralNet.Tests/Golden/Onnx/, for each NAME below, NAME.onnx and NAME_io.npz ("input" and the
expected "output"):

  mlp_opset11, mlp_opset17   Linear(20, 16)–BatchNorm1d–ReLU → Linear(16, 12)–Tanh → Linear(12, 10)–Sigmoid →
                             Linear(10, 8)–LeakyReLU(0.1)–Dropout → Linear(8, 4)–Softmax(dim=1), on (N, 20)
                             (torch.onnx.export's default: Gemm, BatchNormalization, …; dropout leaves no node)
  cnn_bn_opset11, cnn_bn_opset17
                             conv(1→4, 3×3, pad 1)–BN–ReLU–maxpool 2 → conv(4→6, 3×3, stride 2, pad 1, no bias)–BN–ReLU
                             –avgpool 2 stride 1 → flatten → linear 24→10–ReLU → linear 10→5, on (N, 1, 12, 12),
                             exported with training=PRESERVE so BatchNormalization stays a node (AvgPool2d comes out
                             as a zero Pad then AveragePool)
  cnn_fused_opset17          the same CNN exported in the default EVAL mode: the exporter folds each BatchNorm into
                             the convolution before it
  cnn_view_opset11, cnn_view_opset13
                             the same CNN flattening with x.view(x.size(0), -1) and a dynamic batch: the exporter
                             writes Shape → Gather → Unsqueeze → Concat → Reshape (Unsqueeze's axes an attribute at
                             opset 11, a Constant input at 13)
  handmade_float_data        onnx.helper, opset 13: Reshape(x, [0, -1]) with the shape in int64_data → MatMul + Add →
                             Relu → Gemm (transB = 0) → Identity, weights in float_data (not raw_data), on (N, 2, 3)
  handmade_double_data       onnx.helper, opset 13, float64 throughout: Gemm (transB = 1) with double_data weights →
                             Tanh → Softmax(axis = -1), on (N, 5)

Every PyTorch model first takes a few SGD steps in training mode on random data, so the weights have moved and
BatchNorm's running statistics are far from (0, 1); the expected outputs are PyTorch's eval-mode outputs (float32).
The handmade models' outputs are computed by NumPy (float32, resp. float64).

Run from anywhere:  /usr/bin/python3 tools/golden/make_onnx_fixtures.py
Deterministic: fixed seed, CPU. Produced with torch 1.13 and onnx 1.12 (Debian bookworm); a few KB per file.
"""
import os
import sys

try:
    import numpy as np
    import onnx
    import torch
    from onnx import TensorProto, helper
    from torch import nn
except ImportError:
    sys.stderr.write("error: PyTorch, ONNX or NumPy is not importable by %s; use /usr/bin/python3 "
                     "(python3-torch, python3-onnx, python3-numpy).\n" % sys.executable)
    sys.exit(1)

SEED = 2025
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "tests", "NeuralNet.Tests", "Golden", "Onnx")


class ViewFlatten(nn.Module):
    """x.view(x.size(0), -1): the flattening older code writes instead of nn.Flatten."""

    def forward(self, x):
        return x.view(x.size(0), -1)


def mlp():
    return nn.Sequential(
        nn.Linear(20, 16), nn.BatchNorm1d(16), nn.ReLU(),
        nn.Linear(16, 12), nn.Tanh(),
        nn.Linear(12, 10), nn.Sigmoid(),
        nn.Linear(10, 8), nn.LeakyReLU(0.1), nn.Dropout(0.2),
        nn.Linear(8, 4), nn.Softmax(dim=1))


def cnn(flatten):
    # 12 → conv pad 1 → 12 → maxpool 2 → 6 → conv stride 2 pad 1 → 3 → avgpool 2 stride 1 → 2; 6·2·2 = 24
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(), nn.AvgPool2d(2, stride=1),
        flatten,
        nn.Linear(24, 10), nn.ReLU(),
        nn.Linear(10, 5))


def train_a_little(model, shape, classes, steps=5):
    """A few SGD steps on random data in training mode: weights move, BatchNorm's running statistics move."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        x = torch.randn(16, *shape) * 2 + 0.5
        y = torch.randint(0, classes, (16,))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()


def export(model, name, sample_shape, opset, training=torch.onnx.TrainingMode.EVAL):
    x = torch.randn(3, *sample_shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=opset, training=training, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    onnx.checker.check_model(onnx.load(path))
    np.savez(os.path.join(OUT, name + "_io.npz"), input=x.numpy(), output=y.numpy())
    return path


def float_data_model():
    """Weights in TensorProto.float_data, the shape constant in int64_data: fields torch's exporter never writes."""
    rng = np.random.default_rng(SEED)
    w1 = rng.normal(size=(6, 5)).astype(np.float32)      # MatMul's B: (in, out)
    b1 = rng.normal(size=(5,)).astype(np.float32)
    w2 = rng.normal(size=(5, 3)).astype(np.float32)      # Gemm with transB = 0: (in, out)
    b2 = rng.normal(size=(1, 3)).astype(np.float32)
    init = [
        helper.make_tensor("flat", TensorProto.INT64, [2], [0, -1]),
        helper.make_tensor("w1", TensorProto.FLOAT, w1.shape, w1.flatten().tolist()),
        helper.make_tensor("b1", TensorProto.FLOAT, b1.shape, b1.tolist()),
        helper.make_tensor("w2", TensorProto.FLOAT, w2.shape, w2.flatten().tolist()),
        helper.make_tensor("b2", TensorProto.FLOAT, b2.shape, b2.flatten().tolist()),
    ]
    nodes = [
        helper.make_node("Reshape", ["input", "flat"], ["x"], name="flatten"),
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
        helper.make_node("Add", ["h", "b1"], ["h1"], name="fc1_bias"),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu"),
        helper.make_node("Gemm", ["a1", "w2", "b2"], ["y"], name="fc2", transB=0),
        helper.make_node("Identity", ["y"], ["output"], name="out"),
    ]
    graph = helper.make_graph(nodes, "handmade_float_data",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 2, 3])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3])], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="onnx.helper")
    assert all(len(t.raw_data) == 0 for t in model.graph.initializer)
    x = rng.normal(size=(4, 2, 3)).astype(np.float32)
    h = np.maximum(x.reshape(4, 6) @ w1 + b1, 0)
    y = (h @ w2 + b2).astype(np.float32)
    return model, x, y


def double_data_model():
    rng = np.random.default_rng(SEED + 1)
    w = rng.normal(size=(4, 5))                           # Gemm with transB = 1: (out, in), like nn.Linear
    b = rng.normal(size=(4,))
    init = [helper.make_tensor("w", TensorProto.DOUBLE, w.shape, w.flatten().tolist()),
            helper.make_tensor("b", TensorProto.DOUBLE, b.shape, b.tolist())]
    nodes = [helper.make_node("Gemm", ["input", "w", "b"], ["z"], name="fc", transB=1),
             helper.make_node("Tanh", ["z"], ["t"], name="tanh"),
             helper.make_node("Softmax", ["t"], ["output"], name="softmax", axis=-1)]
    graph = helper.make_graph(nodes, "handmade_double_data",
                              [helper.make_tensor_value_info("input", TensorProto.DOUBLE, ["N", 5])],
                              [helper.make_tensor_value_info("output", TensorProto.DOUBLE, ["N", 4])], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="onnx.helper")
    assert all(len(t.raw_data) == 0 and len(t.double_data) > 0 for t in model.graph.initializer)
    x = rng.normal(size=(3, 5))
    t = np.tanh(x @ w.T + b)
    e = np.exp(t - t.max(axis=1, keepdims=True))
    return model, x, e / e.sum(axis=1, keepdims=True)


def main():
    torch.manual_seed(SEED)
    os.makedirs(OUT, exist_ok=True)
    written = []

    m = mlp()
    train_a_little(m, (20,), 4)
    for opset in (11, 17):
        written.append(export(m, "mlp_opset%d" % opset, (20,), opset))

    c = cnn(nn.Flatten())
    train_a_little(c, (1, 12, 12), 5)
    for opset in (11, 17):
        written.append(export(c, "cnn_bn_opset%d" % opset, (1, 12, 12), opset, torch.onnx.TrainingMode.PRESERVE))
    written.append(export(c, "cnn_fused_opset17", (1, 12, 12), 17))

    v = cnn(ViewFlatten())
    v.load_state_dict(c.state_dict())
    v.eval()
    for opset in (11, 13):
        written.append(export(v, "cnn_view_opset%d" % opset, (1, 12, 12), opset))

    for name, (model, x, y) in (("handmade_float_data", float_data_model()), ("handmade_double_data", double_data_model())):
        onnx.checker.check_model(model)
        path = os.path.join(OUT, name + ".onnx")
        onnx.save(model, path)
        np.savez(os.path.join(OUT, name + "_io.npz"), input=x, output=y)
        written.append(path)

    for path in written:
        g = onnx.load(path).graph
        ops = [n.op_type for n in g.node]
        print("%-24s %6d bytes  %s" % (os.path.basename(path), os.path.getsize(path), " ".join(ops)))


if __name__ == "__main__":
    main()
