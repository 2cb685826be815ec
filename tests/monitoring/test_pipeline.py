"""The exporter's pure rules: latency, grade, first decisions, Storm UI figures, consumer lag."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loanrisk.events import DecisionEvent, Source
from monitoring.pipeline import (
    FirstDecisions,
    component_figures,
    consumer_lag,
    e2e_latency_seconds,
    event_grade,
    grade_of,
    number,
    topology_id,
)


def event(kafka_ts_ms: int, saved_at_ms: int) -> DecisionEvent:
    return DecisionEvent(
        "a1", "APPROVE", "MODEL", 0.05, (), "lr-1", "p-1", Source("loan-applications", 0, 7), kafka_ts_ms, saved_at_ms
    )


def test_the_grade_label_is_the_events_own_grade_when_it_carries_one() -> None:
    graded = replace(event(1, 2), grade="c")
    assert event_grade(graded, {"a1": "F"}) == "C"
    assert event_grade(replace(event(1, 2), grade="Z"), {}) == "unknown"


def test_an_event_without_a_grade_takes_the_grade_read_from_its_row() -> None:
    assert event_grade(event(1, 2), {"a1": "F"}) == "F"
    assert event_grade(event(1, 2), {}) == "unknown"


@pytest.mark.parametrize(
    ("kafka_ts", "saved_at", "seconds"), [(1_000, 1_250, 0.25), (5_000, 5_000, 0.0), (5_000, 4_990, 0.0)]
)
def test_e2e_latency_is_saved_at_minus_kafka_timestamp_never_negative(kafka_ts, saved_at, seconds) -> None:
    assert e2e_latency_seconds(event(kafka_ts, saved_at)) == seconds


@pytest.mark.parametrize(
    ("applicant", "grade"),
    [({"grade": "B"}, "B"), ({"grade": " c "}, "C"), ({"grade": "Z"}, "unknown"), ({}, "unknown"), (None, "unknown")],
)
def test_grade_of(applicant, grade) -> None:
    assert grade_of(applicant) == grade


def test_first_decisions_counts_an_id_once() -> None:
    first = FirstDecisions()
    assert [first.is_first(i) for i in ("a", "b", "a", "c", "b")] == [True, True, False, True, False]
    assert len(first) == 3


TOPOLOGY = {  # the fields of Storm UI's /api/v1/topology/<id> that the exporter reads
    "spouts": [
        {
            "spoutId": "kafka_spout",
            "executors": 1,
            "emitted": 1200,
            "acked": 1000,
            "failed": 2,
            "completeLatency": "812.500",
        }
    ],
    "bolts": [
        {
            "boltId": "filter_bolt",
            "executors": 2,
            "emitted": 990,
            "acked": 1000,
            "failed": 0,
            "executed": 1000,
            "capacity": "0.731",
            "executeLatency": "0.420",
            "processLatency": "0.510",
        },
        {
            "boltId": "save_bolt",
            "executors": 1,
            "emitted": 0,
            "acked": 0,
            "failed": 0,
            "executed": 0,
            "capacity": "",
            "executeLatency": None,
            "processLatency": None,
        },
    ],
}


def test_component_figures_reads_every_spout_and_bolt() -> None:
    figures = {f.component: f for f in component_figures(TOPOLOGY)}
    assert set(figures) == {"kafka_spout", "filter_bolt", "save_bolt"}
    spout, bolt, idle = figures["kafka_spout"], figures["filter_bolt"], figures["save_bolt"]
    assert (spout.kind, spout.acked, spout.failed, spout.latency_ms, spout.executed) == ("spout", 1000, 2, 812.5, None)
    assert (bolt.kind, bolt.executed, bolt.capacity, bolt.latency_ms, bolt.process_latency_ms) == (
        "bolt",
        1000,
        0.731,
        0.42,
        0.51,
    )
    assert (idle.capacity, idle.latency_ms) == (None, None)


def test_component_figures_of_a_page_without_components() -> None:
    assert component_figures({}) == []


@pytest.mark.parametrize(("value", "expected"), [("1.5", 1.5), (3, 3.0), ("", None), (None, None), ("n/a", None)])
def test_number(value, expected) -> None:
    assert number(value) == expected


def test_topology_id_by_name() -> None:
    summary = {"topologies": [{"id": "smoke-1-1", "name": "smoke"}, {"id": "loan-risk-2-9", "name": "loan-risk"}]}
    assert topology_id(summary, "loan-risk") == "loan-risk-2-9"
    assert topology_id(summary, "other") is None
    assert topology_id({}, "loan-risk") is None


def test_consumer_lag_per_partition() -> None:
    assert consumer_lag({0: 100, 1: 50, 2: 10}, {0: 90, 1: None, 2: 12}) == {0: 10, 1: 50, 2: 0}
