"""``make screenshots``: each student notebook after Run All, as PNG pages a teacher can look at.

JupyterLab runs in headless Chromium (as in the browser tests); each notebook is run top to
bottom, then photographed one screen at a time while scrolling:
``docs/screenshots/pages/<notebook>/page-01.png`` ... (not committed: a .gitignore there).
Also written, small enough to commit and shown in the README: ``docs/screenshots/explorer.png``
(the strategy explorer) and ``docs/screenshots/lr_per_block.png`` (the per-block learning-rate
plot of notebook 03).

    python tests/browser/screenshots.py [--out DIR] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab import CHROMIUM_FLAGS, REPO, LabPage, LabServer, find_chromium  # noqa: E402

SCROLLER = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"


def notebook_pages(page: LabPage, folder: Path, max_pages: int = 60) -> list[Path]:
    """Scroll the notebook a screen at a time and save each screen as page-NN.png."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("page-*.png"):
        old.unlink()
    panel = page.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
    height = page.page.evaluate(f"() => document.querySelector('{SCROLLER}').clientHeight")
    shots, position = [], 0
    page.page.evaluate(f"() => document.querySelector('{SCROLLER}').scrollTo(0, 0)")
    for number in range(1, max_pages + 1):
        page.page.wait_for_timeout(250)
        path = folder / f"page-{number:02d}.png"
        panel.screenshot(path=str(path))
        shots.append(path)
        position = page.page.evaluate(
            f"""(step) => {{ const s = document.querySelector('{SCROLLER}');
                 const before = s.scrollTop; s.scrollTop = before + step; return s.scrollTop - before; }}""",
            int(height * 0.9))
        if position <= 0:
            break
    return shots


def element_shot(page: LabPage, selector: str, path: Path) -> Path | None:
    found = page.page.locator(selector)
    if not found.count():
        return None
    found.first.scroll_into_view_if_needed()
    page.page.wait_for_timeout(300)
    found.first.screenshot(path=str(path))
    return path


def output_shot(page: LabPage, source_snippet: str, path: Path) -> Path | None:
    """A screenshot of the outputs of the first code cell whose source holds ``source_snippet``."""
    marked = page.page.evaluate("""(snippet) => {
      for (const cell of window.jupyterapp.shell.currentWidget.content.widgets) {
        if (cell.model.type === 'code' && cell.model.sharedModel.getSource().includes(snippet)) {
          cell.node.querySelector('.jp-Cell-outputArea').setAttribute('data-tlkit-shot', '1');
          return true;
        }
      }
      return false;
    }""", source_snippet)
    return element_shot(page, "[data-tlkit-shot='1']", path) if marked else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebook file names (default: every one in notebooks/)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("make screenshots needs chromium (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    names = args.notebooks or sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    pages_root = args.out / "pages"
    pages_root.mkdir(parents=True, exist_ok=True)
    (pages_root / ".gitignore").write_text("# written by make screenshots: large, not committed\n*\n")
    workdir = Path(tempfile.mkdtemp(prefix="tlkit-shots-"))
    LabServer.prepare(workdir)
    server = LabServer(workdir, workdir / "jupyterlab.log").start()
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium, headless=True,
                                             args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
            for index, name in enumerate(names):
                start = time.monotonic()
                page = LabPage(browser, server, name, workspace=f"shots{index}", viewport=(1200, 1500))
                page.page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
                page.run_all()
                errors = page.error_outputs()
                shots = notebook_pages(page, pages_root / Path(name).stem)
                if name.startswith("04"):
                    element_shot(page, ".tlkit-strategy-explorer", args.out / "explorer.png")
                if name.startswith("03"):
                    output_shot(page, "plot_lr_per_block(history)", args.out / "lr_per_block.png")
                print(f"{name}: {len(shots)} pages in {pages_root / Path(name).stem} "
                      f"({time.monotonic() - start:.0f} s){'; ERRORS: ' + '; '.join(errors) if errors else ''}")
                page.close()
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
