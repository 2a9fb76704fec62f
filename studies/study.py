"""The course's measurement study: learning curves of every strategy on every target task.

``python -m studies.study`` trains feature extraction, fine-tuning and from-scratch
(plus from-scratch with augmentation, and softmax regression on raw pixels as a
floor) on each task of ``tlkit.datasets.list_transfer_tasks()`` at several
training-set sizes and seeds, evaluates on the task's fixed test split, and
writes one record per run to ``studies/results/learning_curves.json``. The
notebooks load it with :func:`load_results`; ``--quick`` runs a small version.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "learning_curves.json"
SIZES = (25, 50, 100, 250, 500, "all")
SEEDS = (0, 1, 2, 3, 4)
STRATEGIES = ("feature_extraction", "fine_tuning", "from_scratch", "from_scratch_augmented", "raw_pixels")
TARGET_STEPS = 300  # minibatch updates per run, whatever the training-set size
MIN_EPOCHS = 10
BATCH_SIZE = 32
LEARNING_RATES = {"feature_extraction": 1e-2, "fine_tuning": 3e-3, "from_scratch": 1e-2,
                  "from_scratch_augmented": 1e-2, "raw_pixels": 1e-2}


def epochs_for(n_train: int) -> int:
    """Enough epochs for about TARGET_STEPS updates, so small sets are not under-trained."""
    return max(MIN_EPOCHS, math.ceil(TARGET_STEPS / math.ceil(n_train / BATCH_SIZE)))


def build_strategy(name: str, base, num_classes: int, seed: int):
    from tlkit.strategies import FeatureExtractor, FineTuner, FromScratch

    if name == "feature_extraction":
        return FeatureExtractor(base.copy(), num_classes, seed=seed)
    if name == "fine_tuning":
        return FineTuner(base.copy(), num_classes, seed=seed)
    if name in ("from_scratch", "from_scratch_augmented"):
        return FromScratch.like(base, num_classes, seed=seed)
    raise ValueError(f"unknown strategy {name!r}; valid: {STRATEGIES}")


def raw_pixel_accuracy(task, seed: int) -> float:
    """Softmax regression on the raw pixels: the floor any learned feature must beat."""
    from tlkit.architectures import build_head
    from tlkit.config import TrainingConfig
    from tlkit.nn.network import Network
    from tlkit.training import Trainer, evaluate

    X = task.X_train.reshape(len(task.X_train), -1)
    X_test = task.X_test.reshape(len(task.X_test), -1)
    head = Network([build_head(X.shape[1], task.num_classes, np.random.default_rng(seed))])
    config = TrainingConfig(epochs=epochs_for(len(X)), learning_rate=LEARNING_RATES["raw_pixels"],
                            batch_size=BATCH_SIZE, seed=seed)
    Trainer(head, config).fit(X, task.y_train)
    return evaluate(head, X_test, task.y_test)[1]


def run_one(task, strategy: str, base, seed: int) -> dict:
    from tlkit.config import FineTuningConfig, TrainingConfig
    from tlkit.datasets import Augmenter

    start = time.perf_counter()
    if strategy == "raw_pixels":
        accuracy = raw_pixel_accuracy(task, seed)
    else:
        model = build_strategy(strategy, base, task.num_classes, seed)
        settings = {"epochs": epochs_for(len(task.X_train)), "learning_rate": LEARNING_RATES[strategy],
                    "batch_size": BATCH_SIZE, "seed": seed}
        if strategy == "from_scratch_augmented":
            settings["augment"] = Augmenter(max_shift=1.0, max_rotation=15.0, max_scale=0.1)
        config = FineTuningConfig(**settings) if strategy == "fine_tuning" else TrainingConfig(**settings)
        model.train(task.X_train, task.y_train, config)
        accuracy = model.score(task.X_test, task.y_test)
    return {"strategy": strategy, "accuracy": round(float(accuracy), 4),
            "seconds": round(time.perf_counter() - start, 2)}


def run_study(sizes=SIZES, seeds=SEEDS, strategies=STRATEGIES, architecture: str = "medium",
              tasks=None, log=print) -> list[dict]:
    from tlkit.datasets import list_transfer_tasks, make_transfer_task
    from tlkit.pretrained import PretrainedModel

    records = []
    for similarity, domain in tasks or list_transfer_tasks():
        for n_train in sizes:
            for seed in seeds:
                task = make_transfer_task(similarity, n_train=n_train, seed=seed, domain=domain)
                base = PretrainedModel(architecture, task.input_shape)
                for strategy in strategies:
                    result = run_one(task, strategy, base, seed)
                    record = {"task": f"{similarity}/{domain}", "similarity": similarity, "domain": domain,
                              "architecture": architecture, "n_train": int(len(task.X_train)),
                              "size_label": str(n_train), "seed": seed, **result}
                    records.append(record)
                    log(f"{record['task']:<16} n={record['n_train']:>4} seed={seed} "
                        f"{strategy:<24} {record['accuracy']:.4f}")
    return records


def save_results(records: list[dict], path: Path = RESULTS_PATH, meta: dict | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"meta": meta or {}, "records": records}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def load_results(path: Path = RESULTS_PATH) -> list[dict]:
    """The records of the last full study (a list of dicts with task, strategy, n_train, seed, accuracy)."""
    return json.loads(Path(path).read_text())["records"]


def summarise(records: list[dict]) -> dict:
    """Mean and standard deviation of accuracy per (task, n_train, strategy), and paired gaps."""
    table: dict = {}
    for r in records:
        table.setdefault((r["task"], r["size_label"], r["strategy"]), []).append(r["accuracy"])
    return {key: (float(np.mean(v)), float(np.std(v)), len(v)) for key, v in table.items()}


def paired_gap(records: list[dict], task: str, size_label: str, a: str, b: str) -> tuple[float, int, int]:
    """Mean of (a - b) over seeds, and how many seeds a wins and loses."""
    by = {(r["strategy"], r["seed"]): r["accuracy"] for r in records
          if r["task"] == task and r["size_label"] == size_label}
    seeds = sorted({s for (_, s) in by if (a, s) in by and (b, s) in by})
    gaps = [by[(a, s)] - by[(b, s)] for s in seeds]
    return float(np.mean(gaps)), sum(g > 0 for g in gaps), sum(g < 0 for g in gaps)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Learning curves of every strategy on every task.")
    parser.add_argument("--quick", action="store_true", help="2 seeds, sizes 25 and 100")
    parser.add_argument("--architecture", default="medium")
    parser.add_argument("--out", type=Path, default=RESULTS_PATH)
    parser.add_argument("--tasks", help="comma-separated similarity/domain, e.g. high/digits,medium/wild")
    parser.add_argument("--merge", action="store_true", help="keep the other tasks' records already in --out")
    args = parser.parse_args(argv)
    sizes, seeds = ((25, 100), (0, 1)) if args.quick else (SIZES, SEEDS)
    tasks = [tuple(t.split("/")) for t in args.tasks.split(",")] if args.tasks else None
    start = time.perf_counter()
    records = run_study(sizes, seeds, architecture=args.architecture, tasks=tasks)
    if args.merge and args.out.exists():
        done = {r["task"] for r in records}
        records = [r for r in load_results(args.out) if r["task"] not in done] + records
    meta = {"command": "python -m studies.study" + (" --quick" if args.quick else ""),
            "sizes": [str(s) for s in sizes], "seeds": list(seeds), "architecture": args.architecture,
            "target_steps": TARGET_STEPS, "min_epochs": MIN_EPOCHS, "batch_size": BATCH_SIZE,
            "learning_rates": LEARNING_RATES, "wall_seconds": round(time.perf_counter() - start, 1)}
    print(f"wrote {save_results(records, args.out, meta)}")


if __name__ == "__main__":
    main()
