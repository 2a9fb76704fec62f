"""A demo class for the grader: honest, empty and partial work, every cheat and crash of
issue 10, a memory hog, detached processes, a vandal and corrupt files.

``python -m tests.grading.demo_class FOLDER`` writes the submissions into FOLDER (which
must not exist) and prints the grades we expect on the four exercises of ``IDS``
(``--exercises 01.1,02.1,03.1,04.1 --memory 1024``); ``tests/grading/test_demo_class.py``
grades it and compares. Never a fork bomb: the machine is shared.

``EXPECTED[student]`` holds, per exercise id, the points we expect (None: not asserted,
such as a library answer whose points depend on the library's signature), and
substrings the ``flags`` and ``error`` columns must contain.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

IDS = ("01.1", "02.1", "03.1", "04.1")  # graded with --exercises (the course has more)
SECRET_VAR = "TLKIT_DEMO_SECRET"
DETACHED_MARK = "6000.5"  # `sleep 6000.5`: the detached processes, found by this argument

# --------------------------------------------------------------------------------------
# Answers (written here from the exercise statements, not taken from tlkit)
# --------------------------------------------------------------------------------------

HONEST = {
    "01.1": '''def extract_in_batches(extract_fn, X, batch_size):
    X = np.asarray(X)
    parts = [np.asarray(extract_fn(X[i:i + batch_size]), dtype=np.float32)
             for i in range(0, len(X), batch_size)]
    return np.concatenate(parts, axis=0)
''',
    "02.1": '''def softmax_cross_entropy(logits, labels):
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), labels].mean()
    grad = np.exp(log_p)
    grad[np.arange(n), labels] -= 1.0
    return float(loss), (grad / n).astype(logits.dtype)
''',
    "03.1": '''def per_layer_sgd_update(weights, grads, base_lr, multipliers, frozen):
    out = {}
    for name, w in weights.items():
        if name in frozen:
            out[name] = w.copy()
        else:
            out[name] = (w - base_lr * multipliers.get(name, 1.0) * grads[name]).astype(w.dtype)
    return out
''',
    "04.1": '''def recommend_strategy(dataset_size, task_similarity):
    if dataset_size < 1000:
        return "feature_extraction" if task_similarity == "high" else "fine_tuning"
    if dataset_size < 10000:
        return "fine_tuning"
    return "from_scratch" if task_similarity == "low" else "fine_tuning"
''',
}
NAMES = {"01.1": "extract_in_batches", "02.1": "softmax_cross_entropy",
         "03.1": "per_layer_sgd_update", "04.1": "recommend_strategy"}
ARGS = {"01.1": "extract_fn, X, batch_size", "02.1": "logits, labels",
        "03.1": "weights, grads, base_lr, multipliers, frozen",
        "04.1": "dataset_size, task_similarity"}


def stub(eid: str) -> str:
    return (f"def {NAMES[eid]}({ARGS[eid]}):\n    # YOUR CODE HERE\n"
            f"    raise NotImplementedError(\"Exercise: replace this line with your code\")\n")


WRONG_04 = '''def recommend_strategy(dataset_size, task_similarity):
    return "no idea"
'''

# --------------------------------------------------------------------------------------
# Notebooks
# --------------------------------------------------------------------------------------


def _code(source: str, tags: list | int | None = None) -> dict:
    metadata = {} if tags is None else {"tags": tags}
    return {"cell_type": "code", "execution_count": None, "metadata": metadata, "outputs": [],
            "source": source.splitlines(keepends=True)}


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": [text]}


IMPORTS = "%matplotlib inline\nimport os\nimport sys\n\nimport numpy as np\n\nimport tlkit\n"


def notebook(*parts: tuple[str, str] | dict, imports: str = IMPORTS) -> dict:
    """A notebook: the imports cell, then per (id, code) a markdown cell, the exercise cell
    (``### EXERCISE <id>`` + code) and the check cell; a dict is inserted as a raw cell."""
    cells = [_markdown("# Demo"), _code(imports, ["imports"])]
    for part in parts:
        if isinstance(part, dict):
            cells.append(part)
            continue
        eid, code = part
        cells += [_markdown(f"## Exercise {eid}"), _code(f"### EXERCISE {eid}\n{code}"),
                  _code(f'check("{eid}", {NAMES[eid]})')]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@dataclass
class Expect:
    points: dict[str, float | None]
    flags: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    status: dict[str, str] = field(default_factory=dict)
    absent: tuple[str, ...] = ()  # substrings the flags column must not contain


EXPECTED: dict[str, Expect] = {}


def _zero_except(**points: float | None) -> dict[str, float | None]:
    out: dict[str, float | None] = dict.fromkeys(IDS, 0.0)
    out.update({k.replace("_", "."): v for k, v in points.items()})
    return out


def build(folder: Path | str) -> tuple[Path, Path]:
    """Write the class into ``folder`` (created) and a roster beside it; returns both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True)
    out_guess = folder.parent / "grades"  # where a vandal would guess the grades go
    EXPECTED.clear()

    def save(student: str, nb: dict | str | bytes, expect: Expect, suffix: str = ".ipynb") -> None:
        path = folder / f"{student}{suffix}"
        if isinstance(nb, dict):
            path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
        elif isinstance(nb, str):
            path.write_text(nb, encoding="utf-8")
        else:
            path.write_bytes(nb)
        EXPECTED[student] = expect

    honest = [(eid, HONEST[eid]) for eid in IDS]
    save("honest", notebook(*honest), Expect(dict.fromkeys(IDS, 10.0),
                                             status=dict.fromkeys(IDS, "passed"),
                                             absent=("possible library", "matches the reference")))
    save("empty", notebook(*[(eid, stub(eid)) for eid in IDS]),
         Expect(_zero_except(), status=dict.fromkeys(IDS, "not_done")))
    save("partial", notebook(("01.1", HONEST["01.1"]), ("02.1", HONEST["02.1"]),
                             ("03.1", stub("03.1"))),
         Expect(_zero_except(**{"01_1": 10.0, "02_1": 10.0}),
                status={"03.1": "not_done", "04.1": "missing"}))
    # helpers in the cells right above the exercise cell; a cell above that is not a
    # definition (an endless loop) is not run
    helper_nb = notebook(("02.1", "def softmax_cross_entropy(logits, labels):\n"
                                  "    return _loss_and_grad(np.asarray(logits), labels)\n"))
    position = next(i for i, c in enumerate(helper_nb["cells"])
                    if "".join(c["source"]).startswith("### EXERCISE 02.1"))
    helper_nb["cells"][position:position] = [
        _code("EPS = 0.0\n\ndef _log_softmax(z):\n    z = z - z.max(axis=1, keepdims=True)\n"
              "    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))\n\n"
              "while True:  # a demo loop the grader must not run\n    pass\n"),
        _code("def _loss_and_grad(z, y):\n    n = len(y)\n    lp = _log_softmax(z)\n"
              "    g = np.exp(lp)\n    g[np.arange(n), y] -= 1.0\n"
              "    return float(-lp[np.arange(n), y].mean() + EPS), (g / n).astype(z.dtype)\n"),
    ]
    save("helper_cells", helper_nb, Expect(_zero_except(**{"02_1": 10.0}),
                                           status={"02.1": "passed"}))

    # ---- cheats ------------------------------------------------------------------------
    save("cheat_patch_checker", notebook(("04.1", '''import tlkit.exercises.scoring as s
import tlkit.exercises.running as r
import tlkit.exercises.checking as c
s.score_outcomes = lambda *a, **k: None
c.check = lambda *a, **k: None
r.run_cases = lambda exercise, obj, cases: [
    {"case": case.name, "status": "ok", "output": '"fine_tuning"'} for case in cases]
''' + WRONG_04)), Expect(_zero_except(), flags=("04.1: possible library answer",)))
    save("cheat_allclose", notebook(("02.1", '''np.allclose = np.isclose = np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None

def softmax_cross_entropy(logits, labels):
    return 0.0, np.zeros_like(logits)
''')), Expect(_zero_except(), status={"02.1": "failed"}))
    save("cheat_evil_str", notebook(("04.1", '''class EvilStr(str):
    def __eq__(self, other):
        return True
    __hash__ = str.__hash__

def recommend_strategy(dataset_size, task_similarity):
    return EvilStr("anything")
''')), Expect(_zero_except(), status={"04.1": "failed"}))
    save("cheat_forge_frame", notebook(("04.1", '''import json, os
body = json.dumps({"exercise": "04.1", "status": "ran", "points": 1000, "outcomes": []}).encode()
for fd in range(1, 64):
    for data in (b"TLKIT-RESULT " + str(len(body)).encode() + b"\\n" + body,
                 b'@@TLKIT-GRADING-RESULT@@ {"result": {"points": 1000}}\\n'):
        try:
            os.write(fd, data)
        except OSError:
            pass
''' + WRONG_04)), Expect(_zero_except(), flags=("04.1: malformed result channel",),
                         status={"04.1": "rejected"}))
    save("cheat_getframe", notebook(("04.1", '''import os, sys
frame = sys._getframe()
while frame is not None and "result_fd" not in frame.f_locals:
    frame = frame.f_back
if frame is not None:
    emit = frame.f_globals["encode_frame"]
    os.write(frame.f_locals["result_fd"], emit({"exercise": "04.1", "points": 1000}))
''' + WRONG_04)), Expect(_zero_except(), flags=("04.1: 2 result frames",),
                         status={"04.1": "rejected"}))
    save("cheat_proc_fd", notebook(("04.1", '''import os
_body = b'{"exercise": "04.1", "status": "ran", "points": 1000}'
for _pid in os.listdir("/proc"):  # the grader's pipe, through another process's descriptors
    if not _pid.isdigit() or int(_pid) == os.getpid():
        continue
    try:
        _fds = os.listdir(f"/proc/{_pid}/fd")
    except OSError:
        continue
    for _fd in _fds:
        try:
            os.write(os.open(f"/proc/{_pid}/fd/{_fd}", os.O_WRONLY),
                     b"TLKIT-RESULT " + str(len(_body)).encode() + b"\\n" + _body)
        except OSError:
            pass
''' + WRONG_04)), Expect(_zero_except(), status={"04.1": "failed"}))
    save("cheat_atexit", notebook(("04.1", '''import atexit, os
def _forge():
    body = b'{"exercise": "04.1", "status": "ran", "points": 1000}'
    for fd in range(1, 64):
        try:
            os.write(fd, b"TLKIT-RESULT " + str(len(body)).encode() + b"\\n" + body)
        except OSError:
            pass
atexit.register(_forge)
''' + WRONG_04)), Expect(_zero_except(), status={"04.1": "failed"}))
    save("cheat_library", notebook(
        ("02.1", '''from tlkit.nn.losses import softmax_cross_entropy as _library_loss

def softmax_cross_entropy(logits, labels):
    return _library_loss(logits, labels)
'''),
        ("04.1", '''from instructor.exercises import reference
recommend_strategy = reference("04.1")
''')), Expect(_zero_except(**{"02_1": None}),
              flags=("02.1: possible library answer", "04.1: possible library answer")))
    classmate = folder / "honest.ipynb"
    save("cheat_reads_files", notebook(("04.1", f'''import glob, json
_found = {{}}
for _path in glob.glob("/work/**/solutions/*.ipynb", recursive=True) + [{str(classmate)!r}]:
    try:
        _found[_path] = open(_path).read()
    except OSError:
        pass
assert _found, "no solutions or classmate notebook could be read"
''' + WRONG_04)), Expect(_zero_except(), flags=("04.1: possible library answer",)))

    # ---- crashes and attacks on the grader or the class ------------------------------
    save("crash_kill", notebook(
        ("03.1", HONEST["03.1"] + "import os\ntry:\n    os.kill(-1, 9)  # every process it may "
                 "signal\nexcept OSError:\n    pass\nos.kill(os.getpid(), 9)\n"),
        ("04.1", HONEST["04.1"] + "import os\ntry:\n    os.kill(os.getppid(), 9)  # the "
                 "namespace's init (root): refused\nexcept OSError:\n    pass\n"
                 "os.killpg(0, 9)\n")),
        Expect(_zero_except(), errors=("03.1: crashed", "04.1: crashed"),
               status={"03.1": "crashed", "04.1": "crashed"}))
    save("memory_hog", notebook(("02.1", '''def softmax_cross_entropy(logits, labels):
    hog = np.ones((3 << 30) // 8)  # 3 GiB: more than the memory limit
    return float(hog[0]), hog
''')), Expect(_zero_except(), status={"02.1": "error"}))
    save("detached", notebook(("04.1", f'''import os, subprocess
for _ in range(4):
    subprocess.Popen(["sleep", "{DETACHED_MARK}"], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:  # a daemon: double fork, new session, keeps the output pipes
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{DETACHED_MARK}"])
    os._exit(0)
''' + HONEST["04.1"])), Expect(_zero_except(**{"04_1": 10.0})))
    save("detached_then_loop", notebook(("04.1", f'''import subprocess
for _ in range(3):
    subprocess.Popen(["sleep", "{DETACHED_MARK}"], start_new_session=True)

def recommend_strategy(dataset_size, task_similarity):
    while True:
        pass
''')), Expect(_zero_except(), errors=("04.1: timeout",), status={"04.1": "timeout"}))
    save("process_hog", notebook(("04.1", '''import subprocess
_kids = [subprocess.Popen(["sleep", "30"]) for _ in range(50)]  # bounded: never a fork bomb
''' + HONEST["04.1"])), Expect(_zero_except(**{"04_1": 10.0})))
    save("vandal", notebook(("04.1", f'''import os, shutil
for _top in ("/work", "/root", "/home", "/tmp", {str(folder)!r}, {str(folder.parent)!r}):
    for _root, _dirs, _files in os.walk(_top):
        for _name in _files:
            try:
                os.remove(os.path.join(_root, _name))
            except OSError:
                pass
shutil.rmtree({str(folder)!r}, ignore_errors=True)
try:
    os.makedirs({str(out_guess)!r}, exist_ok=True)
    open(os.path.join({str(out_guess)!r}, "grades.csv"), "w").write("student,hacked")
except OSError:
    pass
''' + HONEST["04.1"])), Expect(_zero_except(**{"04_1": 10.0})))
    endless = "def recommend_strategy(dataset_size, task_similarity):\n    while True:\n        pass\n"
    save("endless_loop", notebook(("01.1", HONEST["01.1"]), ("04.1", endless)),
         Expect(_zero_except(**{"01_1": 10.0}), errors=("04.1: timeout",),
              status={"04.1": "timeout"}))
    save("noisy", notebook(("04.1", HONEST["04.1"] + 'print("x" * (20 << 20))\n')),
         Expect(_zero_except(**{"04_1": 10.0})))
    save("env_leak", notebook(("04.1", f'''import os
def recommend_strategy(dataset_size, task_similarity):
    return os.environ.get("{SECRET_VAR}") or _rule(dataset_size, task_similarity)

''' + HONEST["04.1"].replace("def recommend_strategy", "def _rule"))),
         Expect(_zero_except(**{"04_1": 10.0})))

    # ---- round two (issue 19): the grader out of reach, limits per sandbox, forged results
    # (sbx_*: what a student's code can do from inside its own sandbox process)
    save("sbx_stack_walk", notebook(("04.1", '''import gc, inspect, sys

def _hunt():
    """Anything of the grader's on the stack or in memory: a reference, an answer key."""
    found = []
    frame = sys._getframe()
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            found += [v for k, v in list(scope.items())
                      if any(w in k for w in ("reference", "expected", "answer"))]
        frame = frame.f_back
    for info in inspect.stack():
        found += [v for k, v in info.frame.f_locals.items() if "reference" in k]
    for obj in gc.get_objects():
        try:
            found.append(getattr(obj, "reference", None))  # Exercise.reference (before the split)
            module = getattr(obj, "__module__", None)
            if isinstance(module, str) and module.startswith("instructor"):
                found.append(obj)
        except Exception:
            pass
    found += [getattr(m, "reference", None) for n, m in list(sys.modules.items())
              if n.startswith("instructor")]
    return [f for f in found if callable(f)]

_leaks = _hunt()

def recommend_strategy(dataset_size, task_similarity):
    for leak in _leaks:
        try:
            return leak(dataset_size, task_similarity)
        except Exception:
            pass
    return "no idea"
''')), Expect(_zero_except(), status={"04.1": "failed"}))
    save("sbx_import_reference", notebook(("04.1", '''import glob, importlib, os, sys
import tlkit

def _steal():
    for name in ("instruc" + "tor.exer" + "cises.ref_04_1", "instruc" + "tor.exer" + "cises",
                 "tlkit.exer" + "cises.ex04_recommend_strategy"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attribute in ("reference", "recommend_strategy"):
            if callable(getattr(module, attribute, None)):
                return getattr(module, attribute)
    repo = os.path.dirname(os.path.dirname(tlkit.__file__))
    for top in (repo, "/work", "/root", "/home", "/tmp", sys.prefix):
        for path in glob.glob(os.path.join(top, "**", "ref_04_1.py"), recursive=True)[:3]:
            scope = {"__name__": "stolen"}
            try:
                exec(open(path).read(), scope)
                return scope["reference"]
            except Exception:
                pass
    return None

_stolen = _steal()

def recommend_strategy(dataset_size, task_similarity):
    return _stolen(dataset_size, task_similarity) if _stolen else "no idea"
''')), Expect(_zero_except(), status={"04.1": "failed"}))
    # A forged frame written on the result channel, then os._exit: well formed, it can only
    # carry outputs, and earns exactly what a function returning them earns (sbx_same_outputs).
    forge = '''import os, sys
from tlkit.exercises.plain import encode
from tlkit.exercises.runner import encode_frame

_frame = sys._getframe()
while _frame is not None and "cases" not in _frame.f_locals:
    _frame = _frame.f_back
_outcomes = [{"case": case.name, "status": "ok",
              "output": encode({"answers": [["fine_tuning"] * len(case.inputs["similarities"])
                                            for _ in case.inputs["sizes"]]})}
             for case in _frame.f_locals["cases"]]
os.write(int(sys.argv[1]), encode_frame({"exercise": "04.1", "status": "ran", "notes": NOTES,
                                         "outcomes": _outcomes}))
os._exit(0)
'''
    save("sbx_forged_frame", notebook(("04.1", forge.replace("NOTES", "[]"))),
         Expect(dict.fromkeys(IDS, None) | {e: 0.0 for e in IDS if e != "04.1"}))
    save("sbx_same_outputs", notebook(("04.1", '''def recommend_strategy(dataset_size, task_similarity):
    return "fine_tuning"
''')), Expect(dict.fromkeys(IDS, None) | {e: 0.0 for e in IDS if e != "04.1"}))
    save("sbx_forged_notes", notebook(("04.1", forge.replace(
        "NOTES", '["Regraded by the instructor, no review needed"]'))),
         Expect(_zero_except(), flags=("04.1: malformed result channel",),
                status={"04.1": "rejected"}))
    save("sbx_raise_injection", notebook(("04.1", '''def recommend_strategy(dataset_size, task_similarity):
    raise ValueError("\\nRegraded by the instructor, no review needed\\nTotal: 40 / 40 points\\x1b[2J")
''')), Expect(_zero_except(), status={"04.1": "error"}))
    save("sbx_memfd", notebook(("04.1", '''import os
_chunk = b"x" * (64 << 20)
_files = []
for _ in range(24):  # 1.5 GiB in 64 MiB in-memory files (RLIMIT_AS does not count them)
    _files.append(os.memfd_create("hoard"))
    os.write(_files[-1], _chunk)
''' + HONEST["04.1"])), Expect(_zero_except(), errors=("04.1: crashed",),
                                status={"04.1": "crashed"}))
    save("sbx_children_memory", notebook(("04.1", '''import os, time
_kids = []
for _ in range(3):  # 3 x 640 MiB: each within RLIMIT_AS, together past --memory 1024
    _pid = os.fork()
    if _pid == 0:
        _block = b"x" * (640 << 20)
        time.sleep(0.5)
        os._exit(0)
    _kids.append(_pid)
_survivors = sum(os.waitpid(pid, 0)[1] == 0 for pid in _kids)

def recommend_strategy(dataset_size, task_similarity):
    return _rule(dataset_size, task_similarity) if _survivors <= 1 else "no idea"

''' + HONEST["04.1"].replace("def recommend_strategy", "def _rule"))),
         Expect(_zero_except(**{"04_1": 10.0})))
    save("sbx_open_files", notebook(("04.1", '''_handles = []
try:
    for _ in range(1000):
        _handles.append(open("/dev/null"))
except OSError:
    pass

def recommend_strategy(dataset_size, task_similarity):
    return _rule(dataset_size, task_similarity) if len(_handles) < 256 else "no idea"

''' + HONEST["04.1"].replace("def recommend_strategy", "def _rule"))),
         Expect(_zero_except(**{"04_1": 10.0})))
    # the public cases' answers from a table (they ship with tlkit), garbage otherwise:
    # the hidden cases carry 75% of the points
    save("sbx_lookup_table", notebook(("02.1", '''from tlkit.exercises.plain import encode
from tlkit.exercises.registry import get_exercise as _get

_table = {encode(case.inputs["logits"]): _get("02.1").public_expected(case)["result"]
          for case in _get("02.1").public_cases}

def softmax_cross_entropy(logits, labels):
    answer = _table.get(encode(logits))
    return answer if answer is not None else (0.0, np.zeros_like(logits))
''')), Expect(_zero_except(**{"02_1": 2.5}), status={"02.1": "failed"}))

    # ---- files and markers -----------------------------------------------------------
    tags_nb = notebook(*honest)
    tags_nb["cells"][2]["metadata"]["tags"] = 5
    save("bad_tags", tags_nb, Expect(dict.fromkeys(IDS, 10.0), errors=("metadata.tags is 5",)))
    save("deep_json", "[" * 200_000 + "]" * 200_000, Expect(_zero_except(),
                                                            errors=("nested too deeply",)))
    text = json.dumps(notebook(*honest))
    save("broken_json", text[: len(text) // 2], Expect(_zero_except(), errors=("broken JSON",)))
    save("binary", b"\x89PNG\r\n\x1a\n\x00\xff" * 10, Expect(_zero_except(), errors=("not UTF-8",)))
    save("not_a_notebook", "def recommend_strategy(n, s):\n    return 'fine_tuning'\n",
         Expect(_zero_except(), errors=("not a notebook (a .py file)",)), suffix=".py")
    save("upper_case", notebook(("04.1", HONEST["04.1"])),
         Expect(_zero_except(**{"04_1": 10.0}), flags=("extension '.IPYNB'",)), suffix=".IPYNB")
    save("markers", notebook(
        ("01.1", WRONG_04.replace("recommend_strategy", "extract_in_batches")),
        ("01.1", HONEST["01.1"]),
        _code("### EXERCISE 09.9\ndef bonus():\n    return 1000\n"),
        _code("## Exercise 02.1\n" + HONEST["02.1"]),
        _code("### EXERCISE 03.1 \n" + HONEST["03.1"]),  # trailing space: still a marker
    ), Expect(_zero_except(**{"01_1": 10.0, "03_1": 10.0}),
              flags=("exercise 01.1 is marked in 2 cells", "'09.9'", "near-miss marker")))
    save("ann lee", notebook(("04.1", HONEST["04.1"])), Expect(_zero_except(**{"04_1": 10.0})))
    save("ann_lee", notebook(("04.1", stub("04.1"))), Expect(_zero_except()))
    EXPECTED["zoe_absent"] = Expect(_zero_except(), errors=("no submission",))
    report_attacks(folder, save)
    roster = folder.parent / "roster.txt"  # a roster line cannot hold a control character
    roster.write_text("# the class\n" + "\n".join(s for s in sorted(EXPECTED) if s.isprintable())
                      + "\n", encoding="utf-8")
    return folder, roster


# --------------------------------------------------------------------------------------
# Names, files and texts that break the report, and honest names that look like tlkit's
# (issue 19, section 3 and the parsing bounds of section 4; issue 18, item 4)
# --------------------------------------------------------------------------------------

DEEP_LEVELS = 1_100  # tests/grading/test_demo_class.py removes it (shutil.rmtree recurses)
TITLE = "\x1b]0;grading finished, no problems\x07"  # sets the terminal's title
CLEAR = "\x1b[2J\x1b[Hgrading finished, no problems"  # clears the screen
LONG_NAME = "a" * 244  # with ".ipynb", a 250-byte file name
REASON = "x\r\nbob,10,10,10,10,40,40,,\r\n=HYPERLINK(\"http://evil.example\")"
# student -> (exercise, code): the code's grade is what the row must show
REPORT_NAMES: dict[str, tuple[str, str]] = {
    "zz\rbob": ("04.1", WRONG_04),  # a CSV reader that splits on \r reads bob's row
    "bob": ("04.1", HONEST["04.1"]),
    "=cmd": ("04.1", HONEST["04.1"]),
    "+x": ("04.1", stub("04.1")),
    "-x": ("01.1", HONEST["01.1"]),
    "@x": ("02.1", HONEST["02.1"]),
    TITLE: ("03.1", HONEST["03.1"]),
    CLEAR: ("04.1", HONEST["04.1"]),
    LONG_NAME: ("04.1", HONEST["04.1"]),
}
HONEST_LOCAL_NAMES = {  # names the old library-answer flag matched as words
    "01.1": '''def extract_in_batches(extract_fn, X, batch_size):
    infer = extract_fn
    extract_features = [np.asarray(infer(X[i:i + batch_size]), dtype=np.float32)
                        for i in range(0, len(X), batch_size)]
    return np.concatenate(extract_features, axis=0)
''',
    "02.1": '''def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

def softmax_cross_entropy(logits, labels):
    logits = np.asarray(logits)
    n = logits.shape[0]
    losses = -log_softmax(logits)[np.arange(n), labels]
    grad = np.exp(log_softmax(logits))
    grad[np.arange(n), labels] -= 1.0
    return float(losses.mean()), (grad / n).astype(logits.dtype)
''',
    "03.1": '''def per_layer_sgd_update(weights, grads, base_lr, multipliers, frozen):
    optimizers = {name: base_lr * multipliers.get(name, 1.0) for name in weights}
    discriminative = {}
    for name, w in weights.items():
        step = 0 if name in frozen else optimizers[name] * grads[name]
        discriminative[name] = (w - step).astype(w.dtype)
    return discriminative
''',
    "04.1": '''strategy_rule = {("small", "high"): "feature_extraction", ("large", "low"): "from_scratch"}

def recommend_strategy(dataset_size, task_similarity):
    size = "small" if dataset_size < 1000 else "medium" if dataset_size < 10000 else "large"
    return strategy_rule.get((size, task_similarity), "fine_tuning")
''',
}


def _pasted_reference() -> str:
    """Exercise 02.1's reference solution, renamed and reformatted as a student would."""
    from instructor.exercises import reference_source

    text = reference_source("02.1").replace("log_probs", "lp").replace("shifted", "z")
    text = text.replace("softmax_cross_entropy", "my_loss").replace('"""Reference', '"""Mine')
    return text + "\nsoftmax_cross_entropy = my_loss\n"


def nest_folders(top: Path, levels: int, name: str, text: str) -> None:
    """``top/d/d/.../d/name``, ``levels`` folders deep, built with descriptors (the path
    is longer than the system allows)."""
    import os

    top.mkdir()
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(levels):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = inner
    handle = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(handle, text.encode("utf-8"))
    os.close(handle)
    os.close(fd)


def remove_tree(top: Path) -> None:
    """shutil.rmtree without recursion (it raises RecursionError on a thousand levels)."""
    import os

    stack = [(os.open(top, os.O_RDONLY | os.O_DIRECTORY), "")]
    while stack:
        fd = stack[-1][0]
        for entry in os.scandir(fd):
            if entry.is_dir(follow_symlinks=False):
                stack.append((os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd),
                              entry.name))
                break
            os.unlink(entry.name, dir_fd=fd)
        else:
            fd, name = stack.pop()
            os.close(fd)
            if stack:
                os.rmdir(name, dir_fd=stack[-1][0])
    os.rmdir(top)


def report_attacks(folder: Path, save) -> None:
    """The report's attacks: hostile file names, a forged rejection reason, a folder nested
    DEEP_LEVELS deep, an oversized notebook and cell, a pasted reference, honest local names."""
    for student, (eid, code) in REPORT_NAMES.items():
        points = 10.0 if code in HONEST.values() else 0.0
        save(student, notebook((eid, code)), Expect(_zero_except(**{eid.replace(".", "_"): points})))
    save("report_reason_crlf", notebook(("04.1", f'''import json, os, sys
_body = json.dumps({{"exercise": "04.1", "status": "rejected", "reason": {REASON!r}}}).encode()
_frame = sys._getframe()
while _frame is not None and "result_fd" not in _frame.f_locals:
    _frame = _frame.f_back
if _frame is not None:  # one frame, then exit: its reason reaches the report
    os.write(_frame.f_locals["result_fd"],
             b"TLKIT-RESULT " + str(len(_body)).encode() + b"\\n" + _body)
    os._exit(0)
''' + WRONG_04)), Expect(_zero_except()))
    nest_folders(folder / "deep_folder", DEEP_LEVELS, "deep.ipynb",
          json.dumps(notebook(("04.1", HONEST["04.1"]))))
    EXPECTED["deep_folder"] = Expect(_zero_except(), errors=("levels deep",))
    huge = notebook(("04.1", HONEST["04.1"]))
    huge["cells"].append(_markdown("x" * (21 << 20)))
    save("huge_notebook", huge, Expect(_zero_except(), errors=("bytes a notebook may have",)))
    big_cell = HONEST["04.1"] + "# padding\n" * 10_000
    save("huge_cell", notebook(("01.1", HONEST["01.1"]), ("04.1", big_cell)),
         Expect(_zero_except(**{"01_1": 10.0}), errors=("the exercise cell of 04.1 holds",),
                status={"04.1": "missing"}))
    save("cheat_pasted_reference", notebook(("02.1", _pasted_reference())),
         Expect(_zero_except(**{"02_1": 10.0}), flags=("02.1: matches the reference solution",)))
    save("honest_local_names", notebook(*sorted(HONEST_LOCAL_NAMES.items())),
         Expect(_zero_except(**{k.replace(".", "_"): 10.0 for k in HONEST_LOCAL_NAMES}),
                status=dict.fromkeys(HONEST_LOCAL_NAMES, "passed"),
                absent=("possible library answer", "matches the reference")))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m tests.grading.demo_class FOLDER", file=sys.stderr)
        return 2
    folder, roster = build(argv[0])
    print(f"wrote {len(list(folder.iterdir()))} submissions in {folder} and the roster {roster}")
    for student, expect in sorted(EXPECTED.items()):
        points = ", ".join(f"{e}={'?' if p is None else f'{p:g}'}" for e, p in expect.points.items())
        print(f"  {student:<22} {points}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
