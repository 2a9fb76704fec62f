"""The course's measurement study: learning curves of every strategy on every target task.

``python -m studies.study`` trains, on each task of ``tlkit.datasets.list_transfer_tasks()``
at several training-set sizes and seeds:

* the three strategies with their registered recipes (``tlkit.protocol.RECIPES``:
  learning rate, batch size and a budget of minibatch updates, the same for every size);
* ``from_scratch_augmented``: from scratch with random shifts, rotations and scalings of
  every minibatch (the background-filling ``Augmenter``);
* two **tuned baselines**, so that transfer is compared with the best a careful person
  would do without it: ``svm_rbf_pixels`` (scikit-learn's RBF ``SVC`` on the raw pixels,
  C and gamma chosen by CV on the training set) and ``from_scratch_tuned`` (learning rate,
  weight decay and augmentation on/off chosen by CV on the training set);
* ``raw_pixels``: softmax regression on the raw pixels, the floor any feature must beat.

Every choice is made with ``tlkit.protocol.select`` inside the training examples; the
test split is scored once per final model. One record per run is checkpointed to
``studies/results/learning_curves_runs.json`` as it finishes (a restarted study resumes),
and the notebooks' files ``learning_curves.json`` (digits, X-ray, textures) and
``learning_curves_wild.json`` (wild) are written from it, with a meta block that says
exactly which cells were run. ``--quick`` runs a small version.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from studies import use_research_engine
from tlkit.atomic_write import write_atomically
from tlkit.protocol import RECIPES, STUDY_RESULTS, build_strategy, make_config, select, updates_done

RESULTS_PATH = STUDY_RESULTS / "learning_curves.json"
WILD_PATH = RESULTS_PATH.with_name("learning_curves_wild.json")
RUNS_PATH = RESULTS_PATH.with_name("learning_curves_runs.json")
SIZES = (25, 50, 100, 250, 500, "all")
SEEDS = (0, 1, 2, 3, 4)
ARCHITECTURE = "medium"
CHEAP = ("feature_extraction", "fine_tuning", "from_scratch", "from_scratch_augmented", "raw_pixels",
         "svm_rbf_pixels")
STRATEGIES = CHEAP + ("from_scratch_tuned",)
TUNED_TASKS = ("high/digits", "medium/xray", "medium/wild")
AUGMENTATION = {"max_shift": 1.0, "max_rotation": 15.0, "max_scale": 0.1}   # fill: each image's background
SVM_GRID = {f"C={c:g}, gamma={g:g}x scale": (c, g) for c in (1.0, 10.0, 100.0) for g in (0.3, 1.0, 3.0, 10.0)}
SCRATCH_GRID = {f"lr={lr:g}, wd={wd:g}, augment={'on' if aug else 'off'}": (lr, wd, aug)
                for lr in (3e-3, 1e-2) for wd in (0.0, 5e-4) for aug in (False, True)}
CV_FOLDS = 3


def augmenter():
    from tlkit.datasets import Augmenter

    return Augmenter(**AUGMENTATION)


def recipe_for(strategy: str):
    """The registered recipe of a strategy of the study (from_scratch_augmented: from_scratch + augmentation)."""
    if strategy == "from_scratch_augmented":
        return RECIPES["from_scratch"].replace(name="from_scratch_augmented", config={"augment": augmenter()})
    if strategy not in RECIPES:
        raise ValueError(f"no recipe for strategy {strategy!r}; valid: {sorted(RECIPES)} or from_scratch_augmented")
    return RECIPES[strategy]


def train_recipe(recipe, base, X, y, num_classes: int, seed: int):
    """Build and train the recipe's strategy on (X, y): (strategy, updates run)."""
    model = build_strategy(recipe, base, num_classes, seed=seed)
    history = model.train(X, y, make_config(recipe, len(X), seed=seed))
    return model, updates_done(history)


# -- the baselines that are not a transfer strategy --------------------------------------------
def raw_pixel_model(X, y, num_classes: int, seed: int):
    """Softmax regression on the raw pixels, trained like feature extraction's head (its recipe)."""
    from tlkit.architectures import build_head
    from tlkit.nn.network import Network
    from tlkit.training import Trainer

    flat = X.reshape(len(X), -1)
    head = Network([build_head(flat.shape[1], num_classes, np.random.default_rng(seed))])
    history = Trainer(head, make_config(RECIPES["feature_extraction"], len(flat), seed=seed)).fit(flat, y)
    return head, updates_done(history)


def raw_pixel_accuracy(task, seed: int) -> tuple[float, int]:
    from tlkit.training import evaluate

    head, done = raw_pixel_model(task.X_train, task.y_train, task.num_classes, seed)
    return evaluate(head, task.X_test.reshape(len(task.X_test), -1), task.y_test)[1], done


def svm_fit(candidate, X, y):
    """An RBF SVC on the flattened pixels; gamma is a multiple of scikit-learn's ``"scale"``."""
    from sklearn.svm import SVC

    C, factor = candidate
    flat = X.reshape(len(X), -1).astype(np.float64)
    gamma = factor / (flat.shape[1] * max(float(flat.var()), 1e-12))
    return SVC(C=C, gamma=gamma, kernel="rbf").fit(flat, y)


def svm_score(candidate, X_tr, y_tr, X_val, y_val) -> float:
    return float(svm_fit(candidate, X_tr, y_tr).score(X_val.reshape(len(X_val), -1), y_val))


def scratch_recipe(candidate):
    lr, wd, aug = candidate
    config = {"weight_decay": wd, **({"augment": augmenter()} if aug else {})}
    return RECIPES["from_scratch"].replace(name="from_scratch_tuned", learning_rate=lr, config=config)


def _selection(chosen) -> dict:
    return {"selected": chosen.best_name, "selection_method": chosen.method,
            "selection_scores": {k: round(v, 4) for k, v in chosen.scores.items()}}


# -- one run ---------------------------------------------------------------------------------
def run_one(task, strategy: str, base, seed: int) -> dict:
    """Train ``strategy`` on the task's training split (choices inside it), score the test split once."""
    start = time.perf_counter()
    extra: dict = {}
    if strategy == "raw_pixels":
        accuracy, done = raw_pixel_accuracy(task, seed)
    elif strategy == "svm_rbf_pixels":
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            chosen = select(SVM_GRID, svm_score, task.X_train, task.y_train, folds=CV_FOLDS, seed=seed)
        accuracy = svm_score(chosen.best, task.X_train, task.y_train, task.X_test, task.y_test)
        done, extra = 0, _selection(chosen)
    elif strategy == "from_scratch_tuned":
        def score(candidate, X_tr, y_tr, X_val, y_val):
            model, _ = train_recipe(scratch_recipe(candidate), base, X_tr, y_tr, task.num_classes, seed)
            return model.score(X_val, y_val)

        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            chosen = select(SCRATCH_GRID, score, task.X_train, task.y_train, folds=CV_FOLDS, seed=seed)
        model, done = train_recipe(scratch_recipe(chosen.best), base, task.X_train, task.y_train,
                                   task.num_classes, seed)
        accuracy, extra = model.score(task.X_test, task.y_test), _selection(chosen)
    else:
        model, done = train_recipe(recipe_for(strategy), base, task.X_train, task.y_train, task.num_classes, seed)
        accuracy = model.score(task.X_test, task.y_test)
    return {"strategy": strategy, "accuracy": round(float(accuracy), 4), "updates": int(done), **extra,
            "seconds": round(time.perf_counter() - start, 2)}


# -- the study ------------------------------------------------------------------------------
def _key(r: dict) -> tuple:
    return (r["task"], r["size_label"], r["seed"], r["strategy"])


def load_runs(path: Path = RUNS_PATH) -> list[dict]:
    return json.loads(Path(path).read_text()) if Path(path).exists() else []


def _write_json(path: Path, payload) -> None:
    write_atomically(path, json.dumps(payload, indent=1) + "\n")


def plan(tasks, sizes, seeds, strategies, priority_size=100) -> list[tuple]:
    """(task, size, seed, strategies) cells in priority order: every strategy at ``priority_size``;
    then, at the other sizes, the augmented from-scratch (its old records had the zero-fill bug) and
    the SVM; then the other cheap strategies; then the tuned from-scratch."""
    cells = []
    expensive = [s for s in strategies if s == "from_scratch_tuned"]
    first = [s for s in strategies if s in ("from_scratch_augmented", "svm_rbf_pixels")]
    rest = [s for s in strategies if s not in expensive and s not in first]
    others = [size for size in sizes if size != priority_size]

    def tuned_here(task):
        return expensive if f"{task[0]}/{task[1]}" in TUNED_TASKS else []

    if priority_size in sizes:
        for task in tasks:
            for seed in seeds:
                cells.append((task, priority_size, seed, rest + first + tuned_here(task)))
    for group in (first, rest):
        for task in tasks:
            for size in others:
                for seed in seeds:
                    if group:
                        cells.append((task, size, seed, group))
    for size in others:
        for task in tasks:
            for seed in seeds:
                if tuned_here(task):
                    cells.append((task, size, seed, tuned_here(task)))
    return cells


def run_study(sizes=SIZES, seeds=SEEDS, strategies=STRATEGIES, tasks=None, runs_path: Path = RUNS_PATH,
              deadline: float | None = None, log=print, on_cell=None) -> list[dict]:
    """Run every missing record of the plan, checkpointing ``runs_path``; stop starting new cells
    after ``deadline`` (a ``time.time()``)."""
    from tlkit.datasets import list_transfer_tasks, make_transfer_task
    from tlkit.pretrained import PretrainedModel

    records = load_runs(runs_path)
    done = {_key(r) for r in records}
    for (similarity, domain), n_train, seed, todo in plan(tasks or list_transfer_tasks(), sizes, seeds,
                                                          strategies):
        name = f"{similarity}/{domain}"
        todo = [s for s in todo if (name, str(n_train), seed, s) not in done]
        if not todo:
            continue
        if deadline is not None and time.time() > deadline:
            log("deadline reached: no new cells started")
            break
        task = make_transfer_task(similarity, n_train=n_train, seed=seed, domain=domain)
        base = PretrainedModel(ARCHITECTURE, task.input_shape)
        for strategy in todo:
            result = run_one(task, strategy, base, seed)
            record = {"task": name, "similarity": similarity, "domain": domain, "architecture": ARCHITECTURE,
                      "n_train": int(len(task.X_train)), "size_label": str(n_train), "seed": seed, **result}
            records.append(record)
            done.add(_key(record))
            _write_json(runs_path, records)
            log(f"{name:<16} n={record['n_train']:>4} seed={seed} {strategy:<24} {record['accuracy']:.4f} "
                f"{record['seconds']:>6.1f}s {record.get('selected', '')}")
        if on_cell is not None:
            on_cell(records)
    return records


def coverage(records: list[dict], tasks, sizes, seeds, strategies) -> tuple[dict, list[str]]:
    """Which (task, strategy) ran at which sizes on every seed, and the missing cells."""
    have = {_key(r) for r in records}
    ran, missing = {}, []
    for similarity, domain in tasks:
        name = f"{similarity}/{domain}"
        for strategy in strategies:
            if strategy == "from_scratch_tuned" and name not in TUNED_TASKS:
                continue
            full = [str(s) for s in sizes if all((name, str(s), seed, strategy) in have for seed in seeds)]
            ran[f"{name} {strategy}"] = full
            missing += [f"{name} {strategy} n={s}" for s in sizes if str(s) not in full]
    return ran, missing


def export(records: list[dict], tasks, sizes, seeds, strategies, command: str, wall_seconds=None) -> None:
    """Write learning_curves.json (all but wild) and learning_curves_wild.json with their meta."""
    for path, chosen in ((RESULTS_PATH, [t for t in tasks if t[1] != "wild"]),
                         (WILD_PATH, [t for t in tasks if t[1] == "wild"])):
        if not chosen:
            continue
        names = {f"{s}/{d}" for s, d in chosen}
        part = [r for r in records if r["task"] in names]
        ran, missing = coverage(part, chosen, sizes, seeds, strategies)
        # Only cells run on every seed are exported; a partial cell stays in the runs file only.
        complete = {(cell.split(" ")[0], size, cell.split(" ")[1]) for cell, got in ran.items() for size in got}
        part = [r for r in part if (r["task"], r["size_label"], r["strategy"]) in complete]
        previous = _previous_records(path, {_key(r) for r in part})
        part += previous
        meta = {
            "command": command,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "numpy": np.__version__,
                        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")},
            "engine": _engine(), "architecture": ARCHITECTURE,
            "sizes": [str(s) for s in sizes], "seeds": list(seeds), "strategies": list(strategies),
            "recipes": {name: _recipe_dict(recipe_for(name))
                        for name in ("feature_extraction", "fine_tuning", "from_scratch", "from_scratch_augmented")},
            "raw_pixels": "softmax regression on the raw pixels with the feature_extraction recipe",
            "augmentation": {**AUGMENTATION, "fill": "border (each image's background)"},
            "svm_rbf_pixels": {"grid": list(SVM_GRID), "selection": f"tlkit.protocol.select, {CV_FOLDS}-fold CV "
                               "on the training set (a validation split, or the first candidate, when a class "
                               "is too small: see each record's selection_method)"},
            "from_scratch_tuned": {"grid": list(SCRATCH_GRID), "recipe": "from_scratch with the chosen rate, "
                                   "weight decay and augmentation", "selection": f"{CV_FOLDS}-fold CV as above"},
            "ran": ran, "missing": missing, "complete": not missing, "wall_seconds": wall_seconds,
            "previous_records": len(previous),
            "previous_note": PREVIOUS_NOTE if previous else "",
            "run_seconds_total": round(sum(r["seconds"] for r in part), 1),
        }
        _write_json(path, {"meta": meta, "records": part})


PREVIOUS_NOTE = ("records with run='previous' come from the study committed before this one (same seeds and "
                 "rates, epochs for about 300 updates, minibatches of 32 with a small trailing batch); they "
                 "fill cells this run did not reach and are not counted in 'ran'. The previous "
                 "from_scratch_augmented records are never kept (zero-fill augmentation bug).")


def _previous_records(path: Path, have: set) -> list[dict]:
    """Records of the previous study in ``path`` for cells this run has not produced (never the
    buggy augmented ones), marked ``run="previous"``."""
    if not Path(path).exists():
        return []
    payload = json.loads(Path(path).read_text())
    old_format = "ran" not in payload.get("meta", {})
    kept = []
    for r in payload["records"]:
        if _key(r) in have or r["strategy"] == "from_scratch_augmented":
            continue
        if old_format or r.get("run") == "previous":
            kept.append({**r, "run": "previous"})
    return kept


def _recipe_dict(recipe) -> dict:
    config = {k: (repr(v) if k == "augment" else v) for k, v in recipe.config.items()}
    return {"name": recipe.name, "strategy": recipe.strategy, "learning_rate": recipe.learning_rate,
            "batch_size": recipe.batch_size, "updates": recipe.updates, "config": config,
            "strategy_kwargs": dict(recipe.strategy_kwargs)}


def _engine() -> str:
    try:
        from tlkit.nn import engine
        return engine.name()
    except (ImportError, AttributeError):
        return "default"


def save_results(records: list[dict], path: Path = RESULTS_PATH, meta: dict | None = None) -> Path:
    _write_json(path, {"meta": meta or {}, "records": records})
    return path


def load_results(path: Path = RESULTS_PATH) -> list[dict]:
    """The records of the last study (a list of dicts with task, strategy, n_train, seed, accuracy)."""
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
    from tlkit.datasets import list_transfer_tasks

    parser = argparse.ArgumentParser(description="Learning curves of every strategy on every task.")
    parser.add_argument("--quick", action="store_true", help="2 seeds, sizes 25 and 100")
    parser.add_argument("--tasks", help="comma-separated similarity/domain, e.g. high/digits,medium/wild")
    parser.add_argument("--deadline", help="UTC time HH:MM after which no new cell starts")
    parser.add_argument("--export-only", action="store_true", help="rewrite the result files from the runs")
    args = parser.parse_args(argv)
    sizes, seeds = ((25, 100), (0, 1)) if args.quick else (SIZES, SEEDS)
    tasks = [tuple(t.split("/")) for t in args.tasks.split(",")] if args.tasks else list_transfer_tasks()
    deadline = None
    if args.deadline:
        now = datetime.datetime.now(datetime.timezone.utc)
        hh, mm = (int(v) for v in args.deadline.split(":"))
        deadline = now.replace(hour=hh, minute=mm, second=0).timestamp()
    command = "python -m studies.study" + (" --quick" if args.quick else "") + \
        (f" --tasks {args.tasks}" if args.tasks else "")
    runs_path = RUNS_PATH.with_name("learning_curves_quick_runs.json") if args.quick else RUNS_PATH
    start = time.perf_counter()
    if args.export_only:
        records = load_runs(runs_path)
    else:
        records = run_study(sizes, seeds, tasks=tasks, runs_path=runs_path, deadline=deadline)
    if not args.quick:
        export(records, tasks, sizes, seeds, STRATEGIES, command,
               None if args.export_only else round(time.perf_counter() - start, 1))
    print(f"{len(records)} records in {runs_path}")


if __name__ == "__main__":
    use_research_engine()
    main()
