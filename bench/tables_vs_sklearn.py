#!/usr/bin/python3
"""nn train --csv against scikit-learn's MLPClassifier / MLPRegressor on the tables scikit-learn ships.

For each data set (breast_cancer, wine, digits: classification; diabetes: regression) and each split seed, the script
writes the same stratified 80/20 split (20% test) as two CSV files, trains `nn train --csv train.csv --test test.csv`
with nn's defaults, and fits scikit-learn's MLP (default settings, max_iter=1000, standardized features, and for
regression a standardized target) on the same training rows. It prints the test accuracy (or R²) of both, the mean over
the seeds, and a Markdown table.

    /usr/bin/python3 bench/tables_vs_sklearn.py [--seeds 5] [--nn PATH] [--out DIR] [-- extra nn train options]

Needs Debian's python3-sklearn and a Release build of the CLI (dotnet build -c Release).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NN = os.path.join(ROOT, "src/NeuralNet.Cli/bin/Release/net10.0/nn")

TABLES = {
    "breast_cancer": (datasets.load_breast_cancer, "classification"),
    "wine": (datasets.load_wine, "classification"),
    "digits": (datasets.load_digits, "classification"),
    "diabetes": (datasets.load_diabetes, "regression"),
}


def write_csv(path, columns, x, y, names=None):
    with open(path, "w") as f:
        f.write(",".join(columns + ["target"]) + "\n")
        for row, t in zip(x, y):
            target = names[int(t)] if names is not None else str(int(t)) if float(t).is_integer() else repr(float(t))
            f.write(",".join(repr(float(v)) for v in row) + "," + target + "\n")


def write_png(path, pixels):
    """An 8-bit grey PNG of a 2-D list of values in [0, 255], with nothing but zlib."""
    import struct
    import zlib
    h, w = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(int(v) for v in row) for row in pixels)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def export(folder):
    os.makedirs(folder, exist_ok=True)
    for name, (load, _) in TABLES.items():
        bunch = load()
        columns = [str(c).replace(" ", "_") for c in bunch.feature_names]
        names = list(bunch.target_names) if name == "breast_cancer" else None  # malignant, benign
        write_csv(os.path.join(folder, name + ".csv"), columns, bunch.data, bunch.target, names)
        print(f"wrote {os.path.join(folder, name + '.csv')}: {bunch.data.shape[0]} rows, {bunch.data.shape[1]} features and 'target'")
    digits = datasets.load_digits()
    for i, (image, label) in enumerate(zip(digits.images, digits.target)):
        d = os.path.join(folder, "digits_png", str(label))
        os.makedirs(d, exist_ok=True)
        write_png(os.path.join(d, f"{i:04d}.png"), [[v * 255 / 16 for v in row] for row in image])
    print(f"wrote {os.path.join(folder, 'digits_png')}: {len(digits.images)} 8x8 grey PNGs in one folder per class")


def sklearn_score(task, seed, x_train, y_train, x_test, y_test):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if task == "classification":
            model = make_pipeline(StandardScaler(), MLPClassifier(max_iter=1000, random_state=seed))
            model.fit(x_train, y_train)
            return accuracy_score(y_test, model.predict(x_test))
        model = TransformedTargetRegressor(make_pipeline(StandardScaler(), MLPRegressor(max_iter=1000, random_state=seed)), transformer=StandardScaler())
        model.fit(x_train, y_train)
        return r2_score(y_test, model.predict(x_test))


def nn_score(nn, task, seed, train_csv, test_csv, out, extra):
    cmd = [nn, "train", "--csv", train_csv, "--test", test_csv, "--target", "target", "--seed", str(seed),
           "--output", out, "--quiet", "--no-figures"] + extra
    subprocess.run(cmd, check=True)
    with open(os.path.join(out, "metrics.json")) as f:
        m = json.load(f)
    return m["test_accuracy"] if task == "classification" else m["test_r2"], m["epochs"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--nn", default=NN)
    ap.add_argument("--out", default=None, help="folder for the CSV files and runs (default: a temporary folder)")
    ap.add_argument("--only", default=None, help="comma-separated data sets")
    ap.add_argument("--export", default=None, help="only write the tables (and digits as PNG folders) to this folder")
    ap.add_argument("extra", nargs="*", help="options passed on to nn train (after --)")
    a = ap.parse_args()
    if a.export:
        export(a.export)
        return
    root = a.out or tempfile.mkdtemp(prefix="tables_vs_sklearn_")
    names = a.only.split(",") if a.only else list(TABLES)
    rows = []
    for name in names:
        load, task = TABLES[name]
        bunch = load()
        x, y = bunch.data, bunch.target
        columns = [str(c).replace(" ", "_") for c in (bunch.feature_names if hasattr(bunch, "feature_names") else range(x.shape[1]))]
        ours, theirs, epochs = [], [], []
        t0 = time.time()
        for seed in range(a.seeds):
            x_train, x_test, y_train, y_test = train_test_split(
                x, y, test_size=0.2, random_state=seed, stratify=y if task == "classification" else None)
            folder = os.path.join(root, name, str(seed))
            os.makedirs(folder, exist_ok=True)
            train_csv, test_csv = os.path.join(folder, "train.csv"), os.path.join(folder, "test.csv")
            write_csv(train_csv, columns, x_train, y_train)
            write_csv(test_csv, columns, x_test, y_test)
            s_nn, ep = nn_score(a.nn, task, seed, train_csv, test_csv, os.path.join(folder, "nn"), a.extra)
            s_sk = sklearn_score(task, seed, x_train, y_train, x_test, y_test)
            ours.append(s_nn)
            theirs.append(s_sk)
            epochs.append(ep)
            print(f"{name} seed {seed}: nn {s_nn:.4f} ({ep} epochs)  sklearn {s_sk:.4f}", flush=True)
        metric = "accuracy" if task == "classification" else "R²"
        rows.append((name, x.shape[0], x.shape[1], metric, np.mean(ours), np.std(ours), np.mean(theirs), np.std(theirs), np.mean(epochs), time.time() - t0))
    print()
    print(f"| table | rows | features | metric | nn (mean ± sd over {a.seeds} seeds) | scikit-learn MLP | nn ≥ sklearn |")
    print("|---|---:|---:|---|---:|---:|---|")
    for name, n, f, metric, m1, s1, m2, s2, ep, secs in rows:
        print(f"| {name} | {n} | {f} | test {metric} | {m1:.4f} ± {s1:.4f} | {m2:.4f} ± {s2:.4f} | {'yes' if m1 >= m2 else 'no'} |")


if __name__ == "__main__":
    main()
