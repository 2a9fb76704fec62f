"""The unprivileged users sandboxes run as: drawn per sandbox, never shared.

A user's process limit (``RLIMIT_NPROC``) counts every process of that uid on the machine,
and a process may signal the processes of its own uid. So no two live sandboxes, of this
grader run or of a concurrent one, may share a uid, and no other process may run under it.

The uids come from :data:`RESERVED`, 0x70000000-0x7000FFFF (1879048192-1879113727):
above the ranges systemd hands out (system and regular users, DynamicUser, nobody, and the
container ranges 0x80000-0x6FFFFFFF), below 2**31 (tools that read uids as signed ints),
and far above the usual /etc/subuid allocations (100000 and up, 65536 per user). A uid is
used only when

* no account or group of /etc/passwd, /etc/group, /etc/subuid or /etc/subgid covers it;
* no process on the machine has it as a real, effective, saved or file-system uid or gid
  (a scan of ``/proc``);
* this grader holds an exclusive ``flock`` on its lock file in :func:`lock_dir`, which
  concurrent graders respect; the kernel drops the lock when the holder dies.

:class:`Lease` holds such uids until it is released.
"""

from __future__ import annotations

import fcntl
import os
import random
import tempfile
import threading

__all__ = ["RESERVED", "Lease", "UidError", "uids_in_use", "lock_dir"]

RESERVED = range(0x7000_0000, 0x7000_0000 + 0x1_0000)
_random = random.SystemRandom()
_held: set[int] = set()  # uids leased by this process (flock does not exclude our own threads)
_held_lock = threading.Lock()


class UidError(RuntimeError):
    """No free uid could be found in the reserved range."""


def lock_dir() -> str:
    """Where the lock files live (root-only when the grader is root)."""
    base = "/run/tlkit-grader" if os.geteuid() == 0 and os.path.isdir("/run") else os.path.join(
        tempfile.gettempdir(), f"tlkit-grader-{os.geteuid()}")
    folder = os.path.join(base, "uids")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


def uids_in_use() -> set[int]:
    """Every uid and gid of every process on the machine (real, effective, saved, fs)."""
    used: set[int] = set()
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return used
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
                for line in handle:
                    if line.startswith(("Uid:", "Gid:")):
                        used.update(int(v) for v in line.split()[1:])
        except (OSError, ValueError):
            continue
    return used


def _accounts() -> set[int]:
    """Ids named in the account files, and the subordinate ranges (which may be in use
    by a rootless container)."""
    taken: set[int] = set()
    for path in ("/etc/passwd", "/etc/group"):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    fields = line.split(":")
                    if len(fields) > 3:
                        for value in fields[2:4] if path == "/etc/passwd" else fields[2:3]:
                            if value.isdigit():
                                taken.add(int(value))
        except OSError:
            pass
    for path in ("/etc/subuid", "/etc/subgid"):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    fields = line.strip().split(":")
                    if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
                        start, count = int(fields[1]), int(fields[2])
                        if start < RESERVED.stop and start + count > RESERVED.start:
                            taken.update(range(max(start, RESERVED.start),
                                               min(start + count, RESERVED.stop)))
        except OSError:
            pass
    return taken


class Lease:
    """``count`` uids from :data:`RESERVED`, exclusively this process's until :meth:`release`.

    Use as a context manager. ``uids`` lists them; the same number serves as the gid.
    """

    def __init__(self, count: int = 1, attempts: int = 200) -> None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be an int >= 1, got {count!r}")
        self.uids: list[int] = []
        self._locks: list[int] = []
        folder = lock_dir()
        busy = uids_in_use() | _accounts()
        try:
            for _ in range(attempts):
                if len(self.uids) == count:
                    break
                uid = _random.choice(RESERVED)
                with _held_lock:
                    if uid in busy or uid in _held:
                        continue
                    _held.add(uid)
                fd = os.open(os.path.join(folder, f"{uid}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    self._forget(uid)
                    continue
                if uid in uids_in_use():  # started since the scan above
                    os.close(fd)
                    self._forget(uid)
                    continue
                self.uids.append(uid)
                self._locks.append(fd)
            if len(self.uids) < count:
                raise UidError(f"found only {len(self.uids)} free uid(s) of {count} in "
                               f"{RESERVED.start}-{RESERVED.stop - 1} after {attempts} draws")
        except BaseException:
            self.release()
            raise

    @staticmethod
    def _forget(uid: int) -> None:
        with _held_lock:
            _held.discard(uid)

    def release(self) -> None:
        """Give the uids back (their processes must be gone: the sandbox is over)."""
        for uid, fd in zip(self.uids, self._locks, strict=True):
            try:
                os.close(fd)  # drops the flock
            finally:
                self._forget(uid)
        self.uids, self._locks = [], []

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
