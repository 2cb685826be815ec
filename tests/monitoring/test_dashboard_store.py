"""What the dashboard shows of a decision, from an HBase row and from a decision event (pure parts of store)."""

from __future__ import annotations

from loanrisk import events as ev
from monitoring.dashboard.store import decision_view, event_view, row_entry

APPLICANT = {"id": "a-1", "grade": "B", "loan_amnt": 12000.0}
DECISION = ev.Decision("a-1", "REVIEW", "MODEL", 0.21, (ev.Reason("FICO_LOW", "credit score is low"),), "lr-1", "p-1")
RECEIVED = ev.Received(ev.Source("loan-applications", 2, 41), "a-1", "{}", "0" * 64, 1_000)


def stored_row() -> ev.StoredRow:
    row = ev.parse_row(b"a-1", ev.hbase_row(APPLICANT, DECISION, RECEIVED, 1_750))
    assert not isinstance(row, ev.ParseError)
    return row


def test_decision_view_has_applicant_probability_reasons_versions_and_kafka_coordinates() -> None:
    view = decision_view(stored_row())
    assert view == {
        "application_id": "a-1",
        "decision": "REVIEW",
        "decided_by": "MODEL",
        "probability_of_default": 0.21,
        "reasons": [{"code": "FICO_LOW", "text": "credit score is low"}],
        "model_version": "lr-1",
        "policy_version": "p-1",
        "source": {"topic": "loan-applications", "partition": 2, "offset": 41},
        "kafka_ts_ms": 1_000,
        "saved_at_ms": 1_750,
        "latency_ms": 750,
        "applicant": APPLICANT,
    }


def test_list_entries_from_a_row_and_from_its_event_are_the_same() -> None:
    event = ev.decision_event(DECISION, RECEIVED, 1_750)
    assert (
        row_entry(stored_row())
        == event_view(event)
        == {
            "application_id": "a-1",
            "decision": "REVIEW",
            "decided_by": "MODEL",
            "probability_of_default": 0.21,
            "saved_at_ms": 1_750,
            "reasons": ["FICO_LOW"],
        }
    )
