"""FilterBolt fed with spout tuples: valid records are emitted anchored, invalid ones never silently dropped."""

from __future__ import annotations

import hashlib
import json

from conftest import as_payload, spout_values
from harness import Captured

from bolts.filter import FilterBolt

# Nothing listens on port 9 (discard) on the test machine: a real, unreachable broker address.
UNREACHABLE_KAFKA = {"loanrisk.kafka.bootstrap": "127.0.0.1:9", "loanrisk.kafka.send_timeout_secs": 2}


def test_valid_record_is_emitted_anchored_and_acked(applicant):
    """A canonical applicant leaves on the default stream, anchored to its tuple, then is acked."""
    cap = Captured(FilterBolt, name="filter_bolt")
    payload = as_payload(applicant)
    tup = cap.feed(spout_values(payload, key=applicant["id"], offset=17))
    [emit] = cap.emitted()
    app_id, emitted, received = emit["tuple"]
    assert app_id == applicant["id"] and emitted == applicant
    assert emit["anchors"] == [tup.id]
    assert received["source"] == {"topic": "loan-applications", "partition": 2, "offset": 17}
    assert received["raw_sha256"] == hashlib.sha256(payload).hexdigest()
    assert received["kafka_ts_ms"] == 1_790_000_000_017
    assert cap.acked() == [tup.id] and cap.failed() == []


def test_lenient_record_is_emitted_in_canonical_form(applicant):
    """Dirt that cleaning repairs ("13.5%", " 36 months") reaches the decision bolt cleaned."""
    dirty = {**applicant, "int_rate": "9.5%", "term": " 36 months", "post_origination": "dropped"}
    cap = Captured(FilterBolt)
    cap.feed(spout_values(as_payload(dirty)))
    [emit] = cap.emitted()
    assert emit["tuple"][1] == applicant
    assert len(cap.acked()) == 1


def test_invalid_record_is_failed_not_dropped_when_the_dead_letter_cannot_be_written(applicant):
    """With Kafka unreachable, a bad record is failed (Storm replays it), never acked without its dead letter."""
    cap = Captured(FilterBolt, UNREACHABLE_KAFKA)
    tup = cap.feed(spout_values(b'{"id": "G1", "loan_amnt": '))
    assert cap.emitted() == []
    assert cap.failed() == [tup.id] and cap.acked() == []


def test_each_record_is_acked_or_failed_exactly_once(applicant):
    """A mixed run: every tuple gets exactly one ack or fail; only valid ones are emitted."""
    cap = Captured(FilterBolt, UNREACHABLE_KAFKA)
    payloads = [as_payload(applicant), b"\xff\xfe not utf-8", b"[1,2]", as_payload({**applicant, "id": "G000043"})]
    tups = [cap.feed(spout_values(p, offset=i)) for i, p in enumerate(payloads)]
    outcomes = cap.acked() + cap.failed()
    assert sorted(outcomes) == sorted(t.id for t in tups)
    assert [e["tuple"][0] for e in cap.emitted()] == ["G000042", "G000043"]
    assert [e["anchors"] for e in cap.emitted()] == [[tups[0].id], [tups[3].id]]
    assert json.loads(json.dumps(cap.emitted()[0]["tuple"][2]))["raw"] == payloads[0].decode()
