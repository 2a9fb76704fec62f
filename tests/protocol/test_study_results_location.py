"""STUDY_RESULTS is found through importlib.resources on first use, not through tlkit's location."""

import subprocess
import sys
from pathlib import Path

import pytest

import tlkit.protocol
from tlkit.protocol import records


def test_import_tlkit_does_not_import_studies():
    code = "import sys, tlkit, tlkit.protocol; print('studies' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_folder_follows_the_studies_package_wherever_it_lies(tmp_path, monkeypatch):
    # A `studies` package somewhere else than next to tlkit: the results are found in it.
    package = tmp_path / "elsewhere" / "fake_studies"
    (package / "results").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "elsewhere"))
    monkeypatch.setattr(records, "RESULTS_PACKAGE", "fake_studies")
    assert tlkit.protocol.STUDY_RESULTS == package / "results"
    assert records.study_results() == package / "results"


def test_a_missing_studies_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(records, "RESULTS_PACKAGE", "no_such_studies_package")
    with pytest.raises(FileNotFoundError, match="no_such_studies_package"):
        records.study_results()


def test_in_the_repository_it_is_studies_results():
    assert tlkit.protocol.STUDY_RESULTS == Path(__file__).resolve().parents[2] / "studies" / "results"
    with pytest.raises(AttributeError, match="NOT_A_NAME"):
        tlkit.protocol.NOT_A_NAME  # noqa: B018
