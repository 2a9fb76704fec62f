"""Write the student bundle: notebooks without answers, the library, nothing secret.

Usage (``make release`` runs the first form)::

    python -m instructor.release                         # build/tlkit-student/ and .tar.gz
    python -m instructor.release --out some/folder

The bundle holds the student notebooks built fresh from ``solutions/`` (solution regions
replaced by stubs, ``### BEGIN HIDDEN TESTS`` regions removed, outputs cleared), the
``tlkit`` package, the ``studies`` modules the notebooks import, ``pyproject.toml``,
``environment.yml``, the README and a short ``STUDENT.md``. It never holds
``solutions/``, the tests, the tools or the grading output. :func:`verify` refuses a
bundle that does, and one where any function or class, in any file, is an exercise's
reference solution compared as code (:func:`reference_copies`): ``make release`` fails
rather than ship answers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tarfile
from pathlib import Path

from instructor.build_notebooks import BEGIN_HIDDEN, BEGIN_MARKER, END_MARKER, expected_notebooks

__all__ = ["PACKAGES", "FILES", "build_release", "verify", "reference_copies", "main"]

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tlkit", "studies")
FILES = ("pyproject.toml", "environment.yml", "README.md")
_SKIP = ("__pycache__", ".pyc", ".ipynb_checkpoints", ".egg-info")

STUDENT_MD = """# tlkit: the student workbook

Install (Python >= 3.10) and open the first notebook:

    python3 -m venv .venv
    .venv/bin/pip install -e ".[notebooks]"
    .venv/bin/jupyter lab notebooks/00_introduction.ipynb

Each exercise cell starts with `### EXERCISE <id>`: keep that first line, write your code
in place of `raise NotImplementedError(...)`, run the cell, then the check cell below it.
Hand in the notebooks (the `.ipynb` files). The grader runs more cases than the checks
show, on inputs drawn when it runs.
"""


def _ignore(_folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n.endswith(_SKIP) or n in _SKIP}


def build_release(out: Path | str, root: Path | str = ROOT) -> Path:
    """Write the bundle folder ``out`` (replaced if it exists) and ``out``.tar.gz."""
    root, out = Path(root), Path(out)
    if out.resolve() in (root.resolve(), *root.resolve().parents):
        raise ValueError(f"out must be a folder of its own, got {str(out)!r}")
    notebooks = expected_notebooks(root / "solutions")
    if out.exists():
        shutil.rmtree(out)
    (out / "notebooks").mkdir(parents=True)
    for name, text in notebooks.items():
        (out / "notebooks" / name).write_text(text, encoding="utf-8")
    for package in PACKAGES:
        if (root / package).is_dir():
            shutil.copytree(root / package, out / package, ignore=_ignore)
    for name in FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, out / name)
    (out / "STUDENT.md").write_text(STUDENT_MD, encoding="utf-8")
    verify(out)
    archive = out.with_name(out.name + ".tar.gz")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(out, arcname=out.name)
    return archive


def verify(bundle: Path | str) -> None:
    """ValueError when the bundle holds solutions, hidden tests or solution code."""
    bundle = Path(bundle)
    problems = []
    for forbidden in ("solutions", "tests", "tools", "instructor", ".git"):
        if (bundle / forbidden).exists():
            problems.append(f"{forbidden}/ is in the bundle")
    for path in sorted(bundle.rglob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for index, cell in enumerate(nb.get("cells", []), start=1):
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            for marker in (BEGIN_MARKER, END_MARKER, BEGIN_HIDDEN, "hidden_points("):
                if marker in text:
                    problems.append(f"{path.relative_to(bundle)}, cell {index}: {marker!r}")
            if cell.get("outputs"):
                problems.append(f"{path.relative_to(bundle)}, cell {index}: stored outputs")
            if "solution-only" in (cell.get("metadata", {}).get("tags") or []):
                problems.append(f"{path.relative_to(bundle)}, cell {index}: a solution-only cell")
    problems += reference_copies(bundle)
    if problems:
        raise ValueError("the bundle would ship answers: " + "; ".join(problems))


_PYTHON_SUFFIXES = (".py", ".pyw", ".pyi")


def reference_copies(bundle: Path | str, references: dict[str, str] | None = None) -> list[str]:
    """Every function or class in the bundle that is an exercise's reference solution as
    code (AST, names, docstrings and formatting ignored; any size; see
    :mod:`instructor.grading.similarity`), whatever file holds it: Python files and the
    code cells of notebooks. ``references``: exercise id -> reference source (default:
    every exercise's, from :mod:`instructor.exercises`)."""
    from instructor.grading.similarity import find_copies

    if references is None:
        from instructor.exercises import reference_source
        from tlkit.exercises.registry import exercise_ids

        references = {eid: reference_source(eid) for eid in exercise_ids()}
    bundle = Path(bundle)
    sources: list[tuple[str, str]] = []
    for path in sorted(bundle.rglob("*")):
        where = str(path.relative_to(bundle))
        if path.is_symlink() or not path.is_file():
            continue
        if path.suffix in _PYTHON_SUFFIXES:
            sources.append((where, path.read_text(encoding="utf-8", errors="replace")))
        elif path.suffix == ".ipynb":
            nb = json.loads(path.read_text(encoding="utf-8"))
            for index, cell in enumerate(nb.get("cells", []), start=1):
                if cell.get("cell_type") == "code":
                    source = cell.get("source", "")
                    text = "".join(source) if isinstance(source, list) else str(source)
                    sources.append((f"{where}, cell {index}", text))
    return [f"{where}: {name} is the reference solution of exercise {eid} ({ref_name})"
            for where, text in sources
            for name, eid, ref_name in find_copies(text, references, min_nodes=0)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.release",
                                     description="Write the student bundle (no solutions).")
    parser.add_argument("--out", default=str(ROOT / "build" / "tlkit-student"),
                        help="bundle folder (build/tlkit-student); the .tar.gz goes beside it")
    args = parser.parse_args(argv)
    try:
        archive = build_release(args.out)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {args.out}/ and {archive} ({archive.stat().st_size // 1024} KiB): "
          f"{len(list((Path(args.out) / 'notebooks').glob('*.ipynb')))} notebooks, "
          f"{', '.join(PACKAGES)}, no solutions, no hidden tests.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
