"""The grader's child process: one student's cells, one exercise, plain data out.

Runs inside the sandbox (:mod:`instructor.grading.sandbox`) as
``python -I -m tlkit.exercises.runner RESULT_FD MEMORY CPU NPROC FSIZE``. It

1. applies the rlimits to itself (soft = hard, so the student cannot raise them);
2. reads the payload from stdin: the exercise id, the student's cells (the imports the
   exercise cell needs, the helper definitions from the cells right above the exercise cell,
   the exercise cell) and the cases' inputs as plain data (never the seed they were
   drawn from, never the expected answers);
3. writes the cells into its (private, empty) working directory and runs them;
4. applies the student's function or class to every case with
   :func:`tlkit.exercises.running.run_cases`: the outputs as plain-data text, nothing
   else. Points are computed by the grader.

Steps 3 and 4 run in a forked *student side*; this process (the *harness*, which runs no
student code and is non-dumpable) keeps the grader's result pipe to itself, reads the
student side's private pipe and sends the grader exactly one frame: the student side's
frame when it wrote exactly one well-formed frame, else a "rejected" frame (several
frames, bytes outside a frame) or a "crashed" one (none). The student side ends with
``os._exit`` (no ``atexit`` handler of the student's runs).
"""

from __future__ import annotations

import ast
import json
import os
import select
import sys
import time
from typing import Any

__all__ = ["FRAME_MAGIC", "encode_frame", "parse_frames", "FrameError", "main"]

FRAME_MAGIC = b"TLKIT-RESULT "
MAX_RESULT_BYTES = 32 << 20


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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _student_side(payload: dict, result_fd: int) -> None:  # pragma: no cover - forked
    """The forked process that runs the student's code; ``result_fd`` is its private pipe."""
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
    _write_all(result_fd, data)
    os._exit(0)


def _collect(pid: int, read_fd: int, limit: int) -> tuple[bytes, int | None]:
    """Read the student side's pipe until EOF (or shortly after it exited); its wait status."""
    data = bytearray()
    status = None
    grace_end = None
    while True:
        ready, _, _ = select.select([read_fd], [], [], 0.05)
        if ready:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            data += chunk[: max(0, limit - len(data))]
            continue
        if status is None:
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done:
                status, grace_end = wait_status, time.monotonic() + 0.5
        elif time.monotonic() > grace_end:
            break  # a leftover process holds the pipe: stop listening
    if status is None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = None
    return bytes(data), status


def harness_frame(exercise_id: Any, data: bytes, status: int | None) -> dict:
    """The one frame the harness sends for what the student side wrote."""
    try:
        frames = parse_frames(data)
    except FrameError as exc:
        return {"exercise": exercise_id, "status": "rejected",
                "reason": f"malformed result channel ({exc})"}
    if len(frames) > 1:
        return {"exercise": exercise_id, "status": "rejected",
                "reason": f"{len(frames)} result frames"}
    if frames:
        return frames[0]
    if status is not None and os.WIFSIGNALED(status):
        why = f"killed by signal {os.WTERMSIG(status)}"
    elif status is not None:
        why = f"exit code {os.waitstatus_to_exitcode(status)}"
    else:
        why = "no exit status"
    return {"exercise": exercise_id, "status": "crashed", "notes": [f"the process died ({why})"]}


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - runs in the sandbox
    """The harness: fork the student side, keep the grader's channel to itself.

    The harness never runs student code. It is made non-dumpable first, so the student
    side (same user) can neither ptrace it nor open its descriptors through /proc; the
    student side gets a private pipe instead of the grader's channel. The student side can
    still kill the harness: then no frame comes back and the exercise gets 0 points.
    """
    argv = sys.argv[1:] if argv is None else argv
    result_fd = int(argv[0])
    set_limits(*(int(a) for a in argv[1:5]))
    _set_dumpable(False)
    payload = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(result_fd)
        os.close(read_fd)
        _student_side(payload, write_fd)
    os.close(write_fd)
    data, status = _collect(pid, read_fd, MAX_RESULT_BYTES)
    frame = harness_frame(payload.get("exercise"), data, status)
    try:
        out = encode_frame(frame)
    except (TypeError, ValueError):
        out = encode_frame({"exercise": payload.get("exercise"), "status": "rejected",
                            "reason": "malformed result channel (not JSON)"})
    _write_all(result_fd, out)
    os._exit(0)


def set_limits(memory_bytes: int, cpu_seconds: int, max_processes: int,
               max_file_bytes: int) -> None:
    """Apply the rlimits to the calling process (soft = hard: they cannot be raised)."""
    import resource

    for which, value in ((resource.RLIMIT_AS, memory_bytes),
                         (resource.RLIMIT_CPU, cpu_seconds),
                         (resource.RLIMIT_NPROC, max_processes),
                         (resource.RLIMIT_FSIZE, max_file_bytes),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))


def _set_dumpable(flag: bool) -> None:
    """prctl(PR_SET_DUMPABLE): a non-dumpable process's /proc files belong to root."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, int(flag), 0, 0, 0)
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":
    main()
