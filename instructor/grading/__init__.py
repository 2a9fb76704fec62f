"""Course tooling, not the library: grade a class of filled-in notebooks.

``python -m instructor.grading SUBMISSIONS_DIR --out OUT_DIR [--jobs N] [--timeout S]
[--roster FILE] [--exercises IDS] [--seed S]`` (see :mod:`instructor.grading.cli`).

Modules: ``submissions`` (finding files, taking exercise cells out of notebooks, no code
runs), ``sandbox`` (namespaces, limits, bounded reads), ``cgroups`` (memory and process
limits per sandbox), ``uids`` (a user of its own per sandbox), ``frames`` (the sandbox's
result, read as untrusted input), ``grade`` (the class: seeds, cases, scoring in this
process), ``report`` (grades.csv, feedback, summary), ``cli``. What runs inside the
sandbox is :mod:`tlkit.exercises.runner`.
"""

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see :mod:`instructor.grading.cli`)."""
    from instructor.grading.cli import main as cli_main

    return cli_main(argv)
