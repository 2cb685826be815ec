"""Kafka spout lag in Storm UI's fields: the spout's consumer group's committed offsets vs. log-end offsets.

storm-kafka-client commits only offsets of acked tuples, so this lag counts records not yet fully processed.
The group id, topic and bootstrap servers come from the running topology's configuration; the offsets are
read by ``adapters.kafka.OffsetReader``.
"""

from __future__ import annotations

from typing import Any

GROUP_KEY = "loanrisk.spout.group_id"
TOPIC_KEY = "loanrisk.kafka.input_topic"
BOOTSTRAP_KEY = "loanrisk.kafka.bootstrap"


def lag_rows(topic: str, committed: dict[int, int | None], log_end: dict[int, int]) -> list[dict[str, Any]]:
    """One row per partition: committed offset (None when the group has none yet), log-end offset and lag."""
    rows = []
    for partition in sorted(log_end):
        offset = committed.get(partition)
        lag = log_end[partition] - (offset if offset is not None else 0)
        rows.append(
            {
                "topic": topic,
                "partition": partition,
                "consumerCommittedOffset": offset,
                "logHeadOffset": log_end[partition],
                "lag": max(lag, 0),
            }
        )
    return rows


def spout_lag_result(
    spout_id: str, conf: dict[str, Any], rows: list[dict[str, Any]] | None, error: str | None
) -> dict[str, Any]:
    """A spout's entry of /api/v1/topology/<id>/lag (Storm's field names: spoutId, spoutType, spoutLagResult)."""
    return {
        "spoutId": spout_id,
        "spoutType": "KAFKA",
        "groupId": conf.get(GROUP_KEY),
        "topic": conf.get(TOPIC_KEY),
        "bootstrapServers": conf.get(BOOTSTRAP_KEY),
        "spoutLagResult": rows or [],
        "totalLag": sum(r["lag"] for r in rows or []),
        "errorInfo": error,
    }
