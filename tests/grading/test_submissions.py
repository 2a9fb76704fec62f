"""Reading submissions without running them: files, markers, helpers, library answers;
the result-frame protocol; feedback file names; the command line's refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from instructor.grading.report import feedback_names
from instructor.grading.submissions import (
    MAX_CELL_CHARS,
    MAX_FOLDER_DEPTH,
    MAX_JSON_ITEMS,
    MAX_NOTEBOOK_BYTES,
    extract_exercises,
    find_submissions,
    library_use,
    parse_notebook,
    read_roster,
)
from tests.grading.demo_class import nest_folders, remove_tree
from tlkit.exercises.registry import COURSE_CLASSES_LIBRARY
from tlkit.exercises.runner import FrameError, encode_frame, parse_frames

COURSE = ["01.1", "02.1", "04.1"]


def _nb(path: Path, *cells: tuple[str, str] | tuple[str, str, list]) -> Path:
    out = []
    for cell in cells:
        kind, source = cell[0], cell[1]
        metadata = {"tags": cell[2]} if len(cell) > 2 else {}
        out.append({"cell_type": kind, "metadata": metadata, "source": source,
                    **({"outputs": [], "execution_count": None} if kind == "code" else {})})
    path.write_text(json.dumps({"cells": out, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def test_every_file_is_a_student_and_folders_hold_notebooks(tmp_path):
    (tmp_path / "a.ipynb").write_text("{}")
    (tmp_path / "b.py").write_text("")
    (tmp_path / "C.IPYNB").write_text("{}")
    (tmp_path / ".hidden.ipynb").write_text("{}")
    (tmp_path / "dan").mkdir()
    (tmp_path / "dan" / "part1.ipynb").write_text("{}")
    (tmp_path / "dan" / "notes.txt").write_text("")
    os.mkfifo(tmp_path / "fifo.ipynb")  # reading it would block: refused, still a row
    (tmp_path / "link.ipynb").symlink_to("/etc/passwd")
    found = find_submissions(tmp_path)
    assert sorted(found) == ["C", "a", "b", "dan", "fifo", "link"]
    with pytest.raises(ValueError, match="not a regular file"):
        parse_notebook(found["fifo"][0])
    with pytest.raises(ValueError, match="symbolic link"):
        parse_notebook(found["link"][0])
    assert [p.name for p in found["dan"]] == ["part1.ipynb"]


@pytest.fixture
def class_with_a_deep_folder():
    """A class folder outside pytest's tmp_path (pytest's own cleanup recurses), removed
    at the end whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="tlkit-deep-class-"))
    try:
        nest_folders(root / "deep", 1100, "deep.ipynb", "")
        yield root
    finally:
        remove_tree(root)


def test_a_folder_nested_1100_levels_is_an_error_row_not_a_crash(class_with_a_deep_folder):
    from instructor.grading.grade import collect

    tmp_path = class_with_a_deep_folder
    nest_folders(tmp_path / "shallow", 3, "deep.ipynb", "")
    (tmp_path / "ann.ipynb").write_text("{}")
    problems: dict[str, list[str]] = {}
    found = find_submissions(tmp_path, problems)
    assert sorted(found) == ["ann", "deep", "shallow"]
    assert found["deep"] == [] and [p.name for p in found["shallow"]] == ["deep.ipynb"]
    assert list(problems) == ["deep"]
    assert f"more than {MAX_FOLDER_DEPTH} levels deep" in problems["deep"][0]
    rows = {sub.student: sub for sub in collect(tmp_path, ["04.1"])}
    assert len(rows) == 3
    assert any("levels deep" in e for e in rows["deep"].errors)
    assert not any("levels deep" in e for e in rows["ann"].errors + rows["shallow"].errors)


def test_every_file_gets_exactly_one_row_whatever_its_name(tmp_path):
    from instructor.grading.grade import collect

    names = ["zz\rbob.ipynb", "bob.ipynb", "=cmd.ipynb", "+x.ipynb", "-x.ipynb", "@x.ipynb",
             "\x1b]0;pwned\x07.ipynb", "\x1b[2J\x1b[Hdone.ipynb", "a" * 244 + ".ipynb",
             "line\nbreak.ipynb", " .ipynb", "\u202egnp.ipynb", "tab\there.py"]
    for name in names:
        (tmp_path / name).write_text("{}")
    (tmp_path / os.fsdecode(b"not-utf8-\xff.ipynb")).write_text("{}")  # bytes of no encoding
    subs = collect(tmp_path, ["04.1"])
    assert len(subs) == len(names) + 1
    assert len({sub.student for sub in subs}) == len(subs)
    assert all(len(sub.files) == 1 for sub in subs)
    assert "zz\rbob" in {sub.student for sub in subs} and "bob" in {sub.student for sub in subs}


def _write_nb(path: Path, sources: list[str]) -> Path:
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": src} for src in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def test_oversized_cells_are_refused_before_any_parse(tmp_path):
    honest = "### EXERCISE 04.1\ndef recommend_strategy(n, s):\n    return 'fine_tuning'\n"
    big = "### EXERCISE 01.1\nx = [" + "f()," * (MAX_CELL_CHARS // 4) + "]\n"
    path = _write_nb(tmp_path / "n.ipynb", ["y = [" + "1," * MAX_CELL_CHARS + "]", big, honest])
    cells, problems = parse_notebook(path)
    assert cells[0] is None and cells[1] is None and cells[2] is not None
    assert len(problems) == 2
    assert f"a code cell holds {MAX_CELL_CHARS * 2 + 6} characters" in problems[0]
    assert "the exercise cell of 01.1" in problems[1] and "not graded" in problems[1]
    found, _ = extract_exercises(cells, COURSE)
    assert sorted(found) == ["04.1"]
    # a cell of exactly the limit is read
    path = _write_nb(tmp_path / "m.ipynb", ["#" * MAX_CELL_CHARS])
    assert parse_notebook(path)[1] == []


def test_oversized_notebooks_are_refused_before_json(tmp_path):
    path = tmp_path / "big.ipynb"
    path.write_bytes(b" " * (MAX_NOTEBOOK_BYTES + 1))
    with pytest.raises(ValueError, match="more than the .* bytes a notebook may have"):
        parse_notebook(path)
    path.write_text("[" + "[]," * (MAX_JSON_ITEMS // 2) + "[]]")
    with pytest.raises(ValueError, match="JSON items"):
        parse_notebook(path)


_PEAK = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # the machine is shared
from instructor.grading.grade import collect
subs = collect(sys.argv[1], ["01.1", "04.1"])
for line in open("/proc/self/status"):
    if line.startswith("VmHWM"):
        print(int(line.split()[1]) // 1024)
print(" | ".join(subs[0].errors))
"""


def grader_peak_mib(folder: Path) -> tuple[int, str]:
    """The grader's peak resident memory (VmHWM, MiB) while reading the class in
    ``folder``, in a fresh interpreter capped at 3 GiB, and the first row's errors."""
    proc = subprocess.run([sys.executable, "-c", _PEAK, str(folder)], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak, errors = proc.stdout.split("\n", 1)
    return int(peak), errors


@pytest.mark.parametrize("mib", [16, 30])
def test_the_graders_peak_memory_is_bounded_for_a_huge_cell(tmp_path, mib):
    """A notebook with one exercise cell of ``mib`` MiB: refused with a reason, and the
    grader's own memory stays far below what parsing it would take (~0.5 GB per MiB)."""
    base = tmp_path / "empty"
    base.mkdir()
    _write_nb(base / "ann.ipynb", ["x = 1"])
    baseline, _ = grader_peak_mib(base)
    huge = tmp_path / "huge"
    huge.mkdir()
    cell = "### EXERCISE 04.1\nx = [" + "f()," * ((mib << 20) // 4) + "]\n"
    _write_nb(huge / "ann.ipynb", [cell])
    peak, errors = grader_peak_mib(huge)
    print(f"grader peak with a {mib} MiB cell: {peak} MiB (an empty class: {baseline} MiB)")
    assert "more than" in errors and "not read" in errors
    assert peak < baseline + 4 * mib + 64, (peak, baseline)


def test_roster_skips_comments_and_blank_lines(tmp_path):
    roster = tmp_path / "r.txt"
    roster.write_text("# class\nann\n\nbob  # late\nann\n")
    assert read_roster(roster) == ["ann", "bob"]
    roster.write_text("# nobody\n")
    with pytest.raises(ValueError, match="names no student"):
        read_roster(roster)


@pytest.mark.parametrize("text, reason", [
    ("{", "broken JSON"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"cells": 5}', "no list of cells"),
    ("[]", "no list of cells"),
])
def test_unreadable_notebooks_raise_with_the_reason(tmp_path, text, reason):
    path = tmp_path / "x.ipynb"
    path.write_text(text)
    with pytest.raises(ValueError, match=reason):
        parse_notebook(path)


def test_bad_cells_are_noted_not_fatal(tmp_path):
    path = _nb(tmp_path / "n.ipynb", ("code", "import numpy as np", 5), ("markdown", "# hi"),
               ("code", "x = 1"))
    raw = json.loads(path.read_text())
    raw["cells"].append(7)
    raw["cells"].append({"cell_type": "code", "source": 3, "metadata": {}})
    path.write_text(json.dumps(raw))
    cells, problems = parse_notebook(path)
    assert [c.index if c else None for c in cells] == [1, None, 3, None, None]
    assert any("metadata.tags is 5" in p for p in problems)
    assert any("cell 4: not a cell object" in p for p in problems)
    assert any("cell 5: source is a int" in p for p in problems)


def test_markers_course_ids_near_misses_and_duplicates(tmp_path):
    path = _nb(tmp_path / "n.ipynb",
               ("code", "import numpy as np\nimport math", ["imports"]),
               ("code", "### EXERCISE 01.1\ndef extract_in_batches(f, X, b):\n    return 1"),
               ("code", "### EXERCISE 01.1\ndef extract_in_batches(f, X, b):\n    return np.ones(2)"),
               ("code", "### EXERCISE 07.7\ndef bonus(): pass"),
               ("code", "### Exercise 02.1\ndef softmax_cross_entropy(z, y): pass"),
               ("code", "x = 1\n### EXERCISE 04.1\n"))
    cells, _ = parse_notebook(path)
    found, flags = extract_exercises(cells, COURSE)
    assert sorted(found) == ["01.1"]
    assert found["01.1"].exercise_cell.index == 3  # the last of the duplicates
    assert "np.ones" in found["01.1"].exercise_cell.source
    assert found["01.1"].imports[0].source == "import numpy as np"  # only what the cell uses
    text = "\n".join(flags)
    assert "marked in 2 cells" in text
    assert "'07.7'" in text
    assert "near-miss marker '### Exercise 02.1'" in text
    assert "near-miss marker '### EXERCISE 04.1'" in text  # not on the first line


def test_helpers_are_the_definitions_of_the_cells_right_above(tmp_path):
    path = _nb(tmp_path / "n.ipynb",
               ("code", "def far_away(): pass"),
               ("markdown", "text"),
               ("code", "import math\nSCALE = 2.0\ndata = load_everything()\n\n"
                        "@staticmethod\ndef helper(x):\n    return x * SCALE\n\nwhile True:\n    pass"),
               ("code", "class Tool:\n    pass"),
               ("code", "### EXERCISE 04.1\ndef recommend_strategy(n, s):\n    return helper(n)"))
    cells, _ = parse_notebook(path)
    found, _ = extract_exercises(cells, COURSE)
    helpers = [code for _, code in found["04.1"].helpers]
    assert len(helpers) == 2
    assert "def helper" in helpers[0] and "@staticmethod" in helpers[0]
    assert "SCALE = 2.0" in helpers[0] and "import math" in helpers[0]
    assert "load_everything" not in helpers[0] and "while True" not in helpers[0]
    assert "far_away" not in "".join(helpers)


def test_library_answers_are_seen(tmp_path):
    path = _nb(tmp_path / "n.ipynb",
               ("code", "### EXERCISE 04.1\nfrom tlkit import strategy_rule\n"
                        "def recommend_strategy(n, s):\n    return strategy_rule.choose(n, s)"),
               ("code", "### EXERCISE 02.1\nfrom tlkit.nn.losses import softmax_cross_entropy"),
               ("code", "### EXERCISE 01.1\ndef extract_in_batches(f, X, b):\n"
                        "    return open('../solutions/01.ipynb').read()"))
    cells, _ = parse_notebook(path)
    found, _ = extract_exercises(cells, COURSE)
    assert library_use(found["04.1"], "recommend_strategy", ("tlkit.strategy_rule",))
    reasons = library_use(found["02.1"], "softmax_cross_entropy", ("tlkit.nn.losses.softmax",))
    assert any("imports softmax_cross_entropy" in r for r in reasons)
    assert library_use(found["01.1"], "extract_in_batches", ())
    honest = _nb(tmp_path / "h.ipynb", ("code", "### EXERCISE 04.1\ndef recommend_strategy(n, s):\n"
                                                "    return 'fine_tuning'"))
    cells, _ = parse_notebook(honest)
    found, _ = extract_exercises(cells, COURSE)
    assert library_use(found["04.1"], "recommend_strategy", ("tlkit.strategy_rule",)) == []


# The library answers of a "build" exercise (issue 18): tlkit's strategies, manager, rule,
# PretrainedModel and the top-level classes; the engine (tlkit.nn, training) is allowed.
BUILD_LIBRARY = COURSE_CLASSES_LIBRARY
# what the notebooks' imports cells hold (context the exercise cell may rely on)
NOTEBOOK_IMPORTS = ("import numpy as np\nimport tlkit\n"
                    "from tlkit import FineTuningConfig, PretrainedModel, TrainingConfig\n"
                    "from tlkit.strategies import FeatureExtractor, FineTuner, random_base\n"
                    "from tlkit.nn import losses, optimizers\nfrom tlkit.nn.losses import log_softmax\n"
                    "from tlkit import strategy_rule\nfrom tlkit.strategies import discriminative\n"
                    "from tlkit.exercises import check, solution_or_reference\n")


def _library_flags(code: str, library: tuple[str, ...], name: str = "answer",
                   imports: str = NOTEBOOK_IMPORTS) -> list[str]:
    from instructor.grading.submissions import Cell, ExerciseCode

    cells = [Cell("n.ipynb", 1, imports)] if imports else []
    return library_use(ExerciseCode("04.1", Cell("n.ipynb", 2, code), cells, []), name, library)


def _all_library_names() -> list[tuple[str, tuple[str, ...]]]:
    from tlkit.exercises.registry import all_exercises

    return [(e.id, tuple(e.library_names)) for e in all_exercises()] + [("build", BUILD_LIBRARY)]


HONEST_USES = {
    "a variable": "{n} = []\n{n}.append(1.0)\nanswer = sum({n})\n",
    "a function": "def {n}(z):\n    return z - z.max()\n\ndef answer(z):\n    return {n}(z)\n",
    "a parameter": "def answer(z, {n}=None):\n    return {n}(z) if {n} else z\n",
    "a method and attribute": ("class Answer:\n    def __init__(self, base):\n"
                               "        self.{n} = base.{n}\n        self.base = base\n"
                               "    def {n}(self, x):\n        return self.base.{n}(x)\n"
                               "answer = Answer\n"),
    "a loop variable": "def answer(rows):\n    return [{n} * 2 for {n} in rows]\n",
    "an import from scipy": "from scipy.special import softmax as {n}\nanswer = {n}\n",
    "a dict key and a string": "def answer():\n    return {{'{n}': 1, 'tlkit': '{n}'}}\n",
}


@pytest.mark.parametrize("name", ["losses", "log_softmax", "optimizers", "discriminative",
                                  "strategy_rule", "infer", "extract_features"])
@pytest.mark.parametrize("use", sorted(HONEST_USES))
def test_student_chosen_names_raise_no_library_flag(name, use):
    """Issue 18: honest work was flagged for naming a local `losses` (and these others)."""
    code = "### EXERCISE 04.1\n" + HONEST_USES[use].format(n=name)
    for exercise_id, library in _all_library_names():
        assert _library_flags(code, library) == [], (exercise_id, code)


def test_the_students_own_classes_shadow_the_notebooks_imports():
    code = ("class FineTuner:\n    def __init__(self, base, num_classes):\n"
            "        self.base = base\n    def train(self, X, y, config):\n"
            "        return self.base.extract_features(X)\n"
            "class PretrainedModel:\n    pass\n"
            "def helper():\n    return FineTuner(None, 2), tlkit.nn.Dense, np.zeros(2)\n")
    assert _library_flags(code, BUILD_LIBRARY, "FineTuner") == []


LIBRARY_USES = {
    "from-import": "from tlkit.strategies import FineTuner\nanswer = FineTuner\n",
    "module alias": "import tlkit.manager as m\nanswer = m.TransferLearningManager\n",
    "dotted access": "def answer():\n    return tlkit.pretrained.PretrainedModel('simple')\n",
    "top-level class": "def answer(base):\n    return tlkit.FineTuner(base, 2)\n",
    "subclass": "class Answer(tlkit.pretrained.PretrainedModel):\n    pass\n",
    "subclass of the same name": "class FeatureExtractor(FeatureExtractor):\n    pass\n",
    "wrapper": ("class FineTuner:\n    def __init__(self, base, n):\n"
                "        self.inner = tlkit.strategies.fine_tuning.FineTuner(base, n)\n"),
    "notebook import used": "def answer(base, n):\n    return FeatureExtractor(base, n)\n",
    "instance attribute": ("def answer(n, s):\n    m = tlkit.TransferLearningManager()\n"
                           "    return m.recommend_strategy(n, s)\n"),
    "getattr": "answer = getattr(tlkit, 'FineTuner')\n",
    "import_module": "import importlib\nanswer = importlib.import_module('tlkit.strategy_rule')\n",
    "__import__": "answer = __import__('tlkit.manager')\n",
    "star import": "from tlkit import *\nanswer = TransferLearningManager\n",
    "alias chain": "cls = tlkit.FineTuner\nother = cls\nanswer = other(None, 2)\n",
    "rule module": "from tlkit import strategy_rule as r\nanswer = r.choose_strategy\n",
    "exercise machinery": "from tlkit.exercises import get_exercise\nanswer = get_exercise\n",
}


@pytest.mark.parametrize("use", sorted(LIBRARY_USES))
def test_real_uses_of_tlkits_implementations_are_flagged(use):
    imports = "import tlkit\nfrom tlkit.strategies import FeatureExtractor\n"
    reasons = _library_flags(LIBRARY_USES[use], BUILD_LIBRARY, imports=imports)
    assert reasons, use
    assert all("tlkit" in r for r in reasons), reasons


def test_the_engine_is_not_a_library_answer_for_the_build_exercises():
    code = ("from tlkit.nn import Dense, Network\nfrom tlkit.nn.losses import softmax_cross_entropy\n"
            "import tlkit.nn.optimizers as opt\n"
            "class FineTuner:\n    def __init__(self, base, n):\n"
            "        self.head = Dense(base.get_feature_size(), n)\n"
            "        self.opt = opt.SGD\n        self.loss = softmax_cross_entropy\n")
    assert _library_flags(code, BUILD_LIBRARY, "FineTuner") == []
    # ... while the same engine module is a library answer where the exercise lists it
    assert _library_flags(code, ("tlkit.nn.losses",), "FineTuner") == ["uses tlkit.nn.losses"]


def test_library_flags_name_what_was_used():
    reasons = _library_flags("class A(tlkit.FineTuner):\n    pass\n", BUILD_LIBRARY)
    assert reasons == ["class A subclasses tlkit.FineTuner"]
    reasons = _library_flags("from tlkit.strategies.fine_tuning import FineTuner as F\n",
                             BUILD_LIBRARY)
    assert reasons == ["uses tlkit.strategies"]
    reasons = _library_flags("x = 1\n", BUILD_LIBRARY, "FineTuner")
    assert reasons == ["imports FineTuner (tlkit.strategies.FineTuner) instead of writing it"]


def test_a_pasted_reference_is_flagged_and_the_stub_is_not(tmp_path):
    from instructor.exercises import reference_source
    from instructor.grading.submissions import reference_match, stub_source

    pasted = reference_source("02.2").replace("FeatureExtractor", "MyHead").replace("self", "me")
    path = _nb(tmp_path / "n.ipynb",
               ("code", "### EXERCISE 02.2\nimport numpy as np\n" + pasted + "FeatureExtractor = MyHead\n"),
               ("code", stub_source("03.1").replace("03.1", "01.1")))
    cells, _ = parse_notebook(path)
    found, _ = extract_exercises(cells, ["01.1", "02.2"])
    flags = reference_match(found["02.2"])
    assert flags == ["02.2: matches the reference solution (MyHead is the reference's FeatureExtractor "
                     "once names, docstrings, comments and formatting are ignored)"]
    assert reference_match(found["01.1"]) == []
    stub = _nb(tmp_path / "s.ipynb", ("code", stub_source("02.2")))
    cells, _ = parse_notebook(stub)
    assert reference_match(extract_exercises(cells, ["02.2"])[0]["02.2"]) == []


def test_frames_exactly_as_written():
    one = encode_frame({"a": 1})
    assert parse_frames(one) == [{"a": 1}]
    assert parse_frames(one + one) == [{"a": 1}, {"a": 1}]
    assert parse_frames(b"") == []
    for bad in (b"garbage" + one, one + b"x", one[:-1], b"TLKIT-RESULT x\n{}",
                b"TLKIT-RESULT 2\n{]"):
        with pytest.raises(FrameError):
            parse_frames(bad)


def test_feedback_names_never_collide():
    names = feedback_names(["ann lee", "ann_lee", "Bob", "bob", "x/../y", "..", "é"])
    assert len(set(names.values())) == 7
    assert names["ann_lee"] == "ann_lee.txt"
    assert all("/" not in n and not n.startswith(".") for n in names.values())


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "instructor.grading", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_refuses_a_non_empty_out_dir_and_bad_options(tmp_path):
    (tmp_path / "subs").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "grades.csv").write_text("old")
    proc = _cli(str(tmp_path / "subs"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "not an empty folder" in proc.stderr
    assert (tmp_path / "out" / "grades.csv").read_text() == "old"
    proc = _cli(str(tmp_path / "subs"), "--out", str(tmp_path / "new"), "--exercises", "9.9")
    assert proc.returncode == 2 and "unknown id" in proc.stderr
    proc = _cli(str(tmp_path / "subs"))
    assert proc.returncode == 2 and "--out" in proc.stderr


def test_cli_on_an_empty_class_writes_a_header_only_csv(tmp_path):
    (tmp_path / "subs").mkdir()
    proc = _cli(str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--exercises", "04.1")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "grades.csv").read_text() == "student,04.1,total,max,flags,error\n"


def test_grading_without_isolation_still_works(tmp_path):
    """The "none" mode (no root): same grades for honest and stub work, rlimits applied."""
    from instructor.grading import sandbox
    from instructor.grading.grade import collect, grade_class

    right = ("### EXERCISE 04.1\ndef recommend_strategy(n, s):\n    if n < 1000:\n"
             "        return 'feature_extraction' if s == 'high' else 'fine_tuning'\n"
             "    if n < 10000:\n        return 'fine_tuning'\n"
             "    return 'from_scratch' if s == 'low' else 'fine_tuning'\n")
    stub = "### EXERCISE 04.1\ndef recommend_strategy(n, s):\n    raise NotImplementedError\n"
    _nb(tmp_path / "good.ipynb", ("code", right))
    _nb(tmp_path / "stub.ipynb", ("code", stub))
    run = grade_class(collect(tmp_path, ["04.1"]), ["04.1"], limits=sandbox.Limits(timeout=60),
                      jobs=2, mode="none", seed=5)
    points = {row.student: row.grades["04.1"].points for row in run.rows}
    assert points == {"good": 10.0, "stub": 0.0}
    assert run.mode == "none"
