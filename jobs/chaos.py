"""Fault drills against the live stack (`make chaos`): nothing lost, nothing duplicated, whatever breaks.

A steady stream (generated applicants through MySQL -> Applicant Data API -> producer, plus dirty lines)
flows while each scenario breaks a real process or service, heals it, waits (bounded) until every record of
the scenario's batch is an HBase row or a dead letter, and reconciles the batch. One table row per scenario;
exit 1 on any lost applicant, duplicated row or failed scenario check.

    python -m jobs.chaos [--scenarios a,b] [--rate 25] [--hold-scale 1.0] [--settle 600] [--no-submit] [--list]

Needs `make up SUPERVISORS=2` (the Makefile target does it) and the risk_proxy service in front of the Risk API.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from jobs import demo
from jobs.drills import measure
from jobs.drills.engine import Drill, Options, Scenario, log
from jobs.drills.scenarios import by_name, scenarios
from jobs.settings import Settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m jobs.chaos", description=__doc__.splitlines()[0])
    p.add_argument("--scenarios", default="", help="comma-separated subset (default: all; --list names them)")
    p.add_argument("--rate", type=float, default=25.0, help="steady stream, applicants/s (default %(default)s)")
    p.add_argument("--hold-scale", type=float, default=1.0, help="scale every fault's duration (default 1)")
    p.add_argument("--lead", type=float, default=15.0, help="seconds of stream before each fault")
    p.add_argument("--tail", type=float, default=20.0, help="seconds of stream after each heal")
    p.add_argument("--settle", type=float, default=600.0, help="max seconds to wait for a batch to be accounted")
    p.add_argument("--no-submit", action="store_true", help="keep the running topology (already behind the proxy)")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return p.parse_args(argv)


def chosen(names: str) -> list[Scenario]:
    """The scenarios named, in the order named; all (in the table's order) when none; exit on an unknown name."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in by_name()]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(by_name())}")
    return [by_name()[n] for n in wanted] if wanted else scenarios()


def main(argv: list[str] | None = None) -> int:
    """Run the drills and print the table; exit 1 when any scenario lost or duplicated something."""
    args = parse_args(argv)
    if args.list:
        print("\n".join(f"{s.name:<22} {s.what}" for s in scenarios()))
        return 0
    todo = chosen(args.scenarios)
    settings = Settings.load()
    opts = Options(rate=args.rate, lead_s=args.lead, tail_s=args.tail, settle_s=args.settle, hold_scale=args.hold_scale)
    drill = Drill(settings, opts, demo.new_run_dir("chaos", settings))
    log(f"{len(todo)} scenario(s) at {opts.rate:g} applicants/s; files and logs in {drill.run_dir}")
    rows: list[measure.Row] = []
    drill.start(submit=not args.no_submit)
    try:
        for scenario in todo:
            rows.append(drill.run(scenario))  # noqa: PERF401 (a KeyboardInterrupt keeps the rows already run)
    except KeyboardInterrupt:
        log("interrupted: healing is done per scenario; printing what ran")
    finally:
        drill.stop()
    table = measure.format_table(rows)
    print(f"\nmake chaos, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {opts.rate:g} applicants/s steady stream\n")
    print(table)
    (drill.run_dir / "table.md").write_text(table + "\n")
    failed = [r.scenario for r in rows if not r.passed]
    print(
        f"\n{len(rows) - len(failed)}/{len(rows)} scenarios passed"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed or len(rows) < len(todo) else 0


if __name__ == "__main__":
    sys.exit(main())
