"""SaveBolt: write each decided applicant to HBase, then publish its decision event.

Per batch (loanrisk.save.batch_size / max_wait_ms): read the batch's existing rows, plan each item
(events.plan_saves: WRITE, SKIP a replay already saved and published, DUPLICATE other content under a
taken id), put the rows in one batched mutation, publish their decision events and wait for Kafka's
acks, mark the rows decision:event_published, dead-letter the duplicates, and only then ack the tuples.
Any error fails every tuple of the batch (Storm replays them; the plan makes the replay idempotent).
"""

from __future__ import annotations

import time
from typing import Any

from streamparse import Bolt

from bolts.common import FlushesBatches, PendingBatch, PublishesToKafka, now_ms, opt, publish_all
from loanrisk import events

# HBase's Thrift server drops a connection idle for hbase.thrift.server.socket.read.timeout (60 s by default);
# reconnect before that instead of failing (and replaying) the first batch after a quiet spell.
IDLE_RECONNECT_SECS = 50.0


def open_table(conf: dict[str, Any]) -> Any:
    """Connect to HBase Thrift and return the loan_applications table, creating it if missing."""
    import happybase  # imported here so the pure parts load without happybase

    conn = happybase.Connection(opt(conf, "loanrisk.hbase.host"), opt(conf, "loanrisk.hbase.port"),
                                timeout=opt(conf, "loanrisk.hbase.timeout_ms"))
    name = opt(conf, "loanrisk.hbase.table")
    if name.encode() not in conn.tables():
        try:
            conn.create_table(name, {family: {"max_versions": 1} for family in events.FAMILIES})
        except Exception:  # another SaveBolt task created it first (AlreadyExists)
            if name.encode() not in conn.tables():
                raise
    return conn.table(name)


def read_existing(table: Any, ids: list[str]) -> dict[str, events.Stored]:
    """Return the fingerprint and publication marker of the rows that already exist for ids."""
    rows = table.rows(sorted(set(ids)), columns=[events.COL_FINGERPRINT, events.COL_EVENT_PUBLISHED])
    return {key.decode(): events.Stored(cols.get(events.COL_FINGERPRINT, b"").decode(),
                                        cols.get(events.COL_EVENT_PUBLISHED) == b"1")
            for key, cols in rows}


class SaveBolt(PublishesToKafka, FlushesBatches, Bolt):
    """Persist decided applicants to HBase in batches and publish one decision event per saved row."""

    outputs: list[Any] = []
    auto_ack = False
    auto_anchor = False
    auto_fail = False

    def initialize(self, storm_conf: dict[str, Any], context: dict[str, Any]) -> None:
        """Read the settings; HBase and Kafka clients open on first use and reopen after errors."""
        self.conf = storm_conf
        self.batch = PendingBatch(opt(storm_conf, "loanrisk.save.batch_size"), opt(storm_conf, "loanrisk.save.max_wait_ms"))
        self.decisions_topic = opt(storm_conf, "loanrisk.kafka.decisions_topic")
        self.dlq_topic = opt(storm_conf, "loanrisk.kafka.dlq_topic")
        self.send_timeout = opt(storm_conf, "loanrisk.kafka.send_timeout_secs")
        self._table = None
        self._last_used = 0.0
        self._producer = None

    def flush(self, tuples: list[Any]) -> None:
        """Save a batch; ack every tuple after its row (or dead letter) is durable, else fail them all."""
        try:
            self.save(sorted(tuples, key=_kafka_order))
        except Exception as exc:  # HBase or Kafka trouble: replay the whole batch later
            self.logger.warning("saving %d tuples failed, failing them: %r", len(tuples), exc)
            self.reset_table()
            for tup in tuples:
                self.fail(tup)
            return
        for tup in tuples:
            self.ack(tup)

    def save(self, tuples: list[Any]) -> None:
        """Plan the batch against HBase, write and publish the new rows, dead-letter duplicates."""
        items = [_unpack(t) for t in tuples]
        keyed = [(i[0], events.fingerprint(i[1])) for i in items]
        existing = read_existing(self.table, [app_id for app_id, _ in keyed])
        plan = events.plan_saves(keyed, existing)
        self.write_and_publish([i for i, action in zip(items, plan) if action == events.WRITE])
        self.dead_letter_duplicates([i for i, action in zip(items, plan) if action == events.DUPLICATE],
                                    _owners(keyed, existing))

    def write_and_publish(self, writes: list[tuple[Any, ...]]) -> None:
        """Put the rows, publish their decision events and wait for Kafka, then mark the rows published."""
        saved_at = now_ms()
        with self.table.batch(transaction=True) as batch:
            for app_id, applicant, decision, received in writes:
                batch.put(app_id.encode(), events.hbase_row(applicant, decision, received, saved_at))
        publish_all(self.producer, self.decisions_topic,
                    [(d.application_id, events.decision_event(d, r, saved_at).to_dict()) for _, _, d, r in writes],
                    self.send_timeout)
        with self.table.batch(transaction=True) as batch:
            for app_id, *_ in writes:
                batch.put(app_id.encode(), events.published_marker())

    def dead_letter_duplicates(self, items: list[tuple[Any, ...]], owners: dict[str, str]) -> None:
        """Publish a DUPLICATE_ID dead letter for each item whose id is taken by other content."""
        letters = [events.duplicate_letter(received, app_id, owners[app_id], now_ms())
                   for app_id, _, _, received in items]
        publish_all(self.producer, self.dlq_topic, [(l.application_id, l.to_dict()) for l in letters], self.send_timeout)

    @property
    def table(self) -> Any:
        """Return the HBase table, connecting (and creating it) when needed or when the connection idled."""
        now = time.monotonic()
        if self._table is not None and now - self._last_used > IDLE_RECONNECT_SECS:
            self.reset_table()  # the Thrift server has closed it: the first call would fail the whole batch
        if self._table is None:
            self._table = open_table(self.conf)
        self._last_used = now
        return self._table

    def reset_table(self) -> None:
        """Drop the HBase connection after an error; the next batch reconnects."""
        if self._table is not None:
            try:
                self._table.connection.close()
            except Exception:  # already broken: nothing more to release
                pass
        self._table = None



def _unpack(tup: Any) -> tuple[str, dict[str, Any], events.Decision, events.Received]:
    """Unpack a decided tuple into typed records."""
    app_id, applicant, decision, received = tup.values
    return app_id, applicant, events.Decision.from_dict(decision), events.Received.from_dict(received)


def _owners(keyed: list[tuple[str, str]], existing: dict[str, events.Stored]) -> dict[str, str]:
    """Return, per id, the fingerprint that owns it: the stored row's, else the batch's first."""
    owners = {app_id: row.fingerprint for app_id, row in existing.items()}
    for app_id, fp in keyed:
        owners.setdefault(app_id, fp)
    return owners


def _kafka_order(tup: Any) -> tuple[str, int, int]:
    """Sort key: the record's Kafka coordinates, so the earliest record of an id wins a batch."""
    source = tup.values[3]["source"]
    return source["topic"], source["partition"], source["offset"]
