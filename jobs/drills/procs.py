"""Find and signal this project's processes, and only them.

Other stacks with identical command lines run on the same machine in other network namespaces. A process is
ours only when (1) it is in the caller's network namespace and (2) it is named by one of our pid files under
var/run, or its command line contains this tree's STORM_HOME / venv path. Nothing is matched by a bare name.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jobs.settings import ROOT

RUN_DIR = ROOT / "var" / "run"
STORM_HOME_FLAG = f"-Dstorm.home={ROOT / 'var' / 'opt'}/apache-storm-"
WORKER_CLASS = "org.apache.storm.daemon.worker.Worker"
LOGWRITER_CLASS = "org.apache.storm.LogWriter"
VENV_BIN = str(ROOT / ".venv" / "bin")
PYTHON_BOLTS = ("FilterBolt", "DecisionBolt", "SubmitBolt", "SaveBolt", "DeadLetterBolt")


@dataclass(frozen=True)
class Proc:
    """A process seen in /proc: pid, parent pid and command line."""

    pid: int
    ppid: int
    cmdline: tuple[str, ...]

    @property
    def text(self) -> str:
        """The command line as one string."""
        return " ".join(self.cmdline)


def _netns(pid: int | str) -> str | None:
    """Return the network namespace link of a process, None when it is gone or unreadable."""
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def _read(pid: int) -> Proc | None:
    """Read one process, None when it vanished."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    ppid = int(stat.rsplit(")", 1)[1].split()[1])
    return Proc(pid, ppid, tuple(a.decode(errors="replace") for a in raw.split(b"\0") if a))


def our_processes() -> Iterator[Proc]:
    """Yield every live process in this process's network namespace."""
    mine = _netns("self")
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _netns(entry) == mine:
            proc = _read(int(entry))
            if proc is not None:
                yield proc


def service_pid(name: str) -> int | None:
    """Return the live pid of a stack service from its pid file (var/run/<name>.pid), in our namespace."""
    try:
        pid = int((RUN_DIR / f"{name}.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _netns(pid) is not None and _netns(pid) == _netns("self") else None


def worker_pids() -> list[int]:
    """Return the pids of this tree's Storm worker JVMs (not the LogWriter that launched each one)."""
    return sorted(
        p.pid
        for p in our_processes()
        if STORM_HOME_FLAG in p.text and WORKER_CLASS in p.text and LOGWRITER_CLASS not in p.text
    )


def bolt_pids(bolt_class: str) -> list[int]:
    """Return the pids of this tree's Python bolt processes of a class (children of our workers)."""
    workers = set(worker_pids())
    return sorted(
        p.pid
        for p in our_processes()
        if p.ppid in workers and VENV_BIN in p.text and "streamparse_run" in p.text and bolt_class in p.text
    )


def descendants(root: int) -> list[int]:
    """Return root and every process below it (in our namespace)."""
    procs = list(our_processes())
    found, frontier = [root], [root]
    while frontier:
        children = [p.pid for p in procs if p.ppid in frontier and p.pid not in found]
        found += children
        frontier = children
    return found


def rss_mb(pid: int) -> float:
    """Return a process's resident memory in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def send(pids: list[int], sig: signal.Signals) -> list[int]:
    """Send a signal to each pid that is still ours; return those signalled."""
    mine, done = _netns("self"), []
    for pid in pids:
        if _netns(pid) != mine:
            continue
        try:
            os.kill(pid, sig)
            done.append(pid)
        except ProcessLookupError:
            pass
    return done
