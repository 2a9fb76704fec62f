"""Run nbval on the solution notebooks under several BLAS/SIMD kernels and report each one.

The notebooks check the lesson, not the digits: every claim the text makes is asserted with
:func:`tlkit.claims.claim` and outputs that depend on training numerics are tagged
``nbval-ignore-output``. So nbval (strict) must pass whichever kernel sums the floats.
This script runs it once per configuration, each in a fresh process::

    python -m tools.kernel_matrix                      # every configuration, solutions/
    python -m tools.kernel_matrix --only HASWELL SKYLAKEX
    python -m tools.kernel_matrix --paths solutions/01_pretrained_model.ipynb

Configurations: OpenBLAS's ``HASWELL`` (AVX2), ``SKYLAKEX`` (AVX-512) and ``SANDYBRIDGE``
(AVX) kernels via ``OPENBLAS_CORETYPE``, and OpenBLAS's own choice with numpy's AVX-512
loops disabled (``NPY_DISABLE_CPU_FEATURES``). A kernel the CPU cannot run is reported as
skipped. It prints one line per configuration (kernel OpenBLAS loaded, PASS/FAIL, passed and
failed cells, wall time, slowest cell) and exits 1 when any configuration fails.
Only the standard library is used; pytest and nbval run in child processes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBVAL_ARGS = ("--nbval", "--nbval-current-env", "--nbval-sanitize-with", "solutions/nbval_sanitize.cfg",
              "-p", "no:cacheprovider", "--durations=5", "--durations-min=0")  # pyproject's addopts gives -q
NUMPY_NO_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"
# name -> (environment changes, CPU flags the configuration needs)
CONFIGS: dict[str, tuple[dict[str, str | None], tuple[str, ...]]] = {
    "HASWELL": ({"OPENBLAS_CORETYPE": "HASWELL"}, ("avx2", "fma")),
    "SKYLAKEX": ({"OPENBLAS_CORETYPE": "SKYLAKEX"}, ("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")),
    "SANDYBRIDGE": ({"OPENBLAS_CORETYPE": "SANDYBRIDGE"}, ("avx",)),
    "numpy-no-AVX512": ({"OPENBLAS_CORETYPE": None, "NPY_DISABLE_CPU_FEATURES": NUMPY_NO_AVX512}, ()),
}
_CORENAME = (
    "import ctypes, numpy\n"
    "libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'openblas' in l.lower() and '.so' in l})\n"
    "name = 'unknown'\n"
    "for path in libs:\n"
    "    lib = ctypes.CDLL(path)\n"
    "    for symbol in ('scipy_openblas_get_corename64_', 'openblas_get_corename64_', 'openblas_get_corename'):\n"
    "        if hasattr(lib, symbol):\n"
    "            f = getattr(lib, symbol); f.restype = ctypes.c_char_p; name = f().decode()\n"
    "print(name)\n"
)


@dataclass
class Outcome:
    name: str
    kernel: str = "unknown"
    status: str = "NOT RUN"
    passed: int = 0
    failed: int = 0
    seconds: float = 0.0
    slowest: str = ""
    failures: list[str] = field(default_factory=list)


def cpu_flags() -> set[str] | None:
    """The CPU's feature flags, or None where /proc/cpuinfo is not available (then nothing is skipped)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    match = re.search(r"^flags\s*:\s*(.*)$", text, flags=re.MULTILINE)
    return set(match.group(1).split()) if match else None


def environment(changes: dict[str, str | None]) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(key, "1")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def parse(output: str, outcome: Outcome) -> None:
    """Fill the counts, the failing cells and the slowest cell from pytest's output."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", output)  # no colour codes
    summaries = [line for line in text.splitlines() if re.search(r"\d+ (passed|failed|errors?)\b", line)]
    for count, word in re.findall(r"(\d+) (passed|failed|errors?)\b", summaries[-1] if summaries else ""):
        if word == "passed":
            outcome.passed = int(count)
        else:
            outcome.failed += int(count)
    if not summaries:  # -qq prints no summary line: count the progress characters instead
        progress = "".join(re.findall(r"^([.FEsx]+)\s+\[\s*\d+%\]$", text, flags=re.MULTILINE))
        outcome.passed, outcome.failed = progress.count("."), progress.count("F") + progress.count("E")
    outcome.failures = sorted(set(re.findall(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", text, flags=re.MULTILINE)))
    durations = re.findall(r"^([\d.]+)s call\s+(.+?)\s*$", text, flags=re.MULTILINE)
    if durations:
        seconds, cell = max(durations, key=lambda d: float(d[0]))
        outcome.slowest = f"{float(seconds):.1f} s {cell}"


def run(name: str, paths: list[str], python: str, log_dir: Path | None = None) -> Outcome:
    changes, needs = CONFIGS[name]
    outcome = Outcome(name)
    flags = cpu_flags()
    if flags is not None and not all(flag in flags for flag in needs):
        outcome.status = f"SKIPPED (the CPU lacks {', '.join(f for f in needs if f not in flags)})"
        return outcome
    env = environment(changes)
    probe = subprocess.run([python, "-c", _CORENAME], env=env, capture_output=True, text=True, cwd=ROOT)
    outcome.kernel = probe.stdout.strip() or "unknown"
    start = time.perf_counter()
    result = subprocess.run([python, "-m", "pytest", *NBVAL_ARGS, *paths], env=env, capture_output=True,
                            text=True, cwd=ROOT)
    outcome.seconds = time.perf_counter() - start
    parse(result.stdout.strip(), outcome)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / f"nbval-{name}.log").write_text(result.stdout + result.stderr)
    outcome.status = "PASS" if result.returncode == 0 else "FAIL"
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(CONFIGS), help="configurations to run (default: all)")
    parser.add_argument("--paths", nargs="+", default=["solutions/"], help="notebooks or folders (default: solutions/)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs pytest")
    parser.add_argument("--log-dir", type=Path, help="write each configuration's full pytest output there")
    args = parser.parse_args(argv)
    outcomes = []
    for name in args.only or list(CONFIGS):
        outcome = run(name, args.paths, args.python, args.log_dir)
        outcomes.append(outcome)
        print(f"{outcome.name:<16} kernel {outcome.kernel:<12} {outcome.status:<6} {outcome.passed:>3} passed "
              f"{outcome.failed:>3} failed  {outcome.seconds:6.1f} s   slowest cell: {outcome.slowest or '-'}",
              flush=True)
        for failure in outcome.failures:
            print(f"    failed: {failure}", flush=True)
    return 0 if all(o.status == "PASS" or o.status.startswith("SKIPPED") for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
