"""Publish applicants to the Kafka topic `loan-applications`, from the Applicant Data API or a JSON-lines file.

API mode pages through `GET /applicants?after=<cursor>` and saves the cursor durably only after
`producer.flush()` and every send of the page were confirmed by the broker (acks=all, idempotent producer),
so a restart resumes with no gap; at worst the last unconfirmed page is sent again, which the topology treats
as a replay (row key = application id). File mode publishes each line's bytes as they are (dirty input).

    python -m jobs.produce --api [--until-caught-up] [--rate N] [--cursor-file PATH]
    python -m jobs.produce --file PATH.jsonl [--rate N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import orjson

from jobs import outage
from jobs.settings import ROOT, Settings
from loanrisk.cleaning import loads_json

TOPIC = "loan-applications"
DEFAULT_CURSOR_FILE = ROOT / "var" / "data" / "producer" / "cursor.json"
PAGE_LIMIT = 1000  # the API's largest page: fewer round trips, same bounded response
HTTP_TIMEOUT = (3.05, 15)
FLUSH_TIMEOUT_S = 120.0
# A rate-limited producer sleeps once per PACE_S worth of records, not once per record. kafka-python's sender
# thread wakes for every small batch: at 1,000 records/s (/usr/bin/time, quiet box, CPU per 30,000 records) it
# cost 9.5 s paced per record (stdlib JSON keys), 9.2 s per 5 ms, 5.7 s per 20 ms, 3.6 s per 50 ms, 1.7 s
# unpaced. 50 ms is also how long the spout's fetch waits.
PACE_S = 0.05
DLQ_TOPIC = "loan-applications-dlq"
# Kafka refuses records above the broker's message.max.bytes / the client's max_request_size (1 MiB): a line
# larger than this can never enter loan-applications, so the producer dead-letters it itself (TOO_LARGE).
MAX_RECORD_BYTES = 1_000_000
RAW_KEPT_BYTES = 1024  # how much of an oversized line its dead letter keeps (its sha256 covers all of it)
Page = tuple[list[dict[str, Any]], str | None]  # one API page: its applicants and the cursor after them


# ---------------------------------------------------------------- pure parts


class RateLimiter:
    """Token bucket: at most `rate` permits per second on average, bursts up to one second's worth after idling.

    It starts empty, so a run is paced from its first record: a full bucket at the start sent one second's worth
    at once on top of the rate, and that burst alone set the p99 of `make bench`'s fixed-rate latency runs.
    """

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Create a limiter; rate None or <= 0 means unlimited."""
        self.rate = rate if rate and rate > 0 else None
        self._clock, self._sleep = clock, sleep
        self._capacity = max(1.0, self.rate or 1.0)
        self._tokens = 0.0
        self._last = clock()
        # take() pays for PACE_S worth of permits at once: one sleep per step records instead of per record
        self.step = max(1, int((self.rate or 0) * PACE_S))
        self._prepaid = 0

    def acquire(self, n: int = 1) -> float:
        """Take n permits, sleeping as long as needed; return the seconds slept."""
        if self.rate is None:
            return 0.0
        self._refill(self.rate)
        self._tokens -= n
        if self._tokens >= 0:
            return 0.0
        wait = -self._tokens / self.rate
        self._sleep(wait)
        self._refill(self.rate)
        return wait

    def take(self) -> None:
        """Take one permit, sleeping at most once per `step` permits (the pace is kept to PACE_S)."""
        if self._prepaid == 0:
            self.acquire(self.step)
            self._prepaid = self.step
        self._prepaid -= 1

    def _refill(self, rate: float) -> None:
        """Add the permits earned at this rate since the last call, up to the capacity."""
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._last) * rate)
        self._last = now


@dataclass(frozen=True)
class CursorState:
    """What the cursor file holds: the API cursor, the Kafka cluster it is valid for, how many records it covers."""

    cursor: str | None
    published: int = 0
    saved_at_ms: int = 0
    kafka_cluster_id: str | None = None


def resume_from(state: CursorState, cluster_id: str | None) -> tuple[CursorState, str | None]:
    """Return the state to resume from and a warning: a cursor of another (or unknown) Kafka cluster restarts at 0.

    A wiped or re-formatted Kafka has lost what the cursor says was published; starting over republishes
    (replays are idempotent downstream: row key = application id), skipping would lose records.
    """
    if state.cursor is None or (cluster_id is not None and state.kafka_cluster_id == cluster_id):
        return state, None
    warning = (
        f"saved cursor {state.cursor} belongs to Kafka cluster {state.kafka_cluster_id}, not {cluster_id}: "
        "publishing from the beginning"
    )
    return CursorState(None, 0, 0, cluster_id), warning


class CursorStore:
    """A small JSON file holding the producer's cursor, replaced atomically (write, fsync, rename, fsync dir)."""

    def __init__(self, path: Path) -> None:
        """Remember where the cursor lives."""
        self.path = Path(path)

    def load(self) -> CursorState:
        """Return the saved state, or an empty one when no file exists yet."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return CursorState(cursor=None)
        cursor = data.get("cursor")
        return CursorState(
            cursor=None if cursor is None else str(cursor),
            published=int(data.get("published", 0)),
            saved_at_ms=int(data.get("saved_at_ms", 0)),
            kafka_cluster_id=data.get("kafka_cluster_id"),
        )

    def save(self, state: CursorState) -> None:
        """Write the state atomically: a crash leaves either the old or the new file, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(
            {
                "cursor": state.cursor,
                "published": state.published,
                "saved_at_ms": state.saved_at_ms,
                "kafka_cluster_id": state.kafka_cluster_id,
            }
        )
        fd, tmp = tempfile.mkstemp(prefix=".cursor-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self.path.parent)


def _fsync_dir(path: Path) -> None:
    """Persist a rename by syncing its directory."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def has_more(cursor: str | None, next_cursor: str | None, items: list[Any]) -> bool:
    """Tell whether the API may have more after this page (contract: null or unchanged cursor = nothing now)."""
    return bool(items) and next_cursor is not None and next_cursor != cursor


def page_limit(rate: float | None, limit: int = PAGE_LIMIT) -> int:
    """Keep one page to about a second of work at the rate limit, so a stop request is served quickly."""
    if rate and rate > 0:
        return max(1, min(limit, int(rate)))
    return limit


def line_key(line: bytes) -> bytes | None:
    """Return the Kafka key of a JSON line: its id when the line parses as an object with one, else None."""
    try:
        data = loads_json(line)
    except (ValueError, RecursionError):  # RecursionError: hostile nesting (the drills publish 10,000 levels)
        return None
    if not isinstance(data, dict):
        return None
    ident = data.get("id")
    if isinstance(ident, bool) or not isinstance(ident, str | int) or str(ident).strip() == "":
        return None
    return str(ident).strip().encode("utf-8")


def iter_lines(path: Path) -> Iterator[bytes]:
    """Yield each line's exact bytes without its trailing newline (the dirt manifest hashes those bytes)."""
    with open(path, "rb") as fh:
        for raw in fh:
            yield raw[:-1] if raw.endswith(b"\n") else raw


def encode_applicant(item: dict[str, Any]) -> tuple[bytes, bytes]:
    """Return (key, value) for one canonical applicant dict from the API; NaN and infinities are refused.

    orjson would write a non-finite float as null, silently: the check keeps json.dumps(allow_nan=False)'s rule.
    """
    if not all(math.isfinite(v) for v in item.values() if isinstance(v, float)):
        raise ValueError(f"applicant {item.get('id')!r} has a non-finite number")
    return str(item["id"]).encode("utf-8"), orjson.dumps(item)


class Progress:
    """Counts published records and writes a progress line with the rate to stderr every `every_s` seconds."""

    def __init__(
        self, label: str, every_s: float = 2.0, clock: Callable[[], float] = time.monotonic, out: TextIO | None = None
    ) -> None:
        """Start counting now."""
        self.label, self.every_s, self._clock = label, every_s, clock
        self._out = out if out is not None else sys.stderr
        self.count = 0
        self._start = self._last = clock()

    def add(self, n: int) -> None:
        """Count n more records and print a line when it is time."""
        self.count += n
        if self._clock() - self._last >= self.every_s:
            self.emit()

    def emit(self) -> None:
        """Print the progress line now."""
        self._last = self._clock()
        print(self.line(), file=self._out, flush=True)

    def line(self) -> str:
        """Return the progress line."""
        elapsed = max(self._clock() - self._start, 1e-9)
        return f"[produce {self.label}] {self.count} records in {elapsed:.2f}s ({self.count / elapsed:.0f}/s)"


class Stopper:
    """A flag set by SIGTERM/SIGINT so the loops finish the current page, flush, save the cursor and exit."""

    def __init__(self) -> None:
        """Start un-stopped."""
        self.stopped = False

    def install(self) -> None:
        """Handle SIGTERM and SIGINT by setting the flag."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:  # noqa: ARG002 (signal handler signature)
        """Set the flag."""
        self.stopped = True


@dataclass
class PublishResult:
    """What a producer run did: records confirmed by the broker, their keys, and whether it stopped early."""

    published: int = 0
    keys: list[str] = field(default_factory=list)
    stopped: bool = False
    cursor: str | None = None


# ---------------------------------------------------------------- Kafka and HTTP


class PublishError(RuntimeError):
    """The broker did not confirm every record of a batch."""


def make_producer(settings: Settings) -> Any:
    """Return a KafkaProducer with the durability settings spelled out (acks=all, idempotence on)."""
    from kafka import KafkaProducer

    return KafkaProducer(
        **settings.kafka_kwargs(),
        client_id="loanrisk-producer",
        acks="all",
        enable_idempotence=True,
        max_in_flight_requests_per_connection=5,
        linger_ms=5,
        batch_size=64 * 1024,
        delivery_timeout_ms=120_000,
        request_timeout_ms=30_000,
    )


def kafka_cluster_id(settings: Settings) -> str | None:
    """Return the Kafka cluster id (it changes when the cluster's storage is formatted anew)."""
    from adapters.kafka import cluster_id  # imported here, as kafka-python is elsewhere in this module

    client_config = {k: v for k, v in settings.kafka_kwargs().items() if k != "bootstrap_servers"}
    return cluster_id(settings.kafka_bootstrap, client_id="loanrisk-producer-admin", **client_config)


def send_all(
    producer: Any,
    records: Iterable[tuple[bytes | None, bytes]],
    limiter: RateLimiter,
    stopper: Stopper,
    topic: str = TOPIC,
) -> int:
    """Send records, flush, and raise PublishError unless the broker confirmed every one; return the count."""
    futures = []
    for key, value in records:
        if stopper.stopped:
            break
        limiter.take()
        futures.append(producer.send(topic, key=key, value=value))
    producer.flush(FLUSH_TIMEOUT_S)
    failed = [f for f in futures if not f.is_done or f.failed()]
    if failed:
        first = failed[0].exception if failed[0].is_done else "not confirmed before the flush timeout"
        raise PublishError(f"{len(failed)} of {len(futures)} records not confirmed by Kafka: {first}")
    return len(futures)


def fetch_page(session: Any, base_url: str, cursor: str | None, limit: int) -> Page:
    """GET one page of applicants after the cursor; return (items, next_cursor)."""
    params: dict[str, Any] = {"limit": limit}
    if cursor is not None:
        params["after"] = cursor
    resp = session.get(f"{base_url.rstrip('/')}/applicants", params=params, timeout=HTTP_TIMEOUT)
    resp.raise_for_status()
    body = orjson.loads(resp.content)
    next_cursor = body.get("next_cursor")
    return list(body.get("items") or []), None if next_cursor is None else str(next_cursor)


def fetch_with_retry(
    session: Any, base_url: str, cursor: str | None, limit: int, stopper: Stopper, tries: int = 8
) -> Page:
    """fetch_page with bounded exponential backoff on connection errors and 5xx answers."""
    import requests

    delay = 0.5
    for attempt in range(1, tries + 1):
        try:
            return fetch_page(session, base_url, cursor, limit)
        except (requests.ConnectionError, requests.Timeout, requests.HTTPError) as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if (status is not None and status < 500 and status != 429) or attempt == tries or stopper.stopped:
                raise  # a 401/403 says the reader token is missing or wrong: retrying cannot help
            if status == 429:  # over the token's rate limit: wait as long as the API says
                answer = getattr(exc, "response", None)
                retry_after = answer.headers.get("Retry-After") if answer is not None else None
                delay = max(delay, float(retry_after or delay))
            print(f"[produce api] {exc}; retrying in {delay:.1f}s", file=sys.stderr, flush=True)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
    raise AssertionError("unreachable")


def next_limit(rate: float | None, max_records: int | None, published: int) -> int:
    """Return the size of the next page: a second's worth under a rate, never past max_records (0 = done)."""
    limit = page_limit(rate)
    return limit if max_records is None else min(limit, max_records - published)


class PageAhead:
    """Fetches the page after a cursor in a background thread while the caller publishes the current page.

    Only one request is ever in flight, so the session is never used by two threads at once. A page fetched
    ahead is used only when the caller then asks for exactly that cursor and size; the cursor still advances
    only after Kafka confirmed a page.
    """

    def __init__(self, session: Any, base_url: str, stopper: Stopper) -> None:
        """Fetch with this session; nothing is requested yet."""
        self._fetch = partial(fetch_with_retry, session, base_url, stopper=stopper)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="produce-page-ahead")
        self._ahead: tuple[str | None, int, Future[Page]] | None = None

    def request(self, cursor: str | None, limit: int) -> None:
        """Start fetching the page after cursor."""
        if limit > 0:
            self._ahead = (cursor, limit, self._pool.submit(self._fetch, cursor, limit))

    def take(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Return the page after cursor: the one fetched ahead when it matches, else fetched now."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            result = ahead[2].result()  # wait even when unused: one request at a time on the session
            if ahead[:2] == (cursor, limit):
                return result
        return self._fetch(cursor, limit)

    def __enter__(self) -> PageAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def run_api(
    settings: Settings,
    cursor_file: Path = DEFAULT_CURSOR_FILE,
    until_caught_up: bool = True,
    rate: float | None = None,
    poll_s: float = 1.0,
    stopper: Stopper | None = None,
    topic: str = TOPIC,
    max_records: int | None = None,
) -> PublishResult:
    """Publish every applicant the API has after the saved cursor; keep polling unless until_caught_up.

    max_records stops after that many records (whole pages, cursor saved), e.g. for a smoke test.
    """
    import requests

    stopper = stopper or Stopper()
    store, limiter, progress = CursorStore(cursor_file), RateLimiter(rate), Progress("api")
    cluster_id = kafka_cluster_id(settings)
    state, warning = resume_from(store.load(), cluster_id)
    if warning:
        print(f"[produce api] {warning}", file=sys.stderr, flush=True)
    result = PublishResult(cursor=state.cursor)
    producer = make_producer(settings)
    try:
        with requests.Session() as session, PageAhead(session, settings.applicant_api_url, stopper) as pages:
            session.headers.update(settings.auth_headers("reader"))  # var/tokens/reader.token or LOANRISK_READER_TOKEN
            while not stopper.stopped:
                before, limit = state.cursor, next_limit(rate, max_records, result.published)
                if limit <= 0:
                    break
                items, next_cursor = pages.take(before, limit)
                if items and next_cursor is None:
                    raise PublishError("the API returned items without a next_cursor: cannot store a resumable cursor")
                if has_more(before, next_cursor, items):  # fetch the next page while this one goes to Kafka
                    pages.request(next_cursor, next_limit(rate, max_records, result.published + len(items)))
                if items:
                    records = [encode_applicant(item) for item in items]
                    sent = send_all(producer, records, limiter, stopper, topic)
                    if sent < len(records):  # stopped mid-page: keep the old cursor, the page is sent again later
                        result.stopped = True
                        break
                    state = CursorState(next_cursor, state.published + sent, int(time.time() * 1000), cluster_id)
                    store.save(state)
                    result.published += sent
                    result.keys.extend(str(item["id"]) for item in items)
                    result.cursor = next_cursor
                    progress.add(sent)
                if not has_more(before, next_cursor, items):
                    if until_caught_up:
                        break
                    time.sleep(poll_s)
        result.stopped = result.stopped or stopper.stopped
    finally:
        producer.close(30)
        progress.emit()
    return result


def run_file(
    settings: Settings,
    path: Path,
    rate: float | None = None,
    stopper: Stopper | None = None,
    chunk: int = 1000,
    topic: str = TOPIC,
    result: PublishResult | None = None,
) -> PublishResult:
    """Publish each line of a JSON-lines file as is (key = its id when it parses), confirming every chunk.

    result: the outcome of an earlier attempt on the same file; its confirmed lines are skipped (resume).
    """
    stopper = stopper or Stopper()
    limiter, progress = RateLimiter(rate), Progress(f"file {Path(path).name}")
    result = result if result is not None else PublishResult()
    producer = make_producer(settings)
    try:
        batch: list[tuple[bytes | None, bytes]] = []
        for number, line in enumerate(iter_lines(Path(path))):
            if number < result.published:
                continue
            if len(line) > MAX_RECORD_BYTES:
                _send_file_chunk(producer, batch, limiter, stopper, result, progress, topic)
                batch = []
                dead_letter_oversized(producer, path, number, line)
                result.published += 1
                continue
            batch.append((line_key(line), line))
            if len(batch) >= chunk:
                _send_file_chunk(producer, batch, limiter, stopper, result, progress, topic)
                batch = []
            if stopper.stopped:
                break
        if batch and not stopper.stopped:
            _send_file_chunk(producer, batch, limiter, stopper, result, progress, topic)
        result.stopped = stopper.stopped
    finally:
        producer.close(30)
        progress.emit()
    return result


def dead_letter_oversized(producer: Any, path: Path, number: int, line: bytes) -> None:
    """Publish the TOO_LARGE dead letter of a line Kafka cannot carry; source = the file and its line index."""
    from loanrisk import events as ev

    key = line_key(line[:RAW_KEPT_BYTES])
    raw, _ = ev.decode_raw(line[:RAW_KEPT_BYTES])
    received = ev.Received(
        ev.Source(f"file:{Path(path).name}", -1, number),
        None if key is None else key.decode(),
        raw,
        ev.sha256_hex(line),
        int(time.time() * 1000),
    )
    letter = ev.dead_letter(
        received,
        "TOO_LARGE",
        None,
        f"line of {len(line)} bytes is larger than Kafka's "
        f"{MAX_RECORD_BYTES}-byte record limit; raw keeps the first {RAW_KEPT_BYTES} bytes",
        received.key,
        received.kafka_ts_ms,
    )
    delivery = producer.send(DLQ_TOPIC, key=None, value=ev.dumps(letter.to_dict()))
    producer.flush(FLUSH_TIMEOUT_S)
    if not delivery.is_done or delivery.failed():  # the caller retries the file from this line
        raise PublishError(f"the TOO_LARGE dead letter of line {number} was not confirmed: {delivery.exception}")


def _send_file_chunk(
    producer: Any,
    batch: list[tuple[bytes | None, bytes]],
    limiter: RateLimiter,
    stopper: Stopper,
    result: PublishResult,
    progress: Progress,
    topic: str,
) -> None:
    """Send one chunk of file lines and record what the broker confirmed."""
    if not batch:
        return
    sent = send_all(producer, batch, limiter, stopper, topic)
    result.published += sent
    result.keys.extend(k.decode("utf-8") for k, _ in batch[:sent] if k is not None)
    progress.add(sent)


# ---------------------------------------------------------------- CLI


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(prog="python -m jobs.produce", description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--api", action="store_true", help="poll the Applicant Data API with the durable cursor")
    mode.add_argument("--file", type=Path, help="publish each line of this JSON-lines file as is")
    p.add_argument("--until-caught-up", action="store_true", help="API mode: stop when the API has nothing new")
    p.add_argument("--rate", type=float, default=None, help="at most this many records per second")
    p.add_argument("--cursor-file", type=Path, default=DEFAULT_CURSOR_FILE, help="where the API cursor is kept")
    p.add_argument("--poll", type=float, default=1.0, help="API mode: seconds between polls when caught up")
    p.add_argument("--topic", default=TOPIC, help=f"Kafka topic (default {TOPIC})")
    p.add_argument("--max-records", type=int, default=None, help="API mode: stop after this many records")
    p.add_argument(
        "--wait",
        type=float,
        default=outage.DEFAULT_BUDGET_S,
        help="seconds to wait through an outage of Kafka or the API before giving up (default %(default)s)",
    )
    return p.parse_args(argv)


def publish(settings: Settings, args: argparse.Namespace, stopper: Stopper) -> PublishResult:
    """Run the producer, waiting through outages of Kafka or the API: each retry resumes where confirmed.

    API mode resumes from the durable cursor, file mode after the last confirmed chunk; at worst the records
    of the unconfirmed page or chunk are sent again, which the topology treats as replays.
    """
    done = PublishResult()

    def attempt() -> PublishResult:
        if not args.api:
            return run_file(settings, args.file, args.rate, stopper, topic=args.topic, result=done)
        left = None if args.max_records is None else args.max_records - done.published
        part = run_api(
            settings, args.cursor_file, args.until_caught_up, args.rate, args.poll, stopper, args.topic, left
        )
        done.published, done.stopped, done.cursor = done.published + part.published, part.stopped, part.cursor
        return done

    errors: tuple[type[BaseException], ...] = (PublishError, *outage.service_errors())
    return outage.until_up(attempt, "publishing", label="produce", budget_s=args.wait, errors=errors)


def main(argv: list[str] | None = None) -> int:
    """Run the producer; exit 0 when everything sent was confirmed, 1 when an outage outlasted --wait."""
    args = parse_args(argv)
    stopper = Stopper()
    stopper.install()
    settings = Settings.load()
    failures: tuple[type[BaseException], ...] = (PublishError, *outage.service_errors())
    try:
        result = publish(settings, args, stopper)
    except failures as exc:
        print(
            f"[produce] error: {outage.describe(exc)} (the cursor was not advanced past unconfirmed records)",
            file=sys.stderr,
        )
        return 1
    stop_note = " (stopped by signal)" if result.stopped else ""
    print(
        f"[produce] published {result.published} records to {args.topic}{stop_note}; cursor={result.cursor}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
