"""The main job (`make demo`): the whole pipeline on the real samples plus N generated applicants, then a summary.

Steps: train a model if none is shipped; load the shared LendingClub samples (when ../shared/data exists);
generate N applicants (CSV -> loader -> MySQL) and a dirty JSON-lines file with its dirt manifest; submit the
topology `loan-risk` to the local cluster (replacing a running one); publish everything new in the Applicant
Data API (producer, until caught up) and the dirty file; wait until every applicant is accounted for; print
the summary of this run; run the reconciliation of the whole MySQL table and topics; leave the stack running.

Re-runs: every run writes its files under var/data/runs/<run-id>/ and generates with its own seed, so ids do
not repeat; the summary covers the records this run published, the reconciliation covers everything
(all of MySQL, the whole topics, every manifest under var/data/runs).

    python -m jobs.demo --generated N [--seed S] [--dirty-share 0.02] [--timeout 1800] [--no-submit]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from adapters.nimbus import nimbus
from adapters.settings import ROOT, Settings, default_data_dir
from jobs import outage, produce, reconcile
from jobs.reconcile import RowSummary
from loanrisk import events as ev

TOPOLOGY = "loan-risk"
STORM_ENV = "local"
MODEL_FILE = ROOT / "models" / "risk_model.skops"
DIRT_RATE = 0.3  # share of the dirty file's records that carry dirt
POLL_S = 3.0
KEY_SCAN_ABOVE = 20_000  # more pending ids than this: one key-only scan beats thousands of row gets


# ---------------------------------------------------------------- pure parts


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the q-th percentile (0..100) by the nearest-rank method, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


@dataclass
class RunFigures:
    """What the summary prints about the records of one run."""

    decided: int = 0
    by_decision: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    decided_by: Counter[str] = field(default_factory=Counter)
    latency_ms: list[int] = field(default_factory=list)
    first_kafka_ms: int | None = None
    last_saved_ms: int | None = None

    @property
    def throughput(self) -> float | None:
        """Decided applicants per second, from the first Kafka timestamp to the last HBase write."""
        if not self.decided or self.first_kafka_ms is None or self.last_saved_ms is None:
            return None
        return self.decided / max((self.last_saved_ms - self.first_kafka_ms) / 1000.0, 1e-3)


def figures(rows: Iterable[RowSummary]) -> RunFigures:
    """Aggregate decisions, reasons and latencies (Kafka timestamp -> HBase write) of saved rows."""
    out = RunFigures()
    for r in rows:
        out.decided += 1
        out.by_decision[r.decision] += 1
        out.decided_by[r.decided_by] += 1
        out.reasons[r.decision].update(r.reasons)
        out.latency_ms.append(r.saved_at_ms - r.kafka_ts_ms)
        out.first_kafka_ms = r.kafka_ts_ms if out.first_kafka_ms is None else min(out.first_kafka_ms, r.kafka_ts_ms)
        out.last_saved_ms = r.saved_at_ms if out.last_saved_ms is None else max(out.last_saved_ms, r.saved_at_ms)
    return out


def _ms(value: float | None) -> str:
    """Format milliseconds for the summary."""
    return "n/a" if value is None else f"{value:,.0f} ms"


def format_summary(published: int, fig: RunFigures, dlq_reasons: Counter[str], urls: Mapping[str, str]) -> str:
    lines = [
        "",
        "=" * 72,
        "loan-risk demo: summary of this run",
        "=" * 72,
        f"applicants in (published to Kafka)   {published:>8,}",
        (
            f"decided and saved in HBase           {fig.decided:>8,}   "
            f"(pre-screen {fig.decided_by.get('PRESCREEN', 0):,}, model {fig.decided_by.get('MODEL', 0):,})"
        ),
    ]
    for decision in ev.DECISIONS:
        top = ", ".join(f"{code} {n:,}" for code, n in fig.reasons[decision].most_common(3)) or "-"
        lines.append(f"  {decision:<8} {fig.by_decision.get(decision, 0):>8,}   top reasons: {top}")
    lines.append(f"dead-lettered                        {sum(dlq_reasons.values()):>8,}")
    lines.extend(f"  {reason:<30} {n:>8,}" for reason, n in dlq_reasons.most_common())
    tput = fig.throughput
    lines += [
        (
            f"end-to-end throughput                {'n/a' if tput is None else f'{tput:,.0f} applicants/s':>8}"
            "   (first Kafka timestamp -> last HBase write)"
        ),
        (
            f"latency Kafka timestamp -> HBase     p50 {_ms(percentile(fig.latency_ms, 50))}, "
            f"p99 {_ms(percentile(fig.latency_ms, 99))}, max {_ms(max(fig.latency_ms, default=None))}"
        ),
        (
            "  (the producer publishes in a burst, faster than the topology decides: latency includes the time"
            " queued in Kafka;\n   `benchmarks/bench_pipeline.py --rate R` measures it below capacity)"
        ),
    ]
    lines += [f"{name:<36} {url}" for name, url in urls.items()]
    return "\n".join(lines)


@dataclass(frozen=True)
class FileLine:
    """One line of the dirty file as the accounting sees it."""

    sha256: str
    id: str | None
    expect: str | None  # "reject" / "accept" from the manifest, None for a clean line


def file_lines(path: Path, manifest: Iterable[reconcile.ManifestEntry]) -> list[FileLine]:
    """Describe every line of a published JSON-lines file, with its manifest expectation if it is dirt."""
    expects = {e.sha256: e.expect for e in manifest}
    out = []
    for line in produce.iter_lines(path):
        digest = hashlib.sha256(line).hexdigest()
        key = produce.line_key(line)
        out.append(FileLine(digest, None if key is None else key.decode(), expects.get(digest)))
    return out


def line_accounted(line: FileLine, dlq_shas: set[str], saved: set[str]) -> bool:
    """A line is accounted once dead-lettered, or (unless it must be rejected) once its id has a row."""
    if line.sha256 in dlq_shas:
        return True
    return line.expect != "reject" and line.id is not None and line.id in saved


# ---------------------------------------------------------------- steps


def step(text: str) -> None:
    """Print a step header on stderr."""
    print(f"\n==> {text}", file=sys.stderr, flush=True)


def run_cmd(*args: str, env: Mapping[str, str] | None = None, timeout: float | None = None) -> None:
    """Run a command from the project root, output passed through; raise on a non-zero exit."""
    full_env = {**os.environ, "LEIN_ROOT": "1", **(env or {})}
    full_env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{full_env.get('PATH', '')}"
    print("    $ " + " ".join(args), file=sys.stderr, flush=True)
    subprocess.run(args, cwd=ROOT, env=full_env, check=True, timeout=timeout, stdout=sys.stderr)


def python(*args: str, timeout: float | None = None) -> None:
    """Run `python -m ...` with the project's interpreter."""
    run_cmd(sys.executable, *args, timeout=timeout)


def ensure_model(_settings: Settings | None = None) -> None:
    """Train the model when none is in models/ and restart the Risk API so it loads it.

    The settings are not needed (the model's place is fixed); benchmarks/bench_throughput.py still passes them.
    """
    if MODEL_FILE.exists():
        print(f"    model present: {MODEL_FILE.relative_to(ROOT)}", file=sys.stderr)
        return
    if default_data_dir() is None:
        raise SystemExit("no model in models/ and no LendingClub data to train one (set LOANRISK_DATA_DIR)")
    python("-m", "jobs.train")
    run_cmd("stack/stack.sh", "down", "risk_api")
    run_cmd("stack/stack.sh", "up", "risk_api")


def generate_dirty(path: Path, count: int, seed: int) -> None:
    """Write ``count`` generated applicants with injected dirt to ``path`` (JSON lines) and its manifest beside it."""
    args = ["--count", str(count), "--format", "jsonl", "--out", str(path), "--seed", str(seed)]
    python("-m", "jobs.generate", *args, "--dirt-rate", str(DIRT_RATE))


def prepare_data(
    run_dir: Path, n: int, seed: int, dirty_share: float, samples: bool = True
) -> tuple[Path | None, Path | None]:
    """Load the samples (if asked and present) and N generated applicants; write the dirty file and its manifest."""
    if samples and default_data_dir() is not None:
        python("-m", "jobs.load", "--samples")
    elif samples:
        print("    no shared data: generated applicants and the shipped model only", file=sys.stderr)
    if n > 0:
        csv_path = run_dir / "applicants.csv"
        python("-m", "jobs.generate", "--count", str(n), "--format", "csv", "--out", str(csv_path), "--seed", str(seed))
        python("-m", "jobs.load", str(csv_path))
    dirty_n = round(n * dirty_share)
    if dirty_n <= 0:
        return None, None
    dirty = run_dir / "dirty.jsonl"
    generate_dirty(dirty, dirty_n, seed + 1)
    manifest = Path(f"{dirty}.dirt.jsonl")
    return dirty, manifest if manifest.exists() else None


def storm_topology_id(settings: Settings, name: str = TOPOLOGY) -> tuple[str, str] | None:
    """Return (id, status) of the named topology from Storm UI's REST API, or None."""
    import requests

    resp = requests.get(
        f"{settings.storm_ui_url}/api/v1/topology/summary", headers=settings.auth_headers("reader"), timeout=5
    )
    resp.raise_for_status()
    for topo in resp.json().get("topologies", []):
        if topo.get("name") == name:
            return str(topo["id"]), str(topo.get("status"))
    return None


def submit_topology(settings: Settings, log_dir: Path, attempts: int = 3, extra: Iterable[str] = ()) -> str:
    """Submit `loan-risk` and wait until it runs; submit again when its workers die at start-up.

    Another `sparse run|submit` in the same tree at the same time can clobber streamparse's _resources
    while the jar is built (bolts then fail with "No module named 'bolts'"): a resubmission fixes that.
    """
    for attempt in range(1, attempts + 1):
        topology_id = submit_once(settings, log_dir, extra=tuple(extra))
        errors = component_errors(settings, topology_id) if topology_id else {"workers": "never settled"}
        if topology_id and not errors:
            return topology_id
        print(f"    attempt {attempt}: components report errors: {errors}", file=sys.stderr)
    raise SystemExit(f"topology {TOPOLOGY} keeps failing at start-up; see var/log/storm/workers-artifacts/")


def component_errors(settings: Settings, topology_id: str) -> dict[str, str]:
    """Return component -> last error reported to Storm UI (empty when every component is fine)."""
    import requests

    info = requests.get(
        f"{settings.storm_ui_url}/api/v1/topology/{topology_id}", headers=settings.auth_headers("reader"), timeout=10
    ).json()
    parts = [(c.get("spoutId"), c) for c in info.get("spouts", [])]
    parts += [(c.get("boltId"), c) for c in info.get("bolts", [])]
    return {name: str(c.get("lastError"))[:200] for name, c in parts if c.get("lastError")}


def submit_once(
    settings: Settings, log_dir: Path, timeout_s: float = 600.0, settle_s: int = 8, extra: tuple[str, ...] = ()
) -> str | None:
    """Run `sparse submit --force`; return the topology id once every executor has run settle_s seconds, else None.

    extra: more sparse arguments, e.g. ("-o", "loanrisk.risk_api.url=...", "-w", "2") for the drills.
    """
    log = log_dir / "sparse-submit.log"
    print(
        f"    $ sparse submit -e {STORM_ENV} -n {TOPOLOGY} --force --wait 5 {' '.join(extra)}  (output: {log})",
        file=sys.stderr,
    )
    env = {**os.environ, "LEIN_ROOT": "1", "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"}
    with open(log, "a") as out:
        proc = subprocess.run(
            ["sparse", "submit", "-e", STORM_ENV, "-n", TOPOLOGY, "--force", "--wait", "5", *extra],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout_s,
        )
    if proc.returncode != 0:
        print(log.read_text()[-3000:], file=sys.stderr)
        raise SystemExit(f"sparse submit failed (exit {proc.returncode}); full output in {log}")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            found = storm_topology_id(settings)
            if found and found[1] == "ACTIVE" and executors_running(found[0], min_uptime_s=settle_s):
                print(f"    topology {found[0]} ACTIVE, every executor running for {settle_s}s", file=sys.stderr)
                return found[0]
        except reconcile.service_errors() as exc:  # Storm UI or Nimbus restarting
            print(f"    Storm not answering yet: {type(exc).__name__}", file=sys.stderr)
        time.sleep(2)
    return None


def executors_running(
    topology_id: str, min_uptime_s: int = 1, nimbus_host: str = "localhost", nimbus_port: int = 6627
) -> bool:
    """True when Nimbus has heartbeats of every executor of the topology (its worker is up, not just scheduled).

    Publishing before that would measure the worker's start-up as pipeline latency.
    """
    with nimbus(nimbus_host, nimbus_port) as client:
        info = client.getTopologyInfo(topology_id)
    executors = info.executors or []
    return bool(executors) and all((e.uptime_secs or 0) >= min_uptime_s for e in executors)


@dataclass
class Accounting:
    """Where the demo stands while waiting: ids still without a row or dead letter, lines not accounted."""

    pending_ids: set[str]
    lines: list[FileLine]
    saved: set[str] = field(default_factory=set)
    dlq_shas: set[str] = field(default_factory=set)
    dlq_ids: set[str] = field(default_factory=set)

    def pending_lines(self) -> list[FileLine]:
        """Return the file lines not accounted for yet."""
        return [ln for ln in self.lines if not line_accounted(ln, self.dlq_shas, self.saved)]


def refresh(settings: Settings, acc: Accounting) -> None:
    """Read the dead-letter topic and look up the pending ids (and file ids) in HBase."""
    letters, _ = reconcile.read_dead_letters(settings.kafka_bootstrap)
    acc.dlq_shas = {dl.raw_sha256 for dl in letters}
    acc.dlq_ids = {
        str(dl.application_id) for dl in letters if dl.application_id is not None and dl.reason != ev.DUPLICATE_ID
    }
    wanted = (acc.pending_ids | {ln.id for ln in acc.pending_lines() if ln.id is not None}) - acc.saved
    if len(wanted) > KEY_SCAN_ABOVE:
        acc.saved |= wanted & reconcile.scan_keys(settings)
    else:
        acc.saved |= reconcile.fetch_rows(settings, sorted(wanted))[0].keys()
    acc.pending_ids -= acc.saved | acc.dlq_ids


def wait_accounted(settings: Settings, acc: Accounting, timeout_s: float) -> bool:
    """Poll until every id and line is accounted for or the timeout passes; print progress."""
    start = time.monotonic()
    total = len(acc.pending_ids) + len(acc.lines)
    while True:
        try:
            refresh(settings, acc)
        except reconcile.service_errors() as exc:  # a service restarting: say so and keep waiting
            print(f"    [wait] cannot read a service yet: {type(exc).__name__}: {str(exc)[:160]}", file=sys.stderr)
        left = len(acc.pending_ids) + len(acc.pending_lines())
        elapsed = time.monotonic() - start
        print(
            f"    [wait] {total - left:,}/{total:,} accounted ({left:,} pending) after {elapsed:.0f}s",
            file=sys.stderr,
            flush=True,
        )
        if left == 0:
            return True
        if elapsed > timeout_s:
            return False
        time.sleep(POLL_S)


def run_summary(settings: Settings, published: int, run_ids: set[str], run_shas: set[str]) -> str:
    """Read this run's rows and dead letters back and format the summary."""
    rows, _ = reconcile.fetch_rows(settings, sorted(run_ids))
    letters, _ = reconcile.read_dead_letters(settings.kafka_bootstrap)
    mine = {
        (dl.source.topic, dl.source.partition, dl.source.offset): dl
        for dl in letters
        if dl.raw_sha256 in run_shas or (dl.application_id in run_ids and dl.application_id not in rows)
    }
    urls = {
        "Storm UI": settings.storm_ui_url,
        "Applicant Data API": f"{settings.applicant_api_url}/applicants",
        "Risk API": f"{settings.risk_api_url}/v1/model",
        "Decisions dashboard": "http://127.0.0.1:5080/",
        "Prometheus": "http://127.0.0.1:9390/targets",
    }
    return format_summary(published, figures(rows.values()), Counter(dl.reason for dl in mine.values()), urls)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m jobs.demo", description=__doc__.splitlines()[0])
    p.add_argument("--generated", type=int, default=3000, help="how many applicants to generate (default 3000)")
    p.add_argument("--seed", type=int, default=None, help="generator seed (default: from the clock, so re-runs differ)")
    p.add_argument("--dirty-share", type=float, default=0.02, help="size of the dirty JSON-lines file, as a share of N")
    p.add_argument("--timeout", type=float, default=1800, help="seconds to wait for every applicant to be accounted")
    p.add_argument("--no-submit", action="store_true", help="keep the running topology instead of re-submitting")
    p.add_argument("--rate", type=float, default=None, help="producer rate limit (records/s)")
    return p.parse_args(argv)


@dataclass
class PipelineRun:
    """What one run pushed through the pipeline and whether it was all accounted for in time."""

    run_dir: Path
    published: int
    api_ids: list[str]
    lines: list[FileLine]
    manifest: Path | None
    accounted: bool
    pending_ids: set[str]
    seconds: float

    @property
    def run_ids(self) -> set[str]:
        """Ids this run published (API records and file lines with an id)."""
        return set(self.api_ids) | {ln.id for ln in self.lines if ln.id is not None}


def new_run_dir(label: str, settings: Settings | None = None) -> Path:
    """Create var/data/runs/<UTC time>-<label>/ for one run's files, with run.json naming the Kafka cluster."""
    settings = settings or Settings.load()
    run_dir = reconcile.RUNS_DIR / f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{label}"
    run_dir.mkdir(parents=True, exist_ok=True)
    cluster_id = outage.until_up(
        lambda: produce.kafka_cluster_id(settings), "asking Kafka its cluster id", label="demo"
    )
    info = {"label": label, "kafka_cluster_id": cluster_id, "created_at": datetime.now(UTC).isoformat()}
    (run_dir / reconcile.RUN_INFO).write_text(json.dumps(info))
    return run_dir


def csv_ids(path: Path) -> list[str]:
    """Return the ids of a generated CSV file, in file order."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["id"].strip() for row in csv.DictReader(fh) if (row.get("id") or "").strip()]


def run_pipeline(
    settings: Settings,
    run_dir: Path,
    n: int,
    seed: int,
    dirty_share: float,
    *,
    samples: bool = True,
    submit: bool = True,
    rate: float | None = None,
    timeout_s: float = 1800,
    whole_table: bool = True,
) -> PipelineRun:
    """Prepare data, submit the topology, publish everything new and wait until it is all accounted for.

    whole_table: wait for every id in MySQL; otherwise only for the ids this run generated.
    """
    t0 = time.monotonic()
    sources = "LendingClub samples + " if samples and default_data_dir() else ""
    step(f"data: {sources}{n:,} generated applicants (seed {seed}) in {run_dir}")
    dirty, manifest_path = prepare_data(run_dir, n, seed, dirty_share, samples)
    if submit:
        step(f"topology: sparse submit -e {STORM_ENV} -n {TOPOLOGY} --force")
        submit_topology(settings, run_dir)
    step("producer: Applicant Data API until caught up")
    api = outage.until_up(
        lambda: produce.run_api(settings, until_caught_up=True, rate=rate),
        "publishing from the Applicant Data API",
        label="demo",
        errors=publish_errors(),
    )
    entries = reconcile.load_manifests([manifest_path])[0] if manifest_path else []
    lines = file_lines(dirty, entries) if dirty else []
    published = api.published
    if dirty:
        step(f"producer: dirty file {dirty} ({len(lines)} lines, {len(entries)} dirty)")
        progress = produce.PublishResult()  # a retry after an outage resumes after the last confirmed chunk
        sent = outage.until_up(
            lambda: produce.run_file(settings, dirty, rate=rate, result=progress),
            "publishing the dirty file",
            label="demo",
            errors=publish_errors(),
        ).published
        published += sent
        marker = {"lines": len(lines), "published": sent, "at": datetime.now(UTC).isoformat()}
        reconcile.published_marker(Path(f"{dirty}.dirt.jsonl")).write_text(json.dumps(marker))
    step("waiting until every applicant is in HBase or the dead-letter topic")
    wanted = set(reconcile.mysql_ids(settings)) if whole_table or n <= 0 else set(csv_ids(run_dir / "applicants.csv"))
    acc = Accounting(pending_ids=wanted, lines=lines)
    done = wait_accounted(settings, acc, timeout_s)
    return PipelineRun(run_dir, published, api.keys, lines, manifest_path, done, acc.pending_ids, time.monotonic() - t0)


def publish_errors() -> tuple[type[BaseException], ...]:
    """Return what publishing raises while a service is out: the producer's error and the services' own."""
    return (produce.PublishError, *outage.service_errors())


def main(argv: list[str] | None = None) -> int:
    """Run the demo end to end; exit 1 when something is unaccounted or the reconciliation finds a discrepancy."""
    args = parse_args(argv)
    try:
        return run_demo(args)
    except publish_errors() as exc:  # an outage that outlasted the waits
        print(
            f"\ndemo stopped: a service stayed unreachable ({outage.describe(exc)}); `make status` shows which, "
            "and `make demo` again resumes (the producer's cursor is durable)",
            file=sys.stderr,
        )
        return 2


def run_demo(args: argparse.Namespace) -> int:
    """The demo's steps; each wait on a service rides through short outages."""
    settings = Settings.load()
    seed = args.seed if args.seed is not None else int(time.time()) % 1_000_000_000
    step("model")
    ensure_model()
    run = run_pipeline(
        settings,
        new_run_dir("demo", settings),
        args.generated,
        seed,
        args.dirty_share,
        submit=not args.no_submit,
        rate=args.rate,
        timeout_s=args.timeout,
    )
    print(
        outage.until_up(
            lambda: run_summary(settings, run.published, run.run_ids, {ln.sha256 for ln in run.lines}),
            "reading this run's rows and dead letters",
            label="demo",
        )
    )
    if not run.accounted:
        print(
            f"\nNOT everything accounted after {args.timeout:.0f}s; pending ids (first 10): "
            f"{sorted(run.pending_ids)[:10]}",
            file=sys.stderr,
        )
    step("reconciliation (whole MySQL table, whole topics, every manifest under var/data/runs)")
    report = outage.until_up(
        lambda: reconcile.run(settings, reconcile.default_manifests(settings)), "reconciling", label="demo"
    )
    print(reconcile.format_report(report))
    (run.run_dir / "reconcile.json").write_text(json.dumps({"counts": report.counts, "clean": report.clean}, indent=2))
    print("\nThe stack is still running: `make status`, `make reconcile`; Storm UI at " + settings.storm_ui_url)
    print(f"Every URL above needs a token (README, Security): {settings.token_dir}/admin.token, or sign in on a page")
    return 0 if run.accounted and report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
