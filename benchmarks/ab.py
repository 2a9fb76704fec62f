"""A/B timing of the engine's layers: the working tree against a git revision, interleaved.

``python -m benchmarks.ab [REV] [model ...]`` (REV defaults to HEAD) loads ``tlkit/nn`` as it
is at REV into a private package, builds every model twice (same weights: the layers of
the second copy are the REV classes), and times the full step at batch 64, A B A B, in
one process. On a shared machine this is how to tell whether a change helped.

Only the layers differ: both copies run in the working tree's ``Network`` and ``Block``.
The second case, ``forward``, is ``Network.forward(x, training=False)`` at batch 256, the
path every layer has at any revision; the fused inference path (``Network.infer``: folded
BatchNorm, chunking) needs the layers' ``infer`` and is measured by ``benchmarks.run``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import copy  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.models import build_network, make_batch  # noqa: E402
from benchmarks.run import interleaved, sgd_step  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def load_engine(rev: str):
    """``tlkit/nn`` at ``rev`` as a package named ``tlkit_ab_nn`` (imports rewritten)."""
    tmp = Path(tempfile.mkdtemp()) / "tlkit_ab_nn"
    tmp.mkdir()
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", f"{rev}:tlkit/nn"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    for name in names:  # with tlkit/nn/fast/ (the fast engine) where the revision has it
        if name.endswith(".py"):
            text = subprocess.run(["git", "show", f"{rev}:tlkit/nn/{name}"], cwd=ROOT, check=True,
                                  capture_output=True, text=True).stdout
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(text.replace("tlkit.nn.", "tlkit_ab_nn.").replace("from tlkit.nn import",
                                                                                      "from tlkit_ab_nn import"))
    sys.path.insert(0, str(tmp.parent))
    return importlib.import_module("tlkit_ab_nn")


def with_engine(network, engine):
    """A deep copy of ``network`` whose layers are the same-named classes of ``engine``, same weights."""
    other = copy.deepcopy(network)
    for block in other.blocks:
        for index, (name, layer) in enumerate(block.layers):
            block.layers[index] = (name, _twin(layer, getattr(engine, type(layer).__name__)))
    return other


def _twin(layer, cls):
    params = inspect.signature(cls.__init__).parameters
    args = {key: getattr(layer, key) for key in params if key not in ("self", "rng") and hasattr(layer, key)}
    if "rng" in params:
        args["rng"] = np.random.default_rng(0)
    twin = cls(**args)
    for store in ("params", "buffers"):
        getattr(twin, store).update(getattr(layer, store))
    twin.grads = {k: v.copy() for k, v in layer.grads.items()}
    return twin


def main(argv: list[str]) -> None:
    rev = argv[0] if argv else "HEAD"
    models = argv[1:] or ["simple", "medium", "deep", "cnn28", "mlp"]
    engine = load_engine(rev)
    for model in models:
        for case in ("full", "forward"):
            new = build_network(model)
            old = with_engine(new, engine)
            x, y = make_batch(model, 64 if case == "full" else 256)
            if case == "full":
                fns = {"new": sgd_step(new, x, y), "old": sgd_step(old, x, y)}
            else:
                fns = {"new": lambda n=new, x=x: n.forward(x), "old": lambda o=old, x=x: o.forward(x)}
            res = interleaved(fns, rounds=9)
            print(f"{model:7s} {case:8s} new {res['new'][0] * 1e3:7.3f} ms  {rev} {res['old'][0] * 1e3:7.3f} ms  "
                  f"new/old {res['new'][0] / res['old'][0]:.2f} wall, {res['new'][1] / res['old'][1]:.2f} CPU time",
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
