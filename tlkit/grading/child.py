"""The grader's child process: one student's cells, one exercise, plain data out.

Runs inside the sandbox (:mod:`tlkit.grading.sandbox`) as
``python -I -m tlkit.grading.child RESULT_FD MEMORY CPU NPROC FSIZE``. It

1. applies the rlimits to itself (soft = hard, so the student cannot raise them);
2. reads the payload from stdin: the exercise id, the student's cells (the imports the
   exercise cell needs, the helper definitions from the cells right above the exercise cell,
   the exercise cell) and the cases' inputs as plain data (never the seed they were
   drawn from, never the expected answers);
3. writes the cells into its (private, empty) working directory and runs them;
4. applies the student's function or class to every case with
   :func:`tlkit.exercises.running.run_cases` and writes ONE frame to the result pipe:
   the outputs as plain-data text, nothing else. Points are computed by the grader.

The process then ends with ``os._exit`` (no ``atexit`` handler of the student's runs).
Whatever it writes, the grader accepts exactly one well-formed frame per run; a second
frame, bytes outside a frame or a malformed one costs the exercise and is flagged.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from typing import Any

__all__ = ["FRAME_MAGIC", "encode_frame", "parse_frames", "FrameError", "main"]

FRAME_MAGIC = b"TLKIT-RESULT "


class FrameError(ValueError):
    """The result pipe did not hold exactly the frames the protocol allows."""


def encode_frame(obj: Any) -> bytes:
    """``TLKIT-RESULT <n>\\n`` followed by ``n`` bytes of JSON."""
    body = json.dumps(obj, ensure_ascii=True, allow_nan=False).encode("ascii")
    return FRAME_MAGIC + str(len(body)).encode("ascii") + b"\n" + body


def parse_frames(data: bytes, max_frames: int = 16) -> list[Any]:
    """Every frame in ``data``; FrameError for bytes that are not frames."""
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


def _run_cell(label: str, filename: str, source: str, namespace: dict, notes: list[str],
              *, per_statement: bool) -> None:
    """Run one cell; an exception is noted (with its line), never fatal."""
    from tlkit.exercises.running import describe_exception

    source = _strip_magics(source)
    with open(filename, "w", encoding="utf-8") as handle:
        handle.write(source)
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        notes.append(f"{label}: SyntaxError on line {exc.lineno}: {exc.msg}")
        return
    chunks = ([ast.Module(body=[node], type_ignores=[]) for node in tree.body]
              if per_statement else [tree])
    for chunk in chunks:
        try:
            exec(compile(chunk, filename, "exec"), namespace)
        except (Exception, SystemExit) as exc:
            notes.append(f"{label} raised {describe_exception(exc)}")
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
    notes: list[str] = []
    for number, cell in enumerate(payload["cells"], start=1):
        _run_cell(cell["label"], f"cell_{number}.py", cell["source"], namespace, notes,
                  per_statement=cell["role"] != "exercise")
    obj = namespace.get(exercise.name)
    frame: dict[str, Any] = {"exercise": exercise.id, "notes": notes[:20]}
    if obj is None:
        frame["status"] = "undefined"
        return frame
    frame["status"] = "ran"
    frame["outcomes"] = run_cases(exercise, obj, cases)
    return frame


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - runs in the sandbox
    argv = sys.argv[1:] if argv is None else argv
    result_fd = int(argv[0])
    from tlkit.grading.sandbox import set_limits

    set_limits(*(int(a) for a in argv[1:5]))
    payload = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    try:
        frame = run_payload(payload)
    except BaseException as exc:  # noqa: BLE001 - the grader reports it
        frame = {"exercise": payload.get("exercise"), "status": "crashed",
                 "notes": [f"the grading harness failed: {type(exc).__name__}: {exc}"[:300]]}
    data = encode_frame(frame)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    view = memoryview(data)
    while view:
        view = view[os.write(result_fd, view):]
    os._exit(0)


if __name__ == "__main__":
    main()
