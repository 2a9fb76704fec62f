"""The readable engine against the fast one: full training step and extraction, interleaved.

``python -m benchmarks.engines [model ...]`` builds each model on the readable engine and
converts a copy to the fast one (``tlkit.nn.fast.convert``: the same weights), and times, A B A B
in one process, the full step at batch 64 and ``Network.infer`` at batch 256. Prints wall and
CPU-time ratios readable/fast: what the tuned kernels buy.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402

from benchmarks.models import MODELS, build_network, make_batch  # noqa: E402
from benchmarks.run import interleaved, sgd_step  # noqa: E402
from tlkit.nn import fast  # noqa: E402


def main(argv: list[str]) -> None:
    for model in argv or list(MODELS):
        readable = build_network(model, engine="readable")
        nets = {"readable": readable, "fast": fast.convert(readable)}
        for case, batch in (("full", 64), ("extract", 256)):
            x, y = make_batch(model, batch)
            fns = {name: sgd_step(net, x, y) if case == "full" else (lambda n=net, x=x: n.infer(x))
                   for name, net in nets.items()}
            res = interleaved(fns, rounds=7)
            fast_ms, readable_ms = res["fast"][0] * 1e3, res["readable"][0] * 1e3
            print(f"{model:7s} {case:8s} fast {fast_ms:8.3f} ms  readable {readable_ms:8.3f} ms"
                  f"  readable/fast {res['readable'][0] / res['fast'][0]:.2f} wall, "
                  f"{res['readable'][1] / res['fast'][1]:.2f} CPU time", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
