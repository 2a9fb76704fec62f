"""A data check of the committed study results: well-formed and consistent with themselves.

Every tips record's statistics are recomputed from its per-seed accuracies by the code that
wrote them (``tlkit.protocol.paired_difference``, whose t-quantiles ``tests/protocol/test_stats.py``
checks), so a hand-edited or stale record fails; and a learning-curve file may call itself
complete only when every cell it promises is present on every seed.
"""

from __future__ import annotations

import json

import pytest

from tlkit.protocol import STUDY_RESULTS, paired_difference

RESULTS = STUDY_RESULTS
TIP_NAMES = {"dropout", "warmup", "gradual_unfreezing", "discriminative_lr", "low_lr",
             "bn_inference_mode", "adabn", "two_phase"}
TIP_KEYS = {"tip", "task", "n_train", "arm_a", "arm_b", "updates_per_arm", "seeds", "diff_mean", "diff_sd",
            "diff_ci95", "wins"}


def _tips() -> list[dict]:
    path = RESULTS / "tips.json"
    if not path.exists():
        pytest.skip("studies/results/tips.json not written yet (python -m studies.tips)")
    return json.loads(path.read_text())


def test_tips_file_is_a_list_of_records_with_the_agreed_keys():
    records = _tips()
    assert isinstance(records, list) and records
    for r in records:
        assert TIP_KEYS <= set(r), sorted(TIP_KEYS - set(r))
        assert r["tip"] in TIP_NAMES
        assert r["task"] in {"high/digits", "medium/xray"}
        assert r["n_train"] == 100
        assert len(r["seeds"]) == len(set(r["seeds"])) >= 5
        assert 0 <= r["wins"] <= len(r["seeds"])
        assert isinstance(r["updates_per_arm"], int) and r["updates_per_arm"] > 0


def test_tips_differences_are_fractions_and_the_interval_contains_the_mean():
    for r in _tips():
        lo, hi = r["diff_ci95"]
        assert -1.0 <= r["diff_mean"] <= 1.0
        assert lo <= r["diff_mean"] <= hi
        assert r["diff_sd"] >= 0


def test_tips_statistics_recomputed_from_the_per_seed_accuracies():
    for r in _tips():
        assert len(r["accuracy_a"]) == len(r["accuracy_b"]) == len(r["seeds"])
        d = paired_difference(r["accuracy_a"], r["accuracy_b"])
        assert r["diff_mean"] == pytest.approx(d.mean, abs=1e-9)
        assert r["diff_sd"] == pytest.approx(d.sd, abs=1e-9)
        assert r["diff_ci95"] == pytest.approx(list(d.ci95), abs=1e-9)
        assert r["wins"] == d.wins


def test_every_tip_is_measured_on_both_tasks_at_the_study_budget():
    meta_path = RESULTS / "tips_meta.json"
    records = _tips()
    meta = json.loads(meta_path.read_text())
    measured = {(r["tip"], r["task"]) for r in records if r["updates_per_arm"] >= 300}
    wanted = {(tip, task) for tip in TIP_NAMES for task in ("high/digits", "medium/xray")}
    if meta["complete"]:
        assert measured == wanted
    else:  # a partial study must say what is missing, never pass for complete
        assert meta["missing"]


def _curves(name: str) -> tuple[dict, list[dict]]:
    path = RESULTS / name
    if not path.exists():
        pytest.skip(f"studies/results/{name} not written yet (python -m studies.study)")
    payload = json.loads(path.read_text())
    return payload["meta"], payload["records"]


@pytest.mark.parametrize("name", ["learning_curves.json", "learning_curves_wild.json"])
def test_learning_curve_records_are_well_formed(name):
    meta, records = _curves(name)
    assert records
    for r in records:
        assert {"task", "strategy", "n_train", "size_label", "seed", "accuracy"} <= set(r)
        assert 0.0 <= r["accuracy"] <= 1.0
        assert r["seed"] in meta["seeds"]
    keys = [(r["task"], r["size_label"], r["seed"], r["strategy"]) for r in records]
    assert len(keys) == len(set(keys)), "a run is stored twice"


@pytest.mark.parametrize("name", ["learning_curves.json", "learning_curves_wild.json"])
def test_learning_curve_meta_says_exactly_what_ran(name):
    meta, records = _curves(name)
    if "ran" not in meta:
        pytest.skip("results written before the study recorded its coverage")
    have = {(r["task"], r["size_label"], r["seed"], r["strategy"]) for r in records}
    for cell, sizes in meta["ran"].items():
        task, strategy = cell.split(" ")
        for size in sizes:
            assert all((task, size, seed, strategy) in have for seed in meta["seeds"]), (cell, size)
    assert meta["complete"] == (not meta["missing"])


@pytest.mark.parametrize("name", ["learning_curves.json", "learning_curves_wild.json"])
def test_tuned_baselines_were_chosen_inside_the_training_set(name):
    _, records = _curves(name)
    tuned = [r for r in records if r["strategy"] in ("svm_rbf_pixels", "from_scratch_tuned")]
    for r in tuned:
        assert r["selected"] in r["selection_scores"] or r["selection_method"].startswith("fallback")
        if r["selection_scores"]:
            best = max(r["selection_scores"].values())
            assert r["selection_scores"][r["selected"]] == best
