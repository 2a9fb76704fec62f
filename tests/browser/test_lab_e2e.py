"""End to end, as a student: every student notebook in JupyterLab in headless Chromium.

JupyterLab starts on a free local port in a scratch copy of notebooks/; each notebook
opens in its own page, Run All runs every cell, and once the kernel is idle:
no cell shows an error and every widget output rendered as live controls. Then each
panel is driven through its controls as a student would (a checkbox click, a slider
drag, numbers typed into a box, the Train button) and the state is read back from the
kernel. A failure saves a screenshot under build/e2e/ (TLKIT_E2E_SHOTS to change it).

Without chromium or Playwright the suite skips with the reason; on CI (CI=true) it
fails instead, so a CI log always shows the browser tests that ran. The tests find
panels by their CSS classes (tlkit-panel, tlkit-size-box, ...), not by notebook text.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from .lab import CHROMIUM_FLAGS, REPO, LabPage, LabServer, find_chromium

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
ON_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
EMOJI_MARKS = "\u2705\u274c\u23f3\u26a0\U0001f389\u2714\u2716"
SHOTS = Path(os.environ.get("TLKIT_E2E_SHOTS", REPO / "build" / "e2e"))


def _cannot_run(reason: str):
    if ON_CI:
        pytest.fail(f"{reason}; CI=true, so the browser suite must run (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    if chromium is None:
        _cannot_run("no chromium on this machine (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _cannot_run("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=chromium, headless=True,
                                          args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def lab(browser):
    workdir = Path(tempfile.mkdtemp(prefix="tlkit-e2e-"))
    LabServer.prepare(workdir)
    server = LabServer(workdir, workdir / "jupyterlab.log")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def opened(browser, lab):
    """{notebook: (LabPage, seconds of Run All)}: each notebook opened and run once, on first use."""
    pages: dict[str, tuple[LabPage, float]] = {}

    def open_notebook(name: str) -> tuple[LabPage, float]:
        if name not in pages:
            page = LabPage(browser, lab, name, workspace=f"e2e{len(pages)}")
            pages[name] = (page, page.run_all())
        return pages[name]

    yield open_notebook
    for page, _ in pages.values():
        try:
            page.close()
        except Exception:  # noqa: BLE001 - a page that failed may not close cleanly
            pass


class _Shots:
    """Save a screenshot of the page when the block fails, then re-raise."""

    def __init__(self, page: LabPage, name: str) -> None:
        self.page, self.name = page, name

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is not None:
            try:
                path = self.page.screenshot(SHOTS / f"{self.name}.png", full_page=False)
                print(f"screenshot of the failure: {path}")
            except Exception as shot_error:  # noqa: BLE001
                print(f"(no screenshot: {shot_error})")
        return False


def _panel_notebook(opened, css: str) -> tuple[LabPage, str, str]:
    """(page, CSS selector of the panel, kernel expression of its Python object) for the first
    panel with CSS class ``css`` in the student notebooks, in notebook order."""
    for name in NOTEBOOKS:
        page, _ = opened(name)
        found = page.page.locator(f".{css}")
        if found.count():
            classes = found.first.get_attribute("class").split()
            model_class = next(c for c in classes if c.startswith("tlkit-model-"))
            model_id = model_class[len("tlkit-model-"):]
            python = (f"[v for v in list(globals().values()) if isinstance(v, __import__('tlkit.widgets')"
                      f".widgets._common.Panel) and v.widget.model_id == '{model_id}'][0]")
            return page, f".{model_class}", python
    pytest.fail(f"no student notebook shows a .{css} panel after Run All")


def _kernel_value(page: LabPage, expression: str) -> str:
    return page.execute(f"print({expression})").strip()


# -- every notebook: runs clean, every widget rendered -------------------------------------

@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_run_all_leaves_no_error_and_no_unrendered_widget(opened, notebook):
    page, seconds = opened(notebook)
    with _Shots(page, f"run-all-{notebook}"):
        print(f"{notebook}: Run All took {seconds:.1f} s")
        assert page.error_outputs() == [], f"{notebook}: cells failed after Run All"
        widgets = page.widget_outputs()
        unrendered = [w for w in widgets if w["rendered"] < w["expected"] or w["broken"]]
        assert not unrendered, f"{notebook}: widget outputs not rendered as controls: {unrendered}"
        assert page.console_errors == [], f"{notebook}: JavaScript errors: {page.console_errors[:3]}"
        # verdicts are words (PASS / FAIL / NOT DONE): an emoji renders as an empty box without an emoji font
        shown = page.page.locator(".jp-Notebook .jp-OutputArea").all_inner_texts()
        marks = sorted({ch for text in shown for ch in text if ch in EMOJI_MARKS})
        assert not marks, f"{notebook}: outputs use emoji marks {marks}; use words"


# -- the panels, driven through their controls ----------------------------------------------

def test_strategy_explorer_keeps_typed_sizes(opened):
    page, panel_css, explorer = _panel_notebook(opened, "tlkit-strategy-explorer")
    box = page.page.locator(f"{panel_css} .tlkit-size-box input").first
    with _Shots(page, "explorer-typed-sizes"):
        for size in (999, 1000, 9999, 10000, 50000, 250, 1234):
            box.fill(str(size))
            box.press("Enter")
            page.page.wait_for_timeout(400)  # let a slider echo come back if it will
            kernel = _kernel_value(page, f"{explorer}.dataset_size")
            page.page.wait_for_timeout(200)
            assert kernel == str(size), f"typed {size}, the kernel holds {kernel}"
            assert box.input_value() == str(size), f"typed {size}, the box shows {box.input_value()}"
            strategy = _kernel_value(page, f"{explorer}.recommendation.strategy")
            expected = _kernel_value(
                page, f"__import__('tlkit').TransferLearningManager.recommend_strategy({size}, "
                      f"{explorer}.similarity.value, {explorer}.architecture.value).strategy")
            assert strategy == expected
        # set_inputs from Python while the widget is on screen: the browser must not round it
        page.execute(f"{explorer}.set_inputs(dataset_size=999)")
        page.page.wait_for_timeout(600)
        assert _kernel_value(page, f"{explorer}.dataset_size") == "999"
        assert box.input_value() == "999"


def test_strategy_explorer_slider_drag_and_dropdown(opened):
    page, panel_css, explorer = _panel_notebook(opened, "tlkit-strategy-explorer")
    with _Shots(page, "explorer-slider"):
        before = int(_kernel_value(page, f"{explorer}.dataset_size"))
        handle = page.page.locator(f"{panel_css} .tlkit-size-slider .noUi-handle").first
        handle.scroll_into_view_if_needed()
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.page.mouse.move(x, y)
        page.page.mouse.down()
        page.page.mouse.move(x + 80, y, steps=8)
        page.page.mouse.up()
        page.page.wait_for_timeout(500)
        after = int(_kernel_value(page, f"{explorer}.dataset_size"))
        assert after > before, f"dragging the size slider right moved the size from {before} to {after}"
        shown = page.page.locator(f"{panel_css} .tlkit-size-box input").first.input_value()
        assert shown == str(after)
        page.page.locator(f"{panel_css} .tlkit-similarity select").first.select_option(index=2)
        page.page.wait_for_timeout(400)
        assert _kernel_value(page, f"{explorer}.similarity.value") == "low"
        text = page.page.locator(f"{panel_css} .tlkit-recommendation").first.inner_text()
        expected = _kernel_value(page, f"{explorer}.recommendation.strategy").replace("_", " ")
        assert "Recommendation" in text and expected.split()[0] in text.lower().replace("-", " ")


def test_freeze_panel_checkbox_freezes_the_block(opened):
    page, panel_css, panel = _panel_notebook(opened, "tlkit-freeze-panel")
    with _Shots(page, "freeze-panel"):
        names = _kernel_value(page, f"' '.join({panel}.names)").split()
        name = names[-1]
        before = _kernel_value(page, f"{panel}.model.is_frozen('{name}')") == "True"
        summary = page.page.locator(f"{panel_css} .tlkit-freeze-summary").first
        text_before = summary.inner_text()
        page.page.locator(f"{panel_css} .tlkit-freeze-{name} input[type=checkbox]").first.click()
        page.page.wait_for_timeout(400)
        after = _kernel_value(page, f"{panel}.model.is_frozen('{name}')") == "True"
        assert after is (not before), f"clicking {name}'s checkbox left is_frozen at {after}"
        count = int(_kernel_value(page, f"{panel}.trainable_parameters()"))
        page.page.wait_for_function(
            "([sel, old]) => document.querySelector(sel).innerText !== old",
            arg=[f"{panel_css} .tlkit-freeze-summary", text_before], timeout=5000)
        assert f"{count:,}" in summary.inner_text()


def test_lr_panel_slider_drag_sets_the_fine_tuners_rate(opened):
    page, panel_css, panel = _panel_notebook(opened, "tlkit-learning-rate-panel")
    with _Shots(page, "lr-panel"):
        names = _kernel_value(page, f"' '.join(n for n in {panel}.names if not {panel}.sliders[n].disabled)").split()
        name = [n for n in names if n != "head"][-1]
        before = float(_kernel_value(page, f"{panel}.rates()['{name}']"))
        handle = page.page.locator(f"{panel_css} .tlkit-lr-{name} .noUi-handle").first
        handle.scroll_into_view_if_needed()
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.page.mouse.move(x, y)
        page.page.mouse.down()
        page.page.mouse.move(x - 60, y, steps=6)
        page.page.mouse.up()
        page.page.wait_for_timeout(500)
        after = float(_kernel_value(page, f"{panel}.rates()['{name}']"))
        used = float(_kernel_value(page, f"{panel}.fine_tuner.layer_learning_rates['{name}']"))
        assert after < before, f"dragging {name}'s slider left moved its rate from {before:g} to {after:g}"
        assert math.isclose(used, after, rel_tol=1e-9), "the fine-tuner does not train at the slider's rate"
        # a rate typed into the slider's readout is kept exactly (not snapped to the slider's grid)
        readout = page.page.locator(f"{panel_css} .tlkit-lr-{name} .widget-readout").first
        readout.click()
        page.page.keyboard.press("Control+A")
        page.page.keyboard.type("0.0002")
        page.page.keyboard.press("Enter")
        page.page.wait_for_timeout(500)
        assert float(_kernel_value(page, f"{panel}.fine_tuner.layer_learning_rates['{name}']")) == 0.0002


def test_dashboard_train_button_trains_and_a_second_press_continues(opened):
    page, panel_css, dash = _panel_notebook(opened, "tlkit-training-dashboard")
    with _Shots(page, "dashboard"):
        runs = int(_kernel_value(page, f"len({dash}.histories)"))
        epochs_before = int(_kernel_value(page, f"{dash}.epochs_done"))
        button = page.page.locator(f"{panel_css} .tlkit-train").first
        button.scroll_into_view_if_needed()
        button.click()
        page.page.wait_for_timeout(500)
        # the kernel answers once the click's training has finished (requests queue behind it)
        assert int(_kernel_value(page, f"len({dash}.histories)")) == runs + 1
        epochs = int(_kernel_value(page, f"{dash}.history.epochs"))
        assert int(_kernel_value(page, f"{dash}.epochs_done")) == epochs_before + epochs
        assert int(_kernel_value(page, f"len({dash}.curves['loss'])")) == epochs_before + epochs
        result = page.page.locator(f"{panel_css} .tlkit-result").first
        page.page.wait_for_function("(sel) => /Done/.test(document.querySelector(sel).innerText)",
                                    arg=f"{panel_css} .tlkit-result", timeout=10_000)
        assert re.search(r"continued", result.inner_text()) or runs == 0

