"""The no-install routes: Binder (binder/), Codespaces (.devcontainer/) and the README's links.

The Colab badge and install cell the notebook builder writes are tested in
tests/test_notebook_build.py; the wheel a Colab install builds in tests/test_wheel_install.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from instructor.build_notebooks import colab_url, github_repository

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
FIRST_NOTEBOOK = "00_introduction.ipynb"


def _requirement(line: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", line)
    assert match, f"cannot parse requirement {line!r}"
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


# ---------------------------------------------------------------- Binder


def test_binder_installs_the_students_packages_only():
    binder = {_requirement(line) for line in _lines(BINDER / "requirements.txt")}
    runtime = {_requirement(r) for r in PROJECT["dependencies"]}
    assert binder == runtime  # the same names and lower bounds; nothing of the test or grading stack
    extras = {_requirement(r)[0] for name in ("test", "grading", "bench") for r in
              PROJECT["optional-dependencies"][name]}
    assert not extras & {name for name, _ in binder}


def test_binder_pins_a_python_tlkit_supports():
    (line,) = _lines(BINDER / "runtime.txt")
    match = re.fullmatch(r"python-3\.(\d+)", line)
    assert match, f"binder/runtime.txt must read python-3.N; got {line!r}"
    minimum = int(re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"]).group(1))
    assert int(match.group(1)) >= minimum


def test_binder_postbuild_installs_tlkit_from_the_repository_without_touching_the_requirements():
    post_build = BINDER / "postBuild"
    assert post_build.stat().st_mode & stat.S_IXUSR, "binder/postBuild must be executable"
    commands = _lines(post_build)
    assert commands[0] == "set -euo pipefail"
    assert commands[-1] == "python -m pip install --no-cache-dir --no-deps ."


def test_repo2docker_reads_the_binder_folder_offline():
    repo2docker = shutil.which("repo2docker", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                                    os.environ.get("PATH", "")]))
    if repo2docker is None:
        pytest.skip("repo2docker is not installed (pip install -e '.[test]' installs it)")
    # --no-build: detect the build pack and write the Dockerfile, without Docker or the network
    done = subprocess.run([repo2docker, "--no-build", "--debug", str(ROOT)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    version = _lines(BINDER / "runtime.txt")[0].split("-", 1)[1]
    assert f"Building conda environment for python={version}" in out
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in out
    assert "RUN ./binder/postBuild" in out
    # the repository's own environment.yml (the whole test and grading stack) is not what Binder uses
    assert "environment.yml" not in re.sub(r"environment[.-]py-3\.\d+-linux-64\.lock", "", out)


# ---------------------------------------------------------------- Codespaces


def test_devcontainer_python_image_make_install_and_port_8888():
    config = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
    match = re.fullmatch(r"mcr\.microsoft\.com/devcontainers/python:(?:\d+-)?3\.(\d+)(?:-[a-z]+)?", config["image"])
    assert match, f"not a Python dev container image: {config['image']!r}"
    assert int(match.group(1)) >= int(PROJECT["requires-python"].split(".")[1])
    assert config["postCreateCommand"] == "make install"
    assert 8888 in config["forwardPorts"]
    assert set(config) <= {"name", "image", "postCreateCommand", "forwardPorts", "portsAttributes",
                           "customizations", "features", "hostRequirements", "remoteUser"}
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^install:", makefile, re.M), "the Makefile has no install target"


def test_make_lab_serves_on_the_forwarded_port():
    # Jupyter's default port is the forwarded one: `make lab` does not choose another
    lab = (ROOT / "Makefile").read_text().split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "jupyter lab" in lab and "--port" not in lab


# ---------------------------------------------------------------- README


def _links(text: str) -> set[str]:
    return set(re.findall(r"\]\((https://[^)\s]+)\)", text))


def test_readme_links_open_the_first_notebook_in_colab_binder_and_codespaces():
    readme = (ROOT / "README.md").read_text()
    repository = github_repository()
    colab = colab_url(FIRST_NOTEBOOK, repository)
    binder = f"https://mybinder.org/v2/gh/{repository}/HEAD?urlpath=lab/tree/notebooks/{FIRST_NOTEBOOK}"
    codespaces = f"https://codespaces.new/{repository}?quickstart=1"
    links = _links(readme)
    assert {colab, binder, codespaces} <= links
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    no_install = next(p for p in quickstart.split("\n\n") if p.startswith("**No install**"))
    assert {colab, binder, codespaces} <= _links(no_install)
    assert (ROOT / "notebooks" / FIRST_NOTEBOOK).exists()
    # every launch link of the README names the repository of pyproject.toml
    launch = [link for link in links if link.startswith(("https://colab.research.google.com/github/",
                                                         "https://mybinder.org/v2/gh/", "https://codespaces.new/"))]
    assert launch and all(f"/{repository}/" in link or f"/{repository}?" in link for link in launch), launch
