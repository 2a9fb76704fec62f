"""Generate the student notebooks (``notebooks/``) from the solutions (``solutions/``).

Usage (from the repository root; ``make notebooks`` runs the first form)::

    python -m instructor.build_notebooks            # write notebooks/ from solutions/
    python -m instructor.build_notebooks --check    # exit 1 and list the files that drift

For every ``solutions/*.ipynb`` the student version:

* replaces, in code cells, each region from a line ``### BEGIN SOLUTION`` to a line
  ``### END SOLUTION`` (markers included) with a stub at the indentation of the BEGIN line::

      # YOUR CODE HERE
      raise NotImplementedError("Exercise: replace this line with your code")

* removes, in code cells, each region from ``### BEGIN HIDDEN TESTS`` to
  ``### END HIDDEN TESTS`` (markers included; the nbgrader convention for tests the
  student does not see; nbgrader metadata on cells is kept);
* drops cells whose ``metadata.tags`` contain ``"solution-only"``;
* clears every output, execution count and the execution-timing metadata, and the
  saved widget state (it belongs to the solution run's outputs);
* starts the file with two launch cells (:func:`with_launch_cells`): an "Open in Colab" badge
  linking to the notebook on GitHub, and a code cell that installs tlkit when, and only when, it
  runs on Google Colab (``"google.colab" in sys.modules``), with ``--no-deps`` so Colab's own
  ipywidgets, numpy and matplotlib stay in place; anywhere else (JupyterLab, Binder, Codespaces,
  nbval, the grader) it does nothing and prints nothing. The GitHub repository is read from
  ``pyproject.toml``'s ``[project.urls] Repository``, the one place that names it.

Files are written as ``nbformat.write`` does (sorted keys, indent 1, UTF-8, sources split
into lines, trailing newline), so saving a notebook in JupyterLab does not churn it. Only
the standard library is used.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "BEGIN_HIDDEN",
    "BEGIN_MARKER",
    "END_HIDDEN",
    "END_MARKER",
    "SOLUTION_ONLY_TAG",
    "STUB_LINES",
    "NotebookBuildError",
    "strip_hidden_tests",
    "strip_solutions",
    "student_notebook",
    "render_notebook",
    "expected_notebooks",
    "build",
    "check",
    "main",
    "COLAB_PROVIDES",
    "LAUNCH_CELL_IDS",
    "colab_install_packages",
    "colab_url",
    "github_repository",
    "with_launch_cells",
]

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
BEGIN_MARKER = "### BEGIN SOLUTION"
END_MARKER = "### END SOLUTION"
SOLUTION_ONLY_TAG = "solution-only"
STUB_LINES = (
    "# YOUR CODE HERE",
    'raise NotImplementedError("Exercise: replace this line with your code")',
)
# Non-text MIME types that nbformat also stores as lists of lines.
_SPLIT_MIMES = ("application/javascript", "image/svg+xml")
# Cell metadata written by nbclient/JupyterLab that only describes one run.
_TRANSIENT_CELL_METADATA = ("execution", "trusted", "ExecuteTime")

ROOT = Path(__file__).resolve().parents[1]
#: The branch the launch links open.
BRANCH = "main"
#: tlkit's runtime requirements that Google Colab already has (its ipywidgets is 7.7.1, which
#: tlkit supports); the Colab install cell keeps Colab's copies and installs only the others.
COLAB_PROVIDES = ("numpy", "matplotlib", "ipywidgets")
#: The ids of the two cells :func:`with_launch_cells` puts first (badge, install).
LAUNCH_CELL_IDS = ("colab-badge", "colab-install")
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


class NotebookBuildError(ValueError):
    """A solution notebook cannot be turned into a student notebook."""


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every BEGIN/END SOLUTION region of a code cell's source with a stub."""
    out: list[str] = []
    begin_line: int | None = None
    indent = ""
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN_MARKER:
            if begin_line is not None:
                raise NotebookBuildError(
                    f"{where}: line {number} opens '{BEGIN_MARKER}' inside the region "
                    f"opened on line {begin_line}; close it with '{END_MARKER}' first"
                )
            begin_line = number
            indent = line[: len(line) - len(line.lstrip())]
        elif stripped == END_MARKER:
            if begin_line is None:
                raise NotebookBuildError(
                    f"{where}: line {number} has '{END_MARKER}' without a '{BEGIN_MARKER}' "
                    f"before it"
                )
            ending = line[len(line.rstrip("\r\n")):]
            out.append(f"{indent}{STUB_LINES[0]}\n{indent}{STUB_LINES[1]}{ending}")
            begin_line = None
        elif begin_line is None:
            out.append(line)
    if begin_line is not None:
        raise NotebookBuildError(
            f"{where}: '{BEGIN_MARKER}' on line {begin_line} has no '{END_MARKER}'"
        )
    return "".join(out)


def strip_hidden_tests(source: str, where: str = "cell") -> str:
    """Remove every BEGIN/END HIDDEN TESTS region (markers included) of a code cell."""
    out: list[str] = []
    begin_line: int | None = None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN_HIDDEN and begin_line is None:
            begin_line = number
        elif stripped == END_HIDDEN and begin_line is not None:
            begin_line = None
        elif stripped in (BEGIN_HIDDEN, END_HIDDEN):
            raise NotebookBuildError(f"{where}: line {number}: unbalanced '{stripped}'")
        elif begin_line is None:
            out.append(line)
    if begin_line is not None:
        raise NotebookBuildError(f"{where}: '{BEGIN_HIDDEN}' on line {begin_line} has no "
                                 f"'{END_HIDDEN}'")
    return "".join(out)


def student_notebook(nb: dict[str, Any], name: str = "<notebook>") -> dict[str, Any]:
    """The student version of a solution notebook (a new dict; ``nb`` is not changed)."""
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookBuildError(f"{name}: not a notebook (no list of cells)")
    result = copy.deepcopy(nb)
    result.get("metadata", {}).pop("widgets", None)  # widget state of the solution run's (cleared) outputs
    cells = []
    for index, cell in enumerate(result["cells"], start=1):
        if not isinstance(cell, dict):
            raise NotebookBuildError(f"{name}, cell {index}: not a cell object")
        metadata = cell.setdefault("metadata", {})
        if SOLUTION_ONLY_TAG in (metadata.get("tags") or []):
            continue
        for key in _TRANSIENT_CELL_METADATA:
            metadata.pop(key, None)
        if cell.get("cell_type") == "code":
            where = f"{name}, cell {index}" + (f" (id {cell['id']})" if "id" in cell else "")
            source = strip_hidden_tests(_text(cell.get("source", "")), where)
            cell["source"] = strip_solutions(source, where)
            cell["outputs"] = []
            cell["execution_count"] = None
        cells.append(cell)
    result["cells"] = cells
    return result


def _pyproject(pyproject: Path | str | None) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: tomli is the same parser (a dependency of pytest)
        import tomli as tomllib
    path = Path(pyproject) if pyproject is not None else ROOT / "pyproject.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise NotebookBuildError(f"cannot read {path}: {exc}") from None


def github_repository(pyproject: Path | str | None = None) -> str:
    """``"owner/name"`` of the course on GitHub, from ``[project.urls] Repository`` of pyproject.toml."""
    url = (_pyproject(pyproject).get("project", {}).get("urls") or {}).get("Repository", "")
    match = _GITHUB.match(url)
    if not match:
        raise NotebookBuildError(
            f"pyproject.toml: [project.urls] Repository must be https://github.com/<owner>/<repo>; got {url!r}"
        )
    return f"{match.group(1)}/{match.group(2)}"


def colab_url(filename: str, repository: str | None = None) -> str:
    """The Colab link that opens ``notebooks/<filename>`` of the course's GitHub repository."""
    repository = repository or github_repository()
    return f"https://colab.research.google.com/github/{repository}/blob/{BRANCH}/notebooks/{filename}"


def colab_install_packages(pyproject: Path | str | None = None) -> list[str]:
    """tlkit's runtime requirements that Colab lacks (none of numpy, matplotlib, ipywidgets)."""
    requirements = _pyproject(pyproject).get("project", {}).get("dependencies", [])
    names = {re.split(r"[^A-Za-z0-9_.-]", r.strip(), maxsplit=1)[0].lower().replace("_", "-"): r
             for r in requirements}
    return [requirement for name, requirement in names.items() if name not in COLAB_PROVIDES]


def _colab_install_source(repository: str, extra: list[str]) -> str:
    lines = [
        "# On Google Colab only: install tlkit from GitHub with --no-deps, so Colab's own ipywidgets,",
        "# numpy and matplotlib stay in place. Anywhere else this cell does nothing.",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        "    import subprocess",
        "",
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",',
        f'                    "tlkit @ git+https://github.com/{repository}@{BRANCH}"], check=True)',
    ]
    if extra:
        lines.append(f'    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *{extra!r}], check=True)')
    return "\n".join(lines)


def with_launch_cells(nb: dict[str, Any], filename: str, repository: str | None = None,
                      extra_packages: list[str] | None = None) -> dict[str, Any]:
    """``nb`` (a new dict) starting with the Colab badge and the Colab-only install cell.

    Launch cells already there (same ids) are replaced, so the operation is idempotent.
    """
    repository = repository or github_repository()
    extra = colab_install_packages() if extra_packages is None else list(extra_packages)
    result = copy.deepcopy(nb)
    badge = {"cell_type": "markdown", "metadata": {},
             "source": f"[![Open In Colab]({COLAB_BADGE})]({colab_url(filename, repository)})"}
    install = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": _colab_install_source(repository, extra)}
    if (result.get("nbformat"), result.get("nbformat_minor", 0)) >= (4, 5):  # cell ids exist since 4.5
        badge["id"], install["id"] = LAUNCH_CELL_IDS
    kept = [c for c in result.get("cells", []) if not (isinstance(c, dict) and c.get("id") in LAUNCH_CELL_IDS)]
    result["cells"] = [badge, install, *kept]
    return result


def render_notebook(nb: dict[str, Any]) -> str:
    """Serialise a notebook exactly as ``nbformat.write`` would (with a final newline)."""
    nb = copy.deepcopy(nb)
    metadata = nb.get("metadata", {})
    for key in ("orig_nbformat", "orig_nbformat_minor", "signature"):
        metadata.pop(key, None)
    for cell in nb.get("cells", []):
        if isinstance(cell.get("source"), str):
            cell["source"] = cell["source"].splitlines(keepends=True)
        cell.get("metadata", {}).pop("trusted", None)
        for attachment in (cell.get("attachments") or {}).values():
            _split_mimebundle(attachment)
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []) or []:
            if output.get("output_type") in ("execute_result", "display_data"):
                _split_mimebundle(output.get("data") or {})
            elif output.get("output_type") == "stream" and isinstance(output.get("text"), str):
                output["text"] = output["text"].splitlines(keepends=True)
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": "))
    return text if text.endswith("\n") else text + "\n"


def expected_notebooks(solutions_dir: Path | str) -> dict[str, str]:
    """File name -> the text ``build`` writes for it, for every ``*.ipynb`` in solutions/."""
    solutions_dir = Path(solutions_dir)
    if not solutions_dir.is_dir():
        raise NotebookBuildError(f"no solutions directory at {solutions_dir}")
    expected = {}
    repository, extra = github_repository(), colab_install_packages()
    for path in sorted(solutions_dir.glob("*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise NotebookBuildError(f"{path.name}: cannot read the notebook ({exc})") from None
        student = with_launch_cells(student_notebook(nb, path.name), path.name, repository, extra)
        expected[path.name] = render_notebook(student)
    return expected


def build(solutions_dir: Path | str = "solutions",
          notebooks_dir: Path | str = "notebooks") -> list[Path]:
    """Write the student notebooks; remove generated ones whose solution is gone.

    Returns the paths whose content changed (written or removed).
    """
    expected = expected_notebooks(solutions_dir)
    notebooks_dir = Path(notebooks_dir)
    notebooks_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in expected.items():
        target = notebooks_dir / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            with open(target, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            changed.append(target)
    for stale in sorted(notebooks_dir.glob("*.ipynb")):
        if stale.name not in expected:
            stale.unlink()
            changed.append(stale)
    return changed


def check(solutions_dir: Path | str = "solutions",
          notebooks_dir: Path | str = "notebooks") -> list[str]:
    """Problems (one line each) where notebooks/ differs from what ``build`` would write."""
    expected = expected_notebooks(solutions_dir)
    notebooks_dir = Path(notebooks_dir)
    problems = []
    for name, text in expected.items():
        target = notebooks_dir / name
        if not target.exists():
            problems.append(f"{target}: missing")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"{target}: differs from what `make notebooks` writes")
    if notebooks_dir.is_dir():
        for stale in sorted(notebooks_dir.glob("*.ipynb")):
            if stale.name not in expected:
                problems.append(f"{stale}: has no source in {Path(solutions_dir)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m instructor.build_notebooks",
        description="Generate the student notebooks from the solution notebooks.",
    )
    parser.add_argument("--solutions", default="solutions", help="source folder (solutions)")
    parser.add_argument("--notebooks", default="notebooks", help="target folder (notebooks)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the target differs from the build")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check(args.solutions, args.notebooks)
            if problems:
                print(f"{len(problems)} student notebook(s) out of date; run `make notebooks`:")
                for problem in problems:
                    print(f"  {problem}")
                return 1
            print(f"{args.notebooks}/ is up to date with {args.solutions}/.")
            return 0
        changed = build(args.solutions, args.notebooks)
    except NotebookBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    n = len(expected_notebooks(args.solutions))
    print(f"{n} student notebook(s) in {args.notebooks}/; {len(changed)} changed.")
    for path in changed:
        print(f"  {path}")
    return 0


def _split_mimebundle(data: dict[str, Any]) -> None:
    for key, value in list(data.items()):
        if isinstance(value, str) and (key.startswith("text/") or key in _SPLIT_MIMES):
            data[key] = value.splitlines(keepends=True)


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


if __name__ == "__main__":
    raise SystemExit(main())
