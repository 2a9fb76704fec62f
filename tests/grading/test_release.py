"""The student bundle (`make release`): notebooks without answers or hidden tests, the
library, and a check that refuses a bundle that would ship answers."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

from instructor.build_notebooks import NotebookBuildError, strip_hidden_tests
from instructor.release import build_release, verify

ROOT = Path(__file__).resolve().parents[2]


def test_strip_hidden_tests_removes_the_region_and_its_markers():
    source = "a = 1\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\nb = 2\n"
    assert strip_hidden_tests(source) == "a = 1\nb = 2\n"
    assert strip_hidden_tests("x\n") == "x\n"
    with pytest.raises(NotebookBuildError, match="has no"):
        strip_hidden_tests("### BEGIN HIDDEN TESTS\nx\n")
    with pytest.raises(NotebookBuildError, match="unbalanced"):
        strip_hidden_tests("### END HIDDEN TESTS\n")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "tlkit-student"
    archive = build_release(out)
    return out, archive


def test_bundle_has_notebooks_and_library_but_no_answers(bundle):
    out, archive = bundle
    assert not (out / "solutions").exists() and not (out / "tests").exists()
    assert (out / "tlkit" / "__init__.py").is_file() and (out / "pyproject.toml").is_file()
    notebooks = sorted((out / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 5
    text = "".join(p.read_text(encoding="utf-8") for p in notebooks)
    assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text
    assert "hidden_points" not in text
    assert 'raise NotImplementedError(\\"Exercise: replace this line with your code\\")' in text
    assert "### EXERCISE 01.1" in text
    assert not list(out.rglob("__pycache__"))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert f"{out.name}/notebooks/{notebooks[0].name}" in names
    assert not any("/solutions" in n for n in names)


def test_verify_refuses_planted_answers(bundle, tmp_path):
    out, _ = bundle
    nb = json.loads(next((out / "notebooks").glob("*.ipynb")).read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                        "source": ["### BEGIN HIDDEN TESTS\n", "x\n", "### END HIDDEN TESTS\n"]})
    bad = tmp_path / "bad"
    (bad / "notebooks").mkdir(parents=True)
    (bad / "notebooks" / "x.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(ValueError, match="BEGIN HIDDEN TESTS"):
        verify(bad)
    (bad / "notebooks" / "x.ipynb").unlink()
    (bad / "solutions").mkdir()
    with pytest.raises(ValueError, match="solutions/ is in the bundle"):
        verify(bad)


def test_the_shipped_bundle_holds_no_reference_as_code(bundle):
    from instructor.release import reference_copies

    out, _ = bundle
    assert reference_copies(out) == []


def _root_copy(tmp_path: Path) -> Path:
    """A copy of what `make release` reads (solutions/, tlkit/, studies/, the files)."""
    root = tmp_path / "repo"
    for name in ("solutions", "tlkit", "studies"):
        shutil.copytree(ROOT / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "environment.yml", "README.md"):
        shutil.copy2(ROOT / name, root / name)
    return root


def test_make_release_fails_when_a_reference_slips_in_under_another_name(tmp_path):
    """A reference solution, renamed and reformatted, in a library module with a harmless
    name: the build's verify step refuses the bundle, and no archive is written."""
    from instructor.exercises import reference_source

    root = _root_copy(tmp_path)
    copy = reference_source("02.2").replace("FeatureExtractor", "_LinearReadout")
    copy = copy.replace("self", "this").replace('"""Reference', '"""Helper')
    (root / "tlkit" / "_compat.py").write_text("import numpy as np\n\n\n" + copy)
    out = tmp_path / "bundle"
    with pytest.raises(ValueError) as info:
        build_release(out, root=root)
    assert ("tlkit/_compat.py: _LinearReadout is the reference solution of exercise 02.2 "
            "(FeatureExtractor)") in str(info.value)
    assert not out.with_name("bundle.tar.gz").exists()
    # the same bundle without the planted file is accepted
    (root / "tlkit" / "_compat.py").unlink()
    assert build_release(out, root=root).exists()


def test_verify_finds_a_small_reference_in_a_notebook_cell(tmp_path):
    from instructor.exercises import reference_source

    bad = tmp_path / "bad"
    (bad / "notebooks").mkdir(parents=True)
    cell = reference_source("04.1").replace("recommend_strategy", "choose")
    cell = cell.replace("dataset_size", "n").replace("task_similarity", "similarity")
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [],
                     "execution_count": None, "source": cell.splitlines(keepends=True)}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (bad / "notebooks" / "extra.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(ValueError, match=r"extra.ipynb, cell 1: choose is the reference "
                                         r"solution of exercise 04.1"):
        verify(bad)
