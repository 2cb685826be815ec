"""DeadLetterBolt: the one place dead letters leave the topology, for every bolt that raises them.

The filter, decision, submit and save bolts emit a tuple on their ``dead_letter`` stream, anchored to the
input it came from, and ack that input; the record stays pending until this bolt has published the letter to
loan-applications-dlq and Kafka acknowledged it. If Kafka cannot take it, the tuple fails and Storm replays
the record from the spout. Letters queue like batches do and are sent together.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bolts.common import BatchingBolt, PublishesToKafka, opt


class DeadLetterBolt(PublishesToKafka, BatchingBolt):
    """Publish dead letters (application_id, letter dict) to the dead-letter topic, then ack them."""

    outputs: ClassVar[list[Any]] = []
    batch_size_key = "loanrisk.dead_letter.batch_size"

    def setup(self, storm_conf: dict[str, Any]) -> None:
        self.topic = opt(storm_conf, "loanrisk.kafka.dlq_topic")
        self.send_timeout = opt(storm_conf, "loanrisk.kafka.send_timeout_secs")
        self._producer = None

    def items_in(self, tup: Any) -> int:  # noqa: ARG002 BatchingBolt's hook: a letter is one item whatever it holds
        return 1

    def flush(self, tuples: list[Any]) -> None:
        try:
            self.publish(self.topic, [(t.values[0], t.values[1]) for t in tuples], self.send_timeout)
        except Exception as exc:  # noqa: BLE001 any Kafka error or timeout: nothing is dropped, Storm replays the records
            self.logger.warning("publishing %d dead letters failed, failing them: %r", len(tuples), exc)
            for tup in tuples:
                self.fail(tup)
            return
        for tup in tuples:
            self.ack(tup)
