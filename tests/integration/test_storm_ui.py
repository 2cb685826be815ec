"""Storm UI on the real stack: every REST path against the running `loan-risk`, the actions (kill last), the
logviewer's confinement, the Kafka lag read from Kafka, and `sparse stats` printing figures.

The topology is the one `make demo` left running, or a small run of this module's own (tests/integration/
ui_topology.py). The last test kills it; the next `make demo` or test run submits it again.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from adapters.settings import Settings
from tests.integration.ui_topology import RARE_PATH, has_figures, running_loan_risk

ROOT = Path(__file__).resolve().parents[2]
WINDOWS = ["600", "10800", "86400", ":all-time"]
PROBLEM = "application/problem+json"

AUTH = Settings.load().auth_headers("admin")  # var/tokens/admin.token, written by `make up`


@pytest.fixture(scope="module")
def topology_id(settings) -> str:
    return running_loan_risk(settings)


@pytest.fixture(scope="module")
def ui(settings: Settings) -> str:
    return settings.storm_ui_url


@pytest.fixture(scope="module")
def page(ui: str, topology_id: str) -> dict[str, Any]:
    found: dict[str, Any] = requests.get(f"{ui}/api/v1/topology/{topology_id}", headers=AUTH, timeout=30).json()
    return found


@pytest.fixture(scope="module")
def components(page: dict[str, Any]) -> list[str]:
    """Component ids as Nimbus reports them (never a hard-coded list)."""
    return [s["spoutId"] for s in page["spouts"]] + [b["boltId"] for b in page["bolts"]]


def get(ui: str, path: str, **params: str) -> requests.Response:
    return requests.get(f"{ui}{path}", params=params, headers=AUTH, timeout=30)


def test_cluster_nimbus_and_supervisor_summaries(ui: str, topology_id: str) -> None:
    cluster = get(ui, "/api/v1/cluster/summary").json()
    assert cluster["stormVersion"].startswith("2.8")
    assert cluster["supervisors"] >= 1
    assert cluster["slotsTotal"] >= 1
    assert any(n["status"] == "Leader" for n in get(ui, "/api/v1/nimbus/summary").json()["nimbuses"])
    supervisors = get(ui, "/api/v1/supervisor/summary").json()["supervisors"]
    assert all(s["slotsTotal"] >= s["slotsUsed"] >= 0 for s in supervisors)
    assert sum(s["slotsUsed"] for s in supervisors) >= 1
    assert "storm.zookeeper.servers" in get(ui, "/api/v1/cluster/configuration").json()


def test_topology_summary_lists_loan_risk(ui: str, topology_id: str) -> None:
    rows = get(ui, "/api/v1/topology/summary").json()["topologies"]
    row = next(r for r in rows if r["id"] == topology_id)
    assert row["name"] == "loan-risk"
    assert row["workersTotal"] >= 1
    assert row["executorsTotal"] >= 5
    workers = get(ui, f"/api/v1/topology-workers/{topology_id}").json()["hostPortList"]
    assert len(workers) == row["workersTotal"]
    assert all(w["host"] and w["port"] for w in workers)


@pytest.mark.parametrize("window", WINDOWS)
def test_topology_page_for_every_window(ui: str, topology_id: str, window: str) -> None:
    body = get(ui, f"/api/v1/topology/{topology_id}", window=window).json()
    assert body["window"] == window
    assert body["antiForgeryToken"]
    assert [s["window"] for s in body["topologyStats"]] == WINDOWS
    assert body["spouts"]
    assert len(body["bolts"]) >= 4
    assert body["workers"][0]["workerLogLink"]
    assert body["configuration"]["loanrisk.spout.group_id"]


def test_topology_page_has_figures(page: dict[str, Any]) -> None:
    """Everything the demo pushed through shows up as counts in the all-time window."""
    assert all(s["emitted"] > 0 and s["acked"] > 0 for s in page["spouts"]), page["spouts"]
    assert all(has_figures(b) for b in page["bolts"]), page["bolts"]
    assert any(float(b["processLatency"]) > 0 for b in page["bolts"]), page["bolts"]


def test_component_pages(ui: str, topology_id: str, components: list[str]) -> None:
    for component in components:
        body = get(ui, f"/api/v1/topology/{topology_id}/component/{component}").json()
        assert body["id"] == component
        assert body["executors"] >= 1, component
        assert body["executorStats"], component
        assert all(e["host"] and e["port"] and e["workerLogLink"] for e in body["executorStats"])
        assert body["outputStats"] or body["componentType"] == "bolt"
        if body["componentType"] == "bolt":
            assert body["boltStats"]
            if component not in RARE_PATH:
                assert body["inputStats"]
                assert sum(i["executed"] for i in body["inputStats"]) > 0
        else:
            assert body["spoutSummary"]
            assert body["spoutSummary"][-1]["emitted"] > 0
        assert isinstance(body["componentErrors"], list)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/topology/no-such-topology-1-1", 404),
        ("/api/v1/topology/{id}?window=7", 422),
        ("/api/v1/topology/{id}/component/no_such_bolt", 404),
        ("/api/v1/topology/{id}/component/filter_bolt?window=x", 422),
        ("/api/v1/topology/no-such-1-1/component/filter_bolt", 404),
        ("/api/v1/topology/no-such-1-1/visualization", 404),
        ("/api/v1/topology/no-such-1-1/lag", 404),
        ("/api/v1/topology/{id}/visualization?window=1", 422),
    ],
)
def test_bad_ids_components_and_windows_are_problems(ui: str, topology_id: str, path: str, status: int) -> None:
    response = requests.get(ui + path.format(id=topology_id), headers=AUTH, timeout=30)
    assert response.status_code == status
    assert response.headers["Content-Type"] == PROBLEM


def test_visualization_has_every_component_and_stream_with_rates(
    ui: str, topology_id: str, components: list[str]
) -> None:
    vis = get(ui, f"/api/v1/topology/{topology_id}/visualization", window=":all-time").json()
    assert set(vis["components"]) == set(components)
    targets = {e["target"] for e in vis["edges"]}
    assert targets == set(components) - {n for n, c in vis["components"].items() if c[":type"] == "spout"}
    # Storm samples 5 % of tuples for its stats: a hop that carries a few batch tuples may show 0, the spout's
    # one-tuple-per-record edge never does after a run
    assert all(isinstance(e["rate"], (int, float)) and e["rate"] >= 0 for e in vis["edges"])
    spouts = {n for n, c in vis["components"].items() if c[":type"] == "spout"}
    assert any(e["rate"] > 0 for e in vis["edges"] if e["source"] in spouts and e["stream"] == "default")
    declared = {s for c in vis["components"].values() for s in c[":streams"]}
    assert declared <= {e["stream"] for e in vis["edges"]} | {"default"}, "every declared stream is drawn"


def test_lag_is_read_from_kafka(ui: str, topology_id: str, page: dict[str, Any]) -> None:
    """Per partition of the input topic: the group's committed offset, the log end and their difference."""
    from kafka import KafkaConsumer, TopicPartition

    conf = page["configuration"]
    lag = get(ui, f"/api/v1/topology/{topology_id}/lag").json()
    spout = lag[page["spouts"][0]["spoutId"]]
    assert spout["errorInfo"] is None
    assert spout["groupId"] == conf["loanrisk.spout.group_id"]
    rows = spout["spoutLagResult"]
    consumer = KafkaConsumer(bootstrap_servers=conf["loanrisk.kafka.bootstrap"])
    try:
        partitions = consumer.partitions_for_topic(conf["loanrisk.kafka.input_topic"])
        ends = consumer.end_offsets([TopicPartition(conf["loanrisk.kafka.input_topic"], p) for p in partitions])
    finally:
        consumer.close()
    assert {r["partition"] for r in rows} == partitions
    for row in rows:
        assert row["lag"] == row["logHeadOffset"] - (row["consumerCommittedOffset"] or 0) >= 0
        end = ends[TopicPartition(row["topic"], row["partition"])]
        assert row["logHeadOffset"] <= end
    assert sum(r["consumerCommittedOffset"] or 0 for r in rows) > 0


def test_worker_logs_tail_search_download(ui: str, page: dict[str, Any]) -> None:
    name = page["workers"][0]["workerLogFile"]
    tail = get(ui, "/api/v1/log", file=name, length="4096").json()
    assert tail["length"] > 0
    assert tail["start"] + tail["length"] == tail["fileSize"]
    found = get(ui, "/api/v1/search", **{"file": name, "search-string": "Worker", "num-matches": "3"}).json()
    assert found["matches"]
    assert "Worker" in found["matches"][0]["matchString"]
    download = get(ui, "/api/v1/download", file=name)
    assert download.status_code == 200
    assert len(download.content) >= tail["length"]
    assert name in {f["file"] for f in get(ui, "/api/v1/listLogs").json()}


def test_log_paths_outside_the_log_directory_are_refused(ui: str, settings, page: dict[str, Any]) -> None:
    """`..`, absolute paths and a symlink planted in the log directory: 4xx, never the file."""
    log_dir = ROOT / "var" / "log" / "storm"
    link = log_dir / "ui-test-escape.log"
    link.unlink(missing_ok=True)
    link.symlink_to("/etc/passwd")
    worker_dir = page["workers"][0]["workerLogFile"].rsplit("/", 1)[0]
    try:
        for name in [
            "../../../etc/passwd",
            "/etc/passwd",
            f"{worker_dir}/../../../../stack.env",
            "ui-test-escape.log",
            "..",
            "%2e%2e/stack.env",
        ]:
            for path in ("/api/v1/log", "/api/v1/download", "/api/v1/search"):
                response = get(ui, path, **{"file": name, "search-string": "root"})
                assert 400 <= response.status_code < 500, (path, name, response.status_code)
                assert "root:" not in response.text
    finally:
        link.unlink(missing_ok=True)


def session_with_token(ui: str, topology_id: str) -> tuple[requests.Session, str]:
    """A browser-like session and the antiForgeryToken its topology page carries."""
    session = requests.Session()
    session.headers.update(AUTH)
    token = session.get(f"{ui}/api/v1/topology/{topology_id}", timeout=30).json()["antiForgeryToken"]
    return session, token


def status_of(ui: str, topology_id: str) -> str:
    return str(get(ui, f"/api/v1/topology/{topology_id}").json()["status"])


def test_actions_refuse_a_missing_or_forged_token(ui: str, topology_id: str) -> None:
    session, _ = session_with_token(ui, topology_id)
    for action in ("activate", "deactivate", "rebalance/0", "kill/30"):
        assert session.post(f"{ui}/api/v1/topology/{topology_id}/{action}", timeout=30).status_code == 403
        forged = session.post(
            f"{ui}/api/v1/topology/{topology_id}/{action}", headers={"X-CSRF-Token": "x" * 43}, timeout=30
        )
        assert forged.status_code == 403
        assert forged.headers["Content-Type"] == PROBLEM
    assert status_of(ui, topology_id) == "ACTIVE"


def audit_lines(after: int) -> list[dict[str, Any]]:
    """The audit log's lines written after byte offset ``after`` (var/log/audit.log, the UI's own)."""
    path = Settings.load().audit_log
    with path.open("rb") as log:
        log.seek(after)
        return [json.loads(line) for line in log.read().splitlines()]


def audit_size() -> int:
    path = Settings.load().audit_log
    return path.stat().st_size if path.exists() else 0


def test_deactivate_then_activate(ui: str, topology_id: str) -> None:
    session, token = session_with_token(ui, topology_id)
    before = audit_size()
    answer = session.post(
        f"{ui}/api/v1/topology/{topology_id}/deactivate", headers={"X-CSRF-Token": token}, timeout=30
    ).json()
    assert answer == {"topologyOperation": "deactivate", "topologyId": topology_id, "status": "success"}
    assert status_of(ui, topology_id) == "INACTIVE"
    session.post(f"{ui}/api/v1/topology/{topology_id}/activate", headers={"X-CSRF-Token": token}, timeout=30)
    actions = [(e["who"], e["action"], e["topology"]) for e in audit_lines(before) if e["action"].startswith("topo")]
    assert actions == [
        ("local-admin", "topology.deactivate", topology_id),
        ("local-admin", "topology.activate", topology_id),
    ]
    assert AUTH["Authorization"].split()[1] not in Settings.load().audit_log.read_text()


def test_actions_need_an_operator_token(ui: str, topology_id: str) -> None:
    reader = requests.Session()
    reader.headers.update(Settings.load().auth_headers("reader"))
    token = reader.get(f"{ui}/api/v1/topology/{topology_id}", timeout=30).json()["antiForgeryToken"]
    refused = reader.post(f"{ui}/api/v1/topology/{topology_id}/deactivate", headers={"X-CSRF-Token": token}, timeout=30)
    assert refused.status_code == 403
    assert requests.post(f"{ui}/api/v1/topology/{topology_id}/deactivate", timeout=30).status_code == 401
    assert status_of(ui, topology_id) == "ACTIVE"
    assert status_of(ui, topology_id) == "ACTIVE"


def test_rebalance_checks_its_options(ui: str, topology_id: str, components: list[str]) -> None:
    session, token = session_with_token(ui, topology_id)
    headers = {"X-CSRF-Token": token}
    bad = [
        {"rebalanceOptions": {"executors": {"no_such_bolt": 2}}},
        {"rebalanceOptions": {"numWorkers": 0}},
        {"rebalanceOptions": {"executors": {components[-1]: "many"}}},
    ]
    for body in bad:
        response = session.post(
            f"{ui}/api/v1/topology/{topology_id}/rebalance/0", json=body, headers=headers, timeout=30
        )
        assert response.status_code == 422, body
        assert response.headers["Content-Type"] == PROBLEM, body
    assert (
        session.post(
            f"{ui}/api/v1/topology/{topology_id}/rebalance/abc", json={}, headers=headers, timeout=30
        ).status_code
        == 422
    )


def test_rebalance_keeps_the_topology(ui: str, topology_id: str, page: dict[str, Any]) -> None:
    """Same workers and executors, no wait: Nimbus rebalances (REBALANCING) and the topology stays."""
    session, token = session_with_token(ui, topology_id)
    options = {"rebalanceOptions": {"numWorkers": page["workersTotal"]}}
    answer = session.post(
        f"{ui}/api/v1/topology/{topology_id}/rebalance/2", json=options, headers={"X-CSRF-Token": token}, timeout=30
    ).json()
    assert answer["topologyOperation"] == "rebalance"
    assert answer["status"] == "success"
    assert status_of(ui, topology_id) in {"REBALANCING", "ACTIVE"}


def sparse_stats(*args: str) -> str:
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}", "LEIN_ROOT": "1"}
    proc = subprocess.run(
        ["sparse", "stats", "-e", "local", "-n", "loan-risk", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "MISSING" not in proc.stdout, proc.stdout
    return proc.stdout


def numbers_in_rows(text: str, first_cell: str) -> list[int]:
    """The integers of the table row that starts with first_cell."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return [int(c) for c in cells[1:] if re.fullmatch(r"\d+", c)]
    return []


def test_sparse_stats_component_prints_figures(topology_id: str) -> None:
    out = sparse_stats("-c", "filter_bolt")
    assert "Bolt stats" in out
    assert "Input stats" in out
    assert "kafka_spout" in out
    assert sum(numbers_in_rows(out, "All time")) > 0, out


def test_sparse_stats_topology_prints_figures(topology_id: str) -> None:
    out = sparse_stats()
    assert "# Topology stats" in out
    assert "# Spouts" in out
    assert "# Bolt" in out
    assert sum(numbers_in_rows(out, "All time")) > 0, out


def test_sparse_stats_all_prints_every_component(topology_id: str, components: list[str]) -> None:
    """streamparse 5.0.1's --all crashes; the project's `sparse` (stack/storm/sparse-path-wrapper) fixes that."""
    out = sparse_stats("--all")
    assert [line[3:] for line in out.splitlines() if line.startswith("## ")] == components
    assert out.count("# Component summary") == len(components)


def test_kill_last(ui: str, topology_id: str) -> None:
    """Kill with a wait: Nimbus marks it KILLED, then it leaves the summary."""
    session, token = session_with_token(ui, topology_id)
    assert (
        session.post(
            f"{ui}/api/v1/topology/{topology_id}/kill/99999", headers={"X-CSRF-Token": token}, timeout=30
        ).status_code
        == 422
    )
    answer = session.post(
        f"{ui}/api/v1/topology/{topology_id}/kill/1", headers={"X-CSRF-Token": token}, timeout=30
    ).json()
    assert answer == {"topologyOperation": "kill", "topologyId": topology_id, "status": "success"}
    rows = get(ui, "/api/v1/topology/summary").json()["topologies"]
    assert all(r["status"] == "KILLED" for r in rows if r["id"] == topology_id)
