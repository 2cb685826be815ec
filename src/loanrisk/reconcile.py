"""The accounting rules of the reconciliation: every applicant ends exactly once, as a decision or a dead letter.

Given what was read from MySQL (ids), HBase (row summaries), the dead-letter and decision topics and the dirt
manifests, ``reconcile`` checks that
- each MySQL applicant id has an HBase row in `loan_applications` or dead letters with one distinct payload in
  `loan-applications-dlq`, not both, not two different payloads (DUPLICATE_ID dead letters and dead letters of
  manifest records are other records that merely share an id, so they do not count against the applicant);
- every "reject" record of the dirt manifests is in the dead-letter topic with a reason (matched by raw_sha256),
  every "accept" record is not, and is in HBase when it has an id;
- every decided applicant (HBase row) has a `loan-decisions` event, whose latest decision matches the row,
  and no event names an id that has no row.
Redeliveries (the same Kafka record dead-lettered twice, or an applicant's event published more than once)
are at-least-once artefacts: they are counted, not treated as discrepancies. Reading the services is
``jobs.reconcile``'s job.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from loanrisk import events as ev

T = TypeVar("T")
SHOW = 20  # discrepancies printed per kind
# the columns of a row that the accounting and the run summaries read
SUMMARY_COLUMNS = tuple(
    ev.stored_columns((ev.COL_DECISION, ev.COL_DECIDED_BY, ev.COL_REASONS, ev.COL_KAFKA_TS, ev.COL_SAVED_AT))
)


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
    dlq_reasons: Counter[str] = field(default_factory=Counter)

    def flag(self, kind: str, detail: str) -> None:
        self.discrepancies[kind].append(detail)

    @property
    def clean(self) -> bool:
        """True when nothing is missing, duplicated or inconsistent."""
        return not any(self.discrepancies.values())

    def total(self, kind: str) -> int:
        """Return how many discrepancies of a kind were found."""
        return len(self.discrepancies.get(kind, []))


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
    """Read the accounting columns of one HBase row (either row schema)."""
    ident = key.decode("utf-8", errors="replace")
    columns = ev.cells(columns)
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
    per_id: Counter[str] = Counter()
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


def collect_rows(pairs: Iterable[tuple[bytes, Mapping[bytes, bytes]]]) -> tuple[dict[str, RowSummary], list[str]]:
    """Turn (key, columns) pairs into row summaries by id, and the problems of the unreadable ones."""
    rows: dict[str, RowSummary] = {}
    bad: list[str] = []
    for key, columns in pairs:
        parsed = row_summary(key, columns)
        if isinstance(parsed, ev.ParseError):
            bad.append(parsed.detail)
        else:
            rows[parsed.application_id] = parsed
    return rows, bad


def parse_all(
    values: Iterable[tuple[str, bytes]], parse: Callable[[bytes], T | ev.ParseError]
) -> tuple[list[T], list[str]]:
    """Parse (where, payload) pairs; return (records, descriptions of the unreadable ones)."""
    found: list[T] = []
    bad: list[str] = []
    for where, value in values:
        parsed = parse(value)
        if isinstance(parsed, ev.ParseError):
            bad.append(f"{where}: {parsed.detail}")
        else:
            found.append(parsed)
    return found, bad
