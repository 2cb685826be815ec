"""Storm UI for the local stack: Storm UI's REST API (/api/v1/...) and a small page, read from Nimbus over Thrift.

Storm's own UI (storm-webapp) is not published on Maven Central, so `storm ui` (stack/storm/storm) serves this
Flask app with gunicorn on ui.host:ui.port. Endpoints and field names follow Storm UI's REST API:
  GET /api/v1/cluster/summary       stormVersion, supervisors, slotsTotal/Used/Free, executorsTotal, tasksTotal
  GET /api/v1/nimbus/summary        nimbuses: host, port, status ("Leader" | "Not a Leader"), version, uptime
  GET /api/v1/supervisor/summary    supervisors: id, host, uptime, slotsTotal, slotsUsed, usedMem, version
  GET /api/v1/topology/summary      topologies: id, name, status, uptime, tasksTotal, workersTotal, executorsTotal
  GET /api/v1/topology/<id>         the above plus topologyStats, spouts and bolts (emitted, transferred,
                                    acked, failed, completeLatency / executeLatency, processLatency, capacity,
                                    lastError) for ?window=:all-time|600|10800|86400 (&sys=true for system ones)
Errors are application/problem+json. Also a CLI for the stack's health checks:
  python storm_ui.py check leader | supervisors N | ui URL
"""

from __future__ import annotations

import html
import json
import os
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

NIMBUS_HOST = os.environ.get("STORM_NIMBUS_HOST", "localhost")
NIMBUS_PORT = int(os.environ.get("STORM_NIMBUS_PORT", "6627"))
WINDOWS = {":all-time": "All time", "600": "10m 0s", "10800": "3h 0m 0s", "86400": "1d 0h 0m 0s"}


@contextmanager
def nimbus(host: str = NIMBUS_HOST, port: int = NIMBUS_PORT, timeout_ms: int = 10000) -> Iterator[Any]:
    """Yield a Thrift client of Nimbus (framed binary protocol) and close it afterwards."""
    from streamparse.thrift import Nimbus
    from thriftpy2.protocol import TBinaryProtocolFactory
    from thriftpy2.rpc import make_client
    from thriftpy2.transport import TFramedTransportFactory

    client = make_client(Nimbus, host=host, port=port, proto_factory=TBinaryProtocolFactory(),
                         trans_factory=TFramedTransportFactory(), timeout=timeout_ms)
    try:
        yield client
    finally:
        client.close()


def pretty_uptime(secs: int | None) -> str:
    """Format seconds the way Storm UI does: '1d 2h 3m 4s'."""
    secs = int(secs or 0)
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if days or hours else []
    parts += [f"{minutes}m"] if days or hours or minutes else []
    return " ".join(parts + [f"{seconds}s"])


def latency(value: float | None) -> str:
    """Format a latency in ms with three decimals, as Storm UI does."""
    return f"{float(value or 0.0):.3f}"


def cluster_summary(info: Any) -> dict[str, Any]:
    """Map Thrift ClusterSummary to /api/v1/cluster/summary."""
    slots_total = sum(s.num_workers for s in info.supervisors)
    slots_used = sum(s.num_used_workers for s in info.supervisors)
    leader = next((n for n in info.nimbuses if n.isLeader), None)
    return {
        "stormVersion": leader.version if leader else None,
        "nimbusUptime": pretty_uptime(leader.uptime_secs) if leader else None,
        "nimbusUptimeSeconds": leader.uptime_secs if leader else None,
        "supervisors": len(info.supervisors),
        "topologies": len(info.topologies),
        "slotsTotal": slots_total,
        "slotsUsed": slots_used,
        "slotsFree": slots_total - slots_used,
        "executorsTotal": sum(t.num_executors for t in info.topologies),
        "tasksTotal": sum(t.num_tasks for t in info.topologies),
    }


def nimbus_summary(info: Any) -> dict[str, Any]:
    """Map the Nimbuses of a ClusterSummary to /api/v1/nimbus/summary."""
    return {"nimbuses": [{
        "host": n.host, "port": n.port, "status": "Leader" if n.isLeader else "Not a Leader",
        "version": n.version, "nimbusUpTime": pretty_uptime(n.uptime_secs), "nimbusUpTimeSeconds": n.uptime_secs,
    } for n in info.nimbuses]}


def supervisor_summary(info: Any) -> dict[str, Any]:
    """Map the supervisors of a ClusterSummary to /api/v1/supervisor/summary."""
    return {"supervisors": [{
        "id": s.supervisor_id, "host": s.host, "uptime": pretty_uptime(s.uptime_secs),
        "uptimeSeconds": s.uptime_secs, "slotsTotal": s.num_workers, "slotsUsed": s.num_used_workers,
        "slotsFree": s.num_workers - s.num_used_workers, "usedMem": s.used_mem, "usedCpu": s.used_cpu,
        "totalMem": (s.total_resources or {}).get("supervisor.memory.capacity.mb"),
        "totalCpu": (s.total_resources or {}).get("supervisor.cpu.capacity"), "version": s.version,
    } for s in info.supervisors]}


def topology_row(t: Any) -> dict[str, Any]:
    """Map a Thrift TopologySummary (or TopologyPageInfo) to Storm UI's topology fields."""
    return {
        "id": t.id, "encodedId": t.id, "name": t.name, "status": t.status, "owner": t.owner,
        "uptime": pretty_uptime(t.uptime_secs), "uptimeSeconds": t.uptime_secs,
        "tasksTotal": t.num_tasks, "workersTotal": t.num_workers, "executorsTotal": t.num_executors,
        "schedulerInfo": t.sched_status, "replicationCount": t.replication_count,
        "assignedMemOnHeap": t.assigned_memonheap, "assignedCpu": t.assigned_cpu,
    }


def common_stats(stats: Any) -> dict[str, Any]:
    """Fields every component has: executors, tasks, emitted, transferred, acked, failed, lastError."""
    common = stats.common_stats
    error = stats.last_error
    return {
        "executors": common.num_executors, "tasks": common.num_tasks, "emitted": common.emitted or 0,
        "transferred": common.transferred or 0, "acked": common.acked or 0, "failed": common.failed or 0,
        "lastError": error.error if error else "", "errorHost": error.host if error else "",
        "errorPort": error.port if error else "", "errorTime": error.error_time_secs if error else None,
    }


def spout_row(spout_id: str, stats: Any) -> dict[str, Any]:
    """Map a spout's ComponentAggregateStats to a Storm UI 'spouts' entry."""
    specific = stats.specific_stats.spout if stats.specific_stats else None
    complete = specific.complete_latency_ms if specific else None
    return {"spoutId": spout_id, "encodedSpoutId": spout_id, **common_stats(stats), "completeLatency": latency(complete)}


def bolt_row(bolt_id: str, stats: Any) -> dict[str, Any]:
    """Map a bolt's ComponentAggregateStats to a Storm UI 'bolts' entry."""
    bolt = stats.specific_stats.bolt if stats.specific_stats else None
    return {
        "boltId": bolt_id, "encodedBoltId": bolt_id, **common_stats(stats),
        "executed": (bolt.executed or 0) if bolt else 0,
        "executeLatency": latency(bolt.execute_latency_ms if bolt else None),
        "processLatency": latency(bolt.process_latency_ms if bolt else None),
        "capacity": f"{float((bolt.capacity if bolt else None) or 0.0):.3f}",
    }


def topology_stats(stats: Any) -> list[dict[str, Any]]:
    """Map Thrift TopologyStats to Storm UI's per-window 'topologyStats' list."""
    if stats is None:
        return []
    emitted = stats.window_to_emitted or {}
    return [{
        "window": window, "windowPretty": WINDOWS.get(window, window), "emitted": emitted.get(window, 0),
        "transferred": (stats.window_to_transferred or {}).get(window, 0),
        "acked": (stats.window_to_acked or {}).get(window, 0), "failed": (stats.window_to_failed or {}).get(window, 0),
        "completeLatency": latency((stats.window_to_complete_latencies_ms or {}).get(window)),
    } for window in sorted(emitted, key=window_order)]


def window_order(window: str) -> tuple[int, int]:
    """Order windows as Storm UI does: 10m, 3h, 1d, then all time."""
    return (1, 0) if not window.isdigit() else (0, int(window))


def topology_page(page: Any, window: str) -> dict[str, Any]:
    """Map Thrift TopologyPageInfo to /api/v1/topology/<id>."""
    return {
        **topology_row(page), "window": window, "windowHint": WINDOWS.get(window, window),
        "topologyStats": topology_stats(page.topology_stats),
        "spouts": [spout_row(k, v) for k, v in sorted((page.id_to_spout_agg_stats or {}).items())],
        "bolts": [bolt_row(k, v) for k, v in sorted((page.id_to_bolt_agg_stats or {}).items())],
        "workers": [{"host": w.host, "port": w.port, "uptimeSeconds": w.uptime_secs,
                     "executorsTotal": w.num_executors, "componentNumTasks": w.component_to_num_tasks}
                    for w in page.workers or []],
        "configuration": json.loads(page.topology_conf) if page.topology_conf else {},
    }


def create_app(test_config: dict[str, Any] | None = None) -> Any:
    """Build the Storm UI Flask app."""
    from flask import Flask, Response, jsonify, request

    app = Flask(__name__)
    app.config.from_mapping(NIMBUS_HOST=NIMBUS_HOST, NIMBUS_PORT=NIMBUS_PORT)
    app.config.from_mapping(test_config or {})

    def problem(status: int, title: str, detail: str) -> Response:
        """Answer an RFC 9457 problem document."""
        body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
        return Response(body, status=status, mimetype="application/problem+json")

    def cluster_info() -> Any:
        """Fetch the ClusterSummary from Nimbus."""
        with nimbus(app.config["NIMBUS_HOST"], app.config["NIMBUS_PORT"]) as client:
            return client.getClusterInfo()

    @app.errorhandler(OSError)
    def nimbus_unreachable(error: OSError) -> Response:
        """Nimbus does not answer: 503."""
        return problem(503, "Nimbus unavailable", str(error))

    @app.errorhandler(404)
    def not_found(error: Exception) -> Response:
        """Unknown path: 404 as problem+json."""
        return problem(404, "Not Found", "no such Storm UI resource")

    @app.get("/api/v1/cluster/summary")
    def get_cluster_summary() -> Response:
        """Cluster totals."""
        return jsonify(cluster_summary(cluster_info()))

    @app.get("/api/v1/nimbus/summary")
    def get_nimbus_summary() -> Response:
        """Nimbus hosts and which one leads."""
        return jsonify(nimbus_summary(cluster_info()))

    @app.get("/api/v1/supervisor/summary")
    def get_supervisor_summary() -> Response:
        """Supervisors and their slots."""
        return jsonify(supervisor_summary(cluster_info()))

    @app.get("/api/v1/topology/summary")
    def get_topology_summary() -> Response:
        """Running topologies."""
        return jsonify({"topologies": [topology_row(t) for t in cluster_info().topologies]})

    @app.get("/api/v1/topology/<topology_id>")
    def get_topology(topology_id: str) -> Response:
        """One topology with its spouts' and bolts' statistics."""
        window = request.args.get("window", ":all-time")
        if window not in WINDOWS:
            return problem(400, "Bad window", f"window must be one of {sorted(WINDOWS)}")
        include_sys = request.args.get("sys", "false") == "true"
        from streamparse.thrift import NotAliveException

        try:
            with nimbus(app.config["NIMBUS_HOST"], app.config["NIMBUS_PORT"]) as client:
                page = client.getTopologyPageInfo(topology_id[:512], window, include_sys)
        except NotAliveException:
            return problem(404, "Topology not found", f"no running topology with id {topology_id[:512]!r}")
        return jsonify(topology_page(page, window))

    @app.get("/")
    def index() -> Response:
        """A small HTML page: cluster, topologies and their components."""
        return Response(render_index(cluster_info(), app.config), mimetype="text/html")

    return app


def html_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Render rows as an HTML table with the given columns."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_index(info: Any, config: Any) -> str:
    """Render the cluster page with each topology's spouts and bolts."""
    parts = ["<h1>Storm UI (local stack)</h1>", "<h2>Cluster</h2>",
             html_table([cluster_summary(info)], ["stormVersion", "supervisors", "slotsTotal", "slotsUsed",
                                                  "topologies", "executorsTotal"]),
             "<h2>Nimbus</h2>", html_table(nimbus_summary(info)["nimbuses"], ["host", "port", "status", "version",
                                                                              "nimbusUpTime"])]
    for t in info.topologies:
        with nimbus(config["NIMBUS_HOST"], config["NIMBUS_PORT"]) as client:
            page = topology_page(client.getTopologyPageInfo(t.id, ":all-time", False), ":all-time")
        parts += [f"<h2>Topology {html.escape(t.name)} ({html.escape(t.status)}, up {page['uptime']})</h2>",
                  html_table(page["spouts"], ["spoutId", "executors", "emitted", "acked", "failed",
                                              "completeLatency", "lastError"]),
                  html_table(page["bolts"], ["boltId", "executors", "executed", "emitted", "acked", "failed",
                                             "capacity", "executeLatency", "processLatency", "lastError"])]
    style = "<style>body{font-family:sans-serif}table{border-collapse:collapse;margin:.5em 0}" \
            "td,th{border:1px solid #ccc;padding:2px 8px}</style>"
    return f"<!doctype html><html><head><title>Storm UI</title>{style}</head><body>{''.join(parts)}</body></html>"


def check(what: str, arg: str | None = None) -> bool:
    """Health checks for stack/services/storm.sh: a leading Nimbus, N supervisors, or the UI at URL."""
    if what == "ui":
        def get(path: str) -> dict[str, Any]:
            with urllib.request.urlopen(f"{arg}{path}", timeout=5) as response:
                return json.load(response)

        leaders = [n for n in get("/api/v1/nimbus/summary")["nimbuses"] if n["status"] == "Leader"]
        return bool(leaders) and get("/api/v1/cluster/summary")["supervisors"] >= 1
    with nimbus(timeout_ms=5000) as client:
        info = client.getClusterInfo()
    if what == "leader":
        return any(n.isLeader for n in info.nimbuses)
    if what == "supervisors":
        return len(info.supervisors) >= int(arg or 1)
    raise SystemExit(f"unknown check {what!r}")


def main(argv: list[str]) -> int:
    """Command line: `check leader | supervisors N | ui URL`."""
    if len(argv) < 2 or argv[0] != "check":
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return 0 if check(argv[1], argv[2] if len(argv) > 2 else None) else 1
    except Exception as error:  # any failure to answer means "not healthy"
        print(f"not healthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
