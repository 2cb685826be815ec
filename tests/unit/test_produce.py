"""Pure parts of the producer: rate limiter, cursor store, paging rule, file lines and keys."""

from __future__ import annotations

import hashlib
import io
import json
import os
from typing import Any

import pytest

from jobs.produce import (
    PACE_S,
    CursorState,
    CursorStore,
    PageAhead,
    Progress,
    RateLimiter,
    Stopper,
    encode_applicant,
    has_more,
    iter_lines,
    line_key,
    next_limit,
    page_limit,
    resume_from,
)


class FakeClock:
    """A clock that only moves when sleep() is called (no real waiting in tests)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_unlimited_rate_never_sleeps() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock, clock.sleep)
    assert sum(limiter.acquire() for _ in range(10_000)) == 0.0
    assert clock.slept == []


@pytest.mark.parametrize("rate", [1, 10, 250, 1000, 5000])
@pytest.mark.parametrize("method", ["acquire", "take"])
def test_rate_limiter_holds_the_average_rate_from_the_first_permit(rate: int, method: str) -> None:
    """Paced from the first permit (the bucket starts empty, no start-up burst); take() sleeps once per step."""
    clock = FakeClock()
    limiter = RateLimiter(rate, clock, clock.sleep)
    permit = getattr(limiter, method)
    n = rate * 5
    start = clock.now
    for _ in range(n):
        permit()
    per_sleep = 1 if method == "acquire" else limiter.step
    assert limiter.step == max(1, int(rate * PACE_S))
    assert clock.now - start == pytest.approx(n / rate, abs=(per_sleep - 1) / rate + 1e-6)
    assert len(clock.slept) <= -(-n // per_sleep)  # one sleep per step (rounded up), not per permit


def test_rate_limiter_refills_while_idle() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock, clock.sleep)
    for _ in range(10):
        limiter.acquire()
    clock.now += 1.0  # a second of idle time earns ten permits, no more
    assert sum(limiter.acquire() for _ in range(10)) == 0.0
    assert limiter.acquire() == pytest.approx(0.1)


def test_cursor_store_round_trip(tmp_path) -> None:
    store = CursorStore(tmp_path / "producer" / "cursor.json")
    assert store.load() == CursorState(cursor=None)
    store.save(CursorState("1234", 500, 1_700_000_000_000))
    assert store.load() == CursorState("1234", 500, 1_700_000_000_000)
    store.save(CursorState("1734", 1000, 1_700_000_000_500))
    assert store.load().cursor == "1734"
    assert sorted(os.listdir(tmp_path / "producer")) == ["cursor.json"]  # no temporary file left behind


def test_cursor_store_keeps_old_file_when_write_fails(tmp_path, monkeypatch) -> None:
    store = CursorStore(tmp_path / "cursor.json")
    store.save(CursorState("10", 10))

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.save(CursorState("20", 20))
    monkeypatch.undo()
    assert store.load() == CursorState("10", 10)
    assert sorted(os.listdir(tmp_path)) == ["cursor.json"]


@pytest.mark.parametrize(
    ("cursor", "next_cursor", "items", "expected"),
    [
        (None, "5", [{"id": "1"}], True),
        ("5", "9", [{"id": "6"}], True),
        ("5", None, [], False),
        ("5", "5", [], False),
        ("5", "5", [{"id": "x"}], False),
        (None, None, [], False),
    ],
)
def test_has_more_follows_the_paging_contract(cursor, next_cursor, items, expected) -> None:
    assert has_more(cursor, next_cursor, items) is expected


@pytest.mark.parametrize(("rate", "expected"), [(None, 1000), (0, 1000), (10, 10), (0.5, 1), (10_000, 1000)])
def test_page_limit_keeps_pages_short_under_a_rate(rate, expected) -> None:
    assert page_limit(rate) == expected


@pytest.mark.parametrize(
    ("line", "key"),
    [
        (b'{"id": "G123", "loan_amnt": 1000}', b"G123"),
        (b'{"id": 68407277}', b"68407277"),
        (b'{"id": " G7 "}', b"G7"),
        (b'{"id": "G9", "annual_inc": NaN}', b"G9"),  # orjson refuses NaN; the stdlib fallback still finds the id
        (b'{"id": ""}', None),
        (b'{"id": null}', None),
        (b'{"id": true}', None),
        (b'{"loan_amnt": 1000}', None),
        (b"[1, 2]", None),
        (b'{"id": "G1", "loan_amnt": 10', None),
        (b"\xff\xfe not utf-8", None),
        (b"", None),
    ],
)
def test_line_key(line: bytes, key: bytes | None) -> None:
    assert line_key(line) == key


def test_iter_lines_keeps_exact_bytes(tmp_path) -> None:
    lines = [b'{"id": "G1"}', b'{"id": "G2", "x": "caf\xc3\xa9"}\r', b"", b"\xff broken", b'{"id": "G3"}']
    path = tmp_path / "dirty.jsonl"
    path.write_bytes(b"\n".join(lines))  # no newline after the last line
    got = list(iter_lines(path))
    assert got == lines
    assert [hashlib.sha256(x).hexdigest() for x in got] == [hashlib.sha256(x).hexdigest() for x in lines]


def test_encode_applicant_keys_by_id() -> None:
    key, value = encode_applicant({"id": "68407277", "loan_amnt": 3600.0, "emp_title": None})
    assert key == b"68407277"
    assert json.loads(value) == {"id": "68407277", "loan_amnt": 3600.0, "emp_title": None}


def test_encode_applicant_refuses_nan() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        encode_applicant({"id": "1", "dti": float("nan")})


def test_progress_line_reports_the_rate() -> None:
    clock = FakeClock()
    out = io.StringIO()
    progress = Progress("api", every_s=2.0, clock=clock, out=out)
    progress.add(100)
    assert out.getvalue() == ""
    clock.now += 2.0
    progress.add(100)
    assert out.getvalue().strip() == "[produce api] 200 records in 2.00s (100/s)"


def test_cursor_store_keeps_the_kafka_cluster_id(tmp_path) -> None:
    store = CursorStore(tmp_path / "cursor.json")
    store.save(CursorState("42", 42, 1, "cluster-a"))
    assert store.load().kafka_cluster_id == "cluster-a"


@pytest.mark.parametrize(
    ("saved", "cluster", "cursor", "warned"),
    [
        (CursorState(None), "cluster-a", None, False),
        (CursorState("42", 42, 1, "cluster-a"), "cluster-a", "42", False),
        (CursorState("42", 42, 1, "cluster-a"), "cluster-b", None, True),  # Kafka re-formatted: start over
        (CursorState("42", 42, 1, None), "cluster-a", None, True),  # a cursor of an unknown cluster
    ],
)
def test_resume_from_only_trusts_a_cursor_of_the_same_kafka_cluster(saved, cluster, cursor, warned) -> None:
    state, warning = resume_from(saved, cluster)
    assert state.cursor == cursor
    assert (warning is not None) is warned


class PagedSession:
    """A requests.Session stand-in that serves pages of ids 1..total and records each request's cursor."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.requested: list[tuple[str | None, int]] = []

    def get(self, url: str, params: dict[str, Any], timeout) -> object:  # noqa: ARG002 (requests' signature)
        after, limit = int(params.get("after", 0)), params["limit"]
        self.requested.append((params.get("after"), limit))
        items = [{"id": str(i)} for i in range(after + 1, min(after + limit, self.total) + 1)]
        body = {"items": items, "next_cursor": items[-1]["id"] if items else params.get("after")}
        return Answer(json.dumps(body).encode())


class Answer:
    """A requests.Response stand-in: a 200 with a JSON body."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def raise_for_status(self) -> None:
        """A 200 raises nothing."""


def test_page_ahead_serves_the_prefetched_page_only_for_the_same_cursor_and_size() -> None:
    session = PagedSession(total=25)
    with PageAhead(session, "http://api", Stopper()) as pages:
        items, cursor = pages.take(None, 10)
        assert [i["id"] for i in items][:2] == ["1", "2"]
        assert cursor == "10"
        pages.request(cursor, 10)
        items, cursor = pages.take("10", 10)  # the page fetched ahead
        assert cursor == "20"
        assert len(session.requested) == 2
        pages.request(cursor, 10)
        items, _ = pages.take("10", 10)  # the caller went back (a send failed): fetched again, not the page ahead
        assert items[0]["id"] == "11"
        assert session.requested == [(None, 10), ("10", 10), ("20", 10), ("10", 10)]


@pytest.mark.parametrize(
    ("rate", "max_records", "published", "expected"),
    [(None, None, 0, 1000), (None, 2500, 2000, 500), (None, 2500, 2500, 0), (10, None, 0, 10)],
)
def test_next_limit_never_pages_past_max_records(rate, max_records, published, expected) -> None:
    assert next_limit(rate, max_records, published) == expected
