"""Limits per sandbox, not per process: memory (in-memory files and children included),
processes, open files, and a user of its own that no concurrent run shares.

The cgroup tests need root on Linux with the memory and pids controllers (cgroup v1 or
v2), as the grading machines have; the open-file limit and the uid leases are tested
everywhere. Never a fork bomb: every spawner is bounded, and the limits make it safe.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from instructor.grading import cgroups, sandbox, uids

ROOT = Path(__file__).resolve().parents[2]
CGROUPS = pytest.mark.skipif(
    cgroups.support().version is None or cgroups.support().memory_parent is None
    or cgroups.support().pids_parent is None,
    reason="needs memory and pids cgroups (root on Linux)")
NAMESPACES = pytest.mark.skipif(sandbox.isolation() != "namespaces",
                                reason="needs the namespace sandbox (Linux, run as root)")
MODES = ["none"] + (["namespaces"] if sandbox.isolation() == "namespaces" else [])
MIB = 1 << 20


def _python(code: str, limits: sandbox.Limits, mode: str | None = None) -> sandbox.Outcome:
    return sandbox.run([sys.executable, "-I", "-c", code], b"", limits, mode)


def _available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemAvailable in /proc/meminfo")


class HostMemory:
    """The host's MemAvailable before, at its lowest during, and after a block."""

    def __enter__(self):
        self.before = _available()
        self.lowest = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.01):
            self.lowest = min(self.lowest, _available())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        time.sleep(0.2)
        self.after = _available()

    def line(self, what: str) -> str:
        return (f"{what}: host MemAvailable before {self.before / 2**30:.2f} GiB, lowest during "
                f"{self.lowest / 2**30:.2f} GiB (drop {(self.before - self.lowest) / 2**30:.2f} "
                f"GiB), after {self.after / 2**30:.2f} GiB")


SET_LIMITS = ("import os, sys\nfrom tlkit.exercises.runner import set_limits\n"
              "set_limits({memory}, 60, 4096, 64 << 20)\n")


@CGROUPS
@pytest.mark.parametrize("mode", MODES)
def test_an_in_memory_file_cannot_grow_past_the_sandbox_memory(mode):
    # RLIMIT_AS (set here as the runner sets it) does not count memfd pages, and
    # RLIMIT_FSIZE bounds one file, not 48 of them: only the sandbox's cgroup stops this
    limit = 512 * MIB
    code = SET_LIMITS.format(memory=limit) + (
        "chunk = b'x' * (32 << 20)\nfiles = []\n"
        "for i in range(1, 49):  # 48 files of 32 MiB: 1.5 GiB\n"
        "    files.append(os.memfd_create(f'hoard{i}'))\n"
        "    os.write(files[-1], chunk)\n    print(i * 32, flush=True)\n")
    with HostMemory() as host:
        out = _python(code, sandbox.Limits(timeout=30, memory_bytes=limit), mode)
    print(host.line(f"memfd of 1.5 GiB, --memory 512 MiB ({mode})"))
    written = int(out.stdout.split()[-1]) if out.stdout.split() else 0
    assert written < 512, (written, out.stderr[-500:])
    assert out.oom_killed and out.returncode != 0
    assert out.peak_memory is not None and out.peak_memory <= limit
    print(f"  wrote {written} MiB before the kill; sandbox peak {out.peak_memory / MIB:.0f} MiB")


@CGROUPS
def test_three_children_of_1_5_gib_share_the_sandbox_memory():
    limit = 2048 * MIB  # the grader's default --memory
    code = SET_LIMITS.format(memory=limit) + (
        "import time\nkids = []\n"
        "for k in range(3):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        block = b'x' * (1536 << 20)  # 1.5 GiB, every page written\n"
        "        time.sleep(1.5)\n"
        "        os._exit(0)\n"
        "    kids.append(pid)\n"
        "for pid in kids:\n"
        "    _, status = os.waitpid(pid, 0)\n"
        "    print('ok' if status == 0 else 'killed', flush=True)\n")
    with HostMemory() as host:
        out = _python(code, sandbox.Limits(timeout=40, memory_bytes=limit))
    print(host.line("3 children x 1.5 GiB, --memory 2048 MiB"))
    words = out.stdout.decode().split()
    print(f"  children: {words}; sandbox peak {out.peak_memory / MIB:.0f} MiB")
    assert len(words) == 3, out.stderr[-500:]  # the parent survived to report
    assert words.count("ok") <= 1 and out.oom_killed
    assert out.peak_memory <= limit
    # the host gave the sandbox at most its limit (other work on the machine adds noise)
    assert host.before - host.lowest < 3 * 1536 * MIB


@CGROUPS
@pytest.mark.parametrize("mode", MODES)
def test_the_process_limit_counts_the_whole_sandbox(mode):
    code = SET_LIMITS.format(memory=2 << 30) + (
        "import subprocess\nkids, refused = [], 0\n"
        "for _ in range(100):  # bounded\n"
        "    try:\n        kids.append(subprocess.Popen(['sleep', '20']))\n"
        "    except OSError:\n        refused += 1\n"
        "print(len(kids), refused, flush=True)\n"
        "for kid in kids:\n    kid.kill()\n")
    out = _python(code, sandbox.Limits(timeout=30, max_processes=64), mode)
    started, refused = (int(w) for w in out.stdout.split())
    assert started < 64 and refused == 100 - started, out.stderr[-300:]
    assert out.forks_refused > 0


@pytest.mark.parametrize("mode", MODES)
def test_the_open_file_limit_is_low(mode):
    code = ("from tlkit.exercises.runner import set_limits\nset_limits(2 << 30, 60, 4096, 1 << 20)\n"
            "files = []\ntry:\n    for _ in range(1000):\n        files.append(open('/dev/null'))\n"
            "except OSError as e:\n    print(len(files), e.errno)\n")
    out = _python(code, sandbox.Limits(timeout=20), mode)
    opened, errno = (int(w) for w in out.stdout.split())
    assert opened < 128 and errno == 24, out.stderr[-300:]  # EMFILE


@CGROUPS
def test_no_cgroup_is_left_behind_and_leftovers_are_killed():
    mark = "7000.75"
    code = (f"import subprocess\nsubprocess.Popen(['sleep', '{mark}'], start_new_session=True)\n")
    out = _python(code, sandbox.Limits(timeout=20), "none")  # no PID namespace to kill it
    assert out.returncode == 0
    time.sleep(0.3)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert f"sleep {mark}" not in ps  # the cgroup's members were killed at the end
    support = cgroups.support()
    for parent in {support.memory_parent, support.pids_parent}:
        mine = [n for n in os.listdir(parent) if n.startswith(f"{cgroups.PREFIX}{os.getpid()}-")]
        assert mine == [], parent


def test_the_report_names_the_limits_that_cannot_be_applied(monkeypatch):
    none = cgroups.Support(None, None, None, False, ("the grader is not root, so it cannot "
                                                    "create cgroups",))
    monkeypatch.setattr(cgroups, "support", lambda: none)
    report = sandbox.isolation_report("none")
    assert "Limits NOT applied" in report and "cannot create cgroups" in report
    assert "per-user process limit is shared" in report
    assert sandbox.limits_not_applied("none")[0].startswith("the grader is not root")


# --------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------


def test_leases_never_share_a_uid():
    with uids.Lease(40) as first, uids.Lease(40) as second:
        assert len(set(first.uids)) == 40 and not set(first.uids) & set(second.uids)
        assert all(uid in uids.RESERVED for uid in first.uids + second.uids)
    with pytest.raises(ValueError, match="count"):
        uids.Lease(0)


@pytest.mark.skipif(os.geteuid() != 0, reason="starting a process under another uid needs root")
def test_a_uid_some_process_runs_under_is_never_leased(monkeypatch):
    busy = uids.RESERVED.start + 4242
    other = subprocess.Popen(["setpriv", f"--reuid={busy}", f"--regid={busy}", "--clear-groups",
                              "sleep", "30"])
    try:
        deadline = time.monotonic() + 5
        while busy not in uids.uids_in_use() and time.monotonic() < deadline:
            time.sleep(0.02)
        monkeypatch.setattr(uids, "RESERVED", range(busy, busy + 2))
        with uids.Lease() as lease:
            assert lease.uids == [busy + 1]
            with pytest.raises(uids.UidError):
                uids.Lease(attempts=50)  # busy runs a process, busy + 1 is leased
    finally:
        other.kill()
        other.wait()


def test_a_uid_another_grader_holds_is_never_leased(monkeypatch):
    held = uids.RESERVED.start + 31337
    code = ("import sys, time\nfrom instructor.grading import uids\n"
            f"uids.RESERVED = range({held}, {held + 1})\n"
            "lease = uids.Lease()\nprint(lease.uids[0], flush=True)\ntime.sleep(60)\n")
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert other.stdout.readline().split() == [str(held).encode()]
        monkeypatch.setattr(uids, "RESERVED", range(held, held + 1))
        with pytest.raises(uids.UidError):
            uids.Lease(attempts=20)
    finally:
        other.kill()
        other.wait()
    with uids.Lease() as lease:  # the kernel dropped the other grader's lock when it died
        assert lease.uids == [held]


def test_cgroup_v2_groups_get_memory_max_no_swap_and_pids_max(tmp_path, monkeypatch):
    # No cgroup v2 controllers on these machines: a folder stands in for the cgroup2 mount,
    # so this checks which files the grader writes (the kernel's side is not exercised).
    own = tmp_path / "grader.scope"
    own.mkdir()
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.subtree_control").write_text("memory pids\n")
    (own / "memory.swap.max").write_text("max\n")
    monkeypatch.setattr(cgroups, "_mounts", lambda: [(str(tmp_path), "/", "cgroup2", "rw")])
    monkeypatch.setattr(cgroups, "_own_paths", lambda: {"": "/grader.scope"})
    support = cgroups._v2()
    assert (support.version, support.memory_parent, support.swap_limited) == (2, str(own), True)
    assert "cgroup v2 per sandbox: memory" in support.describe()
    group = cgroups.Group(300 * MIB, 64, where=support)
    folder = Path(group.memory_folder)
    (folder / "memory.swap.max").write_text("max")  # the kernel makes it; the grader then writes 0
    group._limit_memory(300 * MIB)
    assert (folder / "memory.max").read_text() == str(300 * MIB)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "pids.max").read_text() == "64"
    assert group.procs_files() == [str(folder / "cgroup.procs")]
    assert group.wrap(["python"])[-3:] == [str(folder / "cgroup.procs"), "--", "python"]
    # a grader whose own group cannot delegate the controllers says so
    (own / "cgroup.subtree_control").write_text("")
    monkeypatch.setattr(cgroups, "_write", lambda path, value: (_ for _ in ()).throw(
        OSError(16, "Device or resource busy")))
    refused = cgroups._v2()
    assert refused.version is None and "cannot enable the memory and pids" in refused.missing[0]
