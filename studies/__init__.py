"""The course's research scripts (``python -m studies.<name>``) and the results the notebooks read."""

import os


def use_research_engine() -> None:
    """Run a research script's models on the fast engine (``tlkit.nn.fast``), unless ``TLKIT_ENGINE``
    names another: the committed results were measured on it, and it is 1.7-2.9x faster per step."""
    from tlkit.nn import engine

    engine.use(os.environ.get("TLKIT_ENGINE", "fast"))
