"""Per-op profile of one tlkit training step: where the time goes, layer by layer.

``python -m benchmarks.profile_ops [model] [batch]`` prints it (default: medium and deep, 64).

Every layer's ``forward`` and ``backward`` is wrapped (on the instance only) with a
timer; the loss and the optimizer update are timed too. The matrix products are then
replayed alone with the same shapes, so the report can say how much of the step is
GEMM and at what GFLOP/s, and how much is the NumPy glue around it (im2col, col2im
adds, pooling, BatchNorm, ReLU).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.models import build_network, make_batch  # noqa: E402
from tlkit.nn import SGD, Conv2D, Dense, softmax_cross_entropy  # noqa: E402


def _wrap(obj, name: str, key: str, totals: dict[str, float]) -> None:
    inner = getattr(obj, name)

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        out = inner(*args, **kwargs)
        totals[key] += time.perf_counter() - t0
        return out

    setattr(obj, name, timed)


def _gemm_replay(network, x: np.ndarray, repeats: int) -> tuple[float, float]:
    """(seconds, flops) of the step's matrix products replayed alone with the same shapes."""
    shape = x.shape
    n = shape[0]
    jobs = []
    first = True
    for block in network.blocks:
        for _, layer in block.layers:
            if isinstance(layer, Conv2D) and layer._use_dense(shape[1], shape[2]):
                # small maps: one product with the (H*W*Cin, Ho*Wo*Cout) block matrix
                ho, wo, cout = layer.output_shape(shape[1:])
                a = np.ones((n, shape[1] * shape[2] * layer.in_channels), np.float32)
                big = np.ones((a.shape[1], ho * wo * cout), np.float32)
                g = np.ones((n, big.shape[1]), np.float32)
                f = 2.0 * a.size * big.shape[1]
                jobs += [((lambda a=a, b=big: a @ b), f), ((lambda a=a, g=g: a.T @ g), f)]
                if not first:
                    jobs.append(((lambda g=g, b=big: g @ b.T), f))
                first = False
            elif isinstance(layer, Conv2D):
                ho, wo, cout = layer.output_shape(shape[1:])
                kh, kw = layer.kernel_size
                k = kh * kw * layer.in_channels
                m = n * ho * wo
                cols = np.ones((m, k), np.float32)
                w = np.ones((k, cout), np.float32)
                dout = np.ones((m, cout), np.float32)
                jobs.append(((lambda c=cols, w=w: c @ w), 2.0 * m * k * cout))
                jobs.append(((lambda c=cols, d=dout: c.T @ d), 2.0 * m * k * cout))
                if not first:
                    wt = np.ones((kh * kw, cout, layer.in_channels), np.float32)
                    jobs.append(((lambda d=dout, wt=wt: np.matmul(d, wt)), 2.0 * m * k * cout))
                first = False
            elif isinstance(layer, Dense):
                a = np.ones((n, layer.in_features), np.float32)
                w = np.ones((layer.in_features, layer.out_features), np.float32)
                g = np.ones((n, layer.out_features), np.float32)
                f = 2.0 * n * layer.in_features * layer.out_features
                jobs += [((lambda a=a, w=w: a @ w), f), ((lambda a=a, g=g: a.T @ g), f)]
                if not first:
                    jobs.append(((lambda g=g, w=w: g @ w.T), f))
                first = False
            shape = (n, *layer.output_shape(shape[1:]))
    for fn, _ in jobs:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for fn, _ in jobs:
            fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), sum(f for _, f in jobs)


def profile_step(model: str, batch: int = 64, steps: int = 60) -> dict:
    """Mean seconds per step of every (block.layer, forward|backward), the loss and the update."""
    network = build_network(model, seed=0)
    x, y = make_batch(model, batch)
    optimizer = SGD(lr=0.01)
    totals: dict[str, float] = defaultdict(float)
    kinds: dict[str, str] = {}
    for block in network.blocks:
        for lname, layer in block.layers:
            key = f"{block.name}.{lname}"
            kinds[key] = type(layer).__name__
            _wrap(layer, "forward", f"{key} forward", totals)
            _wrap(layer, "backward", f"{key} backward", totals)

    def step() -> None:
        t0 = time.perf_counter()
        logits = network.forward(x, training=True)
        t1 = time.perf_counter()
        _, grad = softmax_cross_entropy(logits, y)
        t2 = time.perf_counter()
        network.backward(grad)
        t3 = time.perf_counter()
        optimizer.step(network.param_groups())
        t4 = time.perf_counter()
        totals["loss"] += t2 - t1
        totals["optimizer"] += t4 - t3
        totals["step"] += t4 - t0

    for _ in range(5):
        step()
    totals.clear()
    for _ in range(steps):
        step()
    per_step = {k: v / steps for k, v in totals.items()}
    by_kind: dict[str, float] = defaultdict(float)
    for key, seconds in per_step.items():
        if key in ("step", "loss", "optimizer"):
            continue
        layer_key, direction = key.rsplit(" ", 1)
        by_kind[f"{kinds[layer_key]} {direction}"] += seconds
    by_kind["loss"] = per_step["loss"]
    by_kind["optimizer"] = per_step["optimizer"]
    accounted = sum(by_kind.values())
    by_kind["python glue (blocks, param_groups)"] = max(0.0, per_step["step"] - accounted)
    gemm_s, gemm_f = _gemm_replay(network, x, repeats=max(10, steps // 3))
    return {
        "model": model, "batch": batch, "step_s": per_step["step"],
        "by_layer": {k: v for k, v in per_step.items() if k not in ("step", "loss", "optimizer")},
        "by_kind": dict(sorted(by_kind.items(), key=lambda kv: -kv[1])),
        "gemm_s": gemm_s, "gemm_gflops": gemm_f / gemm_s / 1e9, "gemm_share": gemm_s / per_step["step"],
    }


def format_profile(p: dict) -> str:
    step = p["step_s"]
    lines = [f"{p['model']} full step at batch {p['batch']}: {step * 1e3:.2f} ms; the same GEMMs alone "
             f"{p['gemm_s'] * 1e3:.2f} ms ({p['gemm_share']:.0%} of the step) at {p['gemm_gflops']:.1f} GFLOP/s"]
    lines.append("  by op kind:")
    for key, s in p["by_kind"].items():
        lines.append(f"    {key:<36} {s * 1e3:7.3f} ms  {s / step:6.1%}")
    lines.append("  top layers:")
    top = sorted(p["by_layer"].items(), key=lambda kv: -kv[1])[:8]
    for key, s in top:
        lines.append(f"    {key:<36} {s * 1e3:7.3f} ms  {s / step:6.1%}")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    models = [argv[0]] if argv else ["medium", "deep"]
    batch = int(argv[1]) if len(argv) > 1 else 64
    for model in models:
        print(format_profile(profile_step(model, batch)))


if __name__ == "__main__":
    main(sys.argv[1:])
