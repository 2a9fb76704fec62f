"""The instructor's side of the course: never shipped to students, never importable in a sandbox.

``instructor.grading`` grades a class; ``instructor.build_notebooks`` makes the student
notebooks from ``solutions/``; ``instructor.release`` writes the student bundle;
``instructor.nbgrader_stamp`` adds nbgrader's hidden-test cells.
"""
