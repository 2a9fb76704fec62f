"""The project's two package lists (pyproject.toml, environment.yml) stay in step."""

import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest's own dependency tomli is the same parser
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    assert match, f"cannot parse requirement {requirement!r}"
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _pyproject_requirements() -> set[tuple[str, str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    listed = project["dependencies"] + extras["notebooks"] + extras["test"] + extras["grading"]
    return {_normalise(r) for r in listed}


def _conda_requirements() -> set[tuple[str, str]]:
    found = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        # conda packages ("  - name"), and PyPI-only ones under "  - pip:" ("      - name"), not "-e ."
        match = re.match(r"^(?:  |      )- ([A-Za-z0-9_.\-]+.*)$", line)
        if match and not match.group(1).startswith(("pip:", "-")):
            found.add(_normalise(match.group(1)))
    return {req for req in found if req[0] not in {"python", "pip"}}


def test_environment_yml_matches_pyproject():
    assert _conda_requirements() == _pyproject_requirements()


def test_runtime_dependencies_are_numpy_matplotlib_ipywidgets_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_normalise(r)[0] for r in project["dependencies"]}
    assert names == {"numpy", "matplotlib", "ipywidgets"}


def test_ci_calls_the_readme_test_command():
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "make test"  # the script ends by running the README's command
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme


def test_torch_is_only_a_benchmark_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime_and_test = project["dependencies"] + project["optional-dependencies"]["test"]
    assert not any(_normalise(r)[0] == "torch" for r in runtime_and_test)


def test_the_notebooks_imports_resolve_without_pythonpath(tmp_path):
    # A kernel started by `jupyter lab` (conda route) has no PYTHONPATH and may start in any
    # folder: the modules the notebooks import must come from the install itself.
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = ("import studies.study, studies.tips, studies.xray_factors, studies.xray_augmentation, "
            "studies.pretrain, tlkit; print(studies.study.RESULTS_PATH.exists())")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr[-1500:]


def test_ipywidgets_7_7_is_allowed_and_make_test_runs_the_widget_tests_under_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert ("ipywidgets", ">=7.7") in {_normalise(r) for r in project["dependencies"]}
    makefile = (ROOT / "Makefile").read_text()
    test_target = re.search(r"^test:(.*)$", makefile, re.M).group(1).split()
    assert "widgets-ipyw7" in test_target
    recipe = makefile.split("\nwidgets-ipyw7:", 1)[1].split("\n\n", 1)[0]
    assert "tests/widgets" in recipe
    assert "ipywidgets==7.7.1" in makefile.split("\n$(IPYW7_STAMP):", 1)[1].split("\n\n", 1)[0]
