"""Find the submissions of a class and take the code of each exercise out of them.

Layout of ``SUBMISSIONS_DIR``: every file ``<student>.<ext>`` directly in it is one
student's submission (``.ipynb`` in any letter case is read as a notebook; any other
file gets a row that says it is not a notebook), and every folder ``<student>/`` holds
that student's notebooks (searched recursively). Hidden files and folders are skipped;
symbolic links are never followed (a link gets a row that says so).

From a notebook the grader takes, for each exercise of the course (with
:func:`tlkit.exercises.cells.extract_exercises`, which the student's
``python -m tlkit.exercises.check_notebook`` uses too, so both run the same code):

* the exercise cell: the code cell whose first line is ``### EXERCISE <id>``;
* the helper definitions (``def``, ``class``, imports and constant assignments) of the
  code cells right above it, up to the first markdown cell, check cell or other
  exercise cell;
* the import statements of the notebook's ``imports``-tagged cells (or, when no cell
  has that tag, of the code cells above the exercise cell) that bind a name the
  exercise cell or its helpers use (the rest of the imports cell is not run: it
  would only cost time, matplotlib and widgets take a second to import).

Problems that cost nothing are *flags* for the instructor (near-miss and duplicated
markers, unknown ids, a cell that looks like a library answer); problems with the file
itself are *errors*. Nothing here runs student code.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from instructor.grading.library import library_use_in
from instructor.grading.similarity import matching_definitions

# the extraction itself is shared with the student's `python -m tlkit.exercises.check_notebook`
from tlkit.exercises.cells import Cell, ExerciseCode, _marker_ids, _parse, _short, extract_exercises

__all__ = [
    "MAX_NOTEBOOK_BYTES",
    "MAX_JSON_ITEMS",
    "MAX_CELL_CHARS",
    "MAX_FOLDER_DEPTH",
    "MAX_FOLDER_ENTRIES",
    "Cell",
    "ExerciseCode",
    "Submission",
    "read_roster",
    "find_submissions",
    "parse_notebook",
    "extract_exercises",
    "library_use",
    "reference_match",
    "stub_source",
]

ROOT = Path(__file__).resolve().parents[2]
MAX_NOTEBOOK_BYTES = 20 << 20  # a notebook file, before anything is parsed
MAX_JSON_ITEMS = 1_000_000  # values json.loads may build (~70 MB at most)
MAX_CELL_CHARS = 64 << 10  # a code cell's source, before it is parsed (ast) or sent
MAX_FOLDER_DEPTH = 16  # folder levels searched in a student's folder
MAX_FOLDER_ENTRIES = 10_000  # entries listed in a student's folder


@dataclass
class Submission:
    """One student's row: their files, the code found, flags and errors."""

    student: str
    files: list[Path] = field(default_factory=list)
    exercises: dict[str, ExerciseCode] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------
# Finding files
# --------------------------------------------------------------------------------------


def read_roster(path: Path | str) -> list[str]:
    """Student ids, one per line (blank lines and ``#`` comments skipped), in file order."""
    students: list[str] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()
        if name and name not in students:
            students.append(name)
    if not students:
        raise ValueError(f"roster {str(path)!r} names no student (one id per line)")
    return students


def find_submissions(root: Path | str, problems: dict[str, list[str]] | None = None
                     ) -> dict[str, list[Path]]:
    """Student id -> their files (sorted); a file that is not a notebook is listed too.

    Student folders are searched iteratively (no recursion, so no depth can crash the
    grader), at most :data:`MAX_FOLDER_DEPTH` levels and :data:`MAX_FOLDER_ENTRIES`
    entries deep; what could not be searched is added to ``problems[student]`` (when a
    dict is given), which the grader turns into that student's error column.
    """
    root = Path(root)
    found: dict[str, list[Path]] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            paths, trouble = _notebooks_in(entry)
            found.setdefault(entry.name, []).extend(paths)
            if trouble and problems is not None:
                problems.setdefault(entry.name, []).extend(trouble)
        else:  # a file, a link, a pipe...: a row either way (reading says what is wrong)
            student = entry.name[: -len(entry.suffix)] if entry.suffix else entry.name
            found.setdefault(student, []).append(entry)
    for paths in found.values():
        paths.sort()
    return found


def _notebooks_in(folder: Path) -> tuple[list[Path], list[str]]:
    """The ``*.ipynb`` entries under ``folder`` (links included: reading refuses them),
    hidden names skipped; a stack, not recursion; bounded depth and entry count."""
    found: list[Path] = []
    problems: list[str] = []
    stack: list[tuple[str, int]] = [(str(folder), 0)]
    entries = 0
    too_deep = False
    while stack:
        current, depth = stack.pop()
        try:
            with os.scandir(current) as listing:
                for entry in listing:
                    entries += 1
                    if entries > MAX_FOLDER_ENTRIES:
                        problems.append(f"the folder holds more than {MAX_FOLDER_ENTRIES} "
                                        f"entries; the rest was not searched")
                        return found, problems
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        if depth + 1 >= MAX_FOLDER_DEPTH:
                            too_deep = True
                        else:
                            stack.append((entry.path, depth + 1))
                    elif entry.name.lower().endswith(".ipynb"):
                        found.append(Path(entry.path))
        except OSError as exc:
            rel = os.path.relpath(current, folder) if len(current) < 4096 else "a deep folder"
            problems.append(f"{_short(rel, 80)}: cannot be searched ({exc.strerror or exc})")
    if too_deep:
        problems.append(f"folders nested more than {MAX_FOLDER_DEPTH} levels deep; nothing "
                        f"deeper was searched")
    return found, problems


# --------------------------------------------------------------------------------------
# Reading a notebook without trusting it
# --------------------------------------------------------------------------------------


_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{,:]')


def _json_items(data: bytes) -> int:
    """About how many values json.loads would build: strings and ``[ { , :`` outside
    strings (each value but a container's first follows a comma or a colon). Stops
    counting past :data:`MAX_JSON_ITEMS`."""
    count = 0
    for _ in _JSON_TOKEN.finditer(data):
        count += 1
        if count > MAX_JSON_ITEMS:
            break
    return count


def _load_json(path: Path) -> Any:
    """The file's JSON, refused before parsing when it is too large or holds so many items
    that json.loads would build far more objects than a notebook has."""
    if path.is_symlink():
        raise ValueError("a symbolic link, not read")
    if not path.is_file():
        raise ValueError("not a regular file, not read")
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"{size} bytes, more than the {MAX_NOTEBOOK_BYTES} bytes a notebook may "
                         f"have; not read")
    with open(path, "rb") as handle:
        data = handle.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"more than the {MAX_NOTEBOOK_BYTES} bytes a notebook may have; not read")
    if _json_items(data) > MAX_JSON_ITEMS:
        raise ValueError(f"more than {MAX_JSON_ITEMS} JSON items (strings, numbers, lists, "
                         f"objects), more than a notebook has; not read")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    del data
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"broken JSON ({exc.msg}, line {exc.lineno})") from None


def parse_notebook(path: Path) -> tuple[list[Cell | None], list[str]]:
    """(one entry per cell: a Cell for a code cell, None otherwise; problems noted).

    ValueError when the file is not a notebook at all.
    """
    nb = _load_json(path)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("not a notebook: no list of cells")
    problems: list[str] = []
    cells: list[Cell | None] = []
    for index, raw in enumerate(nb["cells"], start=1):
        where = f"{path.name}, cell {index}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: not a cell object, skipped")
            cells.append(None)
            continue
        if raw.get("cell_type") != "code":
            cells.append(None)
            continue
        source = raw.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            size = sum(len(s) for s in source)
            source = "".join(source) if size <= MAX_CELL_CHARS else source[0] if source else ""
        elif isinstance(source, str):
            size = len(source)
        else:
            problems.append(f"{where}: source is a {type(source).__name__}, not text; skipped")
            cells.append(None)
            continue
        if size > MAX_CELL_CHARS:
            ids = _marker_ids(source[:200])
            what = f"the exercise cell of {_short(ids[0], 12)}" if ids else "a code cell"
            problems.append(f"{where}: {what} holds {size} characters, more than the "
                            f"{MAX_CELL_CHARS} a cell may have; not read (not graded)")
            cells.append(None)
            continue
        metadata = raw.get("metadata", {})
        tags: Any = metadata.get("tags", []) if isinstance(metadata, dict) else []
        if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            problems.append(f"{where}: metadata.tags is {_short(repr(tags))}, not a list of "
                            f"strings; tags ignored")
            tags = []
        cells.append(Cell(path.name, index, source, tuple(tags)))
    return cells, problems





# --------------------------------------------------------------------------------------
# Library answers
# --------------------------------------------------------------------------------------


def library_use(code: ExerciseCode, exercise_name: str, library_names: tuple[str, ...]
                ) -> list[str]:
    """Reasons to think the answer comes from tlkit or the solutions (empty: none seen).

    Static, on the exercise cell and its helpers, with the notebook imports they use as
    context: only names that resolve to tlkit's implementations count, never a name the
    student chose (see :mod:`instructor.grading.library`). Also flags an import that
    provides the exercise's own name instead of the student's definition.
    """
    own = [_parse(code.exercise_cell.source)] + [_parse(text) for _, text in code.helpers]
    context = [_parse(cell.source) for cell in code.imports]
    return library_use_in([t for t in own if t is not None],
                          [t for t in context if t is not None], exercise_name, library_names)


def reference_match(code: ExerciseCode) -> list[str]:
    """Flags when the exercise cell or its helpers hold the exercise's reference solution
    as code: pasted, renamed, reformatted or with docstrings changed (AST comparison,
    :mod:`instructor.grading.similarity`; the methods the stub gives are not counted).
    The grader adds them to the exercise's flags."""
    from instructor.exercises import reference_source

    try:
        reference = reference_source(code.exercise_id)
    except (OSError, TypeError, ValueError, ImportError):
        return []
    given = stub_source(code.exercise_id)
    hits: list[tuple[str, str]] = []
    for source in [code.exercise_cell.source] + [text for _, text in code.helpers]:
        hits += matching_definitions(source, reference, given_source=given)
    return [f"{code.exercise_id}: matches the reference solution ({_short(name, 40)} is the "
            f"reference's {ref} once names, docstrings, comments and formatting are ignored)"
            for name, ref in dict.fromkeys(hits)]


@cache
def stub_source(exercise_id: str) -> str:
    """The exercise cell of the student notebooks (``notebooks/``): what the student was
    given ("" when no notebook holds it)."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        try:
            cells, _ = parse_notebook(path)
        except (OSError, ValueError):
            continue
        for cell in cells:
            if cell is not None and _marker_ids(cell.source) == [exercise_id]:
                return cell.source
    return ""
