"""DecisionBolt fed with batches: declines to the declined stream, the rest to the model, duplicates dead-lettered."""

from __future__ import annotations

from typing import Any

from harness import Captured

from bolts.common import DEAD_LETTER_STREAM
from bolts.decision import DECLINED_STREAM, DecisionBolt
from loanrisk import events


def _wire(applicant: dict[str, Any], offset: int = 3, **change: Any) -> list[Any]:
    app = {**applicant, **change}
    return _tracked(app, offset).to_wire()


def _tracked(app: dict[str, Any], offset: int) -> events.Tracked:
    received = events.Received(events.Source("loan-applications", 0, offset), app["id"], "", "0" * 64, 1)
    return events.Tracked.of(app["id"], app, received)


def test_batch_is_split_between_model_and_declined_streams_anchored_to_its_input(applicant: dict[str, Any]) -> None:
    """One input batch: acceptable applicants to the model, grade E to declined; both anchored to it, then acked."""
    cap = Captured(DecisionBolt, name="decision_bolt")
    tup = cap.feed([1, [_wire(applicant, id="G1"), _wire(applicant, id="G2", grade="E", sub_grade="E3")]])
    [model] = cap.emitted()
    [declined] = cap.emitted(DECLINED_STREAM)
    assert model["tuple"][0] == 1
    assert [w[0] for w in model["tuple"][1]] == ["G1"]
    assert model["anchors"] == [tup.id]
    assert declined["anchors"] == [tup.id]
    [item] = declined["tuple"][1]
    decision = item[7]
    assert item[0] == "G2"
    assert decision["decision"] == "DECLINE"
    assert decision["decided_by"] == "PRESCREEN"
    assert [r["code"] for r in decision["reasons"]] == ["PS_GRADE"]
    assert decision["probability_of_default"] is None
    assert decision["policy_version"] == "prescreen-v3"
    assert cap.emitted_and_acked()[-1] == ("ack", tup.id)


def test_batches_arriving_together_are_merged_per_shard_with_all_their_anchors(applicant: dict[str, Any]) -> None:
    """Two input batches of shard 1 queued together leave as one batch anchored to both."""
    cap = Captured(DecisionBolt)
    ids = cap.arrive([[1, [_wire(applicant, id="G1")]], [1, [_wire(applicant, id="G3")]]])
    [model] = cap.emitted()
    assert [w[0] for w in model["tuple"][1]] == ["G1", "G3"]
    assert sorted(model["anchors"]) == sorted(ids)
    assert sorted(cap.acked()) == sorted(ids)


def test_thresholds_come_from_the_topology_config(applicant: dict[str, Any]) -> None:
    """The loanrisk.prescreen.* options change the verdict."""
    strict = Captured(DecisionBolt, {"loanrisk.prescreen.max_dti": 15, "loanrisk.prescreen.policy_version": "p-test"})
    strict.feed([0, [_wire(applicant)]])
    [emit] = strict.emitted(DECLINED_STREAM)
    assert [r["code"] for r in emit["tuple"][1][0][7]["reasons"]] == ["PS_DTI_HIGH"]
    assert emit["tuple"][1][0][7]["policy_version"] == "p-test"


def test_replay_of_the_same_record_is_routed_again(applicant: dict[str, Any]) -> None:
    """The same content under the same id (a Storm replay) is routed normally each time."""
    cap = Captured(DecisionBolt)
    cap.feed([0, [_wire(applicant)]])
    cap.feed([0, [_wire(applicant)]])
    assert len(cap.emitted()) == 2
    assert len(cap.acked()) == 2
    assert cap.emitted(DEAD_LETTER_STREAM) == []


def test_later_record_with_other_content_is_dead_lettered_on_the_stream(applicant: dict[str, Any]) -> None:
    """Other content under an id seen earlier: an anchored DUPLICATE_ID letter, never the model or HBase."""
    cap = Captured(DecisionBolt)
    first = cap.feed([0, [_wire(applicant, offset=3)]])
    later = cap.feed([0, [_wire(applicant, offset=9, loan_amnt=15_000.0)]])
    assert [e["anchors"] for e in cap.emitted()] == [[first.id]]
    assert cap.emitted(DECLINED_STREAM) == []
    [letter] = cap.emitted(DEAD_LETTER_STREAM)
    parsed = events.parse_dead_letter(events.dumps(letter["tuple"][1]))
    assert isinstance(parsed, events.DeadLetter), parsed
    assert letter["anchors"] == [later.id]
    assert parsed.reason == events.DUPLICATE_ID
    assert parsed.source.offset == 9
    assert parsed.raw == ""
    assert parsed.raw_sha256 == "0" * 64
    assert cap.acked() == [first.id, later.id]
