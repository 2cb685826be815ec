"""jobs.outage.until_up: waits through a short outage with one line per retry, gives up after the budget."""

from __future__ import annotations

import io

import pytest

from jobs.outage import describe, until_up


class Clock:
    """A fake clock that sleeping advances."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def flaky(failures: int, exc: BaseException):
    """An action failing `failures` times, then returning 'done'."""
    calls = {"n": 0}

    def action() -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise exc
        return "done"

    return action, calls


def test_a_short_outage_is_waited_through_with_one_line_per_retry() -> None:
    clock, out = Clock(), io.StringIO()
    action, calls = flaky(3, ConnectionRefusedError(111, "Connection refused"))
    result = until_up(
        action, "reading kafka", label="demo", budget_s=60, errors=(OSError,), clock=clock, sleep=clock.sleep, out=out
    )
    assert result == "done"
    assert calls["n"] == 4
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert all(line.startswith("[demo] reading kafka: ConnectionRefusedError") for line in lines)
    assert "Traceback" not in out.getvalue()


def test_an_outage_longer_than_the_budget_raises_the_last_error() -> None:
    clock, out = Clock(), io.StringIO()
    action, _ = flaky(100, TimeoutError("no broker"))
    with pytest.raises(TimeoutError):
        until_up(action, "x", budget_s=20, errors=(TimeoutError,), clock=clock, sleep=clock.sleep, out=out)
    assert clock.now <= 20
    assert "giving up" in out.getvalue().splitlines()[-1]


def test_errors_that_are_not_outages_are_not_retried() -> None:
    action, calls = flaky(1, KeyError("bug"))
    with pytest.raises(KeyError):
        until_up(action, "x", errors=(OSError,), sleep=lambda _s: None, out=io.StringIO())
    assert calls["n"] == 1


def test_budget_zero_fails_at_once() -> None:
    action, calls = flaky(1, OSError("down"))
    with pytest.raises(OSError, match="down"):
        until_up(action, "x", budget_s=0, errors=(OSError,), sleep=lambda _s: None, out=io.StringIO())
    assert calls["n"] == 1


def test_describe_is_one_short_line() -> None:
    text = describe(RuntimeError("first line\nsecond line " + "x" * 500))
    assert text == "RuntimeError: first line"


def test_a_failure_after_a_long_healthy_run_starts_a_new_outage_with_the_full_budget() -> None:
    clock, out = Clock(), io.StringIO()
    calls = {"n": 0}

    def long_running_then_flaky() -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            clock.sleep(1000)  # ran healthily for a long time, then the broker went away
            raise TimeoutError("broker restarting")
        if calls["n"] <= 3:
            raise TimeoutError("broker restarting")
        return "done"

    assert (
        until_up(
            long_running_then_flaky, "x", budget_s=60, errors=(TimeoutError,), clock=clock, sleep=clock.sleep, out=out
        )
        == "done"
    )
    assert "(0s of 60s)" in out.getvalue().splitlines()[0]
