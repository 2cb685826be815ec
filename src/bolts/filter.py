"""FilterBolt: parse, clean and validate Kafka records; batch the applicants by shard; dead-letter the rest.

Records arrive from the Kafka spout one per tuple (LoanKafkaSpout) or a poll's worth per tuple
(LoanBatchSpout). The bolt queues them and, when its input runs dry (or it
holds ``loanrisk.filter.batch_size``), emits one batch tuple per shard of the id hash, anchored to every
record in it, and a tuple on the dead_letter stream for each record that cannot be an applicant (it keeps
the raw payload: no later stage carries it). Then it acks the records: the anchored tuples keep them
pending until the batches are saved.
"""

from __future__ import annotations

from typing import Any, ClassVar

from streamparse import Stream

from bolts.common import (
    BATCH_FIELDS,
    BATCH_SPOUT_FIELDS,
    DEAD_LETTER_FIELDS,
    DEAD_LETTER_STREAM,
    BatchingBolt,
    ShardGroups,
    now_ms,
    opt,
    received_from_spout,
)
from loanrisk import events
from loanrisk.cleaning import Rejection, parse_json_line


class FilterBolt(BatchingBolt):
    """Turn raw Kafka records into batches of canonical applicants, or into dead letters with their reason."""

    # default stream -> decision_bolt: shard, items (Tracked wire lists)
    # dead_letter stream -> dead_letter_bolt: application_id, letter
    outputs: ClassVar[list[Stream]] = [
        Stream(fields=BATCH_FIELDS),
        Stream(fields=DEAD_LETTER_FIELDS, name=DEAD_LETTER_STREAM),
    ]
    batch_size_key = "loanrisk.filter.batch_size"

    def setup(self, storm_conf: dict[str, Any]) -> None:
        self.shards = opt(storm_conf, "loanrisk.batch.shards")

    def items_in(self, tup: Any) -> int:
        return len(spout_records(tup))

    def flush(self, tuples: list[Any]) -> None:
        groups = ShardGroups()
        for tup, values in ((t, values) for t in tuples for values in spout_records(t)):
            received, utf8 = received_from_spout(values)
            result = (
                parse_json_line(received.raw) if utf8 else Rejection("BAD_JSON", None, "payload is not valid UTF-8")
            )
            if isinstance(result, Rejection):
                self.emit_dead_letter(
                    events.dead_letter(
                        received,
                        result.reason,
                        result.field,
                        result.detail,
                        events.application_id_hint(received),
                        now_ms(),
                    ),
                    [tup],
                )
                continue
            app_id = result.id
            groups.add(
                events.shard_of(app_id, self.shards),
                events.Tracked.of(app_id, result.to_dict(), received).to_wire(),
                tup,
            )
        self.emit_batches(groups)
        for tup in tuples:
            self.ack(tup)


def spout_records(tup: Any) -> list[Any]:
    """Return the Kafka records a spout tuple carries: LoanBatchSpout's (partition, records), or one record."""
    return tup.values[1] if len(tup.values) == len(BATCH_SPOUT_FIELDS) else [tup.values]
