"""What makes the X-ray task hard for transfer? Each factor of the X-ray look, measured.

``python -m studies.xray_factors`` takes the real digits (100 training examples per seed,
the fixed test split) and applies the X-ray look of ``tlkit.datasets.xray_style`` with one
factor changed at a time:

* the noise level (sigma 0, 0.04, 0.08 = the course's X-ray task, 0.12);
* no inversion (bright strokes on a dark background, everything else as in the task);
* the task's images with a light Gaussian blur (sigma 0.7) applied before training and testing;

and trains, on the same draws and seeds, feature extraction, fine-tuning (top half) and
from scratch with the protocol's recipes (``tlkit.protocol``: same update budget for every
arm), plus a softmax probe on the features of ``medium``'s ``layer2`` (an earlier block).
Every test split is used once per model; nothing is selected on it. The result is the
paired difference of each transfer arm against from scratch, with its 95% interval.

Results: ``studies/results/xray_factors.json`` ({"meta", "records"}; records are single
runs ``{"variant", "arm", "seed", "accuracy"}``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from studies import use_research_engine
from tlkit.architectures import build_head
from tlkit.config import TrainingConfig
from tlkit.datasets import gaussian_blur, make_transfer_task, xray_style
from tlkit.nn.network import Network
from tlkit.pretrained import PretrainedModel
from tlkit.protocol import STUDY_RESULTS, fit, load_records, paired_difference, save_records
from tlkit.training import Trainer, evaluate

RESULTS_PATH = STUDY_RESULTS / "xray_factors.json"
SEEDS = (0, 1, 2, 3, 4)
ARMS = ("feature_extraction", "fine_tuning", "from_scratch", "probe_layer2")
# variant -> (xray_style keyword arguments, invert first?, blur sigma applied after)
VARIANTS: dict[str, tuple[dict, bool, float]] = {
    "noise 0": ({"noise_sigma": 0.0}, False, 0.0),
    "noise 0.04": ({"noise_sigma": 0.04}, False, 0.0),
    "noise 0.08 (the X-ray task)": ({"noise_sigma": 0.08}, False, 0.0),
    "noise 0.12": ({"noise_sigma": 0.12}, False, 0.0),
    "noise 0.08, not inverted": ({"noise_sigma": 0.08}, True, 0.0),
    "noise 0.08, then blurred": ({"noise_sigma": 0.08}, False, 0.7),
}


def styled(X: np.ndarray, variant: str, rng: np.random.Generator) -> np.ndarray:
    """The digits ``X`` with the X-ray look of ``variant``."""
    kwargs, undo_inversion, blur = VARIANTS[variant]
    # xray_style inverts; inverting its input first cancels that and keeps every other factor.
    out = xray_style(1.0 - X if undo_inversion else X, rng, **kwargs)
    if blur:
        out = np.clip(gaussian_blur(out, blur), 0.0, 1.0).astype(np.float32)
    return out


def probe_layer2(base: PretrainedModel, X_tr, y_tr, X_te, y_te, seed: int) -> float:
    """A softmax head on the flattened output of ``layer2`` (the feature-extraction recipe's rate and budget)."""
    def features(X):
        x, _ = base.to_network_input(X)
        for block in base.blocks[:2]:
            x = block.forward(x, training=False)
        return x.reshape(len(x), -1).astype(np.float32)

    F_tr, F_te = features(X_tr), features(X_te)
    head = Network([build_head(F_tr.shape[1], 10, np.random.default_rng(seed))])
    Trainer(head, TrainingConfig(epochs=75, learning_rate=1e-2, batch_size=32, seed=seed)).fit(F_tr, y_tr)
    return float(evaluate(head, F_te, y_te)[1])


def run(seeds=SEEDS, variants=tuple(VARIANTS), verbose: bool = True) -> list[dict]:
    base = PretrainedModel("medium")
    records = []
    for variant in variants:
        for seed in seeds:
            draw = make_transfer_task("high", n_train=100, seed=seed)
            # The same test images for every seed (the test split does not depend on the seed).
            test_rng = np.random.default_rng([2026, 1, list(VARIANTS).index(variant)])
            X_te = styled(np.asarray(draw.X_test), variant, test_rng)
            X_tr = styled(np.asarray(draw.X_train), variant, np.random.default_rng([2026, 0, seed]))
            start = time.perf_counter()
            for arm in ARMS:
                if arm == "probe_layer2":
                    accuracy = probe_layer2(base, X_tr, draw.y_train, X_te, draw.y_test, seed)
                else:
                    strategy, _ = fit(arm, base, X_tr, draw.y_train, seed=seed, num_classes=10)
                    accuracy = float(strategy.score(X_te, draw.y_test))
                records.append({"variant": variant, "arm": arm, "seed": seed, "accuracy": round(accuracy, 4)})
            if verbose:
                print(f"{variant:<28} seed {seed}: " + "  ".join(
                    f"{r['arm']} {r['accuracy']:.3f}" for r in records[-len(ARMS):])
                    + f"  ({time.perf_counter() - start:.1f} s)", flush=True)
    return records


def gaps(records: list[dict]) -> dict[tuple[str, str], object]:
    """(variant, arm) -> paired difference arm - from_scratch over the seeds."""
    out = {}
    for variant in dict.fromkeys(r["variant"] for r in records):
        by_arm = {}
        for r in sorted((r for r in records if r["variant"] == variant), key=lambda r: r["seed"]):
            by_arm.setdefault(r["arm"], []).append(r["accuracy"])
        for arm in ARMS:
            if arm != "from_scratch" and arm in by_arm:
                out[(variant, arm)] = paired_difference(by_arm["from_scratch"], by_arm[arm])
    return out


def load(path=RESULTS_PATH) -> list[dict]:
    return load_records(path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=len(SEEDS), help="number of seeds (0..n-1)")
    parser.add_argument("--out", default=str(RESULTS_PATH))
    args = parser.parse_args(argv)
    records = run(seeds=tuple(range(args.seeds)))
    meta = {"study": "studies.xray_factors", "seeds": args.seeds, "n_train": 100, "architecture": "medium",
            "arms": list(ARMS), "variants": list(VARIANTS),
            "budget": "tlkit.protocol recipes (same updates per arm); probe: 75 epochs, batch 32"}
    save_records(args.out, records, meta)
    for (variant, arm), d in gaps(records).items():
        print(f"{variant:<28} {arm:<20} - from_scratch: {100 * d.mean:+.1f} points "
              f"[{100 * d.ci95[0]:+.1f}, {100 * d.ci95[1]:+.1f}], {d.wins}/{d.n}")


if __name__ == "__main__":
    use_research_engine()
    main()
