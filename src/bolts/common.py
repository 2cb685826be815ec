"""Helpers the bolts share: topology config, Kafka producer, the spout's tuple, small batches.

Each bolt reads its settings from the topology config (config.json's env "options", keys ``loanrisk.*``)
with the defaults below, which match the local stack.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loanrisk.events import Received, Source, dumps

DEFAULTS: dict[str, Any] = {
    "loanrisk.kafka.bootstrap": "127.0.0.1:9092",
    "loanrisk.kafka.dlq_topic": "loan-applications-dlq",
    "loanrisk.kafka.decisions_topic": "loan-decisions",
    "loanrisk.kafka.send_timeout_secs": 10,
    "loanrisk.risk_api.url": "http://127.0.0.1:5001",
    "loanrisk.risk_api.connect_timeout_secs": 1.0,
    "loanrisk.risk_api.read_timeout_secs": 5.0,
    "loanrisk.risk_api.max_attempts": 3,
    "loanrisk.risk_api.backoff_secs": 0.25,
    "loanrisk.risk_api.retry_budget_secs": 12.0,
    "loanrisk.decision.duplicate_window": 100_000,
    "loanrisk.submit.batch_size": 50,
    "loanrisk.submit.max_wait_ms": 200,
    "loanrisk.save.batch_size": 100,
    "loanrisk.save.max_wait_ms": 200,
    "loanrisk.hbase.host": "127.0.0.1",
    "loanrisk.hbase.port": 9090,
    "loanrisk.hbase.table": "loan_applications",
    "loanrisk.hbase.timeout_ms": 5000,
}

# Fields of the spout's default stream (LoanKafkaSpout.FIELDS).
SPOUT_FIELDS = ("topic", "partition", "offset", "key", "value", "timestamp", "value_sha256", "value_utf8")


def opt(conf: Mapping[str, Any] | None, key: str) -> Any:
    """Return a ``loanrisk.*`` setting from the topology config, else its default."""
    conf = conf or {}
    default = DEFAULTS[key]
    value = conf.get(key, default)
    return value if default is None or value is None else type(default)(value)


def now_ms() -> int:
    """Return the wall clock in milliseconds since the epoch."""
    return int(time.time() * 1000)


def received_from_spout(values: Sequence[Any]) -> tuple[Received, bool]:
    """Unpack the spout's tuple into a Received record and whether the payload was valid UTF-8."""
    topic, partition, offset, key, value, timestamp, sha, utf8 = values
    received = Received(Source(str(topic), int(partition), int(offset)), key, value or "", str(sha),
                        int(timestamp))
    return received, bool(utf8)


def kafka_producer(conf: Mapping[str, Any] | None) -> Any:
    """Open a durable kafka-python producer: acks=all, idempotent, bounded blocking."""
    from kafka import KafkaProducer  # imported here so pure helpers load without kafka-python
    from kafka.serializer import Serializer

    class KeySerializer(Serializer):
        """Encode an application id (or None) as UTF-8."""

        def serialize(self, topic: str, headers: Any, data: Any) -> bytes | None:
            return None if data is None else str(data).encode("utf-8")

    class RecordSerializer(Serializer):
        """Encode a record as compact JSON."""

        def serialize(self, topic: str, headers: Any, data: Any) -> bytes:
            return dumps(data)

    timeout_ms = int(opt(conf, "loanrisk.kafka.send_timeout_secs") * 1000)
    return KafkaProducer(
        bootstrap_servers=opt(conf, "loanrisk.kafka.bootstrap").split(","),
        acks="all", enable_idempotence=True, linger_ms=5, request_timeout_ms=timeout_ms // 2,
        delivery_timeout_ms=timeout_ms, max_block_ms=timeout_ms // 2, bootstrap_timeout_ms=timeout_ms // 2,
        key_serializer=KeySerializer(), value_serializer=RecordSerializer())


def publish_all(producer: Any, topic: str, records: Sequence[tuple[str | None, Any]], timeout_s: float) -> None:
    """Send (key, value) records and wait until the broker acknowledged every one (raises otherwise)."""
    futures = [producer.send(topic, key=key, value=value) for key, value in records]
    producer.flush(timeout=timeout_s)
    for future in futures:
        future.get(timeout=timeout_s)


@dataclass
class PendingBatch:
    """Tuples waiting to be handled together: flushed when full or when the oldest waited long enough."""

    size: int
    max_wait_ms: int
    items: list[Any] = field(default_factory=list)
    oldest_ms: int = 0

    def add(self, item: Any, now: int) -> None:
        """Queue one item."""
        if not self.items:
            self.oldest_ms = now
        self.items.append(item)

    def due(self, now: int) -> bool:
        """Say whether the batch should be flushed now."""
        if not self.items:
            return False
        return len(self.items) >= self.size or now - self.oldest_ms >= self.max_wait_ms

    def take(self) -> list[Any]:
        """Remove and return every queued item."""
        items, self.items = self.items, []
        return items


class PublishesToKafka:
    """Mixin for bolts that publish to Kafka: one durable producer per bolt, opened on first use from self.conf."""

    _producer: Any = None

    @property
    def producer(self) -> Any:
        """Return the bolt's Kafka producer, opening it on first use."""
        if self._producer is None:
            self._producer = kafka_producer(self.conf)
        return self._producer


class FlushesBatches:
    """Mixin for bolts that queue tuples in ``self.batch`` and handle each batch in ``self.flush``."""

    def process(self, tup: Any) -> None:
        """Queue the tuple; flush the batch when it is full or old enough."""
        self.batch.add(tup, now_ms())
        self.flush_if_due()

    def process_tick(self, tup: Any) -> None:
        """Flush a batch that waited long enough even when nothing new arrives."""
        self.ack(tup)  # ShellBolt keeps every unacked input, ticks included
        self.flush_if_due()

    def flush_if_due(self) -> None:
        """Hand the queued tuples to flush() when the batch is due."""
        if self.batch.due(now_ms()):
            self.flush(self.batch.take())
