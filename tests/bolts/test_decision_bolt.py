"""DecisionBolt fed with filtered tuples: pre-screen declines go to the declined stream, others to the model."""

from __future__ import annotations

from harness import Captured

from bolts.decision import DECLINED_STREAM, DecisionBolt

RECEIVED = {"source": {"topic": "loan-applications", "partition": 0, "offset": 3}, "key": "G000042",
            "raw": "{}", "raw_sha256": "0" * 64, "kafka_ts_ms": 1}


def test_acceptable_applicant_goes_to_the_model(applicant):
    """An applicant passing every rule is emitted on the default stream, anchored, and acked."""
    cap = Captured(DecisionBolt, name="decision_bolt")
    tup = cap.feed([applicant["id"], applicant, RECEIVED])
    [emit] = cap.emitted()
    assert emit["tuple"] == [applicant["id"], applicant, RECEIVED] and emit["anchors"] == [tup.id]
    assert cap.emitted(DECLINED_STREAM) == [] and cap.acked() == [tup.id]


def test_grade_e_is_declined_with_its_reason(applicant):
    """Grade E skips the Risk API: the declined stream carries a PRESCREEN decision with reasons."""
    cap = Captured(DecisionBolt)
    tup = cap.feed([applicant["id"], {**applicant, "grade": "E", "sub_grade": "E3"}, RECEIVED])
    assert cap.emitted() == []
    [emit] = cap.emitted(DECLINED_STREAM)
    app_id, _, decision, received = emit["tuple"]
    assert app_id == applicant["id"] and received == RECEIVED and emit["anchors"] == [tup.id]
    assert decision["decision"] == "DECLINE" and decision["decided_by"] == "PRESCREEN"
    assert [r["code"] for r in decision["reasons"]] == ["PS_GRADE"]
    assert decision["probability_of_default"] is None and decision["policy_version"] == "prescreen-v3"
    assert cap.acked() == [tup.id]


def test_thresholds_come_from_the_topology_config(applicant):
    """The loanrisk.prescreen.* options of config.json change the verdict."""
    strict = Captured(DecisionBolt, {"loanrisk.prescreen.max_dti": 15, "loanrisk.prescreen.policy_version": "p-test"})
    strict.feed([applicant["id"], applicant, RECEIVED])
    [emit] = strict.emitted(DECLINED_STREAM)
    assert [r["code"] for r in emit["tuple"][2]["reasons"]] == ["PS_DTI_HIGH"]
    assert emit["tuple"][2]["policy_version"] == "p-test"


def _received(offset: int) -> dict:
    """Return a received record at an offset of partition 0."""
    return {**RECEIVED, "source": {**RECEIVED["source"], "offset": offset}}


def test_replay_of_the_same_record_is_routed_again(applicant):
    """The same content under the same id (a Storm replay) is routed normally each time."""
    cap = Captured(DecisionBolt)
    cap.feed([applicant["id"], applicant, _received(3)])
    cap.feed([applicant["id"], applicant, _received(3)])
    assert len(cap.emitted()) == 2 and len(cap.acked()) == 2


def test_later_record_with_other_content_is_not_forwarded(applicant):
    """Other content under an id seen earlier never reaches the model or HBase; with Kafka down it is failed."""
    cap = Captured(DecisionBolt, {"loanrisk.kafka.bootstrap": "127.0.0.1:9", "loanrisk.kafka.send_timeout_secs": 2})
    first = cap.feed([applicant["id"], applicant, _received(3)])
    later = cap.feed([applicant["id"], {**applicant, "loan_amnt": 15_000.0}, _received(9)])
    assert [e["anchors"] for e in cap.emitted()] == [[first.id]] and cap.emitted(DECLINED_STREAM) == []
    assert cap.acked() == [first.id] and cap.failed() == [later.id]
