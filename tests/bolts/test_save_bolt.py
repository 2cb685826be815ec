"""SaveBolt: batching, and no ack before the batch's rows are durable (HBase paths are integration tests)."""

from __future__ import annotations

import time

from harness import Captured

from bolts.save import SaveBolt
from loanrisk import events

RECEIVED = {"source": {"topic": "loan-applications", "partition": 0, "offset": 3}, "key": None,
            "raw": "{}", "raw_sha256": "0" * 64, "kafka_ts_ms": 1}
DECISION = events.Decision("G000042", "APPROVE", "MODEL", 0.05, (events.Reason("R1", "t"),), "m1", "p1").to_dict()
# Nothing answers on port 9 here: HBase is unreachable, so no write can succeed.
DOWN_HBASE = {"loanrisk.hbase.port": 9, "loanrisk.hbase.timeout_ms": 500, "loanrisk.kafka.bootstrap": "127.0.0.1:9"}


def test_partial_batch_is_held(applicant):
    """Below batch_size and before max_wait, tuples wait: not acked, not failed."""
    cap = Captured(SaveBolt, {**DOWN_HBASE, "loanrisk.save.batch_size": 10, "loanrisk.save.max_wait_ms": 60_000})
    cap.feed([applicant["id"], applicant, DECISION, RECEIVED])
    cap.tick()
    assert cap.acked() == [] and cap.failed() == []


def test_batch_is_failed_when_hbase_is_unreachable(applicant):
    """A batch that cannot be written is failed as a whole (replayed), never acked."""
    cap = Captured(SaveBolt, {**DOWN_HBASE, "loanrisk.save.batch_size": 10, "loanrisk.save.max_wait_ms": 20})
    tups = [cap.feed([f"G{i}", {**applicant, "id": f"G{i}"}, {**DECISION, "application_id": f"G{i}"}, RECEIVED])
            for i in range(3)]
    time.sleep(0.03)
    cap.tick()
    assert sorted(cap.failed()) == sorted(t.id for t in tups) and cap.acked() == []
    assert cap.emitted() == []
