"""SaveBolt and DeadLetterBolt without their services: nothing is acked before it is durable.

The HBase and Kafka paths that succeed are integration tests (tests/integration/test_bolts_live.py).
"""

from __future__ import annotations

from typing import Any

from harness import Captured

from bolts.dead_letter import DeadLetterBolt
from bolts.save import SaveBolt
from loanrisk import events

DECISION = events.Decision("G000042", "APPROVE", "MODEL", 0.05, (events.Reason("R1", "t"),), "m1", "p1").to_dict()
# Nothing answers on port 9 here: HBase and Kafka are unreachable, so no write can succeed.
DOWN = {
    "loanrisk.hbase.port": 9,
    "loanrisk.hbase.timeout_ms": 500,
    "loanrisk.kafka.bootstrap": "127.0.0.1:9",
    "loanrisk.kafka.send_timeout_secs": 2,
}


def _decided(applicant: dict[str, Any], app_id: str) -> list[Any]:
    app = {**applicant, "id": app_id}
    received = events.Received(events.Source("loan-applications", 0, 3), app_id, "", "0" * 64, 1)
    wire = events.Tracked.of(app_id, app, received).to_wire()
    return [*wire, {**DECISION, "application_id": app_id}]


def test_every_input_of_a_flush_is_failed_when_hbase_is_unreachable(applicant: dict[str, Any]) -> None:
    """Batches from both upstream bolts queued together: all of them failed (replayed), none acked."""
    cap = Captured(SaveBolt, DOWN)
    ids = cap.arrive([[0, [_decided(applicant, "G1"), _decided(applicant, "G2")]], [0, [_decided(applicant, "G3")]]])
    assert sorted(cap.failed()) == sorted(ids)
    assert cap.acked() == []
    assert cap.emitted("dead_letter") == []


def test_dead_letters_are_failed_not_dropped_when_kafka_cannot_take_them() -> None:
    """The DeadLetterBolt fails every letter of a flush that Kafka did not acknowledge (Storm replays them)."""
    cap = Captured(DeadLetterBolt, DOWN)
    letter = events.DeadLetter("BAD_JSON", None, "x", None, "{", "0" * 64, events.Source("t", 0, 1), 5).to_dict()
    ids = cap.arrive([[None, letter], ["G1", letter]], stream="dead_letter")
    assert sorted(cap.failed()) == sorted(ids)
    assert cap.acked() == []
