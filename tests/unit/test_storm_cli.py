"""The `storm` on the project's PATH (stack/storm/storm-path-wrapper) and the Storm UI's pure helpers.

The wrapper is tested against a recorder in place of Storm's launcher (STORM_BIN): what is checked is the
command line it hands on, which is pure rewriting; the real launcher runs in tests/integration/test_storm.py.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.tokens import shared_tokens

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "stack" / "storm" / "storm-path-wrapper"
FLUX = "org.apache.storm.flux.Flux"
FOREVER = "3153600000"


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    """A stand-in launcher that prints each argument it gets on its own line."""
    script = tmp_path / "storm"
    script.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    script.chmod(0o755)
    return script


def handed_on(recorder: Path, *args: str) -> list[str]:
    """Run the wrapper with args (in the recorder's folder) and return what it passed to the launcher."""
    (recorder.parent / "t.jar").write_bytes(b"PK")
    env = {**os.environ, "STORM_BIN": str(recorder), "TMPDIR": str(recorder.parent)}
    result = subprocess.run(
        [str(WRAPPER), *args], cwd=recorder.parent, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("sleep", "ttl"),
    [("10", "10"), ("1", "1"), ("9223372036854775807", FOREVER), ("99999999999", FOREVER), ("-5", FOREVER)],
)
def test_sparse_run_becomes_storm_local(recorder: Path, sleep: str, ttl: str) -> None:
    """streamparse's `storm jar … Flux --local … --sleep N` becomes `storm local --local-ttl N … Flux`."""
    args = handed_on(recorder, "jar", "t.jar", FLUX, "--local", "--no-splash", "--sleep", sleep, "conf/t.yaml")
    assert args[:3] == ["local", "--local-ttl", ttl]
    assert re.fullmatch(r".*/sparse-run-\w+\.jar", args[3]), "runs a private copy of the jar"
    assert args[4:] == [FLUX, "--no-splash", "conf/t.yaml"]
    assert not list(recorder.parent.glob("sparse-run-*")), "the copy is removed when the run ends"


@pytest.mark.parametrize(
    "args",
    [
        ["version"],
        ["list"],
        ["kill", "smoke", "-w", "0"],
        ["jar", "t.jar", FLUX, "--remote", "t.yaml"],
        ["jar", "t.jar", "com.Example"],
    ],
)
def test_other_commands_pass_through(recorder: Path, args: list[str]) -> None:
    """Everything but sparse run's exact command line reaches the launcher unchanged."""
    assert handed_on(recorder, *args) == args


def load_storm_ui() -> ModuleType:
    """Import stack/storm/storm_ui.py (not a package) by path; it puts its stormui package on sys.path."""
    spec = importlib.util.spec_from_file_location("storm_ui", ROOT / "stack" / "storm" / "storm_ui.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("secs", "text"), [(0, "0s"), (59, "59s"), (61, "1m 1s"), (3600, "1h 0m 0s"), (90061, "1d 1h 1m 1s"), (None, "0s")]
)
def test_uptime_is_formatted_like_storm_ui(secs: int | None, text: str) -> None:
    """Uptimes read '1d 1h 1m 1s', leading zero units left out."""
    assert load_storm_ui().pretty_uptime(secs) == text


def test_windows_are_ordered_like_storm_ui() -> None:
    """Windows sort 10 minutes, 3 hours, 1 day, then all time."""
    ui = load_storm_ui()
    assert sorted([":all-time", "86400", "600", "10800"], key=ui.window_order) == ["600", "10800", "86400", ":all-time"]


# ---- Storm UI (stack/storm/stormui): field mapping, log confinement, lag, problems and CSRF, without a cluster ----


@pytest.fixture(scope="module")
def ui() -> ModuleType:
    """storm_ui with the stormui package importable."""
    return load_storm_ui()


@pytest.fixture(scope="module")
def thrift() -> ModuleType:
    """Storm's Thrift structs as streamparse defines them (the same classes Nimbus' answers are decoded into)."""
    from streamparse import thrift as storm_thrift

    module: ModuleType = storm_thrift
    return module


def bolt_stats(thrift: ModuleType, executed: int, latency_ms: float) -> object:
    """A bolt's ComponentAggregateStats."""
    return thrift.ComponentAggregateStats(
        type=1,
        common_stats=thrift.CommonAggregateStats(
            num_executors=2, num_tasks=2, emitted=executed, transferred=executed, acked=executed, failed=1
        ),
        specific_stats=thrift.SpecificAggregateStats(
            bolt=thrift.BoltAggregateStats(
                execute_latency_ms=latency_ms, process_latency_ms=latency_ms * 2, executed=executed, capacity=0.25
            )
        ),
    )


def test_component_page_has_storm_ui_fields(thrift: ModuleType) -> None:
    """A bolt's page: boltStats per window, inputStats per stream, executors with log links, errors newest first."""
    from stormui import mapping

    gsid = thrift.GlobalStreamId(componentId="filter_bolt", streamId="default")
    page = thrift.ComponentPageInfo(
        component_id="decision_bolt",
        component_type=1,
        topology_id="loan-risk-1-1",
        topology_name="loan-risk",
        num_executors=2,
        num_tasks=2,
        topology_status="ACTIVE",
        window_to_stats={":all-time": bolt_stats(thrift, 900, 1.5), "600": bolt_stats(thrift, 100, 1.0)},
        gsid_to_input_stats={
            gsid: bolt_stats(thrift, 900, 1.5),
            thrift.GlobalStreamId(componentId="__system", streamId="__tick"): bolt_stats(thrift, 5, 0),
        },
        sid_to_output_stats={"default": bolt_stats(thrift, 800, 0), "declined": bolt_stats(thrift, 100, 0)},
        exec_stats=[
            thrift.ExecutorAggregateStats(
                exec_summary=thrift.ExecutorSummary(
                    executor_info=thrift.ExecutorInfo(task_start=3, task_end=3),
                    component_id="decision_bolt",
                    host="localhost",
                    port=6700,
                    uptime_secs=61,
                ),
                stats=bolt_stats(thrift, 450, 1.5),
            )
        ],
        errors=[
            thrift.ErrorInfo(error="old", error_time_secs=100, host="localhost", port=6700),
            thrift.ErrorInfo(error="new", error_time_secs=200, host="localhost", port=6701),
        ],
    )
    body = mapping.component_page(page, ":all-time", include_sys=False)
    assert body["componentType"] == "bolt"
    assert body["executors"] == 2
    assert body["name"] == "loan-risk"
    assert [s["window"] for s in body["boltStats"]] == ["600", ":all-time"]
    assert body["boltStats"][1]["executed"] == 900
    assert body["boltStats"][1]["executeLatency"] == "1.500"
    assert body["inputStats"] == [
        {
            "component": "filter_bolt",
            "encodedComponentId": "filter_bolt",
            "stream": "default",
            "executeLatency": "1.500",
            "processLatency": "3.000",
            "executed": 900,
            "acked": 900,
            "failed": 1,
        }
    ]
    assert [o["stream"] for o in body["outputStats"]] == ["declined", "default"]
    executor = body["executorStats"][0]
    assert (executor["id"], executor["port"], executor["uptime"], executor["executed"]) == ("[3-3]", 6700, "1m 1s", 450)
    assert executor["workerLogLink"] == "/logviewer?file=workers-artifacts/loan-risk-1-1/6700/worker.log"
    assert [e["error"] for e in body["componentErrors"]] == ["new", "old"]
    assert body["componentErrors"][0]["errorPort"] == 6701
    assert body["componentErrors"][0]["errorTime"] == 200


def test_visualization_draws_every_stream_with_its_rate(thrift: ModuleType) -> None:
    """Edges come from the submitted topology (declined included), rates from executed counts over the window."""
    from stormui import mapping

    def inputs(*pairs: tuple[str, str]) -> dict[object, object]:
        return {
            thrift.GlobalStreamId(componentId=c, streamId=s): thrift.Grouping(shuffle=thrift.NullStruct())
            for c, s in pairs
        }

    def common(inputs_: dict[object, object], streams: list[str]) -> object:
        return thrift.ComponentCommon(
            inputs=inputs_,
            streams={s: thrift.StreamInfo(output_fields=["x"], direct=False) for s in streams},
            parallelism_hint=1,
        )

    topology = thrift.StormTopology(
        spouts={
            "kafka_spout": thrift.SpoutSpec(
                spout_object=thrift.ComponentObject(shell=thrift.ShellComponent()), common=common({}, ["default"])
            )
        },
        bolts={
            "decision_bolt": thrift.Bolt(
                bolt_object=thrift.ComponentObject(shell=thrift.ShellComponent()),
                common=common(inputs(("kafka_spout", "default")), ["default", "declined"]),
            ),
            "save_bolt": thrift.Bolt(
                bolt_object=thrift.ComponentObject(shell=thrift.ShellComponent()),
                common=common(inputs(("decision_bolt", "default"), ("decision_bolt", "declined")), []),
            ),
        },
        state_spouts={},
    )
    declined = thrift.GlobalStreamId(componentId="decision_bolt", streamId="declined")
    executor = thrift.ExecutorSummary(
        executor_info=thrift.ExecutorInfo(task_start=1, task_end=1),
        component_id="save_bolt",
        host="h",
        port=1,
        uptime_secs=100,
        stats=thrift.ExecutorStats(
            emitted={},
            transferred={},
            rate=1.0,
            specific=thrift.ExecutorSpecificStats(
                bolt=thrift.BoltStats(
                    acked={},
                    failed={},
                    process_ms_avg={},
                    executed={"600": {declined: 300}},
                    execute_ms_avg={"600": {declined: 100.0}},
                )
            ),
        ),
    )
    info = thrift.TopologyInfo(id="t-1-1", name="t", uptime_secs=1000, executors=[executor], status="ACTIVE", errors={})
    vis = mapping.visualization(topology, info, "600")
    assert set(vis["components"]) == {"kafka_spout", "decision_bolt", "save_bolt"}
    assert {(e["source"], e["stream"], e["target"]) for e in vis["edges"]} == {
        ("kafka_spout", "default", "decision_bolt"),
        ("decision_bolt", "default", "save_bolt"),
        ("decision_bolt", "declined", "save_bolt"),
    }
    declined_edge = next(e for e in vis["edges"] if e["stream"] == "declined")
    assert declined_edge["executed"] == 300
    assert declined_edge["rate"] == 0.5
    assert vis["components"]["save_bolt"][":capacity"] == 0.05  # 300 x 100 ms busy in 600 s


@pytest.mark.parametrize(
    ("window", "uptime", "seconds"), [("600", 1000, 600), ("600", 100, 100), (":all-time", 5000, 5000), ("86400", 0, 1)]
)
def test_rates_cover_at_most_the_uptime(window: str, uptime: int, seconds: int) -> None:
    """A 10-minute window of a topology up for 100 s holds 100 s of counts."""
    from stormui import mapping

    assert mapping.window_seconds(window, uptime) == seconds


def test_lag_is_log_end_minus_committed() -> None:
    """Per partition; a partition the group never committed counts from 0."""
    from stormui import lag

    rows = lag.lag_rows("loan-applications", {0: 90, 1: None}, {0: 100, 1: 7, 2: 0})
    assert [(r["partition"], r["consumerCommittedOffset"], r["logHeadOffset"], r["lag"]) for r in rows] == [
        (0, 90, 100, 10),
        (1, None, 7, 7),
        (2, None, 0, 0),
    ]
    assert (
        lag.spout_lag_result("kafka_spout", {lag.GROUP_KEY: "g", lag.TOPIC_KEY: "loan-applications"}, rows, None)[
            "totalLag"
        ]
        == 17
    )


@pytest.mark.parametrize(
    ("class_name", "reads_kafka"),
    [
        ("org.apache.storm.kafka.spout.KafkaSpout", True),
        ("loanrisk.storm.LoanKafkaSpout", True),
        ("loanrisk.storm.LoanBatchSpout", True),
        ("org.apache.storm.testing.TestWordSpout", False),
    ],
)
def test_the_lag_view_knows_the_kafka_spouts(class_name: str, reads_kafka: bool) -> None:
    """The batching spout's class name does not say "kafka", and its lag must still show."""
    from stormui import api

    assert api.is_kafka_spout_class(class_name) is reads_kafka


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """A Storm log directory with a worker log, and links and files that lead outside it."""
    root = tmp_path / "logs"
    worker = root / "workers-artifacts" / "loan-risk-1-1" / "6700"
    worker.mkdir(parents=True)
    (worker / "worker.log").write_text("".join(f"line {i} tuple\n" for i in range(1000)))
    (root / "nimbus.log").write_text("nimbus started\n")
    (tmp_path / "secret.txt").write_text("not a log\n")
    (root / "escape.log").symlink_to(tmp_path / "secret.txt")
    (root / "workers-artifacts" / "linked").symlink_to(tmp_path)
    return root


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("../secret.txt", 403),
        ("workers-artifacts/../../secret.txt", 403),
        ("/etc/passwd", 403),
        ("escape.log", 403),
        ("workers-artifacts/linked/secret.txt", 403),
        ("./nimbus.log", 403),
        ("workers-artifacts", 404),
        ("missing.log", 404),
        ("", 422),
        ("a\\b", 422),
    ],
)
def test_log_paths_cannot_leave_the_log_directory(log_dir: Path, name: str, status: int) -> None:
    """`..`, absolute paths and symlinks are refused with a 4xx; nothing outside is ever opened."""
    from stormui import logs

    refused = logs.resolve(log_dir, name)
    assert isinstance(refused, logs.LogRefused)
    assert refused.status == status


def test_log_tail_page_and_search(log_dir: Path) -> None:
    """The tail is the file's end; a page starts where asked; search finds lines with offsets."""
    from stormui import logs

    path = logs.resolve(log_dir, "workers-artifacts/loan-risk-1-1/6700/worker.log")
    assert isinstance(path, Path)
    tail = logs.read_page(path, None, 20)
    assert tail["content"].endswith("line 999 tuple\n")
    assert tail["start"] == tail["fileSize"] - 20
    assert logs.read_page(path, 0, 7)["content"] == "line 0 "
    matches = logs.search(path, "line 99", 3)
    assert [m["lineNumber"] for m in matches] == [100, 991, 992]
    assert path.read_bytes()[matches[0]["byteOffset"] :].startswith(b"line 99")
    listed = {f["file"] for f in logs.worker_logs(log_dir)}
    assert listed == {"nimbus.log", "workers-artifacts/loan-risk-1-1/6700/worker.log"}, "symlinks are not listed"


def json_of(response: TestResponse) -> Any:
    data = response.get_json()
    assert data is not None, response.get_data(as_text=True)
    return data


@pytest.fixture
def client(ui: ModuleType, log_dir: Path) -> FlaskClient:
    """The UI's test client, pointed at a port where no Nimbus listens."""
    tokens = shared_tokens()
    app = ui.create_app(
        {**tokens.config(), "TESTING": True, "NIMBUS_PORT": 9, "NIMBUS_TIMEOUT_MS": 500, "LOG_DIR": str(log_dir)}
    )
    return tokens.client(app, "operator")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cluster/summary",
        "/api/v1/topology/summary",
        "/api/v1/topology/t-1-1",
        "/api/v1/topology/t-1-1/component/filter_bolt",
    ],
)
def test_nimbus_down_is_a_503_problem(client: FlaskClient, path: str) -> None:
    """No stack trace: problem+json that the pages turn into a banner."""
    response = client.get(path)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert json_of(response)["title"] == "Nimbus unavailable"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/topology/t-1-1?window=61", 422),
        ("/api/v1/topology/t-1-1/component/x?window=all", 422),
        ("/api/v1/topology/bad%20id", 404),
        ("/api/v1/topology/t/component/no%3Csuch", 404),
        ("/api/v1/no/such/path", 404),
    ],
)
def test_bad_windows_and_ids_are_problems(client: FlaskClient, path: str, status: int) -> None:
    """Checked before Nimbus is asked."""
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_a_bad_parameter_is_listed_as_in_every_other_api(client: FlaskClient) -> None:
    """The one dialect of loanrisk.problems: the refused parameter in ``invalid_params`` with a reason code."""
    body = json_of(client.get("/api/v1/topology/t-1-1?window=61"))
    assert body["status"] == 422
    assert body["title"] == HTTPStatus(422).phrase
    assert [(p["field"], p["reason"]) for p in body["invalid_params"]] == [("window", "UNKNOWN_CATEGORY")]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/topology/t-1-1/activate",
        "/api/v1/topology/t-1-1/deactivate",
        "/api/v1/topology/t-1-1/rebalance/0",
        "/api/v1/topology/t-1-1/kill/30",
    ],
)
def test_actions_need_the_csrf_token(client: FlaskClient, path: str) -> None:
    """A POST without the session's token, or with another one, is refused before Nimbus is asked."""
    assert client.post(path).status_code == 403
    client.get("/")  # a page gives the session its token
    assert client.post(path, headers={"X-CSRF-Token": "forged"}).status_code == 403


def test_actions_with_the_token_reach_nimbus(client: FlaskClient) -> None:
    """With the token from the page, the action is passed on (here Nimbus is down: 503, not 403)."""
    page = client.get("/topology.html?id=t-1-1").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found is not None
    token = found.group(1)
    assert client.post("/api/v1/topology/t-1-1/deactivate", headers={"X-CSRF-Token": token}).status_code == 503
    assert client.post("/api/v1/topology/t-1-1/kill/99999", headers={"X-CSRF-Token": token}).status_code == 422


def test_log_api_confines_and_serves(client: FlaskClient) -> None:
    """The logviewer REST paths answer 4xx problems for escapes and serve files inside."""
    for name in ("../secret.txt", "/etc/passwd", "escape.log", "workers-artifacts/linked/secret.txt"):
        for path in ("/api/v1/log", "/api/v1/download", "/api/v1/search"):
            response = client.get(path, query_string={"file": name, "search-string": "x"})
            assert response.status_code == 403, (path, name)
            assert response.mimetype == "application/problem+json", (path, name)
    log = "workers-artifacts/loan-risk-1-1/6700/worker.log"
    assert json_of(client.get("/api/v1/log", query_string={"file": log, "length": 15}))["content"] == "line 999 tuple\n"
    assert (
        json_of(client.get("/api/v1/search", query_string={"file": log, "search-string": "line 5 "}))["matches"][0][
            "lineNumber"
        ]
        == 6
    )
    download = client.get("/api/v1/download", query_string={"file": log})
    assert download.status_code == 200
    assert download.data.count(b"\n") == 1000


LAUNCHER = ROOT / "stack" / "storm" / "storm"


@pytest.mark.parametrize(
    ("args", "main_class"),
    [
        (["activate", "loan-risk"], "org.apache.storm.command.Activate"),
        (["deactivate", "loan-risk"], "org.apache.storm.command.Deactivate"),
        (
            ["rebalance", "loan-risk", "-w", "10", "-n", "2", "-e", "submit_bolt=3"],
            "org.apache.storm.command.Rebalance",
        ),
        (["kill", "loan-risk", "-w", "30"], "org.apache.storm.command.KillTopology"),
        (["list"], "org.apache.storm.command.ListTopologies"),
        (["monitor", "loan-risk", "-m", "filter_bolt"], "org.apache.storm.command.Monitor"),
        (["set_log_level", "loan-risk", "-l", "ROOT=DEBUG:60"], "org.apache.storm.command.SetLogLevel"),
        (["get_errors", "loan-risk"], "org.apache.storm.command.GetErrors"),
    ],
)
def test_operator_verbs_run_storms_command_classes(recorder: Path, args: list[str], main_class: str) -> None:
    """`storm VERB ARGS` runs Storm 2.8's own org.apache.storm.command class with ARGS unchanged."""
    home = recorder.parent / "home"
    (home / "conf").mkdir(parents=True)
    (home / "conf" / "storm.yaml").write_text('storm.log.dir: "/tmp/logs"\n')
    env = {**os.environ, "STORM_HOME": str(home), "JAVA": str(recorder)}
    handed = subprocess.run([str(LAUNCHER), *args], env=env, capture_output=True, text=True, check=True).stdout
    java_args = handed.splitlines()
    at = java_args.index(main_class)
    assert java_args[at + 1 :] == args[1:]
    assert java_args[java_args.index("-cp") + 1].startswith(f"{home}/lib/*")


def test_other_host_names_are_refused(client: FlaskClient) -> None:
    """A DNS-rebound name pointing at 127.0.0.1 gets 400, so it can neither read a token nor post an action."""
    assert client.get("/", headers={"Host": "attacker.example:8080"}).status_code == 400
    assert client.get("/api/v1/topology/t-1-1", headers={"Host": "attacker.example"}).status_code == 400
    assert client.get("/", headers={"Host": "127.0.0.1:8080"}).status_code == 200


def test_a_second_supervisors_logs_are_served_too(log_dir: Path) -> None:
    """Workers of a second supervisor log under <storm.log.dir>-<name>; a symlinked sibling is not a root."""
    from stormui import logs

    other = log_dir.parent / "logs-supervisor2" / "workers-artifacts" / "loan-risk-1-1" / "6704"
    other.mkdir(parents=True)
    (other / "worker.log").write_text("second supervisor\n")
    (log_dir.parent / "logs-evil").symlink_to(log_dir.parent)
    roots = logs.log_roots(log_dir)
    assert roots == [log_dir, log_dir.parent / "logs-supervisor2"]
    found = logs.find(roots, "workers-artifacts/loan-risk-1-1/6704/worker.log")
    assert isinstance(found, Path)
    assert found.read_text() == "second supervisor\n"
    assert logs.find(roots, "escape.log") == logs.LogRefused(
        403, "symbolic links are not followed in Storm's log directory"
    )
    assert {f["file"] for f in logs.all_logs(roots)} >= {
        "workers-artifacts/loan-risk-1-1/6700/worker.log",
        "workers-artifacts/loan-risk-1-1/6704/worker.log",
    }
