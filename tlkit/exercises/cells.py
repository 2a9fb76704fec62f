"""The code of each exercise in a notebook: its exercise cell, the helpers and the imports it needs.

Shared by the student's ``python -m tlkit.exercises.check_notebook`` and the instructor's
grader (``instructor/grading/submissions.py``), so that both run exactly the same code. From
a notebook they take, for each exercise:

* the exercise cell: the code cell whose first line is ``### EXERCISE <id>``;
* the helper definitions (``def``, ``class``, imports and constant assignments) of the
  code cells right above it, up to the first markdown cell, check cell or other
  exercise cell;
* the import statements of the notebook's ``imports``-tagged cells (or, when no cell
  has that tag, of the code cells above the exercise cell) that bind a name the
  exercise cell or its helpers use (the rest of the imports cell is not run: it
  would only cost time, matplotlib and widgets take a second to import).

Marker problems (near-miss and duplicated markers, unknown ids) come back as flags. Nothing
here runs student code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

__all__ = ["IMPORTS_TAG", "MAX_HELPER_CELLS", "Cell", "ExerciseCode", "extract_exercises"]

IMPORTS_TAG = "imports"
MAX_HELPER_CELLS = 5
_MARKER = re.compile(r"^###[ ]EXERCISE[ ](\S+)[ \t]*$")
_NEAR_MISS = re.compile(r"^\s*#+\s*e\s*x\s*e\s*r\s*c\s*i\s*s\s*e\b\s*[:#-]?\s*\d", re.IGNORECASE)
_CHECK_CALL = re.compile(r"\b(check|solution_or_fallback)\s*\(")


@dataclass
class Cell:
    """A code cell of a notebook (``index`` counts every cell from 1, as Jupyter shows)."""

    notebook: str
    index: int
    source: str
    tags: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.notebook}, cell {self.index}"


@dataclass
class ExerciseCode:
    """What the child runs for one exercise: cells with a role each."""

    exercise_id: str
    exercise_cell: Cell
    imports: list[Cell]
    helpers: list[tuple[Cell, str]]  # (cell, its definitions only)

    def payload_cells(self) -> list[dict[str, str]]:
        cells = [{"label": c.label + " (imports)", "role": "imports", "source": c.source}
                 for c in self.imports]
        cells += [{"label": c.label + " (helpers)", "role": "helper", "source": code}
                  for c, code in self.helpers]
        cells.append({"label": self.exercise_cell.label, "role": "exercise",
                      "source": self.exercise_cell.source})
        return cells


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.rstrip()
    return ""


def _marker_ids(source: str) -> list[str]:
    match = _MARKER.match(_first_line(source))
    return [match.group(1)] if match else []


def _near_misses(source: str) -> list[str]:
    """Marker-like comment lines that are not an exact first-line marker."""
    lines = source.splitlines()
    exact = bool(_marker_ids(source))
    first = _first_line(source)
    out = []
    for line in lines:
        text = line.rstrip()
        if exact and text == first:
            continue
        if _NEAR_MISS.match(text) or _MARKER.match(text.strip()):
            out.append(text.strip())
    return out


def _definitions(source: str) -> str | None:
    """The top-level definitions of a helper cell (None: it does not parse)."""
    from tlkit.exercises.runner import _strip_magics

    source = _strip_magics(source)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = source.splitlines()
    keep = []
    for node in tree.body:
        ok = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                               ast.ImportFrom))
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            try:
                ast.literal_eval(node.value)
                ok = True
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                ok = False
        if ok:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            keep.append("\n".join(lines[first - 1: node.end_lineno]))
    return "\n\n".join(keep) + "\n" if keep else ""


def extract_exercises(cells: list[Cell | None], course_ids: list[str]
                      ) -> tuple[dict[str, ExerciseCode], list[str]]:
    """(exercise id -> its code, flags) for the ids of the course found in one notebook."""
    flags: list[str] = []
    found: dict[str, ExerciseCode] = {}
    marked: dict[str, list[Cell]] = {}
    for cell in cells:
        if cell is None:
            continue
        for exercise_id in _marker_ids(cell.source):
            if exercise_id not in course_ids:
                flags.append(f"{cell.label}: marker for an exercise this course does not grade "
                             f"({exercise_id!r}); ignored")
                continue
            marked.setdefault(exercise_id, []).append(cell)
        for line in _near_misses(cell.source):
            flags.append(f"{cell.label}: near-miss marker {_short(line)!r} (a marker is "
                         f"'### EXERCISE <id>' on the cell's first line); not graded")
    tagged = [c for c in cells if c is not None and IMPORTS_TAG in c.tags]
    for exercise_id, where in marked.items():
        if len(where) > 1:
            flags.append(f"exercise {exercise_id} is marked in {len(where)} cells "
                         f"({', '.join(str(c.index) for c in where)} of {where[0].notebook}); "
                         f"the last one is graded")
        cell = where[-1]
        position = cells.index(cell)
        helpers: list[tuple[Cell, str]] = []
        for above in reversed(cells[max(0, position - MAX_HELPER_CELLS):position]):
            if (above is None or _marker_ids(above.source) or _near_misses(above.source)
                    or _CHECK_CALL.search(above.source) or IMPORTS_TAG in above.tags):
                break
            code = _definitions(above.source)
            if code is None:
                flags.append(f"{above.label}: helper cell does not parse; not used")
                break
            if code:
                helpers.insert(0, (above, code))
        sources = [c for c in tagged if c is not cell and c.index < cell.index]
        if not sources:
            sources = [c for c in cells[:position] if c is not None]
        used = _names_used([cell.source] + [code for _, code in helpers])
        text = "\n".join(filter(None, (_imports_only(c.source, used) for c in sources)))
        imports = [Cell(cell.notebook, sources[0].index, text)] if text else []
        found[exercise_id] = ExerciseCode(exercise_id, cell, imports, helpers)
    return found, flags


def _names_used(sources: list[str]) -> set[str]:
    used: set[str] = set()
    for source in sources:
        tree = _parse(source)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Name):
                used.add(node.id)
    return used


def _imports_only(source: str, used: set[str]) -> str:
    """The import statements of a cell that bind a name in ``used`` (or ``*``)."""
    tree = _parse(source)
    keep = []
    for node in tree.body if tree is not None else ():
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        bound = {(a.asname or a.name.split(".")[0]) for a in node.names}
        if bound & used or "*" in bound:
            keep.append(ast.unparse(node))
    return "\n".join(keep)


def _parse(source: str) -> ast.Module | None:
    from tlkit.exercises.runner import _strip_magics

    try:
        return ast.parse(_strip_magics(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."
