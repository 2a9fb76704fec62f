"""The grader's reader of a sandbox's result frame: hostile bytes in, strict structures out.

No sandbox is needed: these are the bytes a student's code can write on the result
channel (it runs in the process that writes the frame), fed to the grader's reader.
"""

from __future__ import annotations

import json
import time
import tracemalloc

import pytest

from instructor.grading import frames
from instructor.grading.frames import Rejected, quote, read_frame
from tlkit.exercises.runner import MAX_NOTES, encode_frame

CASES = ["a", "b", "hidden 1"]


def _frame(**changes) -> dict:
    frame = {"exercise": "04.1", "status": "ran",
             "notes": [{"cell": 1, "error": "NameError", "line": 3}],
             "outcomes": [{"case": "hidden 1", "status": "ok", "output": '"x"'},
                          {"case": "a", "status": "not_done"},
                          {"case": "b", "status": "error", "error": "ValueError: boom"}]}
    frame.update(changes)
    return frame


def _read(data: bytes | dict, n_cells: int = 3) -> frames.Frame:
    if isinstance(data, dict):
        data = encode_frame(data)
    return read_frame(data, exercise_id="04.1", case_names=CASES, n_cells=n_cells)


def test_a_valid_frame_is_read_in_the_graders_case_order():
    frame = _read(_frame())
    assert frame.status == "ran"
    assert [o["case"] for o in frame.outcomes] == CASES
    assert frame.notes == [frames.Note(1, "NameError", 3)]
    assert frame.notes[0].text(["imports", "helpers", "cell 7"]) == "helpers raised NameError on line 3"
    # the student's exception message survives only quoted
    assert frame.outcomes[1]["error"] == '"ValueError: boom"'


def _raw(body: bytes) -> bytes:
    return b"TLKIT-RESULT " + str(len(body)).encode() + b"\n" + body


@pytest.mark.parametrize("data, reason", [
    (encode_frame(_frame()) * 2, "more than one result frame"),
    (encode_frame(_frame()) + b"\n", "after the result frame"),
    (b"junk" + encode_frame(_frame()), "not a result frame"),
    (encode_frame(_frame())[:-5], "cut short"),
    (b"TLKIT-RESULT x\n{}", "without a length"),
    (_raw(b'{"a": "\xff"}'), "not ASCII"),
    (_raw(b"NaN"), "not valid JSON"),
    (_raw(b'{"exercise": "04.1", "status": "undefined", "status": "ran"}'), "not valid JSON"),
])
def test_the_channel_holds_one_well_formed_frame_and_nothing_else(data, reason):
    with pytest.raises(Rejected, match=reason):
        _read(data)


@pytest.mark.parametrize("changes, reason", [
    ({"points": 10}, "other keys"),
    ({"passed": True}, "other keys"),
    ({"exercise": "02.1"}, "another exercise"),
    ({"status": "passed"}, "unknown status"),
    ({"status": "undefined"}, "outcomes in a 'undefined' result"),
    ({"notes": ["Regraded by the instructor, no review needed"]}, "not {cell, error, line}"),
    ({"notes": [{"cell": 0, "error": "Regraded by the instructor", "line": 1}]}, "not a class name"),
    ({"notes": [{"cell": 0, "error": "X\nTotal: 40 / 40", "line": 1}]}, "not a class name"),
    ({"notes": [{"cell": 9, "error": "NameError", "line": 1}]}, "not sent"),
    ({"notes": [{"cell": 0, "error": "NameError", "line": "1"}]}, "line number"),
    ({"notes": [{"cell": True, "error": "NameError", "line": 1}]}, "not sent"),
    ({"notes": [{"cell": 0, "error": "E", "line": 1}] * (MAX_NOTES + 1)}, "at most|more than"),
])
def test_a_frame_can_claim_nothing_but_outputs(changes, reason):
    with pytest.raises(Rejected, match=reason):
        _read(_frame(**changes))


def _with_outcomes(outcomes):
    return _frame(outcomes=outcomes)


GOOD = _frame()["outcomes"]


@pytest.mark.parametrize("outcomes, reason", [
    (GOOD[:2], "not one outcome for each"),
    (GOOD + [GOOD[0]], "not one outcome for each"),
    (GOOD[:2] + [GOOD[0]], "each case sent exactly once"),
    (GOOD[:2] + [{**GOOD[2], "case": "made up"}], "each case sent exactly once"),
    ([{**GOOD[0], "status": "passed"}] + GOOD[1:], "unknown status"),
    ([{**GOOD[0], "points": 10}] + GOOD[1:], "other keys"),
    ([{**GOOD[0], "output": ["x"]}] + GOOD[1:], "not JSON text"),
    (GOOD[:2] + [{**GOOD[2], "error": "x" * 5000}], "not a short text"),
    (GOOD[:2] + [{**GOOD[2], "kind": "passed"}], "unknown kind"),
    ([{"case": 3, "status": "ok", "output": "1"}] + GOOD[1:], "does not name its case"),
])
def test_exactly_one_typed_outcome_per_case_sent(outcomes, reason):
    with pytest.raises(Rejected, match=reason):
        _read(_with_outcomes(outcomes))


def test_student_text_is_quoted_escaped_and_bounded():
    text = quote("boom\r\nTotal: 40 / 40 points\x1b[2J\u202e" + "x" * 500)
    assert text.startswith('"boom\\x0d\\x0aTotal') and text.endswith('..."')
    assert "\n" not in text and "\r" not in text and "\x1b" not in text and "\u202e" not in text
    assert len(text) < 200
    assert quote('a "quoted" \\ word') == '"a \\"quoted\\" \\\\ word"'


def _peak_while(fn) -> tuple[int, float]:
    tracemalloc.start()
    start = time.monotonic()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, time.monotonic() - start


def test_a_frame_of_millions_of_lists_is_refused_before_it_is_built():
    # 4 MiB of empty lists: json.loads alone would build ~1.3 million lists (~100 MB)
    body = ("[" + ",".join(["[]"] * ((4 << 20) // 3)) + "]").encode()
    data = b"TLKIT-RESULT " + str(len(body)).encode() + b"\n" + body
    peak, seconds = _peak_while(lambda: pytest.raises(Rejected, _read, data))
    assert peak < 3 * len(data), peak  # a copy or two of the text, no list built
    assert seconds < 5
    # the same inside an output (outputs are JSON text inside a string)
    output = "[" + ",".join(["[]"] * 300_000) + "]"
    frame = _frame(outcomes=[{**GOOD[0], "output": output}, *GOOD[1:]])
    with pytest.raises(Rejected, match="more than 100000 JSON arrays"):
        _read(frame)
    # a legitimate array output of the same size (base64 text, one object) is fine
    output = json.dumps({"__ndarray__": "<f8", "shape": [300_000],
                         "data": "A" * (300_000 * 8 * 4 // 3)})
    assert _read(_frame(outcomes=[{**GOOD[0], "output": output}, *GOOD[1:]])).status == "ran"


def test_the_runner_writes_what_the_reader_accepts():
    from tlkit.exercises.runner import _note

    try:
        exec(compile("x = 1\nundefined_name\n", "cell_2.py", "exec"), {})
    except NameError as exc:
        note = _note(1, exc)
    assert note == {"cell": 1, "error": "NameError", "line": 2}
    frame = _read(_frame(notes=[note]))
    assert frame.notes[0].text(["a", "b (helpers)", "c"]) == "b (helpers) raised NameError on line 2"
