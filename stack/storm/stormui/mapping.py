"""Nimbus' Thrift answers mapped to Storm UI's REST fields (docs/STORM-UI-REST-API.md of Apache Storm 2.x).

Pure functions over the Thrift structs (any object with the same attributes will do), so the field mapping is
unit-tested without a cluster.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any

WINDOWS = {"600": "10m 0s", "10800": "3h 0m 0s", "86400": "1d 0h 0m 0s", ":all-time": "All time"}
SYSTEM_STREAM_PREFIX = "__"


def pretty_uptime(secs: int | None) -> str:
    """Format seconds the way Storm UI does: '1d 2h 3m 4s'."""
    secs = int(secs or 0)
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    parts += [f"{hours}h"] if days or hours else []
    parts += [f"{minutes}m"] if days or hours or minutes else []
    return " ".join([*parts, f"{seconds}s"])


def latency(value: float | None) -> str:
    """A latency in ms with three decimals, as a string (Storm UI's format)."""
    return f"{float(value or 0.0):.3f}"


def window_order(window: str) -> tuple[int, int]:
    """Order windows as Storm UI does: 10m, 3h, 1d, then all time."""
    return (1, 0) if not window.isdigit() else (0, int(window))


def window_seconds(window: str, uptime_secs: int | None) -> int:
    """Seconds a window's counts cover: the window, or the uptime when it is shorter (or the window is all time)."""
    uptime = max(int(uptime_secs or 0), 1)
    return min(int(window), uptime) if window.isdigit() else uptime


def is_system(stream_or_component: str) -> bool:
    """Storm's own streams and components (__acker, __ack_ack, __metrics, …) start with two underscores."""
    return stream_or_component.startswith(SYSTEM_STREAM_PREFIX)


def error_fields(error: Any, now: float | None = None) -> dict[str, Any]:
    """An ErrorInfo as Storm UI's errorTime/errorHost/errorPort/errorLapsedSecs, plus the worker log link."""
    if error is None:
        return {
            "lastError": "",
            "errorHost": "",
            "errorPort": None,
            "errorTime": None,
            "errorLapsedSecs": None,
            "errorWorkerLogLink": "",
        }
    now = time.time() if now is None else now
    return {
        "lastError": error.error,
        "errorHost": error.host or "",
        "errorPort": error.port,
        "errorTime": error.error_time_secs,
        "errorLapsedSecs": int(now - error.error_time_secs),
        "errorWorkerLogLink": "",
    }


def total_memory(supervisor: Any) -> float | None:
    """A supervisor's memory capacity in MB (Nimbus reports 'memory.mb'; older ones the config key)."""
    resources = supervisor.total_resources or {}
    return resources.get("memory.mb", resources.get("supervisor.memory.capacity.mb"))


def total_cpu_percent(supervisor: Any) -> float | None:
    """A supervisor's CPU capacity in percent of a core (100 = one core)."""
    resources = supervisor.total_resources or {}
    return resources.get("cpu.pcore.percent", resources.get("supervisor.cpu.capacity"))


def cluster_summary(info: Any) -> dict[str, Any]:
    """ClusterSummary as /api/v1/cluster/summary."""
    slots_total = sum(s.num_workers for s in info.supervisors)
    slots_used = sum(s.num_used_workers for s in info.supervisors)
    leader = next((n for n in info.nimbuses if n.isLeader), None)
    total_mem = sum(total_memory(s) or 0.0 for s in info.supervisors)
    total_cpu = sum(total_cpu_percent(s) or 0.0 for s in info.supervisors)
    used_mem = sum(float(s.used_mem or 0) for s in info.supervisors)
    used_cpu = sum(float(s.used_cpu or 0) for s in info.supervisors)
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
        "schedulerDisplayResource": True,
        "totalMem": total_mem,
        "totalCpu": total_cpu,
        "availMem": total_mem - used_mem,
        "availCpu": total_cpu - used_cpu,
        "memAssignedPercentUtil": round(100 * used_mem / total_mem, 1) if total_mem else 0.0,
        "cpuAssignedPercentUtil": round(100 * used_cpu / total_cpu, 1) if total_cpu else 0.0,
    }


def nimbus_summary(info: Any) -> dict[str, Any]:
    """The Nimbuses of a ClusterSummary as /api/v1/nimbus/summary."""
    return {
        "nimbuses": [
            {
                "host": n.host,
                "port": n.port,
                "status": "Leader" if n.isLeader else "Not a Leader",
                "version": n.version,
                "nimbusUpTime": pretty_uptime(n.uptime_secs),
                "nimbusUpTimeSeconds": n.uptime_secs,
                "nimbusLogLink": "",  # the stack logs the daemons to var/log/<service>.log, outside storm.log.dir
            }
            for n in info.nimbuses
        ]
    }


def supervisor_summary(info: Any) -> dict[str, Any]:
    """The supervisors of a ClusterSummary as /api/v1/supervisor/summary."""
    return {
        "schedulerDisplayResource": True,
        "supervisors": [
            {
                "id": s.supervisor_id,
                "host": s.host,
                "uptime": pretty_uptime(s.uptime_secs),
                "uptimeSeconds": s.uptime_secs,
                "slotsTotal": s.num_workers,
                "slotsUsed": s.num_used_workers,
                "slotsFree": s.num_workers - s.num_used_workers,
                "usedMem": s.used_mem or 0.0,
                "usedCpu": s.used_cpu or 0.0,
                "totalMem": total_memory(s),
                "totalCpu": total_cpu_percent(s),
                "version": s.version,
            }
            for s in info.supervisors
        ],
    }


def topology_row(t: Any) -> dict[str, Any]:
    """A TopologySummary (or TopologyPageInfo) as Storm UI's topology fields."""
    return {
        "id": t.id,
        "encodedId": t.id,
        "name": t.name,
        "status": t.status,
        "owner": t.owner,
        "uptime": pretty_uptime(t.uptime_secs),
        "uptimeSeconds": t.uptime_secs,
        "tasksTotal": t.num_tasks,
        "workersTotal": t.num_workers,
        "executorsTotal": t.num_executors,
        "schedulerInfo": t.sched_status,
        "replicationCount": t.replication_count,
        "requestedMemOnHeap": t.requested_memonheap,
        "requestedMemOffHeap": t.requested_memoffheap,
        "requestedCpu": t.requested_cpu,
        "assignedMemOnHeap": t.assigned_memonheap,
        "assignedMemOffHeap": t.assigned_memoffheap,
        "assignedCpu": t.assigned_cpu,
        "assignedTotalMem": (t.assigned_memonheap or 0) + (t.assigned_memoffheap or 0),
    }


def common_stats(stats: Any) -> dict[str, Any]:
    """Counts every component row has: executors, tasks, emitted, transferred, acked, failed."""
    common = stats.common_stats
    return {
        "executors": common.num_executors,
        "tasks": common.num_tasks,
        "emitted": common.emitted or 0,
        "transferred": common.transferred or 0,
        "acked": common.acked or 0,
        "failed": common.failed or 0,
    }


def spout_fields(stats: Any) -> dict[str, Any]:
    """A spout's ComponentAggregateStats: counts and complete latency."""
    spout = stats.specific_stats.spout if stats.specific_stats else None
    return {**common_stats(stats), "completeLatency": latency(spout.complete_latency_ms if spout else None)}


def bolt_fields(stats: Any) -> dict[str, Any]:
    """A bolt's ComponentAggregateStats: counts, executed, latencies and capacity."""
    bolt = stats.specific_stats.bolt if stats.specific_stats else None
    return {
        **common_stats(stats),
        "executed": (bolt.executed or 0) if bolt else 0,
        "executeLatency": latency(bolt.execute_latency_ms if bolt else None),
        "processLatency": latency(bolt.process_latency_ms if bolt else None),
        "capacity": f"{float((bolt.capacity if bolt else None) or 0.0):.3f}",
    }


def spout_row(spout_id: str, stats: Any) -> dict[str, Any]:
    """A spout's entry in a topology page's 'spouts'."""
    return {"spoutId": spout_id, "encodedSpoutId": spout_id, **spout_fields(stats), **error_fields(stats.last_error)}


def bolt_row(bolt_id: str, stats: Any) -> dict[str, Any]:
    """A bolt's entry in a topology page's 'bolts'."""
    return {"boltId": bolt_id, "encodedBoltId": bolt_id, **bolt_fields(stats), **error_fields(stats.last_error)}


def topology_stats(stats: Any) -> list[dict[str, Any]]:
    """TopologyStats as Storm UI's per-window 'topologyStats' list."""
    if stats is None:
        return []
    emitted = stats.window_to_emitted or {}
    return [
        {
            "window": window,
            "windowPretty": WINDOWS.get(window, window),
            "emitted": emitted.get(window, 0),
            "transferred": (stats.window_to_transferred or {}).get(window, 0),
            "acked": (stats.window_to_acked or {}).get(window, 0),
            "failed": (stats.window_to_failed or {}).get(window, 0),
            "completeLatency": latency((stats.window_to_complete_latencies_ms or {}).get(window)),
        }
        for window in sorted(emitted, key=window_order)
    ]


def worker_row(w: Any) -> dict[str, Any]:
    """A WorkerSummary as Storm UI's 'workers' entry, with a link to its log."""
    log = f"workers-artifacts/{w.topology_id}/{w.port}/worker.log"
    return {
        "supervisorId": w.supervisor_id,
        "host": w.host,
        "port": w.port,
        "topologyId": w.topology_id,
        "topologyName": w.topology_name,
        "executorsTotal": w.num_executors,
        "componentNumTasks": dict(w.component_to_num_tasks or {}),
        "uptime": pretty_uptime(w.uptime_secs),
        "uptimeSeconds": w.uptime_secs,
        "assignedMemOnHeap": w.assigned_memonheap,
        "assignedMemOffHeap": w.assigned_memoffheap,
        "assignedCpu": w.assigned_cpu,
        "workerLogLink": worker_log_link(w.topology_id, w.port),
        "workerLogFile": log,
    }


def worker_log_link(topology_id: str | None, port: int | None) -> str:
    """The UI's own log viewer page for a worker's worker.log."""
    if not topology_id or not port:
        return ""
    return f"/logviewer?file=workers-artifacts/{topology_id}/{port}/worker.log"


def topology_page(page: Any, window: str) -> dict[str, Any]:
    """TopologyPageInfo as /api/v1/topology/<id>."""
    conf = json.loads(page.topology_conf) if page.topology_conf else {}
    workers = [worker_row(w) for w in page.workers or []]
    spouts = [spout_row(k, v) for k, v in sorted((page.id_to_spout_agg_stats or {}).items())]
    bolts = [bolt_row(k, v) for k, v in sorted((page.id_to_bolt_agg_stats or {}).items())]
    for row in spouts + bolts:
        row["errorWorkerLogLink"] = worker_log_link(page.id, row["errorPort"]) if row["errorPort"] else ""
    debug = page.debug_options
    row = topology_row(page)
    if row["assignedMemOnHeap"] is None and workers:  # Nimbus fills the totals only in the cluster summary
        row["assignedMemOnHeap"] = sum(w["assignedMemOnHeap"] or 0 for w in workers)
        row["assignedMemOffHeap"] = sum(w["assignedMemOffHeap"] or 0 for w in workers)
        row["assignedCpu"] = sum(w["assignedCpu"] or 0 for w in workers)
        row["assignedTotalMem"] = row["assignedMemOnHeap"] + row["assignedMemOffHeap"]
    return {
        **row,
        "window": window,
        "windowHint": WINDOWS.get(window, window),
        "msgTimeout": conf.get("topology.message.timeout.secs"),
        "schedulerDisplayResource": True,
        "debug": bool(debug and debug.enable),
        "samplingPct": (debug.samplingpct if debug else None) or 0,
        "topologyStats": topology_stats(page.topology_stats),
        "spouts": spouts,
        "bolts": bolts,
        "workers": workers,
        "configuration": conf,
    }


def component_type(page: Any) -> str:
    """'spout' or 'bolt' from ComponentPageInfo.component_type (ComponentType: BOLT=1, SPOUT=2)."""
    return "spout" if page.component_type == 2 else "bolt"


def window_stats(page: Any, kind: str) -> list[dict[str, Any]]:
    """A component's per-window stats: 'spoutSummary' or 'boltStats' entries."""
    fields = spout_fields if kind == "spout" else bolt_fields
    return [
        {
            "window": w,
            "windowPretty": WINDOWS.get(w, w),
            **fields(s),
            "executors": page.num_executors,
            "tasks": page.num_tasks,
        }
        for w, s in sorted((page.window_to_stats or {}).items(), key=lambda item: window_order(item[0]))
    ]


def input_stats(page: Any, include_sys: bool) -> list[dict[str, Any]]:
    """A bolt's per (component, stream) input: executed, latencies, acked, failed."""
    rows = []
    for gsid, stats in (page.gsid_to_input_stats or {}).items():
        if is_system(gsid.streamId) and not include_sys:
            continue
        bolt = stats.specific_stats.bolt if stats.specific_stats else None
        rows.append(
            {
                "component": gsid.componentId,
                "encodedComponentId": gsid.componentId,
                "stream": gsid.streamId,
                "executeLatency": latency(bolt.execute_latency_ms if bolt else None),
                "processLatency": latency(bolt.process_latency_ms if bolt else None),
                "executed": (bolt.executed or 0) if bolt else 0,
                "acked": stats.common_stats.acked or 0,
                "failed": stats.common_stats.failed or 0,
            }
        )
    return sorted(rows, key=lambda r: (r["component"], r["stream"]))


def output_stats(page: Any, include_sys: bool) -> list[dict[str, Any]]:
    """A component's per-stream output: emitted, transferred (and acked/failed/latency for spouts)."""
    rows = []
    for stream, stats in (page.sid_to_output_stats or {}).items():
        if is_system(stream) and not include_sys:
            continue
        spout = stats.specific_stats.spout if stats.specific_stats else None
        rows.append(
            {
                "stream": stream,
                "emitted": stats.common_stats.emitted or 0,
                "transferred": stats.common_stats.transferred or 0,
                "acked": stats.common_stats.acked or 0,
                "failed": stats.common_stats.failed or 0,
                "completeLatency": latency(spout.complete_latency_ms if spout else None),
            }
        )
    return sorted(rows, key=lambda r: r["stream"])


def executor_row(executor: Any, kind: str, topology_id: str) -> dict[str, Any]:
    """An ExecutorAggregateStats as a component page's 'executorStats' entry."""
    summary = executor.exec_summary
    info = summary.executor_info
    fields = spout_fields if kind == "spout" else bolt_fields
    return {
        "id": f"[{info.task_start}-{info.task_end}]",
        "encodedId": f"[{info.task_start}-{info.task_end}]",
        "host": summary.host,
        "port": summary.port,
        "uptime": pretty_uptime(summary.uptime_secs),
        "uptimeSeconds": summary.uptime_secs,
        **fields(executor.stats),
        "workerLogLink": worker_log_link(topology_id, summary.port),
    }


def component_errors(page: Any, now: float | None = None) -> list[dict[str, Any]]:
    """A component's recent errors, newest first: errorTime, errorHost, errorPort, error, errorLapsedSecs."""
    rows = []
    for error in sorted(page.errors or [], key=lambda e: -e.error_time_secs):
        fields = error_fields(error, now)
        rows.append(
            {
                "errorTime": fields["errorTime"],
                "errorHost": fields["errorHost"],
                "errorPort": fields["errorPort"],
                "error": fields["lastError"],
                "errorLapsedSecs": fields["errorLapsedSecs"],
                "errorWorkerLogLink": worker_log_link(page.topology_id, error.port),
            }
        )
    return rows


def component_page(page: Any, window: str, include_sys: bool) -> dict[str, Any]:
    """ComponentPageInfo as /api/v1/topology/<id>/component/<component>."""
    kind = component_type(page)
    body: dict[str, Any] = {
        "id": page.component_id,
        "encodedId": page.component_id,
        "name": page.topology_name,
        "topologyId": page.topology_id,
        "encodedTopologyId": page.topology_id,
        "topologyStatus": page.topology_status,
        "componentType": kind,
        "executors": page.num_executors,
        "tasks": page.num_tasks,
        "window": window,
        "windowHint": WINDOWS.get(window, window),
        "debug": bool(page.debug_options and page.debug_options.enable),
        "componentErrors": component_errors(page),
        "outputStats": output_stats(page, include_sys),
        "executorStats": sorted(
            (executor_row(e, kind, page.topology_id) for e in page.exec_stats or []),
            key=lambda r: (r["port"] or 0, r["id"]),
        ),
        "resourcesMap": dict(page.resources_map or {}),
    }
    if kind == "spout":
        body["spoutSummary"] = window_stats(page, "spout")
    else:
        body["boltStats"] = window_stats(page, "bolt")
        body["inputStats"] = input_stats(page, include_sys)
    return body


def grouping_name(grouping: Any) -> str:
    """The name of the set field of a Thrift Grouping union ('shuffle', 'fields', …)."""
    for name in (
        "fields",
        "shuffle",
        "all",
        "none",
        "direct",
        "local_or_shuffle",
        "custom_object",
        "custom_serialized",
    ):
        if getattr(grouping, name, None) is not None:
            return name
    return "unknown"


def stream_counts(
    executors: list[Any], window: str
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str, str], int], dict[str, float]]:
    """Per (component, stream) transferred, per (source, stream, target) executed, and per-bolt busy ms."""
    transferred: dict[tuple[str, str], int] = defaultdict(int)
    executed: dict[tuple[str, str, str], int] = defaultdict(int)
    busy_ms: dict[str, float] = defaultdict(float)
    for executor in executors:
        stats = executor.stats
        if stats is None:
            continue
        for stream, count in (stats.transferred or {}).get(window, {}).items():
            transferred[(executor.component_id, stream)] += count
        bolt = stats.specific.bolt if stats.specific else None
        if bolt is None:
            continue
        latencies = (bolt.execute_ms_avg or {}).get(window, {})
        for gsid, count in (bolt.executed or {}).get(window, {}).items():
            executed[(gsid.componentId, gsid.streamId, executor.component_id)] += count
            busy_ms[executor.component_id] += count * float(latencies.get(gsid, 0.0) or 0.0)
    return transferred, executed, busy_ms


def visualization(topology: Any, info: Any, window: str) -> dict[str, Any]:
    """/api/v1/topology/<id>/visualization: components with their inputs, and every edge with its rate.

    A component maps to Storm UI's keys (':type', ':inputs', ':capacity', ':latency', ':transferred');
    'edges' adds what the graph draws: tuples/s per (source, stream, target) over the window.
    """
    seconds = window_seconds(window, info.uptime_secs)
    transferred, executed, busy_ms = stream_counts(info.executors or [], window)
    components: dict[str, Any] = {}
    edges = []
    for kind, specs in (("spout", topology.spouts or {}), ("bolt", topology.bolts or {})):
        for name, spec in specs.items():
            if is_system(name):
                continue
            inputs = [
                {
                    ":component": g.componentId,
                    ":stream": g.streamId,
                    ":sani-stream": g.streamId,
                    ":grouping": grouping_name(grp),
                }
                for g, grp in (spec.common.inputs or {}).items()
                if not is_system(g.componentId)
            ]
            components[name] = {
                ":type": kind,
                ":inputs": inputs,
                ":link": f"/component.html?topology_id={info.id}&id={name}",
                ":transferred": sum(v for (c, s), v in transferred.items() if c == name and not is_system(s)),
                ":capacity": round(busy_ms.get(name, 0.0) / (seconds * 1000.0), 3),
                ":rate": round(
                    sum(v for (c, s), v in transferred.items() if c == name and not is_system(s)) / seconds, 2
                ),
                ":streams": sorted(s for s in (spec.common.streams or {}) if not is_system(s)),
                ":parallelism": spec.common.parallelism_hint,
            }
            for item in inputs:
                count = executed.get((item[":component"], item[":stream"], name), 0)
                edges.append(
                    {
                        "source": item[":component"],
                        "target": name,
                        "stream": item[":stream"],
                        "grouping": item[":grouping"],
                        "executed": count,
                        "rate": round(count / seconds, 2),
                    }
                )
    return {
        "window": window,
        "windowHint": WINDOWS.get(window, window),
        "windowSeconds": seconds,
        "components": components,
        "edges": sorted(edges, key=lambda e: (e["source"], e["stream"], e["target"])),
    }
