"""SubmitBolt: score applicants with the Risk API's batch endpoint, one call per flush of queued batches.

A flush (input ran dry, or ``loanrisk.submit.batch_size`` applicants queued) posts the applicants in calls of
at most that size. The endpoint answers HTTP 200 with ``results`` in request order, where an applicant the
API refuses has ``null`` and an entry in ``problems`` (index, field, reason, detail): that applicant becomes a
RISK_API_REJECTED dead letter, the others are emitted to the SaveBolt; nothing is resent. An older API that
answers 422 for a whole batch because of one applicant is still handled: the named applicant is
dead-lettered and the rest sent again (one by one when it names none). A batch the Risk API cannot answer
after bounded retries is FAILED as a whole (Storm replays it later): nothing is saved with a made-up score.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
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

_INDEX_RE = re.compile(r"applicants\W{0,3}(\d+)|index\W{0,3}(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    """The Risk API refused one applicant (field and detail as it said them)."""

    field: str | None
    detail: str


@dataclass(frozen=True)
class Scored:
    """The Risk API answered for every applicant of the call, in order: a decision or a problem each."""

    outcomes: list[events.Decision | Problem]


@dataclass(frozen=True)
class Rejected:
    """The Risk API refused the whole call (422) because of one applicant (index None when it did not say)."""

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
        if _is_index(value, size):
            return value
    match = _INDEX_RE.search(" ".join(str(problem.get(k, "")) for k in ("detail", "field", "pointer", "title")))
    index = int(next(g for g in match.groups() if g)) if match else None
    return index if index is not None and index < size else None


def _is_index(value: Any, size: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < size


def read_problems(body: dict[str, Any], size: int) -> dict[int, Problem] | Unavailable:
    """Read the per-applicant ``problems`` of a batch answer (absent or empty: none)."""
    found: dict[int, Problem] = {}
    for entry in body.get("problems") or []:
        if not isinstance(entry, dict) or not _is_index(entry.get("index"), size):
            return Unavailable(f"malformed problem entry: {str(entry)[:200]}")
        reason, detail = entry.get("reason"), str(entry.get("detail") or "rejected by the Risk API")
        field = entry.get("field")
        found.setdefault(
            entry["index"],
            Problem(None if field is None else str(field)[:64], (f"{reason}: {detail}" if reason else detail)[:500]),
        )
    return found


def read_results(body: Any, ids: list[str]) -> Scored | Unavailable:
    """Check the batch answer matches the request one for one, and turn it into decisions and problems."""
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list) or len(results) != len(ids):
        return Unavailable(f"answer has no results list of {len(ids)}")
    problems = read_problems(body, len(ids))
    if isinstance(problems, Unavailable):
        return problems
    outcomes: list[events.Decision | Problem] = []
    for index, (result, app_id) in enumerate(zip(results, ids)):
        if index in problems:
            outcomes.append(problems[index])
            continue
        if result is None:
            return Unavailable(f"no result and no problem for applicant {index}")
        try:
            decision = events.decision_from_evaluation(result)
        except (KeyError, TypeError, ValueError) as exc:
            return Unavailable(f"malformed result: {exc!r}")
        if decision.application_id != app_id:
            return Unavailable("results are not in request order")
        outcomes.append(decision)
    return Scored(outcomes)


class SubmitBolt(BatchingBolt):
    """Collect applicants and score them with POST /v1/evaluations/batch."""

    # default stream -> save_bolt: shard, items (Tracked wire + Decision dict)
    # dead_letter stream -> dead_letter_bolt: application_id, letter
    outputs = [Stream(fields=BATCH_FIELDS), Stream(fields=DEAD_LETTER_FIELDS, name=DEAD_LETTER_STREAM)]
    batch_size_key = "loanrisk.submit.batch_size"

    def setup(self, storm_conf: dict[str, Any]) -> None:
        self.url = opt(storm_conf, "loanrisk.risk_api.url").rstrip("/") + "/v1/evaluations/batch"
        self.timeout = (
            opt(storm_conf, "loanrisk.risk_api.connect_timeout_secs"),
            opt(storm_conf, "loanrisk.risk_api.read_timeout_secs"),
        )
        self.max_attempts = opt(storm_conf, "loanrisk.risk_api.max_attempts")
        self.backoff = opt(storm_conf, "loanrisk.risk_api.backoff_secs")
        self.budget = opt(storm_conf, "loanrisk.risk_api.retry_budget_secs")
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "Content-Type": "application/json"})
        token = scorer_token(storm_conf, os.environ)
        if token is None:
            self.logger.warning(
                "no scorer token (env %s, file %s): the Risk API will answer 401",
                opt(storm_conf, "loanrisk.risk_api.token_env"),
                opt(storm_conf, "loanrisk.risk_api.token_file"),
            )
        self.session.headers.update(bearer(token))
        self.session.verify = opt(storm_conf, "loanrisk.risk_api.ca_file") or True  # never off

    def flush(self, tuples: list[Any]) -> None:
        """Score every queued applicant; emit the decided, dead-letter the refused, then ack; fail on outage."""
        entries = unpack_items(tuples)
        outcomes: list[events.Decision | Problem] = []
        for start in range(0, len(entries), self.batch_size):
            chunk = [tracked for _, tracked, _ in entries[start : start + self.batch_size]]
            scored = self.score(chunk)
            if isinstance(scored, Unavailable):
                self.logger.warning("Risk API unavailable, failing %d tuples: %s", len(tuples), scored.detail)
                for tup in tuples:
                    self.fail(tup)
                return
            outcomes += scored
        decided = ShardGroups()
        for (tup, tracked, _), outcome in zip(entries, outcomes):
            if isinstance(outcome, Problem):
                self.emit_dead_letter(
                    events.late_letter(tracked, events.RISK_API_REJECTED, outcome.field, outcome.detail, now_ms()),
                    [tup],
                )
            else:
                decided.add(tup.values[0], [*tracked.to_wire(), outcome.to_dict()], tup)
        self.emit_batches(decided)
        for tup in tuples:
            self.ack(tup)

    def score(self, chunk: list[events.Tracked]) -> list[events.Decision | Problem] | Unavailable:
        """Return a decision or a problem per applicant, in order, or Unavailable."""
        outcomes: dict[int, events.Decision | Problem] = {}
        pending = list(range(len(chunk)))
        while pending:
            answer = self.evaluate([chunk[i] for i in pending])
            if isinstance(answer, Unavailable):
                return answer
            if isinstance(answer, Scored):
                outcomes.update(zip(pending, answer.outcomes))
                break
            if answer.index is None:  # a 422 that names no applicant: ask for each one alone
                for i in pending:
                    single = self.score([chunk[i]])
                    if isinstance(single, Unavailable):
                        return single
                    outcomes[i] = single[0]
                break
            outcomes[pending.pop(answer.index)] = Problem(answer.field, answer.detail)
        return [outcomes[i] for i in range(len(chunk))]

    def evaluate(self, applicants: list[events.Tracked]) -> Scored | Rejected | Unavailable:
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

    def post_once(self, applicants: list[events.Tracked]) -> Scored | Rejected | Unavailable:
        """Make one call to the batch endpoint and classify the answer."""
        body = b'{"applicants":[' + b",".join(t.body.encode("utf-8") for t in applicants) + b"]}"
        try:
            resp = self.session.post(self.url, data=body, timeout=self.timeout)
        except requests.RequestException as exc:
            return Unavailable(f"{type(exc).__name__}: {exc}")
        if resp.status_code == 200:
            return read_results(_json(resp), [t.application_id for t in applicants])
        if resp.status_code == 422:
            problem = _json(resp)
            problem = problem if isinstance(problem, dict) else {}
            detail = str(problem.get("detail") or problem.get("title") or "rejected by the Risk API")
            reason = f"{problem['reason']}: " if problem.get("reason") else ""
            return Rejected(rejected_index(problem, len(applicants)), _field(problem), (reason + detail)[:500])
        return Unavailable(f"HTTP {resp.status_code}: {resp.text[:200]}")


def scorer_token(conf: Mapping[str, Any], environ: Mapping[str, str]) -> str | None:
    """Return the scorer token: the env variable named by token_env, else token_file's content, else None."""
    from_env = environ.get(opt(conf, "loanrisk.risk_api.token_env") or "")
    if from_env:
        return from_env.strip()
    path = opt(conf, "loanrisk.risk_api.token_file")
    if not path:
        return None
    try:
        return Path(path).read_text().strip() or None
    except OSError:
        return None  # the Risk API answers 401 and the batch is failed (replayed), never scored without a token


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


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
