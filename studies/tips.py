"""Every fine-tuning tip of notebook 03, re-measured under the experiment protocol.

``python -m studies.tips`` compares, for each tip, an arm without it (``arm_a``) and an
arm with it (``arm_b``) on the digits ("high/digits") and X-ray ("medium/xray") tasks at
100 training examples:

* the same seeds for both arms (seed s: the task's draw s, the head's init s, the
  minibatch order s), >= 5 of them;
* the same budget for both arms, counted in minibatch updates (``tlkit.protocol``
  recipes; 300 updates, and the notebook's old ~40 updates beside it, because a
  comparison is only as fair as its budget);
* the base learning rate of every arm chosen on a validation split inside the 100
  training examples (``tlkit.protocol.select``), never on the test split, which each
  final model sees once;
* the result as the paired difference arm_b - arm_a of test accuracy (a fraction), with
  its 95% interval and wins out of seeds (``tlkit.protocol.paired_difference``).

Every fine-tuned model is also scored on the source task with its old head (how much of
the source task it kept): that is the real lesson of ``low_lr``.

Results: ``studies/results/tips.json`` (a JSON list of records), ``tips_meta.json`` (how
they were made) and ``tips_runs.json`` (every single run, the checkpoint a restarted
study resumes from).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from studies import use_research_engine
from tlkit.adabn import adapt_batchnorm
from tlkit.atomic_write import write_atomically
from tlkit.datasets import make_transfer_task
from tlkit.pretrained import PretrainedModel
from tlkit.protocol import (
    RECIPES,
    STUDY_RESULTS,
    Recipe,
    build_strategy,
    make_config,
    paired_difference,
    select,
    updates_done,
)

TIPS = ("dropout", "warmup", "gradual_unfreezing", "discriminative_lr", "low_lr",
        "bn_inference_mode", "adabn", "two_phase")
TASKS = (("high", "digits"), ("medium", "xray"))
N_TRAIN = 100
SEEDS = (0, 1, 2, 3, 4)
BUDGETS = (300, 40)            # updates per arm: the study's budget, then the notebook's old one
ARCHITECTURE = "medium"
SELECTION_FOLDS = None         # None: one stratified validation split (20%) of the training set
FT_RATES = {"lr=0.001": 1e-3, "lr=0.003": 3e-3, "lr=0.01": 1e-2}
FE_RATES = {"lr=0.003": 3e-3, "lr=0.01": 1e-2, "lr=0.03": 3e-2}
WARMUP_FRACTION = 0.3          # notebook 03's warm-up: 3 of 10 epochs
GRADUAL_FRACTION = 0.2         # notebook 03's gradual unfreezing: one more block every 2 of 10 epochs
SOURCE_EXAMPLES = 1000         # held-out source glyphs scored with the old head (forgetting)

RUNS_PATH = STUDY_RESULTS / "tips_runs.json"
TIPS_PATH = STUDY_RESULTS / "tips.json"
META_PATH = STUDY_RESULTS / "tips_meta.json"


@dataclass(frozen=True)
class Arm:
    """One arm: a recipe, the learning rates to choose from (None: the recipe's, fixed) and extras."""

    description: str
    recipe: Recipe
    rates: dict | None = None
    warmup_fraction: float | None = None     # None: the recipe's default (10% of the epochs)
    gradual_fraction: float | None = None
    adabn: bool = False
    two_phase: bool = False
    extra: dict = field(default_factory=dict)


def _fine_tuning(**changes) -> Recipe:
    kwargs = {"layers_to_unfreeze": "all", **changes.pop("strategy_kwargs", {})}
    config = changes.pop("config", {})
    return RECIPES["fine_tuning"].replace(name="fine_tuning (tips)", strategy_kwargs=kwargs,
                                          config=config, **changes)


SCRATCH_RATE = RECIPES["from_scratch"].learning_rate
TOP_HALF = ["layer3", "layer4"]

ARMS: dict[str, Arm] = {
    "ft": Arm("fine-tune every block, decay rates 0.01/0.1/1, 10% warm-up, BatchNorm in inference mode",
              _fine_tuning(), FT_RATES),
    "ft_one_rate": Arm("as ft, one rate for every block", _fine_tuning(config={"discriminative": "none"}),
                       FT_RATES),
    "ft_bn_train": Arm("as ft, BatchNorm in training mode (PyTorch's default)",
                       _fine_tuning(strategy_kwargs={"bn_mode": "train"}), FT_RATES),
    "ft_no_warmup": Arm("as ft, no warm-up", _fine_tuning(config={"warmup_epochs": 0}), FT_RATES),
    "ft_warmup": Arm("as ft, warm-up of the head for 30% of the budget", _fine_tuning(), FT_RATES,
                     warmup_fraction=WARMUP_FRACTION),
    "ft_gradual": Arm("as ft_warmup, then one more block from the top every 20% of the budget",
                      _fine_tuning(), FT_RATES, warmup_fraction=WARMUP_FRACTION,
                      gradual_fraction=GRADUAL_FRACTION),
    "ft_hidden": Arm("fine-tune layer3-layer4, head with 64 hidden units, no dropout",
                     _fine_tuning(strategy_kwargs={"layers_to_unfreeze": TOP_HALF, "hidden_units": 64}),
                     FT_RATES),
    "ft_hidden_dropout": Arm("as ft_hidden, dropout 0.5 on the hidden layer",
                             _fine_tuning(strategy_kwargs={"layers_to_unfreeze": TOP_HALF, "hidden_units": 64,
                                                           "dropout": 0.5}), FT_RATES),
    "ft_rate_scratch": Arm(f"as ft_one_rate at the from-scratch rate {SCRATCH_RATE:g} (fixed)",
                           _fine_tuning(learning_rate=SCRATCH_RATE, config={"discriminative": "none"})),
    "ft_rate_10x_lower": Arm(f"as ft_one_rate at {SCRATCH_RATE / 10:g}, 10x lower (fixed)",
                             _fine_tuning(learning_rate=SCRATCH_RATE / 10, config={"discriminative": "none"})),
    "ft_rate_100x_lower": Arm(f"as ft_one_rate at {SCRATCH_RATE / 100:g}, 100x lower (fixed)",
                              _fine_tuning(learning_rate=SCRATCH_RATE / 100, config={"discriminative": "none"})),
    "fe": Arm("feature extraction: frozen base, new softmax head", RECIPES["feature_extraction"], FE_RATES),
    "fe_adabn": Arm("as fe, BatchNorm statistics re-estimated on the training images first (AdaBN)",
                    RECIPES["feature_extraction"], FE_RATES, adabn=True),
    "two_phase": Arm("the seed's recipe: half the budget the head alone, then layer4 joins at a 10x lower rate",
                     _fine_tuning(strategy_kwargs={"layers_to_unfreeze": ["layer4"]}), FT_RATES,
                     two_phase=True),
}

#: tip -> the comparisons (arm_a without the tip, arm_b with it) that measure it.
COMPARISONS: dict[str, list[tuple[str, str]]] = {
    "dropout": [("ft_hidden", "ft_hidden_dropout")],
    "warmup": [("ft_no_warmup", "ft_warmup")],
    "gradual_unfreezing": [("ft_warmup", "ft_gradual")],
    "discriminative_lr": [("ft_one_rate", "ft")],
    "low_lr": [("ft_rate_scratch", "ft_rate_10x_lower"), ("ft_rate_scratch", "ft_rate_100x_lower")],
    "bn_inference_mode": [("ft_bn_train", "ft")],
    "adabn": [("fe", "fe_adabn")],
    "two_phase": [("ft", "two_phase"), ("fe", "two_phase")],
}


# -- one run ---------------------------------------------------------------------------------
def _config(arm: Arm, recipe: Recipe, n_train: int, seed: int):
    config = make_config(recipe, n_train, seed=seed)
    changes = {}
    if arm.warmup_fraction is not None:
        changes["warmup_epochs"] = max(1, round(arm.warmup_fraction * config.epochs))
    if arm.gradual_fraction is not None:
        changes["gradual_unfreeze_every"] = max(1, round(arm.gradual_fraction * config.epochs))
    return dataclasses.replace(config, **changes) if changes else config


def train_arm(arm: Arm, base, X, y, num_classes: int, *, learning_rate: float, updates: int, seed: int):
    """Train ``arm`` on (X, y) from a copy of ``base``; return (strategy, updates really run)."""
    recipe = arm.recipe.replace(learning_rate=learning_rate, updates=updates)
    if arm.adabn:
        base = adapt_batchnorm(base.copy(), X)  # unlabelled training images only
    strategy = build_strategy(recipe, base, num_classes, seed=seed)
    if not arm.two_phase:
        history = strategy.train(X, y, _config(arm, recipe, len(X), seed))
        return strategy, updates_done(history)
    # Phase 1: the head alone (a warm-up as long as the phase); phase 2: the top block joins
    # at a 10x lower rate, one rate for both, no warm-up.
    head_phase = recipe.replace(updates=max(1, updates // 2))
    config = make_config(head_phase, len(X), seed=seed)
    done = updates_done(strategy.train(X, y, dataclasses.replace(config, warmup_epochs=config.epochs)))
    tune_phase = recipe.replace(updates=max(1, updates - done), learning_rate=learning_rate / 10,
                                config={"warmup_epochs": 0, "discriminative": "none"})
    done += updates_done(strategy.train(X, y, make_config(tune_phase, len(X), seed=seed)))
    return strategy, done


def run_arm(arm: Arm, task, base, source, *, updates: int, seed: int) -> dict:
    """Choose the arm's rate on validation data inside the training set, train, test once."""
    start = time.perf_counter()
    selection = None
    if arm.rates:
        def score(rate, X_tr, y_tr, X_val, y_val):
            model, _ = train_arm(arm, base, X_tr, y_tr, task.num_classes, learning_rate=rate,
                                 updates=updates, seed=seed)
            return model.score(X_val, y_val)

        chosen = select(arm.rates, score, task.X_train, task.y_train, folds=SELECTION_FOLDS, seed=seed)
        rate = float(chosen.best)
        selection = {"method": chosen.method, "scores": chosen.scores, "chosen": chosen.best_name,
                     "ties": chosen.ties}
    else:
        rate = arm.recipe.learning_rate
    model, done = train_arm(arm, base, task.X_train, task.y_train, task.num_classes,
                            learning_rate=rate, updates=updates, seed=seed)
    result = {"learning_rate": rate, "selection": selection, "updates": done,
              "accuracy": float(model.score(task.X_test, task.y_test))}
    if arm.recipe.strategy == "fine_tuning":
        result["source_accuracy"] = float(model.base.source_accuracy(*source))
    result["seconds"] = round(time.perf_counter() - start, 2)
    return result


# -- the study ------------------------------------------------------------------------------
def _key(task: str, arm: str, updates: int, seed: int) -> str:
    return f"{task}|{arm}|{updates}|{seed}"


def load_runs(path: Path = RUNS_PATH) -> dict[str, dict]:
    if not Path(path).exists():
        return {}
    return {_key(r["task"], r["arm"], r["updates_budget"], r["seed"]): r for r in json.loads(Path(path).read_text())}


def _write_json(path: Path, payload) -> None:
    write_atomically(path, json.dumps(payload, indent=1) + "\n")


def arms_needed(tips=TIPS) -> list[str]:
    names = []
    for tip in tips:
        for pair in COMPARISONS[tip]:
            names.extend(name for name in pair if name not in names)
    return names


def run_study(tips=TIPS, tasks=TASKS, seeds=SEEDS, budgets=BUDGETS, runs_path: Path = RUNS_PATH,
              log=print) -> dict[str, dict]:
    """Run every missing (budget, task, seed, arm); checkpoint ``runs_path`` after each run."""
    from studies.pretrain import source_data

    _, _, X_source, y_source = source_data((8, 8))
    source = (X_source[:SOURCE_EXAMPLES], y_source[:SOURCE_EXAMPLES])
    runs = load_runs(runs_path)
    for updates in budgets:
        for similarity, domain in tasks:
            name = f"{similarity}/{domain}"
            for seed in seeds:
                task = make_transfer_task(similarity, n_train=N_TRAIN, seed=seed, domain=domain)
                base = PretrainedModel(ARCHITECTURE, task.input_shape)
                for arm in arms_needed(tips):
                    key = _key(name, arm, updates, seed)
                    if key in runs:
                        continue
                    result = run_arm(ARMS[arm], task, base, source, updates=updates, seed=seed)
                    runs[key] = {"task": name, "arm": arm, "updates_budget": updates, "seed": seed,
                                 "n_train": int(len(task.X_train)), **result}
                    _write_json(runs_path, list(runs.values()))
                    log(f"{updates:>3} updates  {name:<12} seed {seed}  {arm:<20} "
                        f"lr {result['learning_rate']:<7g} acc {result['accuracy']:.4f}  "
                        f"{result['seconds']:.1f}s")
    return runs


def verdict(lo: float, hi: float) -> str:
    """The tip helps (the whole interval above 0), hurts (below 0), or no clear difference."""
    if lo > 0:
        return "helps"
    if hi < 0:
        return "hurts"
    return "no clear difference"


def summarise(runs: dict[str, dict], seeds=SEEDS) -> tuple[list[dict], list[str]]:
    """The tips.json records of every comparison whose two arms ran on all ``seeds``; and what is missing."""
    records, missing = [], []
    tasks = sorted({r["task"] for r in runs.values()}, key=lambda t: [f"{s}/{d}" for s, d in TASKS].index(t)
                   if t in [f"{s}/{d}" for s, d in TASKS] else 99)
    for updates in BUDGETS:
        for task in tasks:
            for tip in TIPS:
                for arm_a, arm_b in COMPARISONS[tip]:
                    pairs = [(runs.get(_key(task, arm_a, updates, s)), runs.get(_key(task, arm_b, updates, s)))
                             for s in seeds]
                    if not all(a and b for a, b in pairs):
                        missing.append(f"{tip} {arm_a} vs {arm_b} on {task} at {updates} updates")
                        continue
                    records.append(_record(tip, task, arm_a, arm_b, updates, list(seeds), pairs))
    return records, missing


def _record(tip, task, arm_a, arm_b, updates, seeds, pairs) -> dict:
    a = [p[0]["accuracy"] for p in pairs]
    b = [p[1]["accuracy"] for p in pairs]
    done = {p[0]["updates"] for p in pairs} | {p[1]["updates"] for p in pairs}
    if len(done) != 1:
        raise RuntimeError(f"{tip} on {task}: the arms ran different numbers of updates {sorted(done)}")
    d = paired_difference(a, b)
    record = {
        "tip": tip, "task": task, "n_train": pairs[0][0]["n_train"], "arm_a": arm_a, "arm_b": arm_b,
        "updates_per_arm": done.pop(), "budget": "study" if updates >= 300 else "short",
        "seeds": seeds, "diff_mean": d.mean, "diff_sd": d.sd, "diff_ci95": list(d.ci95), "wins": d.wins,
        "losses": d.losses, "diffs": list(d.diffs), "verdict": verdict(*d.ci95),
        "accuracy_a": a, "accuracy_b": b,
        "learning_rates_a": [p[0]["learning_rate"] for p in pairs],
        "learning_rates_b": [p[1]["learning_rate"] for p in pairs],
    }
    if all("source_accuracy" in p[0] and "source_accuracy" in p[1] for p in pairs):
        sa = [p[0]["source_accuracy"] for p in pairs]
        sb = [p[1]["source_accuracy"] for p in pairs]
        s = paired_difference(sa, sb)
        record.update(source_accuracy_a=sa, source_accuracy_b=sb, source_diff_mean=s.mean,
                      source_diff_ci95=list(s.ci95), source_wins=s.wins)
    return record


def _recipe_dict(recipe: Recipe) -> dict:
    return {"name": recipe.name, "strategy": recipe.strategy, "learning_rate": recipe.learning_rate,
            "batch_size": recipe.batch_size, "updates": recipe.updates, "config": dict(recipe.config),
            "strategy_kwargs": dict(recipe.strategy_kwargs)}


def machine() -> dict:
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}
    return info


def engine_name() -> str:
    try:
        from tlkit.nn import engine
        return engine.name()
    except (ImportError, AttributeError):
        return "default"


def write_results(runs: dict[str, dict], command: str, wall_seconds: float | None = None) -> list[dict]:
    records, missing = summarise(runs)
    _write_json(TIPS_PATH, records)
    seconds = [r["seconds"] for r in runs.values()]
    meta = {
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(), "engine": engine_name(), "architecture": ARCHITECTURE,
        "n_train": N_TRAIN, "seeds": list(SEEDS), "budgets_updates": list(BUDGETS),
        "diff": "arm_b - arm_a test accuracy, a fraction; arm_b is the arm with the tip",
        "selection": ("base learning rate of every arm with candidates: tlkit.protocol.select on "
                      + ("a stratified validation split (20%) of the 100 training examples"
                         if SELECTION_FOLDS is None else f"{SELECTION_FOLDS}-fold CV of the training examples")
                      + "; the test split scored once per final model"),
        "candidate_rates": {"fine_tuning": FT_RATES, "feature_extraction": FE_RATES},
        "warmup_fraction": WARMUP_FRACTION, "gradual_fraction": GRADUAL_FRACTION,
        "source_accuracy": f"old source head on the first {SOURCE_EXAMPLES} held-out source glyphs",
        "arms": {name: {"description": arm.description, "recipe": _recipe_dict(arm.recipe),
                        "rates": arm.rates, "warmup_fraction": arm.warmup_fraction,
                        "gradual_fraction": arm.gradual_fraction, "adabn": arm.adabn,
                        "two_phase": arm.two_phase} for name, arm in ARMS.items()},
        "comparisons": {tip: [list(p) for p in pairs] for tip, pairs in COMPARISONS.items()},
        "runs": len(runs), "run_seconds_total": round(float(np.sum(seconds)), 1) if seconds else 0.0,
        "wall_seconds": wall_seconds,
        "complete": not missing, "missing": missing,
    }
    _write_json(META_PATH, meta)
    return records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Re-measure notebook 03's fine-tuning tips.")
    parser.add_argument("--tips", help=f"comma-separated subset of {','.join(TIPS)}")
    parser.add_argument("--budgets", help="comma-separated updates per arm (default 300,40)")
    parser.add_argument("--summarise-only", action="store_true", help="rebuild tips.json from tips_runs.json")
    args = parser.parse_args(argv)
    tips = tuple(args.tips.split(",")) if args.tips else TIPS
    unknown = sorted(set(tips) - set(TIPS))
    if unknown:
        parser.error(f"unknown tip(s) {unknown}; valid: {', '.join(TIPS)}")
    budgets = tuple(int(b) for b in args.budgets.split(",")) if args.budgets else BUDGETS
    start = time.perf_counter()
    runs = load_runs() if args.summarise_only else run_study(tips, budgets=budgets)
    command = "python -m studies.tips" + (f" --tips {args.tips}" if args.tips else "") + \
              (f" --budgets {args.budgets}" if args.budgets else "")
    records = write_results(runs, command, None if args.summarise_only else round(time.perf_counter() - start, 1))
    for r in records:
        lo, hi = r["diff_ci95"]
        print(f"{r['tip']:<20} {r['task']:<12} {r['updates_per_arm']:>4} upd  {r['arm_b']:<18} - {r['arm_a']:<16} "
              f"{100 * r['diff_mean']:+6.1f} [{100 * lo:+6.1f}, {100 * hi:+6.1f}]  {r['wins']}/{len(r['seeds'])}  "
              f"{r['verdict']}")


if __name__ == "__main__":
    use_research_engine()
    main()
