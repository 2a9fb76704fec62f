"""A sandbox's result frame: untrusted bytes in, validated structures out.

The sandboxed process (:mod:`tlkit.exercises.runner`) runs the student's code, which can
write anything on the result channel, so the frame is read as hostile input:

* at most ``max_bytes`` (the sandbox keeps no more; a longer result is rejected);
* exactly one frame, ``TLKIT-RESULT <n>\\n`` + ``n`` bytes of ASCII JSON, nothing around it;
* parsed with bounded memory: before ``json.loads`` the number of JSON arrays and objects
  outside strings is counted (strings removed by one regular expression) and must fit the
  protocol's shape; the outputs travel as JSON *strings*, whose own arrays and objects are
  counted too (:data:`MAX_OUTPUT_CONTAINERS` for all outputs together), so a frame of
  millions of empty lists is refused before anything is built from it;
* strict types and keys: the exercise sent, one of three statuses, notes that are a cell
  number, an exception class name and a line number (the grader writes the sentence; no
  free text of the student's travels in a note), and exactly one outcome per case name the
  grader sent, each with exactly the keys of its status;
* the error text of a case (the student's exception message) is kept escaped, bounded and
  in quotes, so it cannot pose as the grader's words.

A frame cannot carry points, a "passed" status or another exercise's answers: the grader
scores the outputs itself against expected answers that never entered the sandbox.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tlkit.exercises.runner import FRAME_MAGIC, MAX_NOTES

__all__ = ["Note", "Frame", "Rejected", "read_frame", "quote", "MAX_OUTPUT_CONTAINERS"]

MAX_OUTPUT_CONTAINERS = 100_000  # JSON arrays and objects in all of a frame's outputs
MAX_ERROR_CHARS = 300  # the runner writes at most this (describe_exception)
QUOTED_CHARS = 160  # what the feedback keeps of a student's text
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}")
_STATUSES = ("ran", "undefined", "crashed")
_OUTCOME_KEYS = {"ok": ({"case", "status", "output"},),
                 "not_done": ({"case", "status"},),
                 "error": ({"case", "status", "error"}, {"case", "status", "error", "kind"})}


class Rejected(Exception):
    """The result channel held something else than one valid frame. ``reason`` is the
    grader's own words (never the student's)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Note:
    """A cell that raised: which cell (index into the cells sent), the exception's class name,
    and the line (None when unknown)."""

    cell: int
    error: str
    line: int | None

    def text(self, labels: Sequence[str]) -> str:
        where = f" on line {self.line}" if self.line is not None else ""
        if self.error == "SyntaxError":
            return f"{labels[self.cell]}: SyntaxError{where}; the cell did not run"
        return f"{labels[self.cell]} raised {self.error}{where}"


@dataclass
class Frame:
    status: str  # "ran", "undefined" (no object of the exercise's name) or "crashed"
    notes: list[Note] = field(default_factory=list)
    outcomes: list[dict[str, str]] | None = None  # one per case, in the grader's case order


def quote(text: str, limit: int = QUOTED_CHARS) -> str:
    """``text`` as a quoted, escaped, bounded string: control, format and other unprintable
    characters become escapes, so the text stays on one line and reads as a quotation."""
    text = str(text)
    cut = len(text) > limit
    text = text[:limit]
    out = []
    for char in text:
        if char == '"' or char == "\\":
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return '"' + "".join(out) + ('..."' if cut else '"')


def _containers(data: bytes) -> int:
    """JSON arrays and objects in ``data`` outside its strings."""
    stripped = _STRING.sub(b"", data)
    return stripped.count(b"[") + stripped.count(b"{")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("duplicate key")
        out[key] = value
    return out


def _refuse(name: str) -> Any:
    raise ValueError(f"constant {name}")


def _body(data: bytes, n_cases: int) -> Any:
    if not data.startswith(FRAME_MAGIC):
        raise Rejected(f"{len(data)} byte(s) that are not a result frame")
    newline = data.find(b"\n", 0, len(FRAME_MAGIC) + 12)
    digits = data[len(FRAME_MAGIC):newline] if newline >= 0 else b""
    if not digits.isdigit() or not digits.isascii():
        raise Rejected("a result frame header without a length")
    start = newline + 1
    end = start + int(digits)
    if end > len(data):
        raise Rejected("a result frame cut short")
    if end < len(data):
        extra = len(data) - end
        more = data.startswith(FRAME_MAGIC, end)
        raise Rejected("more than one result frame (a forged result?)" if more else
                       f"{extra} byte(s) after the result frame")
    body = data[start:end]
    if not body.isascii():
        raise Rejected("a result frame that is not ASCII JSON")
    envelope = 1 + 1 + MAX_NOTES + 1 + n_cases  # frame, notes list + notes, outcomes + one each
    if _containers(body) > envelope:
        raise Rejected(f"a result frame with more than {envelope} JSON arrays and objects")
    try:
        return json.loads(body.decode("ascii"), object_pairs_hook=_no_duplicates,
                          parse_constant=_refuse)
    except (ValueError, RecursionError) as exc:
        raise Rejected(f"a result frame that is not valid JSON ({type(exc).__name__})") from None


def _note(raw: Any, n_cells: int) -> Note:
    if type(raw) is not dict or set(raw) != {"cell", "error", "line"}:
        raise Rejected("a note that is not {cell, error, line}")
    cell, error, line = raw["cell"], raw["error"], raw["line"]
    if type(cell) is not int or not 0 <= cell < n_cells:
        raise Rejected("a note about a cell that was not sent")
    if type(error) is not str or not _IDENTIFIER.fullmatch(error):
        raise Rejected("a note whose error is not a class name")
    if line is not None and (type(line) is not int or not 0 <= line <= 10**6):
        raise Rejected("a note with a malformed line number")
    return Note(cell, error, line)


def _outcome(raw: Any) -> dict[str, str]:
    if type(raw) is not dict or type(raw.get("case")) is not str:
        raise Rejected("an outcome that does not name its case")
    status = raw.get("status")
    if type(status) is not str or status not in _OUTCOME_KEYS:
        raise Rejected("an outcome with an unknown status")
    if set(raw) not in _OUTCOME_KEYS[status]:
        raise Rejected(f"a {status!r} outcome with other keys than the protocol's")
    if status == "ok" and type(raw["output"]) is not str:
        raise Rejected("an output that is not JSON text")
    if status == "error":
        if type(raw["error"]) is not str or len(raw["error"]) > MAX_ERROR_CHARS:
            raise Rejected("an error that is not a short text")
        if "kind" in raw and raw["kind"] != "wrong_type":
            raise Rejected("an error of an unknown kind")
        raw = {**raw, "error": quote(raw["error"])}
    return raw


def read_frame(data: bytes, *, exercise_id: str, case_names: Sequence[str], n_cells: int) -> Frame:
    """The one valid frame in ``data``; :class:`Rejected` for anything else.

    ``data`` must be what the sandbox kept (the caller rejects a truncated channel);
    an empty ``data`` is not a frame (the caller reports a crash).
    """
    raw = _body(data, len(case_names))
    if type(raw) is not dict or not set(raw) <= {"exercise", "status", "notes", "outcomes"}:
        raise Rejected("a result frame with other keys than the protocol's")
    if raw.get("exercise") != exercise_id or type(raw.get("exercise")) is not str:
        raise Rejected("a result for another exercise")
    status = raw.get("status")
    if type(status) is not str or status not in _STATUSES:
        raise Rejected("a result frame with an unknown status")
    notes = raw.get("notes", [])
    if type(notes) is not list or len(notes) > MAX_NOTES:
        raise Rejected(f"notes that are not a list of at most {MAX_NOTES}")
    frame = Frame(status, [_note(note, n_cells) for note in notes])
    if status != "ran":
        if "outcomes" in raw:
            raise Rejected(f"outcomes in a {status!r} result")
        return frame
    outcomes = raw.get("outcomes")
    if type(outcomes) is not list or len(outcomes) != len(case_names):
        raise Rejected(f"not one outcome for each of the {len(case_names)} cases")
    checked = [_outcome(o) for o in outcomes]
    by_name = {o["case"]: o for o in checked}
    if len(by_name) != len(checked) or set(by_name) != set(case_names):
        raise Rejected("outcomes that do not name each case sent exactly once")
    total = sum(_containers(o["output"].encode("utf-8", "replace")) for o in checked
                if o["status"] == "ok")
    if total > MAX_OUTPUT_CONTAINERS:
        raise Rejected(f"outputs with more than {MAX_OUTPUT_CONTAINERS} JSON arrays and objects")
    frame.outcomes = [by_name[name] for name in case_names]
    return frame
