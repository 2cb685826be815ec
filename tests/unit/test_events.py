"""Unit tests of the pipeline's records: HBase row, decision event, dead letter."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest

from loanrisk import events
from loanrisk.events import Decision, Reason, Received, Source

APPLICANT = {"id": "G000123", "loan_amnt": 12000.0, "grade": "B", "emp_title": None, "schema_version": 1}
RECEIVED = Received(
    Source("loan-applications", 3, 41),
    "G000123",
    '{"id":"G000123"}',
    hashlib.sha256(b'{"id":"G000123"}').hexdigest(),
    1_790_000_000_123,
)
MODEL = Decision(
    "G000123",
    "REVIEW",
    "MODEL",
    0.1875,
    (Reason("R01", "High debt-to-income ratio"),),
    "lr-2026.11.22-abc",
    "thresholds-v1",
)
PRESCREEN = Decision(
    "G000123",
    "DECLINE",
    "PRESCREEN",
    None,
    (Reason("PS_GRADE", "Grade E is below the lending policy"),),
    None,
    "prescreen-v1",
)


def test_fingerprint_ignores_key_order_and_changes_with_content():
    """The fingerprint depends on content, not on key order."""
    reordered = dict(reversed(list(APPLICANT.items())))
    assert events.fingerprint(reordered) == events.fingerprint(APPLICANT)
    assert events.fingerprint({**APPLICANT, "loan_amnt": 12000.5}) != events.fingerprint(APPLICANT)


def test_fingerprint_is_sha256_of_the_stored_applicant_json():
    """applicant:fingerprint is the sha256 of applicant:json, so anyone can check a row."""
    row = events.hbase_row(APPLICANT, MODEL, RECEIVED, 1_790_000_000_500)
    assert hashlib.sha256(row[events.COL_APPLICANT_JSON]).hexdigest().encode() == row[events.COL_FINGERPRINT]
    assert json.loads(row[events.COL_APPLICANT_JSON]) == APPLICANT


@pytest.mark.parametrize("decision", [MODEL, PRESCREEN], ids=["model", "prescreen"])
def test_hbase_row_round_trips(decision):
    """A row built by the SaveBolt reads back to the same decision, source and timestamps."""
    row = events.hbase_row(APPLICANT, decision, RECEIVED, 1_790_000_000_500)
    stored = events.parse_row(b"G000123", row)
    assert isinstance(stored, events.StoredRow)
    assert stored.decision == decision
    assert stored.applicant == APPLICANT
    assert stored.source == RECEIVED.source
    assert (stored.kafka_ts_ms, stored.saved_at_ms) == (1_790_000_000_123, 1_790_000_000_500)


def test_the_event_rebuilt_from_a_stored_row_is_the_published_one_grade_included():
    """A replay of a saved row republishes from the row: the same event, with the grade the first one carried."""
    row = events.hbase_row(APPLICANT, MODEL, RECEIVED, 1_790_000_000_500)
    fp = row[events.COL_FINGERPRINT].decode()
    first = events.decision_event(
        MODEL, RECEIVED, 1_790_000_000_500, fp, events.applicant_grade(row[events.COL_APPLICANT_JSON])
    )
    stored = events.parse_row(b"G000123", row)
    assert isinstance(stored, events.StoredRow)
    assert first.grade == "B"
    assert events.stored_event(stored).to_dict() == first.to_dict()


def test_prescreen_row_has_empty_probability_and_model_version():
    """A pre-screen decline reads back with empty strings where the model would have answered."""
    row = events.cells(events.hbase_row(APPLICANT, PRESCREEN, RECEIVED, 1))
    assert row[events.COL_PD] == b""
    assert row[events.COL_MODEL_VERSION] == b""
    assert row[events.COL_DECIDED_BY] == b"PRESCREEN"


def test_a_row_is_three_cells_with_the_decision_in_one_record():
    """Schema 3: the applicant, its fingerprint (the multi-get's cell) and one cell for everything decided."""
    row = events.hbase_row(APPLICANT, MODEL, RECEIVED, 1_790_000_000_500)
    assert set(row) == {events.COL_APPLICANT_JSON, events.COL_FINGERPRINT, events.COL_RECORD}
    assert json.loads(row[events.COL_RECORD]) == {
        "decision": "REVIEW",
        "decided_by": "MODEL",
        "probability_of_default": 0.1875,
        "reasons": [{"code": "R01", "text": "High debt-to-income ratio"}],
        "model_version": "lr-2026.11.22-abc",
        "policy_version": "thresholds-v1",
        "source": {"topic": "loan-applications", "partition": 3, "offset": 41},
        "kafka_ts_ms": 1_790_000_000_123,
        "saved_at_ms": 1_790_000_000_500,
        "schema_version": 3,
    }


# What the SaveBolt wrote before schema 2 (one cell per field), for the same applicant and decision as MODEL.
SCHEMA_1_ROW = {
    b"applicant:json": events.applicant_json(APPLICANT),
    b"applicant:fingerprint": events.fingerprint(APPLICANT).encode(),
    b"decision:decision": b"REVIEW",
    b"decision:decided_by": b"MODEL",
    b"decision:probability_of_default": b"0.1875",
    b"decision:reasons": b'[{"code":"R01","text":"High debt-to-income ratio"}]',
    b"decision:model_version": b"lr-2026.11.22-abc",
    b"decision:policy_version": b"thresholds-v1",
    b"decision:source": b'{"offset":41,"partition":3,"topic":"loan-applications"}',
    b"decision:kafka_ts_ms": b"1790000000123",
    b"decision:saved_at_ms": b"1790000000500",
    b"decision:schema_version": b"1",
    b"decision:event_published": b"1",
}


# What the SaveBolt wrote as schema 2 for the same decision: schema 1's applicant cells and four decision cells,
# the rest in one record.
SCHEMA_2_APART = (
    b"applicant:json",
    b"applicant:fingerprint",
    b"decision:saved_at_ms",
    b"decision:kafka_ts_ms",
    b"decision:decided_by",
    b"decision:model_version",
)
SCHEMA_2_ROW = {c: SCHEMA_1_ROW[c] for c in SCHEMA_2_APART} | {
    b"decision:record": b'{"decision":"REVIEW","probability_of_default":0.1875,"reasons":[{"code":"R01",'
    b'"text":"High debt-to-income ratio"}],"policy_version":"thresholds-v1","source":{"topic":"loan-applications",'
    b'"partition":3,"offset":41},"schema_version":2}',
}


@pytest.mark.parametrize(("old_row", "version"), [(SCHEMA_1_ROW, 1), (SCHEMA_2_ROW, 2)], ids=["schema-1", "schema-2"])
def test_rows_of_every_schema_read_back_the_same(old_row, version):
    """A schema-1 or schema-2 row and a schema-3 row of the same decision give the same fields and StoredRow."""
    new = events.hbase_row(APPLICANT, MODEL, RECEIVED, 1_790_000_000_500)
    old, again = events.parse_row("G000123", old_row), events.parse_row("G000123", new)
    assert isinstance(old, events.StoredRow)
    assert isinstance(again, events.StoredRow)
    assert old.schema_version == version
    assert dataclasses.replace(old, schema_version=3, event_published=False) == again
    unpacked = events.cells(new)
    assert {c: unpacked[c] for c in SCHEMA_1_ROW if c in unpacked} == {
        c: v for c, v in SCHEMA_1_ROW.items() if c not in (events.COL_SCHEMA_VERSION, events.COL_EVENT_PUBLISHED)
    } | {events.COL_SCHEMA_VERSION: b"3"}


@pytest.mark.parametrize("old_row", [SCHEMA_1_ROW, SCHEMA_2_ROW], ids=["schema-1", "schema-2"])
def test_a_reader_asking_for_stored_columns_gets_its_fields_from_every_schema(old_row):
    """What stored_columns asks HBase for, read through cells(), gives the fields whichever schema wrote the row."""
    wanted = [events.COL_FINGERPRINT, events.COL_SAVED_AT, events.COL_KAFKA_TS, events.COL_DECIDED_BY]
    new = events.hbase_row(APPLICANT, MODEL, RECEIVED, 1_790_000_000_500)
    for row in (old_row, new):
        returned = {c: v for c, v in row.items() if c in events.stored_columns(wanted)}  # what HBase would return
        assert {c: events.cells(returned)[c] for c in wanted} == {c: SCHEMA_1_ROW[c] for c in wanted}


def test_stored_columns_add_the_record_only_for_fields_it_holds():
    assert events.stored_columns([events.COL_APPLICANT_JSON, events.COL_FINGERPRINT]) == [
        events.COL_APPLICANT_JSON,
        events.COL_FINGERPRINT,
    ]
    assert events.stored_columns([events.COL_APPLICANT_JSON, events.COL_KAFKA_TS]) == [
        events.COL_APPLICANT_JSON,
        events.COL_KAFKA_TS,
        events.COL_RECORD,
    ]
    assert events.stored_columns([events.COL_DECISION, events.COL_SAVED_AT]) == [
        events.COL_DECISION,
        events.COL_SAVED_AT,
        events.COL_RECORD,
    ]


@pytest.mark.parametrize(
    "record", [None, b"{not json", b"[1, 2]", b'{"decision": "APPROVE"}'], ids=["missing", "garbage", "list", "partial"]
)
def test_parse_row_reports_a_broken_row_as_a_value(record):
    """A row without a readable decision is a ParseError, not an exception."""
    row = events.hbase_row(APPLICANT, MODEL, RECEIVED, 1)
    del row[events.COL_RECORD]
    if record is not None:
        row[events.COL_RECORD] = record
    assert isinstance(events.parse_row("G000123", row), events.ParseError)


def test_decision_event_round_trips_through_json():
    """The event on loan-decisions parses back to what was published."""
    event = events.decision_event(MODEL, RECEIVED, 1_790_000_000_500)
    payload = events.dumps(event.to_dict())
    assert events.parse_decision_event(payload) == event
    assert set(json.loads(payload)) == {
        "schema_version",
        "application_id",
        "decision",
        "decided_by",
        "probability_of_default",
        "reasons",
        "model_version",
        "policy_version",
        "source",
        "kafka_ts_ms",
        "saved_at_ms",
        "event_id",
        "grade",
    }


def test_the_event_carries_the_applicants_grade() -> None:
    """The grade given at publishing travels in the event and parses back; an event without one reads None."""
    event = events.decision_event(MODEL, RECEIVED, 5, grade="B")
    parsed = events.parse_decision_event(events.dumps(event.to_dict()))
    assert isinstance(parsed, events.DecisionEvent)
    assert parsed.grade == "B"
    older = events.parse_decision_event(events.dumps({k: v for k, v in event.to_dict().items() if k != "grade"}))
    assert isinstance(older, events.DecisionEvent)
    assert older.grade is None


@pytest.mark.parametrize(
    ("applicant", "grade"),
    [
        ({"grade": "C"}, "C"),
        (b'{"grade": "A", "id": "x"}', "A"),
        ('{"id": "x"}', None),
        (b"not json", None),
        ("[1]", None),
    ],
)
def test_applicant_grade(applicant: Any, grade: str | None) -> None:
    """The grade of a canonical applicant, given as a dict or as its JSON; None when absent or unreadable."""
    assert events.applicant_grade(applicant) == grade


def test_prescreen_event_has_null_probability():
    """A pre-screen decline publishes probability_of_default null."""
    data = json.loads(events.dumps(events.decision_event(PRESCREEN, RECEIVED, 5).to_dict()))
    assert data["probability_of_default"] is None
    assert data["decided_by"] == "PRESCREEN"


def test_dead_letter_keeps_raw_payload_and_its_hash():
    """A dead letter carries the reason, the raw payload, its sha256 and Kafka coordinates."""
    raw, digest = events.decode_raw(b'{"id": "G1", "loan_amnt": \xff}')
    received = Received(Source("loan-applications", 0, 7), None, raw, digest, 10)
    letter = events.dead_letter(received, "BAD_JSON", None, "Expecting value", None, 20)
    back = events.parse_dead_letter(events.dumps(letter.to_dict()))
    assert back == letter
    assert back.raw_sha256 == hashlib.sha256(b'{"id": "G1", "loan_amnt": \xff}').hexdigest()
    assert "\ufffd" in back.raw
    assert back.source.to_dict() == {"topic": "loan-applications", "partition": 0, "offset": 7}


def test_decode_raw_of_a_missing_payload_is_empty():
    """A tombstone (null value) dead-letters as an empty payload."""
    assert events.decode_raw(None) == ("", hashlib.sha256(b"").hexdigest())


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"reason": "X"}'])
def test_parse_dead_letter_rejects_garbage(payload):
    """Anything that is not a dead letter is reported, not raised."""
    assert isinstance(events.parse_dead_letter(payload), events.ParseError)


def test_decision_from_evaluation_reads_the_risk_api_result():
    """A Risk API result becomes a MODEL decision with its reasons and versions."""
    result = {
        "application_id": "G000123",
        "probability_of_default": 0.1875,
        "probability_of_payoff": 0.8125,
        "decision": "REVIEW",
        "reasons": [{"code": "R01", "text": "High debt-to-income ratio"}],
        "model_version": "lr-2026.11.22-abc",
        "policy_version": "thresholds-v1",
    }
    assert events.decision_from_evaluation(result) == MODEL


def test_received_and_decision_survive_a_storm_tuple():
    """Records that travel inside tuples come back equal after JSON (multilang) serialisation."""
    assert Received.from_dict(json.loads(json.dumps(RECEIVED.to_dict()))) == RECEIVED
    assert Decision.from_dict(json.loads(json.dumps(PRESCREEN.to_dict()))) == PRESCREEN


def _received(raw: str, key: str | None = None) -> Received:
    """Build a received record around a raw payload."""
    return Received(Source("loan-applications", 0, 1), key, raw, "0" * 64, 1)


@pytest.mark.parametrize(
    ("raw", "key", "expected"),
    [
        ('{"id": "G77", "loan_amnt": "x"}', None, "G77"),
        ('{"id": 12345}', None, "12345"),
        ('{"id": ""}', "K1", "K1"),
        ('{"id": true}', None, None),
        ('{"id": "G77"', "G77", "G77"),
        ("[1, 2]", None, None),
        ("", None, None),
        ('{"loan_amnt": 1}', "  ", None),
    ],
)
def test_application_id_hint(raw, key, expected):
    """The id of a rejected payload comes from its JSON, else from the Kafka key, else is unknown."""
    assert events.application_id_hint(_received(raw, key)) == expected


def test_plan_saves_new_ids_are_written():
    """Ids never seen are written."""
    assert events.plan_saves([("A", "f1"), ("B", "f2")], {}) == [events.WRITE, events.WRITE]


def test_plan_saves_replay_of_a_saved_row_republishes_without_writing():
    """A replay with the stored fingerprint is not written again; its event is published again."""
    existing = {"A": events.Stored("f1", 1_790_000_000_500)}
    assert events.plan_saves([("A", "f1")], existing) == [events.REPUBLISH]


def test_plan_saves_other_content_under_a_stored_id_is_a_duplicate():
    """An id stored with another fingerprint is a duplicate."""
    existing = {"A": events.Stored("f1", 1), "B": events.Stored("f9", 2)}
    assert events.plan_saves([("A", "f2"), ("B", "f2")], existing) == [events.DUPLICATE, events.DUPLICATE]


def test_plan_saves_within_a_batch_the_first_content_wins():
    """Within one batch the first item of an id is written; a repeat is skipped, other content is a duplicate."""
    items = [("A", "f1"), ("A", "f1"), ("A", "f2"), ("B", "f3")]
    assert events.plan_saves(items, {}) == [events.WRITE, events.SKIP, events.DUPLICATE, events.WRITE]


def test_a_replayed_batch_publishes_the_identical_event():
    """First attempt (WRITE at t1) and replay (REPUBLISH with the stored save time): byte-identical events."""
    fp = events.fingerprint(APPLICANT)
    first = events.decision_event(MODEL, RECEIVED, 1_790_000_000_500, fp)
    stored = {"G000123": events.Stored(fp, 1_790_000_000_500)}
    assert events.plan_saves([("G000123", fp)], stored) == [events.REPUBLISH]
    replay = events.decision_event(MODEL, RECEIVED, stored["G000123"].saved_at_ms, fp)
    assert events.dumps(replay.to_dict()) == events.dumps(first.to_dict())


def test_event_id_is_deterministic_and_names_what_was_decided():
    """Same id, content, decision and model version: same event_id; any of them changed: another one."""
    fp = events.fingerprint(APPLICANT)
    base = events.event_id("G000123", fp, MODEL)
    assert base == events.event_id("G000123", fp, MODEL)
    assert len(base) == 64
    assert base != events.event_id("G000123", events.fingerprint({**APPLICANT, "loan_amnt": 1.0}), MODEL)
    assert base != events.event_id("G000123", fp, dataclasses.replace(MODEL, decision="APPROVE"))
    assert base != events.event_id("G000123", fp, dataclasses.replace(MODEL, model_version="lr-other"))


def test_decision_event_round_trips_with_its_id():
    """parse_decision_event reads schema 2 back, event_id included; schema 1 events still parse."""
    event = events.decision_event(MODEL, RECEIVED, 1_790_000_000_500, events.fingerprint(APPLICANT))
    parsed = events.parse_decision_event(events.dumps(event.to_dict()))
    assert parsed == event
    assert isinstance(parsed, events.DecisionEvent)
    assert parsed.schema_version == 2
    assert parsed.event_id
    old = {k: v for k, v in event.to_dict().items() if k != "event_id"} | {"schema_version": 1}
    parsed_old = events.parse_decision_event(events.dumps(old))
    assert isinstance(parsed_old, events.DecisionEvent)
    assert parsed_old.event_id == ""


def test_tracked_wire_round_trips():
    """What travels after the filter reads back to the same record."""
    tracked = events.Tracked.of("G000123", APPLICANT, RECEIVED)
    assert events.Tracked.from_wire(json.loads(json.dumps(tracked.to_wire()))) == tracked


def test_shard_of_is_stable_and_spreads():
    """An id always maps to one shard, the same in every process; ids spread over all shards."""
    ids = [f"G{i:06d}" for i in range(400)]
    shards = [events.shard_of(i, 4) for i in ids]
    assert shards == [events.shard_of(i, 4) for i in ids]
    assert set(shards) == {0, 1, 2, 3}
    assert (
        events.shard_of("G000123", 4) == int.from_bytes(hashlib.blake2b(b"G000123", digest_size=4).digest(), "big") % 4
    )


def test_duplicate_letter_names_the_id_and_the_payload_by_sha_and_coordinates():
    """A DUPLICATE_ID letter raised after the filter carries the id, the payload's sha256 and Kafka coordinates."""
    tracked = events.Tracked.of("G000123", APPLICANT, RECEIVED)
    letter = events.duplicate_letter(tracked, "ab" * 32, 99)
    assert (letter.reason, letter.field, letter.application_id) == ("DUPLICATE_ID", "id", "G000123")
    assert letter.raw == ""
    assert letter.raw_sha256 == RECEIVED.raw_sha256
    assert letter.source == RECEIVED.source
    assert letter.schema_version == 2
    assert events.parse_dead_letter(events.dumps(letter.to_dict())) == letter


def test_first_seen_flags_other_content_at_a_later_offset():
    """The first content of an id wins; a replay of it is no duplicate; other content later is."""
    window = events.FirstSeen(capacity=10)
    first, later = Source("loan-applications", 1, 10), Source("loan-applications", 1, 30)
    assert window.is_later_duplicate("A", "f1", first) is False
    assert window.is_later_duplicate("A", "f1", first) is False
    assert window.is_later_duplicate("A", "f2", later) is True
    assert window.first_fingerprint("A") == "f1"


def test_first_seen_does_not_flag_an_earlier_record_arriving_late():
    """Other content at an earlier offset (a replay after a restart) is left to the SaveBolt's HBase check."""
    window = events.FirstSeen(capacity=10)
    assert window.is_later_duplicate("A", "f2", Source("t", 0, 30)) is False
    assert window.is_later_duplicate("A", "f1", Source("t", 0, 10)) is False


def test_first_seen_is_bounded():
    """Beyond its capacity the window forgets the least recently seen id."""
    window = events.FirstSeen(capacity=2)
    for i, app_id in enumerate("ABC"):
        window.is_later_duplicate(app_id, "f", Source("t", 0, i))
    assert window.first_fingerprint("A") is None
    assert window.first_fingerprint("C") == "f"


def test_tracked_applicant_reads_back_the_canonical_dict_as_json_loads_does() -> None:
    """Tracked.applicant (orjson) gives json.loads's dict of the body, value for value and type for type."""
    from jobs import generate
    from loanrisk.applicant import Applicant
    from loanrisk.cleaning import parse_json_line

    lines = [line for chunk, _ in generate.generate_lines(500, "jsonl", 5) for line in chunk]
    applicants = [a.to_dict() for a in map(parse_json_line, lines) if isinstance(a, Applicant)]
    assert applicants
    for applicant in [*applicants, APPLICANT | {"emp_title": "Caf\u00e9 \u2028 \U0001f600"}]:
        tracked = events.Tracked.of(str(applicant["id"]), applicant, RECEIVED)
        back = tracked.applicant
        assert back == applicant == json.loads(tracked.body)
        assert [type(v) for v in back.values()] == [type(v) for v in json.loads(tracked.body).values()]
