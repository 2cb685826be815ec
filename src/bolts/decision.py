"""DecisionBolt: the pre-screen policy; declined applicants go straight to the SaveBolt.

It also dead-letters, as DUPLICATE_ID, a record whose id it saw earlier in Kafka order with other content:
records of one id reach this bolt in Kafka order (fields grouping on the id from the spout on), whereas a
declined record overtakes a scored one on the way to the SaveBolt. Ids older than the window are left to
the SaveBolt's check against HBase.
"""

from __future__ import annotations

from typing import Any

from streamparse import Bolt, Stream

from bolts.common import PublishesToKafka, now_ms, opt, publish_all
from loanrisk import events
from loanrisk.prescreen import PrescreenPolicy, prescreen

# default stream -> submit_bolt: application_id, applicant (canonical dict), received (Received dict)
# "declined" stream -> save_bolt: application_id, applicant, decision (Decision dict), received
SCREENED_FIELDS = ["application_id", "applicant", "received"]
DECLINED_STREAM = "declined"
DECIDED_FIELDS = ["application_id", "applicant", "decision", "received"]


class DecisionBolt(PublishesToKafka, Bolt):
    """Apply the pre-screen rules: decline with reasons, or pass the applicant on to the model."""

    outputs = [Stream(fields=SCREENED_FIELDS), Stream(fields=DECIDED_FIELDS, name=DECLINED_STREAM)]
    auto_ack = False
    auto_anchor = False
    auto_fail = False

    def initialize(self, storm_conf: dict[str, Any], context: dict[str, Any]) -> None:
        """Build the policy from the loanrisk.prescreen.* options and the duplicate window."""
        self.conf = storm_conf
        self.policy = PrescreenPolicy.from_options(storm_conf)
        self.first_seen = events.FirstSeen(opt(storm_conf, "loanrisk.decision.duplicate_window"))
        self._producer = None
        self.logger.info("pre-screen policy %s", self.policy)

    def process(self, tup: Any) -> None:
        """Route one applicant by the pre-screen's verdict, anchored, then ack."""
        app_id, applicant, received = tup.values
        source = events.Source.from_dict(received["source"])
        if self.first_seen.is_later_duplicate(app_id, events.fingerprint(applicant), source):
            self.dead_letter_duplicate(tup, app_id, received)
            return
        decision = prescreen(applicant, self.policy)
        if decision is None:
            self.emit([app_id, applicant, received], anchors=[tup])
        else:
            self.emit([app_id, applicant, decision.to_dict(), received], stream=DECLINED_STREAM, anchors=[tup])
        self.ack(tup)

    def dead_letter_duplicate(self, tup: Any, app_id: str, received: dict[str, Any]) -> None:
        """Publish a DUPLICATE_ID dead letter and ack, or fail the tuple when Kafka cannot take it."""
        letter = events.duplicate_letter(events.Received.from_dict(received), app_id,
                                         self.first_seen.first_fingerprint(app_id) or "", now_ms())
        try:
            publish_all(self.producer, opt(self.conf, "loanrisk.kafka.dlq_topic"),
                        [(app_id, letter.to_dict())], opt(self.conf, "loanrisk.kafka.send_timeout_secs"))
        except Exception as exc:  # any Kafka error: fail, Storm replays the record later
            self.logger.warning("dead letter for %s failed, failing the tuple: %r", app_id, exc)
            self.fail(tup)
            return
        self.ack(tup)
