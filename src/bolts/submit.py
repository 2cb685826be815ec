"""SubmitBolt: score applicants with the Risk API's batch endpoint, one call per flush of queued batches.

A flush (input ran dry, or ``loanrisk.submit.batch_size`` applicants queued) posts the applicants in calls of
at most that size. The endpoint answers HTTP 200 with ``results`` in request order, where an applicant the
API refuses has ``null`` and an entry in ``problems`` (index, field, reason, detail): that applicant becomes a
RISK_API_REJECTED dead letter, the others are emitted to the SaveBolt; nothing is resent. An older API that
answers 422 for a whole batch because of one applicant is still handled: the named applicant is
dead-lettered and the rest sent again (one by one when it names none). A batch the Risk API cannot answer
after bounded retries is FAILED as a whole (Storm replays it later): nothing is saved with a made-up score.

A poison record (one applicant the Risk API answers 5xx for, every time) must not stall its partition by
replaying forever, and a Risk API that answers 5xx to everything must not dead-letter healthy applicants.
So a 5xx (not a refused connection or a timeout: those mean the API is down, and the batch is failed for
replay, so nothing is lost during an outage) starts a bisection of the call (``SubmitBolt.isolate``): the
halves that score are emitted, a failing half is halved again, and an applicant that fails alone is
``Failed``. The bisection only convicts anyone when some of its calls succeeded; if none did, it is a 5xx
storm and the whole batch is failed for replay. The input tuple holding a Failed applicant is failed (its
other applicants come back with it, so none is saved twice and no decision event repeats) until
``Deliveries`` has counted ``loanrisk.risk_api.poison_deliveries`` failures of that applicant, each one
following a 200 answer this task had since the previous one; then the applicant is dead-lettered
RISK_API_FAILED with the last status and body excerpt, its tuple's other applicants are emitted, and the
tuple is acked. Deciding on evidence that the API answers others is what protects healthy applicants: in
a storm no count grows past 1, whereas requiring each of N deliveries to follow a success keeps a lone
applicant (a batch of one, at low rates) convictable without a bisection. When the stream is quiet and the
poison travels alone, nothing else would answer between its deliveries, so the bolt asks for that evidence
itself (``probe``): it re-scores the last applicant this task scored (a real, healthy one; the answer is
discarded). A 200 counts as an answer; in a storm the probe fails too and nothing is counted.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import orjson
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
    status: int | None = None  # the HTTP status when the Risk API answered with an error

    @property
    def server_error(self) -> bool:
        """The Risk API was reached and answered 5xx: perhaps because of one applicant of the call."""
        return self.status is not None and self.status >= 500


@dataclass(frozen=True)
class Failed:
    """The Risk API answered 5xx for this applicant alone while it answered other calls (a poison record)."""

    detail: str


Outcome = events.Decision | Problem | Failed


class Deliveries:
    """Counts failed deliveries of the applicants the Risk API fails alone, per (application id, fingerprint).

    In memory, per SubmitBolt task: shard grouping sends every delivery of an id to the same task. A failure
    counts when it is the applicant's first, or when this task got an answer from the Risk API since the
    applicant's previous failure, so a whole-API 5xx storm never takes a count past 1. When the bolt process
    restarts, the counts are lost and start from zero again: a poison record then costs up to ``bound`` more
    deliveries per restart, which is still finite. At most ``capacity`` applicants are remembered (the
    longest-untouched is forgotten first).
    """

    def __init__(self, bound: int, capacity: int = 10_000) -> None:
        """Dead-letter on the bound-th counted failure."""
        self.bound, self.capacity = max(1, bound), capacity
        self.answers = 0
        self.counts: dict[tuple[str, str], tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self.counts)

    def answered(self) -> None:
        """The Risk API answered a call of this task."""
        self.answers += 1

    def failed(self, key: tuple[str, str]) -> int | None:
        """Count a failure of the applicant; return its count once it reached the bound, else None."""
        count, answers_then = self.counts.pop(key, (0, -1))
        if count == 0 or self.answers > answers_then:
            count += 1
        self.counts[key] = (count, self.answers)
        while len(self.counts) > self.capacity:
            del self.counts[next(iter(self.counts))]
        return count if count >= self.bound else None

    def forget(self, key: tuple[str, str]) -> None:
        """The applicant was scored or dead-lettered."""
        self.counts.pop(key, None)


def rejected_index(problem: Any, size: int) -> int | None:
    """Find which applicant a 422 problem document names, None when it names none."""
    if size == 1:
        return 0
    if not isinstance(problem, dict):
        return None
    candidates = [problem.get("index")] + [e.get("index") for e in _param_list(problem) if isinstance(e, dict)]
    for value in candidates:
        if _is_index(value, size):
            return value
    match = _INDEX_RE.search(" ".join(str(problem.get(k, "")) for k in ("detail", "field", "pointer", "title")))
    index = int(next(g for g in match.groups() if g)) if match else None
    return index if index is not None and index < size else None


def _param_list(problem: dict[str, Any]) -> list[Any]:
    """The per-field entries of a 422: ``invalid_params`` (RFC 9457), else the older ``errors``."""
    entries = problem.get("invalid_params") or problem.get("errors")
    return entries if isinstance(entries, list) else []


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
    for index, (result, app_id) in enumerate(zip(results, ids, strict=True)):
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
    outputs: ClassVar[list[Stream]] = [
        Stream(fields=BATCH_FIELDS),
        Stream(fields=DEAD_LETTER_FIELDS, name=DEAD_LETTER_STREAM),
    ]
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
        self.deliveries = Deliveries(opt(storm_conf, "loanrisk.risk_api.poison_deliveries"))
        self.canary: events.Tracked | None = None  # the last applicant this task scored (see probe)
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
        outcomes: list[Outcome] = []
        for start in range(0, len(entries), self.batch_size):
            chunk = [tracked for _, tracked, _ in entries[start : start + self.batch_size]]
            scored = self.score(chunk)
            if isinstance(scored, Unavailable):
                self.logger.warning("Risk API unavailable, failing %d tuples: %s", len(tuples), scored.detail)
                for tup in tuples:
                    self.fail(tup)
                return
            outcomes += scored
        replay = self.count_failures(entries, outcomes)
        decided = ShardGroups()
        for (tup, tracked, _), outcome in zip(entries, outcomes, strict=True):
            if tup.id in replay:
                continue
            if isinstance(outcome, events.Decision):
                decided.add(tup.values[0], [*tracked.to_wire(), outcome.to_dict()], tup)
            else:
                self.emit_dead_letter(self.letter(tracked, outcome), [tup])
        self.emit_batches(decided)
        for tup in tuples:
            (self.fail if tup.id in replay else self.ack)(tup)

    def count_failures(self, entries: list[tuple[Any, events.Tracked, Any]], outcomes: list[Outcome]) -> set[str]:
        """Count the Failed applicants' deliveries; return the ids of the input tuples to fail for replay."""
        replay: set[str] = set()
        failed = [e for e, o in zip(entries, outcomes, strict=True) if isinstance(o, Failed)]
        scored = [
            tracked for (_, tracked, _), o in zip(entries, outcomes, strict=True) if isinstance(o, events.Decision)
        ]
        if scored:
            self.canary = scored[-1]
        elif failed:
            self.probe()
        for tup, tracked, _ in failed:
            count = self.deliveries.failed((tracked.application_id, tracked.fingerprint))
            if count is None:
                replay.add(tup.id)
        if self.deliveries:
            for (tup, tracked, _), outcome in zip(entries, outcomes, strict=True):
                if tup.id not in replay and not isinstance(outcome, Problem):
                    self.deliveries.forget((tracked.application_id, tracked.fingerprint))
        if replay:
            self.logger.warning("Risk API fails an applicant alone: replaying %d tuple(s)", len(replay))
        return replay

    def probe(self) -> None:
        """Re-score the last applicant this task scored: a 200 is evidence the API answers others."""
        if self.canary is not None:
            self.post_once([self.canary])

    def letter(self, tracked: events.Tracked, outcome: Problem | Failed) -> events.DeadLetter:
        """The dead letter of an applicant the Risk API refused (422) or kept failing on (5xx)."""
        if isinstance(outcome, Problem):
            return events.late_letter(tracked, events.RISK_API_REJECTED, outcome.field, outcome.detail, now_ms())
        detail = f"{outcome.detail} (the Risk API failed on it alone, {self.deliveries.bound} deliveries)"
        return events.late_letter(tracked, events.RISK_API_FAILED, None, detail[:500], now_ms())

    def score(self, chunk: list[events.Tracked]) -> list[Outcome] | Unavailable:
        """Return a decision, a problem or a failure per applicant, in order, or Unavailable."""
        outcomes: dict[int, Outcome] = {}
        pending = list(range(len(chunk)))
        while pending:
            answer = self.evaluate([chunk[i] for i in pending])
            if isinstance(answer, Unavailable) and answer.server_error:
                found = self.isolate([chunk[i] for i in pending]) if len(pending) > 1 else [Failed(answer.detail)]
                if isinstance(found, Unavailable):
                    return found
                outcomes.update(zip(pending, found, strict=True))
                break
            if isinstance(answer, Unavailable):
                return answer
            if isinstance(answer, Scored):
                outcomes.update(zip(pending, answer.outcomes, strict=True))
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

    def isolate(self, chunk: list[events.Tracked]) -> list[Outcome] | Unavailable:
        """Bisect a call the Risk API answered 5xx for, to find the applicant(s) it fails on alone.

        Each half is posted once (no retries); a half that gets a 5xx is halved again; a single applicant is
        scored with the usual retries and is Failed if it still gets a 5xx. When no call of the bisection is
        answered, the API is failing everything (a storm, not a poison record): after the first two levels
        (6 calls) or at the end, the whole call is Unavailable and nobody is Failed. Cost: about 2*log2(n)
        calls for one poison record among n applicants.
        """
        outcomes: dict[int, Outcome] = {}
        failing, calls, answered, last = [list(range(len(chunk)))], 0, False, Unavailable("not attempted")
        while failing:
            level = [half for group in failing for half in _halves(group)]
            failing = []
            for group in level:
                found = self.score_part([chunk[i] for i in group])
                if isinstance(found, Unavailable) and found.server_error:
                    failing.append(group)
                    last = found
                    continue
                if isinstance(found, Unavailable):
                    return found
                answered = answered or any(not isinstance(o, Failed) for o in found)
                outcomes.update(zip(group, found, strict=True))
            calls += len(level)
            if not answered and (calls >= 6 or not failing):
                return Unavailable(f"5xx for every part of a batch of {len(chunk)}: {last.detail}", last.status)
        return [outcomes[i] for i in range(len(chunk))]

    def score_part(self, part: list[events.Tracked]) -> list[Outcome] | Unavailable:
        """Score one part of a bisection: a group with one call, a single applicant as score() does."""
        if len(part) == 1:
            return self.score(part)
        answer = self.post_once(part)
        if isinstance(answer, Scored):
            return list(answer.outcomes)  # a copy typed as the wider list[Outcome]
        return answer if isinstance(answer, Unavailable) else self.score(part)

    def evaluate(self, applicants: list[events.Tracked]) -> Scored | Rejected | Unavailable:
        """POST the batch with bounded retries and backoff inside the time budget."""
        start = time.monotonic()
        last: Scored | Rejected | Unavailable = Unavailable("not attempted")
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
        if resp.status_code in (200, 422):
            self.deliveries.answered()
        if resp.status_code == 200:
            return read_results(_json(resp), [t.application_id for t in applicants])
        if resp.status_code == 422:
            problem = _json(resp)
            problem = problem if isinstance(problem, dict) else {}
            detail = str(problem.get("detail") or problem.get("title") or "rejected by the Risk API")
            reason = f"{problem['reason']}: " if problem.get("reason") else ""
            return Rejected(rejected_index(problem, len(applicants)), _field(problem), (reason + detail)[:500])
        return Unavailable(f"HTTP {resp.status_code}: {resp.text[:200]}", resp.status_code)


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
    """Return the response body as JSON (orjson: a batch answer holds up to 1,000 evaluations), None if not JSON."""
    try:
        return orjson.loads(resp.content)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        return None


def _field(problem: dict[str, Any]) -> str | None:
    """Return the field a problem document names, if any."""
    field = problem.get("field")
    entries = _param_list(problem)
    if field is None and entries and isinstance(entries[0], dict):
        field = entries[0].get("field")
    return None if field is None else str(field)[:64]


def _halves(group: list[int]) -> list[list[int]]:
    """Split a group of indices in two (a single index stays whole)."""
    mid = len(group) // 2
    return [group[:mid], group[mid:]] if mid else [group]
