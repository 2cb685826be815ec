"""Run one drill: a batch of the steady stream, a fault injected and healed while it flows, then the accounting.

The Drill owns what lives across scenarios: the topology submitted behind the fault proxy, the long-running
API producer, and a sampler thread (consumer lag, worker pids and memory every SAMPLE_S seconds).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from adapters.kafka import OffsetReader
from adapters.settings import kafka_security_kwargs
from jobs import demo, outage, reconcile
from jobs.drills import measure, procs
from jobs.drills.stream import Batch, Producer, mark_published, run_job, write_generated
from jobs.settings import ROOT, Settings
from loanrisk import events as ev

SAMPLE_S = 2.0
PROXY_URL = "http://127.0.0.1:5011"
PROXY_CONTROL = "http://127.0.0.1:5012/fault"
SPOUT_GROUP = "loan-risk"
INPUT_TOPIC = "loan-applications"
STACK = str(ROOT / "stack" / "stack.sh")
# The topology's settings (src/bolts/settings.py) that bound how late a failed batch is replayed and committed.
MESSAGE_TIMEOUT_S = 60  # topology.message.timeout.secs: a tuple never acked is failed this late
RETRY_MAX_DELAY_S = 30  # loanrisk.spout.retry_max_delay_ms: the longest backoff before the spout replays it
COMMIT_PERIOD_S = 5  # loanrisk.spout.offset_commit_period_ms: acked offsets are committed this late
# Rows are in HBase before their batch is acked (SaveBolt writes, then publishes the decision events): a batch whose
# publish failed is replayed after the retry backoff, or the message timeout when no fail came, and its offsets
# committed at the next commit. The drill waits through two such replays in a row before it reads the topics.
COMMIT_WAIT_S = 2 * (MESSAGE_TIMEOUT_S + RETRY_MAX_DELAY_S) + COMMIT_PERIOD_S + 25


@dataclass
class Options:
    """How hard and how long the drills push: stream rate, phases around the fault, the bounded waits."""

    rate: float = 40.0  # steady applicants/s through MySQL -> API -> producer
    lead_s: float = 15.0  # stream flowing before the fault
    tail_s: float = 20.0  # stream still flowing after the heal
    settle_s: float = 600.0  # at most this long to wait until every record of the batch is accounted
    hold_scale: float = 1.0  # scales every fault's duration (CI runs shorter outages)
    dirty_share: float = 0.02
    seed: int = field(default_factory=lambda: int(time.time()) % 1_000_000_000)

    def hold(self, seconds: float) -> float:
        """A fault duration, scaled."""
        return seconds * self.hold_scale


@dataclass(frozen=True)
class Scenario:
    """A fault: what it does, how long it is held, how it is healed, and its own extra records and checks."""

    name: str
    what: str
    inject: Callable[[Drill, Batch], None]
    hold_s: float = 0.0
    heal: Callable[[Drill], None] | None = None
    check: Callable[[Drill, Batch, measure.Row], None] | None = None
    settle_s: float | None = None  # a tighter bound on the wait than Options.settle_s (e.g. poison's retries)
    min_hold_s: float = 0.0  # never scaled below this (a SIGSTOP must outlast the subprocess timeout)


def log(text: str) -> None:
    """One progress line on stderr."""
    print(f"[chaos {datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def stack(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> None:
    """Run stack/stack.sh (e.g. `down hbase_thrift`), output to the drill's log; raise when it fails."""
    import os

    proc = subprocess.run(
        [STACK, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"stack/stack.sh {' '.join(args)} failed: {proc.stdout[-400:]}")


def set_fault(**fault: object) -> dict[str, Any]:
    """Set the proxy's fault (mode, delay_s, poison_ids)."""
    resp = requests.put(PROXY_CONTROL, data=json.dumps(fault), timeout=5)
    resp.raise_for_status()
    answer: dict[str, Any] = resp.json()  # the proxy's control endpoint answers a JSON object
    return answer


class Sampler:
    """A thread that samples the consumer lag of the topology and its worker JVMs until stopped."""

    def __init__(self, bootstrap: str) -> None:
        """Prepare; start() begins sampling."""
        self.bootstrap = bootstrap
        self.samples: list[measure.Sample] = []
        self._stop, self._lock = threading.Event(), threading.Lock()
        self._reader = self._new_reader()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="chaos-sampler")

    def start(self) -> None:
        """Begin sampling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(timeout=30)

    def peek(self) -> list[measure.Sample]:
        """Return a copy of the samples since the last take."""
        with self._lock:
            return list(self.samples)

    def take(self) -> list[measure.Sample]:
        """Return the samples since the last take and start a new list."""
        with self._lock:
            taken, self.samples = self.samples, []
        return taken

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            workers = procs.worker_pids()
            ends, committed = self.offsets()
            sample = measure.Sample(time.time(), ends, committed, frozenset(workers), sum(map(procs.rss_mb, workers)))
            with self._lock:
                self.samples.append(sample)

    def _new_reader(self) -> OffsetReader:
        return OffsetReader(self.bootstrap, timeout_ms=3000, client_id="loanrisk-chaos-lag", **kafka_security_kwargs())

    def offsets(self) -> tuple[dict[int, int], dict[int, int]]:
        """The input topic's end offsets and the spout group's committed offsets by partition; empty when unreadable."""
        try:
            committed, ends = self._reader.offsets(SPOUT_GROUP, INPUT_TOPIC)
        except Exception:  # noqa: BLE001 (Kafka restarting: no sample, fresh clients next time)
            with contextlib.suppress(Exception):
                self._reader.close()
            self._reader = self._new_reader()  # even when closing failed half-way
            return {}, {}
        return ends, {p: off for p, off in committed.items() if off is not None}


@dataclass
class Accounted(demo.Accounting):
    """demo's accounting plus how long the drill waited for it (named in the row's notes)."""

    settle_s: float = 0.0


class Drill:
    """Everything the scenarios act on, and the run of one scenario."""

    def __init__(self, settings: Settings, opts: Options, run_dir: Path) -> None:
        """Prepare; start() submits the topology and starts the stream."""
        self.settings, self.opts, self.run_dir = settings, opts, run_dir
        self.producer = Producer(
            run_dir / "producer-api.log", "--api", "--rate", str(opts.rate), "--poll", "1", "--wait", "900"
        )
        self.sampler = Sampler(settings.kafka_bootstrap)
        self.batches = 0
        self.stopped: list[int] = []  # the pids a scenario SIGSTOPped, for its heal
        self.model_versions: tuple[str, ...] = ()  # (shipped, deployed) by the model-redeploy scenario

    # ------------------------------------------------------------ life cycle

    def start(self, submit: bool = True) -> None:
        """Check the proxy, submit the topology behind it (one worker per supervisor), start the stream."""
        set_fault(mode="pass", poison_ids=[])
        if submit:
            workers = max(1, supervisors())
            log(f"submitting loan-risk behind the fault proxy ({PROXY_URL}), {workers} worker(s)")
            # tuples that cross workers need Kryo registrations: a topology default (src/bolts/settings.py)
            demo.submit_topology(
                self.settings, self.run_dir, extra=("-o", f"loanrisk.risk_api.url={PROXY_URL}", "-w", str(workers))
            )
        self.producer.start()
        self.sampler.start()

    def stop(self) -> None:
        """Stop the stream and the sampler; leave the proxy passing everything."""
        self.producer.stop()
        self.sampler.stop()
        with contextlib.suppress(requests.RequestException):
            set_fault(mode="pass", poison_ids=[])

    # ------------------------------------------------------------ one scenario

    def new_batch(self, scenario: Scenario) -> Batch:
        """Load this scenario's applicants into MySQL (the API producer picks them up) and start its dirty file."""
        self.batches += 1
        seconds = self.opts.lead_s + self.hold_s(scenario) + self.opts.tail_s
        n = max(50, int(self.opts.rate * seconds))
        run_dir = demo.new_run_dir(f"chaos-{scenario.name}", self.settings)
        batch = write_generated(run_dir, n, self.opts.seed + 10 * self.batches, int(n * self.opts.dirty_share))
        run_job("jobs.load", str(run_dir / "applicants.csv"))
        if batch.lines:
            batch.producers.append(self.publish_file(run_dir / "dirty.jsonl", max(1.0, self.opts.rate / 10)))
            mark_published(batch.manifests[0], len(batch.lines))
        return batch

    def publish_file(self, path: Path, rate: float) -> Producer:
        """Start a file producer for a JSON-lines file at a rate."""
        producer = Producer(path.with_suffix(".log"), "--file", str(path), "--rate", str(rate), "--wait", "900")
        producer.start()
        return producer

    def run(self, scenario: Scenario) -> measure.Row:
        """Run one scenario end to end and return its table row."""
        row = measure.Row(scenario.name)
        log(f"{scenario.name}: {scenario.what}")
        batch = self.new_batch(scenario)
        self.sampler.take()
        time.sleep(self.opts.lead_s)
        row.injected_at = f"{datetime.now(UTC):%H:%M:%S}"
        injected = time.time()
        try:
            scenario.inject(self, batch)
            time.sleep(self.hold_s(scenario))
        except Exception as exc:  # noqa: BLE001 (a fault that could not be injected is a failed check)
            row.problems.append(f"injecting failed: {outage.describe(exc)}")
        finally:
            if scenario.heal:
                self.heal(scenario, row)
        healed = time.time()
        log(
            f"{scenario.name}: injected at {row.injected_at}, healed after {healed - injected:.0f}s; waiting for "
            f"{len(batch.ids)} applicants and {len(batch.lines)} file lines"
        )
        accounted = self.wait_accounted(batch, min(self.opts.settle_s, scenario.settle_s or self.opts.settle_s))
        for producer in batch.producers:
            code = producer.wait(1)
            if code not in (0, None):
                row.problems.append(f"a file producer exited with {code} (see {producer.log})")
        settled = time.time()
        if not self.wait_committed(settled):
            row.notes.append(f"the spout had not committed the batch's offsets {COMMIT_WAIT_S} s after it was stored")
        if scenario.check:
            scenario.check(self, batch, row)
        samples = self.sampler.take()
        row.recovery_s = measure.recovery_s(samples, healed)
        row.peak_lag = measure.peak_lag(samples)
        row.worker_restarts = measure.worker_restarts(samples)
        row.notes.append(f"peak worker memory {max((s.worker_rss_mb for s in samples), default=0):.0f} MiB RSS")
        self.account(batch, accounted, row)
        log(f"{scenario.name}: {'ok' if row.passed else 'FAIL'} " + " ".join(measure.cells(row)[2:]))
        return row

    def wait_committed(self, since: float, timeout_s: float = COMMIT_WAIT_S) -> bool:
        """Keep sampling (bounded) until the spout has committed, on every partition, the end offset it had at since.

        Called once the batch is all stored: every record of it is in Kafka then, so this is when every batch was
        acked, i.e. its decision events and dead letters published (and, as since follows the heal, the recovery
        column has its sample).
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            samples = self.sampler.peek()
            target = measure.ends_at(samples, since)
            if target is not None and measure.committed_at(samples, since, target) is not None:
                return True
            time.sleep(SAMPLE_S)
        return False

    def hold_s(self, scenario: Scenario) -> float:
        """How long the scenario's fault is held in this run."""
        return max(scenario.min_hold_s, self.opts.hold(scenario.hold_s))

    def heal(self, scenario: Scenario, row: measure.Row) -> None:
        """Heal the fault, retrying a few times: a drill must never leave the stack broken."""
        if scenario.heal is None:
            return
        for attempt in range(3):
            try:
                scenario.heal(self)
                return
            except Exception as exc:  # noqa: BLE001
                log(f"{scenario.name}: heal attempt {attempt + 1} failed: {outage.describe(exc)}")
                time.sleep(5)
        row.problems.append("the fault could not be healed")

    def wait_accounted(self, batch: Batch, settle_s: float) -> Accounted:
        """Wait (at most settle_s) until every id and file line of the batch is in HBase or dead-lettered."""
        acc = Accounted(pending_ids=set(batch.ids), lines=list(batch.lines))
        demo.wait_accounted(self.settings, acc, settle_s)
        acc.settle_s = settle_s
        return acc

    def account(self, batch: Batch, acc: Accounted, row: measure.Row) -> None:
        """Fill the row's loss, duplication and repetition counts from HBase and both topics."""
        ids, shas = batch.scope_ids, batch.scope_shas
        entries = reconcile.load_manifests(batch.manifests)[0]

        def read() -> tuple[reconcile.Report, list[ev.DecisionEvent]]:
            letters = [
                dl
                for dl in reconcile.read_dead_letters(self.settings.kafka_bootstrap)[0]
                if dl.raw_sha256 in shas or (dl.application_id is not None and str(dl.application_id) in ids)
            ]
            events = [e for e in reconcile.read_events(self.settings.kafka_bootstrap)[0] if e.application_id in ids]
            rows = reconcile.fetch_rows(self.settings, sorted(ids))[0]
            return reconcile.reconcile(batch.ids, rows, letters, events, entries), events

        report, events = outage.until_up(read, "reading HBase and the topics", label="chaos")
        conflicting = measure.conflicting_events((e.application_id, getattr(e, "event_id", "")) for e in events)
        if conflicting:
            row.problems.append(
                f"{len(conflicting)} application(s) with two different decision events (event_id), "
                f"e.g. {conflicting[:3]}"
            )
        row.applicants = len(batch.ids) + len(batch.lines)
        row.lost = len(acc.pending_ids) + len(acc.pending_lines())
        row.duplicated = report.total("in HBase and dead-lettered") + report.total(
            "dead-lettered twice (different payloads)"
        )
        row.repeated_events = report.counts.get("  repeated events (at-least-once redeliveries)", 0)
        row.repeated_dead_letters = report.counts.get("  repeated dead letters (same source record)", 0)
        expected = {
            "missing (neither in HBase nor dead-lettered)",
            "reject dirt not dead-lettered",
            "in HBase and dead-lettered",
            "dead-lettered twice (different payloads)",
        }
        for kind, items in report.discrepancies.items():
            if items and kind not in expected:
                row.problems.append(f"{kind}: {len(items)} (e.g. {items[0]})")
        if row.lost:
            pending = sorted(acc.pending_ids)[:3] + [ln.sha256[:12] for ln in acc.pending_lines()[:3]]
            row.notes.append(f"not accounted after {acc.settle_s:.0f}s: {pending}")


def supervisors() -> int:
    """How many of this stack's supervisors run (supervisor, supervisor2)."""
    return sum(procs.service_pid(name) is not None for name in ("supervisor", "supervisor2"))


def model_versions(settings: Settings, ids: list[str]) -> dict[str, str | None]:
    """Return id -> model_version of the MODEL-decided rows among ids."""
    conn = reconcile.hbase_connection(settings)
    try:
        table = conn.table(ev.TABLE)
        out: dict[str, str | None] = {}
        for start in range(0, len(ids), 1000):
            keys = [i.encode() for i in ids[start : start + 1000]]
            for key, stored in table.rows(keys, columns=ev.stored_columns([ev.COL_DECIDED_BY, ev.COL_MODEL_VERSION])):
                cols = ev.cells(stored)  # any row schema
                if cols.get(ev.COL_DECIDED_BY) == b"MODEL":
                    version = cols.get(ev.COL_MODEL_VERSION)
                    out[key.decode()] = version.decode() if version else None
        return out
    finally:
        conn.close()
