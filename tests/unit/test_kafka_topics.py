"""The topic list and the comparison logic of jobs.kafka_topics (no broker needed)."""

from __future__ import annotations

import pytest

from jobs.kafka_topics import TOPICS, TopicSpec, TopicStatus, compare, main


def test_topics_are_the_pipeline_topics() -> None:
    """TOPICS names the three topics of the interfaces, each with replication 1 on the local stack."""
    assert {t.name: t.partitions for t in TOPICS} == {
        "loan-applications": 4,
        "loan-decisions": 4,
        "loan-applications-dlq": 1,
    }
    assert {t.replication for t in TOPICS} == {1}


@pytest.mark.parametrize(
    ("found", "action", "ok"),
    [(None, "missing", False), (4, "exists", True), (2, "mismatch", False), (8, "mismatch", False)],
)
def test_compare(found: int | None, action: str, ok: bool) -> None:
    """A topic is fine only when it exists with exactly the specified partition count."""
    status = compare(TopicSpec("t", 4), found)
    assert (status.action, status.partitions, status.ok) == (action, found, ok)


@pytest.mark.parametrize(("action", "ok"), [("created", True), ("exists", True), ("error", False)])
def test_status_ok(action: str, ok: bool) -> None:
    """Created and existing topics are usable; errors are not."""
    assert TopicStatus("t", action, 1).ok is ok


def test_check_broker_without_broker_says_no() -> None:
    """--check-broker exits 1 (not a traceback) when nothing listens at the address."""
    assert main(["--bootstrap", "127.0.0.1:1", "--check-broker"]) == 1
