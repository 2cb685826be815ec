"""SaveBolt: write each decided applicant to HBase, then publish its decision event; ack only after both.

Per flush (input ran dry, or ``loanrisk.save.batch_size`` applicants queued): read the fingerprint and save
time of the batch's existing rows (one multi-get, ``EXISTING_COLUMNS``), plan each item (events.plan_saves: WRITE a
new id, REPUBLISH the identical event of a row an earlier failed attempt saved, SKIP a repeat in the batch,
DUPLICATE other content under a taken id), put the new rows in one batched mutation, publish the decision
events and wait for Kafka's acks, emit the duplicates on the dead_letter stream, and only then ack the input
tuples. Any error fails every tuple of the flush (Storm replays them; the plan makes the replay idempotent).
The HBase table is created by `make up` (stack/services/hbase.sh), not here.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, ClassVar

from streamparse import Stream

from bolts.common import (
    DEAD_LETTER_FIELDS,
    DEAD_LETTER_STREAM,
    BatchingBolt,
    PublishesToKafka,
    now_ms,
    opt,
    unpack_items,
)
from loanrisk import events

# HBase's Thrift server drops a connection idle for hbase.thrift.server.socket.read.timeout (60 s by default);
# reconnect before that instead of failing (and replaying) the first batch after a quiet spell.
IDLE_RECONNECT_SECS = 50.0
# what the plan needs of a row that exists already: its fingerprint and save time, in any row schema
EXISTING_COLUMNS = events.stored_columns([events.COL_FINGERPRINT, events.COL_SAVED_AT])


def open_table(conf: dict[str, Any]) -> Any:
    """Connect to HBase Thrift and return the loan_applications table."""
    import happybase  # imported here so the pure parts load without happybase

    conn = happybase.Connection(
        opt(conf, "loanrisk.hbase.host"),
        opt(conf, "loanrisk.hbase.port"),
        timeout=opt(conf, "loanrisk.hbase.timeout_ms"),
    )
    return conn.table(opt(conf, "loanrisk.hbase.table"))


def read_existing(table: Any, ids: list[str]) -> dict[str, events.Stored]:
    """Return the fingerprint and save time of the rows that already exist for ids."""
    rows = table.rows(sorted(set(ids)), columns=EXISTING_COLUMNS)
    found = {key.decode(): events.cells(cols) for key, cols in rows}
    return {
        app_id: events.Stored(
            cols.get(events.COL_FINGERPRINT, b"").decode(), int(cols.get(events.COL_SAVED_AT, b"0") or 0)
        )
        for app_id, cols in found.items()
    }


def stored_events(table: Any, replays: list[tuple[str, events.DecisionEvent]]) -> list[events.DecisionEvent]:
    """Return the events of rows already saved, rebuilt from the rows (the replay's own event if unreadable)."""
    if not replays:
        return []
    rows = dict(table.rows(sorted({app_id.encode() for app_id, _ in replays})))
    out = []
    for app_id, fresh in replays:
        stored = events.parse_row(app_id, rows.get(app_id.encode(), {}))
        out.append(fresh if isinstance(stored, events.ParseError) else events.stored_event(stored))
    return out


class SaveBolt(PublishesToKafka, BatchingBolt):
    """Persist decided applicants to HBase in batches and publish one decision event per saved row."""

    # dead_letter stream -> dead_letter_bolt: application_id, letter (DUPLICATE_ID)
    outputs: ClassVar[list[Stream]] = [Stream(fields=DEAD_LETTER_FIELDS, name=DEAD_LETTER_STREAM)]
    batch_size_key = "loanrisk.save.batch_size"

    def setup(self, storm_conf: dict[str, Any]) -> None:
        self.decisions_topic = opt(storm_conf, "loanrisk.kafka.decisions_topic")
        self.send_timeout = opt(storm_conf, "loanrisk.kafka.send_timeout_secs")
        self.batch_puts = opt(storm_conf, "loanrisk.hbase.batch_puts")
        self._table: Any = None
        self._last_used = 0.0
        self._producer = None

    def flush(self, tuples: list[Any]) -> None:
        """Save a batch; ack every tuple after its rows and events are durable, else fail them all."""
        try:
            self.save(sorted(unpack_items(tuples), key=lambda e: _kafka_order(e[1])))
        except Exception as exc:  # noqa: BLE001 HBase or Kafka trouble: replay the whole batch later
            self.logger.warning("saving %d tuples failed, failing them: %r", len(tuples), exc)
            self.reset_table()
            for tup in tuples:
                self.fail(tup)
            return
        for tup in tuples:
            self.ack(tup)

    def save(self, entries: list[tuple[Any, events.Tracked, list[Any]]]) -> None:
        """Plan the batch against HBase, write new rows, publish their events, dead-letter duplicates."""
        bodies = [tracked.body.encode("utf-8") for _, tracked, _ in entries]
        keyed = [
            (tracked.application_id, events.sha256_hex(body))
            for (_, tracked, _), body in zip(entries, bodies, strict=True)
        ]
        existing = read_existing(self.table, [app_id for app_id, _ in keyed])
        plan = events.plan_saves(keyed, existing)
        saved_at = now_ms()
        writes, publish, letters, replays = [], [], [], []
        owners = {app_id: row.fingerprint for app_id, row in existing.items()}
        for (tup, tracked, rest), body, (app_id, fp), action in zip(entries, bodies, keyed, plan, strict=True):
            owners.setdefault(app_id, fp)
            decision = events.Decision.from_dict(rest[0])
            if action == events.WRITE:
                writes.append((app_id, events.row_columns(body, decision, tracked, saved_at)))
                publish.append(events.decision_event(decision, tracked, saved_at, fp, events.applicant_grade(body)))
            elif action == events.REPUBLISH:
                stored_at = existing[app_id].saved_at_ms
                replays.append(
                    (app_id, events.decision_event(decision, tracked, stored_at, fp, events.applicant_grade(body)))
                )
            elif action == events.DUPLICATE:
                letters.append((events.duplicate_letter(tracked, owners[app_id], now_ms()), tup))
        publish += stored_events(self.table, replays)
        self.put_rows(writes)
        self.publish(self.decisions_topic, [(e.application_id, e.to_dict()) for e in publish], self.send_timeout)
        for letter, tup in letters:  # only once the batch is durable: a failed batch sends no letter twice
            self.emit_dead_letter(letter, [tup])

    def put_rows(self, writes: list[tuple[str, dict[bytes, bytes]]]) -> None:
        """Write the rows: one batched mutation, or (naive design) one put per row."""
        if not writes:
            return
        if not self.batch_puts:
            for app_id, row in writes:
                self.table.put(app_id.encode(), row)
            return
        with self.table.batch(transaction=True) as batch:
            for app_id, row in writes:
                batch.put(app_id.encode(), row)

    @property
    def table(self) -> Any:
        """Return the HBase table, connecting when needed or when the connection idled."""
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
            with contextlib.suppress(Exception):  # already broken: nothing more to release
                self._table.connection.close()
        self._table = None


def _kafka_order(tracked: events.Tracked) -> tuple[str, int, int]:
    """Sort key: the record's Kafka coordinates, so the earliest record of an id wins a batch."""
    return tracked.source.topic, tracked.source.partition, tracked.source.offset
