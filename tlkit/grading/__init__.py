"""Course tooling, not the library: grade a class of filled-in notebooks.

``python -m tlkit.grading SUBMISSIONS_DIR --out OUT_DIR`` (see :mod:`tlkit.grading.grader`).
"""

from tlkit.grading.grader import (  # noqa: F401
    class_summary,
    exercise_cells,
    find_submissions,
    grade_class,
    grade_exercise,
    main,
    write_csv,
    write_feedback,
)
