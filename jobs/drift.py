"""Input drift of recent applicants against the champion's training population (`make drift`).

    python -m jobs.drift [--model DIR] [--window 5000] [--since ISO] [--file applicants.jsonl]

The recent sample is the sliding window of the last ``--window`` applicants stored in HBase (by Kafka
timestamp; ``--since`` bounds it by time instead), or the canonical JSON lines of ``--file`` (a generator
run, before it enters the pipeline). Each applicant's model inputs are computed exactly as the model sees
them (``loanrisk.features``) and its default probability by the model itself; their PSI against the
reference distribution stored in the model metadata at training time is printed with its band (< 0.1
stable, 0.1-0.25 watch, > 0.25 act), and written to var/drift/drift.json, drift.md and drift.prom (Prometheus
text format: ``loanrisk_psi{variable="dti"}`` and ``loanrisk_drift_band``, for a node exporter's textfile
collector or any scraper). Exit status 0 whatever the band; the report says what to do.
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from jobs.rescore import hbase_connection, parse_time
from jobs.settings import ROOT, Settings
from loanrisk import drift, features
from loanrisk import events as ev
from loanrisk.applicant import Applicant
from risk_api.model import RiskModel, load_model

OUT_DIR = ROOT / "var" / "drift"
DEFAULT_WINDOW = 5000
RECENT_COLUMNS = ev.stored_columns([ev.COL_APPLICANT_JSON, ev.COL_KAFKA_TS])  # any row schema
BAND_LEVEL = {drift.STABLE: 0, drift.WATCH: 1, drift.ACT: 2}


def model_columns(model: RiskModel, applicants: Sequence[Applicant]) -> dict[str, np.ndarray]:
    """Return each model input of the applicants (as the model sees them) and their predicted probability."""
    numeric: list[str] = model.metadata["features"]["numeric"]
    rows = np.array([features.numeric_values(a) for a in applicants], dtype=float).reshape(len(applicants), -1)
    columns = {name: rows[:, features.NUMERIC_FEATURES.index(name)] for name in numeric}
    return columns | {drift.PROBABILITY: model.probabilities(applicants) if applicants else np.array([])}


def stored_reference(model: RiskModel) -> dict[str, Any] | str:
    """Return the model's stored reference distribution, or why there is none."""
    found = model.metadata.get("reference_distribution", {}).get("variables")
    if not found:
        return f"model {model.version} has no reference distribution in its metadata (retrain: `make train`)"
    return dict(found)


def measure(model: RiskModel, applicants: Sequence[Applicant]) -> list[drift.Drift] | str:
    """Return the drift of every model input and of the probability, worst first, or why it cannot be told."""
    stored = stored_reference(model)
    if isinstance(stored, str):
        return stored
    if not applicants:
        return "no applicants in the window"
    return drift.report(stored, model_columns(model, applicants))


def applicants_from_lines(lines: Iterable[str]) -> list[Applicant]:
    """Return the applicants of canonical JSON lines (lines that are not one are skipped)."""
    found = []
    for line in lines:
        try:
            found.append(Applicant(**orjson.loads(line)))
        except (ValueError, TypeError):
            continue
    return found


def recent_rows(
    rows: Iterable[tuple[bytes, Mapping[bytes, bytes]]], window: int, since_ms: int | None
) -> list[Applicant]:
    """Return the applicants of the ``window`` latest rows (by Kafka timestamp) received since since_ms."""
    latest: list[tuple[int, bytes, bytes]] = []
    for key, cols in rows:
        try:
            ts = int(cols[ev.COL_KAFKA_TS])
        except (KeyError, ValueError):
            continue
        if since_ms is not None and ts < since_ms:
            continue
        item = (ts, key, cols.get(ev.COL_APPLICANT_JSON, b""))
        if len(latest) < window:
            heapq.heappush(latest, item)
        else:
            heapq.heappushpop(latest, item)
    return applicants_from_lines(body.decode() for _, _, body in sorted(latest))


def scan_recent(settings: Settings, window: int, since_ms: int | None) -> list[Applicant]:
    """Return the recent applicants stored in HBase (a batched scan of two columns)."""
    conn = hbase_connection(settings)
    try:
        scan = conn.table(ev.TABLE).scan(columns=RECENT_COLUMNS, batch_size=5000)
        return recent_rows(((key, ev.cells(cols)) for key, cols in scan), window, since_ms)
    finally:
        conn.close()


def prometheus(drifts: Sequence[drift.Drift], model_version: str) -> str:
    """Return the drift as Prometheus text exposition."""
    lines = [
        "# HELP loanrisk_psi Population stability index of recent applicants vs the training data.",
        "# TYPE loanrisk_psi gauge",
    ]
    lines += [f'loanrisk_psi{{model="{model_version}",variable="{d.name}"}} {d.psi:.6f}' for d in drifts]
    lines += [
        "# HELP loanrisk_drift_band Worst drift band: 0 stable, 1 watch, 2 act.",
        "# TYPE loanrisk_drift_band gauge",
        f'loanrisk_drift_band{{model="{model_version}"}} {BAND_LEVEL[drift.overall(drifts)]}',
    ]
    return "\n".join(lines) + "\n"


def markdown(drifts: Sequence[drift.Drift], model_version: str, source: str) -> str:
    """Return the drift report as Markdown (also what is printed)."""
    lines = [
        f"# Input drift vs model {model_version}",
        "",
        (
            f"Recent sample: {source}. Overall: "
            f"**{drift.overall(drifts)}** (PSI < 0.1 stable, 0.1-0.25 watch, > 0.25 act)."
        ),
        "",
        "| variable | PSI | band | n |",
        "|---|---:|---|---:|",
    ]
    lines += [f"| {d.name} | {d.psi:.4f} | {d.band} | {d.n:,} |" for d in drifts]
    return "\n".join(lines) + "\n"


def write(drifts: Sequence[drift.Drift], model_version: str, source: str, out: Path) -> str:
    """Write drift.json, drift.md and drift.prom into out; return the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(drifts, model_version, source)
    report = {
        "model_version": model_version,
        "source": source,
        "overall": drift.overall(drifts),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "drift": [d.to_dict() for d in drifts],
    }
    (out / "drift.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "drift.md").write_text(text)
    (out / "drift.prom").write_text(prometheus(drifts, model_version))
    return text


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m jobs.drift", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="latest stored applicants to compare")
    parser.add_argument("--since", default=None, help="only applicants received since (ISO time or epoch ms)")
    parser.add_argument("--file", type=Path, default=None, help="canonical JSON lines instead of HBase")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    if not 1 <= args.window <= 1_000_000:
        parser.error("--window must be 1..1000000")
    return args


def main(argv: list[str] | None = None) -> int:
    """Measure, print and write the drift report."""
    args = parse_args(argv)
    model = load_model(args.model)
    if isinstance(model, str):
        print(f"error: {model}", file=sys.stderr)
        return 2
    if args.file:
        with args.file.open(encoding="utf-8") as handle:
            applicants = applicants_from_lines(handle)[-args.window :]
        source = f"{len(applicants):,} applicants of {args.file}"
    else:
        applicants = scan_recent(Settings.load(), args.window, parse_time(args.since))
        source = f"the latest {len(applicants):,} applicants stored in HBase table {ev.TABLE}"
    drifts = measure(model, applicants)
    if isinstance(drifts, str):
        print(f"error: {drifts}", file=sys.stderr)
        return 2
    print(write(drifts, model.version, source, args.out))
    print(f"wrote {args.out}/drift.json, drift.md, drift.prom")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
