"""Storm on the local stack through streamparse: versions agree, Storm UI sees the cluster, the smoke topology
is submitted to Nimbus (seen in `sparse list` and in Storm UI, then killed), and `sparse run` runs it in Storm's
local mode (an in-process cluster: Nimbus never sees it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMOKE = "smoke"
SMOKE_MARK = "SMOKE-OK"  # what src/bolts/smoke_bolt.py logs for every tuple
T = TypeVar("T")


def run_env() -> dict[str, str]:
    """Environment for storm/sparse/lein: the venv first on PATH, LEIN_ROOT for root."""
    return {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}", "LEIN_ROOT": "1"}


def run(*cmd: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a command in the project root and capture its output."""
    return subprocess.run(cmd, cwd=ROOT, env=run_env(), capture_output=True, text=True, timeout=timeout)


def wait_until(what: str, probe: Callable[[], T | None], timeout: float = 180, every: float = 2) -> T:
    """Poll probe() until it returns something truthy; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def ui_get(settings: Any, path: str) -> Any:
    """GET a Storm UI REST path and decode its JSON."""
    url = f"{settings.storm_ui_url}{path}"
    request = urllib.request.Request(url, headers=settings.auth_headers("reader"))  # noqa: S310 (the local UI's http URL)
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 (the local UI's http URL)
        return json.load(response)


def ui_topology(settings: Any, name: str) -> dict[str, Any] | None:
    """Return Storm UI's summary row of the running topology called name, if any."""
    rows = ui_get(settings, "/api/v1/topology/summary")["topologies"]
    return next((row for row in rows if row["name"] == name), None)


def sparse_list_names() -> list[str]:
    """Names of the topologies `sparse list -e local` prints (its table's 'name' column)."""
    result = run("sparse", "list", "-e", "local", timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [line.split("|") for line in result.stdout.splitlines() if line.startswith("|")]
    return [row[2].strip() for row in rows if len(row) > 3 and row[2].strip()]


def kill_smoke(settings: Any) -> None:
    """Kill the smoke topology on Nimbus if it runs, and wait until Storm UI no longer lists it."""
    if ui_topology(settings, SMOKE) is None:
        return
    result = run("sparse", "kill", "-e", "local", "-n", SMOKE, "--wait", "0", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    wait_until("the smoke topology to leave Nimbus", lambda: ui_topology(settings, SMOKE) is None, timeout=120)


@pytest.fixture
def no_smoke_on_nimbus(settings: Any) -> Iterator[None]:
    """Make sure no smoke topology runs on Nimbus before and after the test."""
    kill_smoke(settings)
    yield
    kill_smoke(settings)


def first_group(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not in {text[:300]!r}"
    return found.group(1)


def test_storm_version_matches_project_clj() -> None:
    """`storm version` prints the Storm pinned in project.clj, and `lein deps :tree` shows it to streamparse."""
    pinned = first_group(r'\(def storm-version "([^"]+)"\)', (ROOT / "project.clj").read_text())
    version = run("storm", "version", timeout=60)
    assert version.returncode == 0, version.stderr
    assert first_group(r"(?m)^Storm ([0-9.]+)$", version.stdout) == pinned
    tree = run("lein", "deps", ":tree", timeout=300)
    assert tree.returncode == 0, tree.stderr
    assert set(re.findall(r'\[org\.apache\.storm/storm-core "([^"]+)"\]', tree.stdout)) == {pinned}


def test_ui_reports_one_supervisor_and_a_leading_nimbus(settings: Any) -> None:
    """Storm UI's REST API reports the cluster: one supervisor with slots, one Nimbus that leads."""
    cluster = ui_get(settings, "/api/v1/cluster/summary")
    assert cluster["supervisors"] == 1
    assert cluster["slotsTotal"] >= 2
    nimbuses = ui_get(settings, "/api/v1/nimbus/summary")["nimbuses"]
    assert [n["status"] for n in nimbuses] == ["Leader"]
    assert nimbuses[0]["version"] == cluster["stormVersion"]


def test_ui_answers_unknown_topology_with_problem_json(settings: Any) -> None:
    """An unknown topology id is a 404 problem document, not a crash."""
    with pytest.raises(urllib.error.HTTPError) as error:
        ui_get(settings, "/api/v1/topology/no-such-topology-1-1")
    assert error.value.code == 404
    assert error.value.headers["Content-Type"].startswith("application/problem+json")


def smoke_worker_log_has_mark(topology_id: str) -> bool:
    """True when a worker log of the topology holds the smoke bolt's mark."""
    logs = (ROOT / "var" / "log" / "storm" / "workers-artifacts" / topology_id).glob("*/worker.log")
    return any(SMOKE_MARK in log.read_text(errors="replace") for log in logs)


def smoke_bolt_stats(settings: Any, topology_id: str) -> dict[str, Any] | None:
    """Storm UI's smoke_bolt row once it has executed tuples, else None."""
    page = ui_get(settings, f"/api/v1/topology/{topology_id}")
    bolt = next(b for b in page["bolts"] if b["boltId"] == "smoke_bolt")
    return bolt if bolt["executed"] > 0 else None


@pytest.mark.usefixtures("no_smoke_on_nimbus")
def test_sparse_submit_runs_smoke_on_the_cluster(settings: Any) -> None:
    """`sparse submit -e local` deploys smoke; `sparse list` and Storm UI show it with its components, working."""
    submit = run("sparse", "submit", "-e", "local", "-n", SMOKE, timeout=600)
    assert submit.returncode == 0, submit.stdout + submit.stderr
    wait_until("smoke in `sparse list -e local`", lambda: SMOKE in sparse_list_names(), timeout=120)
    row = wait_until("smoke in Storm UI", lambda: ui_topology(settings, SMOKE), timeout=120)
    assert row["status"] == "ACTIVE"
    page = ui_get(settings, f"/api/v1/topology/{row['id']}")
    assert [s["spoutId"] for s in page["spouts"]] == ["smoke_spout"]
    assert [b["boltId"] for b in page["bolts"]] == ["smoke_bolt"]
    wait_until("the smoke bolt's mark in a worker log", lambda: smoke_worker_log_has_mark(row["id"]), timeout=180)
    bolt = wait_until("smoke_bolt statistics in Storm UI", lambda: smoke_bolt_stats(settings, row["id"]), timeout=180)
    assert bolt["failed"] == 0


@pytest.mark.usefixtures("no_smoke_on_nimbus")
def test_sparse_run_runs_smoke_in_local_mode(settings: Any, tmp_path: Path) -> None:
    """`sparse run -t 30` runs smoke in an in-process cluster for 30 s; Nimbus never lists it meanwhile."""
    cmd = ["sparse", "run", "-e", "local", "-n", SMOKE, "-t", "30"]  # 30 s: a loaded box starts slowly
    out_path = tmp_path / "sparse-run.log"  # a file, not a pipe: local mode logs more than a pipe buffers
    seen_on_nimbus = []
    with (
        out_path.open("w") as out,
        subprocess.Popen(
            cmd, cwd=ROOT, env=run_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        ) as proc,
    ):
        try:
            deadline = time.monotonic() + 600
            while proc.poll() is None and time.monotonic() < deadline:
                seen_on_nimbus.append(ui_topology(settings, SMOKE))
                time.sleep(2)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
    output = out_path.read_text(errors="replace")
    assert proc.returncode == 0, output[-3000:]
    assert not any(seen_on_nimbus), "sparse run submitted smoke to Nimbus instead of running it locally"
    assert "storm local --local-ttl 30" in output
    assert "RUNNING LOCAL CLUSTER for 30 seconds" in output
    assert len(re.findall(rf"{SMOKE_MARK} smoke-\d+ n=\d+ squared=\d+", output)) >= 5
