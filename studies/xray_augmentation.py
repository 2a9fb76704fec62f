"""Why does augmentation cost from-scratch training points on the X-ray task?

The learning-curve study finds that from scratch with the ``Augmenter`` (shifts up to 1 pixel,
rotations up to 15 degrees, scalings up to 10%, background fill) scores well below plain from
scratch on the X-ray images at every size, while it helps on the wild digits. A hypothesis:
the warp resamples each image with bilinear interpolation, which averages neighbouring pixels
and so removes part of the X-ray task's pixel noise: the network trains on cleaner images than
it is tested on. ``python -m studies.xray_augmentation`` measures it:

* the **smoothing** of each warp: the standard deviation of horizontal neighbour differences
  (a measure of pixel noise) of the training images, before and after the warp;
* from scratch on the X-ray task (100 training examples, 5 paired seeds, the protocol's
  ``from_scratch`` recipe: same rate, batch and number of updates for every arm) with no
  augmentation, the study's augmentation, shifts only, rotations only, and the study's
  augmentation with the task's noise (sigma 0.08) added back after the warp;
* the budget: no augmentation and the study's augmentation again at 3x the updates (augmented
  training often needs longer), so that a verdict does not rest on one budget.

Each arm is compared with no augmentation at the same budget: the paired difference with its
95% interval. The test split is scored once per model; nothing is selected on it.

Results: ``studies/results/xray_augmentation.json`` ({"meta", "records"}; records are single
runs ``{"arm", "updates", "seed", "accuracy"}`` and one ``{"arm", "noise_before",
"noise_after"}`` per warp).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from studies import use_research_engine
from tlkit.datasets import Augmenter, make_transfer_task
from tlkit.pretrained import PretrainedModel
from tlkit.protocol import RECIPES, STUDY_RESULTS, fit, format_difference, load_records, paired_difference, save_records

RESULTS_PATH = STUDY_RESULTS / "xray_augmentation.json"
SEEDS = (0, 1, 2, 3, 4)
TASK_NOISE = 0.08  # the noise sigma of the course's X-ray look (tlkit.datasets.xray_style)
STUDY_WARP = {"max_shift": 1.0, "max_rotation": 15.0, "max_scale": 0.1}  # studies.study.AUGMENTATION
ARMS: dict[str, Augmenter | None] = {
    "none": None,
    "study augmentation": Augmenter(**STUDY_WARP),
    "shifts only": Augmenter(max_shift=1.0, max_rotation=0.0, max_scale=0.0),
    "rotations only": Augmenter(max_shift=0.0, max_rotation=15.0, max_scale=0.0),
    "study augmentation + noise back": Augmenter(**STUDY_WARP, noise_sigma=TASK_NOISE),
}
BASE_UPDATES = RECIPES["from_scratch"].updates
LONG_ARMS = ("none", "study augmentation")  # also trained at 3x the updates


def pixel_noise(X: np.ndarray) -> float:
    """Standard deviation of the differences between horizontal neighbours (high frequencies)."""
    return float(np.std(np.diff(np.asarray(X, dtype=np.float64), axis=-1)))


def smoothing(X: np.ndarray, seed: int = 0) -> list[dict]:
    """Pixel noise of ``X`` before and after each warp."""
    return [{"arm": arm, "noise_before": round(pixel_noise(X), 4),
             "noise_after": round(pixel_noise(aug(X, np.random.default_rng(seed))), 4)}
            for arm, aug in ARMS.items() if aug is not None]


def runs_plan() -> list[tuple[str, int]]:
    return [(arm, BASE_UPDATES) for arm in ARMS] + [(arm, 3 * BASE_UPDATES) for arm in LONG_ARMS]


def run(seeds=SEEDS, verbose: bool = True) -> list[dict]:
    records = []
    for seed in seeds:
        task = make_transfer_task("medium", n_train=100, seed=seed, domain="xray")
        base = PretrainedModel("medium", task.input_shape)  # from scratch uses only its architecture
        if seed == seeds[0]:
            records += smoothing(task.X_train)
        start = time.perf_counter()
        for arm, updates in runs_plan():
            augment = ARMS[arm]
            recipe = RECIPES["from_scratch"].replace(
                updates=updates, config={} if augment is None else {"augment": augment})
            strategy, _ = fit(recipe, base, task.X_train, task.y_train, seed=seed, num_classes=task.num_classes)
            records.append({"arm": arm, "updates": updates, "seed": seed,
                            "accuracy": round(float(strategy.score(task.X_test, task.y_test)), 4)})
        if verbose:
            print(f"seed {seed}: " + "  ".join(f"{r['arm']}@{r['updates']} {r['accuracy']:.3f}"
                                               for r in records if r.get("seed") == seed)
                  + f"  ({time.perf_counter() - start:.1f} s)", flush=True)
    return records


def gaps(records: list[dict]) -> dict[tuple[str, int], object]:
    """(arm, updates) -> paired difference arm - no augmentation at the same budget, over the seeds."""
    runs: dict[tuple[str, int], dict[int, float]] = {}
    for r in records:
        if "seed" in r:
            runs.setdefault((r["arm"], r["updates"]), {})[r["seed"]] = r["accuracy"]
    out = {}
    for (arm, updates), by_seed in runs.items():
        reference = runs.get(("none", updates))
        if arm == "none" or reference is None:
            continue
        seeds = sorted(set(by_seed) & set(reference))
        out[(arm, updates)] = paired_difference([reference[s] for s in seeds], [by_seed[s] for s in seeds])
    return out


def load(path=RESULTS_PATH) -> list[dict]:
    return load_records(path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=len(SEEDS), help="number of seeds (0..n-1)")
    parser.add_argument("--out", default=str(RESULTS_PATH))
    args = parser.parse_args(argv)
    records = run(seeds=tuple(range(args.seeds)))
    meta = {"study": "studies.xray_augmentation", "seeds": args.seeds, "n_train": 100, "architecture": "medium",
            "task": "medium/xray", "arms": {arm: repr(aug) for arm, aug in ARMS.items()},
            "budgets": sorted({u for _, u in runs_plan()}), "long_arms": list(LONG_ARMS),
            "recipe": "tlkit.protocol RECIPES['from_scratch'] with the arm's augmenter and budget"}
    save_records(args.out, records, meta)
    for r in records:
        if "noise_after" in r:
            print(f"{r['arm']:<34} pixel noise {r['noise_before']:.4f} -> {r['noise_after']:.4f}")
    for (arm, updates), d in gaps(records).items():
        print(f"{arm:<34} @{updates:>4} updates, minus no augmentation: {format_difference(d)}")


if __name__ == "__main__":
    use_research_engine()
    main()
