"""studies.domain_adaptation: the arms, the pairing, and the stored result recomputed from its runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studies.domain_adaptation import ARMS, AUGMENTERS, REFERENCES, RESULTS_PATH, SEEDS, TASKS, compare, task_name
from tlkit.protocol import RECIPES, load_meta, load_records

T975_4 = 2.776  # Student's t, 4 degrees of freedom (5 seeds)
METHODS = {"adapters", "LoRA", "input stem", "AdaBN", "very low learning rate", "augmentation"}


def test_every_method_of_the_issue_is_an_arm_at_the_protocols_budget():
    assert {arm.method for arm in ARMS.values()} == METHODS | {"reference"}
    assert set(REFERENCES) <= set(ARMS)
    budgets = {(arm.recipe.updates, arm.recipe.batch_size) for arm in ARMS.values()}
    assert budgets == {(RECIPES["fine_tuning"].updates, RECIPES["fine_tuning"].batch_size)}
    for reference in REFERENCES:
        for augment in AUGMENTERS:
            arm = ARMS[f"{reference} + {augment}"]
            assert arm.recipe.config["augment"] is AUGMENTERS[augment]
            assert arm.recipe.strategy == RECIPES[reference].strategy
    assert AUGMENTERS["warp + noise restored"].restore_noise
    assert AUGMENTERS["whole-pixel shifts"].interpolation == "none"
    fixed = [name for name, arm in ARMS.items() if not arm.rates]
    assert fixed == ["low_lr"] and ARMS["low_lr"].recipe.learning_rate == RECIPES["from_scratch"].learning_rate / 10


def fake_runs(deltas: dict[str, list[float]], task: str = "medium/xray") -> list[dict]:
    runs = []
    for arm, values in deltas.items():
        for seed, accuracy in enumerate(values):
            runs.append({"kind": "run", "task": task, "seed": seed, "arm": arm, "accuracy": accuracy,
                         "updates": 300, "trainable_parameters": 10 * len(arm), "train_seconds": 1.0})
    return runs


def test_compare_pairs_every_arm_with_both_references_by_seed():
    base = [0.70, 0.72, 0.71, 0.69, 0.73]
    runs = fake_runs({"fine_tuning": base, "from_scratch": [a + 0.04 for a in base],
                      "adapters": [a + 0.01 * (s % 2) for s, a in enumerate(base)]})
    comparisons, missing = compare(runs, seeds=range(5))
    found = {(c["arm"], c["reference"]): c for c in comparisons}
    assert set(found) == {("from_scratch", "fine_tuning"), ("fine_tuning", "from_scratch"),
                          ("adapters", "fine_tuning"), ("adapters", "from_scratch")}
    assert found[("adapters", "from_scratch")]["diff_mean"] == pytest.approx(-0.04 + 0.004)
    assert found[("from_scratch", "fine_tuning")]["verdict"] == "better"
    assert found[("fine_tuning", "from_scratch")]["verdict"] == "worse"
    assert found[("adapters", "fine_tuning")]["wins"] == 2
    assert any("lora" in m for m in missing) and any("medium/wild" in m for m in missing)


def test_compare_refuses_arms_that_ran_different_budgets():
    runs = fake_runs({"fine_tuning": [0.7] * 5, "from_scratch": [0.8] * 5})
    runs[0]["updates"] = 299
    with pytest.raises(RuntimeError, match="different budgets"):
        compare(runs, seeds=range(5))


@pytest.fixture(scope="module")
def stored():
    if not RESULTS_PATH.exists():
        pytest.skip("studies/results/domain_adaptation.json not written yet (python -m studies.domain_adaptation)")
    return load_records(RESULTS_PATH), load_meta(RESULTS_PATH)


def test_the_stored_study_is_complete_at_the_promised_size(stored):
    records, meta = stored
    runs = [r for r in records if r["kind"] == "run"]
    assert meta["complete"] and not meta["missing"]
    assert meta["seeds"] == list(SEEDS) and len(SEEDS) >= 5
    for similarity, domain in TASKS:
        for arm in ARMS:
            seeds = sorted(r["seed"] for r in runs if r["task"] == task_name(similarity, domain) and r["arm"] == arm)
            assert seeds == list(SEEDS), (domain, arm)
    assert {r["updates"] for r in runs} == {RECIPES["fine_tuning"].updates}
    methods = {c["method"] for c in records if c["kind"] == "comparison"} - {"reference"}
    assert len(methods) >= 4


def test_the_stored_comparisons_recomputed_from_the_runs(stored):
    records, _ = stored
    runs = {(r["task"], r["arm"], r["seed"]): r for r in records if r["kind"] == "run"}
    comparisons = [r for r in records if r["kind"] == "comparison"]
    assert len(comparisons) == len(TASKS) * (2 * (len(ARMS) - 2) + 2)
    for c in comparisons:
        a = np.array([runs[(c["task"], c["reference"], s)]["accuracy"] for s in c["seeds"]])
        b = np.array([runs[(c["task"], c["arm"], s)]["accuracy"] for s in c["seeds"]])
        d = b - a
        half = T975_4 * d.std(ddof=1) / math.sqrt(len(d))
        assert c["diff_mean"] == pytest.approx(d.mean(), abs=1e-12)
        assert c["diff_ci95"] == pytest.approx([d.mean() - half, d.mean() + half], abs=1e-12)
        assert c["wins"] == int(np.sum(d > 0)) and c["losses"] == int(np.sum(d < 0))
        lo, hi = c["diff_ci95"]
        assert c["verdict"] == ("better" if lo > 0 else "worse" if hi < 0 else "no clear difference")
        assert c["trainable_parameters"] == runs[(c["task"], c["arm"], 0)]["trainable_parameters"] > 0


def test_parameter_efficient_arms_train_a_fraction_of_fine_tunings_weights(stored):
    records, _ = stored
    params = {r["arm"]: r["trainable_parameters"] for r in records if r["kind"] == "run" and r["task"] == "medium/xray"}
    assert params["input_stem"] < params["lora"] < params["fine_tuning"] / 5
    assert params["adapters"] < params["fine_tuning"] / 5
    assert params["fine_tuning"] < params["from_scratch"]
