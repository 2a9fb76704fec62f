"""A notebook with every panel: nbval reproduces it strictly, and it renders in a real browser.

1. The notebook is executed with nbclient, widget state stored (as the solutions are).
2. ``pytest --nbval`` (strict, with solutions/nbval_sanitize.cfg) must pass on it: the
   panels, a training run and printed timings give the same compared output every run.
3. nbconvert renders it to HTML with the widget state; Debian's headless chromium loads
   it, runs the widget renderer (@jupyter-widgets/html-manager, from the npm registry
   once, then cached), and we check the rendered DOM holds the real controls and that
   a screenshot is not blank.

Step 3 skips cleanly without chromium (``apt-get install chromium``) or without the
renderer (no npm, or offline). Set TLKIT_CHROMIUM or TLKIT_WIDGET_RENDERER to override.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parents[2]
SANITIZE = REPO / "solutions" / "nbval_sanitize.cfg"
HTML_MANAGER = "@jupyter-widgets/html-manager@1.0.7"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tlkit" / "html-manager-1.0.7"

CELLS = [
    "from tlkit import FineTuningConfig, PretrainedModel\n"
    "from tlkit.datasets import make_transfer_task\n"
    "from tlkit.strategies import FineTuner\n"
    "from tlkit.widgets import freeze_panel, lr_panel, strategy_explorer, training_dashboard",
    "model = PretrainedModel('medium')\npanel = freeze_panel(model)\npanel",
    "panel.checkboxes['layer1'].value = True\nprint(panel.summary.value)",
    "task = make_transfer_task('high', n_train=40, seed=0)\n"
    "ft = FineTuner(PretrainedModel('medium'), task.num_classes, ['layer3', 'layer4'])\n"
    "lr_panel(ft, base_lr=1e-3)",
    "dash = training_dashboard(ft, task.X_train, task.y_train, FineTuningConfig(epochs=3, learning_rate=1e-3),\n"
    "                          validation_data=(task.X_test[:30], task.y_test[:30]))\ndash",
    "dash.run()",
    "print(dash.result.value)  # holds the wall time: the sanitize file blanks it",
    "strategy_explorer(dataset_size=100, similarity='low')",
]


@pytest.fixture(scope="module")
def executed_notebook(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("widget_notebook")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    try:
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True,
                                resources={"metadata": {"path": str(folder)}}).execute()
    except Exception as exc:  # no kernel installed: nothing to test here
        if "No such kernel" in str(exc) or "NoSuchKernel" in type(exc).__name__:
            pytest.skip(f"no python3 Jupyter kernel: {exc}")
        raise
    path = folder / "widgets.ipynb"
    nbformat.write(nb, path)
    return path


def test_nbval_strict_reproduces_the_widget_notebook(executed_notebook):
    pytest.importorskip("nbval")
    nb = nbformat.read(executed_notebook, as_version=4)
    assert "application/vnd.jupyter.widget-state+json" in nb.metadata.get("widgets", {})
    shown = [o for c in nb.cells for o in c.outputs if o.get("output_type") == "execute_result"]
    assert [o["data"]["text/plain"] for o in shown if "application/vnd.jupyter.widget-view+json" in o["data"]] == [
        "<tlkit freeze panel>", "<tlkit learning-rate panel>", "<tlkit training dashboard>",
        "<tlkit strategy explorer>"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZE),
         "-p", "no:cacheprovider", "-q", "--rootdir", str(executed_notebook.parent), str(executed_notebook)],
        capture_output=True, text=True, timeout=300, cwd=executed_notebook.parent,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"{len(CELLS)} passed" in result.stdout


# -- the browser ---------------------------------------------------------------------------

def _chromium() -> str | None:
    override = os.environ.get("TLKIT_CHROMIUM")
    if override:
        return override
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _widget_renderer() -> Path | None:
    """dist/embed.js of @jupyter-widgets/html-manager: an override, the cache, or npm pack (once)."""
    override = os.environ.get("TLKIT_WIDGET_RENDERER")
    if override:
        return Path(override)
    embed = CACHE / "dist" / "embed.js"
    if embed.exists():
        return embed
    npm = shutil.which("npm")
    if npm is None:
        return None
    download = CACHE.parent / "download"
    download.mkdir(parents=True, exist_ok=True)
    try:
        packed = subprocess.run([npm, "pack", HTML_MANAGER, "--silent"], cwd=download, capture_output=True,
                                text=True, timeout=180)
    except subprocess.TimeoutExpired:
        return None
    tgz = download / packed.stdout.strip().splitlines()[-1] if packed.returncode == 0 and packed.stdout else None
    if tgz is None or not tgz.exists():
        return None
    with tarfile.open(tgz) as archive:
        archive.extractall(download, filter="data")
    shutil.rmtree(CACHE, ignore_errors=True)
    (download / "package").rename(CACHE)
    tgz.unlink()
    return embed if embed.exists() else None


def _run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
             "--virtual-time-budget=10000", "--hide-scrollbars"]
    return subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=120)


def test_the_panels_render_in_headless_chromium(executed_notebook, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no chromium (Debian: apt-get install chromium)")
    renderer = _widget_renderer()
    if renderer is None or not renderer.exists():
        pytest.skip(f"the widget renderer {HTML_MANAGER} is not available (no npm or offline)")
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed_notebook, as_version=4)
    body, _ = HTMLExporter(widget_renderer_url=renderer.as_uri()).from_notebook_node(nb)
    page = tmp_path / "widgets.html"
    page.write_text(body, encoding="utf-8")

    dom = _run_chromium(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    # the renderer replaced the static fallback with live controls of each panel
    # (a checkbox's class list ends with its tlkit-freeze-<block> hook, so match the word)
    assert len(re.findall(r"\bwidget-checkbox\b", html)) >= 4, "the freeze panel's checkboxes were not rendered"
    assert "widget-hprogress" in html and "widget-button" in html, "the dashboard was not rendered"
    assert html.count("widget-hslider") >= 5, "the learning-rate sliders were not rendered"
    assert "widget-dropdown" in html and "Recommendation:" in html, "the strategy explorer was not rendered"
    assert "data:image/png;base64" in html, "the dashboard's final figure is missing"

    shot = tmp_path / "widgets.png"
    result = _run_chromium(chromium, tmp_path / "profile", "--window-size=1000,1600", f"--screenshot={shot}",
                           page.as_uri())
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1000, 1600)
    colors = image.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50, "the screenshot is (nearly) one colour: blank"
    white = max(count for count, rgb in colors if rgb == (255, 255, 255)) if any(
        rgb == (255, 255, 255) for _, rgb in colors) else 0
    assert white < 0.97 * image.size[0] * image.size[1], "the screenshot is almost all white"
