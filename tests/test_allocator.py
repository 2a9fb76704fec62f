"""benchmarks.allocator: importing tlkit leaves malloc alone; the benchmarks' explicit opt-in tunes it (glibc)."""

import os
import subprocess
import sys

import pytest

ON_GLIBC = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None


def run_fresh(code: str, tlkit_malloc: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TLKIT_MALLOC"}
    if tlkit_malloc is not None:
        env["TLKIT_MALLOC"] = tlkit_malloc
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_importing_tlkit_does_not_call_mallopt() -> None:
    # Replace mallopt's lookup before importing tlkit: any call on import would be recorded.
    code = (
        "import ctypes\n"
        "calls = []\n"
        "real = ctypes.CDLL\n"
        "class Spy:\n"
        "    def __init__(self, *a, **k): pass\n"
        "    @property\n"
        "    def mallopt(self):\n"
        "        calls.append(1)\n"
        "        return real(None).mallopt\n"
        "ctypes.CDLL = Spy\n"
        "import tlkit, benchmarks.allocator\n"
        "print(len(calls))\n"
    )
    assert run_fresh(code) == "0"


@pytest.mark.skipif(not ON_GLIBC, reason="mallopt exists only in glibc")
def test_the_explicit_opt_in_tunes_malloc_and_the_environment_can_veto_it() -> None:
    code = "import benchmarks.allocator as a; print(a.keep_freed_memory())"
    assert run_fresh(code) == "True"
    assert run_fresh(code, "default") == "False"
    assert run_fresh(code, "DEFAULT") == "False"
