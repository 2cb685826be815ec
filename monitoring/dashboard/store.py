"""What the dashboard reads besides Prometheus: decisions in HBase (by id) and the latest decision events."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from adapters import hbase
from loanrisk import events as ev

HBASE_TIMEOUT_MS = 10_000
DECISIONS_TOPIC = "loan-decisions"
KAFKA_READ_S = 5.0


def decision_view(row: ev.StoredRow) -> dict[str, Any]:
    """Return what the page shows of one decided applicant."""
    d = row.decision
    return {
        "application_id": row.application_id,
        "decision": d.decision,
        "decided_by": d.decided_by,
        "probability_of_default": d.probability_of_default,
        "reasons": [{"code": r.code, "text": r.text} for r in d.reasons],
        "model_version": d.model_version,
        "policy_version": d.policy_version,
        "source": row.source.to_dict(),
        "kafka_ts_ms": row.kafka_ts_ms,
        "saved_at_ms": row.saved_at_ms,
        "latency_ms": row.saved_at_ms - row.kafka_ts_ms,
        "applicant": row.applicant,
    }


def list_entry(application_id: str, decision: ev.Decision | ev.DecisionEvent, saved_at_ms: int) -> dict[str, Any]:
    """Return what the list shows of one decision."""
    return {
        "application_id": application_id,
        "decision": decision.decision,
        "decided_by": decision.decided_by,
        "probability_of_default": decision.probability_of_default,
        "saved_at_ms": saved_at_ms,
        "reasons": [r.code for r in decision.reasons],
    }


def event_view(event: ev.DecisionEvent) -> dict[str, Any]:
    return list_entry(event.application_id, event, event.saved_at_ms)


def row_entry(row: ev.StoredRow) -> dict[str, Any]:
    return list_entry(row.application_id, row.decision, row.saved_at_ms)


@contextmanager
def hbase_table(host: str, port: int) -> Iterator[Any]:
    """Open the loan_applications table for one request, or yield None when the table does not exist."""
    conn = hbase.connect(host, port, HBASE_TIMEOUT_MS)
    try:
        yield conn.table(ev.TABLE) if hbase.has_table(conn, ev.TABLE) else None
    finally:
        conn.close()


def find_decision(host: str, port: int, application_id: str) -> dict[str, Any] | ev.ParseError | None:
    """Return one applicant's decision read from HBase, None when there is no row, or why it is unreadable."""
    with hbase_table(host, port) as table:
        columns = table.row(application_id.encode()) if table is not None else {}
    if not columns:
        return None
    row = ev.parse_row(application_id, columns)
    return row if isinstance(row, ev.ParseError) else decision_view(row)


def search_decisions(host: str, port: int, prefix: str, limit: int) -> list[dict[str, Any]]:
    """Return up to limit decisions whose application id starts with prefix (HBase row-key order)."""
    with hbase_table(host, port) as table:
        if table is None:
            return []
        pairs = list(table.scan(row_prefix=prefix.encode(), limit=limit))
    rows = [ev.parse_row(key, columns) for key, columns in pairs]
    return [row_entry(r) for r in rows if not isinstance(r, ev.ParseError)]


def recent_decisions(bootstrap: str, limit: int) -> list[dict[str, Any]]:
    """Return the latest decision events (the last ``limit`` of each partition), newest first."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        client_id="loanrisk-dashboard",
        request_timeout_ms=5000,
    )
    try:
        tps = [TopicPartition(DECISIONS_TOPIC, p) for p in sorted(consumer.partitions_for_topic(DECISIONS_TOPIC) or ())]
        if not tps:
            return []
        consumer.assign(tps)
        ends, begins = consumer.end_offsets(tps), consumer.beginning_offsets(tps)
        for tp in tps:
            consumer.seek(tp, max(begins[tp], ends[tp] - limit))
        found: list[ev.DecisionEvent] = []
        deadline = time.monotonic() + KAFKA_READ_S
        while any(consumer.position(tp) < ends[tp] for tp in tps) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                found += [
                    e for r in records if not isinstance(e := ev.parse_decision_event(r.value or b""), ev.ParseError)
                ]
    finally:
        consumer.close()
    latest: dict[str, ev.DecisionEvent] = {}
    for e in sorted(found, key=lambda e: e.saved_at_ms):
        latest[e.application_id] = e
    return [event_view(e) for e in sorted(latest.values(), key=lambda e: e.saved_at_ms, reverse=True)[:limit]]
