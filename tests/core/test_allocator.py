"""tlkit.allocator: malloc keeps freed memory for reuse (Linux/glibc), and can be switched off."""

import os
import subprocess
import sys

import pytest

import tlkit.allocator as allocator

ON_GLIBC = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None


def tuned_in_fresh_process(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TLKIT_MALLOC"}
    if env_value is not None:
        env["TLKIT_MALLOC"] = env_value
    code = "import tlkit.allocator as a; print(a.MALLOC_TUNED)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.skipif(not ON_GLIBC, reason="mallopt exists only in glibc")
def test_importing_tlkit_tunes_malloc_and_the_opt_out_leaves_it_alone() -> None:
    assert allocator.MALLOC_TUNED or os.environ.get("TLKIT_MALLOC", "").lower() == "default"
    assert tuned_in_fresh_process(None) == "True"
    assert tuned_in_fresh_process("default") == "False"
    assert tuned_in_fresh_process("DEFAULT") == "False"

