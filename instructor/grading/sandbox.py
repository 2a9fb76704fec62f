"""Run one untrusted Python process with limits, in Linux namespaces where possible.

``run(argv, stdin, limits)`` starts ``argv`` (a command that runs inside the sandbox),
feeds it ``stdin``, and returns what it wrote to stdout, stderr and to a separate
result pipe (its descriptor number replaces :data:`FD_TOKEN` in ``argv``), each read with a
bound. What comes back is untrusted: the grader validates it (:mod:`instructor.grading.frames`).

Isolation modes (:func:`isolation`):

``"namespaces"`` (the grader runs as root on Linux and ``unshare``, ``chroot`` and
``setpriv`` work): the process gets its own PID, network (no interface but a downed
loopback) and mount namespaces; a fresh root file system made of a small tmpfs with
read-only bind mounts of the system folders, the Python installation and the ``tlkit``
package only (no ``instructor`` package, so no reference solution and no hidden case; no
submissions, no ``solutions/``, no output folder, no home folders); a private tmpfs
``/tmp`` and a private, empty tmpfs working directory ``/home/student``; a whitelisted
environment; an unprivileged user of its own (a uid leased for this sandbox alone from a
reserved range, see :mod:`instructor.grading.uids`; no supplementary groups, no new
privileges). The namespace's init is a root shell that waits for the student process: when
it exits, or when the grader kills it at the timeout, the kernel kills every process left
in the namespace, detached grandchildren included.

``"none"`` (anything else): the process runs as the grader's user in a fresh empty
temporary folder with the whitelisted environment and the same rlimits, in its own
session that is killed at the timeout (and, where cgroups work, every process left in its
cgroup); ``python -I`` with that clean folder and environment still cannot import the
``instructor`` package (the editable install maps ``tlkit`` only), but the process can
read every file the grader can. The grader prints a warning for this mode.

Limits per sandbox, where cgroups work (:mod:`instructor.grading.cgroups`): memory (every
process of the sandbox, its in-memory files and tmpfs pages included; no swap) and the
number of processes and threads. Per process, in both modes, the child applies rlimits to
itself before any student code runs (see :mod:`tlkit.exercises.runner`): address space,
CPU seconds, processes of its user, size of a written file, open files.
:func:`isolation_report` says which limits could not be applied.
"""

from __future__ import annotations

import os
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import tlkit
from instructor.grading import cgroups, uids

__all__ = ["Limits", "Outcome", "FD_TOKEN", "isolation", "isolation_report", "limits_not_applied",
           "run", "child_env"]

FD_TOKEN = "{result_fd}"  # replaced in the command by the result pipe's descriptor number
_GRACE = 1.0  # seconds to keep reading after the main process exited
STUDENT_HOME = "/home/student"
# The only package of this repository the sandbox sees: the student's library (no grader, no references).
_TLKIT_DIR = str(Path(tlkit.__file__).resolve().parent)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run."""

    timeout: float = 30.0  # wall-clock seconds, then the whole process tree is killed
    memory_bytes: int = 2 << 30  # the sandbox's cgroup (all its processes) and RLIMIT_AS
    cpu_seconds: int = 60  # RLIMIT_CPU
    max_processes: int = 64  # the cgroup's pids.max, and RLIMIT_NPROC of the sandbox's user
    max_file_bytes: int = 64 << 20  # RLIMIT_FSIZE
    open_files: int = 128  # RLIMIT_NOFILE
    output_bytes: int = 64 << 10  # stdout and stderr kept, each
    result_bytes: int = 4 << 20  # result pipe kept (a longer result is rejected)
    tmpfs_bytes: int = 64 << 20  # size of /tmp and of the working directory (namespaces)

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout}")
        for name in ("memory_bytes", "cpu_seconds", "max_processes", "max_file_bytes",
                     "open_files", "output_bytes", "result_bytes", "tmpfs_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive int, got {value!r}")

    def child_args(self) -> list[str]:
        """The limits as command-line arguments of :mod:`tlkit.exercises.runner`."""
        return [str(self.memory_bytes), str(self.cpu_seconds), str(self.max_processes),
                str(self.max_file_bytes), str(self.open_files)]


@dataclass
class Outcome:
    """What a sandboxed run left behind."""

    returncode: int | None
    timed_out: bool
    stdout: bytes
    stderr: bytes
    result: bytes
    truncated: tuple[str, ...]  # names of the streams cut at their bound
    seconds: float
    mode: str
    uid: int | None = None  # the sandbox's user ("namespaces")
    peak_memory: int | None = None  # the sandbox's cgroup peak, bytes (None: no memory cgroup)
    oom_killed: bool = False  # the kernel killed a process for the sandbox's memory limit
    forks_refused: int = 0  # forks the sandbox's process limit refused


def child_env(home: str) -> dict[str, str]:
    """The whitelisted environment of the student process (nothing of the grader's)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": "/tmp" if home == STUDENT_HOME else home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.mpl",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


# --------------------------------------------------------------------------------------
# Which isolation is available
# --------------------------------------------------------------------------------------

_TOOLS = ("unshare", "chroot", "setpriv", "mount", "sh")


@lru_cache(maxsize=1)
def isolation() -> str:
    """"namespaces" when a probe sandbox starts as its own user with no network; else "none"."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return "none"
    if any(shutil.which(tool) is None for tool in _TOOLS):
        return "none"
    probe = "import os, socket, sys; print(os.getuid(), os.getppid(), len(socket.if_nameindex()))"
    try:
        with uids.Lease() as lease:
            uid = lease.uids[0]
            outcome = _run_namespaces([sys.executable, "-I", "-c", probe], b"", Limits(timeout=20),
                                      uid)
    except (OSError, uids.UidError):
        return "none"
    words = outcome.stdout.decode("ascii", "replace").split()
    # its own user, child of the namespace's init (PID 1), no network interface but the loopback
    if outcome.returncode == 0 and words == [str(uid), "1", "1"]:
        return "namespaces"
    return "none"


def limits_not_applied(mode: str | None = None) -> list[str]:
    """The limits this grader cannot apply here, one sentence each (empty: all applied)."""
    mode = mode or isolation()
    missing = list(cgroups.support().missing)
    if mode != "namespaces":
        missing.append("no sandbox user of its own: the code runs as the grader's user, so the "
                       "per-user process limit is shared with every process of that user")
    return missing


def isolation_report(mode: str | None = None) -> str:
    """One paragraph saying what is and is not isolated in this mode, and which limits hold."""
    mode = mode or isolation()
    limits = cgroups.support().describe()
    missing = limits_not_applied(mode)
    tail = (" Limits NOT applied: " + "; ".join(missing) + ".") if missing else ""
    if mode == "namespaces":
        return ("sandbox: Linux namespaces (own PID, network and mount namespaces), a private root "
                "file system with only the system, Python and tlkit (read-only; no reference "
                "solutions), a user of its own per sandbox (a leased uid no other process has), "
                f"whitelisted environment; {limits}; rlimits on memory, CPU, processes, file size "
                "and open files; the whole process tree is killed at the timeout. Not isolated: "
                "CPU and memory bandwidth are shared with the machine; kernel bugs are not "
                "defended against." + tail)
    return ("WARNING: NO SANDBOX. Student code runs as this user with only rlimits (memory, CPU, "
            f"processes, file size, open files) and {limits}, an empty working folder and a "
            "whitelisted environment: it CAN read every file this user can (other submissions, "
            "solutions/, the instructor package's files), use the network and, without cgroups, "
            "leave processes that start their own session running after the timeout. Run the "
            "grader as root on Linux (it then uses unshare + chroot + setpriv), or grade "
            "untrusted submissions with nbgrader in containers (see the README)." + tail)


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------


def run(argv: list[str], stdin: bytes, limits: Limits, mode: str | None = None,
        uid: int | None = None) -> Outcome:
    """Run ``argv`` sandboxed (``mode`` defaults to :func:`isolation`).

    In "namespaces" mode the process runs as ``uid``, by default a uid leased for this run
    alone (:class:`instructor.grading.uids.Lease`): a user's process limit and its right to
    signal count per uid, so no two sandboxes may share one. Where cgroups work, the run
    gets a cgroup of its own with ``limits.memory_bytes`` and ``limits.max_processes``,
    removed (with anything left in it) when the run is over.
    """
    mode = mode or isolation()
    if mode not in ("namespaces", "none"):
        raise ValueError(f"mode must be 'namespaces' or 'none', got {mode!r}")
    if uid is not None and (isinstance(uid, bool) or not isinstance(uid, int)
                            or not 1000 <= uid < 2**31 - 1):
        raise ValueError(f"uid must be None or an int in [1000, 2**31 - 1), got {uid!r}")
    group = None
    if cgroups.support().version is not None:
        group = cgroups.Group(limits.memory_bytes, limits.max_processes)
    lease = None
    try:
        if mode == "namespaces":
            if uid is None:
                lease = uids.Lease()
                uid = lease.uids[0]
            outcome = _run_namespaces(argv, stdin, limits, uid, group)
        else:
            outcome = _run_plain(argv, stdin, limits, group)
        if group is not None:
            outcome.peak_memory = group.peak_memory()
            outcome.oom_killed = group.oom_kills() > 0
            outcome.forks_refused = group.pids_refused()
    finally:
        if group is not None:
            group.destroy()  # kills what is left (a detached process of the "none" mode)
        if lease is not None:
            lease.release()
    outcome.uid = uid if mode == "namespaces" else None
    return outcome


def _bind_targets() -> list[str]:
    """Host paths bound read-only into the sandbox's root."""
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
             "/etc/ld.so.cache", "/etc/passwd", "/etc/group", "/etc/localtime", "/etc/fonts",
             sys.base_prefix, sys.prefix, _TLKIT_DIR]
    seen: list[str] = []
    for path in paths:
        if os.path.lexists(path) and path not in seen:
            seen.append(path)
    return seen


def _setup_script(root: str, argv: list[str], limits: Limits, uid: int) -> str:
    """The shell script the namespace's init (root) runs: build the root, then wait."""
    q = shlex.quote
    lines = ["set -e", f"R={q(root)}",
             "mount --make-rprivate / 2>/dev/null || true",
             "mount -t tmpfs -o size=16m,mode=755 tmpfs \"$R\""]
    # The private /tmp and home come first: a bound path may live under them (a checkout
    # in /tmp/...), and a tmpfs mounted after the bind would hide it.
    size = limits.tmpfs_bytes
    lines += [
        "mkdir -p \"$R\"/proc \"$R\"/tmp \"$R\"" + STUDENT_HOME,
        "mount -t proc -o nosuid,nodev,noexec proc \"$R\"/proc",
        f"mount -t tmpfs -o size={size},mode=1777,nosuid,nodev tmpfs \"$R\"/tmp",
        f"mount -t tmpfs -o size={size},mode=700,uid={uid},gid={uid},nosuid,nodev "
        f"tmpfs \"$R\"{STUDENT_HOME}",
    ]
    for path in _bind_targets():
        target = f"\"$R\"{q(path)}"
        if os.path.islink(path) and os.path.dirname(path) == "/":
            lines.append(f"ln -s {q(os.readlink(path))} {target}")
            continue
        if os.path.isdir(path):
            lines.append(f"mkdir -p {target}")
        else:
            lines.append(f"mkdir -p \"$R\"{q(os.path.dirname(path))} && touch {target}")
        lines.append(f"mount --bind {q(path)} {target}")
        lines.append(f"mount -o remount,bind,ro,nosuid,nodev {target}")
    for dev in ("null", "zero", "random", "urandom"):
        lines.append(f"mkdir -p \"$R\"/dev && touch \"$R\"/dev/{dev}")
        lines.append(f"mount --bind /dev/{dev} \"$R\"/dev/{dev}")
    lines.append("mount -o remount,ro \"$R\"")
    env = " ".join(q(f"{k}={v}") for k, v in child_env(STUDENT_HOME).items())
    command = " ".join(q(a) for a in argv)
    lines.append(
        f"chroot \"$R\" setpriv --reuid={uid} --regid={uid} --clear-groups "
        f"--no-new-privs --bounding-set=-all --inh-caps=-all "
        f"env -i {env} sh -c 'cd {STUDENT_HOME} && exec \"$0\" \"$@\"' {command}"
    )  # in the foreground: init (this shell) waits; when it exits the kernel kills the rest
    return "\n".join(lines) + "\n"


def _run_namespaces(argv: list[str], stdin: bytes, limits: Limits, uid: int,
                    group: cgroups.Group | None = None) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="tlkit-sandbox-") as base:
        root = os.path.join(base, "root")
        os.mkdir(root, 0o700)
        script = _setup_script(root, argv, limits, uid)
        command = ["unshare", "--pid", "--fork", "--net", "--mount", "--uts", "--ipc",
                   "--kill-child=SIGKILL", "sh", "-c", script]
        if group is not None:
            command = group.wrap(command)
        return _supervise(command, stdin, limits, "namespaces",
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, cwd="/")


def _run_plain(argv: list[str], stdin: bytes, limits: Limits,
               group: cgroups.Group | None = None) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="tlkit-student-") as home:
        os.chmod(home, 0o700)
        command = group.wrap(argv) if group is not None else argv
        return _supervise(command, stdin, limits, "none", env=child_env(home), cwd=home)


def _supervise(command: list[str], stdin: bytes, limits: Limits, mode: str, *,
               env: dict[str, str], cwd: str) -> Outcome:
    """Start, feed, read with bounds, kill the process group at the timeout, reap."""
    start = time.monotonic()
    result_read, result_write = os.pipe()
    command = [a.replace(FD_TOKEN, str(result_write)) for a in command]
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=cwd, env=env, start_new_session=True, pass_fds=(result_write,),
        )
    finally:
        os.close(result_write)
    streams = {"stdout": process.stdout.fileno(), "stderr": process.stderr.fileno(),
               "result": result_read}
    bounds = {"stdout": limits.output_bytes, "stderr": limits.output_bytes,
              "result": limits.result_bytes}
    data: dict[str, bytearray] = {name: bytearray() for name in streams}
    truncated: set[str] = set()
    selector = selectors.DefaultSelector()
    for name, fd in streams.items():
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ, name)
    try:
        process.stdin.write(stdin)
    except (BrokenPipeError, OSError):
        pass
    finally:
        try:
            process.stdin.close()
        except OSError:
            pass
    deadline = start + limits.timeout
    timed_out = False
    open_streams = len(streams)
    exited_at: float | None = None
    while open_streams:
        if exited_at is None and process.poll() is not None:
            exited_at = time.monotonic()
        if exited_at is not None and time.monotonic() - exited_at > _GRACE:
            break  # a leftover process holds the pipes open: stop listening
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        for key, _ in selector.select(timeout=min(remaining, 0.5)):
            name = key.data
            try:
                chunk = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                selector.unregister(key.fd)
                open_streams -= 1
                continue
            room = bounds[name] - len(data[name])
            if len(chunk) > room:
                truncated.add(name)
            if room > 0:
                data[name] += chunk[:room]
    _kill_group(process)
    try:
        returncode = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        returncode = None
    selector.close()
    process.stdout.close()
    process.stderr.close()
    os.close(result_read)
    return Outcome(returncode=None if timed_out else returncode, timed_out=timed_out,
                   stdout=bytes(data["stdout"]), stderr=bytes(data["stderr"]),
                   result=bytes(data["result"]), truncated=tuple(sorted(truncated)),
                   seconds=time.monotonic() - start, mode=mode)


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process group (in "namespaces" mode: unshare, whose death kills the
    namespace's init through --kill-child, and with it every process in the namespace)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.kill()
    except (ProcessLookupError, OSError):
        pass


