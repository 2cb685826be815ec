"""Promote a challenger to champion with no downtime (`make promote CHALLENGER=<dir>`).

1. The challenger is verified as the Risk API will load it (type allowlist + sha256, risk_api/model.py).
2. Its artifact, metadata and card replace models/, each file atomically, artifact first (between the two
   renames the pair fails the sha256 check, so nothing half-promoted can load).
3. The running Risk API (gunicorn master in var/run/risk_api.pid) gets USR2: gunicorn starts a new master
   from the same command line, which loads models/ afresh and serves on the same socket. Once the new master
   has workers, the old master gets TERM: its workers finish the requests they hold, on the old model, and
   exit. The new master's pid goes into var/run/risk_api.pid so `make status`/`make down` keep working.
Every evaluation names the model that scored it (``model_version``), and the SaveBolt stores that name on
every MODEL row, so each row says which model decided it, before, during and after the switch.
Without a running Risk API only the files are replaced (the next start loads them).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from jobs.retrain import CHAMPION_DIR, promote
from jobs.settings import ROOT
from risk_api.model import load_model

PID_FILE = ROOT / "var" / "run" / "risk_api.pid"
WAIT_S = 120.0


def children(pid: int) -> list[int]:
    """Return the pids of a process's children (from /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        path = task / "children"
        if path.exists():
            found += [int(p) for p in path.read_text().split()]
    return found


def alive(pid: int) -> bool:
    """Return whether a process exists."""
    return Path(f"/proc/{pid}").exists()


def new_master(old: int, old_workers: set[int], timeout_s: float) -> int | None:
    """Wait for the master that USR2 started (a new child of the old master that has workers of its own)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in set(children(old)) - old_workers:
            if children(child):
                return child
        time.sleep(0.5)
    return None


def reload_api(pid_file: Path, timeout_s: float = WAIT_S) -> str:
    """Hand the running Risk API over to a new master that loads models/; return what happened."""
    if not pid_file.exists() or not alive(old := int(pid_file.read_text().strip() or 0)):
        return "no running Risk API: the next start loads the promoted model"
    old_workers = set(children(old))
    os.kill(old, signal.SIGUSR2)
    started = new_master(old, old_workers, timeout_s)
    if started is None:
        return f"the new Risk API master did not start within {timeout_s:.0f} s; the old one (pid {old}) keeps serving"
    pid_file.write_text(f"{started}\n")
    os.kill(old, signal.SIGTERM)  # graceful: its workers finish their requests on the old model
    return (
        f"Risk API handed over: new master pid {started} serves the promoted model; old master {old} drains and exits"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m jobs.promote", description=__doc__.splitlines()[0])
    parser.add_argument("challenger", type=Path, help="directory of the model to promote (artifact + metadata)")
    parser.add_argument("--no-reload", action="store_true", help="replace the files only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Verify, replace models/, hand the running Risk API over."""
    args = parse_args(argv)
    challenger = load_model(args.challenger)
    if isinstance(challenger, str):
        print(f"error: {challenger}", file=sys.stderr)
        return 2
    champion = load_model(CHAMPION_DIR)
    before = champion if isinstance(champion, str) else champion.version
    if args.challenger.resolve() != CHAMPION_DIR.resolve():
        promote(args.challenger, CHAMPION_DIR)
    print(f"models/: {before} -> {challenger.version}")
    if not args.no_reload:
        print(reload_api(PID_FILE))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
