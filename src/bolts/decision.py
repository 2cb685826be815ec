"""DecisionBolt: the pre-screen policy; declined applicants go straight to the SaveBolt.

It also dead-letters, as DUPLICATE_ID, a record whose id it saw earlier in Kafka order with other content:
records of one id reach this bolt in Kafka order (fields grouping on the key at the filter, on the shard of
the id from here on), whereas a declined record overtakes a scored one on the way to the SaveBolt. Ids older
than the window are left to the SaveBolt's check against HBase.
"""

from __future__ import annotations

from typing import Any, ClassVar

from streamparse import Stream

from bolts.common import (
    BATCH_FIELDS,
    DEAD_LETTER_FIELDS,
    DEAD_LETTER_STREAM,
    BatchingBolt,
    ShardGroups,
    now_ms,
    opt,
    unpack_items,
)
from loanrisk import events
from loanrisk.prescreen import PrescreenPolicy, prescreen

DECLINED_STREAM = "declined"


class DecisionBolt(BatchingBolt):
    """Apply the pre-screen rules: decline with reasons, or pass the applicant on to the model."""

    # default stream -> submit_bolt: shard, items (Tracked wire lists)
    # "declined" stream -> save_bolt: shard, items (Tracked wire + Decision dict)
    # dead_letter stream -> dead_letter_bolt: application_id, letter
    outputs: ClassVar[list[Stream]] = [
        Stream(fields=BATCH_FIELDS),
        Stream(fields=BATCH_FIELDS, name=DECLINED_STREAM),
        Stream(fields=DEAD_LETTER_FIELDS, name=DEAD_LETTER_STREAM),
    ]
    batch_size_key = "loanrisk.filter.batch_size"

    def setup(self, storm_conf: dict[str, Any]) -> None:
        self.policy = PrescreenPolicy.from_options(storm_conf)
        self.first_seen = events.FirstSeen(opt(storm_conf, "loanrisk.decision.duplicate_window"))
        self.logger.info("pre-screen policy %s", self.policy)

    def flush(self, tuples: list[Any]) -> None:
        to_score, declined = ShardGroups(), ShardGroups()
        for tup, tracked, _ in unpack_items(tuples):
            app_id, shard = tracked.application_id, tup.values[0]
            if self.first_seen.is_later_duplicate(app_id, tracked.fingerprint, tracked.source):
                letter = events.duplicate_letter(tracked, self.first_seen.first_fingerprint(app_id) or "", now_ms())
                self.emit_dead_letter(letter, [tup])
                continue
            decision = prescreen(tracked.applicant, self.policy)
            if decision is None:
                to_score.add(shard, tracked.to_wire(), tup)
            else:
                declined.add(shard, [*tracked.to_wire(), decision.to_dict()], tup)
        self.emit_batches(to_score)
        self.emit_batches(declined, stream=DECLINED_STREAM)
        for tup in tuples:
            self.ack(tup)
