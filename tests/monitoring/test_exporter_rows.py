"""The exporter's reading of a stored applicant cell (the grade label) and its counting of events (no services)."""

from __future__ import annotations

import orjson

from loanrisk import events as ev
from monitoring.exporter import Exporter, PipelineMetrics, applicant_of
from monitoring.pipeline import FirstDecisions, grade_of


def test_the_grade_comes_from_the_applicant_cell() -> None:
    columns = {ev.COL_APPLICANT_JSON: b'{"grade": "c", "annual_income": 50000}'}
    assert grade_of(applicant_of(columns)) == "C"


def test_a_missing_or_unreadable_cell_gives_the_unknown_grade() -> None:
    for columns in ({}, {ev.COL_APPLICANT_JSON: b"{not json"}, {ev.COL_APPLICANT_JSON: b"[1, 2]"}):
        assert applicant_of(columns) is None
        assert grade_of(applicant_of(columns)) == "unknown"


def _event(app_id: str, decision: str, grade: str, codes: tuple[str, ...], saved_at_ms: int = 2_000) -> bytes:
    """Return a decision event's Kafka value."""
    reasons = tuple(ev.Reason(code, code.lower()) for code in codes)
    source = ev.Source("loan-applications", 0, int(app_id[1:]))
    event = ev.DecisionEvent(
        app_id, decision, "MODEL", 0.2, reasons, "lr-1", "p-1", source, 1_000, saved_at_ms, f"e-{app_id}", grade=grade
    )
    return orjson.dumps(event.to_dict())


def _counting_exporter() -> Exporter:
    """Return an exporter's counting half: its metrics and first-seen ids, no Kafka, HBase or Storm clients."""
    exporter = Exporter.__new__(Exporter)
    exporter.metrics, exporter.first = PipelineMetrics(), FirstDecisions()
    return exporter


def test_a_batch_counts_each_applicant_once_per_label_set_as_one_event_at_a_time_would() -> None:
    exporter = _counting_exporter()
    batch = [
        _event("A1", "DECLINE", "E", ("HIGH_DTI", "LOW_FICO")),
        _event("A2", "DECLINE", "E", ("HIGH_DTI",)),
        _event("A3", "APPROVE", "B", ()),
        _event("A1", "DECLINE", "E", ("HIGH_DTI", "LOW_FICO")),  # a redelivery: counted as an event only
        b"{not json",
    ]
    exporter.count_decisions(batch)
    exporter.count_dead_letters([b"[]"])
    sample = exporter.metrics.registry.get_sample_value
    assert sample("loanrisk_pipeline_decision_events_total") == 4
    assert (
        sample("loanrisk_pipeline_decisions_total", {"decision": "DECLINE", "decided_by": "MODEL", "grade": "E"}) == 2
    )
    assert (
        sample("loanrisk_pipeline_decisions_total", {"decision": "APPROVE", "decided_by": "MODEL", "grade": "B"}) == 1
    )
    assert sample("loanrisk_pipeline_decision_reasons_total", {"decision": "DECLINE", "code": "HIGH_DTI"}) == 2
    assert sample("loanrisk_pipeline_decision_reasons_total", {"decision": "DECLINE", "code": "LOW_FICO"}) == 1
    assert (
        sample("loanrisk_pipeline_decisions_by_version_total", {"model_version": "lr-1", "policy_version": "p-1"}) == 3
    )
    assert sample("loanrisk_pipeline_unreadable_records_total", {"topic": "loan-decisions"}) == 1
    assert sample("loanrisk_pipeline_unreadable_records_total", {"topic": "loan-applications-dlq"}) == 1
    assert sample("loanrisk_pipeline_e2e_latency_seconds_count") == 3
