#!/usr/bin/env python3
"""NumPy-written fixtures for the .npy/.npz reader and writer (NeuralNet.Checkpoints).

Writes:
  tests/NeuralNet.Tests/Golden/numpy_written_npz.json      np.savez of five small arrays, as base64
  tests/NeuralNet.Tests/Golden/numpy_written_headers.json  the exact header bytes NumPy writes

Run from anywhere:  /usr/bin/python3 tools/golden/make_npz_fixture.py
Needs only NumPy; the C# tests read the committed outputs and never run Python.
"""
import base64
import io
import json
import os
import sys

try:
    import numpy as np
except ImportError:
    sys.stderr.write("error: NumPy is not importable by %s; try /usr/bin/python3 "
                     "(apt-get install python3-numpy)\n" % sys.executable)
    sys.exit(1)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT_DIR = os.path.join(REPO, "tests", "NeuralNet.Tests", "Golden")


def write_npz():
    arrays = {
        "0.weight": np.arange(12, dtype=np.float32).reshape(3, 4) / np.float32(8),
        "0.bias": np.array([-1.5, 0, 2.25], dtype=np.float32),
        "scalar": np.array(3.141592653589793, dtype=np.float64),
        "big": np.arange(30, dtype=np.float64).reshape(2, 3, 5) / 7,
        "labels": np.array([3, 1, 4, 1], dtype=np.int64),
    }
    assert arrays["0.weight"].dtype == np.float32
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # ZIP_STORED, entries "<name>.npy", fixed 1980 timestamps
    # The archive's bytes travel as base64 inside JSON: the tests rebuild the .npz NumPy wrote from them.
    path = os.path.join(OUT_DIR, "numpy_written_npz.json")
    with open(path, "w") as f:
        json.dump({"numpy_version": np.__version__, "file": "numpy_written.npz",
                   "base64": base64.b64encode(buf.getvalue()).decode("ascii")}, f, indent=1)
        f.write("\n")
    print("wrote", path)


def header_case(label, array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array)
    data = buf.getvalue()
    header = data[:len(data) - array.nbytes]  # magic + version + length + dict + padding + '\n'
    return {
        "label": label,
        "descr": array.dtype.str,
        "shape": list(array.shape),
        "header_length": len(header),
        "header_text": header[10:].decode("latin1"),
        "header_bytes": list(header),
    }


def write_headers():
    cases = [
        header_case("float32 (128, 784)", np.zeros((128, 784), dtype=np.float32)),
        header_case("float64 (5,)", np.zeros(5, dtype=np.float64)),
        header_case("float64 scalar ()", np.array(0.0, dtype=np.float64)),
        # NOTE: magic+len+dict+'\n' is exactly 128 here, and NumPy still pads a full extra 64 bytes
        # (padlen = 64 - n % 64 is never 0), so the header is 192 bytes; writers must copy that quirk.
        header_case("float32 already-aligned quirk",
                    np.zeros((0, 100, 1000, 1000, 1, 1, 1, 1, 1, 1, 1, 1), dtype=np.float32)),
    ]
    out = {"numpy_version": np.__version__, "cases": cases}
    path = os.path.join(OUT_DIR, "numpy_written_headers.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    os.makedirs(OUT_DIR, exist_ok=True)
    write_npz()
    write_headers()
