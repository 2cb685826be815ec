"""SubmitBolt: score applicants with the Risk API's batch endpoint, in small batches.

Batches close when full (loanrisk.submit.batch_size) or when the oldest applicant waited
loanrisk.submit.max_wait_ms (checked on every tuple and on tick tuples). A batch the Risk API cannot
answer after bounded retries is FAILED as a whole (Storm replays it later): nothing is saved with a
made-up score. A 422 for one applicant dead-letters that applicant (RISK_API_REJECTED) and the rest of
the batch is sent again, so one bad record cannot poison a batch forever.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import requests
from streamparse import Bolt, Stream

from bolts.common import FlushesBatches, PendingBatch, PublishesToKafka, now_ms, opt, publish_all
from loanrisk import events

# default stream -> save_bolt: application_id, applicant (canonical dict), decision (Decision dict), received
DECIDED_FIELDS = ["application_id", "applicant", "decision", "received"]
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_INDEX_RE = re.compile(r"applicants\W{0,3}(\d+)|index\W{0,3}(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Scored:
    """The Risk API answered for every applicant of the batch, in order."""

    decisions: list[events.Decision]


@dataclass(frozen=True)
class Rejected:
    """The Risk API refused the batch (422) because of one applicant (index None when it did not say)."""

    index: int | None
    field: str | None
    detail: str


@dataclass(frozen=True)
class Unavailable:
    """The Risk API could not answer (connection, timeout, 5xx, malformed answer) within the budget."""

    detail: str


def rejected_index(problem: Any, size: int) -> int | None:
    """Find which applicant a 422 problem document names, None when it names none."""
    if size == 1:
        return 0
    if not isinstance(problem, dict):
        return None
    candidates = [problem.get("index")] + [e.get("index") for e in problem.get("errors") or [] if isinstance(e, dict)]
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < size:
            return value
    match = _INDEX_RE.search(" ".join(str(problem.get(k, "")) for k in ("detail", "field", "pointer", "title")))
    index = int(next(g for g in match.groups() if g)) if match else None
    return index if index is not None and index < size else None


def read_results(body: Any, ids: list[str]) -> Scored | Unavailable:
    """Check the batch answer matches the request one for one, and turn it into decisions."""
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list) or len(results) != len(ids):
        return Unavailable(f"answer has no results list of {len(ids)}")
    try:
        decisions = [events.decision_from_evaluation(r) for r in results]
    except (KeyError, TypeError, ValueError) as exc:
        return Unavailable(f"malformed result: {exc!r}")
    if [d.application_id for d in decisions] != ids:
        return Unavailable("results are not in request order")
    return Scored(decisions)


class SubmitBolt(PublishesToKafka, FlushesBatches, Bolt):
    """Collect applicants into small batches and score them with POST /v1/evaluations/batch."""

    outputs = [Stream(fields=DECIDED_FIELDS)]
    auto_ack = False
    auto_anchor = False
    auto_fail = False

    def initialize(self, storm_conf: dict[str, Any], context: dict[str, Any]) -> None:
        """Open the HTTP session and read the batch, timeout and retry settings."""
        self.conf = storm_conf
        self.url = opt(storm_conf, "loanrisk.risk_api.url").rstrip("/") + "/v1/evaluations/batch"
        self.timeout = (opt(storm_conf, "loanrisk.risk_api.connect_timeout_secs"),
                        opt(storm_conf, "loanrisk.risk_api.read_timeout_secs"))
        self.max_attempts = opt(storm_conf, "loanrisk.risk_api.max_attempts")
        self.backoff = opt(storm_conf, "loanrisk.risk_api.backoff_secs")
        self.budget = opt(storm_conf, "loanrisk.risk_api.retry_budget_secs")
        self.send_timeout = opt(storm_conf, "loanrisk.kafka.send_timeout_secs")
        self.batch = PendingBatch(opt(storm_conf, "loanrisk.submit.batch_size"),
                                  opt(storm_conf, "loanrisk.submit.max_wait_ms"))
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self._producer = None

    def flush(self, tuples: list[Any]) -> None:
        """Score a batch: emit and ack each scored tuple, dead-letter a rejected one, fail on outage."""
        pending = list(tuples)
        while pending:
            outcome = self.evaluate([t.values[1] for t in pending])
            if isinstance(outcome, Scored):
                self.emit_scored(pending, outcome.decisions)
                return
            if isinstance(outcome, Unavailable):
                self.logger.warning("Risk API unavailable, failing %d tuples: %s", len(pending), outcome.detail)
                for tup in pending:
                    self.fail(tup)
                return
            pending = self.handle_rejection(pending, outcome)

    def handle_rejection(self, pending: list[Any], rejected: Rejected) -> list[Any]:
        """Dead-letter the applicant a 422 names and return the rest; without a name, retry one by one."""
        if rejected.index is None:
            for tup in pending:
                self.flush([tup])
            return []
        tup = pending[rejected.index]
        self.dead_letter(tup, rejected)
        return pending[: rejected.index] + pending[rejected.index + 1:]

    def emit_scored(self, tuples: list[Any], decisions: list[events.Decision]) -> None:
        """Emit each applicant with its decision, anchored to its own tuple, and ack it."""
        for tup, decision in zip(tuples, decisions):
            app_id, applicant, received = tup.values
            self.emit([app_id, applicant, decision.to_dict(), received], anchors=[tup])
            self.ack(tup)

    def evaluate(self, applicants: list[dict[str, Any]]) -> Scored | Rejected | Unavailable:
        """POST the batch with bounded retries and backoff inside the time budget."""
        start, last = time.monotonic(), Unavailable("not attempted")
        for attempt in range(self.max_attempts):
            if attempt:
                pause = self.backoff * 2 ** (attempt - 1)
                if time.monotonic() - start + pause + sum(self.timeout) > self.budget:
                    break
                time.sleep(pause)
            last = self.post_once(applicants)
            if not isinstance(last, Unavailable):
                return last
        return last

    def post_once(self, applicants: list[dict[str, Any]]) -> Scored | Rejected | Unavailable:
        """Make one call to the batch endpoint and classify the answer."""
        try:
            resp = self.session.post(self.url, json={"applicants": applicants}, timeout=self.timeout)
        except requests.RequestException as exc:
            return Unavailable(f"{type(exc).__name__}: {exc}")
        if resp.status_code == 200:
            return read_results(_json(resp), [a["id"] for a in applicants])
        if resp.status_code == 422:
            problem = _json(resp)
            problem = problem if isinstance(problem, dict) else {}
            detail = str(problem.get("detail") or problem.get("title") or "rejected by the Risk API")
            reason = f"{problem['reason']}: " if problem.get("reason") else ""
            return Rejected(rejected_index(problem, len(applicants)), _field(problem), (reason + detail)[:500])
        return Unavailable(f"HTTP {resp.status_code}: {resp.text[:200]}")

    def dead_letter(self, tup: Any, rejected: Rejected) -> None:
        """Publish a RISK_API_REJECTED dead letter and ack, or fail the tuple when Kafka cannot take it."""
        app_id, _, received = tup.values
        letter = events.dead_letter(events.Received.from_dict(received), events.RISK_API_REJECTED, rejected.field,
                                    rejected.detail, app_id, now_ms())
        try:
            publish_all(self.producer, opt(self.conf, "loanrisk.kafka.dlq_topic"),
                        [(app_id, letter.to_dict())], self.send_timeout)
        except Exception as exc:  # any Kafka error: fail, Storm replays the record later
            self.logger.warning("dead letter for %s failed, failing the tuple: %r", app_id, exc)
            self.fail(tup)
            return
        self.ack(tup)


def _json(resp: requests.Response) -> Any:
    """Return the response body as JSON, None when it is not JSON."""
    try:
        return resp.json()
    except ValueError:
        return None


def _field(problem: dict[str, Any]) -> str | None:
    """Return the field a problem document names, if any."""
    field = problem.get("field")
    if field is None and problem.get("errors") and isinstance(problem["errors"][0], dict):
        field = problem["errors"][0].get("field")
    return None if field is None else str(field)[:64]
