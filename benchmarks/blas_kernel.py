"""Which OpenBLAS kernel the benchmarks run with, and which one OpenBLAS actually loaded.

OpenBLAS picks its compute kernel from the CPU model at load time. Its 0.3.31 build in
numpy 2.4 does not know AMD's Zen 5 (CPU family 26) and falls back to the AVX2 "Haswell"
kernel there: float32 GEMM at ~129 GFLOP/s on one core, against ~240 with the AVX-512
"SkylakeX" kernel the CPU can run (``OPENBLAS_CORETYPE=SKYLAKEX``). PyTorch's oneDNN uses
AVX-512 on the same CPU, so the benchmark gives numpy the kernel the CPU supports.

The workbook itself (``make lab``, ``make test``) pins no kernel: its notebooks check claims
with margins, not digits, and ``make nbval-matrix`` runs them under several kernels.
"""

from __future__ import annotations

import re
from pathlib import Path

# What OpenBLAS's SkylakeX kernels execute.
AVX512_FLAGS = ("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The CPU feature flags of the first processor in /proc/cpuinfo (empty where there is none)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return set()
    match = re.search(r"^flags\s*:\s*(.*)$", cpuinfo, flags=re.MULTILINE)
    return set(match.group(1).split()) if match else set()


def fastest_kernel(flags: set[str]) -> str | None:
    """The OpenBLAS core type to force, or None to leave OpenBLAS's own choice."""
    if all(flag in flags for flag in AVX512_FLAGS):
        return "SKYLAKEX"
    if "avx2" in flags and "fma" in flags:
        return "HASWELL"
    return None


def loaded_kernel() -> str:
    """The kernel OpenBLAS reports after loading (needs numpy imported; via threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    for pool in threadpool_info():
        if pool.get("internal_api") == "openblas":
            return str(pool.get("architecture"))
    return "unknown (no OpenBLAS loaded)"
