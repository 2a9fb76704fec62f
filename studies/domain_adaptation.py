"""When the domain is different: the course's recipe and the field's answers, measured.

On the X-ray task every transfer strategy loses to training from scratch at 100 examples
(the learning-curve study). ``python -m studies.domain_adaptation`` measures what the course's
domain-adaptation recipe and the field's standard answers do about it, on the X-ray task and,
for contrast, on the wild-photo task (where transfer wins by a lot):

* **adapters**: residual 1x1-conv bottlenecks after every frozen block (``AdapterTuner``);
* **LoRA**: rank-4 updates of every block's convolution, the base frozen;
* **input stem**: an identity-initialised 3x3 filter in front of the frozen base;
* **AdaBN**: BatchNorm statistics re-estimated on the training images, then fine-tuning;
* **the very low learning rate**: every block fine-tuned at one rate 10x below from scratch's;
* **domain-specific augmentation**, for fine-tuning and for from scratch: the study's bilinear
  warp (which smooths the noise away), the same warp with the measured noise restored, and
  whole-pixel shifts without interpolation.

Protocol (``tlkit.protocol``): 100 training examples, 5 paired seeds (seed s: the task's draw
s, the head's initialisation s, the minibatch order s), the same budget for every arm (300
minibatch updates of 32, the recipes' budget), each arm's learning rate chosen among three on a
stratified validation split (20%) inside the 100 training examples, never on the test split,
which each final model sees once (an augmented arm chooses among its plain twin's rates, as
augmented training may want another rate); the very low rate is the recipe's fixed rate. Each
arm is paired with plain fine-tuning and with from scratch: per-seed differences of test
accuracy, their mean and 95% interval (``paired_difference``), wins out of seeds, and the arm's
trainable parameters.

Results: ``studies/results/domain_adaptation.json`` (``{"meta", "records"}``; records are single
runs, ``kind == "run"``, and the paired comparisons, ``kind == "comparison"``). A restarted
study resumes from the runs already in the file.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from dataclasses import dataclass, field

import numpy as np

from studies import use_research_engine
from tlkit.adabn import adapt_batchnorm
from tlkit.datasets import Augmenter, make_transfer_task
from tlkit.pretrained import PretrainedModel
from tlkit.protocol import (
    RECIPES,
    STUDY_RESULTS,
    Recipe,
    build_strategy,
    format_difference,
    load_records,
    make_config,
    paired_difference,
    save_records,
    select,
    updates_done,
)

RESULTS_PATH = STUDY_RESULTS / "domain_adaptation.json"
TASKS = (("medium", "xray"), ("medium", "wild"))
N_TRAIN = 100
SEEDS = (0, 1, 2, 3, 4)
ARCHITECTURE = "medium"
UPDATES = RECIPES["fine_tuning"].updates  # 300, every recipe's budget
LORA_RANK = 4
STUDY_WARP = {"max_shift": 1.0, "max_rotation": 15.0, "max_scale": 0.1}  # studies.study.AUGMENTATION
REFERENCES = ("fine_tuning", "from_scratch")

FT_RATES = {"lr=0.001": 1e-3, "lr=0.003": 3e-3, "lr=0.01": 1e-2}
SCRATCH_RATES = {"lr=0.003": 3e-3, "lr=0.01": 1e-2, "lr=0.03": 3e-2}
PEFT_RATES = {"lr=0.003": 3e-3, "lr=0.01": 1e-2, "lr=0.03": 3e-2}

AUGMENTERS = {
    "warp": Augmenter(**STUDY_WARP),
    "warp + noise restored": Augmenter(**STUDY_WARP, restore_noise=True),
    "whole-pixel shifts": Augmenter.without_interpolation(1),
}


@dataclass(frozen=True)
class Arm:
    """One arm: its recipe, the rates to choose from (None: the recipe's, fixed) and extras."""

    description: str
    method: str                    # the row of the notebook's table this arm belongs to
    recipe: Recipe
    rates: dict | None = None
    adabn: bool = False
    extra: dict = field(default_factory=dict)


def _adapters(name: str, **kwargs) -> Recipe:
    return Recipe(name, "adapters", learning_rate=1e-2, batch_size=32, updates=UPDATES, strategy_kwargs=kwargs)


def _augmented(reference: str, augment: str) -> Recipe:
    recipe = RECIPES[reference]
    return recipe.replace(name=f"{reference} + {augment}", config={**recipe.config, "augment": AUGMENTERS[augment]})


ARMS: dict[str, Arm] = {
    "fine_tuning": Arm("fine-tune layer3-layer4 and the head (the course's recipe, decay rates, 10% warm-up)",
                       "reference", RECIPES["fine_tuning"], FT_RATES),
    "from_scratch": Arm("the same network from random weights, every block trains", "reference",
                        RECIPES["from_scratch"], SCRATCH_RATES),
    "adapters": Arm("frozen base; a residual 1x1-conv bottleneck (channels/4) after each of the 4 blocks, and the head",
                    "adapters", _adapters("adapters", adapters="all"), PEFT_RATES),
    "lora": Arm(f"frozen base; rank-{LORA_RANK} LoRA updates of the 4 blocks' convolutions, and the head", "LoRA",
                _adapters("lora", adapters=None, lora_rank=LORA_RANK, lora_blocks="all"), PEFT_RATES),
    "input_stem": Arm("frozen base; an identity-initialised 3x3 filter in front of it (10 weights), and the head",
                      "input stem", _adapters("input_stem", adapters=None, input_stem=True), PEFT_RATES),
    "adabn": Arm("AdaBN (BatchNorm statistics re-estimated on the training images), then the fine_tuning arm",
                 "AdaBN", RECIPES["fine_tuning"], FT_RATES, adabn=True),
    "low_lr": Arm("fine-tune every block and the head at one rate, 10x below from scratch's (0.001, fixed)",
                  "very low learning rate",
                  RECIPES["fine_tuning"].replace(
                      name="low_lr", learning_rate=RECIPES["from_scratch"].learning_rate / 10,
                      strategy_kwargs={"layers_to_unfreeze": "all"}, config={"discriminative": "none"})),
    **{f"{ref} + {aug}": Arm(f"the {ref} arm with augmentation: {AUGMENTERS[aug]!r}", "augmentation",
                             _augmented(ref, aug), FT_RATES if ref == "fine_tuning" else SCRATCH_RATES)
       for ref in REFERENCES for aug in AUGMENTERS},
}
ORDER = list(ARMS)


# -- one run ---------------------------------------------------------------------------------
def train_arm(arm: Arm, base, X, y, num_classes: int, *, learning_rate: float, seed: int):
    """Train ``arm`` on (X, y) from (a copy of) ``base`` at ``learning_rate``; (strategy, updates)."""
    recipe = arm.recipe.replace(learning_rate=learning_rate)
    if arm.adabn:
        base = adapt_batchnorm(base.copy(), X)  # the unlabelled training images only
    strategy = build_strategy(recipe, base, num_classes, seed=seed)
    history = strategy.train(X, y, make_config(recipe, len(X), seed=seed))
    return strategy, updates_done(history)


def run_arm(name: str, task, base, seed: int) -> dict:
    """Choose the arm's rate inside the training set, train on all of it, test once."""
    arm = ARMS[name]
    start = time.perf_counter()
    selection = None
    if arm.rates:
        def score(rate, X_tr, y_tr, X_val, y_val):
            model, _ = train_arm(arm, base, X_tr, y_tr, task.num_classes, learning_rate=rate, seed=seed)
            return model.score(X_val, y_val)

        chosen = select(arm.rates, score, task.X_train, task.y_train, folds=None, seed=seed)
        rate = float(chosen.best)
        selection = {"method": chosen.method, "scores": chosen.scores, "chosen": chosen.best_name}
    else:
        rate = arm.recipe.learning_rate
    fit_start = time.perf_counter()
    model, done = train_arm(arm, base, task.X_train, task.y_train, task.num_classes, learning_rate=rate, seed=seed)
    fit_seconds = time.perf_counter() - fit_start
    return {"learning_rate": rate, "selection": selection, "updates": done,
            "accuracy": round(float(model.score(task.X_test, task.y_test)), 4),
            "trainable_parameters": int(model.count_parameters(trainable_only=True)),
            "total_parameters": int(model.count_parameters()),
            "train_seconds": round(fit_seconds, 2), "seconds": round(time.perf_counter() - start, 2)}


# -- the study ------------------------------------------------------------------------------
def task_name(similarity: str, domain: str) -> str:
    return f"{similarity}/{domain}"


def run_study(tasks=TASKS, seeds=SEEDS, arms=None, runs: list[dict] | None = None, save=None,
              log=print) -> list[dict]:
    """Every missing (task, seed, arm) run; ``save(runs)`` after each (task, seed)."""
    arms = ORDER if arms is None else [a for a in ORDER if a in arms]
    runs = list(runs or [])
    done = {(r["task"], r["seed"], r["arm"]): r for r in runs}
    for similarity, domain in tasks:
        name = task_name(similarity, domain)
        for seed in seeds:
            task = make_transfer_task(similarity, n_train=N_TRAIN, seed=seed, domain=domain)
            base = PretrainedModel(ARCHITECTURE, task.input_shape)
            start = time.perf_counter()
            for arm in arms:
                if (name, seed, arm) in done:
                    continue
                result = run_arm(arm, task, base, seed)
                record = {"kind": "run", "task": name, "seed": seed, "arm": arm, "method": ARMS[arm].method,
                          "n_train": int(len(task.X_train)), **result}
                runs.append(record)
                done[(name, seed, arm)] = record
                log(f"{name:<12} seed {seed}  {arm:<40} lr {result['learning_rate']:<6g} "
                    f"acc {result['accuracy']:.4f}  {result['trainable_parameters']:>6,d} params  "
                    f"{result['seconds']:.1f}s")
            if save is not None:
                save(runs)
            log(f"{name} seed {seed}: {time.perf_counter() - start:.0f} s")
    return runs


def compare(runs: list[dict], seeds=SEEDS) -> tuple[list[dict], list[str]]:
    """Each arm paired with each reference on every task where both ran on all ``seeds``."""
    by = {(r["task"], r["arm"], r["seed"]): r for r in runs if r.get("kind") == "run"}
    tasks = [task_name(*t) for t in TASKS]
    comparisons, missing = [], []
    for task in tasks:
        for arm in ORDER:
            for reference in REFERENCES:
                if arm == reference:
                    continue
                pairs = [(by.get((task, reference, s)), by.get((task, arm, s))) for s in seeds]
                if not all(a and b for a, b in pairs):
                    missing.append(f"{arm} vs {reference} on {task}")
                    continue
                a = [p[0]["accuracy"] for p in pairs]
                b = [p[1]["accuracy"] for p in pairs]
                updates = {p[0]["updates"] for p in pairs} | {p[1]["updates"] for p in pairs}
                if len(updates) != 1:
                    raise RuntimeError(f"{arm} vs {reference} on {task}: different budgets {sorted(updates)}")
                d = paired_difference(a, b)
                comparisons.append({
                    "kind": "comparison", "task": task, "arm": arm, "method": ARMS[arm].method,
                    "reference": reference, "seeds": list(seeds), "updates_per_arm": updates.pop(),
                    "accuracy_arm": b, "accuracy_reference": a, "diff_mean": d.mean, "diff_sd": d.sd,
                    "diff_ci95": list(d.ci95), "wins": d.wins, "losses": d.losses,
                    "verdict": verdict(*d.ci95),
                    "trainable_parameters": pairs[0][1]["trainable_parameters"],
                    "reference_trainable_parameters": pairs[0][0]["trainable_parameters"],
                    "train_seconds_arm": round(float(np.mean([p[1]["train_seconds"] for p in pairs])), 2),
                    "train_seconds_reference": round(float(np.mean([p[0]["train_seconds"] for p in pairs])), 2),
                })
    return comparisons, missing


def verdict(lo: float, hi: float) -> str:
    """Better (the whole interval above 0), worse (below 0), or no clear difference."""
    if lo > 0:
        return "better"
    if hi < 0:
        return "worse"
    return "no clear difference"


def _recipe_dict(recipe: Recipe) -> dict:
    return {"name": recipe.name, "strategy": recipe.strategy, "learning_rate": recipe.learning_rate,
            "batch_size": recipe.batch_size, "updates": recipe.updates,
            "config": {k: repr(v) if k == "augment" else v for k, v in recipe.config.items()},
            "strategy_kwargs": dict(recipe.strategy_kwargs)}


def meta(runs: list[dict], missing: list[str], command: str, wall_seconds: float | None) -> dict:
    try:
        from tlkit.nn import engine
        engine_name = engine.name()
    except (ImportError, AttributeError):
        engine_name = "default"
    return {
        "study": "studies.domain_adaptation", "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "numpy": np.__version__,
                    "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")},
        "engine": engine_name, "architecture": ARCHITECTURE, "n_train": N_TRAIN, "seeds": list(SEEDS),
        "tasks": [task_name(*t) for t in TASKS], "updates_per_arm": UPDATES, "references": list(REFERENCES),
        "diff": "arm - reference test accuracy, a fraction, paired by seed",
        "selection": ("each arm with candidate rates: tlkit.protocol.select on a stratified validation split "
                      "(20%) of the 100 training examples (augmented arms and adabn among their plain twin's "
                      "candidates); low_lr's rate is fixed; the test split is scored once per final model"),
        "candidate_rates": {"fine_tuning": FT_RATES, "from_scratch": SCRATCH_RATES, "peft": PEFT_RATES},
        "arms": {name: {"description": arm.description, "method": arm.method, "recipe": _recipe_dict(arm.recipe),
                        "rates": arm.rates, "adabn": arm.adabn}
                 for name, arm in ARMS.items()},
        "runs": sum(r.get("kind") == "run" for r in runs),
        "run_seconds_total": round(float(sum(r["seconds"] for r in runs if r.get("kind") == "run")), 1),
        "wall_seconds": wall_seconds, "complete": not missing, "missing": missing,
    }


def load(path=RESULTS_PATH) -> list[dict]:
    return load_records(path)


def write(runs: list[dict], path, command: str, wall_seconds: float | None = None) -> list[dict]:
    comparisons, missing = compare(runs)
    save_records(path, [r for r in runs if r.get("kind") == "run"] + comparisons,
                 meta(runs, missing, command, wall_seconds))
    return comparisons


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(RESULTS_PATH))
    parser.add_argument("--fresh", action="store_true", help="ignore the runs already in --out")
    parser.add_argument("--summarise-only", action="store_true", help="rebuild the comparisons from the stored runs")
    args = parser.parse_args(argv)
    command = "python -m studies.domain_adaptation"
    previous = []
    if not args.fresh and os.path.exists(args.out):
        previous = [r for r in load_records(args.out) if r.get("kind") == "run"]
    start = time.perf_counter()
    if args.summarise_only:
        runs = previous
    else:
        runs = run_study(runs=previous, save=lambda rs: write(rs, args.out, command))
    comparisons = write(runs, args.out, command, None if args.summarise_only else round(time.perf_counter() - start, 1))
    for c in comparisons:
        d = paired_difference(c["accuracy_reference"], c["accuracy_arm"])
        print(f"{c['task']:<12} {c['arm']:<40} vs {c['reference']:<13} {format_difference(d):<40} "
              f"{c['trainable_parameters']:>7,d} params")


if __name__ == "__main__":
    use_research_engine()  # the committed results were measured on the fast engine
    main()
