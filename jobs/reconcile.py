"""Prove the accounting: every applicant in MySQL is exactly once in HBase or in the dead-letter topic.

Checks, over the whole MySQL table and the whole topics (`make reconcile`):
- each MySQL applicant id has an HBase row in `loan_applications` or dead letters with one distinct payload in
  `loan-applications-dlq`, not both, not two different payloads (DUPLICATE_ID dead letters and dead letters of
  manifest records are other records that merely share an id, so they do not count against the applicant);
- every "reject" record of the dirt manifests is in the dead-letter topic with a reason (matched by raw_sha256),
  every "accept" record is not, and is in HBase when it has an id;
- every decided applicant (HBase row) has a `loan-decisions` event, whose latest decision matches the row,
  and no event names an id that has no row.
Redeliveries (the same Kafka record dead-lettered twice, or an applicant's event published more than once)
are at-least-once artefacts: they are counted and printed, not treated as discrepancies.
Exit code 1 on any discrepancy.

    python -m jobs.reconcile [--manifest PATH ...] [--ids-file PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobs import outage
from jobs.settings import ROOT, Settings, kafka_security_kwargs
from loanrisk import events as ev

RUNS_DIR = ROOT / "var" / "data" / "runs"
DLQ_TOPIC = "loan-applications-dlq"
DECISIONS_TOPIC = "loan-decisions"
HBASE_TIMEOUT_MS = 60_000
SHOW = 20  # discrepancies printed per kind


# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One dirty record of a generator manifest."""

    manifest: str
    line: int
    id: str | None
    kind: str
    expect: str  # "reject" | "accept"
    sha256: str


@dataclass(frozen=True, slots=True)
class RowSummary:
    """The columns of a `loan_applications` row that the accounting and the summaries need."""

    application_id: str
    decision: str
    decided_by: str
    reasons: tuple[str, ...]
    kafka_ts_ms: int
    saved_at_ms: int


@dataclass
class Report:
    """Counts and discrepancies of a reconciliation; clean when there is no discrepancy."""

    counts: dict[str, int] = field(default_factory=dict)
    discrepancies: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    dlq_reasons: Counter = field(default_factory=Counter)

    def flag(self, kind: str, detail: str) -> None:
        """Record one discrepancy of a kind."""
        self.discrepancies[kind].append(detail)

    @property
    def clean(self) -> bool:
        """True when nothing is missing, duplicated or inconsistent."""
        return not any(self.discrepancies.values())

    def total(self, kind: str) -> int:
        """Return how many discrepancies of a kind were found."""
        return len(self.discrepancies.get(kind, []))


# ---------------------------------------------------------------- pure parts


def parse_manifest_line(manifest: str, text: str) -> ManifestEntry | ev.ParseError:
    """Read one line of a `PATH.dirt.jsonl` manifest."""
    try:
        data = json.loads(text)
        ident = data.get("id")
        expect = str(data["expect"])
        if expect not in ("reject", "accept"):
            return ev.ParseError(f"{manifest}: expect must be reject or accept, got {expect!r}")
        return ManifestEntry(
            manifest,
            int(data["line"]),
            None if ident is None else str(ident),
            str(data.get("kind", "")),
            expect,
            str(data["sha256"]),
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        return ev.ParseError(f"{manifest}: {type(exc).__name__}: {exc}")


def row_summary(key: bytes, columns: Mapping[bytes, bytes]) -> RowSummary | ev.ParseError:
    """Read the accounting columns of one HBase row."""
    ident = key.decode("utf-8", errors="replace")
    try:
        reasons = tuple(str(r["code"]) for r in json.loads(columns.get(ev.COL_REASONS, b"[]")))
        return RowSummary(
            ident,
            columns[ev.COL_DECISION].decode(),
            columns.get(ev.COL_DECIDED_BY, b"").decode(),
            reasons,
            int(columns[ev.COL_KAFKA_TS]),
            int(columns[ev.COL_SAVED_AT]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        return ev.ParseError(f"row {ident!r}: {type(exc).__name__}: {exc}")


def applicant_dead_letters(dead_letters: Iterable[ev.DeadLetter], manifest_shas: set[str]) -> dict[str, set[str]]:
    """Map application id -> distinct payload hashes of its own dead letters (not DUPLICATE_ID, not manifest dirt)."""
    by_id: dict[str, set[str]] = defaultdict(set)
    for dl in dead_letters:
        if dl.application_id is None or dl.reason == ev.DUPLICATE_ID or dl.raw_sha256 in manifest_shas:
            continue
        by_id[str(dl.application_id)].add(dl.raw_sha256)
    return by_id


def check_applicants(
    report: Report, ids: Iterable[str], rows: Mapping[str, RowSummary], own_dlq: Mapping[str, set[str]]
) -> None:
    """Each id: exactly once in HBase or the dead-letter topic."""
    seen = in_hbase = in_dlq = 0
    for ident in ids:
        seen += 1
        row, payloads = ident in rows, len(own_dlq.get(ident, ()))
        if row and payloads:
            report.flag("in HBase and dead-lettered", ident)
        elif payloads > 1:
            report.flag("dead-lettered twice (different payloads)", ident)
        elif row:
            in_hbase += 1
        elif payloads:
            in_dlq += 1
        else:
            report.flag("missing (neither in HBase nor dead-lettered)", ident)
    report.counts.update({"applicants in MySQL": seen, "  in HBase": in_hbase, "  dead-lettered": in_dlq})


def check_manifest(
    report: Report,
    entries: Iterable[ManifestEntry],
    dlq_by_sha: Mapping[str, list[ev.DeadLetter]],
    rows: Mapping[str, RowSummary],
) -> None:
    """Reject dirt must be dead-lettered with a reason; accept dirt must not, and must be in HBase."""
    rejects = accepts = 0
    for e in entries:
        where = f"{Path(e.manifest).name}:{e.line} id={e.id} kind={e.kind}"
        letters = dlq_by_sha.get(e.sha256, [])
        if e.expect == "reject":
            rejects += 1
            if not letters:
                report.flag("reject dirt not dead-lettered", where)
            elif not all(dl.reason for dl in letters):
                report.flag("dead letter without a reason", where)
        else:
            accepts += 1
            if letters:
                report.flag("accept dirt dead-lettered", f"{where} reason={letters[0].reason}")
            elif e.id is not None and e.id not in rows:
                report.flag("accept dirt not in HBase", where)
    report.counts.update({"manifest reject records": rejects, "manifest accept records": accepts})


def check_events(
    report: Report, rows: Mapping[str, RowSummary], events: Iterable[ev.DecisionEvent], check_orphans: bool
) -> None:
    """One decision event per decided applicant, the latest agreeing with the row; no event without a row."""
    latest: dict[str, ev.DecisionEvent] = {}
    per_id: Counter = Counter()
    for e in events:
        per_id[e.application_id] += 1
        if e.application_id not in latest or e.saved_at_ms >= latest[e.application_id].saved_at_ms:
            latest[e.application_id] = e
    for ident, row in rows.items():
        event = latest.get(ident)
        if event is None:
            report.flag("decided without a decision event", ident)
        elif event.decision != row.decision:
            report.flag("event disagrees with HBase", f"{ident}: event {event.decision}, row {row.decision}")
    if check_orphans:
        for ident in latest.keys() - rows.keys():
            report.flag("decision event without an HBase row", ident)
    report.counts["decision events"] = sum(per_id.values())
    report.counts["  repeated events (at-least-once redeliveries)"] = sum(n - 1 for n in per_id.values() if n > 1)


def count_dead_letters(report: Report, dead_letters: list[ev.DeadLetter]) -> None:
    """Count dead letters, their reasons, and redeliveries of the same Kafka record."""
    coords = Counter((dl.source.topic, dl.source.partition, dl.source.offset) for dl in dead_letters)
    report.dlq_reasons.update(dl.reason for dl in dead_letters)
    report.counts["dead letters"] = len(dead_letters)
    report.counts["  repeated dead letters (same source record)"] = sum(n - 1 for n in coords.values() if n > 1)
    for dl in dead_letters:
        if not dl.reason:
            report.flag("dead letter without a reason", f"{dl.source.to_dict()}")


def reconcile(
    ids: Iterable[str],
    rows: Mapping[str, RowSummary],
    dead_letters: list[ev.DeadLetter],
    events: Iterable[ev.DecisionEvent],
    manifest: list[ManifestEntry],
    unreadable: Iterable[str] = (),
    check_orphans: bool = True,
) -> Report:
    """Run every check on what was read from MySQL, HBase, the dead-letter topic and the decision topic."""
    report = Report()
    for problem in unreadable:
        report.flag("unreadable record", problem)
    manifest_shas = {e.sha256 for e in manifest}
    dlq_by_sha: dict[str, list[ev.DeadLetter]] = defaultdict(list)
    for dl in dead_letters:
        dlq_by_sha[dl.raw_sha256].append(dl)
    check_applicants(report, ids, rows, applicant_dead_letters(dead_letters, manifest_shas))
    check_manifest(report, manifest, dlq_by_sha, rows)
    count_dead_letters(report, dead_letters)
    report.counts["HBase rows read"] = len(rows)
    check_events(report, rows, events, check_orphans)
    return report


def format_report(report: Report, show: int = SHOW) -> str:
    """Return the counts, the dead letters by reason and every kind of discrepancy as text."""
    width = max(len(k) for k in report.counts) if report.counts else 10
    lines = ["reconciliation"] + [f"  {k:<{width}}  {v:>8}" for k, v in report.counts.items()]
    if report.dlq_reasons:
        lines.append("  dead letters by reason: " + ", ".join(f"{r} {n}" for r, n in report.dlq_reasons.most_common()))
    kinds = {k: v for k, v in report.discrepancies.items() if v}
    lines.append(f"  discrepancies: {sum(len(v) for v in kinds.values())}")
    for kind, items in kinds.items():
        lines.append(f"  - {kind}: {len(items)}")
        lines.extend(f"      {item}" for item in items[:show])
        if len(items) > show:
            lines.append(f"      ... and {len(items) - show} more")
    lines.append("  RESULT: " + ("clean: zero missing, zero duplicated" if report.clean else "DISCREPANCIES FOUND"))
    return "\n".join(lines)


# ---------------------------------------------------------------- reading the services


RUN_INFO = "run.json"  # written in each run directory: {"kafka_cluster_id", "label", ...}


def manifests_for_cluster(runs_dir: Path, cluster_id: str | None) -> tuple[list[Path], list[Path]]:
    """Split the runs' manifests into (those published to this Kafka cluster, those of another or unknown one).

    Manifests outlive a wiped Kafka (`stack/stack.sh clean kafka`): their records are gone with it, so only
    the runs that published to the current cluster can be checked.
    """
    mine, others = [], []
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
    from jobs.produce import kafka_cluster_id

    settings = settings or Settings.load()
    mine, others = manifests_for_cluster(RUNS_DIR, kafka_cluster_id(settings))
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


def read_topic(bootstrap: str, topic: str, timeout_s: float = 120.0) -> Iterator[tuple[int, int, bytes]]:
    """Yield (partition, offset, value) of every record now in a topic, with a fresh consumer and no group."""
    import time

    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        client_id=f"loanrisk-reconcile-{topic}",
        max_poll_records=5000,
        **kafka_security_kwargs(),
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        remaining = {tp for tp in tps if end[tp] > consumer.position(tp)}
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} did not reach the end offsets in {timeout_s:.0f}s")
            for tp, records in consumer.poll(timeout_ms=1000).items():
                for rec in records:
                    if rec.offset < end[tp]:
                        yield rec.partition, rec.offset, rec.value
            remaining = {tp for tp in remaining if consumer.position(tp) < end[tp]}
    finally:
        consumer.close()


def read_records(bootstrap: str, topic: str, parse: Callable[[bytes], Any]) -> tuple[list[Any], list[str]]:
    """Read a whole topic and parse each value; return (records, descriptions of the unreadable ones)."""
    found, bad = [], []
    for partition, offset, value in read_topic(bootstrap, topic):
        parsed = parse(value or b"")
        if isinstance(parsed, ev.ParseError):
            bad.append(f"{topic}/{partition}@{offset}: {parsed.detail}")
        else:
            found.append(parsed)
    return found, bad


def read_dead_letters(bootstrap: str) -> tuple[list[ev.DeadLetter], list[str]]:
    """Read the whole dead-letter topic; return (dead letters, unreadable ones)."""
    return read_records(bootstrap, DLQ_TOPIC, ev.parse_dead_letter)


def read_events(bootstrap: str) -> tuple[list[ev.DecisionEvent], list[str]]:
    """Read the whole decision topic; return (events, unreadable ones)."""
    return read_records(bootstrap, DECISIONS_TOPIC, ev.parse_decision_event)


SUMMARY_COLUMNS = [ev.COL_DECISION, ev.COL_DECIDED_BY, ev.COL_REASONS, ev.COL_KAFKA_TS, ev.COL_SAVED_AT]


def hbase_connection(settings: Settings):
    """Open a happybase connection to the Thrift server."""
    import happybase

    return happybase.Connection(settings.hbase_host, settings.hbase_port, timeout=HBASE_TIMEOUT_MS)


def _collect(pairs: Iterable[tuple[bytes, Mapping[bytes, bytes]]]) -> tuple[dict[str, RowSummary], list[str]]:
    """Turn (key, columns) pairs into row summaries and problems."""
    rows, bad = {}, []
    for key, columns in pairs:
        parsed = row_summary(key, columns)
        if isinstance(parsed, ev.ParseError):
            bad.append(parsed.detail)
        else:
            rows[parsed.application_id] = parsed
    return rows, bad


def scan_rows(settings: Settings) -> tuple[dict[str, RowSummary], list[str]]:
    """Read the accounting columns of every `loan_applications` row."""
    conn = hbase_connection(settings)
    try:
        if ev.TABLE.encode() not in conn.tables():
            return {}, []
        return _collect(conn.table(ev.TABLE).scan(columns=SUMMARY_COLUMNS, batch_size=2000))
    finally:
        conn.close()


def scan_keys(settings: Settings) -> set[str]:
    """Return every row key of `loan_applications` (a key-only scan: cheaper than reading many ids)."""
    conn = hbase_connection(settings)
    try:
        if ev.TABLE.encode() not in conn.tables():
            return set()
        scan = conn.table(ev.TABLE).scan(filter=b"KeyOnlyFilter() AND FirstKeyOnlyFilter()", batch_size=5000)
        return {key.decode("utf-8", errors="replace") for key, _ in scan}
    finally:
        conn.close()


def fetch_rows(settings: Settings, ids: Iterable[str], chunk: int = 1000) -> tuple[dict[str, RowSummary], list[str]]:
    """Read the accounting columns of the given ids' rows (those that exist)."""
    conn = hbase_connection(settings)
    try:
        if ev.TABLE.encode() not in conn.tables():
            return {}, []
        table, keys = conn.table(ev.TABLE), [i.encode("utf-8") for i in ids]
        pairs = (
            p
            for start in range(0, len(keys), chunk)
            for p in table.rows(keys[start : start + chunk], columns=SUMMARY_COLUMNS)
        )
        return _collect(pairs)
    finally:
        conn.close()


def mysql_ids(settings: Settings) -> list[str]:
    """Return every applicant id in MySQL."""
    from jobs import db

    conn = db.connect(settings)
    try:
        return [str(i) for i in db.iter_applicant_ids(conn)]
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
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m jobs.reconcile", description=__doc__.splitlines()[0])
    p.add_argument(
        "--manifest",
        type=Path,
        action="append",
        help=f"dirt manifest(s) to check (default: every {RUNS_DIR.relative_to(ROOT)}/*/*.dirt.jsonl)",
    )
    p.add_argument("--ids-file", type=Path, help="only these application ids (one a line) instead of the whole table")
    p.add_argument(
        "--wait",
        type=float,
        default=outage.DEFAULT_BUDGET_S,
        help="seconds to wait for a service that does not answer (default %(default)s)",
    )
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
