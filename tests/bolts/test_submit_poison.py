"""SubmitBolt and a poison record: an applicant the Risk API answers 5xx for, every time.

The Risk API is a real HTTP server on 127.0.0.1 that answers 500 to any batch naming a poison id, like the
drills' proxy; the bolt's own code runs unchanged in the harness. A tuple holding the poison is failed
(replayed) until the poison's bound of counted deliveries, then the poison is dead-lettered RISK_API_FAILED
and the rest of its tuple is emitted; a whole-API 5xx storm and a down API never dead-letter anyone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from harness import Captured

from bolts.common import DEAD_LETTER_STREAM
from bolts.submit import Deliveries, SubmitBolt
from loanrisk import events

FAST = {
    "loanrisk.risk_api.max_attempts": 2,
    "loanrisk.risk_api.backoff_secs": 0.01,
    "loanrisk.risk_api.retry_budget_secs": 5,
    "loanrisk.risk_api.poison_deliveries": 3,
}
RESULT = {
    "probability_of_default": 0.12,
    "probability_of_payoff": 0.88,
    "decision": "APPROVE",
    "reasons": [{"code": "R1", "text": "t"}],
    "model_version": "m1",
    "policy_version": "p1",
}


def _wire(applicant: dict[str, Any], app_id: str, **changes: Any) -> list[Any]:
    app = {**applicant, **changes, "id": app_id}
    received = events.Received(events.Source("loan-applications", 0, 3), app_id, "", "ab" * 32, 1)
    return events.Tracked.of(app_id, app, received).to_wire()


class RiskApi(BaseHTTPRequestHandler):
    """The batch endpoint: 500 (a problem document) for a batch naming a poison id, or for all when storming."""

    server: PoisonServer

    def do_POST(self) -> None:
        ids = [a["id"] for a in json.loads(self.rfile.read(int(self.headers["Content-Length"])))["applicants"]]
        self.server.calls.append(ids)
        if self.server.storm or self.server.poison & set(ids):
            status, body = 500, {"title": "Internal Server Error", "status": 500, "detail": "boom on this applicant"}
        else:
            status, body = 200, {"results": [{**RESULT, "application_id": i} for i in ids]}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status == 200 else "application/problem+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class PoisonServer(ThreadingHTTPServer):
    """The test Risk API's server: the poison ids, whether every call fails, and the ids of each call made."""

    def __init__(self, poison: set[str], storm: bool) -> None:
        super().__init__(("127.0.0.1", 0), RiskApi)
        self.poison, self.storm = poison, storm
        self.calls: list[list[str]] = []


StartApi = Callable[..., tuple[dict[str, Any], PoisonServer]]


@pytest.fixture
def risk_api() -> Iterator[StartApi]:
    servers: list[PoisonServer] = []

    def start(poison: Collection[str] = frozenset(), storm: bool = False) -> tuple[dict[str, Any], PoisonServer]:
        server = PoisonServer(set(poison), storm)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return {**FAST, "loanrisk.risk_api.url": f"http://127.0.0.1:{server.server_port}"}, server

    yield start
    for server in servers:
        server.shutdown()


def saved_ids(cap: Captured) -> list[str]:
    return sorted(w[0] for e in cap.emitted() for w in e["tuple"][1])


def letters(cap: Captured) -> list[events.DeadLetter]:
    found = []
    for emitted in cap.emitted(DEAD_LETTER_STREAM):
        letter = events.parse_dead_letter(events.dumps(emitted["tuple"][1]))
        assert isinstance(letter, events.DeadLetter), letter
        found.append(letter)
    return found


def test_the_poison_is_isolated_its_tuple_replayed_and_the_other_tuples_scored(
    applicant: dict[str, Any], risk_api: StartApi
) -> None:
    """First delivery: bisection finds P1; the other tuple is saved and acked, P1's tuple failed whole."""
    conf, server = risk_api(poison={"P1"})
    cap = Captured(SubmitBolt, conf)
    with_poison, healthy = cap.arrive(
        [[0, [_wire(applicant, "G1"), _wire(applicant, "P1"), _wire(applicant, "G2")]], [1, [_wire(applicant, "G3")]]]
    )
    assert saved_ids(cap) == ["G3"]
    assert letters(cap) == []
    assert cap.acked() == [healthy]
    assert cap.failed() == [with_poison]
    assert ["P1"] in server.calls
    assert len(server.calls) < 12


def test_the_poison_is_dead_lettered_on_its_third_delivery_and_the_rest_of_its_tuple_emitted(
    applicant: dict[str, Any], risk_api: StartApi
) -> None:
    """Deliveries 1 and 2 fail the tuple; the 3rd dead-letters P1 (RISK_API_FAILED, status and body) and acks."""
    conf, _ = risk_api(poison={"P1"})
    cap = Captured(SubmitBolt, conf)
    batch = [0, [_wire(applicant, "G1"), _wire(applicant, "P1"), _wire(applicant, "G2")]]
    first, second = cap.feed(batch), cap.feed(batch)
    assert cap.failed() == [first.id, second.id]
    assert cap.emitted() == []
    third = cap.feed(batch)
    [letter] = letters(cap)
    assert letter.reason == events.RISK_API_FAILED
    assert letter.application_id == "P1"
    assert "HTTP 500" in letter.detail
    assert "boom on this applicant" in letter.detail
    assert cap.emitted(DEAD_LETTER_STREAM)[0]["anchors"] == [third.id]
    assert saved_ids(cap) == ["G1", "G2"]
    assert cap.acked() == [third.id]


def test_a_500_storm_dead_letters_nobody_and_fails_every_delivery(
    applicant: dict[str, Any], risk_api: StartApi
) -> None:
    """Every call answered 500: each delivery is failed for replay, no letter however often it comes back."""
    conf, server = risk_api(storm=True)
    cap = Captured(SubmitBolt, conf)
    batch = [0, [_wire(applicant, f"G{i}") for i in range(8)]]
    tuples = [cap.feed(batch) for _ in range(5)]
    assert cap.failed() == [t.id for t in tuples]
    assert cap.emitted(DEAD_LETTER_STREAM) == []
    assert cap.emitted() == []
    assert len(server.calls) <= 5 * (FAST["loanrisk.risk_api.max_attempts"] + 6)  # the bisection gives up early


def test_a_storm_does_not_convict_a_lone_applicant_either(applicant: dict[str, Any], risk_api: StartApi) -> None:
    """A batch of one failing again and again with no other call answered is not a poison record."""
    conf, server = risk_api()
    cap = Captured(SubmitBolt, conf)
    cap.feed([1, [_wire(applicant, "G0")]])  # scored before the storm: the bolt's probe fails in the storm too
    server.storm = True
    tuples = [cap.feed([0, [_wire(applicant, "G1")]]) for _ in range(5)]
    assert cap.failed() == [t.id for t in tuples]
    assert cap.emitted(DEAD_LETTER_STREAM) == []


def test_a_lone_poison_is_dead_lettered_when_other_calls_succeed_between_its_deliveries(
    applicant: dict[str, Any], risk_api: StartApi
) -> None:
    """At low rates the poison travels alone: each of its failures counts once the API answered others since."""
    conf, _ = risk_api(poison={"P1"})
    cap = Captured(SubmitBolt, conf)
    for n in range(3):
        cap.feed([0, [_wire(applicant, "P1")]])
        cap.feed([1, [_wire(applicant, f"G{n}")]])
    assert [dl.reason for dl in letters(cap)] == [events.RISK_API_FAILED]
    assert saved_ids(cap) == ["G0", "G1", "G2"]
    assert len(cap.failed()) == 2


def test_a_lone_poison_on_a_quiet_stream_is_dead_lettered_after_probes_of_a_scored_applicant(
    applicant: dict[str, Any], risk_api: StartApi
) -> None:
    """No other traffic between its deliveries: the bolt re-scores its last healthy applicant as evidence."""
    conf, server = risk_api(poison={"P1"})
    cap = Captured(SubmitBolt, conf)
    cap.feed([1, [_wire(applicant, "G0")]])
    for _ in range(3):
        cap.feed([0, [_wire(applicant, "P1")]])
    assert [dl.reason for dl in letters(cap)] == [events.RISK_API_FAILED]
    assert len(cap.failed()) == 2
    assert server.calls.count(["G0"]) >= 3  # scored once, then probed


def test_an_unreachable_api_is_an_outage_never_a_poison(applicant: dict[str, Any]) -> None:
    """Connection refused: no bisection, no count, the tuple is failed every time (nothing lost while down)."""
    cap = Captured(SubmitBolt, {**FAST, "loanrisk.risk_api.url": "http://127.0.0.1:9"})
    tuples = [cap.feed([0, [_wire(applicant, "G1"), _wire(applicant, "G2")]]) for _ in range(4)]
    assert cap.failed() == [t.id for t in tuples]
    assert cap.emitted(DEAD_LETTER_STREAM) == []


def test_new_content_under_the_same_id_starts_a_new_count(applicant: dict[str, Any], risk_api: StartApi) -> None:
    """Deliveries are counted per id and fingerprint."""
    conf, _ = risk_api(poison={"P1"})
    cap = Captured(SubmitBolt, conf)
    for dti in (10.0, 11.0, 12.0):
        cap.feed([0, [_wire(applicant, "G1"), _wire(applicant, "P1", dti=dti)]])
    assert letters(cap) == []
    assert len(cap.failed()) == 3


def test_deliveries_count_a_failure_only_after_an_answer_since_the_previous_one() -> None:
    deliveries = Deliveries(bound=3)
    key = ("P1", "f" * 64)
    assert deliveries.failed(key) is None  # 1
    assert deliveries.failed(key) is None  # no answer since: still 1
    deliveries.answered()
    assert deliveries.failed(key) is None  # 2
    deliveries.answered()
    assert deliveries.failed(key) == 3
    deliveries.forget(key)
    assert len(deliveries) == 0


def test_deliveries_forget_the_oldest_beyond_their_capacity() -> None:
    deliveries = Deliveries(bound=3, capacity=2)
    for i in range(3):
        deliveries.failed((f"P{i}", "f"))
    assert sorted(k for k, _ in deliveries.counts) == ["P1", "P2"]
