"""SubmitBolt: batching by size and wait, and no made-up score when the Risk API cannot answer."""

from __future__ import annotations

import time

import pytest
from harness import Captured

from bolts.submit import Scored, SubmitBolt, Unavailable, read_results, rejected_index

RECEIVED = {"source": {"topic": "loan-applications", "partition": 0, "offset": 3}, "key": None,
            "raw": "{}", "raw_sha256": "0" * 64, "kafka_ts_ms": 1}
# A real address where no Risk API listens: connection refused at once.
DOWN_API = {"loanrisk.risk_api.url": "http://127.0.0.1:9", "loanrisk.risk_api.max_attempts": 3,
            "loanrisk.risk_api.backoff_secs": 0.01, "loanrisk.risk_api.retry_budget_secs": 5}


def _feed(cap, applicant, n):
    """Feed n applicants with distinct ids; return their tuples."""
    return [cap.feed([f"G9{i:05d}", {**applicant, "id": f"G9{i:05d}"}, RECEIVED]) for i in range(n)]


def test_a_batch_waits_until_full(applicant):
    """Below batch_size and before max_wait nothing is sent, acked or failed."""
    cap = Captured(SubmitBolt, {**DOWN_API, "loanrisk.submit.batch_size": 5, "loanrisk.submit.max_wait_ms": 60_000})
    _feed(cap, applicant, 4)
    cap.tick()
    assert cap.acked() == [] and cap.failed() == [] and cap.emitted() == []
    assert cap.acked_ticks() == 1


def test_full_batch_against_a_down_api_fails_exactly_its_tuples(applicant):
    """When the Risk API cannot answer, every tuple of the batch is failed and nothing is emitted."""
    cap = Captured(SubmitBolt, {**DOWN_API, "loanrisk.submit.batch_size": 3, "loanrisk.submit.max_wait_ms": 60_000})
    tups = _feed(cap, applicant, 4)
    assert sorted(cap.failed()) == sorted(t.id for t in tups[:3])
    assert cap.emitted() == [] and cap.acked() == []


def test_tick_flushes_a_batch_that_waited_long_enough(applicant):
    """A partial batch older than max_wait is sent on the next tick (and failed here: the API is down)."""
    cap = Captured(SubmitBolt, {**DOWN_API, "loanrisk.submit.batch_size": 50, "loanrisk.submit.max_wait_ms": 50})
    tups = _feed(cap, applicant, 2)
    time.sleep(0.06)
    cap.tick()
    assert sorted(cap.failed()) == sorted(t.id for t in tups) and cap.emitted() == []


def test_retries_stay_inside_the_budget(applicant):
    """Bounded retries: a down API costs at most the retry budget, far below Storm's timeouts."""
    cap = Captured(SubmitBolt, {**DOWN_API, "loanrisk.submit.batch_size": 1, "loanrisk.risk_api.backoff_secs": 0.2})
    start = time.monotonic()
    _feed(cap, applicant, 1)
    assert time.monotonic() - start < 5 and len(cap.failed()) == 1


RESULT = {"probability_of_default": 0.12, "probability_of_payoff": 0.88, "decision": "APPROVE",
          "reasons": [{"code": "R1", "text": "t"}], "model_version": "m1", "policy_version": "p1"}


def test_read_results_keeps_order_and_versions():
    """A well-formed answer becomes MODEL decisions in request order."""
    body = {"results": [{**RESULT, "application_id": "A"}, {**RESULT, "application_id": "B"}]}
    scored = read_results(body, ["A", "B"])
    assert isinstance(scored, Scored)
    assert [(d.application_id, d.model_version, d.decided_by) for d in scored.decisions] == [
        ("A", "m1", "MODEL"), ("B", "m1", "MODEL")]


@pytest.mark.parametrize("body", [
    {"results": [{**RESULT, "application_id": "A"}]},
    {"results": [{**RESULT, "application_id": "B"}, {**RESULT, "application_id": "A"}]},
    {"results": [{"application_id": "A"}, {**RESULT, "application_id": "B"}]},
    {"oops": 1}, None,
])
def test_read_results_refuses_answers_that_do_not_match(body):
    """Missing, reordered or malformed results are an outage, never a score."""
    assert isinstance(read_results(body, ["A", "B"]), Unavailable)


@pytest.mark.parametrize(("problem", "size", "expected"), [
    ({"index": 2, "field": "dti"}, 5, 2),
    ({"errors": [{"index": 1, "field": "grade"}]}, 3, 1),
    ({"detail": "applicants[3].dti: not a number"}, 5, 3),
    ({"detail": "applicant at index 4 is invalid"}, 5, 4),
    ({"detail": "applicants[9] invalid"}, 5, None),
    ({"detail": "something"}, 5, None),
    ({"detail": "something"}, 1, 0),
    ({"index": True}, 5, None),
])
def test_rejected_index(problem, size, expected):
    """The applicant a 422 names is found in the common problem shapes, or reported unknown."""
    assert rejected_index(problem, size) == expected
