"""Before/after PNGs of two UI fixes, into ``docs/screenshots/before_after/``.

1. ``plot_lr_per_block`` (notebook 03): the rates of notebook 03's fine-tuner (every block
   unfrozen, the decay recipe of ``lr_panel(ft, base_lr=3e-3)``, 10 epochs, a warm-up epoch)
   drawn by the old library and by the current one. Before (fixed in 96eca51, 8b1f0df) equal
   rates were drawn on top of each other; after, they share one labelled line.
2. ``strategy_explorer`` (notebook 04): JupyterLab in headless Chromium (the harness of
   ``tests/browser/lab.py``), 999 typed into the "exactly" box, Enter, Tab; the widget is
   photographed. Before (fixed in 9f7ceb5) the log slider snapped the box to 1000.

"Before" is the library of a git worktree of the old commit::

    git worktree add /tmp/before 3acccbc
    python -m tools.before_after_screenshots [--before /tmp/before] [--only lr|explorer]
    git worktree remove --force /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots" / "before_after"

# Run in a child process with PYTHONPATH=<library tree>: draws the rates with that tree's tlkit.
_PLOT_CHILD = """
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import tlkit
from tlkit.plots import plot_lr_per_block
tree, rates, title, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
assert tlkit.__file__.startswith(tree), f"tlkit from {tlkit.__file__}, not {tree}"
ax = plot_lr_per_block(rates, title=title)
ax.figure.savefig(out, dpi=80, bbox_inches="tight")
print(out, "legend:", [t.get_text() for t in ax.get_legend().get_texts()])
"""


def notebook_03_rates() -> dict[str, list[float]]:
    """Each block's rate per epoch, as in notebook 03 (sections 3: lr_panel, then 10 epochs)."""
    from tlkit import FineTuningConfig, PretrainedModel
    from tlkit.datasets import make_transfer_task
    from tlkit.strategies import FineTuner
    from tlkit.widgets import lr_panel

    task = make_transfer_task("high", n_train=100, seed=0)
    ft = FineTuner(PretrainedModel("medium"), task.num_classes, layers_to_unfreeze="all")
    lr_panel(ft, base_lr=3e-3)
    history = ft.train(task.X_train[:80], task.y_train[:80], FineTuningConfig(epochs=10, learning_rate=3e-3, seed=0))
    return {name: list(values) for name, values in history.learning_rates.items()}


def lr_plots(before: Path, out: Path) -> None:
    rates = json.dumps(notebook_03_rates())
    for tag, tree in (("before", before), ("after", REPO)):
        title = f"{tag} the fix: learning rate of each block"
        env = {**os.environ, "PYTHONPATH": str(tree), "OPENBLAS_NUM_THREADS": "1"}
        subprocess.run([sys.executable, "-c", _PLOT_CHILD, str(tree), rates, title,
                        str(out / f"lr_per_block_{tag}.png")], env=env, check=True, cwd=tempfile.gettempdir())


def _notebook(tree: Path | None) -> dict:
    first = (f"import sys\nsys.path.insert(0, {str(tree)!r})\n" if tree else "") + "import tlkit\nprint(tlkit.__file__)"
    second = ('from tlkit.widgets import strategy_explorer\n'
              'e = strategy_explorer(dataset_size=100, similarity="medium")\ne')
    cells = [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
              "source": source} for i, source in enumerate((first, second))]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}


def explorer_shots(before: Path, out: Path, typed: str = "999") -> None:
    sys.path.insert(0, str(REPO / "tests" / "browser"))
    from lab import CHROMIUM_FLAGS, LabPage, LabServer, find_chromium
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("needs chromium (Debian: apt-get install chromium)")
    workdir = Path(tempfile.mkdtemp(prefix="tlkit-before-after-"))
    (workdir / "notebooks").mkdir()
    for tag, tree in (("before", before), ("after", None)):
        (workdir / "notebooks" / f"{tag}.ipynb").write_text(json.dumps(_notebook(tree)))
    server = LabServer(workdir, workdir / "jupyterlab.log").start()
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium, headless=True,
                                             args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
            for index, (tag, tree) in enumerate((("before", before), ("after", REPO))):
                page = LabPage(browser, server, f"{tag}.ipynb", workspace=f"ba{index}", viewport=(1100, 1000))
                page.run_all()
                used = page.execute("print(tlkit.__file__)").strip()
                assert used.startswith(str(tree)), f"{tag}: the kernel imported {used}, not {tree}"
                # the cell output of the explorer; the "exactly" box is its only number input
                area = page.page.locator(".jp-Cell").nth(1).locator(".jp-Cell-outputArea")
                box = area.locator("input[type=number]").first
                box.click()
                page.page.keyboard.press("Control+A")
                page.page.keyboard.type(typed)
                page.page.keyboard.press("Enter")
                page.page.keyboard.press("Tab")
                page.page.wait_for_timeout(1500)  # let the slider's echo come back if it will
                kernel = page.execute("print(e.dataset_size, e.size_slider.value)").strip()
                area.scroll_into_view_if_needed()
                shown = area.bounding_box()  # the controls and the recommendation (not the whole table)
                page.page.screenshot(path=str(out / f"explorer_{tag}.png"), clip={
                    "x": shown["x"], "y": shown["y"], "width": shown["width"], "height": min(shown["height"], 470)})
                print(f"explorer {tag} ({used}): typed {typed}, box shows {box.input_value()}, "
                      f"kernel dataset_size, slider = {kernel}")
                page.close()
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, default=Path("/tmp/before"), help="worktree of the old commit")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", choices=["lr", "explorer"])
    args = parser.parse_args(argv)
    before = args.before.resolve()
    if not (before / "tlkit" / "__init__.py").exists():
        raise SystemExit(f"{before} holds no tlkit: git worktree add {before} 3acccbc")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "lr"):
        lr_plots(before, args.out)
    if args.only in (None, "explorer"):
        explorer_shots(before, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
