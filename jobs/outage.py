"""Ride through short outages in the command-line jobs: wait and retry with a one-line message, never a traceback.

A job that reads Kafka, HBase, MySQL or an HTTP API while one of them restarts (a broker bounce, a Thrift
restart) should wait for it, as an operator would, and give up with one clear line only when the outage
outlasts its budget. What is retried must be safe to repeat: every job here either reads, upserts, or
resumes from a durable cursor.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO, TypeVar

T = TypeVar("T")

DEFAULT_BUDGET_S = 300.0
PROGRESS_RESETS_AFTER_S = 30.0  # an attempt that ran this long made progress: a later failure is a new outage


def service_errors() -> tuple[type[BaseException], ...]:
    """Return the exception types of an unreachable Kafka, HBase (Thrift), MySQL or HTTP service."""
    import mysql.connector
    import requests
    from kafka.errors import KafkaError
    from thriftpy2.thrift import TException
    from thriftpy2.transport import TTransportException

    return (
        OSError,
        TimeoutError,
        KafkaError,
        TTransportException,
        TException,
        mysql.connector.Error,
        requests.RequestException,
    )


def describe(exc: BaseException) -> str:
    """One line naming an error: its type and the first line of its text, shortened."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def until_up(
    action: Callable[[], T],
    what: str,
    *,
    label: str = "job",
    budget_s: float = DEFAULT_BUDGET_S,
    errors: tuple[type[BaseException], ...] | None = None,
    pause_s: float = 2.0,
    max_pause_s: float = 15.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    out: TextIO | None = None,
) -> T:
    """Run action; while it fails with a service error, print one line, wait and retry until budget_s passes.

    The budget counts from the start of the current outage: an attempt that ran PROGRESS_RESETS_AFTER_S
    before failing starts a new one. After the budget the last error is raised (the caller prints one line).
    """
    errors = errors or service_errors()
    out = out if out is not None else sys.stderr
    outage_start: float | None = None
    pause = pause_s
    while True:
        attempt_start = clock()
        try:
            return action()
        except errors as exc:
            now = clock()
            if outage_start is None or now - attempt_start >= PROGRESS_RESETS_AFTER_S:
                outage_start, pause = now, pause_s  # a new outage begins at this failure
            waited = now - outage_start
            if waited + pause > budget_s:
                print(
                    f"[{label}] {what}: still failing after {waited:.0f}s ({describe(exc)}); giving up",
                    file=out,
                    flush=True,
                )
                raise
            print(
                f"[{label}] {what}: {describe(exc)}; waiting {pause:.0f}s and retrying "
                f"({waited:.0f}s of {budget_s:.0f}s)",
                file=out,
                flush=True,
            )
            sleep(pause)
            pause = min(pause * 2, max_pause_s)
