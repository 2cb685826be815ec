"""DecisionBolt: the pre-screen policy; declined applicants go straight to the SaveBolt."""

from __future__ import annotations

from typing import Any

from streamparse import Bolt, Stream

from loanrisk.prescreen import PrescreenPolicy, prescreen

# default stream -> submit_bolt: application_id, applicant (canonical dict), received (Received dict)
# "declined" stream -> save_bolt: application_id, applicant, decision (Decision dict), received
SCREENED_FIELDS = ["application_id", "applicant", "received"]
DECLINED_STREAM = "declined"
DECIDED_FIELDS = ["application_id", "applicant", "decision", "received"]


class DecisionBolt(Bolt):
    """Apply the pre-screen rules: decline with reasons, or pass the applicant on to the model."""

    outputs = [Stream(fields=SCREENED_FIELDS), Stream(fields=DECIDED_FIELDS, name=DECLINED_STREAM)]
    auto_ack = False
    auto_anchor = False
    auto_fail = False

    def initialize(self, storm_conf: dict[str, Any], context: dict[str, Any]) -> None:
        """Build the policy from the loanrisk.prescreen.* options."""
        self.policy = PrescreenPolicy.from_options(storm_conf)
        self.logger.info("pre-screen policy %s", self.policy)

    def process(self, tup: Any) -> None:
        """Route one applicant by the pre-screen's verdict, anchored, then ack."""
        app_id, applicant, received = tup.values
        decision = prescreen(applicant, self.policy)
        if decision is None:
            self.emit([app_id, applicant, received], anchors=[tup])
        else:
            self.emit([app_id, applicant, decision.to_dict(), received], stream=DECLINED_STREAM, anchors=[tup])
        self.ack(tup)
