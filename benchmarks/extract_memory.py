"""``extract_features`` over many images in a fresh process: throughput and peak RSS.

``python -m benchmarks.extract_memory N [model]`` prints one JSON line. The input
(N, 8, 8) float32 and the (N, F) output are unavoidable; what must stay bounded by
the batch size (256) is the working memory on top of them.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from tlkit.nn import engine  # noqa: E402
from tlkit.pretrained import PretrainedModel  # noqa: E402


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 100_000
    with engine.using("fast"):  # what every benchmark times
        model = PretrainedModel(argv[1] if len(argv) > 1 else "medium")
    model.extract_features(np.zeros((300, 8, 8), np.float32))  # warm up (buffers, imports)
    start = _status_mb("VmRSS")
    x = np.random.default_rng(0).random((n, 8, 8), dtype=np.float32)
    after_input = _status_mb("VmRSS")
    t0 = time.perf_counter()
    feats = model.extract_features(x)
    seconds = time.perf_counter() - t0
    peak = _status_mb("VmHWM")
    out_mb = feats.nbytes / 2**20
    print(json.dumps({
        "model": model.architecture, "images": n, "features": feats.shape[1], "seconds": seconds,
        "images_per_s": n / seconds, "start_rss_mb": start, "input_mb": after_input - start,
        "output_mb": out_mb, "peak_rss_mb": peak, "working_mb": peak - after_input - out_mb,
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
