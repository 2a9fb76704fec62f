"""The student bundle (`make release`): notebooks without answers or hidden tests, the
library, and a check that refuses a bundle that would ship answers."""

from __future__ import annotations

import json
import tarfile

import pytest

from instructor.build_notebooks import NotebookBuildError, strip_hidden_tests
from instructor.release import build_release, verify


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
