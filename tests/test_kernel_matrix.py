"""tools.kernel_matrix: parsing pytest's output and building each configuration's environment."""

from tools.kernel_matrix import CONFIGS, Outcome, environment, parse

OUTPUT = """\x1b[31mFAILED\x1b[0m solutions/01_pretrained_model.ipynb::Cell 22 - Notebook cell execution failed
ERROR solutions/04_choosing_a_strategy.ipynb::Cell 3
============================= slowest 5 durations =============================
4.60s call     solutions/03_fine_tuning.ipynb::Cell 18
6.80s call     solutions/02_feature_extraction.ipynb::Cell 10
9.10s setup    solutions/00_introduction.ipynb::Cell 0
======= 1 failed, 120 passed, 1 error in 62.05s (0:01:02) ======="""


def test_parse_counts_failures_and_slowest_call():
    outcome = Outcome("HASWELL")
    parse(OUTPUT, outcome)
    assert (outcome.passed, outcome.failed) == (120, 2)
    assert outcome.failures == ["solutions/01_pretrained_model.ipynb::Cell 22",
                                "solutions/04_choosing_a_strategy.ipynb::Cell 3"]
    assert outcome.slowest == "6.8 s solutions/02_feature_extraction.ipynb::Cell 10"  # a setup time is not a cell


def test_parse_of_a_clean_run():
    outcome = Outcome("SKYLAKEX")
    parse("..........\n5 passed in 3.20s", outcome)
    assert (outcome.passed, outcome.failed, outcome.failures, outcome.slowest) == (5, 0, [], "")


def test_environment_sets_the_kernel_and_removes_a_pin(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "HASWELL")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    env = environment(CONFIGS["numpy-no-AVX512"][0])
    assert "OPENBLAS_CORETYPE" not in env
    assert env["NPY_DISABLE_CPU_FEATURES"] == "X86_V4 AVX512_ICL AVX512_SPR"
    assert env["OPENBLAS_NUM_THREADS"] == "1"
    assert environment(CONFIGS["SKYLAKEX"][0])["OPENBLAS_CORETYPE"] == "SKYLAKEX"


def test_parse_counts_progress_characters_when_there_is_no_summary():
    outcome = Outcome("SANDYBRIDGE")
    parse("....F..... [ 50%]\n..E.       [100%]\n=== slowest 5 durations ===\n1.00s call     a.ipynb::Cell 1", outcome)
    assert (outcome.passed, outcome.failed) == (12, 2)
