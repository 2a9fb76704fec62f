"""The grader's sandboxed process: one student's cells, one exercise, plain data out.

The grader (``python -m instructor.grading``) starts this module in a fresh interpreter
inside its sandbox, never as a fork of anything of its own::

    python -I -m tlkit.exercises.runner RESULT_FD MEMORY CPU NPROC FSIZE NOFILE

``-I`` (isolated mode) ignores ``PYTHONPATH``, the user's site folder and the working
folder, so only the installed ``tlkit`` (the student's library, which holds no reference
solution and no hidden case) and the Python installation are importable. The process

1. applies the rlimits to itself (soft = hard, so the student cannot raise them);
2. reads the payload from stdin: the exercise id, the student's cells (the imports the
   exercise cell needs, the helper definitions from the cells right above it, the exercise
   cell) and the cases' names and inputs as plain data. Nothing else of the grader reaches
   it: no seed, no expected answer, no reference, no grading state;
3. writes the cells into its (private, empty) working directory and runs them;
4. applies the student's function or class to every case with
   :func:`tlkit.exercises.running.run_cases` and writes exactly one frame,
   ``TLKIT-RESULT <n>\\n`` + ``n`` bytes of JSON, to ``RESULT_FD``; then ``os._exit(0)``.

Why a frame the student forges is worth no more than honest code
-----------------------------------------------------------------
The student's code runs in this very process, so it can write to ``RESULT_FD`` itself
(or do anything else this process can). The grader therefore trusts nothing in the frame:
it reads at most a few MiB, parses it with bounded memory, checks every type, takes
exactly one outcome per case name it sent, renders notes from its own templates (a note
is a cell number, an exception class name and a line number: no free text), and computes
the points itself by comparing each decoded output with the expected answer, which it
computes in its own process from the reference solution. Expected answers of hidden cases
never enter this process (only the inputs do), so a forged frame can only hold outputs,
and an output earns exactly what a function returning that output would have earned:
forging buys nothing that writing the function does not. A frame cannot claim points, a
status of "passed", or another exercise's result; a malformed one costs the exercise.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from typing import Any

__all__ = ["FRAME_MAGIC", "encode_frame", "parse_frames", "FrameError", "run_payload",
           "set_limits", "main", "MAX_NOTES"]

FRAME_MAGIC = b"TLKIT-RESULT "
MAX_NOTES = 20


class FrameError(ValueError):
    """The result channel did not hold exactly the frames the protocol allows."""


def encode_frame(obj: Any) -> bytes:
    """``TLKIT-RESULT <n>\\n`` followed by ``n`` bytes of JSON."""
    body = json.dumps(obj, ensure_ascii=True, allow_nan=False).encode("ascii")
    return FRAME_MAGIC + str(len(body)).encode("ascii") + b"\n" + body


def parse_frames(data: bytes, max_frames: int = 16) -> list[Any]:
    """Every frame in ``data``; FrameError for bytes that are not frames.

    The grader does not use this on untrusted data (see
    :mod:`instructor.grading.frames`, which bounds the parse's memory); it is the
    protocol's reference reader.
    """
    frames: list[Any] = []
    position = 0
    while position < len(data):
        if len(frames) >= max_frames:
            raise FrameError(f"more than {max_frames} frames")
        if not data.startswith(FRAME_MAGIC, position):
            raise FrameError(f"{len(data) - position} byte(s) outside a frame")
        newline = data.find(b"\n", position, position + len(FRAME_MAGIC) + 12)
        digits = data[position + len(FRAME_MAGIC):newline] if newline >= 0 else b""
        if not digits.isdigit():
            raise FrameError("a frame header without a length")
        start = newline + 1
        end = start + int(digits)
        if end > len(data):
            raise FrameError("a frame cut short")
        try:
            frames.append(json.loads(data[start:end].decode("ascii")))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise FrameError(f"a frame that is not JSON ({type(exc).__name__})") from None
        position = end
    return frames


def _strip_magics(source: str) -> str:
    """IPython magics and shell escapes (``%...``, ``!...``) become ``pass``."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return "pass  # cell magic skipped by the grader\n"
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            out.append(line[: len(line) - len(stripped)] + "pass  # magic skipped by the grader")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def _note(cell: int, exc: BaseException) -> dict[str, Any]:
    """A structured note: the grader writes the sentence, the student's text never travels."""
    line = None
    if isinstance(exc, SyntaxError):
        line = exc.lineno
    else:
        traceback = exc.__traceback__
        while traceback is not None:  # the last frame in this cell's file
            if traceback.tb_frame.f_code.co_filename == f"cell_{cell + 1}.py":
                line = traceback.tb_lineno
            traceback = traceback.tb_next
    return {"cell": cell, "error": type(exc).__name__, "line": line if type(line) is int else None}


def _run_cell(cell: int, source: str, namespace: dict, notes: list[dict], *,
              per_statement: bool) -> None:
    """Run one cell; an exception is noted (class name and line), never fatal."""
    filename = f"cell_{cell + 1}.py"
    source = _strip_magics(source)
    with open(filename, "w", encoding="utf-8") as handle:
        handle.write(source)
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        notes.append(_note(cell, exc))
        return
    chunks = ([ast.Module(body=[node], type_ignores=[]) for node in tree.body]
              if per_statement else [tree])
    for chunk in chunks:
        try:
            exec(compile(chunk, filename, "exec"), namespace)
        except (Exception, SystemExit) as exc:
            notes.append(_note(cell, exc))
            if not per_statement:
                return


def run_payload(payload: dict) -> dict:
    """Run the cells and the cases of ``payload``; the frame to send."""
    import numpy as np

    from tlkit.exercises.plain import decode
    from tlkit.exercises.registry import Case, get_exercise
    from tlkit.exercises.running import run_cases

    exercise = get_exercise(payload["exercise"])
    cases = [Case(name=c["name"], inputs=decode(c["inputs"])) for c in payload["cases"]]
    namespace: dict[str, Any] = {"__name__": "__main__", "np": np,
                                 "display": lambda *args, **kwargs: None}
    notes: list[dict] = []
    for number, cell in enumerate(payload["cells"]):
        _run_cell(number, cell["source"], namespace, notes,
                  per_statement=cell["role"] != "exercise")
    obj = namespace.get(exercise.name)
    frame: dict[str, Any] = {"exercise": exercise.id, "notes": notes[:MAX_NOTES]}
    if obj is None:
        frame["status"] = "undefined"
        return frame
    frame["status"] = "ran"
    frame["outcomes"] = run_cases(exercise, obj, cases)
    return frame


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - runs in the sandbox
    argv = sys.argv[1:] if argv is None else argv
    result_fd = int(argv[0])
    set_limits(*(int(a) for a in argv[1:6]))
    payload = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    exercise_id = payload.get("exercise")
    try:
        data = encode_frame(run_payload(payload))
    except BaseException:  # noqa: BLE001 - the grader reports a crash, without free text
        data = encode_frame({"exercise": exercise_id, "status": "crashed", "notes": []})
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    _write_all(result_fd, data)
    os._exit(0)  # no atexit handler, no finaliser of the student's objects runs


def set_limits(memory_bytes: int, cpu_seconds: int, max_processes: int,
               max_file_bytes: int, max_open_files: int = 128) -> None:
    """Apply the rlimits to the calling process (soft = hard: they cannot be raised).

    These are per process (``RLIMIT_NPROC``: per user); the sandbox's cgroup bounds the
    memory and the number of processes of the whole sandbox where cgroups are available.
    """
    import resource

    for which, value in ((resource.RLIMIT_AS, memory_bytes),
                         (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_NPROC, max_processes),
                         (resource.RLIMIT_FSIZE, max_file_bytes),
                         (resource.RLIMIT_NOFILE, max_open_files),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))


if __name__ == "__main__":
    main()
