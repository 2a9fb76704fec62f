"""notebook_build: solutions/ -> notebooks/ with stubs, no outputs, and drift detection."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from instructor import build_notebooks as notebook_build
from instructor.build_notebooks import (
    LAUNCH_CELL_IDS,
    NotebookBuildError,
    build,
    check,
    colab_install_packages,
    github_repository,
    main,
    student_notebook,
    with_launch_cells,
)

ROOT = Path(__file__).resolve().parent.parent
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'

EXERCISE_SOURCE = """### EXERCISE 04.1
def recommend_strategy(dataset_size, task_similarity):
    \"\"\"Return the strategy.\"\"\"
    ### BEGIN SOLUTION
    if dataset_size < 1000:
        return "feature_extraction"
    return "fine_tuning"
    ### END SOLUTION


def helper(x):
        ### BEGIN SOLUTION
        return x + 1
        ### END SOLUTION"""


def make_solution_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    imports = nbformat.v4.new_code_cell("import numpy as np", execution_count=1)
    imports.metadata["tags"] = ["imports"]
    exercise = nbformat.v4.new_code_cell(EXERCISE_SOURCE, execution_count=2)
    exercise.metadata["execution"] = {"iopub.execute_input": "2024-01-01T00:00:00Z"}
    check_cell = nbformat.v4.new_code_cell(
        'check("04.1", recommend_strategy)', execution_count=3,
        outputs=[nbformat.v4.new_output("stream", name="stdout", text="✅ passed\nmore\n")],
    )
    secret = nbformat.v4.new_code_cell("print('answer key')", execution_count=4)
    secret.metadata["tags"] = ["solution-only"]
    result = nbformat.v4.new_code_cell("1 + 1", execution_count=5, outputs=[
        nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=5)])
    nb.cells = [nbformat.v4.new_markdown_cell("# Part 4 — choosing ✓"), imports, exercise,
                check_cell, secret, result]
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"
    return nb


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "solutions").mkdir()
    nbformat.write(make_solution_notebook(), tmp_path / "solutions" / "04_choosing.ipynb")
    return tmp_path


def built(repo: Path) -> dict:
    return json.loads((repo / "notebooks" / "04_choosing.ipynb").read_text(encoding="utf-8"))


def test_solutions_are_replaced_by_stubs_at_the_same_indentation(repo):
    build(repo / "solutions", repo / "notebooks")
    cells = built(repo)["cells"][len(LAUNCH_CELL_IDS):]  # after the badge and the Colab install cell
    source = "".join(cells[2]["source"])
    assert "### BEGIN SOLUTION" not in source and "feature_extraction" not in source
    assert source == (
        "### EXERCISE 04.1\n"
        "def recommend_strategy(dataset_size, task_similarity):\n"
        '    """Return the strategy."""\n'
        "    # YOUR CODE HERE\n"
        f"    {STUB}\n"
        "\n\n"
        "def helper(x):\n"
        "        # YOUR CODE HERE\n"
        f"        {STUB}"
    )
    compile(source, "cell", "exec")  # still valid Python


def test_outputs_counts_and_solution_only_cells_are_gone(repo):
    build(repo / "solutions", repo / "notebooks")
    nb = built(repo)
    ids = [cell["id"] for cell in nb["cells"]]
    assert ids == [*LAUNCH_CELL_IDS, "cell-0", "cell-1", "cell-2", "cell-3", "cell-5"]  # solution-only dropped
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
            assert "execution" not in cell["metadata"]
    assert nb["cells"][3]["metadata"]["tags"] == ["imports"]  # other metadata kept
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb["metadata"]  # the saved state of outputs that are gone


def test_written_exactly_as_nbformat_writes_it(repo):
    build(repo / "solutions", repo / "notebooks")
    path = repo / "notebooks" / "04_choosing.ipynb"
    text = path.read_text(encoding="utf-8")
    assert text == nbformat.writes(nbformat.read(path, as_version=4)) + "\n"
    assert "choosing ✓" in text  # ensure_ascii=False
    # render_notebook is nbformat's writer also for a notebook with outputs
    nb = make_solution_notebook()
    assert notebook_build.render_notebook(json.loads(nbformat.writes(nb))) == (
        nbformat.writes(nb) + "\n"
    )


def test_build_is_idempotent_and_deterministic(repo):
    first = build(repo / "solutions", repo / "notebooks")
    assert [p.name for p in first] == ["04_choosing.ipynb"]
    text = (repo / "notebooks" / "04_choosing.ipynb").read_text(encoding="utf-8")
    assert build(repo / "solutions", repo / "notebooks") == []
    assert (repo / "notebooks" / "04_choosing.ipynb").read_text(encoding="utf-8") == text
    # a student notebook is its own student version
    assert notebook_build.render_notebook(student_notebook(built(repo))) == text


def test_check_detects_drift_missing_and_stale_files(repo, capsys):
    sol, nbs = repo / "solutions", repo / "notebooks"
    assert check(sol, nbs) == [f"{nbs / '04_choosing.ipynb'}: missing"]
    build(sol, nbs)
    assert check(sol, nbs) == []
    assert main(["--solutions", str(sol), "--notebooks", str(nbs), "--check"]) == 0

    target = nbs / "04_choosing.ipynb"
    nb = json.loads(target.read_text(encoding="utf-8"))
    nb["cells"][4]["source"] = ["def recommend_strategy(a, b):\n", "    return 'my answer'"]
    target.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    (nbs / "old.ipynb").write_text("{}", encoding="utf-8")
    problems = check(sol, nbs)
    assert problems == [
        f"{target}: differs from what `make notebooks` writes",
        f"{nbs / 'old.ipynb'}: has no source in {sol}",
    ]
    capsys.readouterr()
    assert main(["--solutions", str(sol), "--notebooks", str(nbs), "--check"]) == 1
    out = capsys.readouterr().out
    assert "04_choosing.ipynb" in out and "old.ipynb" in out and "make notebooks" in out

    assert main(["--solutions", str(sol), "--notebooks", str(nbs)]) == 0
    assert check(sol, nbs) == [] and not (nbs / "old.ipynb").exists()


def test_empty_solutions_folder(tmp_path):
    (tmp_path / "solutions").mkdir()
    assert build(tmp_path / "solutions", tmp_path / "notebooks") == []
    assert check(tmp_path / "solutions", tmp_path / "notebooks") == []
    assert (tmp_path / "notebooks").is_dir()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n### BEGIN SOLUTION\ny = 2\n",
         "'### BEGIN SOLUTION' on line 2 has no '### END SOLUTION'"),
        ("### END SOLUTION\n", "line 1 has '### END SOLUTION' without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n",
         "line 2 opens '### BEGIN SOLUTION' inside the region opened on line 1"),
    ],
)
def test_unbalanced_markers_name_the_notebook_and_cell(tmp_path, source, message):
    (tmp_path / "solutions").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("intro"), nbformat.v4.new_code_cell(source)]
    nb.cells[1]["id"] = "abc"
    nbformat.write(nb, tmp_path / "solutions" / "bad.ipynb")
    with pytest.raises(NotebookBuildError) as info:
        build(tmp_path / "solutions", tmp_path / "notebooks")
    assert str(info.value).startswith("bad.ipynb, cell 2 (id abc): ")
    assert message in str(info.value)
    assert main(["--solutions", str(tmp_path / "solutions"),
                 "--notebooks", str(tmp_path / "notebooks")]) == 2


def test_markers_in_markdown_cells_are_left_alone():
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "### BEGIN SOLUTION"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    assert student_notebook(nb)["cells"][0]["source"] == "### BEGIN SOLUTION"


def test_repository_notebooks_are_up_to_date():
    """`make notebooks` has been run: notebooks/ is exactly what solutions/ generates."""
    if not (ROOT / "solutions").is_dir():
        pytest.skip("no solutions/ folder")
    problems = check(ROOT / "solutions", ROOT / "notebooks")
    assert problems == [], "run `make notebooks`:\n" + "\n".join(problems)


# ---------------------------------------------------------------- launch cells (Colab)

COLAB = "https://colab.research.google.com/github/tlkit-course/tlkit/blob/main/notebooks/"


def test_each_student_notebook_starts_with_the_colab_badge_and_install_cell(repo):
    build(repo / "solutions", repo / "notebooks")
    badge, install = built(repo)["cells"][:2]
    assert badge["cell_type"] == "markdown" and badge["id"] == "colab-badge"
    assert "".join(badge["source"]) == (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({COLAB}04_choosing.ipynb)")
    assert install["cell_type"] == "code" and install["id"] == "colab-install"
    assert install["outputs"] == [] and install["execution_count"] is None
    assert '"google.colab" in sys.modules' in "".join(install["source"])


def test_the_repository_comes_from_pyproject_urls(tmp_path):
    assert github_repository() == "tlkit-course/tlkit"  # the placeholder in pyproject.toml
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "https://github.com/someone/course.git"\n')
    assert github_repository(pyproject) == "someone/course"
    nb = with_launch_cells({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, "01_a.ipynb",
                           github_repository(pyproject))
    assert "colab.research.google.com/github/someone/course/blob/main/notebooks/01_a.ipynb" in nb["cells"][0]["source"]
    assert "git+https://github.com/someone/course@main" in nb["cells"][1]["source"]
    pyproject.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "https://gitlab.com/a/b"\n')
    with pytest.raises(NotebookBuildError, match="Repository must be https://github.com/<owner>/<repo>"):
        github_repository(pyproject)


def test_launch_cells_are_added_once_and_only_with_ids_where_nbformat_has_them():
    nb = {"cells": [{"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# Part"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    once = with_launch_cells(nb, "00.ipynb", "o/r", [])
    assert with_launch_cells(once, "00.ipynb", "o/r", []) == once
    assert [c.get("id") for c in once["cells"]] == [*LAUNCH_CELL_IDS, "intro"]
    assert nb["cells"][0]["id"] == "intro" and len(nb["cells"]) == 1  # input unchanged
    old = with_launch_cells({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}, "00.ipynb", "o/r", [])
    assert all("id" not in cell for cell in old["cells"])


def _run_install_cell(source: str, on_colab: bool) -> subprocess.CompletedProcess:
    """Run the install cell's code in a fresh interpreter with pip's subprocess.run recorded, not run."""
    harness = textwrap.dedent(f"""
        import json, subprocess, sys, types
        calls = []
        subprocess.run = lambda cmd, **kw: calls.append([cmd, kw])
        if {on_colab!r}:
            sys.modules["google"] = types.ModuleType("google")
            sys.modules["google.colab"] = types.ModuleType("google.colab")
        exec(compile(sys.stdin.read(), "install cell", "exec"), {{}})
        sys.stderr.write(json.dumps(calls))
    """)
    return subprocess.run([sys.executable, "-c", harness], input=source, capture_output=True, text=True, check=True)


def test_the_install_cell_does_nothing_and_prints_nothing_outside_colab(repo):
    build(repo / "solutions", repo / "notebooks")
    source = "".join(built(repo)["cells"][1]["source"])
    done = _run_install_cell(source, on_colab=False)
    assert done.stdout == "" and json.loads(done.stderr) == []


def test_on_colab_the_install_cell_installs_tlkit_without_touching_colabs_packages(repo):
    build(repo / "solutions", repo / "notebooks")
    source = "".join(built(repo)["cells"][1]["source"])
    calls = json.loads(_run_install_cell(source, on_colab=True).stderr)
    assert len(calls) == 1  # tlkit's runtime requirements are all on Colab: nothing else to install
    command, options = calls[0]
    assert command[1:] == ["-m", "pip", "install", "--quiet", "--no-deps",
                           "tlkit @ git+https://github.com/tlkit-course/tlkit@main"]
    assert options == {"check": True}


def test_requirements_colab_lacks_are_installed_with_their_own_dependencies(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["numpy>=1.26", "matplotlib>=3.8", '
                         '"ipywidgets>=7.7", "scikit_learn>=1.4"]\n')
    extra = colab_install_packages(pyproject)
    assert extra == ["scikit_learn>=1.4"]
    nb = with_launch_cells({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, "a.ipynb", "o/r", extra)
    calls = json.loads(_run_install_cell(nb["cells"][1]["source"], on_colab=True).stderr)
    assert [call[0][1:] for call in calls] == [
        ["-m", "pip", "install", "--quiet", "--no-deps", "tlkit @ git+https://github.com/o/r@main"],
        ["-m", "pip", "install", "--quiet", "scikit_learn>=1.4"]]
    assert colab_install_packages() == []  # tlkit itself: numpy, matplotlib, ipywidgets only


def test_the_student_notebooks_import_nothing_colab_lacks():
    # What the --no-deps install relies on: besides tlkit (and the studies it ships), the student
    # notebooks import the standard library and packages Colab has.
    allowed = set(sys.stdlib_module_names) | {"tlkit", "studies", "numpy", "matplotlib", "ipywidgets", "IPython"}
    imported = set()
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = student_notebook(json.loads(path.read_text(encoding="utf-8")), path.name)
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            lines = "".join(cell["source"]).splitlines()
            tree = ast.parse("\n".join(line for line in lines if not line.lstrip().startswith(("%", "!"))))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    imported.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    imported.add(node.module.split(".")[0])
    assert imported and imported <= allowed, sorted(imported - allowed)
