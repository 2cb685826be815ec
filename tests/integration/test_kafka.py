"""Kafka on the local stack: the pipeline topics exist, and a message makes a round trip through a broker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from adapters import kafka as kafka_adapter
from adapters.settings import Settings
from jobs.kafka_topics import TOPICS, TopicSpec, ensure_topics


@pytest.fixture
def bootstrap(settings: Settings) -> str:
    """Return the local broker's bootstrap address."""
    return settings.kafka_bootstrap


@pytest.fixture
def scratch_topic(bootstrap: str) -> Iterator[str]:
    """Create a throw-away 2-partition topic with a unique name, and delete it afterwards."""
    name = f"it-roundtrip-{uuid.uuid4().hex[:12]}"
    [status] = ensure_topics(bootstrap, [TopicSpec(name, 2)])
    assert status.action == "created", status
    yield name
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_topics([name])
    finally:
        admin.close()


@pytest.mark.parametrize("spec", TOPICS, ids=lambda s: s.name)
def test_pipeline_topic_exists_with_its_partitions(bootstrap: str, spec: TopicSpec) -> None:
    """Each pipeline topic exists with the partition count of jobs.kafka_topics.TOPICS."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        assert consumer.partitions_for_topic(spec.name) == set(range(spec.partitions))
    finally:
        consumer.close()


def test_ensure_topics_twice_leaves_pipeline_topics_as_they_are(bootstrap: str) -> None:
    """Ensuring the pipeline topics again creates nothing and reports each as existing."""
    statuses = ensure_topics(bootstrap)
    assert [(s.name, s.action, s.partitions) for s in statuses] == [
        (spec.name, "exists", spec.partitions) for spec in TOPICS
    ]


def test_message_round_trip(bootstrap: str, scratch_topic: str) -> None:
    """A record sent with acks=all by an idempotent producer is read back with its key, value and header."""
    key, value = f"G{uuid.uuid4().hex[:10]}".encode(), b'{"loan_amnt": 12000, "grade": "B"}'
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, retries=5)
    try:
        sent = producer.send(scratch_topic, key=key, value=value, headers=[("schema", b"1")]).get(timeout=30)
    finally:
        producer.close()
    assert sent.topic == scratch_topic
    assert sent.offset >= 0

    received = read_one(bootstrap, TopicPartition(scratch_topic, sent.partition), sent.offset)
    assert (received.key, received.value, received.headers) == (key, value, [("schema", b"1")])
    assert received.offset == sent.offset


def read_one(bootstrap: str, partition: TopicPartition, offset: int):
    """Read the record at `offset` of `partition` (fails after 30 s without it)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=30_000)
    try:
        consumer.assign([partition])
        consumer.seek(partition, offset)
        return next(iter(consumer))
    finally:
        consumer.close()


def publish(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for value in values:
            producer.send(topic, value=value, partition=0)
        producer.flush(timeout=30)
    finally:
        producer.close()


def test_the_adapter_reads_a_topic_to_its_end(bootstrap: str, scratch_topic: str) -> None:
    values = [f"record {i}".encode() for i in range(25)]
    publish(bootstrap, scratch_topic, values)
    read = list(kafka_adapter.read_topic(bootstrap, scratch_topic, timeout_s=60))
    assert [(p, o) for p, o, _ in read] == [(0, i) for i in range(25)]
    assert [v for _, _, v in read] == values


def test_the_adapter_reads_a_groups_lag(bootstrap: str, scratch_topic: str) -> None:
    publish(bootstrap, scratch_topic, [b"a", b"b", b"c"])
    group = f"it-lag-{uuid.uuid4().hex[:8]}"
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        consumer.commit({TopicPartition(scratch_topic, 0): OffsetAndMetadata(2, "", -1)})
    finally:
        consumer.close()
    with kafka_adapter.OffsetReader(bootstrap) as reader:
        committed, ends = reader.offsets(group, scratch_topic)
    assert ends == {0: 3, 1: 0}
    assert committed == {0: 2, 1: None}  # the group never committed on partition 1
