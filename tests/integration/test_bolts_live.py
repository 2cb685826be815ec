"""The bolts' paths that touch the real services: dead letters on Kafka, the Risk API, HBase rows and events.

Each bolt object is fed tuples in-process (tests/bolts/harness.py) but talks to the running stack: a scratch
dead-letter topic, a scratch decisions topic and a scratch HBase table (deleted afterwards), and the Risk API.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bolts"))

from harness import Captured  # noqa: E402

from bolts.decision import DecisionBolt  # noqa: E402
from bolts.filter import FilterBolt  # noqa: E402
from bolts.save import SaveBolt  # noqa: E402
from bolts.submit import SubmitBolt  # noqa: E402
from jobs.kafka_topics import TopicSpec, ensure_topics  # noqa: E402
from loanrisk import events  # noqa: E402
from loanrisk.applicant import Applicant  # noqa: E402


def make_applicant(app_id: str, **change: Any) -> dict[str, Any]:
    """Return a canonical applicant that passes the pre-screen."""
    base = Applicant(
        id=app_id, loan_amnt=10_000.0, term=36, int_rate=9.5, installment=320.3, grade="B", sub_grade="B2",
        emp_title="Nurse", emp_length=6, home_ownership="MORTGAGE", annual_inc=72_000.0,
        verification_status="Verified", purpose="debt_consolidation", title="Debt consolidation",
        zip_code="070xx", addr_state="NJ", dti=18.2, delinq_2yrs=0, earliest_cr_line="2004-03",
        fico_range_low=705, fico_range_high=709, inq_last_6mths=1, mths_since_last_delinq=None, open_acc=9,
        pub_rec=0, revol_bal=8_200.0, revol_util=41.0, total_acc=22, application_type="Individual",
        issue_d="2015-12").to_dict()
    return {**base, **change}


def received_for(payload: bytes, offset: int, key: str | None = None) -> dict[str, Any]:
    """Return the Received dict the FilterBolt would attach to a record with this payload."""
    return events.Received(events.Source("loan-applications", 1, offset), key, payload.decode("utf-8", "replace"),
                           hashlib.sha256(payload).hexdigest(), int(time.time() * 1000)).to_dict()


class TopicTail:
    """Reads what is published to a topic after the moment it was created."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        """Assign every partition at its current end."""
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        parts = [TopicPartition(topic, p) for p in sorted(self.consumer.partitions_for_topic(topic) or [])]
        self.consumer.assign(parts)
        self.consumer.seek_to_end(*parts)
        for p in parts:
            self.consumer.position(p)

    def read(self, expected: int, timeout_s: float = 10.0) -> list[tuple[bytes | None, bytes]]:
        """Return (key, value) of new records; waits for `expected`, then a little longer for extras."""
        found, deadline = [], time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for records in self.consumer.poll(timeout_ms=300).values():
                found += [(r.key, r.value) for r in records]
            if len(found) >= expected:
                deadline = min(deadline, time.monotonic() + 1.0)
        return found

    def close(self) -> None:
        """Close the consumer."""
        self.consumer.close()


@pytest.fixture(scope="module")
def scratch(settings) -> Iterator[dict[str, Any]]:
    """Create scratch DLQ and decisions topics and an HBase table name; delete them afterwards."""
    tag = uuid.uuid4().hex[:10]
    dlq, decisions, table = f"it-dlq-{tag}", f"it-decisions-{tag}", f"it_loan_applications_{tag}"
    for status in ensure_topics(settings.kafka_bootstrap, [TopicSpec(dlq, 1), TopicSpec(decisions, 2)]):
        assert status.ok, status
    conf = {"loanrisk.kafka.bootstrap": settings.kafka_bootstrap, "loanrisk.kafka.dlq_topic": dlq,
            "loanrisk.kafka.decisions_topic": decisions, "loanrisk.hbase.host": settings.hbase_host,
            "loanrisk.hbase.port": settings.hbase_port, "loanrisk.hbase.table": table,
            "loanrisk.risk_api.url": settings.risk_api_url}
    yield conf
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        admin.delete_topics([dlq, decisions])
    finally:
        admin.close()
    drop_table(settings, table)


def drop_table(settings, table: str) -> None:
    """Delete the scratch HBase table if a test created it (HBase down: it cannot have been created)."""
    import happybase
    from thriftpy2.transport import TTransportException

    try:
        conn = happybase.Connection(settings.hbase_host, settings.hbase_port)
    except TTransportException:
        return
    try:
        if table.encode() in conn.tables():
            conn.delete_table(table, disable=True)
    finally:
        conn.close()


def tail(scratch: dict[str, Any], which: str) -> TopicTail:
    """Start reading the scratch topic `dlq` or `decisions`."""
    return TopicTail(scratch["loanrisk.kafka.bootstrap"], scratch[f"loanrisk.kafka.{which}_topic"])


def test_filter_bolt_dead_letters_bad_records_before_acking(scratch):
    """Invalid records land on the dead-letter topic with reason, raw payload, its sha256 and coordinates."""
    dlq = tail(scratch, "dlq")
    cap = Captured(FilterBolt, scratch)
    bad = [b'{"id": "G-BAD-1", "loan_amnt": ', b'["not", "an", "object"]', b"\xff\xfebinary",
           json.dumps(make_applicant("G-BAD-4", loan_amnt=-5)).encode()]
    keys = ["G-BAD-1", None, None, "G-BAD-4"]  # the producer keys by id when it knows one
    tups = [cap.feed(["loan-applications", 3, 100 + i, k, p.decode("utf-8", "replace"), 1_790_000_000_000,
                      hashlib.sha256(p).hexdigest(), _is_utf8(p)]) for i, (k, p) in enumerate(zip(keys, bad))]
    assert cap.acked() == [t.id for t in tups] and cap.failed() == [] and cap.emitted() == []
    letters = [events.parse_dead_letter(v) for _, v in dlq.read(len(bad))]
    dlq.close()
    assert [(d.reason, d.source.offset) for d in letters] == [
        ("BAD_JSON", 100), ("NOT_AN_OBJECT", 101), ("BAD_JSON", 102), ("OUT_OF_RANGE", 103)]
    assert [d.raw_sha256 for d in letters] == [hashlib.sha256(p).hexdigest() for p in bad]
    assert [d.application_id for d in letters] == ["G-BAD-1", None, None, "G-BAD-4"]
    assert letters[3].field == "loan_amnt" and letters[0].raw == bad[0].decode()


def _is_utf8(payload: bytes) -> bool:
    """Tell whether bytes are valid UTF-8."""
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_submit_bolt_scores_a_batch_with_the_risk_api(scratch):
    """A full batch is scored by the real Risk API: one anchored emit per tuple with a MODEL decision."""
    cap = Captured(SubmitBolt, {**scratch, "loanrisk.submit.batch_size": 3})
    ids = [f"IT{uuid.uuid4().hex[:8]}" for _ in range(3)]
    tups = [cap.feed([i, make_applicant(i), received_for(b"{}", n)]) for n, i in enumerate(ids)]
    assert cap.failed() == [] and cap.acked() == [t.id for t in tups]
    emits = cap.emitted()
    assert [e["tuple"][0] for e in emits] == ids and [e["anchors"] for e in emits] == [[t.id] for t in tups]
    for emit in emits:
        decision = events.Decision.from_dict(emit["tuple"][2])
        assert decision.decided_by == "MODEL" and decision.decision in events.DECISIONS
        assert 0.0 <= decision.probability_of_default <= 1.0 and decision.model_version
        assert bool(decision.reasons) == (decision.decision != "APPROVE")  # only adverse decisions state reasons


def test_submit_bolt_dead_letters_the_applicant_the_risk_api_rejects(scratch):
    """A 422 for one applicant dead-letters it (RISK_API_REJECTED); the rest of the batch is still scored."""
    dlq = tail(scratch, "dlq")
    cap = Captured(SubmitBolt, {**scratch, "loanrisk.submit.batch_size": 3})
    ids = [f"IT{uuid.uuid4().hex[:8]}" for _ in range(3)]
    applicants = [make_applicant(ids[0]), make_applicant(ids[1], grade="Z"), make_applicant(ids[2])]
    tups = [cap.feed([i, a, received_for(json.dumps(a).encode(), n)]) for n, (i, a) in enumerate(zip(ids, applicants))]
    assert sorted(cap.acked()) == sorted(t.id for t in tups) and cap.failed() == []
    assert [e["tuple"][0] for e in cap.emitted()] == [ids[0], ids[2]]
    [letter] = [events.parse_dead_letter(v) for _, v in dlq.read(1)]
    dlq.close()
    assert (letter.reason, letter.application_id) == ("RISK_API_REJECTED", ids[1])


def test_decision_bolt_dead_letters_a_later_duplicate_in_kafka_order(scratch):
    """A later record with an id seen before and other content is dead-lettered as DUPLICATE_ID, then acked."""
    dlq = tail(scratch, "dlq")
    cap = Captured(DecisionBolt, scratch)
    app_id = f"IT{uuid.uuid4().hex[:8]}"
    original, other = make_applicant(app_id), make_applicant(app_id, grade="F", sub_grade="F1")
    dup_payload = json.dumps(other).encode()
    tups = [cap.feed([app_id, original, received_for(json.dumps(original).encode(), 10, app_id)]),
            cap.feed([app_id, other, received_for(dup_payload, 11, app_id)])]
    assert cap.acked() == [t.id for t in tups] and cap.failed() == []
    assert len(cap.emitted()) == 1 and cap.emitted("declined") == []
    [letter] = [events.parse_dead_letter(v) for _, v in dlq.read(1)]
    dlq.close()
    assert (letter.reason, letter.application_id, letter.source.offset) == ("DUPLICATE_ID", app_id, 11)
    assert letter.raw_sha256 == hashlib.sha256(dup_payload).hexdigest()


def _decided(app_id: str, offset: int, **change: Any) -> list[Any]:
    """Return a decided tuple's values as the SubmitBolt emits them."""
    applicant = make_applicant(app_id, **change)
    decision = events.Decision(app_id, "APPROVE", "MODEL", 0.07, (events.Reason("R1", "Low DTI"),), "m-test", "p-test")
    return [app_id, applicant, decision.to_dict(), received_for(json.dumps(applicant).encode(), offset, app_id)]


def test_save_bolt_writes_rows_publishes_once_and_dead_letters_duplicates(scratch):
    """Rows land in HBase with their decision; a replay publishes nothing new; other content is DUPLICATE_ID."""
    import happybase

    decisions, dlq = tail(scratch, "decisions"), tail(scratch, "dlq")
    cap = Captured(SaveBolt, {**scratch, "loanrisk.save.batch_size": 2})
    a, b = f"IT{uuid.uuid4().hex[:8]}", f"IT{uuid.uuid4().hex[:8]}"
    first = [cap.feed(_decided(a, 1)), cap.feed(_decided(b, 2))]
    assert cap.acked() == [t.id for t in first]
    table = happybase.Connection(scratch["loanrisk.hbase.host"], scratch["loanrisk.hbase.port"]).table(
        scratch["loanrisk.hbase.table"])
    row = events.parse_row(a, table.row(a.encode()))
    assert row.decision.decision == "APPROVE" and row.decision.model_version == "m-test" and row.event_published
    assert [r.code for r in row.decision.reasons] == ["R1"] and row.source.offset == 1

    replay = [cap.feed(_decided(a, 1)), cap.feed(_decided(b, 2, loan_amnt=12_000.0))]
    assert cap.acked()[2:] == [t.id for t in replay] and cap.failed() == []
    assert events.parse_row(a, table.row(a.encode())).saved_at_ms == row.saved_at_ms
    assert events.parse_row(b, table.row(b.encode())).applicant["loan_amnt"] == 10_000.0

    published = [events.parse_decision_event(v) for _, v in decisions.read(2, timeout_s=5)]
    letters = [events.parse_dead_letter(v) for _, v in dlq.read(1, timeout_s=5)]
    decisions.close(), dlq.close()
    assert sorted(e.application_id for e in published) == sorted([a, b])
    assert [(d.reason, d.application_id) for d in letters] == [("DUPLICATE_ID", b)]
