"""SubmitBolt: one Risk API call per flush, refused applicants dead-lettered, no made-up score on an outage.

The answers come from a small HTTP server on 127.0.0.1 that speaks the batch endpoint's agreed contract
(HTTP 200 with ``results`` in request order, ``null`` plus a ``problems`` entry for a refused applicant;
or a 422 for the whole request); the live Risk API is exercised in tests/integration.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from harness import Captured

from bolts.common import DEAD_LETTER_STREAM
from bolts.submit import Problem, Scored, SubmitBolt, Unavailable, read_results, rejected_index
from loanrisk import events

# A real address where no Risk API listens: connection refused at once.
DOWN_API = {
    "loanrisk.risk_api.url": "http://127.0.0.1:9",
    "loanrisk.risk_api.max_attempts": 3,
    "loanrisk.risk_api.backoff_secs": 0.01,
    "loanrisk.risk_api.retry_budget_secs": 5,
}
RESULT = {
    "probability_of_default": 0.12,
    "probability_of_payoff": 0.88,
    "decision": "APPROVE",
    "reasons": [{"code": "R1", "text": "t"}],
    "model_version": "m1",
    "policy_version": "p1",
}


def _wire(applicant: dict[str, Any], app_id: str, offset: int = 3) -> list[Any]:
    app = {**applicant, "id": app_id}
    received = events.Received(events.Source("loan-applications", 0, offset), app_id, "", "ab" * 32, 1)
    return events.Tracked.of(app_id, app, received).to_wire()


Applicants = list[dict[str, Any]]
Answer = Callable[[Applicants], tuple[int, Any]]  # the applicants posted -> (status, JSON body)
Calls = list[list[str]]
StartApi = Callable[[Answer], tuple[dict[str, Any], Calls]]


class Contract(BaseHTTPRequestHandler):
    """Answers POST /v1/evaluations/batch with ``self.server.answer(applicants)`` -> (status, body)."""

    server: ContractServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.calls.append([a["id"] for a in body["applicants"]])
        status, answer = self.server.answer(body["applicants"])
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class ContractServer(ThreadingHTTPServer):
    """The test Risk API's server: how it answers, and the ids of each call made."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(("127.0.0.1", 0), Contract)
        self.answer = answer
        self.calls: Calls = []


@pytest.fixture
def risk_api() -> Iterator[StartApi]:
    servers: list[ContractServer] = []

    def start(answer: Answer) -> tuple[dict[str, Any], Calls]:
        server = ContractServer(answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return {"loanrisk.risk_api.url": f"http://127.0.0.1:{server.server_port}"}, server.calls

    yield start
    for server in servers:
        server.shutdown()


def refusing(bad_ids: set[str]) -> Answer:
    """The agreed answer: results in order, null and a problem for each applicant in bad_ids."""

    def answer(applicants: Applicants) -> tuple[int, Any]:
        results = [None if a["id"] in bad_ids else {**RESULT, "application_id": a["id"]} for a in applicants]
        problems = [
            {"index": i, "field": "dti", "reason": "out_of_range", "detail": "dti must be <= 100"}
            for i, a in enumerate(applicants)
            if a["id"] in bad_ids
        ]
        return 200, {"results": results, "problems": problems}

    return answer


def test_queued_batches_are_scored_in_one_call_and_emitted_per_shard(
    applicant: dict[str, Any], risk_api: StartApi
) -> None:
    """Two batches waiting together: one HTTP call; the decided leave per shard, anchored to their inputs."""
    conf, calls = risk_api(refusing(set()))
    cap = Captured(SubmitBolt, conf)
    ids = cap.arrive([[0, [_wire(applicant, "G1"), _wire(applicant, "G2")]], [1, [_wire(applicant, "G3")]]])
    assert calls == [["G1", "G2", "G3"]]
    by_shard = {e["tuple"][0]: e for e in cap.emitted()}
    assert [w[0] for w in by_shard[0]["tuple"][1]] == ["G1", "G2"]
    assert by_shard[0]["anchors"] == [ids[0]]
    assert [w[0] for w in by_shard[1]["tuple"][1]] == ["G3"]
    assert by_shard[1]["anchors"] == [ids[1]]
    assert by_shard[0]["tuple"][1][0][7]["decided_by"] == "MODEL"
    assert by_shard[0]["tuple"][1][0][7]["model_version"] == "m1"
    assert sorted(cap.acked()) == sorted(ids)
    assert cap.failed() == []


def test_applicants_with_a_problem_are_dead_lettered_and_the_rest_saved_without_resending(
    applicant: dict[str, Any], risk_api: StartApi
) -> None:
    """The 200 answer with problems: RISK_API_REJECTED letters (field, detail), the others decided, one call."""
    conf, calls = risk_api(refusing({"G2"}))
    cap = Captured(SubmitBolt, conf)
    tup = cap.feed([0, [_wire(applicant, "G1"), _wire(applicant, "G2", offset=8), _wire(applicant, "G3")]])
    assert calls == [["G1", "G2", "G3"]]
    [decided] = cap.emitted()
    assert [w[0] for w in decided["tuple"][1]] == ["G1", "G3"]
    [letter] = cap.emitted(DEAD_LETTER_STREAM)
    parsed = events.parse_dead_letter(events.dumps(letter["tuple"][1]))
    assert isinstance(parsed, events.DeadLetter), parsed
    assert letter["anchors"] == [tup.id]
    assert parsed.reason == events.RISK_API_REJECTED
    assert (parsed.application_id, parsed.field, parsed.source.offset) == ("G2", "dti", 8)
    assert "dti must be <= 100" in parsed.detail
    assert cap.acked() == [tup.id]


def test_the_current_answer_without_problems_still_works(applicant: dict[str, Any], risk_api: StartApi) -> None:
    """An answer with only ``results`` (today's API) decides every applicant."""
    conf, _ = risk_api(lambda apps: (200, {"results": [{**RESULT, "application_id": a["id"]} for a in apps]}))
    cap = Captured(SubmitBolt, conf)
    cap.feed([0, [_wire(applicant, "G1"), _wire(applicant, "G2")]])
    assert [w[0] for w in cap.emitted()[0]["tuple"][1]] == ["G1", "G2"]
    assert cap.emitted(DEAD_LETTER_STREAM) == []


def test_a_422_for_the_whole_request_dead_letters_the_named_applicant_and_resends_the_rest(
    applicant: dict[str, Any], risk_api: StartApi
) -> None:
    """As before the batch contract: the applicant a 422 names is dead-lettered, the others sent again."""

    def answer(apps: Applicants) -> tuple[int, Any]:
        ids = [a["id"] for a in apps]
        if "G2" in ids:
            return 422, {
                "title": "Unprocessable",
                "detail": "bad dti",
                "errors": [{"index": ids.index("G2"), "field": "dti"}],
            }
        return 200, {"results": [{**RESULT, "application_id": i} for i in ids]}

    conf, calls = risk_api(answer)
    cap = Captured(SubmitBolt, conf)
    cap.feed([0, [_wire(applicant, "G1"), _wire(applicant, "G2"), _wire(applicant, "G3")]])
    assert calls == [["G1", "G2", "G3"], ["G1", "G3"]]
    assert [w[0] for w in cap.emitted()[0]["tuple"][1]] == ["G1", "G3"]
    assert [e["tuple"][0] for e in cap.emitted(DEAD_LETTER_STREAM)] == ["G2"]


def refusing_with_422(member: str) -> Answer:
    """An older API's 422 for the whole request, naming G2 only inside its list of per-field problems."""

    def answer(apps: Applicants) -> tuple[int, Any]:
        ids = [a["id"] for a in apps]
        if "G2" in ids:
            entry = {"index": ids.index("G2"), "field": "grade", "reason": "invalid", "detail": "grade must be A-G"}
            return 422, {"title": "Unprocessable", "detail": "invalid applicant", member: [entry]}
        return 200, {"results": [{**RESULT, "application_id": i} for i in ids]}

    return answer


@pytest.mark.parametrize("member", ["invalid_params", "errors"])
def test_a_422_names_the_applicant_and_field_in_invalid_params_or_the_older_errors(
    applicant: dict[str, Any], risk_api: StartApi, member: str
) -> None:
    """The unified problem+json lists ``invalid_params``; the older ``errors`` is still read."""
    conf, calls = risk_api(refusing_with_422(member))
    cap = Captured(SubmitBolt, conf)
    cap.feed([0, [_wire(applicant, "G1"), _wire(applicant, "G2"), _wire(applicant, "G3")]])
    assert calls == [["G1", "G2", "G3"], ["G1", "G3"]]
    [letter] = cap.emitted(DEAD_LETTER_STREAM)
    parsed = events.parse_dead_letter(events.dumps(letter["tuple"][1]))
    assert isinstance(parsed, events.DeadLetter), parsed
    assert (parsed.application_id, parsed.reason, parsed.field) == ("G2", events.RISK_API_REJECTED, "grade")


def test_a_batch_the_api_cannot_answer_is_failed_whole_and_scored_on_replay(
    applicant: dict[str, Any], risk_api: StartApi
) -> None:
    """Down API: every input tuple failed, nothing emitted; the replayed batch is then scored normally."""
    cap = Captured(SubmitBolt, DOWN_API)
    ids = cap.arrive([[0, [_wire(applicant, "G1")]], [1, [_wire(applicant, "G2")]]])
    assert sorted(cap.failed()) == sorted(ids)
    assert cap.emitted() == []
    assert cap.acked() == []
    conf, _ = risk_api(refusing(set()))
    replay = Captured(SubmitBolt, conf)
    again = replay.arrive([[0, [_wire(applicant, "G1")]], [1, [_wire(applicant, "G2")]]])
    assert sorted(w[0] for e in replay.emitted() for w in e["tuple"][1]) == ["G1", "G2"]
    assert sorted(replay.acked()) == sorted(again)


def test_retries_stay_inside_the_budget(applicant: dict[str, Any]) -> None:
    """Bounded retries: a down API costs at most the retry budget, far below Storm's timeouts."""
    cap = Captured(SubmitBolt, {**DOWN_API, "loanrisk.risk_api.backoff_secs": 0.2})
    start = time.monotonic()
    cap.feed([0, [_wire(applicant, "G1")]])
    assert time.monotonic() - start < 5
    assert len(cap.failed()) == 1


def test_naive_design_calls_the_api_once_per_applicant(applicant: dict[str, Any], risk_api: StartApi) -> None:
    """loanrisk.design=naive: one HTTP call per applicant."""
    conf, calls = risk_api(refusing(set()))
    cap = Captured(SubmitBolt, {**conf, "loanrisk.design": "naive"})
    cap.arrive([[0, [_wire(applicant, "G1")]], [1, [_wire(applicant, "G2")]]])
    assert calls == [["G1"], ["G2"]]


def test_read_results_keeps_order_and_versions() -> None:
    """A well-formed answer becomes MODEL decisions in request order."""
    body = {"results": [{**RESULT, "application_id": "A"}, {**RESULT, "application_id": "B"}]}
    scored = read_results(body, ["A", "B"])
    assert isinstance(scored, Scored)
    decisions = [d for d in scored.outcomes if isinstance(d, events.Decision)]
    assert decisions == scored.outcomes
    assert [(d.application_id, d.model_version, d.decided_by) for d in decisions] == [
        ("A", "m1", "MODEL"),
        ("B", "m1", "MODEL"),
    ]


def test_read_results_turns_problems_into_per_applicant_refusals() -> None:
    """null + a problem entry: a Problem in that position, decisions elsewhere."""
    body = {
        "results": [None, {**RESULT, "application_id": "B"}],
        "problems": [{"index": 0, "field": "grade", "reason": "invalid", "detail": "grade must be A-G"}],
    }
    scored = read_results(body, ["A", "B"])
    assert isinstance(scored, Scored)
    assert scored.outcomes[0] == Problem("grade", "invalid: grade must be A-G")
    decided = scored.outcomes[1]
    assert isinstance(decided, events.Decision)
    assert decided.application_id == "B"


@pytest.mark.parametrize(
    "body",
    [
        {"results": [{**RESULT, "application_id": "A"}]},
        {"results": [{**RESULT, "application_id": "B"}, {**RESULT, "application_id": "A"}]},
        {"results": [{"application_id": "A"}, {**RESULT, "application_id": "B"}]},
        {"results": [None, {**RESULT, "application_id": "B"}]},
        {"results": [None, {**RESULT, "application_id": "B"}], "problems": [{"index": 5}]},
        {"oops": 1},
        None,
    ],
)
def test_read_results_refuses_answers_that_do_not_match(body: Any) -> None:
    """Missing, reordered, malformed or unexplained null results are an outage, never a score."""
    assert isinstance(read_results(body, ["A", "B"]), Unavailable)


@pytest.mark.parametrize(
    ("problem", "size", "expected"),
    [
        ({"index": 2, "field": "dti"}, 5, 2),
        ({"errors": [{"index": 1, "field": "grade"}]}, 3, 1),
        ({"invalid_params": [{"index": 1, "field": "grade"}]}, 3, 1),
        ({"invalid_params": [{"field": "grade"}], "errors": [{"index": 2}]}, 3, None),
        ({"detail": "applicants[3].dti: not a number"}, 5, 3),
        ({"detail": "applicant at index 4 is invalid"}, 5, 4),
        ({"detail": "applicants[9] invalid"}, 5, None),
        ({"detail": "something"}, 5, None),
        ({"detail": "something"}, 1, 0),
        ({"index": True}, 5, None),
    ],
)
def test_rejected_index(problem: dict[str, Any], size: int, expected: int | None) -> None:
    """The applicant a 422 names is found in the common problem shapes, or reported unknown."""
    assert rejected_index(problem, size) == expected
