"""One cgroup per sandbox: its memory and its number of processes, whatever it spawns.

Rlimits are per process (``RLIMIT_AS`` does not even count in-memory files), so a student
can hold memory in ``memfd``/tmpfs files or in child processes beyond them. A cgroup
counts all of that for the whole sandbox:

* cgroup v2 (a ``cgroup2`` mount whose root offers the ``memory`` and ``pids``
  controllers): ``memory.max`` = the limit, ``memory.swap.max`` = 0, ``pids.max``;
* cgroup v1 (the ``memory`` and ``pids`` hierarchies mounted apart, as on the machines
  here): ``memory.limit_in_bytes``, ``memory.memsw.limit_in_bytes`` (when the kernel
  accounts swap; memory + swap, so no swapping past the limit) and ``pids.max``.

Groups are created under the grader's own cgroup in each hierarchy (read from
``/proc/self/cgroup``, so whatever limits the grader runs under still hold), named
``tlkit-sbx-<grader pid>-<n>``. The sandbox's first process joins them before it execs
anything (:meth:`Group.wrap`), so every descendant is counted. :meth:`Group.destroy`
kills whatever is left in them and removes them; groups left behind by a grader that
died are removed by the next one. Where a controller is missing or the groups cannot be
created, :func:`support` says which limits cannot be applied, and the sandbox falls back
to its per-process rlimits for those.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["Support", "Group", "CgroupError", "support", "PREFIX"]

PREFIX = "tlkit-sbx-"
_counter = itertools.count(1)
_swept: set[str] = set()
_lock = threading.Lock()


class CgroupError(OSError):
    """A sandbox's cgroup could not be created or limited."""


@dataclass(frozen=True)
class Support:
    """Where sandbox groups go and which limits they carry."""

    version: int | None  # 1, 2, or None (no cgroup limits at all)
    memory_parent: str | None  # the folder new memory groups are made in (v2: both)
    pids_parent: str | None
    swap_limited: bool  # memsw (v1) or memory.swap.max (v2) is applied
    missing: tuple[str, ...] = field(default=())  # limits that cannot be applied, and why

    def describe(self) -> str:
        """What is applied per sandbox, in one sentence."""
        if self.version is None:
            return "no cgroup limits (" + "; ".join(self.missing) + ")"
        parts = []
        if self.memory_parent:
            parts.append("memory (in-memory files, tmpfs and children included"
                         + (", no swap)" if self.swap_limited else ", swap not limited)"))
        if self.pids_parent:
            parts.append("number of processes and threads")
        return f"cgroup v{self.version} per sandbox: " + ", ".join(parts)


def _read(path: str) -> str:
    with open(path, encoding="ascii") as handle:
        return handle.read()


def _write(path: str, value: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(value)


def _mounts() -> list[tuple[str, str, str, str]]:
    """(mount point, root within the hierarchy, file system type, super options)."""
    out = []
    try:
        text = _read("/proc/self/mountinfo")
    except OSError:
        return out
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3:
            out.append((fields[4].replace("\\040", " "), fields[3], tail[0], tail[2]))
    return out


def _own_paths() -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path."""
    paths: dict[str, str] = {}
    try:
        text = _read("/proc/self/cgroup")
    except OSError:
        return paths
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            paths[""] = parts[2]
        for controller in parts[1].split(","):
            if controller:
                paths[controller] = parts[2]
    return paths


def _folder(mount_point: str, mount_root: str, path: str) -> str | None:
    if mount_root != "/" and not (path + "/").startswith(mount_root.rstrip("/") + "/"):
        return None  # our group is outside what this mount shows
    relative = path[len(mount_root.rstrip("/")):] if mount_root != "/" else path
    return os.path.join(mount_point, relative.lstrip("/"))


def _probe(parents: list[str]) -> str | None:
    """None when a group can be made (and removed) under every parent; else why not."""
    name = f"{PREFIX}probe-{os.getpid()}-{next(_counter)}"
    made = []
    try:
        for parent in parents:
            os.mkdir(os.path.join(parent, name), 0o755)
            made.append(os.path.join(parent, name))
        return None
    except OSError as exc:
        return f"cannot create a cgroup under {parent} ({exc.strerror or exc})"
    finally:
        for path in made:
            try:
                os.rmdir(path)
            except OSError:
                pass


def _v2() -> Support | None:
    own = _own_paths().get("")
    for point, root, fstype, _ in _mounts():
        if fstype != "cgroup2" or own is None:
            continue
        try:
            offered = _read(os.path.join(point, "cgroup.controllers")).split()
        except OSError:
            continue
        if not {"memory", "pids"} <= set(offered):
            continue
        parent = _folder(point, root, own)
        if parent is None:
            continue
        try:
            enabled = _read(os.path.join(parent, "cgroup.subtree_control")).split()
            if not {"memory", "pids"} <= set(enabled):
                _write(os.path.join(parent, "cgroup.subtree_control"), "+memory +pids")
        except OSError as exc:
            return Support(None, None, None, False, (
                f"cgroup v2: cannot enable the memory and pids controllers for groups under "
                f"{parent} ({exc.strerror or exc}; the grader's own group holds processes: run "
                f"it in a delegated group, e.g. systemd-run --scope -p Delegate=yes)",))
        why = _probe([parent])
        if why:
            return Support(None, None, None, False, (f"cgroup v2: {why}",))
        swap = os.path.exists(os.path.join(parent, "memory.swap.max")) or not _has_swap()
        return Support(2, parent, parent, swap, () if swap else (
            "swap is not limited (no memory.swap.max)",))
    return None


def _has_swap() -> bool:
    try:
        return len(_read("/proc/swaps").strip().splitlines()) > 1
    except OSError:
        return True


def _v1() -> Support:
    own = _own_paths()
    parents: dict[str, str | None] = {"memory": None, "pids": None}
    missing = []
    for controller in parents:
        for point, root, fstype, options in _mounts():
            if fstype == "cgroup" and controller in options.split(",") and controller in own:
                parents[controller] = _folder(point, root, own[controller])
                break
        if parents[controller] is None:
            missing.append(f"no {controller} cgroup hierarchy: the sandbox's "
                           + ("memory (in-memory files, children) is bounded per process only"
                              if controller == "memory" else
                              "processes are bounded per user only (RLIMIT_NPROC)"))
    for controller, parent in list(parents.items()):
        if parent is None:
            continue
        why = _probe([parent])
        if why:
            missing.append(f"{controller}: {why}")
            parents[controller] = None
    if parents["memory"] is None and parents["pids"] is None:
        return Support(None, None, None, False, tuple(missing) or ("no cgroups",))
    swap = False
    if parents["memory"]:
        swap = os.path.exists(os.path.join(parents["memory"], "memory.memsw.limit_in_bytes"))
        if not swap and _has_swap():
            missing.append("swap is not limited (no memory.memsw.limit_in_bytes: swap "
                           "accounting is off)")
        swap = swap or not _has_swap()
    return Support(1, parents["memory"], parents["pids"], swap, tuple(missing))


@lru_cache(maxsize=1)
def support() -> Support:
    """What this machine and user allow (cached; root on Linux is needed)."""
    if not os.path.isdir("/sys/fs/cgroup"):
        return Support(None, None, None, False, ("no /sys/fs/cgroup (not Linux?)",))
    if os.geteuid() != 0:
        return Support(None, None, None, False, ("the grader is not root, so it cannot "
                                                 "create cgroups",))
    return _v2() or _v1()


def _sweep(parent: str) -> None:
    """Remove the groups of graders that are no longer running (once per parent)."""
    with _lock:
        if parent in _swept:
            return
        _swept.add(parent)
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(PREFIX):
            continue
        pid = name[len(PREFIX):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not os.path.exists(f"/proc/{pid}"):
            _remove(os.path.join(parent, name), kill=True, wait=0.5)


def _procs(folder: str) -> list[int]:
    try:
        return [int(p) for p in _read(os.path.join(folder, "cgroup.procs")).split()]
    except (OSError, ValueError):
        return []


def _remove(folder: str, *, kill: bool, wait: float) -> bool:
    """Kill what is left in ``folder`` (when ``kill``) and remove it; True when gone."""
    deadline = time.monotonic() + wait
    if kill and os.path.exists(os.path.join(folder, "cgroup.kill")):
        try:
            _write(os.path.join(folder, "cgroup.kill"), "1")
        except OSError:
            pass
    while True:
        if kill:
            for pid in _procs(folder):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        try:
            os.rmdir(folder)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)


class Group:
    """The cgroup(s) of one sandbox: created with its limits, removed by :meth:`destroy`."""

    def __init__(self, memory_bytes: int, max_pids: int, where: Support | None = None) -> None:
        self.support = where or support()
        if self.support.version is None:
            raise CgroupError("no cgroups: " + "; ".join(self.support.missing))
        name = f"{PREFIX}{os.getpid()}-{next(_counter)}-{os.urandom(3).hex()}"
        self.folders: list[str] = []
        self.memory_folder: str | None = None
        self.pids_folder: str | None = None
        try:
            for parent in dict.fromkeys(p for p in (self.support.memory_parent,
                                                    self.support.pids_parent) if p):
                _sweep(parent)
                folder = os.path.join(parent, name)
                os.mkdir(folder, 0o755)
                self.folders.append(folder)
            if self.support.memory_parent:
                self.memory_folder = os.path.join(self.support.memory_parent, name)
                self._limit_memory(memory_bytes)
            if self.support.pids_parent:
                self.pids_folder = os.path.join(self.support.pids_parent, name)
                _write(os.path.join(self.pids_folder, "pids.max"), str(max_pids))
        except OSError as exc:
            self.destroy()
            raise CgroupError(f"cannot set up the sandbox's cgroup: {exc}") from exc

    def _limit_memory(self, memory_bytes: int) -> None:
        folder = self.memory_folder
        if self.support.version == 2:
            _write(os.path.join(folder, "memory.max"), str(memory_bytes))
            if os.path.exists(os.path.join(folder, "memory.swap.max")):
                _write(os.path.join(folder, "memory.swap.max"), "0")
            return
        _write(os.path.join(folder, "memory.limit_in_bytes"), str(memory_bytes))
        memsw = os.path.join(folder, "memory.memsw.limit_in_bytes")
        if os.path.exists(memsw):  # memory + swap: set after the memory limit (it must be >=)
            _write(memsw, str(memory_bytes))
        try:
            _write(os.path.join(folder, "memory.swappiness"), "0")
        except OSError:
            pass

    def procs_files(self) -> list[str]:
        return [os.path.join(folder, "cgroup.procs") for folder in self.folders]

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` behind a shell that moves itself into the groups, then execs it."""
        script = ('while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; '
                  'shift; exec "$@"')
        return ["sh", "-c", script, "sh", *self.procs_files(), "--", *argv]

    def peak_memory(self) -> int | None:
        """The group's peak memory use in bytes (None when unknown)."""
        if self.memory_folder is None:
            return None
        name = "memory.peak" if self.support.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int(_read(os.path.join(self.memory_folder, name)).split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def oom_kills(self) -> int:
        """How many processes the kernel killed for the group's memory limit."""
        if self.memory_folder is None:
            return 0
        name = "memory.events" if self.support.version == 2 else "memory.oom_control"
        try:
            for line in _read(os.path.join(self.memory_folder, name)).splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def pids_refused(self) -> int:
        """How many forks the group's process limit refused."""
        if self.pids_folder is None:
            return 0
        name = "pids.events"
        try:
            for line in _read(os.path.join(self.pids_folder, name)).splitlines():
                key, _, value = line.partition(" ")
                if key == "max":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def destroy(self) -> bool:
        """Kill every process left in the groups and remove them; True when all are gone."""
        gone = True
        for folder in reversed(self.folders):
            gone = _remove(folder, kill=True, wait=3.0) and gone
        self.folders = [] if gone else self.folders
        return gone
