"""HBase region server + Thrift CPU per row, for row schema 3 (three cells) against schema 2 (seven cells).

    .venv/bin/python benchmarks/bench_hbase_cells.py [--rows 100000] [--rounds 2] [--batch 500]

Needs the stack (`make up`). Each round writes ``--rows`` rows of each layout into a scratch table with the
pipeline table's family settings, as the SaveBolt does (per batch: the multi-get of the fingerprint and save
time, then one batched mutation), then flushes the table through the Admin API and waits 3 s. It prints the CPU
the region server and the Thrift gateway used (from /proc), per row, for the puts and for the flush, and drops
the scratch tables. The rows are the pipeline's own (``tests.lab_rows``: generated applicants, decided by the
pre-screen or the Risk API's service in process); schema 2 holds the same fields, four of them in cells of
their own. Layouts alternate order between rounds; the first round also warms the path up.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import orjson

from adapters import hbase
from jobs.settings import ROOT, Settings
from loanrisk import events as ev
from risk_api.service import RiskService, build_service

sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
from tests.lab_rows import Row, generated, stored_rows  # noqa: E402

# `make bench`'s CPU meter per component, from /proc (a script beside this one, not a package: loaded by name)
bench: Any = importlib.import_module("bench_throughput")

FAMILY = {"max_versions": 1, "block_cache_enabled": True, "bloom_filter_type": "ROW"}  # as `make up` creates it
SCHEMA_2_CELLS = (ev.COL_SAVED_AT, ev.COL_KAFKA_TS, ev.COL_DECIDED_BY, ev.COL_MODEL_VERSION)
SCHEMA_2_RECORD_KEYS = ("decided_by", "model_version", "kafka_ts_ms", "saved_at_ms")
READS = {3: ev.stored_columns([ev.COL_FINGERPRINT, ev.COL_SAVED_AT]), 2: [ev.COL_FINGERPRINT, ev.COL_SAVED_AT]}


def as_schema_2(columns: dict[bytes, bytes]) -> dict[bytes, bytes]:
    """Return a schema-3 row as schema 2 stored it: four fields in cells of their own beside the record."""
    fields = ev.cells(columns)
    record = {k: v for k, v in orjson.loads(columns[ev.COL_RECORD]).items() if k not in SCHEMA_2_RECORD_KEYS}
    return {
        ev.COL_APPLICANT_JSON: columns[ev.COL_APPLICANT_JSON],
        ev.COL_FINGERPRINT: columns[ev.COL_FINGERPRINT],
        **{col: fields[col] for col in SCHEMA_2_CELLS},
        ev.COL_RECORD: orjson.dumps(record | {"schema_version": 2}),
    }


def rows_of(unique: list[Row], count: int, schema: int, tag: str) -> Iterator[Row]:
    """Yield count rows of the layout, cycling over the unique rows under fresh keys."""
    for i in range(count):
        key, columns = unique[i % len(unique)]
        yield f"{key.decode()}-{tag}-{i}".encode(), columns if schema == 3 else as_schema_2(columns)


def flush(table: str) -> None:
    """Flush the table's memstores through the Admin API (stack/hbase/FlushTable.java, Java's source launcher)."""
    var = ROOT / "var"
    subprocess.run(
        [
            "java",
            "-Xmx256m",
            "-Djava.net.preferIPv4Stack=true",
            "--add-opens",
            "java.base/java.lang=ALL-UNNAMED",
            "--add-opens",
            "java.base/java.nio=ALL-UNNAMED",
            f"-Dlog4j2.configurationFile={var / 'conf' / 'hbase' / 'log4j2.xml'}",
            "-cp",
            f"{var / 'conf' / 'hbase'}:{var / 'opt' / 'hbase' / 'lib'}/*",
            str(ROOT / "stack" / "hbase" / "FlushTable.java"),
            table,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def write(table: Any, rows: Iterator[Row], schema: int, batch_size: int) -> None:
    """Write rows as the SaveBolt does: per batch, the multi-get of existing rows, then one mutation."""
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == batch_size:
            table.rows(sorted(key for key, _ in batch), columns=READS[schema])
            with table.batch(transaction=True) as mutation:
                for key, columns in batch:
                    mutation.put(key, columns)
            batch = []


def measure(conn: Any, unique: list[Row], schema: int, args: argparse.Namespace, tag: str) -> str:
    """Write and flush one layout into a scratch table; return its line of figures."""
    name = f"bench_cells_{schema}_{tag}"
    conn.create_table(name, dict.fromkeys(ev.FAMILIES, FAMILY))
    try:
        time.sleep(2)
        meter, began = bench.CpuMeter(), time.perf_counter()
        meter.start()
        write(conn.table(name), rows_of(unique, args.rows, schema, tag), schema, args.batch)
        time.sleep(1)
        (written, _), seconds = meter.stop(), time.perf_counter() - began
        meter.start()
        flush(name)
        time.sleep(3)
        flushed, _ = meter.stop()
    finally:
        conn.delete_table(name, disable=True)
    per_row = {k: 1000 * written.get(k, 0.0) / args.rows for k in ("hbase", "hbase thrift")}
    flush_ms = 1000 * flushed.get("hbase", 0.0) / args.rows
    cells = len(next(rows_of(unique, 1, schema, tag))[1])
    return (
        f"  schema {schema} ({cells} cells)   {args.rows / seconds:>9,.0f}   {per_row['hbase']:>9.4f}"
        f"   {per_row['hbase thrift']:>9.4f}   {flush_ms:>9.4f}   {sum(per_row.values()) + flush_ms:>9.4f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    service = build_service(ROOT / "models", ROOT / "config" / "risk_policy.json", {})
    if not isinstance(service, RiskService):
        raise SystemExit(service)
    unique = stored_rows(service, generated(min(args.rows, 10_000), seed=31))
    settings = Settings.load()
    conn = hbase.connect(settings.hbase_host, settings.hbase_port, 60_000)
    print(f"HBase CPU ms per row ({args.rows:,} rows a layout, batches of {args.batch}; load {os.getloadavg()[0]:.2f})")
    print("  layout               rows/s    hbase puts   thrift     flush       total")
    try:
        for round_no in range(args.rounds):
            print(f"round {round_no + 1}")
            for schema in (2, 3) if round_no % 2 == 0 else (3, 2):
                print(measure(conn, unique, schema, args, f"{os.getpid()}_{round_no}"), flush=True)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
