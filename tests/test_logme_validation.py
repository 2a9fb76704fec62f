"""The LogME validation study: its rank correlations, its stored results, and their reproducibility."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from studies.logme_validation import (
    ARCHITECTURES,
    RESULTS_PATH,
    SEEDS,
    STRATEGIES,
    TASKS,
    _json_safe,
    kendall_tau,
    load_results,
    logme_of,
    rankdata,
    report,
    spearman,
    summarise,
    task_name,
)
from tlkit import checkpoints

# -- rank correlations: hand-computed values -------------------------------------------------


def test_rankdata_known_values_and_average_ranks_for_ties():
    assert rankdata([10, 30, 20]).tolist() == [1.0, 3.0, 2.0]
    assert rankdata([10, 30, 20, 20]).tolist() == [1.0, 4.0, 2.5, 2.5]
    assert rankdata([5, 5, 5]).tolist() == [2.0, 2.0, 2.0]
    assert rankdata([3.0, -1.0, 3.0, 3.0, 0.5]).tolist() == [4.0, 1.0, 4.0, 4.0, 2.0]


def test_spearman_and_kendall_without_ties():
    x, y = [1, 2, 3, 4, 5], [2, 1, 4, 3, 5]
    # sum d^2 = 4: rho = 1 - 6 * 4 / (5 * 24) = 0.8; 8 concordant, 2 discordant pairs of 10: tau = 0.6
    assert spearman(x, y) == pytest.approx(0.8, abs=1e-12)
    assert kendall_tau(x, y) == pytest.approx(0.6, abs=1e-12)
    assert spearman(x, y[::-1]) == pytest.approx(-0.8, abs=1e-12)
    assert kendall_tau(x, y[::-1]) == pytest.approx(-0.6, abs=1e-12)


def test_spearman_and_kendall_with_ties():
    x, y = [1, 2, 2, 3], [1, 2, 3, 4]
    # ranks of x: 1, 2.5, 2.5, 4 -> centred (-1.5, 0, 0, 1.5); of y centred (-1.5, -0.5, 0.5, 1.5)
    assert spearman(x, y) == pytest.approx(4.5 / math.sqrt(4.5 * 5.0), abs=1e-12)
    # tau-b: 5 concordant, 0 discordant, 1 pair tied in x: 5 / sqrt(5 * 6)
    assert kendall_tau(x, y) == pytest.approx(5 / math.sqrt(30), abs=1e-12)
    assert spearman(y, x) == pytest.approx(spearman(x, y), abs=1e-12)
    assert kendall_tau(y, x) == pytest.approx(kendall_tau(x, y), abs=1e-12)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_three_points_take_the_textbook_values(order):
    d = np.arange(3) - np.asarray(order)
    expected = 1 - 6 * float(d @ d) / (3 * (9 - 1))
    assert spearman([1, 2, 3], order) == pytest.approx(expected, abs=1e-12)
    assert expected in (-1.0, -0.5, 0.5, 1.0)


def test_only_the_order_matters():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=20), rng.normal(size=20)
    assert spearman(x, np.exp(y)) == pytest.approx(spearman(x, y), abs=1e-12)
    assert kendall_tau(x**3, y) == pytest.approx(kendall_tau(x, y), abs=1e-12)
    assert spearman(x, x**3) == 1.0 and kendall_tau(x, -np.exp(x)) == -1.0


def test_constant_input_gives_nan():
    assert math.isnan(spearman([1, 2, 3], [4, 4, 4]))
    assert math.isnan(kendall_tau([7, 7], [1, 2]))


@pytest.mark.parametrize("function", [spearman, kendall_tau])
def test_bad_input_names_the_argument(function):
    with pytest.raises(ValueError, match="^x must be 1-D"):
        function([[1, 2], [3, 4]], [1, 2])
    with pytest.raises(ValueError, match="^y contains NaN"):
        function([1, 2, 3], [1, np.nan, 3])
    with pytest.raises(ValueError, match="^x must have at least 2"):
        function([1], [1])
    with pytest.raises(ValueError, match="^y must be a 1-D sequence of numbers"):
        function([1, 2], ["a", "b"])
    with pytest.raises(ValueError, match="^x and y must have the same length; x has 3 values, y has 2"):
        function([1, 2, 3], [1, 2])


# -- the stored results ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stored():
    return load_results(RESULTS_PATH)


def test_stored_run_is_the_full_run_with_every_record(stored):
    meta, records = stored["meta"], stored["records"]
    assert meta["command"] == "python -m studies.logme_validation"
    assert meta["seeds"] == list(SEEDS) and meta["n_train"] == 100
    keys = [(r["task"], r["architecture"], r["seed"]) for r in records]
    expected = {(task_name(*t), a, s) for t in TASKS for a in ARCHITECTURES for s in SEEDS}
    assert len(keys) == len(set(keys)) == len(expected) == 36
    assert set(keys) == expected
    for r in records:
        assert r["n_train"] == 100 and math.isfinite(r["logme"])
        for strategy in STRATEGIES:
            accuracy = r[f"{strategy}_accuracy"]
            assert 0.0 <= accuracy <= 1.0 and accuracy == round(accuracy, 4)
        assert r["input_shape"] == ([12, 12] if r["domain"] == "wild" else [8, 8])
        assert r["checkpoint"] == checkpoints.checkpoint_name(r["architecture"], tuple(r["input_shape"]))


def assert_same(stored, recomputed, where="summary"):
    """Equal structure and keys; numbers equal to 1e-12 (the file round-trips floats exactly)."""
    if isinstance(recomputed, dict):
        assert isinstance(stored, dict) and stored.keys() == recomputed.keys(), where
        for key in recomputed:
            assert_same(stored[key], recomputed[key], f"{where}.{key}")
    elif isinstance(recomputed, list):
        assert isinstance(stored, list) and len(stored) == len(recomputed), where
        for i, (a, b) in enumerate(zip(stored, recomputed, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(recomputed, float):
        assert stored == pytest.approx(recomputed, rel=1e-12, abs=1e-12), where
    else:
        assert stored == recomputed, where


def test_stored_summary_is_recomputed_from_the_stored_records(stored):
    summary = stored["summary"]
    assert_same(summary, _json_safe(summarise(stored["records"])))
    # the headline numbers are there and defined
    assert summary["pooled"]["n_points"] == 12
    for block in [summary["pooled"]["seed_means"], *summary["pooled"]["per_seed"].values()]:
        assert all(-1 <= block[s][c] <= 1 for s in STRATEGIES for c in ("spearman", "kendall"))
    assert set(summary["within_task"]) == {task_name(*t) for t in TASKS}


def test_stored_pooled_correlations_by_hand(stored):
    """Independent of ``summarise``: seed means per pair, then the stored correlations."""
    records, pooled = stored["records"], stored["summary"]["pooled"]
    pairs = sorted({(r["task"], r["architecture"]) for r in records})

    def mean_of(key, pair):
        return np.mean([r[key] for r in records if (r["task"], r["architecture"]) == pair])

    scores = [mean_of("logme", p) for p in pairs]
    for strategy in STRATEGIES:
        accuracies = [mean_of(f"{strategy}_accuracy", p) for p in pairs]
        assert pooled["seed_means"][strategy]["spearman"] == pytest.approx(spearman(scores, accuracies), abs=1e-12)
        assert pooled["seed_means"][strategy]["kendall"] == pytest.approx(kendall_tau(scores, accuracies), abs=1e-12)
        for seed in SEEDS:
            rows = sorted((r for r in records if r["seed"] == seed), key=lambda r: (r["task"], r["architecture"]))
            rho = spearman([r["logme"] for r in rows], [r[f"{strategy}_accuracy"] for r in rows])
            assert pooled["per_seed"][str(seed)][strategy]["spearman"] == pytest.approx(rho, abs=1e-12)


def test_stored_within_task_picks(stored):
    means = stored["summary"]["seed_means"]
    for task, block in stored["summary"]["within_task"].items():
        rows = [r for r in means if r["task"] == task]
        assert block["n_points"] == len(rows) == 3
        for strategy, pick in block["pick_on_seed_means"].items():
            by_arch = {r["architecture"]: r[f"{strategy}_accuracy"] for r in rows}
            assert pick["logme_pick"] == max(rows, key=lambda r: r["logme"])["architecture"]
            assert pick["accuracy_lost"] == pytest.approx(max(by_arch.values()) - by_arch[pick["logme_pick"]])
            assert pick["accuracy_lost"] >= 0 and (pick["accuracy_lost"] == 0) == (pick["logme_pick"] in pick["best"])
    text = report(stored["records"])
    assert all(task_name(*t) in text for t in TASKS) and "seed means" in text


def test_checkpoints_are_the_ones_the_results_were_computed_with(stored):
    manifest = checkpoints.read_manifest()["checkpoints"]
    for name, sha256 in stored["meta"]["checkpoints"].items():
        assert manifest[name]["sha256"] == sha256, f"{name} changed since the stored run: rerun the study"


def test_one_stored_logme_score_recomputes_live(stored):
    record = next(r for r in stored["records"]
                  if (r["task"], r["architecture"], r["seed"]) == ("medium/wild", "simple", 1))
    score, task, _ = logme_of(record["similarity"], record["domain"], record["architecture"], record["seed"],
                              record["n_train"])
    assert len(task.X_train) == record["n_train"] and len(task.X_test) == record["n_test"]
    assert score == pytest.approx(record["logme"], rel=1e-5)
