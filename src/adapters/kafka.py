"""Kafka: read a topic to its end, and a consumer group's lag (committed offsets against end offsets).

Every function takes the bootstrap servers and passes ``client_config`` (security settings, client ids)
through to kafka-python's clients unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

Offsets = dict[int, int]


def read_topic(
    bootstrap: str, topic: str, timeout_s: float = 120.0, **client_config: Any
) -> Iterator[tuple[int, int, bytes]]:
    """Yield (partition, offset, value) of every record now in a topic, with a fresh consumer and no group.

    The end offsets are taken first, so records published while reading are left for the next read.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_poll_records=5000,
        **{"client_id": f"loanrisk-read-{topic}", **client_config},
    )
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        remaining = {tp for tp in tps if end[tp] > consumer.position(tp)}
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} did not reach the end offsets in {timeout_s:.0f}s")
            for tp, records in consumer.poll(timeout_ms=1000).items():
                yield from ((r.partition, r.offset, r.value) for r in records if r.offset < end[tp])
            remaining = {tp for tp in remaining if consumer.position(tp) < end[tp]}
    finally:
        consumer.close()


def cluster_id(bootstrap: str, **client_config: Any) -> str | None:
    """Return the Kafka cluster id (it changes when the cluster's storage is formatted anew)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **{"client_id": "loanrisk-admin", **client_config})
    try:
        found = admin.describe_cluster().get("cluster_id")
        return str(found) if found is not None else None
    finally:
        admin.close()


def committed_offset(meta: Any) -> int | None:
    """Return a committed offset, or None when the group has none for the partition (Kafka says -1)."""
    return meta.offset if meta is not None and meta.offset >= 0 else None


class OffsetReader:
    """A group's committed offsets and a topic's end offsets; its two clients are kept between reads.

    After a failed read, call ``close()``: the next read connects afresh (a restarted broker).
    """

    def __init__(self, bootstrap: str, timeout_ms: int = 10_000, **client_config: Any) -> None:
        self.config = {
            "bootstrap_servers": bootstrap,
            "request_timeout_ms": timeout_ms,
            "client_id": "loanrisk-offsets",
            **client_config,
        }
        self.consumer: Any = None
        self.admin: Any = None

    def offsets(self, group: str, topic: str) -> tuple[dict[int, int | None], Offsets]:
        """Return (committed offset or None, end offset) by partition of ``topic`` for ``group``."""
        if self.consumer is None:
            self.consumer = KafkaConsumer(group_id=None, enable_auto_commit=False, **self.config)
        if self.admin is None:
            self.admin = KafkaAdminClient(**self.config)
        tps = [TopicPartition(topic, p) for p in sorted(self.consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return {}, {}
        group_offsets = self.admin.list_group_offsets({group: tps}).get(group, {})
        ends = self.consumer.end_offsets(tps)
        return (
            {tp.partition: committed_offset(group_offsets.get(tp)) for tp in tps},
            {tp.partition: ends[tp] for tp in tps},
        )

    def close(self) -> None:
        for client in (self.consumer, self.admin):
            if client is not None:
                client.close()
        self.consumer = self.admin = None

    def __enter__(self) -> OffsetReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
