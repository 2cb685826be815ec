"""`make bench`: the pipeline's drain rate, CPU per applicant and latency on the live stack (prints figures).

    .venv/bin/python benchmarks/bench_throughput.py [--backlog 100000] [--naive-backlog N] [--rates 250,500,1000,2000]
                                                    [--seconds 60] [--warm-up-seconds 30] [--json var/bench/...json]

Steps (each on the running stack, `make up` first):
1. in-process limit: the project's own functions (parse JSON -> clean -> pre-screen -> batched scoring -> HBase
   row and decision event) on one core, no Storm, no services;
2. the producer from the Applicant Data API: every applicant in MySQL through `jobs.produce --api` into a topic
   no topology reads (bench-producer), applicants/s from the first to the last confirmed page, in passes over
   the whole table until 20,000 are published (a fresh clone's table is small; an empty one, after a first
   `make up`, first gets 10,000 generated applicants through jobs.generate and jobs.load);
3. latency at fixed rates: the batched design is submitted, a warm-up runs at 1,000/s for --warm-up-seconds
   (its row is shown apart), and then the producer publishes at each rate R applicants/s for --seconds; latency
   is Kafka timestamp -> HBase write of each applicant. A rate is "not sustained" when the producer could not
   keep it or the pipeline fell behind (the last write came more than 5 s after the last publication). These
   minutes also warm the stack up: a JVM started by `make up` spends its first minutes under load compiling
   (HBase, Thrift, Kafka, the Storm worker);
4. drain, batched design, on the topology of step 3: it is deactivated through Nimbus, a backlog of generated
   applicants is published, and it is activated again; every write is metered. Then the naive design
   (`-o loanrisk.design=naive`: one applicant per tuple, one Risk API call per applicant, one HBase put per row):
   its backlog is published while no topology runs, then it is submitted, and metered once every executor has
   run 8 s (it drains meanwhile: CPU is divided by the applicants written while metered). The drain rate is
   counted from the first to the last HBase write (decision events' saved_at_ms, dead letters'
   dead_lettered_at_ms). CPU seconds of this project's processes (selected by the project root in their
   command line or working directory) are read from /proc before and after, per component; the box's busy CPU
   from /proc/stat, less the bench's own process (its reader of the output topics, shown on a row of its
   own). The naive backlog defaults to a twentieth of the batched one (the naive design drains ~75-300/s), to
   keep the default run near ten minutes. The batched design is submitted again at the end, as `make up` leaves it;
5. accounting, as `make reconcile` does it for these applicants: every line published is exactly once in
   HBase or in the dead-letter topic, counted from HBase rows and the dead-letter topic.
The figures go to stdout as one table and to var/bench/bench-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src"), str(ROOT / "benchmarks")]

import orjson  # noqa: E402

from jobs import demo, generate, kafka_topics, produce, reconcile  # noqa: E402
from jobs.settings import Settings  # noqa: E402
from loanrisk import events as ev  # noqa: E402

TOPOLOGY = "loan-risk"
NIMBUS_HOST, NIMBUS_PORT = "localhost", 6627  # as jobs.demo reaches Nimbus
DEACTIVATE_SETTLE_S = 5.0  # the worker learns of a deactivation from ZooKeeper; give it time before publishing
BEHIND_S = 5.0
DRAIN_TIMEOUT_S = 900.0
DIRT_RATE = 0.002
PRODUCER_TOPIC = "bench-producer"  # the producer figure's topic: no topology reads it
PRODUCER_MIN_APPLICANTS = 20_000  # passes over the API's table until this many are published...
PRODUCER_MAX_PASSES = 10  # ...or this many passes
PRODUCER_SEED_APPLICANTS = 10_000  # generated and loaded into MySQL first when the API's table is empty
WARM_UP_RATE = 1000  # applicants/s before the measured rates (--warm-up-seconds, 0 = none)


# ---------------------------------------------------------------- CPU from /proc


def component_of(cmdline: str) -> str | None:
    """Name the pipeline component a process of this project is, from its command line."""
    rules = (
        ("streamparse_run", None),
        ("org.apache.storm.daemon.worker", "storm worker JVM"),
        ("kafka.Kafka", "kafka"),
        ("HMaster", "hbase"),
        ("ThriftServer", "hbase thrift"),
        ("risk_api", "risk api"),
        ("applicant_api", "applicant api"),
        ("daemon.nimbus", "storm nimbus"),
        ("daemon.supervisor", "storm supervisor"),
        ("storm_ui", "storm ui"),
        ("zookeeper", "zookeeper"),
        ("mariadb", "mariadb"),
        ("mysqld", "mariadb"),
        ("jobs.produce", "producer"),
        ("monitoring.exporter", "monitoring exporter"),
        ("monitoring.dashboard", "monitoring dashboard"),
        ("prometheus", "prometheus"),
    )
    for marker, name in rules:
        if marker in cmdline:
            if name is None:  # a Python bolt: name it after its class
                cls = next((w for w in cmdline.split() if w.startswith("bolts.")), "bolts.python")
                return "bolt " + cls.rsplit(".", 1)[-1]
            return name
    return "other"


def project_processes(root: Path = ROOT) -> dict[int, str]:
    """Return pid -> component of this project's processes (root in the command line or working directory)."""
    found: dict[int, str] = {}
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                cwd = ""
        except OSError:
            continue
        if str(root) in cmdline or cwd == str(root) or cwd.startswith(f"{root}/"):
            found[int(entry.name)] = component_of(cmdline) or "other"
    return found


def cpu_seconds(pids: dict[int, str]) -> dict[int, float]:
    """Return pid -> user+system CPU seconds so far (children that were waited for included)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
    return out


def box_cpu_seconds() -> float:
    """Return the whole machine's busy CPU seconds so far (every process, other stacks included)."""
    parts = cpu_ticks()
    idle = parts[3] + parts[4]
    return (sum(parts[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_ticks() -> list[int]:
    """Return /proc/stat's machine-wide CPU ticks: user nice system idle iowait irq softirq steal ..."""
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def stolen_pct(before: list[int], after: list[int]) -> float:
    """Return the share of the box's CPU time the hypervisor gave to other machines (steal) between two reads."""
    delta = [b - a for a, b in zip(before[:8], after[:8], strict=True)]
    return 100.0 * delta[7] / max(1, sum(delta))


@dataclass
class CpuMeter:
    """CPU seconds of this project's processes between start() and stop(), per component.

    The whole box's busy CPU leaves out this process's own (``bench_s``): during a drain that is the bench
    reading every decision event and dead letter to time them, an instrument and not the pipeline.
    """

    pids: dict[int, str] = field(default_factory=dict)
    before: dict[int, float] = field(default_factory=dict)
    box_before: float = 0.0
    ticks_before: list[int] = field(default_factory=list)
    stolen_pct: float = 0.0
    self_before: float = 0.0
    bench_s: float = 0.0

    def start(self) -> None:
        self.pids = project_processes()
        self.before, self.box_before, self.ticks_before = cpu_seconds(self.pids), box_cpu_seconds(), cpu_ticks()
        self.self_before = own_cpu_seconds()

    def stop(self) -> tuple[dict[str, float], float]:
        """Return (component -> CPU seconds, whole-box busy CPU seconds but the bench's own) since start().

        Sets stolen_pct and bench_s (this process's CPU seconds since start()).
        """
        after, box = cpu_seconds(self.pids), box_cpu_seconds()
        self.bench_s = own_cpu_seconds() - self.self_before
        self.stolen_pct = stolen_pct(self.ticks_before, cpu_ticks())
        used: defaultdict[str, float] = defaultdict(float)
        for pid, seconds in after.items():
            used[self.pids[pid]] += max(0.0, seconds - self.before.get(pid, seconds))
        return dict(used), box - self.box_before - self.bench_s


def own_cpu_seconds() -> float:
    """Return this process's CPU seconds so far (all its threads: the Kafka consumer's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- Kafka: what the pipeline wrote


class Outputs:
    """Reads the decision and dead-letter topics from the offsets they had when it was created."""

    def __init__(self, bootstrap: str) -> None:
        from kafka import KafkaConsumer, TopicPartition

        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            max_partition_fetch_bytes=8 << 20,
            fetch_max_bytes=64 << 20,
        )
        parts = [
            TopicPartition(topic, p)
            for topic in (ev_topic("decisions"), ev_topic("dlq"))
            for p in sorted(self.consumer.partitions_for_topic(topic) or [])
        ]
        self.consumer.assign(parts)
        self.consumer.seek_to_end(*parts)
        for p in parts:
            self.consumer.position(p)
        self.events: dict[str, tuple[int, int]] = {}  # id -> (kafka_ts_ms, saved_at_ms) of its first event
        self.event_count = 0
        self.letters: dict[str, tuple[int, str | None]] = {}  # raw sha -> (dead_lettered_at_ms, id)
        self.letter_count = 0
        self.letter_reasons: Counter[str] = Counter()

    def poll(self, budget_s: float = 1.0) -> None:
        """Read what arrived, for at most about budget_s."""
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            batch = self.consumer.poll(timeout_ms=200, max_records=50_000)
            if not batch:
                return
            for tp, records in batch.items():
                for record in records:
                    self.take(tp.topic, record.value)

    def take(self, topic: str, value: bytes) -> None:
        data = orjson.loads(value)
        if topic == ev_topic("decisions"):
            self.event_count += 1
            self.events.setdefault(str(data["application_id"]), (int(data["kafka_ts_ms"]), int(data["saved_at_ms"])))
        else:
            self.letter_count += 1
            self.letter_reasons[data["reason"]] += 1
            self.letters.setdefault(
                str(data["raw_sha256"]), (int(data["dead_lettered_at_ms"]), data.get("application_id"))
            )


def ev_topic(which: str) -> str:
    return {"decisions": "loan-decisions", "dlq": "loan-applications-dlq"}[which]


# ---------------------------------------------------------------- data, producer, topology


@dataclass
class Batch:
    """A generated file of applicants: per line its id and sha256 (and whether it is dirt that must be rejected)."""

    path: Path
    lines: list[demo.FileLine]

    def accounted(self, out: Outputs) -> int:
        saved, letters = set(out.events), set(out.letters)
        return sum(1 for ln in self.lines if demo.line_accounted(ln, letters, saved))

    def write_times(self, out: Outputs) -> list[tuple[int, int]]:
        """Return (kafka_ts_ms, written_at_ms) of each accounted line (HBase write or dead letter)."""
        times = []
        for ln in self.lines:
            if ln.sha256 in out.letters:
                times.append((0, out.letters[ln.sha256][0]))
            elif ln.id in out.events and ln.expect != "reject":
                times.append(out.events[ln.id])
        return times


def make_batch(run_dir: Path, label: str, n: int, seed: int, dirt: float) -> Batch:
    path = run_dir / f"{label}.jsonl"
    generate.write(n, "jsonl", path, seed, dirt)
    manifest = Path(f"{path}.dirt.jsonl")
    entries = reconcile.load_manifests([manifest])[0] if dirt and manifest.exists() else []
    return Batch(path, demo.file_lines(path, entries))


def publish(path: Path, rate: float | None) -> tuple[int, float]:
    """Publish a file with the project's producer (its own process); return (records, seconds)."""
    cmd = [sys.executable, "-m", "jobs.produce", "--file", str(path)] + (["--rate", str(rate)] if rate else [])
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"producer failed: {proc.stderr[-2000:]}")
    lines = sum(1 for _ in produce.iter_lines(path))
    return lines, time.monotonic() - start


def producer_from_api(settings: Settings, run_dir: Path) -> dict[str, Any]:
    """Publish every applicant the Applicant Data API serves to PRODUCER_TOPIC, as `jobs.produce --api` does.

    A topic no topology reads, so the figure is the producer's alone (API paging, auth, Kafka acks=all), and a
    fresh cursor file per pass, so each pass reads the whole table. A small table (a fresh clone's MySQL holds a
    few thousand applicants) takes a fraction of a second per pass, so passes repeat until PRODUCER_MIN_APPLICANTS
    are published (at most PRODUCER_MAX_PASSES): the figure is their total over their total time.
    """
    print("\n==> producer from the Applicant Data API", file=sys.stderr, flush=True)
    statuses = kafka_topics.ensure_topics(settings.kafka_bootstrap, [kafka_topics.TopicSpec(PRODUCER_TOPIC, 4)])
    if not all(st.ok for st in statuses):
        return {"error": "; ".join(f"{st.name}: {st.action} {st.detail}" for st in statuses)}
    passes: list[dict[str, Any]] = []
    seeded = 0
    while len(passes) < PRODUCER_MAX_PASSES and sum(p["applicants"] for p in passes) < PRODUCER_MIN_APPLICANTS:
        one = producer_pass(run_dir / f"producer-cursor-{len(passes) + 1}.json")
        if "error" in one:
            return one
        if not one["applicants"] and not passes and not seeded:  # a fresh `make up`: nothing loaded yet
            error = seed_applicant_table(run_dir, PRODUCER_SEED_APPLICANTS)
            if error:
                return {"error": error}
            seeded = PRODUCER_SEED_APPLICANTS
            continue
        if not one["applicants"]:
            break
        passes.append(one)
    return {**producer_totals(passes), "seeded": seeded}


def seed_applicant_table(run_dir: Path, count: int) -> str | None:
    """Generate `count` applicants and load them into MySQL, as `make demo` does; return an error or None."""
    print(f"    the Applicant Data API serves none: loading {count:,} generated applicants", file=sys.stderr)
    try:
        demo.prepare_data(run_dir, count, seed=8, dirty_share=0.0, samples=False)
    except subprocess.CalledProcessError as exc:
        return f"{exc.cmd[2]} failed (exit {exc.returncode}; its output is above)"
    return None


def producer_pass(cursor_file: Path) -> dict[str, Any]:
    """Run `jobs.produce --api --until-caught-up` once from a fresh cursor; return its count, times and CPU."""
    cmd = [sys.executable, "-m", "jobs.produce", "--api", "--until-caught-up", "--topic", PRODUCER_TOPIC]
    cmd += ["--cursor-file", str(cursor_file)]
    meter, children = CpuMeter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    meter.start()
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    services, _ = meter.stop()
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1][:300] if proc.stderr.strip() else "producer failed"}
    progress = re.findall(r"\[produce api\] (\d+) records in ([\d.]+)s", proc.stderr)  # from the first page on
    return {
        "applicants": produce.CursorStore(cursor_file).load().published,
        "seconds": float(progress[-1][1]) if progress else seconds,
        "with_start_s": seconds,
        "producer_cpu_s": (done.ru_utime + done.ru_stime) - (children.ru_utime + children.ru_stime),
        "api_cpu_s": services.get("applicant api", 0.0),
        "kafka_cpu_s": services.get("kafka", 0.0),
    }


def producer_totals(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the passes: applicants/s over the publishing time, and CPU per applicant (with each pass's start-up)."""
    published = sum(p["applicants"] for p in passes)
    seconds = sum(p["seconds"] for p in passes)

    def per_applicant_ms(key: str) -> float | None:
        return 1000 * sum(p[key] for p in passes) / published if published else None

    return {
        "applicants": published,
        "passes": len(passes),
        "seconds": seconds,
        "with_start_s": sum(p["with_start_s"] for p in passes),
        "per_s": published / seconds if seconds else None,
        # CPU per applicant, so a shared box's figure can be read as what one free core would do
        "producer_cpu_ms": per_applicant_ms("producer_cpu_s"),
        "api_cpu_ms": per_applicant_ms("api_cpu_s"),
        "kafka_cpu_ms": per_applicant_ms("kafka_cpu_s"),
    }


def sparse(*args: str, log: Path) -> None:
    env = {**os.environ, "LEIN_ROOT": "1", "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"}
    with open(log, "a") as out:
        proc = subprocess.run(["sparse", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=900)
    if proc.returncode != 0 and args[0] != "kill":
        raise SystemExit(f"sparse {' '.join(args)} failed (exit {proc.returncode}); see {log}")


def kill_topology(settings: Settings, log: Path) -> None:
    if demo.storm_topology_id(settings) is None:
        return
    sparse("kill", "-e", "local", "-n", TOPOLOGY, "--wait", "1", log=log)
    deadline = time.monotonic() + 120
    while demo.storm_topology_id(settings) is not None and time.monotonic() < deadline:
        time.sleep(2)


def submit(settings: Settings, design: str, log: Path, options: tuple[str, ...] = ()) -> None:
    """Submit the topology with the given design (and sparse -o options) and wait until every executor runs."""
    kill_topology(settings, log)
    extra = [arg for option in options for arg in ("-o", option)]
    sparse(
        "submit",
        "-e",
        "local",
        "-n",
        TOPOLOGY,
        "--force",
        "--wait",
        "5",
        "-o",
        f"loanrisk.design={design}",
        *extra,
        log=log,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        found = demo.storm_topology_id(settings)
        if found and found[1] == "ACTIVE" and demo.executors_running(found[0], min_uptime_s=8):
            return
        time.sleep(2)
    raise SystemExit(f"topology did not start; see {log} and var/log/storm/workers-artifacts/")


def set_active(active: bool) -> None:
    """Activate or deactivate the running topology through Nimbus: its spout resumes or stops pulling."""
    from adapters.nimbus import nimbus

    with nimbus(NIMBUS_HOST, NIMBUS_PORT) as client:
        (client.activate if active else client.deactivate)(TOPOLOGY)


def wait_for(batch: Batch, out: Outputs, timeout_s: float, label: str) -> bool:
    start, last_report = time.monotonic(), 0.0
    while True:
        out.poll()
        done = batch.accounted(out)
        now = time.monotonic()
        if now - last_report > 10:
            print(
                f"    [{label}] {done:,}/{len(batch.lines):,} accounted after {now - start:.0f}s",
                file=sys.stderr,
                flush=True,
            )
            last_report = now
        if done >= len(batch.lines):
            return True
        if now - start > timeout_s:
            return False
        time.sleep(0.5)


# ---------------------------------------------------------------- the phases


def percentile(values: Sequence[float], q: float) -> float | None:
    return demo.percentile(values, q)


def drain(
    settings: Settings,
    run_dir: Path,
    design: str,
    n: int,
    seed: int,
    log: Path,
    options: tuple[str, ...] = (),
    paused: bool = False,
) -> dict[str, Any]:
    """Pre-load a backlog that no spout reads, then let `design` drain it and time the drain.

    paused=False: no topology runs while the backlog is published; `design` is then submitted (a new worker).
    paused=True: the running topology (already `design`) is deactivated through Nimbus while the backlog is
    published, then activated: its worker and bolts stay as they were, and every write is metered.
    """
    print(f"\n==> drain, {design} design: {n:,} applicants", file=sys.stderr, flush=True)
    if paused:
        set_active(False)
        time.sleep(DEACTIVATE_SETTLE_S)
    else:
        kill_topology(settings, log)
    batch = make_batch(run_dir, f"drain-{design}", n, seed, DIRT_RATE)
    out = Outputs(settings.kafka_bootstrap)
    published, seconds = publish(batch.path, None)
    print(
        f"    backlog published: {published:,} records in {seconds:.1f}s ({published / seconds:,.0f}/s)",
        file=sys.stderr,
    )
    meter = CpuMeter()
    if not paused:
        submit(settings, design, log, options)
    meter.start()  # after start-up: the topology's own start is not the drain's work
    metered_from_ms = int(time.time() * 1000)
    if paused:
        set_active(True)
    done = wait_for(batch, out, DRAIN_TIMEOUT_S, design)
    cpu, box = meter.stop()
    storm = storm_components(settings)
    times = [t for _, t in batch.write_times(out)]
    span_s = (max(times) - min(times)) / 1000 if len(times) > 1 else None
    # The executors drain while submit() waits for them to run 8 s: the CPU is divided by the applicants written
    # once the meter ran, not by the whole backlog (which undercounted the naive design's CPU by ~40 %).
    metered = max(1, metered_count(times, metered_from_ms))
    pipeline_cpu = sum(v for k, v in cpu.items() if k not in ("producer", "other"))
    return {
        "design": design,
        "started": "activated after a pause" if paused else "submitted",
        "applicants": len(batch.lines),
        "applicants_metered": metered,
        "complete": done,
        "drain_per_s": len(times) / span_s if span_s else None,
        "span_s": span_s,
        "producer_per_s": published / seconds,
        "cpu_ms_per_applicant": {k: 1000 * v / metered for k, v in sorted(cpu.items())},
        "project_cpu_ms_per_applicant": 1000 * pipeline_cpu / metered,
        "box_cpu_ms_per_applicant": 1000 * box / metered,
        "bench_cpu_ms_per_applicant": 1000 * meter.bench_s / metered,
        "stolen_pct": meter.stolen_pct,
        "storm_ui": storm,
        "batch": batch,
    }


def metered_count(write_times_ms: Sequence[int], from_ms: int) -> int:
    """Return how many applicants were written (HBase or dead letter) at or after from_ms."""
    return sum(1 for t in write_times_ms if t >= from_ms)


def storm_components(settings: Settings) -> list[dict[str, Any]]:
    """Per component from Storm UI (last 10 minutes): capacity, execute latency, the spout's complete latency."""
    from benchmarks.bench_pipeline import storm_figures

    try:
        return storm_figures(settings)
    except Exception as exc:  # noqa: BLE001 Storm UI busy: the figures are a diagnosis, not the measurement
        return [{"error": repr(exc)}]


def latency(settings: Settings, run_dir: Path, rate: int, seconds: int, seed: int) -> dict[str, Any]:
    """Publish at a fixed rate for `seconds` and measure Kafka timestamp -> HBase write."""
    print(f"\n==> latency at {rate:,}/s for {seconds}s", file=sys.stderr, flush=True)
    batch = make_batch(run_dir, f"rate-{rate}", rate * seconds, seed, 0.0)
    out = Outputs(settings.kafka_bootstrap)
    published, _ = publish(batch.path, rate)
    done = wait_for(batch, out, DRAIN_TIMEOUT_S, f"{rate}/s")  # drained before the next rate starts
    pairs = batch.write_times(out)
    lat = [w - k for k, w in pairs if k]
    kafka_times = [k for k, _ in pairs if k]
    write_last = max((w for _, w in pairs), default=0)
    behind_s = (write_last - max(kafka_times, default=0)) / 1000
    span_s = (max(kafka_times) - min(kafka_times)) / 1000 if len(kafka_times) > 1 else 0
    offered = len(kafka_times) / span_s if span_s else None  # from Kafka timestamps: the producer's real pace
    sustained = done and offered is not None and offered >= 0.95 * rate and behind_s <= BEHIND_S
    return {
        "rate": rate,
        "seconds": seconds,
        "published": published,
        "offered_per_s": offered,
        "p50_ms": percentile(lat, 50),
        "p90_ms": percentile(lat, 90),
        "p99_ms": percentile(lat, 99),
        "max_ms": max(lat, default=None),
        "behind_s": behind_s,
        "sustained": sustained,
        "batch": batch,
    }


def in_process_limit(count: int = 20_000, chunk: int = 200) -> dict[str, Any]:
    """Run the pipeline's own functions on one core, without Storm or any service; return applicants/s."""
    from loanrisk.cleaning import Rejection, parse_json_line
    from loanrisk.prescreen import PrescreenPolicy, prescreen
    from risk_api import ROOT as API_ROOT
    from risk_api.service import build_service

    service = build_service(API_ROOT / "models", API_ROOT / "config" / "risk_policy.json", {})
    if isinstance(service, str):
        return {"error": service}
    lines = [line for chunk_lines, _ in generate.generate_lines(count, "jsonl", 7) for line in chunk_lines]
    policy = PrescreenPolicy()
    source = ev.Source("loan-applications", 0, 0)
    start_cpu, start = time.process_time(), time.perf_counter()
    for i in range(0, len(lines), chunk):
        to_score = []
        for line in lines[i : i + chunk]:
            parsed = parse_json_line(line)
            if isinstance(parsed, Rejection):
                continue
            if prescreen(parsed.to_dict(), policy) is None:
                to_score.append(parsed)
        for result in service.evaluate(to_score):
            decision = ev.decision_from_evaluation(result)
            tracked = ev.Tracked(decision.application_id, "{}", source, 0, "")
            ev.row_columns(b"{}", decision, tracked, 0)
            ev.dumps(ev.decision_event(decision, tracked, 0).to_dict())
    cpu = time.process_time() - start_cpu
    return {
        "applicants": count,
        "per_s_one_core": count / cpu,
        "us_per_applicant": 1e6 * cpu / count,
        "wall_s": time.perf_counter() - start,
    }


# ---------------------------------------------------------------- accounting and report


def accounting(settings: Settings, batches: list[Batch]) -> dict[str, Any]:
    """Every line exactly once in HBase (row for its id) or in the dead-letter topic (letter for its sha)."""
    letters, _ = reconcile.read_dead_letters(settings.kafka_bootstrap)
    dlq_shas = Counter(dl.raw_sha256 for dl in letters)
    lines = [ln for b in batches for ln in b.lines]
    ids = sorted({ln.id for ln in lines if ln.id is not None})
    rows, unreadable = fetch_rows_patiently(settings, ids)
    missing = both = rows_n = dead = 0
    for ln in lines:
        in_dlq = dlq_shas.get(ln.sha256, 0) > 0
        in_hbase = ln.expect != "reject" and ln.id in rows and not in_dlq
        if in_dlq and ln.expect is None and ln.id in rows:
            both += 1
        if in_dlq:
            dead += 1
        elif in_hbase:
            rows_n += 1
        else:
            missing += 1
    repeated_letters = sum(n - 1 for sha, n in dlq_shas.items() if n > 1 and any(ln.sha256 == sha for ln in lines))
    return {
        "lines": len(lines),
        "in_hbase": rows_n,
        "dead_lettered": dead,
        "missing": missing,
        "in_both": both,
        "unreadable_rows": len(unreadable),
        "repeated_dead_letters": repeated_letters,
    }


def fetch_rows_patiently(settings: Settings, ids: list[str], attempts: int = 5) -> tuple[dict[str, Any], list[str]]:
    """Read the rows of ids, in small chunks, retrying while a busy HBase times out."""
    for attempt in range(1, attempts + 1):
        try:
            return reconcile.fetch_rows(settings, ids, chunk=200)
        except Exception as exc:  # Thrift IOError / timeout from an overloaded region server: wait and retry
            if attempt == attempts:
                raise
            print(
                f"    [accounting] HBase read failed ({type(exc).__name__}), retrying in {5 * attempt}s",
                file=sys.stderr,
                flush=True,
            )
            time.sleep(5 * attempt)
    raise AssertionError("unreachable")


def fmt(value: Any, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def sustained_note(r: dict[str, Any]) -> str:
    """Say whether a rate was sustained, and if not whether the producer or the pipeline fell short."""
    if r["sustained"]:
        return "yes"
    if r["offered_per_s"] is None or r["offered_per_s"] < 0.95 * r["rate"]:
        return f"NOT sustained: the producer reached {fmt(r['offered_per_s'])}/s"
    return f"NOT sustained: the pipeline fell {r['behind_s']:.1f} s behind"


def table(report: dict[str, Any]) -> str:
    d = {r["design"]: r for r in report["drains"]}
    lines = [
        (
            f"make bench  {report['at']}  host load average {report['load_before']} -> {report['load_after']} "
            f"({os.cpu_count()} cores; other stacks on the box are counted in 'box CPU' only)"
        ),
        "",
    ]
    if report.get("options"):
        lines += [f"batched design with -o {' -o '.join(report['options'])}", ""]
    lines.append(f"{'drain of a pre-loaded backlog':<34}{'naive':>14}{'batched':>14}")
    for key, label, spec in (
        ("applicants", "applicants", ",d"),
        ("applicants_metered", "  written while CPU was metered", ",d"),
        ("drain_per_s", "drain rate (applicants/s)", ",.0f"),
        ("project_cpu_ms_per_applicant", "project CPU ms / applicant", ".3f"),
        ("box_cpu_ms_per_applicant", "box CPU ms / applicant (all)", ".3f"),
        ("bench_cpu_ms_per_applicant", "  not counted: the bench's reader", ".3f"),
        ("stolen_pct", "  CPU stolen by the hypervisor (%)", ".1f"),
        ("producer_per_s", "backlog producer, file (records/s)", ",.0f"),
    ):
        lines.append(
            f"{label:<34}{fmt(d.get('naive', {}).get(key), spec):>14}{fmt(d.get('batched', {}).get(key), spec):>14}"
        )
    ratio = report.get("ratio")
    lines.append(f"{'batched / naive':<34}{'':>14}{fmt(ratio, '.1f') + 'x':>14}")
    lines += ["", f"{'CPU ms per applicant, by component':<34}{'naive':>14}{'batched':>14}"]
    comps = sorted({c for r in report["drains"] for c in r["cpu_ms_per_applicant"]})
    for c in comps:
        lines.append(
            f"  {c:<32}{fmt(d.get('naive', {}).get('cpu_ms_per_applicant', {}).get(c), '.3f'):>14}"
            f"{fmt(d.get('batched', {}).get('cpu_ms_per_applicant', {}).get(c), '.3f'):>14}"
        )
    lines += [
        "",
        (
            f"{'latency, Kafka ts -> HBase write':<34}{'offered/s':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
            f"{'max ms':>9}  sustained"
        ),
    ]
    rows = [("warm-up, ", r) for r in report.get("warm_up", [])] + [("", r) for r in report["latency"]]
    for prefix, r in rows:
        label = f"{prefix}{fmt(r['rate'], ',d')} /s for {r['seconds']} s"
        lines.append(
            f"  {label:<32}"
            f"{fmt(r['offered_per_s']):>10}"
            f"{fmt(r['p50_ms']):>9}{fmt(r['p90_ms']):>9}{fmt(r['p99_ms']):>9}{fmt(r['max_ms']):>9}  "
            f"{sustained_note(r)}"
        )
    for r in report["drains"]:
        parts = [
            f"{c['component']} {c['capacity']:.2f}" for c in r.get("storm_ui", []) if c.get("capacity") is not None
        ]
        spout: dict[str, Any] = next((c for c in r.get("storm_ui", []) if c.get("kind") == "spout"), {})
        lines.append(
            f"Storm UI after the {r['design']} drain: spout complete latency "
            f"{fmt(spout.get('complete_ms'))} ms; bolt capacity {', '.join(parts) or '-'}"
        )
    prod = report.get("producer", {})
    if "error" in prod:
        produced = f"failed: {prod['error']}"
    else:
        took = f"{fmt(prod.get('applicants'), ',d')} in {prod['seconds']:.2f} s"
        took += f" over {prod.get('passes', 1)} pass(es) of the whole table; {prod['with_start_s']:.1f} s with start-up"
        if prod.get("seeded"):
            took += f"; the table was empty: {prod['seeded']:,} generated applicants loaded first"
        produced = f"{fmt(prod.get('per_s'))} applicants/s ({took})"
    lines += ["", f"producer from the Applicant Data API (jobs.produce --api, acks=all): {produced}"]
    if "error" not in prod:
        lines.append(
            f"  CPU ms per applicant: producer {fmt(prod.get('producer_cpu_ms'), '.3f')} (with its start-up), "
            f"applicant api {fmt(prod.get('api_cpu_ms'), '.3f')}, kafka {fmt(prod.get('kafka_cpu_ms'), '.3f')}"
        )
    lim = report["in_process"]
    lines += [
        "",
        (
            f"in-process limit, one core: {fmt(lim.get('per_s_one_core'))} applicants/s "
            f"({fmt(lim.get('us_per_applicant'), '.0f')} us each)"
        ),
    ]
    acc = report["accounting"]
    if "error" in acc:
        return "\n".join([*lines, "", f"accounting could not read HBase: {acc['error']} (run `make reconcile`)"])
    lines += [
        "",
        (
            f"accounting ({acc['lines']:,} published lines): {acc['in_hbase']:,} in HBase, "
            f"{acc['dead_lettered']:,} dead-lettered, missing {acc['missing']}, in both {acc['in_both']}, "
            f"unreadable rows {acc['unreadable_rows']}, repeated dead letters {acc['repeated_dead_letters']}"
        ),
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backlog", type=int, default=100_000)
    p.add_argument("--naive-backlog", type=int, default=None, help="default: a twentieth of --backlog, at least 1000")
    p.add_argument("--rates", default="250,500,1000,2000")
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument(
        "--warm-up-seconds", type=int, default=30, help=f"at {WARM_UP_RATE}/s before the rates, reported apart; 0: none"
    )
    p.add_argument("--json", type=Path, default=None)
    p.add_argument(
        "--option", action="append", default=[], help="sparse -o key=value for the batched design (and the rates)"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings.load()
    run_dir = demo.new_run_dir("bench", settings)
    log = run_dir / "sparse.log"
    seed = int(time.time()) % 1_000_000
    report: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "options": args.option,
    }
    demo.ensure_model(settings)
    print("==> in-process limit on one core", file=sys.stderr, flush=True)
    report["in_process"] = in_process_limit()
    report["producer"] = producer_from_api(settings, run_dir)
    naive_n = args.naive_backlog or max(1000, args.backlog // 20)
    options = tuple(args.option)
    submit(settings, "batched", log, options)  # the rates, then the batched drain, run on this one
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    report["warm_up"] = (
        [latency(settings, run_dir, WARM_UP_RATE, args.warm_up_seconds, seed + 9)] if args.warm_up_seconds else []
    )
    report["latency"] = [latency(settings, run_dir, rate, args.seconds, seed + 10 + i) for i, rate in enumerate(rates)]
    report["drains"] = [
        drain(settings, run_dir, "batched", args.backlog, seed + 2, log, options, paused=True),
        drain(settings, run_dir, "naive", naive_n, seed + 1, log),
    ]
    print("\n==> the batched design again, as `make up` leaves it", file=sys.stderr, flush=True)
    submit(settings, "batched", log, options)
    d = {r["design"]: r for r in report["drains"]}
    if d["naive"].get("drain_per_s") and d["batched"].get("drain_per_s"):
        report["ratio"] = d["batched"]["drain_per_s"] / d["naive"]["drain_per_s"]
    batches = [r.pop("batch") for r in report["drains"] + report["warm_up"] + report["latency"]]
    report["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        report["accounting"] = accounting(settings, batches)
    except Exception as exc:  # noqa: BLE001 the measurements above are kept and printed even when HBase cannot be read
        report["accounting"] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    print(table(report))
    path = args.json or ROOT / "var" / "bench" / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nfigures: {path}")
    acc = report["accounting"]
    return 0 if acc.get("missing") == 0 and acc.get("in_both") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
