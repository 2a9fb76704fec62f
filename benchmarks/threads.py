"""One tlkit configuration's step times, for the thread-count decision (run in a fresh process).

``OPENBLAS_NUM_THREADS=2 python -m benchmarks.threads`` prints one JSON line with the median
wall and process-CPU time of a full step at batch 64 (medium, deep, cnn28) and the SGEMM
rate of a 1024^3 product, with whatever BLAS thread count the environment sets.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import numpy as np

from benchmarks.models import build_network, make_batch
from tlkit.nn import SGD, softmax_cross_entropy


def main() -> None:
    steps = {}
    for model in ("medium", "deep", "cnn28"):
        net, opt = build_network(model), SGD(lr=0.01)
        x, y = make_batch(model, 64)
        wall, cpu = [], []
        for i in range(60):
            w0, c0 = time.perf_counter(), time.process_time()
            logits = net.forward(x, training=True)
            _, g = softmax_cross_entropy(logits, y)
            net.backward(g)
            opt.step(net.param_groups())
            if i >= 10:
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
        steps[model] = {"wall_s": statistics.median(wall), "cpu_s": statistics.median(cpu),
                        "wall_p90_s": float(np.percentile(wall, 90))}
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    best = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        a @ a
        best = max(best, 2 * 1024**3 / (time.perf_counter() - t0) / 1e9)
    print(json.dumps({"threads": os.environ.get("OPENBLAS_NUM_THREADS"), "steps": steps, "sgemm_gflops": best}))


if __name__ == "__main__":
    main()
