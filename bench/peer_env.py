"""What the PyTorch and NumPy comparison scripts share: thread settings made before NumPy or PyTorch load, the MNIST
reader, and a report of the machine and of the thread pools each peer actually runs on (threadpoolctl).

Thread settings must reach OpenBLAS and libgomp before they load, so a peer script calls `configure_threads` first and
imports NumPy/PyTorch after it. OMP_WAIT_POLICY=PASSIVE: without it libgomp's idle OpenMP threads spin against
OpenBLAS's own threads on a 2-core machine and PyTorch runs 2–3× slower than it can. A variable already set in the
environment wins, so `OMP_WAIT_POLICY=ACTIVE python3 …` still measures the other setting.
"""
import gzip
import json
import os
import platform
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BENCH_DLL = os.path.join(ROOT, "bench/NeuralNet.Benchmarks/bin/Release/net10.0/NeuralNet.Benchmarks.dll")


def configure_threads(threads, passive=True):
    """Sets the BLAS/OpenMP thread counts (and the passive wait policy); must run before NumPy or PyTorch is imported."""
    loaded = [m for m in ("numpy", "torch") if m in sys.modules]
    if loaded:
        raise RuntimeError(f"configure_threads: {', '.join(loaded)} already imported; its thread pools are fixed by now")
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))
    if passive:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def load(folder, kind):
    """MNIST-style gzip IDX files → (x float32 (N, 784) in [0, 1], y int64 (N,))."""
    import numpy as np
    with gzip.open(os.path.join(folder, f"{kind}-images-idx3-ubyte.gz")) as f:
        _, n, r, c = struct.unpack(">IIII", f.read(16))
        x = np.frombuffer(f.read(), dtype=np.uint8).reshape(n, r * c).astype(np.float32) / np.float32(255.0)
    with gzip.open(os.path.join(folder, f"{kind}-labels-idx1-ubyte.gz")) as f:
        f.read(8)
        y = np.frombuffer(f.read(), dtype=np.uint8).astype(np.int64)
    return x, y


def cpu():
    """CPU model ("model name" in /proc/cpuinfo) and the vector extensions it reports."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    model = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:  # generations apart where a hypervisor shows a generic name
        model += f" (family {fields['cpu family']}, model {fields['model']})"
    flags = set(fields.get("flags", "").split())
    isa = "AVX-512F" if "avx512f" in flags else "AVX2+FMA" if {"avx2", "fma"} <= flags else "no AVX2"
    return {"cpu": model, "logical_cores": os.cpu_count(), "cpu_isa": isa}


def ours_machine():
    """NeuralNet's own view (the benchmark's `machine` mode: instruction set in use, .NET), or the CPU alone if it is not built."""
    if os.path.exists(BENCH_DLL):
        try:
            out = subprocess.run(["dotnet", BENCH_DLL, "machine"], check=True, capture_output=True, text=True, timeout=60).stdout
            return json.loads(out.splitlines()[0])["machine"]
        except (subprocess.SubprocessError, OSError, ValueError, KeyError, IndexError):
            pass
    info = cpu()
    info["isa"] = f"{info['cpu_isa']} (from /proc/cpuinfo; build bench/NeuralNet.Benchmarks for the library's own report)"
    return info


def pools():
    """threadpoolctl's report of the loaded BLAS and OpenMP libraries: which library, version, kernels, threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl missing: sudo apt-get install -y python3-threadpoolctl"
    keys = ("user_api", "internal_api", "version", "architecture", "threading_layer", "num_threads", "filepath")
    return [{k: d.get(k) for k in keys if d.get(k) is not None} for d in threadpool_info()]


def report(impl, torch=None):
    """One JSON-able dict describing a peer's run: CPU, thread pools, environment, versions (and PyTorch's CPU path)."""
    import numpy as np
    r = {"impl": impl, **cpu(), "numpy": np.__version__, "python": platform.python_version(), "pools": pools(),
         "env": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY")}}
    if torch is not None:
        r["torch"] = torch.__version__
        r["torch_threads"] = torch.get_num_threads()
        r["torch_cpu_capability"] = next((l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines()
                                          if "CPU capability usage" in l), None)
        r["mkldnn"] = bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled)
    return r


def describe(r):
    """A report as readable lines."""
    lines = [f"{r['impl']}: {r.get('cpu')} ({r.get('logical_cores')} logical cores, {r.get('cpu_isa')}); NumPy {r.get('numpy')}"
             + (f", PyTorch {r['torch']} ({r['torch_threads']} threads, CPU capability {r['torch_cpu_capability']}, "
                f"oneDNN {'on' if r['mkldnn'] else 'off'})" if "torch" in r else "")
             + f"; env {r['env']}"]
    pl = r.get("pools")
    if isinstance(pl, list):
        for p in pl:
            lines.append("    threadpoolctl: " + ", ".join(f"{k}={v}" for k, v in p.items()))
    else:
        lines.append(f"    {pl}")
    return "\n".join(lines)


def unsteady(times, limit=1.5):
    """The contenders whose timed epochs range more than `limit`× (slowest/fastest): the machine's speed changed during
    the run (a shared host), so the ratios of its medians are not to be quoted. Prints a note naming them."""
    names = [n for n, t in times.items() if t and max(t) > limit * min(t)]
    if names:
        print(f"\nnote: the epochs of {', '.join(names)} range more than {limit}× within this run: the machine's speed "
              "changed while it ran; rerun before quoting these ratios.")
    return names
