"""Pipeline benchmark: end-to-end throughput and latency, and where the time goes (Storm UI capacity/latencies).

Generates N applicants (default 20000, no samples, no dirt), loads them, submits `loan-risk` (unless --no-submit),
publishes them with the producer, waits until all are in HBase or dead-lettered, then prints:
- end-to-end throughput (decided per second, first Kafka timestamp -> last HBase write) and latency
  p50/p90/p99/max (decision:kafka_ts_ms -> decision:saved_at_ms), plus the producer's own rate;
- per component from Storm UI's REST API (/api/v1/topology/<id>?window=600): executors, executed, acked, failed,
  capacity (share of the window an executor was busy: ~1.0 = saturated), execute and process latency (ms),
  and the spout's complete latency; the component with the highest capacity is the bottleneck.

    .venv/bin/python benchmarks/bench_pipeline.py [--generated N] [--no-submit] [--rate R] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "src")]

from jobs import demo, reconcile  # noqa: E402
from jobs.settings import Settings  # noqa: E402


def as_float(value: Any) -> float | None:
    """Read a Storm UI figure (a number or a numeric string) as float, None when absent."""
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def component_rows(info: dict[str, Any]) -> list[dict[str, Any]]:
    """Extract the per-component figures of a Storm UI topology page, spouts first."""
    rows = [
        {
            "component": s.get("spoutId"),
            "kind": "spout",
            "executors": s.get("executors"),
            "emitted": s.get("emitted"),
            "acked": s.get("acked"),
            "failed": s.get("failed"),
            "capacity": None,
            "execute_ms": None,
            "process_ms": None,
            "complete_ms": as_float(s.get("completeLatency")),
        }
        for s in info.get("spouts", [])
    ]
    rows += [
        {
            "component": b.get("boltId"),
            "kind": "bolt",
            "executors": b.get("executors"),
            "emitted": b.get("emitted"),
            "executed": b.get("executed"),
            "acked": b.get("acked"),
            "failed": b.get("failed"),
            "capacity": as_float(b.get("capacity")),
            "execute_ms": as_float(b.get("executeLatency")),
            "process_ms": as_float(b.get("processLatency")),
            "complete_ms": None,
        }
        for b in info.get("bolts", [])
    ]
    return rows


def bottleneck(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return the bolt with the highest capacity (the busiest executors), or None."""
    bolts = [r for r in rows if r["kind"] == "bolt" and r["capacity"] is not None]
    return max(bolts, key=lambda r: r["capacity"], default=None)


def format_components(rows: list[dict[str, Any]]) -> str:
    """Return the per-component table."""

    def num(v: Any, fmt: str = "{:,.0f}") -> str:
        return "-" if v is None else fmt.format(float(v))

    head = (
        f"{'component':<14} {'exec':>4} {'executed':>10} {'acked':>10} {'failed':>7} {'capacity':>8} "
        f"{'execute ms':>10} {'process ms':>10} {'complete ms':>11}"
    )
    lines = [head, "-" * len(head)]
    lines.extend(
        f"{r['component']:<14} {num(r['executors']):>4} {num(r.get('executed') or r.get('emitted')):>10} "
        f"{num(r['acked']):>10} {num(r['failed']):>7} {num(r['capacity'], '{:.3f}'):>8} "
        f"{num(r['execute_ms'], '{:.2f}'):>10} {num(r['process_ms'], '{:.2f}'):>10} "
        f"{num(r['complete_ms'], '{:.1f}'):>11}"
        for r in rows
    )
    return "\n".join(lines)


def storm_figures(settings: Settings, window: str = "600") -> list[dict[str, Any]]:
    """Read the per-component figures of `loan-risk` from Storm UI."""
    import requests

    found = demo.storm_topology_id(settings)
    if found is None:
        return []
    resp = requests.get(
        f"{settings.storm_ui_url}/api/v1/topology/{found[0]}",
        params={"window": window},
        headers=settings.auth_headers("reader"),
        timeout=10,
    )
    resp.raise_for_status()
    return component_rows(resp.json())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--generated", type=int, default=20_000)
    p.add_argument("--no-submit", action="store_true", help="measure the running topology")
    p.add_argument("--rate", type=float, default=None, help="producer rate limit (records/s)")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    args = parse_args(argv)
    settings = Settings.load()
    seed = int(time.time() * 1000) % 1_000_000_000
    run = demo.run_pipeline(
        settings,
        demo.new_run_dir("bench", settings),
        args.generated,
        seed,
        0.0,
        samples=False,
        submit=not args.no_submit,
        rate=args.rate,
        timeout_s=args.timeout,
        whole_table=False,
    )
    ids = demo.csv_ids(run.run_dir / "applicants.csv")
    rows, _ = reconcile.fetch_rows(settings, ids)
    fig = demo.figures(rows.values())
    lat = {f"p{q}": demo.percentile(fig.latency_ms, q) for q in (50, 90, 99)}
    components = storm_figures(settings)
    top = bottleneck(components)
    print(f"\nbenchmark: {len(ids):,} generated applicants, {fig.decided:,} decided, accounted={run.accounted}")
    print(
        f"end-to-end throughput {fig.throughput or 0:,.0f} applicants/s; latency Kafka ts -> HBase write "
        f"p50 {lat['p50']} ms, p90 {lat['p90']} ms, p99 {lat['p99']} ms, max {max(fig.latency_ms, default=None)} ms"
    )
    print("\nStorm UI, last 10 minutes:\n" + format_components(components))
    if top:
        print(f"\nbottleneck: {top['component']} (capacity {top['capacity']:.3f}, execute {top['execute_ms']} ms)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "n": len(ids),
                    "decided": fig.decided,
                    "throughput": fig.throughput,
                    "latency_ms": lat,
                    "components": components,
                },
                indent=2,
            )
        )
    return 0 if run.accounted else 1


if __name__ == "__main__":
    sys.exit(main())
