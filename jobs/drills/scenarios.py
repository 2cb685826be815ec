"""The scenarios of `make chaos`, in the order they run. Each breaks a real process or service of this stack.

Processes are chosen only through jobs.drills.procs (our pid files, our tree's paths, our network namespace);
services are stopped and started with stack/stack.sh, as an operator would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobs.drills import procs
from jobs.drills.engine import Drill, Scenario, log, model_versions, set_fault, stack
from jobs.drills.measure import Row
from jobs.drills.stream import Batch, add_file, mark_published
from jobs.settings import ROOT
from loanrisk import events as ev

SUBPROCESS_TIMEOUT_S = 60  # topology.subprocess.timeout.secs in config.json
MODEL_DIR = ROOT / "models"


# ---------------------------------------------------------------- helpers


def kill9(pids: list[int], what: str) -> None:
    """kill -9 the given pids of ours; fail when there is nothing to kill."""
    if not pids:
        raise RuntimeError(f"no {what} process of this stack found")
    log(f"kill -9 {what}: {procs.send(pids, signal.SIGKILL)}")


def restart(*services: str, env: dict[str, str] | None = None) -> None:
    """Stop then start services with stack/stack.sh."""
    stack("down", *services)
    stack("up", *services, env=env)


def down(*services: str) -> Callable[[Drill, Batch], None]:
    """An inject that stops services."""
    return lambda _drill, _batch: stack("down", *services)


def up(*services: str) -> Callable[[Drill], None]:
    """A heal that starts services (and waits until healthy)."""
    return lambda _drill: stack("up", *services)


def fault(**settings: object) -> Callable[[Drill, Batch], None]:
    """An inject that sets the proxy's fault."""

    def inject(_drill: Drill, _batch: Batch) -> None:
        set_fault(**settings)

    return inject


def clear_fault(_drill: Drill) -> None:
    """Heal: the proxy passes everything again."""
    set_fault(mode="pass", poison_ids=[])


def publish_lines(
    drill: Drill,
    batch: Batch,
    name: str,
    lines: list[bytes],
    expect: str | None,
    kinds: list[str],
    rate: float,
    mark: bool = True,
) -> None:
    """Write extra lines (and, for expect, a manifest) into the batch's directory and publish them at a rate.

    mark: write the manifest's published marker, so that `make reconcile` checks it too from now on.
    """
    path = batch.run_dir / f"{name}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    manifest = None
    if expect:
        manifest = Path(f"{path}.dirt.jsonl")
        manifest.write_text(
            "".join(
                json.dumps(
                    {"line": i + 1, "id": _id(line), "kind": kind, "expect": expect, "sha256": ev.sha256_hex(line)}
                )
                + "\n"
                for i, (line, kind) in enumerate(zip(lines, kinds, strict=True))
            )
        )
    add_file(batch, path, manifest)
    batch.producers.append(drill.publish_file(path, rate))
    if manifest and mark:
        mark_published(manifest, len(lines))


def _id(line: bytes) -> str | None:
    from jobs.produce import line_key

    key = line_key(line)
    return None if key is None else key.decode()


def generated_records(n: int, seed: int) -> list[dict[str, Any]]:
    """n generated applicants as canonical dicts."""
    from jobs.generate import generate_lines

    return [json.loads(line) for lines, _ in generate_lines(n, "jsonl", seed) for line in lines]


def scored_by_model(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The first record the pre-screen lets through to the Risk API."""
    from loanrisk.prescreen import PrescreenPolicy, decline_reasons

    return next(r for r in records if not decline_reasons(r, PrescreenPolicy()))


# ---------------------------------------------------------------- Storm processes


def kill_workers(_drill: Drill, _batch: Batch) -> None:
    kill9(procs.worker_pids(), "Storm worker JVM")


def bolt_process(bolt: str, timeout_s: float = 180) -> list[int]:
    """One live process of a Python bolt, waiting (bounded) while its worker is being restarted."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pids = procs.bolt_pids(bolt)
        if pids:
            return pids[:1]
        time.sleep(2)
    return []


def kill_each_bolt(drill: Drill, _batch: Batch) -> None:
    """kill -9 one process of each Python bolt, 20 s apart (each takes its worker down with it)."""
    for bolt in procs.PYTHON_BOLTS:
        kill9(bolt_process(bolt), bolt)
        time.sleep(20 * drill.opts.hold_scale)


def stop_submit_bolt(drill: Drill, _batch: Batch) -> None:
    pids = bolt_process("SubmitBolt")
    if not pids:
        raise RuntimeError("no SubmitBolt process of this stack found")
    drill.stopped = pids
    log(f"SIGSTOP SubmitBolt {procs.send(pids, signal.SIGSTOP)} for {SUBPROCESS_TIMEOUT_S + 15}s")


def continue_stopped(drill: Drill) -> None:
    procs.send(getattr(drill, "stopped", []), signal.SIGCONT)


def kill_supervisor2(_drill: Drill, _batch: Batch) -> None:
    """kill -9 the second supervisor and everything it started (its workers and their bolts): a lost machine."""
    pid = procs.service_pid("supervisor2")
    if pid is None:
        raise RuntimeError("supervisor2 is not running: start the stack with `make up SUPERVISORS=2`")
    workers = set(procs.worker_pids())
    if not workers & set(procs.descendants(pid)):
        # after earlier faults Storm may have put both workers on the first supervisor: nothing would be lost
        raise RuntimeError("supervisor2 runs no worker of loan-risk now: a kill would not test a lost machine")
    kill9(procs.descendants(pid), "supervisor2 and its workers")


# ---------------------------------------------------------------- services


def restart_kafka_5x(drill: Drill, _batch: Batch) -> None:
    for i in range(5):
        log(f"kafka restart {i + 1}/5")
        restart("kafka")
        time.sleep(10 * drill.opts.hold_scale)


def deploy_model_v2(drill: Drill, _batch: Batch) -> None:
    """Deploy a second model version (same artifact, new version name) by restarting the Risk API on it."""
    target = drill.run_dir / "model-v2"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(MODEL_DIR, target)
    meta = json.loads((target / "risk_model.json").read_text())
    drill.model_versions = (meta["model_version"], meta["model_version"] + "-chaos-v2")
    meta["model_version"] = drill.model_versions[1]
    (target / "risk_model.json").write_text(json.dumps(meta, indent=2))
    restart("risk_api", env={"RISK_API_MODEL_DIR": str(target)})


def redeploy_model_v1(_drill: Drill) -> None:
    """Back to the shipped model (the Risk API restarted without RISK_API_MODEL_DIR)."""
    os.environ.pop("RISK_API_MODEL_DIR", None)
    restart("risk_api")


def check_model_versions(drill: Drill, batch: Batch, row: Row) -> None:
    versions = model_versions(drill.settings, sorted(batch.scope_ids))
    known = set(getattr(drill, "model_versions", ()))
    counts = {v: sum(1 for x in versions.values() if x == v) for v in sorted(known)}
    unknown = [i for i, v in versions.items() if v not in known]
    row.notes.append(f"model-scored rows by version: {counts}")
    if unknown:
        row.problems.append(f"{len(unknown)} model-scored rows name no known model version, e.g. {unknown[:3]}")
    if not counts.get(drill.model_versions[1]):
        row.problems.append("no row was scored by the new model version")


# ---------------------------------------------------------------- hostile input and load


def poison_lines(tag: str) -> list[tuple[str, bytes]]:
    """The hostile records the pipeline must dead-letter: (kind, line)."""
    return [
        ("10 MB line", b'{"id": "CHAOSBIG-' + tag.encode() + b'", "desc": "' + b"x" * (10 * 1024 * 1024) + b'"}'),
        (
            "10,000-deep nesting",
            b'{"id": "CHAOSDEEP-' + tag.encode() + b'", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        ),
        ("invalid UTF-8", b'{"id": "CHAOSUTF-' + tag.encode() + b'", "emp_title": "\xff\xfe\xc3("}'),
    ]


def poison(drill: Drill, batch: Batch, with_500: bool = True) -> None:
    """Publish the poison records; the proxy answers 500 whenever the always-500 applicant is in a batch."""
    tag = f"{drill.opts.seed}-{drill.batches}"
    records = poison_lines(tag)
    if with_500:
        good = scored_by_model(generated_records(200, drill.opts.seed + 7 + drill.batches))
        always_500 = {**good, "id": f"CHAOS500-{tag}"}
        set_fault(mode="pass", poison_ids=[always_500["id"]])
        records.append((ALWAYS_500, json.dumps(always_500).encode()))
    publish_lines(
        drill, batch, "poison", [line for _, line in records], "reject", [k for k, _ in records], rate=1.0, mark=False
    )


ALWAYS_500 = "Risk API always 500"


def check_poison(drill: Drill, batch: Batch, row: Row) -> None:
    """Check every poison record was dead-lettered (the always-500 one as RISK_API_FAILED); clear the poison."""
    from jobs import reconcile

    letters = reconcile.read_dead_letters(drill.settings.kafka_bootstrap)[0]
    for entry in reconcile.load_manifests(batch.manifests[-1:])[0]:
        reasons = sorted({dl.reason for dl in letters if dl.raw_sha256 == entry.sha256})
        row.notes.append(
            f"poison {entry.kind}: " + (f"dead-lettered ({', '.join(reasons)})" if reasons else "NOT dead-lettered")
        )
        if not reasons:
            row.problems.append(f"poison {entry.kind} was not dead-lettered")
        elif entry.kind == ALWAYS_500 and reasons != [ev.RISK_API_FAILED]:
            row.problems.append(f"poison {entry.kind} dead-lettered as {reasons}, not {ev.RISK_API_FAILED}")
    set_fault(mode="pass", poison_ids=[])


def check_storm_convicts_nobody(drill: Drill, batch: Batch, row: Row) -> None:
    """A Risk API answering 500 to everything must not dead-letter healthy applicants as poison records."""
    from jobs import reconcile

    letters = reconcile.read_dead_letters(drill.settings.kafka_bootstrap)[0]
    failed = [
        dl.application_id for dl in letters if dl.reason == ev.RISK_API_FAILED and dl.application_id in batch.scope_ids
    ]
    row.notes.append(f"{ev.RISK_API_FAILED} dead letters in the batch: {len(failed)}")
    if failed:
        row.problems.append(f"the 500 storm dead-lettered {len(failed)} applicant(s), e.g. {failed[:3]}")


def burst(drill: Drill, batch: Batch) -> None:
    """10x the sustained rate for the hold: generated applicants published straight from a file."""
    seconds = 30 * drill.opts.hold_scale
    n = int(drill.opts.rate * 10 * seconds)
    records = generated_records(n, drill.opts.seed + 5000 + drill.batches)
    lines = [json.dumps({**r, "id": f"BURST-{drill.batches}-{r['id']}"}).encode() for r in records]
    publish_lines(drill, batch, "burst", lines, None, [], rate=drill.opts.rate * 10)


def check_burst(_drill: Drill, _batch: Batch, row: Row) -> None:
    if row.worker_restarts:
        row.problems.append(f"{row.worker_restarts} worker restart(s) under the burst")


# ---------------------------------------------------------------- the list


def scenarios() -> list[Scenario]:
    """Every scenario of `make chaos`, in running order."""
    return [
        Scenario("worker-kill", "kill -9 of the Storm worker JVM(s)", kill_workers),
        Scenario("bolt-kill", "kill -9 of one process of each Python bolt, 20 s apart", kill_each_bolt),
        Scenario(
            "bolt-stop",
            f"SIGSTOP of a submit_bolt process for {SUBPROCESS_TIMEOUT_S + 15} s "
            f"(> topology.subprocess.timeout.secs {SUBPROCESS_TIMEOUT_S})",
            stop_submit_bolt,
            SUBPROCESS_TIMEOUT_S + 15,
            continue_stopped,
            min_hold_s=SUBPROCESS_TIMEOUT_S + 15,
        ),
        Scenario("risk-down", "the Risk API stopped for 2 minutes", down("risk_api"), 120, up("risk_api")),
        Scenario(
            "risk-slow",
            "the Risk API answering in 10 s (proxy) for 60 s",
            fault(mode="slow", delay_s=10),
            60,
            clear_fault,
        ),
        Scenario(
            "risk-500",
            "the Risk API answering 500 (proxy) for 45 s",
            fault(mode="error"),
            45,
            clear_fault,
            check_storm_convicts_nobody,
        ),
        Scenario(
            "risk-malformed",
            "the Risk API answering malformed bodies (proxy) for 45 s",
            fault(mode="malformed"),
            45,
            clear_fault,
        ),
        Scenario(
            "hbase-thrift-down", "HBase Thrift stopped for 1 minute", down("hbase_thrift"), 60, up("hbase_thrift")
        ),
        Scenario(
            "hbase-master-restart",
            "the HBase master (standalone: master+regionserver) restarted",
            lambda _d, _b: restart("hbase"),
            0,
            up("hbase", "hbase_thrift"),
        ),
        Scenario("kafka-restart-5x", "the Kafka broker restarted 5 times, 10 s apart, under load", restart_kafka_5x),
        Scenario("zookeeper-restart", "Storm's ZooKeeper restarted", lambda _d, _b: restart("zookeeper")),
        Scenario("nimbus-restart", "Nimbus restarted", lambda _d, _b: restart("nimbus")),
        Scenario(
            "supervisor-kill",
            "kill -9 of supervisor2 and its workers for 60 s (two-supervisor cluster)",
            kill_supervisor2,
            60,
            lambda _d: stack("up", "supervisor2", env={"SUPERVISORS": "2"}),
        ),
        Scenario(
            "mariadb-down", "MariaDB stopped for 45 s while the producer runs", down("mariadb"), 45, up("mariadb")
        ),
        Scenario(
            "producer-kill",
            "kill -9 of the producer, resumed after 5 s",
            lambda d, _b: d.producer.kill9(),
            5,
            lambda d: d.producer.start(),
        ),
        Scenario(
            "poison",
            "poison records: 10 MB line, 10,000-deep nesting, invalid UTF-8, always-500 applicant",
            poison,
            0,
            None,
            check_poison,
            settle_s=150,
        ),
        Scenario("burst", "10x the sustained rate for 30 s", burst, 30, None, check_burst),
        Scenario(
            "model-deploy",
            "a new model version deployed to the Risk API mid-stream",
            deploy_model_v2,
            30,
            redeploy_model_v1,
            check_model_versions,
        ),
    ]


def by_name() -> dict[str, Scenario]:
    """Scenarios by name."""
    return {s.name: s for s in scenarios()}
