"""Entry point of the `ui` service (stack/services/storm.sh, `storm ui`): the Storm UI app, and health checks.

The app is the package next to this file, stormui/ (Storm UI's REST API, pages, actions and logviewer over
Nimbus' Thrift API). This file stays the entry point the stack runs:
  gunicorn "storm_ui:create_app()"               the UI (REST API + pages) on ui.host:ui.port
  python storm_ui.py check leader | supervisors N | ui URL     health checks of the stack
  python storm_ui.py logs [TOPOLOGY] [-p PORT] [-n LINES] [-g TEXT]   what `storm logs` runs
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stormui import (
    create_app,
    logs,
)
from stormui.mapping import pretty_uptime, window_order  # noqa: F401  (kept importable from here)

from adapters.nimbus import nimbus

NIMBUS_HOST = os.environ.get("STORM_NIMBUS_HOST", "localhost")
NIMBUS_PORT = int(os.environ.get("STORM_NIMBUS_PORT", "6627"))
__all__ = ["check", "create_app", "main"]


def check(what: str, arg: str | None = None) -> bool:
    """Health checks for stack/services/storm.sh: a leading Nimbus, N supervisors, or the UI at URL."""
    if what == "ui":
        from adapters.settings import Settings  # the reader token of the local stack (var/tokens/reader.token)

        headers = Settings.load().auth_headers("reader")

        def get(path: str) -> dict[str, Any]:
            request = urllib.request.Request(f"{arg}{path}", headers=headers)  # noqa: S310 (the UI's own http URL)
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (as above)
                answer: dict[str, Any] = json.load(response)
                return answer

        leaders = [n for n in get("/api/v1/nimbus/summary")["nimbuses"] if n["status"] == "Leader"]
        return bool(leaders) and get("/api/v1/cluster/summary")["supervisors"] >= 1
    with nimbus(NIMBUS_HOST, NIMBUS_PORT, timeout_ms=5000) as client:
        info = client.getClusterInfo()
    if what == "leader":
        return any(n.isLeader for n in info.nimbuses)
    if what == "supervisors":
        return len(info.supervisors) >= int(arg or 1)
    raise SystemExit(f"unknown check {what!r}")


def topology_log_files(roots: list[Path], topology: str, port: int | None) -> list[Path]:
    """worker.log of each worker of a topology given by id or by name (ids are NAME-N-TIMESTAMP)."""
    found = []
    for entry in logs.all_logs(roots):
        parts = str(entry["file"]).split("/")
        if len(parts) != 4 or parts[3] != "worker.log":
            continue
        topology_id, worker_port = parts[1], parts[2]
        named = topology_id == topology or topology_id.rsplit("-", 2)[0] == topology
        if named and (port is None or worker_port == str(port)):
            resolved = logs.find(roots, str(entry["file"]))
            if isinstance(resolved, Path):
                found.append(resolved)
    return found


def show_logs(argv: list[str]) -> int:
    """`storm logs`: list Storm's log files, or tail / grep a topology's worker logs."""
    parser = argparse.ArgumentParser(prog="storm logs", description="Storm's logs under storm.log.dir")
    parser.add_argument("topology", nargs="?", help="topology name or id (without it: list the log files)")
    parser.add_argument("-p", "--port", type=int, help="only the worker on this port")
    parser.add_argument("-n", "--lines", type=int, default=40, help="lines of each log's end (default 40)")
    parser.add_argument("-g", "--grep", help="print the lines containing TEXT instead of the end")
    args = parser.parse_args(argv)
    roots = logs.log_roots(Path(os.environ.get("STORM_UI_LOG_DIR", "logs")))
    if not args.topology:
        for entry in logs.all_logs(roots):
            print(f"{entry['size']:>12}  {entry['file']}")
        return 0
    files = topology_log_files(roots, args.topology, args.port)
    if not files:
        print(f"no worker log of topology {args.topology!r} under {roots[0]}", file=sys.stderr)
        return 1
    for path in files:
        print(f"==> {path} <==")
        if args.grep:
            for match in logs.search(path, args.grep, logs.MAX_MATCHES):
                print(f"{match['lineNumber']}: {match['beforeString']}{match['matchString']}{match['afterString']}")
        else:
            content = str(logs.read_page(path, None, logs.MAX_PAGE)["content"])
            print("\n".join(content.splitlines()[-args.lines :]))
    return 0


def main(argv: list[str]) -> int:
    """Command line: `check leader | supervisors N | ui URL`, or `logs ...`."""
    if argv and argv[0] == "logs":
        try:
            return show_logs(argv[1:])
        except BrokenPipeError:  # `storm logs … | head`
            return 0
    if len(argv) < 2 or argv[0] != "check":
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return 0 if check(argv[1], argv[2] if len(argv) > 2 else None) else 1
    except Exception as error:  # noqa: BLE001 (a health check reports any failure to answer as "not healthy")
        print(f"not healthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
