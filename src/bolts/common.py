"""Helpers the bolts share: the spout's tuple, the Kafka producer, batch tuples and their flushing.

Settings: ``bolts.settings`` (``opt`` reads one from the topology config, with its single default).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from streamparse import Bolt

from bolts.multilang import FastMultilang
from bolts.settings import opt
from loanrisk.events import Received, Source, Tracked
from loanrisk.kafka_security import KafkaSecurity

__all__ = ["opt"]

# Fields of every batch tuple: the shard of its applicants' ids, and their records (Tracked.to_wire() lists,
# each followed by a Decision dict once decided). Fields grouping on "shard" keeps each id on one task.
BATCH_FIELDS = ["shard", "items"]
# Fields of the dead-letter stream: the application id (or None) and DeadLetter.to_dict().
DEAD_LETTER_STREAM = "dead_letter"
DEAD_LETTER_FIELDS = ["application_id", "letter"]

# Fields of the spout's default stream (LoanKafkaSpout.FIELDS).
SPOUT_FIELDS = ("topic", "partition", "offset", "key", "value", "timestamp", "value_sha256", "value_utf8")
# Fields of LoanBatchSpout's default stream: the partition, and its records, each a list of SPOUT_FIELDS.
BATCH_SPOUT_FIELDS = ("partition", "records")


def now_ms() -> int:
    """Return the wall clock in milliseconds since the epoch."""
    return int(time.time() * 1000)


def received_from_spout(values: Sequence[Any]) -> tuple[Received, bool]:
    """Unpack the spout's tuple into a Received record and whether the payload was valid UTF-8."""
    topic, partition, offset, key, value, timestamp, sha, utf8 = values
    received = Received(Source(str(topic), int(partition), int(offset)), key, value or "", str(sha), int(timestamp))
    return received, bool(utf8)


def kafka_security(conf: Mapping[str, Any] | None, environ: Mapping[str, str]) -> dict[str, Any]:
    """Return kafka-python's security settings from the topology config (loanrisk.kafka_security's rules)."""
    return KafkaSecurity.from_options(conf or {}).python_kwargs(environ)


def kafka_producer(conf: Mapping[str, Any] | None) -> Any:
    """Open a durable kafka-python producer: acks=all, idempotent, bounded blocking."""
    from kafka import KafkaProducer  # imported here so pure helpers load without kafka-python
    from kafka.serializer import Serializer

    class KeySerializer(Serializer):
        """Encode an application id (or None) as UTF-8."""

        def serialize(self, topic: str, headers: Any, data: Any) -> bytes | None:  # noqa: ARG002 kafka-python's Serializer signature
            return None if data is None else str(data).encode("utf-8")

    class RecordSerializer(Serializer):
        """Encode a record as compact JSON (orjson: the decision events and letters are not fingerprinted)."""

        def serialize(self, topic: str, headers: Any, data: Any) -> bytes:  # noqa: ARG002 kafka-python's Serializer signature
            return orjson.dumps(data)

    timeout_ms = int(opt(conf, "loanrisk.kafka.send_timeout_secs") * 1000)
    return KafkaProducer(
        bootstrap_servers=opt(conf, "loanrisk.kafka.bootstrap").split(","),
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=timeout_ms // 2,
        delivery_timeout_ms=timeout_ms,
        max_block_ms=timeout_ms // 2,
        bootstrap_timeout_ms=timeout_ms // 2,
        key_serializer=KeySerializer(),
        value_serializer=RecordSerializer(),
        **kafka_security(conf, os.environ),
    )


def publish_all(producer: Any, topic: str, records: Sequence[tuple[str | None, Any]], timeout_s: float) -> None:
    """Send (key, value) records and wait until the broker acknowledged every one (raises otherwise)."""
    futures = [producer.send(topic, key=key, value=value) for key, value in records]
    producer.flush(timeout=timeout_s)
    for future in futures:
        future.get(timeout=timeout_s)


class PublishesToKafka:
    """Mixin for bolts that publish to Kafka: one durable producer per bolt, opened on first use from self.conf."""

    _producer: Any = None
    conf: dict[str, Any]  # set by the bolt's initialize (BatchingBolt)

    @property
    def producer(self) -> Any:
        """Return the bolt's Kafka producer, opening it on first use."""
        if self._producer is None:
            self._producer = kafka_producer(self.conf)
        return self._producer

    def publish(self, topic: str, records: Sequence[tuple[str | None, Any]], timeout_s: float) -> None:
        """Publish and wait for the acks; on any error drop the producer, so the next batch opens a fresh one.

        An idempotent kafka-python producer can be left unusable by broker restarts (a fatal sequence or
        producer-id error, or a dead sender thread): reusing it would fail every later batch of this task.
        """
        try:
            publish_all(self.producer, topic, records, timeout_s)
        except Exception:
            self.reset_producer()
            raise

    def reset_producer(self) -> None:
        """Close the producer without waiting for its queue (the caller fails and replays those records)."""
        if self._producer is not None:
            with contextlib.suppress(Exception):  # already broken: nothing more to release
                self._producer.close(timeout=0)
        self._producer = None


class BatchingBolt(FastMultilang, Bolt):
    """A bolt that queues input tuples and handles them together in ``flush(tuples)``.

    It flushes when the queued tuples carry ``batch_size`` applicants, or as soon as Storm has sent nothing
    more (the input queue ran dry): under load batches grow by themselves, at low rates nothing waits.
    ``flush`` must ack or fail every tuple it is given.
    """

    auto_ack = False
    auto_anchor = False
    auto_fail = False
    batch_size_key = ""

    def initialize(self, storm_conf: dict[str, Any], context: dict[str, Any]) -> None:  # noqa: ARG002 streamparse's signature
        self.conf = storm_conf
        self.batch_size = max(1, opt(storm_conf, self.batch_size_key))
        self.queued: list[Any] = []
        self.queued_items = 0
        self.setup(storm_conf)

    def setup(self, storm_conf: dict[str, Any]) -> None:
        """Open clients and read settings (subclasses)."""

    def items_in(self, tup: Any) -> int:
        """Return how many applicants a tuple carries (a batch tuple's items)."""
        return len(tup.values[1])

    def process(self, tup: Any) -> None:
        self.queued.append(tup)
        self.queued_items += self.items_in(tup)
        if self.queued_items >= self.batch_size:
            self.flush_queued()

    def process_tick(self, tup: Any) -> None:
        self.ack(tup)  # ShellBolt keeps every unacked input, ticks included

    def _run(self) -> None:
        super()._run()
        if self.queued and not self.input_waiting():
            self.flush_queued()

    def flush_queued(self) -> None:
        """Hand every queued tuple to flush()."""
        tuples, self.queued, self.queued_items = self.queued, [], 0
        self.flush(tuples)

    def flush(self, tuples: list[Any]) -> None:
        raise NotImplementedError

    def emit_batches(self, groups: ShardGroups, stream: str | None = None) -> None:
        """Emit one batch tuple per shard, anchored to every input tuple that contributed to it."""
        for shard, items, anchors in groups.batches():
            self.emit([shard, items], stream=stream, anchors=anchors)

    def emit_dead_letter(self, letter: Any, anchors: list[Any]) -> None:
        """Send a dead letter to the dead_letter_bolt, anchored (it acks once Kafka has it)."""
        self.emit([letter.application_id, letter.to_dict()], stream=DEAD_LETTER_STREAM, anchors=anchors)


class ShardGroups:
    """Items grouped by shard, each group with the input tuples it came from (deduplicated, in order)."""

    def __init__(self) -> None:
        self.groups: dict[int, tuple[list[Any], dict[str, Any]]] = {}

    def add(self, shard: int, item: Any, tup: Any) -> None:
        """Put an item in its shard's group, remembering the input tuple it came from."""
        items, anchors = self.groups.setdefault(shard, ([], {}))
        items.append(item)
        anchors.setdefault(tup.id, tup)

    def batches(self) -> list[tuple[int, list[Any], list[Any]]]:
        """Return (shard, items, anchor tuples) per non-empty group."""
        return [(shard, items, list(anchors.values())) for shard, (items, anchors) in self.groups.items() if items]


def unpack_items(tuples: list[Any]) -> list[tuple[Any, Tracked, Any]]:
    """Return (input tuple, Tracked, rest of the wire item) for every applicant of batch tuples."""
    return [(tup, Tracked.from_wire(wire), wire[7:]) for tup in tuples for wire in tup.values[1]]
