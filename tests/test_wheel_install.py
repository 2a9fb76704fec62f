"""The built wheel works on its own: installed (not editable) into a fresh virtual environment,
with no repository on the path, it imports what the notebooks import, finds the study results
and runs notebooks 03, 04 and 05 (those that read stored study results) to the end: what
``pip install git+...`` on Colab gives a student.

Everything happens offline: the wheel is built with the current environment's setuptools
(``--no-build-isolation``), installed with ``--no-index --no-deps``, and the fresh environment
borrows numpy, matplotlib, ipywidgets and ipykernel from the current one through a ``.pth`` line
(a plain path entry: the current environment's own ``.pth`` files, among them an editable
install's pointer to the repository, are not processed). About a minute; deselect with
``-m "not wheel_install"``.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from instructor.build_notebooks import SOLUTION_ONLY_TAG, strip_hidden_tests

ROOT = Path(__file__).resolve().parents[1]
# What the wheel is built from (pyproject.toml decides what of it ships).
SOURCES = ("pyproject.toml", "README.md", "tlkit", "studies")
EXECUTED = ("03_fine_tuning.ipynb", "04_choosing_a_strategy.ipynb", "05_domain_adaptation.ipynb")

pytestmark = pytest.mark.wheel_install


def _offline_build_possible() -> str | None:
    """Why an offline build cannot run here (None when it can)."""
    from importlib import metadata

    try:
        versions = {name: metadata.version(name) for name in ("pip", "setuptools")}
    except metadata.PackageNotFoundError as exc:
        return f"{exc.name} is not installed in this environment"
    if int(versions["setuptools"].split(".")[0]) < 77:
        return f"setuptools {versions['setuptools']} < 77 (install the test extra: pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    reason = _offline_build_possible()
    if reason:
        pytest.skip(f"cannot build the wheel offline: {reason}")
    tmp = tmp_path_factory.mktemp("wheel")
    src, dist, env_dir = tmp / "src", tmp / "dist", tmp / "venv"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
          "--wheel-dir", str(dist), str(src)], cwd=tmp)
    (wheel,) = dist.glob("tlkit-*.whl")

    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env_site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         cwd=tmp).strip())
    borrowed = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (env_site / "_borrowed_dependencies.pth").write_text("\n".join(borrowed) + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-index", "--no-deps",
          str(wheel)], cwd=tmp)
    work = tmp / "work"  # the kernel's folder: nothing of the repository in it
    work.mkdir()
    return {"python": python, "prefix": env_dir.resolve(), "site": env_site.resolve(), "work": work,
            "wheel": wheel}


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(extra)
    return env


def _run(cmd, cwd, env=None, timeout=300) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env or _clean_env(), capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd[:4]}... failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


# Run in the fresh environment: tlkit and studies come from its site-packages, the repository is
# nowhere on sys.path, every module the student notebooks import imports, and the results load.
CHECK = textwrap.dedent("""
    import ast, importlib, json, sys
    from pathlib import Path

    site_dir, repo, notebooks = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    assert not any(Path(p or ".").resolve() == repo for p in sys.path), sys.path
    modules = set()
    for path in sorted(notebooks.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            tree = ast.parse("\\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!"))))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules.add(node.module)
    for name in sorted(modules):
        importlib.import_module(name)
    for name in ("tlkit", "studies"):
        where = Path(sys.modules[name].__file__).resolve()
        assert where.is_relative_to(site_dir), f"{name} imported from {where}, not from the wheel's install"
    from tlkit.protocol import STUDY_RESULTS, load_records
    assert STUDY_RESULTS.is_relative_to(site_dir), STUDY_RESULTS
    files = sorted(p.name for p in STUDY_RESULTS.glob("*.json"))
    import studies.domain_adaptation, studies.study, studies.tips, studies.xray_augmentation, studies.xray_factors
    curves = studies.study.load_results()
    tips = json.loads((STUDY_RESULTS / "tips.json").read_text())
    xray = load_records(studies.xray_factors.RESULTS_PATH) + load_records(studies.domain_adaptation.RESULTS_PATH)
    augmentation = studies.xray_augmentation.load()
    print(json.dumps({"modules": sorted(modules), "files": files, "curves": len(curves), "tips": len(tips),
                      "xray": len(xray), "augmentation": bool(augmentation)}))
""")


def test_the_wheel_holds_the_study_results(wheel_venv):
    import zipfile

    names = set(zipfile.ZipFile(wheel_venv["wheel"]).namelist())
    committed = {f"studies/results/{p.name}" for p in (ROOT / "studies" / "results").glob("*.json")}
    assert committed and committed <= names, sorted(committed - names)


def test_notebook_imports_and_results_from_the_installed_wheel(wheel_venv):
    out = _run([wheel_venv["python"], "-c", CHECK, wheel_venv["site"], ROOT, ROOT / "notebooks"],
               cwd=wheel_venv["work"])
    found = json.loads(out.strip().splitlines()[-1])
    assert {"tlkit", "studies.study", "tlkit.widgets"} <= set(found["modules"])
    assert "learning_curves.json" in found["files"] and "tips.json" in found["files"]
    assert found["curves"] > 0 and found["tips"] > 0 and found["xray"] > 0 and found["augmentation"]


def _completed_notebook(name: str) -> dict:
    """The notebook a student who solved every exercise holds: the solutions' code without hidden
    tests or solution-only cells (the grader's side is not installed), outputs cleared."""
    nb = json.loads((ROOT / "solutions" / name).read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        if SOLUTION_ONLY_TAG in (cell.get("metadata", {}).get("tags") or []):
            continue
        if cell["cell_type"] == "code":
            cell["source"] = strip_hidden_tests("".join(cell["source"]), f"{name}")
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    nb["cells"] = cells
    nb.get("metadata", {}).pop("widgets", None)
    return nb


@pytest.mark.parametrize("name", EXECUTED)
def test_notebook_runs_to_the_end_from_the_installed_wheel(wheel_venv, name):
    work = wheel_venv["work"]
    python = wheel_venv["python"]
    # A kernel spec naming the fresh environment's interpreter, found first through JUPYTER_PATH.
    spec = work / "jupyter" / "kernels" / "tlkit-wheel"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "tlkit wheel", "language": "python"}))
    nb = _completed_notebook(name)
    guard = ("import sys, tlkit, studies\n"
             f"assert sys.prefix == {str(wheel_venv['prefix'])!r}, sys.prefix\n"
             f"assert tlkit.__file__.startswith({str(wheel_venv['site'])!r}), tlkit.__file__\n"
             f"assert studies.__file__.startswith({str(wheel_venv['site'])!r}), studies.__file__\n")
    nb["cells"].insert(0, {"cell_type": "code", "metadata": {}, "source": guard, "outputs": [],
                           "execution_count": None})
    path = work / name
    path.write_text(json.dumps(nb))
    runner = ("import sys, nbformat, nbclient\n"
              "nb = nbformat.read(sys.argv[1], as_version=4)\n"
              "nbclient.NotebookClient(nb, timeout=600, kernel_name='tlkit-wheel', resources={'metadata': "
              "{'path': sys.argv[2]}}).execute()\n"
              "print(sum(1 for c in nb.cells if c.cell_type == 'code' and c.get('execution_count')))\n")
    # the fast engine (proven equal to the readable one) halves the notebooks' time; what is
    # tested here is the install, not the engine the course shows
    env = _clean_env(JUPYTER_PATH=str(work / "jupyter"), OPENBLAS_NUM_THREADS="1", TLKIT_ENGINE="fast")
    out = _run([python, "-c", runner, path, work], cwd=work, env=env, timeout=900)
    executed = int(out.strip().splitlines()[-1])
    code_cells = sum(1 for c in nb["cells"] if c["cell_type"] == "code")
    assert executed == code_cells
