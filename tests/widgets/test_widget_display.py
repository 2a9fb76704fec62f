"""Every panel displays through IPython's own display machinery, under ipywidgets 7.7 and 8.

``make test`` runs tests/widgets under both (the main .venv has ipywidgets 8, .venv-ipyw7 has
Colab's 7.7.1). ipywidgets 7 displays through ``_ipython_display_`` and ipywidgets 8 through
``_repr_mimebundle_``: either way a displayed panel publishes the widget view of its box with the
panel's fixed text form.
"""

import ipywidgets as widgets
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from IPython.utils.capture import capture_output

from tlkit import PretrainedModel, TrainingConfig
from tlkit.strategies import FeatureExtractor, FineTuner
from tlkit.widgets import freeze_panel, lr_panel, strategy_explorer, training_dashboard
from tlkit.widgets._common import DISPLAYS_THROUGH_IPYTHON_DISPLAY, WIDGET_VIEW_MIME

MAJOR = int(widgets.__version__.split(".")[0])


def _panels():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 16, size=(12, 8, 8)).astype(np.float32)
    y = np.arange(12) % 2
    return {
        "tlkit freeze panel": freeze_panel(PretrainedModel("simple")),
        "tlkit learning-rate panel": lr_panel(FineTuner(PretrainedModel("simple"), 2, layers_to_unfreeze=["layer2"])),
        "tlkit strategy explorer": strategy_explorer(),
        "tlkit training dashboard": training_dashboard(FeatureExtractor(PretrainedModel("simple"), 2), X, y,
                                                       TrainingConfig(epochs=1, batch_size=6), min_redraw_interval=0),
    }


@pytest.fixture(scope="module")
def shell():
    return InteractiveShell.instance()


def test_the_display_route_matches_the_installed_ipywidgets():
    assert MAJOR in (7, 8), widgets.__version__
    assert DISPLAYS_THROUGH_IPYTHON_DISPLAY == (MAJOR == 7)


@pytest.mark.parametrize("label", list(_panels()))
def test_display_publishes_the_box_view_with_a_fixed_text_form(shell, label):
    panel = _panels()[label]
    with capture_output() as captured:
        display(panel)
        display(panel.widget)
    assert captured.stdout == "" and captured.stderr == ""
    assert len(captured.outputs) == 2
    for output in captured.outputs:
        assert output.data["text/plain"] == f"<{label}>"
        assert output.data[WIDGET_VIEW_MIME]["model_id"] == panel.widget.model_id
    # the bundle the panel reports is what display publishes (nbval compares its text form)
    assert panel._repr_mimebundle_() == captured.outputs[0].data


def test_the_dashboard_trains_after_being_displayed(shell):
    panel = _panels()["tlkit training dashboard"]
    with capture_output() as captured:
        display(panel)
        panel.train_button.click()
    assert captured.stdout == ""
    assert panel.history is not None and len(panel.history.loss) == 1
