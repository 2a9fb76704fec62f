"""The sandbox on its own: what the student process sees and what happens to it.

The "namespaces" tests need Linux and root (as in CI); the rlimit and environment tests
also run in the "none" mode, which any machine has.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from instructor.grading import sandbox, uids

ROOT_ONLY = pytest.mark.skipif(sandbox.isolation() != "namespaces",
                               reason="needs the namespace sandbox (Linux, run as root)")
MODES = ["none"] + (["namespaces"] if sandbox.isolation() == "namespaces" else [])


def _python(code: str, limits: sandbox.Limits | None = None, mode: str | None = None,
            stdin: bytes = b"") -> sandbox.Outcome:
    return sandbox.run([sys.executable, "-I", "-c", code, sandbox.FD_TOKEN], stdin,
                       limits or sandbox.Limits(timeout=20), mode)


@pytest.mark.parametrize("mode", MODES)
def test_environment_is_whitelisted_and_the_result_pipe_works(mode, monkeypatch):
    monkeypatch.setenv("TLKIT_TEST_TOKEN", "instructor-secret")
    out = _python("import os, sys; print(sorted(os.environ)); "
                  "os.write(int(sys.argv[1]), sys.stdin.buffer.read())", mode=mode, stdin=b"ping")
    assert out.returncode == 0, out.stderr
    assert out.result == b"ping"
    assert b"TLKIT_TEST_TOKEN" not in out.stdout and b"instructor-secret" not in out.stdout
    assert b"'HOME'" in out.stdout and b"'OPENBLAS_NUM_THREADS'" in out.stdout


@pytest.mark.parametrize("mode", MODES)
def test_limits_set_by_the_child_bind_memory_and_file_size(mode):
    code = ("import sys; from tlkit.exercises.runner import set_limits\n"
            "set_limits(512 << 20, 10, 64, 1 << 20)\n"
            "try:\n    bytearray(1 << 30)\nexcept MemoryError:\n    print('memory refused')\n"
            "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "try:\n    open('big', 'wb').write(b'x' * (2 << 20))\nexcept OSError as e:\n"
            "    print('file refused', e.errno)\n")
    out = sandbox.run([sys.executable, "-c", code], b"",
                      sandbox.Limits(timeout=20), mode) if mode == "none" else _python(code, mode=mode)
    assert b"memory refused" in out.stdout, out.stderr
    assert b"file refused 27" in out.stdout, out.stderr  # EFBIG


@pytest.mark.parametrize("mode", MODES)
def test_output_is_read_with_a_bound_and_the_timeout_kills(mode):
    out = _python("import sys\nsys.stdout.write('x' * (5 << 20))\nsys.stdout.flush()\n"
                  "while True:\n    pass", sandbox.Limits(timeout=3, output_bytes=1000), mode)
    assert out.timed_out and out.returncode is None
    assert len(out.stdout) == 1000 and "stdout" in out.truncated
    assert out.seconds < 10


@ROOT_ONLY
def test_namespaces_hide_the_machine():
    code = ("import os, socket\n"
            "print('uid', os.getuid(), os.getgid(), os.getgroups())\n"
            "print('ppid', os.getppid(), 'pids', sorted(int(p) for p in os.listdir('/proc') "
            "if p.isdigit()))\n"
            "print('cwd', os.getcwd(), os.listdir('.'))\n"
            f"print('repo', os.path.exists({str(os.getcwd())!r} + '/solutions'), "
            "os.path.exists('/root/.ssh'), os.path.exists('/work/shared'))\n"
            "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
            "except OSError as e:\n    print('net', e.errno)\n"
            "try:\n    open('/usr/evil', 'w')\nexcept OSError as e:\n    print('usr', e.errno)\n")
    out = _python(code)
    text = out.stdout.decode()
    assert out.uid in uids.RESERVED  # a user of its own, leased for this run
    assert f"uid {out.uid} {out.uid} []" in text, out.stderr
    assert "ppid 1 pids [1, " in text and len(text.split("pids [", 1)[1].split("]")[0].split(",")) <= 3
    assert "cwd /home/student []" in text
    assert "repo False False False" in text
    assert "net 101" in text  # ENETUNREACH: no network at all
    assert "usr 30" in text or "usr 13" in text  # read-only file system / permission denied


@ROOT_ONLY
def test_the_timeout_kills_detached_grandchildren():
    mark = "7000.25"
    code = (f"import subprocess\nsubprocess.Popen(['sleep', '{mark}'], start_new_session=True)\n"
            "while True:\n    pass\n")
    start = time.monotonic()
    out = _python(code, sandbox.Limits(timeout=2))
    assert out.timed_out and time.monotonic() - start < 10
    time.sleep(0.5)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert f"sleep {mark}" not in ps


def test_isolation_report_says_what_is_not_isolated():
    assert "NO SANDBOX" in sandbox.isolation_report("none")
    assert "Not isolated" in sandbox.isolation_report("namespaces")
    with pytest.raises(ValueError, match="timeout"):
        sandbox.Limits(timeout=0)
    assert os.name != "posix" or sandbox.isolation() in ("none", "namespaces")


@ROOT_ONLY
def test_every_run_gets_a_user_of_its_own():
    code = "import os; print(os.getuid(), os.getgid(), os.stat('.').st_uid)"
    first, second = (sandbox.run([sys.executable, "-I", "-c", code], b"",
                                 sandbox.Limits(timeout=20), "namespaces") for _ in range(2))
    for out in (first, second):
        assert out.uid in uids.RESERVED
        assert out.stdout.split() == [str(out.uid).encode()] * 3, out.stderr
    out = sandbox.run([sys.executable, "-I", "-c", code], b"", sandbox.Limits(timeout=20),
                      "namespaces", uid=61001)
    assert out.stdout.split() == [b"61001", b"61001", b"61001"], out.stderr
    with pytest.raises(ValueError, match="uid"):
        sandbox.run(["true"], b"", sandbox.Limits(), "none", uid=0)


@pytest.mark.parametrize("mode", MODES)
def test_the_instructor_package_cannot_be_imported(mode):
    # -I and a clean working folder and environment: only tlkit (the editable install maps
    # tlkit, not instructor) and the Python installation are importable, in both modes
    code = ("import importlib, tlkit.exercises.registry\n"
            "for name in ('instructor', 'instruc' + 'tor.exercises.ref_04_1', 'tests.grading'):\n"
            "    try:\n        importlib.import_module(name)\n        print('imported', name)\n"
            "    except ImportError as e:\n        print('refused', type(e).__name__)\n"
            "from tlkit.exercises.registry import get_exercise\n"
            "print('reference' in dir(get_exercise('04.1')))\n")
    out = _python(code, mode=mode)
    assert out.stdout.decode().split() == ["refused", "ModuleNotFoundError"] * 3 + ["False"], (
        out.stdout, out.stderr[-800:])


def _can_build_namespaces() -> bool:
    """Root on Linux, the tools installed, and the kernel lets us create the namespaces (an
    unprivileged container does not): then a sandbox that does not start is our bug."""
    if not (sys.platform.startswith("linux") and os.geteuid() == 0
            and all(shutil.which(tool) for tool in sandbox._TOOLS)):
        return False
    bare = ["unshare", "--pid", "--fork", "--net", "--mount", "--uts", "--ipc", "true"]
    return subprocess.run(bare, capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _can_build_namespaces(), reason="no namespaces here (not root, no unshare, or not allowed)")
def test_root_on_linux_gets_the_sandbox_wherever_the_checkout_lives():
    # As root with the tools at hand the sandbox must start; otherwise every ROOT_ONLY test
    # (the hostile demo class included) would skip instead of failing. A checkout under /tmp
    # once did this: the sandbox's private /tmp hid the bound Python and tlkit.
    probe = sandbox.run([sys.executable, "-I", "-c", "print('ok')"], b"",
                        sandbox.Limits(timeout=20), "namespaces")
    assert sandbox.isolation() == "namespaces", (probe.returncode, probe.stderr[-500:])


@pytest.mark.skipif(not _can_build_namespaces(), reason="needs namespaces (root on Linux, unshare allowed)")
def test_a_bound_folder_under_tmp_stays_visible_and_read_only(monkeypatch):
    shared = Path(tempfile.mkdtemp(prefix="tlkit-bound-", dir="/tmp"))
    try:
        (shared / "data.txt").write_text("from the host")
        shared.chmod(0o755)
        (shared / "data.txt").chmod(0o644)
        targets = sandbox._bind_targets() + [str(shared)]
        monkeypatch.setattr(sandbox, "_bind_targets", lambda: targets)
        code = (f"print(open({str(shared / 'data.txt')!r}).read())\n"
                f"try:\n    open({str(shared / 'new.txt')!r}, 'w')\n"
                "except OSError as e:\n    print('write', e.errno)\n")
        out = sandbox.run([sys.executable, "-I", "-c", code], b"", sandbox.Limits(timeout=20), "namespaces")
        text = out.stdout.decode()
        assert "from the host" in text, out.stderr[-500:]
        assert "write 30" in text or "write 13" in text  # read-only file system / permission denied
        assert not (shared / "new.txt").exists()
    finally:
        shutil.rmtree(shared)
