"""Storm UI's REST API (/api/v1/...): summaries, topology and component pages, graph, Kafka lag, and actions."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, session

from adapters.kafka import OffsetReader
from adapters.nimbus import NotFoundError, component_ids, kill_options, nimbus, rebalance_options, topology_name
from adapters.settings import kafka_security_kwargs
from webkit.auth import audit

from . import lag, mapping
from .problems import bad_parameter, refusal

bp = Blueprint("api", __name__, url_prefix="/api/v1")
ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,512}")
CSRF_HEADER = "X-CSRF-Token"
MAX_WAIT_SECS = 3600
MAX_WORKERS = 64
MAX_EXECUTORS = 256


@contextmanager
def client() -> Iterator[Any]:
    """A Nimbus client with the app's address and timeout."""
    config = current_app.config
    with nimbus(config["NIMBUS_HOST"], int(config["NIMBUS_PORT"]), int(config["NIMBUS_TIMEOUT_MS"])) as c:
        yield c


def checked_id(value: str, what: str) -> str:
    """A topology or component id as given, or 404 when it cannot be one."""
    if not ID_PATTERN.fullmatch(value):
        raise NotFoundError(f"no {what} {value[:80]!r}")
    return value


def window_arg() -> str:
    """The ?window= parameter (default all time), or 422 when it is not one of Storm's windows."""
    window = request.args.get("window", ":all-time")
    if window not in mapping.WINDOWS:
        raise bad_parameter("window", "UNKNOWN_CATEGORY", f"window must be one of {', '.join(mapping.WINDOWS)}")
    return window


def include_sys() -> bool:
    """The ?sys= parameter: include Storm's system components and streams."""
    return request.args.get("sys", "0").lower() in ("1", "true")


def csrf_token() -> str:
    """This browser session's anti-forgery token, created on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def require_csrf() -> None:
    """Refuse a POST whose X-CSRF-Token header does not match the session's token (403)."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or "csrf" not in session or not secrets.compare_digest(sent, str(session["csrf"])):
        raise refusal(
            403,
            "csrf",
            "CSRF token missing or wrong",
            f"actions need the {CSRF_HEADER} header with the antiForgeryToken of the topology page",
        )


@bp.get("/cluster/configuration")
def get_cluster_configuration() -> Response:
    with client() as c:
        return jsonify(json.loads(c.getNimbusConf()))


@bp.get("/cluster/summary")
def get_cluster_summary() -> Response:
    with client() as c:
        return jsonify(mapping.cluster_summary(c.getClusterInfo()))


@bp.get("/nimbus/summary")
def get_nimbus_summary() -> Response:
    with client() as c:
        return jsonify(mapping.nimbus_summary(c.getClusterInfo()))


@bp.get("/supervisor/summary")
def get_supervisor_summary() -> Response:
    with client() as c:
        return jsonify(mapping.supervisor_summary(c.getClusterInfo()))


@bp.get("/topology/summary")
def get_topology_summary() -> Response:
    with client() as c:
        topologies = c.getClusterInfo().topologies
    return jsonify({"topologies": [mapping.topology_row(t) for t in topologies], "schedulerDisplayResource": True})


@bp.get("/topology-workers/<topology_id>")
def get_topology_workers(topology_id: str) -> Response:
    checked_id(topology_id, "topology")
    with client() as c:
        page = c.getTopologyPageInfo(topology_id, ":all-time", False)
    return jsonify(
        {
            "hostPortList": [{"host": w.host, "port": w.port} for w in page.workers or []],
            "logviewerPort": request.host.rsplit(":", 1)[-1],
        }
    )


@bp.get("/topology/<topology_id>")
def get_topology(topology_id: str) -> Response:
    checked_id(topology_id, "topology")
    window = window_arg()
    with client() as c:
        page = c.getTopologyPageInfo(topology_id, window, include_sys())
    return jsonify({**mapping.topology_page(page, window), "antiForgeryToken": csrf_token()})


@bp.get("/topology/<topology_id>/component/<component>")
def get_component(topology_id: str, component: str) -> Response:
    window = window_arg()
    checked_id(topology_id, "topology")
    checked_id(component, "component")
    with client() as c:
        topology = c.getTopology(topology_id)
        if component not in set(topology.spouts or {}) | set(topology.bolts or {}):
            raise NotFoundError(f"topology {topology_id!r} has no component {component!r}")
        page = c.getComponentPageInfo(topology_id, component, window, include_sys())
    return jsonify(mapping.component_page(page, window, include_sys()))


@bp.get("/topology/<topology_id>/visualization")
def get_visualization(topology_id: str) -> Response:
    checked_id(topology_id, "topology")
    window = window_arg()
    with client() as c:
        info = c.getTopologyInfo(topology_id)
        topology = c.getUserTopology(topology_id)
    return jsonify(mapping.visualization(topology, info, window))


# the project's batching Kafka spout, whose class name does not say "kafka"
KAFKA_SPOUT_CLASSES = frozenset({"loanrisk.storm.LoanBatchSpout"})


def kafka_spouts(topology: Any) -> list[str]:
    """Spouts whose Java class is a Kafka spout (storm-kafka-client's, its wrapper, or the batching spout)."""
    names = []
    for name, spec in (topology.spouts or {}).items():
        java = getattr(spec.spout_object, "java_object", None)
        if java is not None and is_kafka_spout_class(java.full_class_name):
            names.append(name)
    return sorted(names)


def is_kafka_spout_class(class_name: str) -> bool:
    """Whether a spout's Java class reads Kafka, so its consumer group's lag applies."""
    return "kafka" in class_name.lower() or class_name in KAFKA_SPOUT_CLASSES


@bp.get("/topology/<topology_id>/lag")
def get_lag(topology_id: str) -> Response:
    checked_id(topology_id, "topology")
    with client() as c:
        conf = json.loads(c.getTopologyConf(topology_id))
        spouts = kafka_spouts(c.getUserTopology(topology_id))
    result = {}
    for spout_id in spouts:
        missing = [k for k in (lag.GROUP_KEY, lag.TOPIC_KEY, lag.BOOTSTRAP_KEY) if not conf.get(k)]
        if missing:
            result[spout_id] = lag.spout_lag_result(spout_id, conf, None, f"topology conf lacks {missing}")
            continue
        try:
            with OffsetReader(
                conf[lag.BOOTSTRAP_KEY], int(current_app.config["KAFKA_TIMEOUT_MS"]), **kafka_security_kwargs()
            ) as reader:
                committed, log_end = reader.offsets(conf[lag.GROUP_KEY], conf[lag.TOPIC_KEY])
        except Exception as error:  # noqa: BLE001 (Kafka down or slow: the lag is unknown, the page still answers)
            result[spout_id] = lag.spout_lag_result(spout_id, conf, None, f"Kafka did not answer: {error}")
            continue
        rows = lag.lag_rows(conf[lag.TOPIC_KEY], committed, log_end)
        result[spout_id] = lag.spout_lag_result(spout_id, conf, rows, None)
    return jsonify(result)


def operation(name: str, topology_id: str, **details: Any) -> Response:
    """Storm UI's answer to an action, after its audit line (who, which action on which topology, from where)."""
    audit(f"topology.{name}", topology=topology_id, **details)
    return jsonify({"topologyOperation": name, "topologyId": topology_id, "status": "success"})


def wait_secs(value: str) -> int:
    """A <wait-time> path part: whole seconds 0..3600, or 422."""
    if not value.isdigit() or int(value) > MAX_WAIT_SECS:
        raise bad_parameter("wait-time", "OUT_OF_RANGE", f"wait time must be whole seconds from 0 to {MAX_WAIT_SECS}")
    return int(value)


@bp.post("/topology/<topology_id>/activate")
def post_activate(topology_id: str) -> Response:
    checked_id(topology_id, "topology")
    require_csrf()
    with client() as c:
        c.activate(topology_name(c, topology_id))
    return operation("activate", topology_id)


@bp.post("/topology/<topology_id>/deactivate")
def post_deactivate(topology_id: str) -> Response:
    checked_id(topology_id, "topology")
    require_csrf()
    with client() as c:
        c.deactivate(topology_name(c, topology_id))
    return operation("deactivate", topology_id)


def rebalance_body(known: set[str]) -> tuple[int | None, dict[str, int]]:
    """numWorkers and executors of {"rebalanceOptions": {...}}, checked against the topology's components."""
    body = request.get_json(silent=True) or {}
    options = body.get("rebalanceOptions", {}) if isinstance(body, dict) else None
    if not isinstance(options, dict):
        raise bad_parameter("rebalanceOptions", "BAD_TYPE", "rebalanceOptions must be an object")
    workers = options.get("numWorkers")
    if workers is not None and (not str(workers).isdigit() or not 1 <= int(workers) <= MAX_WORKERS):
        raise bad_parameter("numWorkers", "OUT_OF_RANGE", f"numWorkers must be 1..{MAX_WORKERS}")
    executors = options.get("executors") or {}
    if not isinstance(executors, dict):
        raise bad_parameter("executors", "BAD_TYPE", "executors must map component ids to counts")
    for name, count in executors.items():
        if name not in known:
            raise bad_parameter("executors", "UNKNOWN_FIELD", f"the topology has no component {str(name)[:80]!r}")
        if not str(count).isdigit() or not 1 <= int(count) <= MAX_EXECUTORS:
            raise bad_parameter("executors", "OUT_OF_RANGE", f"executors of {name!r} must be 1..{MAX_EXECUTORS}")
    return (int(workers) if workers is not None else None), {k: int(v) for k, v in executors.items()}


@bp.post("/topology/<topology_id>/rebalance/<wait>")
def post_rebalance(topology_id: str, wait: str) -> Response:
    checked_id(topology_id, "topology")
    require_csrf()
    secs = wait_secs(wait)
    with client() as c:
        name = topology_name(c, topology_id)
        workers, executors = rebalance_body(component_ids(c, topology_id))
        c.rebalance(name, rebalance_options(secs, workers, executors))
    return operation("rebalance", topology_id, wait_secs=secs, num_workers=workers, executors=executors)


@bp.post("/topology/<topology_id>/kill/<wait>")
def post_kill(topology_id: str, wait: str) -> Response:
    checked_id(topology_id, "topology")
    require_csrf()
    secs = wait_secs(wait)
    with client() as c:
        c.killTopologyWithOpts(topology_name(c, topology_id), kill_options(secs))
    return operation("kill", topology_id, wait_secs=secs)
