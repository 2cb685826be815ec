"""The bolts' paths that touch the real services: dead letters on Kafka, the Risk API, HBase rows and events.

Each bolt object is fed tuples in-process (tests/bolts/harness.py) but talks to the running stack: a scratch
dead-letter topic, a scratch decisions topic and a scratch HBase table (deleted afterwards), and the Risk API.
"""

from __future__ import annotations

import dataclasses
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

from harness import Captured

from bolts.common import DEAD_LETTER_STREAM
from bolts.dead_letter import DeadLetterBolt
from bolts.filter import FilterBolt
from bolts.save import SaveBolt
from bolts.submit import SubmitBolt
from jobs.kafka_topics import TopicSpec, ensure_topics
from loanrisk import events
from loanrisk.applicant import Applicant


def _letter(payload: bytes | str) -> events.DeadLetter:
    parsed = events.parse_dead_letter(payload)
    assert isinstance(parsed, events.DeadLetter), parsed
    return parsed


def _row(key: bytes | str, columns: dict[bytes, bytes]) -> events.StoredRow:
    parsed = events.parse_row(key, columns)
    assert isinstance(parsed, events.StoredRow), parsed
    return parsed


def _event(payload: bytes | str) -> events.DecisionEvent:
    parsed = events.parse_decision_event(payload)
    assert isinstance(parsed, events.DecisionEvent), parsed
    return parsed


def make_applicant(app_id: str, **change: Any) -> dict[str, Any]:
    """Return a canonical applicant that passes the pre-screen."""
    base = Applicant(
        id=app_id,
        loan_amnt=10_000.0,
        term=36,
        int_rate=9.5,
        installment=320.3,
        grade="B",
        sub_grade="B2",
        emp_title="Nurse",
        emp_length=6,
        home_ownership="MORTGAGE",
        annual_inc=72_000.0,
        verification_status="Verified",
        purpose="debt_consolidation",
        title="Debt consolidation",
        zip_code="070xx",
        addr_state="NJ",
        dti=18.2,
        delinq_2yrs=0,
        earliest_cr_line="2004-03",
        fico_range_low=705,
        fico_range_high=709,
        inq_last_6mths=1,
        mths_since_last_delinq=None,
        open_acc=9,
        pub_rec=0,
        revol_bal=8_200.0,
        revol_util=41.0,
        total_acc=22,
        application_type="Individual",
        issue_d="2015-12",
    ).to_dict()
    return {**base, **change}


def received_for(payload: bytes, offset: int, key: str | None = None) -> dict[str, Any]:
    """Return the Received dict the FilterBolt would attach to a record with this payload."""
    return events.Received(
        events.Source("loan-applications", 1, offset),
        key,
        payload.decode("utf-8", "replace"),
        hashlib.sha256(payload).hexdigest(),
        int(time.time() * 1000),
    ).to_dict()


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
    """Create scratch DLQ and decisions topics and HBase table (as `make up` creates the real ones); drop them after."""
    import happybase

    tag = uuid.uuid4().hex[:10]
    dlq, decisions, table = f"it-dlq-{tag}", f"it-decisions-{tag}", f"it_loan_applications_{tag}"
    for status in ensure_topics(settings.kafka_bootstrap, [TopicSpec(dlq, 1), TopicSpec(decisions, 2)]):
        assert status.ok, status
    conn = happybase.Connection(settings.hbase_host, settings.hbase_port)
    conn.create_table(table, {family: {"max_versions": 1} for family in events.FAMILIES})
    conn.close()
    conf = {
        "loanrisk.kafka.bootstrap": settings.kafka_bootstrap,
        "loanrisk.kafka.dlq_topic": dlq,
        "loanrisk.kafka.decisions_topic": decisions,
        "loanrisk.hbase.host": settings.hbase_host,
        "loanrisk.hbase.port": settings.hbase_port,
        "loanrisk.hbase.table": table,
        "loanrisk.risk_api.url": settings.risk_api_url,
        "loanrisk.risk_api.token_file": str(settings.token_file("scorer")),
    }  # as the topology file sets it
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


def wire(app_id: str, offset: int, applicant: dict[str, Any] | None = None) -> list[Any]:
    """Return the record of an applicant as it travels after the filter bolt."""
    applicant = applicant or make_applicant(app_id)
    received = events.Received.from_dict(received_for(json.dumps(applicant).encode(), offset, app_id))
    kafka_ts = 1_790_000_000_000 + offset  # a replay re-reads the same Kafka record: same coordinates and time
    return events.Tracked.of(app_id, applicant, dataclasses.replace(received, kafka_ts_ms=kafka_ts)).to_wire()


def publish_letters(scratch: dict[str, Any], letters: list[dict[str, Any]]) -> Captured:
    """Hand dead-letter tuples to a DeadLetterBolt on the scratch topic; return it."""
    sink = Captured(DeadLetterBolt, scratch)
    sink.arrive([m["tuple"] for m in letters], stream=DEAD_LETTER_STREAM)
    return sink


def test_bad_records_reach_the_dead_letter_topic_through_the_dead_letter_bolt(scratch):
    """Filter -> dead_letter stream -> DeadLetterBolt -> Kafka: reason, raw payload, its sha256 and coordinates."""
    dlq = tail(scratch, "dlq")
    cap = Captured(FilterBolt, scratch)
    bad = [
        b'{"id": "G-BAD-1", "loan_amnt": ',
        b'["not", "an", "object"]',
        b"\xff\xfebinary",
        json.dumps(make_applicant("G-BAD-4", loan_amnt=-5)).encode(),
    ]
    keys = ["G-BAD-1", None, None, "G-BAD-4"]  # the producer keys by id when it knows one
    ids = cap.arrive(
        [
            [
                "loan-applications",
                3,
                100 + i,
                k,
                p.decode("utf-8", "replace"),
                1_790_000_000_000,
                hashlib.sha256(p).hexdigest(),
                _is_utf8(p),
            ]
            for i, (k, p) in enumerate(zip(keys, bad, strict=True))
        ]
    )
    assert cap.acked() == ids
    assert cap.failed() == []
    assert cap.emitted() == []
    sink = publish_letters(scratch, cap.emitted(DEAD_LETTER_STREAM))
    assert len(sink.acked()) == 4
    assert sink.failed() == []
    letters = [_letter(v) for _, v in dlq.read(len(bad))]
    dlq.close()
    assert [(d.reason, d.source.offset) for d in letters] == [
        ("BAD_JSON", 100),
        ("NOT_AN_OBJECT", 101),
        ("BAD_JSON", 102),
        ("OUT_OF_RANGE", 103),
    ]
    assert [d.raw_sha256 for d in letters] == [hashlib.sha256(p).hexdigest() for p in bad]
    assert [d.application_id for d in letters] == ["G-BAD-1", None, None, "G-BAD-4"]
    assert letters[3].field == "loan_amnt"
    assert letters[0].raw == bad[0].decode()


def _is_utf8(payload: bytes) -> bool:
    """Tell whether bytes are valid UTF-8."""
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_submit_bolt_scores_queued_batches_with_the_risk_api(scratch):
    """Batches queued together are scored by the real Risk API: MODEL decisions, anchored to their inputs."""
    cap = Captured(SubmitBolt, scratch)
    ids = [f"IT{uuid.uuid4().hex[:8]}" for _ in range(3)]
    tups = cap.arrive([[0, [wire(ids[0], 0), wire(ids[1], 1)]], [0, [wire(ids[2], 2)]]])
    assert cap.failed() == []
    assert sorted(cap.acked()) == sorted(tups)
    [emit] = cap.emitted()
    assert [w[0] for w in emit["tuple"][1]] == ids
    assert sorted(emit["anchors"]) == sorted(tups)
    for item in emit["tuple"][1]:
        decision = events.Decision.from_dict(item[7])
        assert decision.decided_by == "MODEL"
        assert decision.decision in events.DECISIONS
        assert decision.probability_of_default is not None
        assert 0.0 <= decision.probability_of_default <= 1.0
        assert decision.model_version
        assert bool(decision.reasons) == (decision.decision != "APPROVE")  # only adverse decisions state reasons


def test_submit_bolt_dead_letters_the_applicant_the_risk_api_rejects(scratch):
    """One applicant the API refuses becomes RISK_API_REJECTED on the dead-letter topic; the rest are scored."""
    dlq = tail(scratch, "dlq")
    cap = Captured(SubmitBolt, scratch)
    ids = [f"IT{uuid.uuid4().hex[:8]}" for _ in range(3)]
    tup = cap.feed([0, [wire(ids[0], 0), wire(ids[1], 1, make_applicant(ids[1], grade="Z")), wire(ids[2], 2)]])
    assert cap.acked() == [tup.id]
    assert cap.failed() == []
    assert [w[0] for w in cap.emitted()[0]["tuple"][1]] == [ids[0], ids[2]]
    publish_letters(scratch, cap.emitted(DEAD_LETTER_STREAM))
    [letter] = [_letter(v) for _, v in dlq.read(1)]
    dlq.close()
    assert (letter.reason, letter.application_id, letter.source.offset) == ("RISK_API_REJECTED", ids[1], 1)


def _decided(app_id: str, offset: int, **change: Any) -> list[Any]:
    """Return a decided item as the SubmitBolt emits it."""
    decision = events.Decision(app_id, "APPROVE", "MODEL", 0.07, (events.Reason("R1", "Low DTI"),), "m-test", "p-test")
    return [*wire(app_id, offset, make_applicant(app_id, **change)), decision.to_dict()]


def test_save_bolt_writes_rows_replays_identical_events_and_dead_letters_duplicates(scratch):
    """Rows land in HBase; a replayed batch rewrites nothing and republishes identical events; other content is
    a DUPLICATE_ID dead letter."""
    import happybase

    decisions, dlq = tail(scratch, "decisions"), tail(scratch, "dlq")
    cap = Captured(SaveBolt, scratch)
    a, b = f"IT{uuid.uuid4().hex[:8]}", f"IT{uuid.uuid4().hex[:8]}"
    first = cap.feed([0, [_decided(a, 1), _decided(b, 2)]])
    assert cap.acked() == [first.id]
    table = happybase.Connection(scratch["loanrisk.hbase.host"], scratch["loanrisk.hbase.port"]).table(
        scratch["loanrisk.hbase.table"]
    )
    row = _row(a, table.row(a.encode()))
    assert row.decision.decision == "APPROVE"
    assert row.decision.model_version == "m-test"
    assert [r.code for r in row.decision.reasons] == ["R1"]
    assert row.source.offset == 1

    replay = cap.feed([0, [_decided(a, 1), _decided(b, 2, loan_amnt=12_000.0)]])
    assert cap.acked() == [first.id, replay.id]
    assert cap.failed() == []
    assert _row(a, table.row(a.encode())).saved_at_ms == row.saved_at_ms
    assert _row(b, table.row(b.encode())).applicant["loan_amnt"] == 10_000.0

    published = [_event(v) for _, v in decisions.read(3, timeout_s=5)]
    by_id: dict[str, list[events.DecisionEvent]] = {}
    for event in published:
        by_id.setdefault(event.application_id, []).append(event)
    assert len(by_id[a]) == 2
    assert by_id[a][0] == by_id[a][1]
    assert by_id[a][0].event_id
    assert len(by_id[b]) == 1
    [dup] = cap.emitted(DEAD_LETTER_STREAM)
    assert dup["anchors"] == [replay.id]
    publish_letters(scratch, [dup])
    letters = [_letter(v) for _, v in dlq.read(1, timeout_s=5)]
    decisions.close()
    dlq.close()
    assert [(d.reason, d.application_id) for d in letters] == [("DUPLICATE_ID", b)]


def test_a_replay_scored_by_another_model_republishes_the_stored_decision(scratch):
    """A row saved, then its record replayed after a model change: the row stays, the event is the row's."""
    import happybase

    decisions = tail(scratch, "decisions")
    cap = Captured(SaveBolt, scratch)
    app_id = f"IT{uuid.uuid4().hex[:8]}"
    cap.feed([0, [_decided(app_id, 1)]])
    rescored = events.Decision(app_id, "DECLINE", "MODEL", 0.61, (events.Reason("R9", "High DTI"),), "m-new", "p-test")
    replay = cap.feed([0, [[*wire(app_id, 1), rescored.to_dict()]]])
    assert cap.failed() == []
    assert replay.id in cap.acked()
    table = happybase.Connection(scratch["loanrisk.hbase.host"], scratch["loanrisk.hbase.port"]).table(
        scratch["loanrisk.hbase.table"]
    )
    row = _row(app_id, table.row(app_id.encode()))
    first, again = [_event(v) for _, v in decisions.read(2, timeout_s=5)]
    decisions.close()
    assert row.decision.decision == "APPROVE"
    assert again == first
    assert again.decision == "APPROVE"
    assert again.event_id == first.event_id


def test_a_broken_producer_fails_one_batch_and_the_replay_publishes_with_a_fresh_one(scratch):
    """A producer left unusable (here: closed under the bolt) fails its batch; the replay opens a new one."""
    decisions = tail(scratch, "decisions")
    cap = Captured(SaveBolt, scratch)
    app_id = f"IT{uuid.uuid4().hex[:8]}"
    cap.bolt.producer.close(timeout=1)
    broken = cap.feed([0, [_decided(app_id, 1)]])
    assert cap.failed() == [broken.id]
    replay = cap.feed([0, [_decided(app_id, 1)]])
    assert cap.acked() == [replay.id]
    [(key, value)] = decisions.read(1, timeout_s=5)
    decisions.close()
    assert key == app_id.encode()
    assert _event(value).application_id == app_id


def schema_1_columns(app_id: str, offset: int, saved_at_ms: int) -> dict[bytes, bytes]:
    """Return the cells the SaveBolt wrote before row schema 2 (one per field), as _decided(app_id, offset)."""
    tracked = events.Tracked.from_wire(wire(app_id, offset))
    body = tracked.body.encode()
    return {
        events.COL_APPLICANT_JSON: body,
        events.COL_FINGERPRINT: events.sha256_hex(body).encode(),
        events.COL_DECISION: b"APPROVE",
        events.COL_DECIDED_BY: b"MODEL",
        events.COL_PD: b"0.07",
        events.COL_REASONS: b'[{"code":"R1","text":"Low DTI"}]',
        events.COL_MODEL_VERSION: b"m-test",
        events.COL_POLICY_VERSION: b"p-test",
        events.COL_SOURCE: events.dumps(tracked.source.to_dict()),
        events.COL_KAFKA_TS: str(tracked.kafka_ts_ms).encode(),
        events.COL_SAVED_AT: str(saved_at_ms).encode(),
        events.COL_SCHEMA_VERSION: b"1",
        events.COL_EVENT_PUBLISHED: b"1",
    }


def test_a_replay_of_a_row_stored_in_schema_1_republishes_its_event_and_dead_letters_other_content(scratch):
    """Rows written before schema 2 still own their id: same content republishes the stored event, other
    content is a DUPLICATE_ID, and neither rewrites the old row."""
    import happybase

    table = happybase.Connection(scratch["loanrisk.hbase.host"], scratch["loanrisk.hbase.port"]).table(
        scratch["loanrisk.hbase.table"]
    )
    same, other = f"IT{uuid.uuid4().hex[:8]}", f"IT{uuid.uuid4().hex[:8]}"
    for app_id, offset in ((same, 1), (other, 2)):
        table.put(app_id.encode(), schema_1_columns(app_id, offset, 1_790_000_000_900))
    decisions = tail(scratch, "decisions")
    cap = Captured(SaveBolt, scratch)
    replay = cap.feed([0, [_decided(same, 1), _decided(other, 2, loan_amnt=12_000.0)]])
    assert cap.acked() == [replay.id]
    [(key, value)] = decisions.read(1, timeout_s=5)
    decisions.close()
    stored = _row(same, table.row(same.encode()))
    assert (key, stored.schema_version, stored.saved_at_ms) == (same.encode(), 1, 1_790_000_000_900)
    assert _event(value) == events.stored_event(stored)
    assert _row(other, table.row(other.encode())).applicant["loan_amnt"] == 10_000.0
    [dup] = cap.emitted(DEAD_LETTER_STREAM)
    assert (dup["tuple"][0], dup["tuple"][1]["reason"]) == (other, "DUPLICATE_ID")
