"""FilterBolt: parse, clean and validate each Kafka record; dead-letter what cannot be an applicant."""

from __future__ import annotations

from typing import Any

from streamparse import Bolt, Stream

from bolts.common import PublishesToKafka, now_ms, opt, publish_all, received_from_spout
from loanrisk import events
from loanrisk.cleaning import Rejection, parse_json_line

# default stream -> decision_bolt: application_id (str), applicant (canonical dict), received (Received dict)
APPLICANT_FIELDS = ["application_id", "applicant", "received"]


class FilterBolt(PublishesToKafka, Bolt):
    """Turn a raw Kafka record into the canonical applicant, or into a dead letter with its reason."""

    outputs = [Stream(fields=APPLICANT_FIELDS)]
    auto_ack = False
    auto_anchor = False
    auto_fail = False

    def initialize(self, storm_conf: dict[str, Any], context: dict[str, Any]) -> None:
        """Read the settings; the dead-letter producer opens on first use."""
        self.conf = storm_conf
        self.dlq_topic = opt(storm_conf, "loanrisk.kafka.dlq_topic")
        self.send_timeout = opt(storm_conf, "loanrisk.kafka.send_timeout_secs")
        self._producer = None


    def process(self, tup: Any) -> None:
        """Emit the cleaned applicant anchored to the record, or dead-letter the record; then ack."""
        received, utf8 = received_from_spout(tup.values)
        result = parse_json_line(received.raw) if utf8 else Rejection("BAD_JSON", None, "payload is not valid UTF-8")
        if isinstance(result, Rejection):
            self.dead_letter(tup, received, result)
            return
        applicant = result.to_dict()
        self.emit([applicant["id"], applicant, received.to_dict()], anchors=[tup])
        self.ack(tup)

    def dead_letter(self, tup: Any, received: events.Received, rejection: Rejection) -> None:
        """Publish the dead letter and ack once Kafka has it; fail the tuple (replayed) if it cannot."""
        letter = events.dead_letter(received, rejection.reason, rejection.field, rejection.detail,
                                    events.application_id_hint(received), now_ms())
        try:
            publish_all(self.producer, self.dlq_topic, [(letter.application_id, letter.to_dict())], self.send_timeout)
        except Exception as exc:  # any Kafka error or timeout: nothing is dropped, Storm replays the record
            self.logger.warning("dead letter for %s failed, failing the tuple: %r", received.source, exc)
            self.fail(tup)
            return
        self.ack(tup)
