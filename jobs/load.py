"""Load LendingClub CSV files into MySQL: `python -m jobs.load --samples` or `python -m jobs.load FILE.csv ...`.

Streams in constant memory (csv module, batches of parameterized upserts), shows a progress bar on stderr
and ends with a summary per file: read, inserted, updated, unchanged, rejected by reason. Loading the same
file twice changes nothing (every row is counted as unchanged).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TextIO

from tqdm import tqdm

from adapters import mysql as db
from adapters.settings import SAMPLES, Settings, default_data_dir
from jobs import outage
from loanrisk.cleaning import Rejection, clean_record

BATCH_SIZE = 1000
HEADER_SCAN_LINES = 20  # raw LoanStats files start with a "Notes offered by Prospectus" line

csv.field_size_limit(10 * 1024 * 1024)  # `desc` can be long in the raw files


@dataclass
class LoadSummary:
    """What loading one file did."""

    file: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def add(self, counts: db.UpsertCounts) -> None:
        """Add the counts of one upserted batch."""
        self.inserted += counts.inserted
        self.updated += counts.updated
        self.unchanged += counts.unchanged

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": dict(sorted(self.rejected.items())),
            "applicants": self.inserted + self.updated + self.unchanged,
        }


def counted_lines(handle: TextIO, bar: tqdm[NoReturn]) -> Iterator[str]:
    """Yield the lines of handle, advancing the progress bar by their length."""
    for line in handle:
        bar.update(len(line))
        yield line


def find_header(lines: Iterator[str]) -> list[str] | None:
    """Skip preamble lines until the CSV header (a row with `id` and `loan_amnt`); return its columns."""
    for _ in range(HEADER_SCAN_LINES):
        line = next(lines, None)
        if line is None:
            return None
        columns = next(csv.reader([line]), [])
        if "id" in columns and "loan_amnt" in columns:
            return columns
    return None


def read_rows(lines: Iterator[str], columns: list[str]) -> Iterator[dict[str, str]]:
    """Yield the data rows as dicts keyed by the header's columns."""
    yield from csv.DictReader(lines, fieldnames=columns)


def load_file(conn: Any, path: Path, batch_size: int = BATCH_SIZE) -> LoadSummary:
    """Clean and upsert every row of one LendingClub CSV file; return its summary."""
    summary = LoadSummary(file=str(path))
    batch: list[db.Labelled] = []
    batch_ids: set[str] = set()
    with (
        open(path, newline="", encoding="utf-8", errors="replace") as handle,
        tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=path.name, file=sys.stderr, leave=True) as bar,
    ):
        lines = counted_lines(handle, bar)
        columns = find_header(lines)
        if columns is None:
            summary.rejected["NO_HEADER"] += 1
            return summary
        for row in read_rows(lines, columns):
            summary.read += 1
            result = clean_record(row)
            if isinstance(result, Rejection):
                summary.rejected[result.reason] += 1
                continue
            if result.id in batch_ids or len(batch) >= batch_size:  # a repeated id goes in the next batch
                summary.add(db.upsert_applicants(conn, batch))
                batch.clear()
                batch_ids.clear()
            batch.append(db.Labelled(result, (row.get("loan_status") or "").strip() or None))
            batch_ids.add(result.id)
        summary.add(db.upsert_applicants(conn, batch))
    return summary


def sample_paths() -> list[Path]:
    """Return the shared LendingClub samples, or exit with a clear message when they are absent."""
    data_dir = default_data_dir()
    paths = [data_dir / name for name in SAMPLES] if data_dir else []
    missing = [p for p in paths if not p.exists()]
    if not paths or missing:
        sys.exit(f"shared samples not found (set LOANRISK_DATA_DIR); missing: {missing or SAMPLES}")
    return paths


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m jobs.load", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="LendingClub CSV files to load")
    parser.add_argument("--samples", action="store_true", help="load both shared samples")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument(
        "--wait",
        type=float,
        default=outage.DEFAULT_BUDGET_S,
        help="seconds to wait for MySQL when it does not answer (default %(default)s)",
    )
    args = parser.parse_args(argv)
    if not args.files and not args.samples:
        parser.error("give FILE.csv ... or --samples")
    if not 1 <= args.batch_size <= 10_000:
        parser.error("--batch-size must be 1..10000")
    return args


def load_all(settings: Settings, paths: list[Path], batch_size: int) -> None:
    """Load every file over one connection and print one JSON summary line per file, then the total."""
    conn = db.connect(settings)
    try:
        db.ensure_schema(conn)
        for path in paths:
            print(json.dumps(load_file(conn, path, batch_size).to_dict()), flush=True)
        print(json.dumps({"total_applicants_in_db": db.count_applicants(conn)}), flush=True)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    """Load the files named on the command line and print one JSON summary line per file."""
    args = parse_args(argv)
    paths = [*(sample_paths() if args.samples else []), *args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        sys.exit(f"no such file: {', '.join(missing)}")
    settings = Settings.load()
    try:  # upserts are idempotent: after an outage the files are simply loaded again
        outage.until_up(
            lambda: load_all(settings, paths, args.batch_size),
            f"MySQL at {settings.db_host}:{settings.db_port}",
            label="load",
            budget_s=args.wait,
            errors=(db.DatabaseError, OSError),
        )
    except (db.DatabaseError, OSError) as err:
        sys.exit(
            f"cannot reach MySQL at {settings.db_host}:{settings.db_port} ({outage.describe(err)}); is it up? "
            "stack/stack.sh up mariadb"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
