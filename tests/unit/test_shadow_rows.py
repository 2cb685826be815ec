"""The challenger's shadow result in the pipeline's records: Decision wire format and the HBase row."""

from __future__ import annotations

from loanrisk import events as ev

RESULT = {
    "application_id": "A1",
    "decision": "REVIEW",
    "probability_of_default": 0.2,
    "reasons": [],
    "model_version": "lr2-champion",
    "policy_version": "p1",
    "challenger": {"model_version": "lr2-challenger", "probability_of_default": 0.31, "decision": "DECLINE"},
}
TRACKED = ev.Tracked("A1", '{"id":"A1"}', ev.Source("loan-applications", 0, 7), 1_700_000_000_000, "ab")


def test_decision_keeps_the_champion_and_carries_the_shadow() -> None:
    decision = ev.decision_from_evaluation(RESULT)
    assert decision.decision == "REVIEW"
    assert decision.model_version == "lr2-champion"
    assert decision.challenger == ev.Shadow("lr2-challenger", 0.31, "DECLINE")
    assert ev.Decision.from_dict(decision.to_dict()) == decision


def test_row_stores_both_results_and_reads_back() -> None:
    decision = ev.decision_from_evaluation(RESULT)
    columns = ev.row_columns(b'{"id":"A1"}', decision, TRACKED, 1_700_000_000_100)
    fields = ev.cells(columns)
    assert fields[ev.COL_DECISION] == b"REVIEW"
    assert fields[ev.COL_MODEL_VERSION] == b"lr2-champion"
    assert fields[ev.COL_CHALLENGER_DECISION] == b"DECLINE"
    assert fields[ev.COL_CHALLENGER_MODEL] == b"lr2-challenger"
    assert fields[ev.COL_CHALLENGER_PD] == b"0.31"
    stored = ev.parse_row(b"A1", columns)
    assert isinstance(stored, ev.StoredRow)
    assert stored.decision == decision


def test_rows_without_a_challenger_are_unchanged_and_parse() -> None:
    plain = {k: v for k, v in RESULT.items() if k != "challenger"}
    decision = ev.decision_from_evaluation(plain)
    columns = ev.row_columns(b'{"id":"A1"}', decision, TRACKED, 1)
    assert not any(c.startswith(b"decision:challenger") for c in ev.cells(columns))
    assert "challenger" not in decision.to_dict()
    stored = ev.parse_row(b"A1", columns)
    assert isinstance(stored, ev.StoredRow)
    assert stored.decision.challenger is None
