"""Prove the accounting: every applicant in MySQL is exactly once in HBase or in the dead-letter topic.

Reads MySQL, HBase, the dead-letter and decision topics and the dirt manifests, and applies the rules of
``loanrisk.reconcile`` (what is checked is said there). Exit code 1 on any discrepancy.

    python -m jobs.reconcile [--manifest PATH ...] [--ids-file PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from adapters import hbase, kafka, mysql
from adapters.settings import ROOT, Settings, kafka_security_kwargs
from jobs import outage
from loanrisk import events as ev
from loanrisk.reconcile import (
    SUMMARY_COLUMNS,
    ManifestEntry,
    Report,
    RowSummary,
    collect_rows,
    format_report,
    parse_all,
    parse_manifest_line,
    reconcile,
    row_summary,
)

__all__ = [  # the rules' names, for the callers that take them from here
    "ManifestEntry",
    "Report",
    "RowSummary",
    "format_report",
    "parse_manifest_line",
    "reconcile",
    "row_summary",
]

RUNS_DIR = ROOT / "var" / "data" / "runs"
DLQ_TOPIC = "loan-applications-dlq"
DECISIONS_TOPIC = "loan-decisions"
HBASE_TIMEOUT_MS = 60_000


RUN_INFO = "run.json"  # written in each run directory: {"kafka_cluster_id", "label", ...}


def manifests_for_cluster(runs_dir: Path, cluster_id: str | None) -> tuple[list[Path], list[Path]]:
    """Split the runs' manifests into (those published to this Kafka cluster, those of another or unknown one).

    Manifests outlive a wiped Kafka (`stack/stack.sh clean kafka`): their records are gone with it, so only
    the runs that published to the current cluster can be checked.
    """
    mine: list[Path] = []
    others: list[Path] = []
    for path in sorted(runs_dir.glob("*/*.dirt.jsonl")):
        try:
            info = json.loads((path.parent / RUN_INFO).read_text())
        except (OSError, ValueError):
            info = {}
        same = cluster_id is not None and info.get("kafka_cluster_id") == cluster_id
        (mine if same and published_marker(path).exists() else others).append(path)
    return mine, others


def published_marker(manifest: Path) -> Path:
    """Return the marker file written once the manifest's data file was published (`X.jsonl.published.json`)."""
    return manifest.with_name(manifest.name.removesuffix(".dirt.jsonl") + ".published.json")


def default_manifests(settings: Settings | None = None) -> list[Path]:
    """Return the dirt manifests the demo and the end-to-end test wrote under var/data/runs for this Kafka."""
    settings = settings or Settings.load()
    mine, others = manifests_for_cluster(
        RUNS_DIR, kafka.cluster_id(settings.kafka_bootstrap, **kafka_security_kwargs())
    )
    if others:
        print(
            f"note: {len(others)} manifest(s) under {RUNS_DIR} skipped: their file was never published, or was "
            "published to another (since wiped) Kafka cluster",
            file=sys.stderr,
        )
    return mine


def load_manifests(paths: Iterable[Path]) -> tuple[list[ManifestEntry], list[str]]:
    """Read manifests; return (entries, problems)."""
    entries, problems = [], []
    for path in paths:
        for text in Path(path).read_text(encoding="utf-8").splitlines():
            if not text.strip():
                continue
            parsed = parse_manifest_line(str(path), text)
            if isinstance(parsed, ev.ParseError):
                problems.append(parsed.detail)
            else:
                entries.append(parsed)
    return entries, problems


def read_records(bootstrap: str, topic: str, parse: Any) -> tuple[list[Any], list[str]]:
    """Read a whole topic and parse each value; return (records, descriptions of the unreadable ones)."""
    values = (
        (f"{topic}/{p}@{o}", v or b"") for p, o, v in kafka.read_topic(bootstrap, topic, **kafka_security_kwargs())
    )
    return parse_all(values, parse)


def read_dead_letters(bootstrap: str) -> tuple[list[ev.DeadLetter], list[str]]:
    """Read the whole dead-letter topic; return (dead letters, unreadable ones)."""
    return read_records(bootstrap, DLQ_TOPIC, ev.parse_dead_letter)


def read_events(bootstrap: str) -> tuple[list[ev.DecisionEvent], list[str]]:
    """Read the whole decision topic; return (events, unreadable ones)."""
    return read_records(bootstrap, DECISIONS_TOPIC, ev.parse_decision_event)


def hbase_connection(settings: Settings) -> Any:
    """Open a happybase connection to the Thrift server, with a timeout long enough for a full-table scan."""
    return hbase.connect(settings.hbase_host, settings.hbase_port, HBASE_TIMEOUT_MS)


def scan_rows(settings: Settings) -> tuple[dict[str, RowSummary], list[str]]:
    """Read the accounting columns of every `loan_applications` row."""
    conn = hbase_connection(settings)
    try:
        return collect_rows(hbase.scan(conn, ev.TABLE, SUMMARY_COLUMNS))
    finally:
        conn.close()


def scan_keys(settings: Settings) -> set[str]:
    """Return every row key of `loan_applications`."""
    conn = hbase_connection(settings)
    try:
        return hbase.scan_keys(conn, ev.TABLE)
    finally:
        conn.close()


def fetch_rows(settings: Settings, ids: Iterable[str], chunk: int = 1000) -> tuple[dict[str, RowSummary], list[str]]:
    """Read the accounting columns of the given ids' rows (those that exist), ``chunk`` ids per Thrift call."""
    conn = hbase_connection(settings)
    try:
        return collect_rows(hbase.fetch(conn, ev.TABLE, ids, SUMMARY_COLUMNS, chunk))
    finally:
        conn.close()


def mysql_ids(settings: Settings) -> list[str]:
    conn = mysql.connect(settings)
    try:
        return [str(i) for i in mysql.iter_applicant_ids(conn)]
    finally:
        conn.close()


def run(settings: Settings, manifests: list[Path], ids: list[str] | None = None) -> Report:
    """Read everything and reconcile: the whole table when ids is None, else only those ids (and the manifests)."""
    entries, manifest_problems = load_manifests(manifests)
    dead_letters, bad_dlq = read_dead_letters(settings.kafka_bootstrap)
    decision_events, bad_events = read_events(settings.kafka_bootstrap)
    if ids is None:
        ids = mysql_ids(settings)
        rows, bad_rows = scan_rows(settings)
    else:
        scope = set(ids) | {e.id for e in entries if e.id is not None}
        rows, bad_rows = fetch_rows(settings, sorted(scope))
        decision_events = [e for e in decision_events if e.application_id in scope]
    problems = manifest_problems + bad_dlq + bad_events + bad_rows
    report = reconcile(ids, rows, dead_letters, decision_events, entries, problems, check_orphans=True)
    report.counts["manifests read"] = len(manifests)
    return report


def service_errors() -> tuple[type[BaseException], ...]:
    """Return the exception types of an unreachable Kafka, HBase (Thrift) or MySQL."""
    return outage.service_errors()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m jobs.reconcile", description=__doc__.splitlines()[0])
    p.add_argument(
        "--manifest",
        type=Path,
        action="append",
        help=f"dirt manifest(s) to check (default: every {RUNS_DIR.relative_to(ROOT)}/*/*.dirt.jsonl)",
    )
    p.add_argument("--ids-file", type=Path, help="only these application ids (one a line) instead of the whole table")
    wait = "seconds to wait for a service that does not answer (default %(default)s)"
    p.add_argument("--wait", type=float, default=outage.DEFAULT_BUDGET_S, help=wait)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Reconcile and print the report; exit 1 on any discrepancy."""
    args = parse_args(argv)
    ids = None if args.ids_file is None else [t.strip() for t in args.ids_file.read_text().splitlines() if t.strip()]
    settings = Settings.load()

    def read_and_reconcile() -> Report:
        return run(settings, args.manifest if args.manifest else default_manifests(settings), ids)

    try:
        report = outage.until_up(
            read_and_reconcile, "reading Kafka, HBase and MySQL", label="reconcile", budget_s=args.wait
        )
    except service_errors() as exc:
        print(
            f"reconciliation could not read a service ({outage.describe(exc)}); is the stack up? (make status)",
            file=sys.stderr,
        )
        return 2
    print(format_report(report))
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
