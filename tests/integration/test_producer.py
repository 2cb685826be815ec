"""The producer against the real Kafka and Applicant Data API, on a scratch topic (the pipeline topic is untouched)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest
import requests
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from jobs import produce
from jobs.settings import ROOT


@pytest.fixture
def topic(settings):
    """Create a one-partition scratch topic and delete it afterwards."""
    name = f"loanrisk-produce-test-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    yield name
    admin.delete_topics([name])
    admin.close()


def read_all(settings, topic: str) -> list[Any]:
    """Return every record of a one-partition topic."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    end, out, deadline = consumer.end_offsets([tp])[tp], [], time.monotonic() + 60
    while consumer.position(tp) < end and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            out.extend(records)
    consumer.close()
    return out


def api_ids(settings, limit: int) -> list[str]:
    """Return the first `limit` applicant ids the Applicant Data API serves, in its order."""
    with requests.Session() as session:
        session.headers.update(settings.auth_headers("reader"))
        items, _ = produce.fetch_page(session, settings.applicant_api_url, None, limit)
    return [str(item["id"]) for item in items]


def test_api_mode_resumes_from_the_durable_cursor_without_gap_or_repeat(settings, topic, tmp_path) -> None:
    cursor_file = tmp_path / "cursor.json"
    expected = api_ids(settings, 1000)
    assert len(expected) >= 2, "needs applicants in MySQL (make load, make demo or the e2e test)"
    half = len(expected) * 3 // 5
    first = produce.run_api(settings, cursor_file, until_caught_up=True, topic=topic, max_records=half)
    saved = produce.CursorStore(cursor_file).load()
    assert first.published == half
    assert saved.cursor == first.cursor
    assert saved.published == half
    assert saved.kafka_cluster_id == produce.kafka_cluster_id(settings)
    rest = len(expected) - half
    second = produce.run_api(settings, cursor_file, until_caught_up=True, topic=topic, max_records=rest)
    assert second.published == rest
    records = read_all(settings, topic)
    assert [r.key.decode() for r in records] == first.keys + second.keys == expected  # no gap, no repeat
    assert all(json.loads(r.value)["id"] == r.key.decode() for r in records)


def test_file_mode_publishes_exact_bytes_and_stops_cleanly_on_sigterm(settings, topic, tmp_path) -> None:
    lines = [json.dumps({"id": f"GT{i}", "loan_amnt": 1000 + i}).encode() for i in range(3000)]
    lines[5] = b'{"id": "GT5", "loan_amnt": 10'  # truncated JSON: published as is, without a key
    path = tmp_path / "dirty.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    cmd = [sys.executable, "-m", "jobs.produce", "--file", str(path), "--rate", "500", "--topic", topic]
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped by signal" in err
    published = int(err.rsplit("published ", 1)[1].split()[0])
    records = read_all(settings, topic)
    assert 0 < published < len(lines)
    assert len(records) == published
    assert [r.value for r in records] == lines[:published]
    assert records[5].key is None
    assert records[6].key == b"GT6"
