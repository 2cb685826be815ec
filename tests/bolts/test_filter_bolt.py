"""FilterBolt: records that arrive together leave as one batch per shard, anchored to all of them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from conftest import as_payload, spout_values
from harness import Captured

from bolts.common import DEAD_LETTER_STREAM
from bolts.filter import FilterBolt
from jobs import generate
from loanrisk import cleaning, events
from loanrisk.cleaning import parse_json_line

ONE_SHARD = {"loanrisk.batch.shards": 1}


def _records(applicant: dict[str, Any], n: int, start: int = 0) -> list[list[Any]]:
    return [
        spout_values(as_payload({**applicant, "id": f"G{i:06d}"}), key=f"G{i:06d}", offset=i)
        for i in range(start, start + n)
    ]


def _letter(payload: bytes) -> events.DeadLetter:
    parsed = events.parse_dead_letter(payload)
    assert isinstance(parsed, events.DeadLetter), parsed
    return parsed


def test_records_arriving_together_leave_as_one_batch_anchored_to_all(applicant: dict[str, Any]) -> None:
    """Three records queued in the pipe: one batch tuple of three, anchored to all three, then three acks."""
    cap = Captured(FilterBolt, ONE_SHARD, name="filter_bolt")
    ids = cap.arrive(_records(applicant, 3))
    [emit] = cap.emitted()
    shard, items = emit["tuple"]
    assert shard == 0
    assert [events.Tracked.from_wire(w).application_id for w in items] == [
        "G000000",
        "G000001",
        "G000002",
    ]
    assert sorted(emit["anchors"]) == sorted(ids)
    assert cap.emitted_and_acked() == [("emit", "default")] + [("ack", i) for i in ids]


def test_a_batch_carries_coordinates_and_sha_but_not_the_payload(applicant: dict[str, Any]) -> None:
    """After the filter only the sha256, Kafka coordinates and timestamp of the payload travel."""
    cap = Captured(FilterBolt, ONE_SHARD)
    payload = as_payload(applicant)
    cap.feed(spout_values(payload, key=applicant["id"], offset=17))
    [wire] = cap.emitted()[0]["tuple"][1]
    tracked = events.Tracked.from_wire(wire)
    assert tracked.applicant == applicant
    assert tracked.source == events.Source("loan-applications", 2, 17)
    assert tracked.raw_sha256 == hashlib.sha256(payload).hexdigest()
    assert tracked.kafka_ts_ms == 1_790_000_000_017
    assert payload.decode() not in str(wire)


def test_a_lone_record_is_flushed_as_soon_as_the_input_runs_dry(applicant: dict[str, Any]) -> None:
    """Nothing else waiting in the pipe: the record leaves at once (no tick, no timer)."""
    cap = Captured(FilterBolt, ONE_SHARD)
    tup = cap.feed(_records(applicant, 1)[0])
    assert len(cap.emitted()) == 1
    assert cap.acked() == [tup.id]


def test_batch_size_caps_a_flush(applicant: dict[str, Any]) -> None:
    """Five records queued with batch_size 2: batches of 2, 2, then 1 when the pipe runs dry."""
    cap = Captured(FilterBolt, {**ONE_SHARD, "loanrisk.filter.batch_size": 2})
    cap.arrive(_records(applicant, 5))
    assert [len(e["tuple"][1]) for e in cap.emitted()] == [2, 2, 1]
    assert len(cap.acked()) == 5


def test_each_id_goes_to_its_own_shard_every_time(applicant: dict[str, Any]) -> None:
    """With 4 shards, every item sits in the batch of its id's shard, across flushes too."""
    cap = Captured(FilterBolt, {"loanrisk.batch.shards": 4})
    cap.arrive(_records(applicant, 40))
    cap.arrive(_records(applicant, 40))
    seen: dict[str, set[int]] = {}
    for emit in cap.emitted():
        shard, items = emit["tuple"]
        for wire in items:
            seen.setdefault(wire[0], set()).add(shard)
    assert len(seen) == 40
    assert all(shards == {events.shard_of(i, 4)} for i, shards in seen.items())
    assert len({s for shards in seen.values() for s in shards}) > 1


def test_invalid_records_leave_on_the_dead_letter_stream_with_payload_and_reason(applicant: dict[str, Any]) -> None:
    """Bad payloads become anchored dead-letter tuples (raw, sha, coordinates, reason); good ones are batched."""
    cap = Captured(FilterBolt, ONE_SHARD)
    payloads = [as_payload(applicant), b"\xff\xfe not utf-8", b'{"id": "G1", "loan_amnt": ']
    ids = cap.arrive([spout_values(p, offset=i) for i, p in enumerate(payloads)])
    letters = cap.emitted(DEAD_LETTER_STREAM)
    assert [e["anchors"] for e in letters] == [[ids[1]], [ids[2]]]
    parsed = [_letter(events.dumps(e["tuple"][1])) for e in letters]
    assert [d.reason for d in parsed] == ["BAD_JSON", "BAD_JSON"]
    assert parsed[1].raw == payloads[2].decode()
    assert parsed[1].raw_sha256 == hashlib.sha256(payloads[2]).hexdigest()
    assert parsed[1].source.offset == 2
    assert letters[1]["tuple"][0] is None
    assert [e["anchors"] for e in cap.emitted()] == [[ids[0]]]
    assert sorted(cap.acked()) == sorted(ids)
    assert cap.failed() == []


def test_naive_design_sends_one_applicant_per_tuple(applicant: dict[str, Any]) -> None:
    """loanrisk.design=naive: every record is its own tuple even when several wait in the pipe."""
    cap = Captured(FilterBolt, {"loanrisk.design": "naive"})
    ids = cap.arrive(_records(applicant, 3))
    assert [(len(e["tuple"][1]), e["anchors"]) for e in cap.emitted()] == [(1, [i]) for i in ids]


def test_a_batch_spout_tuple_leaves_as_batches_anchored_to_it_with_each_records_coordinates(
    applicant: dict[str, Any],
) -> None:
    """LoanBatchSpout's (partition, records): every record is filtered, a bad one dead-lettered with coordinates."""
    records = [*_records(applicant, 3), spout_values(b"{not json", key="bad", offset=3)]
    cap = Captured(FilterBolt, ONE_SHARD)
    tup = cap.feed([2, records])
    [emit] = cap.emitted()
    assert [events.Tracked.from_wire(w).source.offset for w in emit["tuple"][1]] == [0, 1, 2]
    assert emit["anchors"] == [tup.id]
    [letter] = cap.emitted(DEAD_LETTER_STREAM)
    assert letter["anchors"] == [tup.id]
    assert letter["tuple"][1]["source"]["offset"] == 3
    assert cap.acked() == [tup.id]


def test_a_batch_spout_tuple_counts_its_records_against_the_batch_size(applicant: dict[str, Any]) -> None:
    """batch_size 4 and two spout tuples of 3 records: the second one fills the batch, one flush of both."""
    cap = Captured(FilterBolt, {**ONE_SHARD, "loanrisk.filter.batch_size": 4})
    ids = cap.arrive([[2, _records(applicant, 3)], [2, _records(applicant, 3, start=3)]])
    [emit] = cap.emitted()
    assert len(emit["tuple"][1]) == 6
    assert sorted(emit["anchors"]) == sorted(ids)


def _edge_payloads(applicant: dict[str, Any]) -> list[str]:
    body = as_payload(applicant).decode()
    return [
        body,
        body.replace('"dti": 18.2', '"dti": NaN'),  # stdlib json reads NaN; orjson does not
        body.replace('"dti": 18.2', '"dti": 1e400'),
        body.replace('"revol_bal": 8200.0', '"revol_bal": 123456789012345678901234567890'),
        body.replace('"grade": "B"', '"grade": "B", "grade": "C"'),  # the last duplicate key wins
        body.replace('"emp_title": "Nurse"', '"emp_title": "\\ud800"'),  # a lone surrogate
        "[" + body + "]",
        "null",
        "{not json",
        "",
        " " * (70 * 1024) + body,
    ]


def test_the_orjson_path_cleans_every_payload_as_the_stdlib_parser_does(
    applicant: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same Applicant or same Rejection (reason, field, detail) for generated dirty lines and JSON edge cases."""
    dirty = [line for lines, _ in generate.generate_lines(3000, "jsonl", 11, dirt_rate=0.2) for line in lines]
    payloads = dirty + _edge_payloads(applicant)
    fast = [parse_json_line(raw) for raw in payloads]
    monkeypatch.setattr(cleaning, "loads_json", json.loads)  # the stdlib parser alone, as before orjson
    for raw, got in zip(payloads, fast, strict=True):
        assert got == parse_json_line(raw), raw[:200]
