"""The loader against the real MariaDB (a scratch database): counts, idempotency, reject reasons, raw-file junk."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters import mysql as db
from adapters.settings import SAMPLES, Settings, default_data_dir
from jobs.generate import write
from jobs.load import load_file

PREAMBLE = "Notes offered by Prospectus (https://www.lendingclub.com/info/prospectus.action)\n"
FOOTER = "\nTotal amount funded in policy code 1: 1443412975\nTotal amount funded in policy code 2: 511988838\n"


@pytest.fixture
def conn(settings: Settings) -> Iterator[Any]:
    """Yield a connection to a fresh scratch database loanrisk_test_<random>; drop it afterwards."""
    name = f"{settings.db_name}_test_{uuid.uuid4().hex[:10]}"
    admin = db.connect(settings, database="")
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    connection = db.connect(settings, database=name)
    db.ensure_schema(connection)
    yield connection
    connection.close()
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    admin.close()


def raw_file(tmp_path: Path, count: int, seed: int, dirt_rate: float = 0.0) -> tuple[Path, list[dict[str, Any]]]:
    """Write a generated CSV wrapped like a raw LoanStats download (preamble line, footer rows)."""
    body = tmp_path / "body.csv"
    write(count, "csv", body, seed=seed, dirt_rate=dirt_rate)
    manifest_path = Path(f"{body}.dirt.jsonl")
    manifest = [json.loads(x) for x in manifest_path.read_text().splitlines()] if manifest_path.exists() else []
    path = tmp_path / "LoanStats_generated.csv"
    path.write_text(PREAMBLE + body.read_text().rstrip("\n") + FOOTER)
    return path, manifest


def test_loading_twice_changes_nothing(conn: Any, tmp_path: Path) -> None:
    path, _ = raw_file(tmp_path, 2500, seed=31)
    first = load_file(conn, path, batch_size=300)
    second = load_file(conn, path, batch_size=300)
    assert (first.read, first.inserted, first.updated, first.unchanged) == (2502, 2500, 0, 0)
    assert first.rejected == Counter({"JUNK_ROW": 2})
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 2500)
    assert db.count_applicants(conn) == 2500


def test_a_changed_row_is_one_update(conn: Any, tmp_path: Path) -> None:
    path, _ = raw_file(tmp_path, 300, seed=32)
    load_file(conn, path)
    lines = path.read_text().splitlines()
    fields = next(csv.reader([lines[5]]))
    fields[1] = str(float(fields[1]) + 25)  # loan_amnt
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    lines[5] = out.getvalue()
    path.write_text("\n".join(lines) + "\n")
    again = load_file(conn, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 299)


def test_dirty_rows_are_rejected_by_reason(conn: Any, tmp_path: Path) -> None:
    path, manifest = raw_file(tmp_path, 3000, seed=33, dirt_rate=0.06)
    summary = load_file(conn, path, batch_size=250)
    must_reject = [m for m in manifest if m["expect"] == "reject" and m["kind"] != "duplicate_id"]
    duplicates = [m for m in manifest if m["kind"] == "duplicate_id"]
    assert sum(summary.rejected.values()) == len(must_reject) + 2  # + the two footer rows
    assert summary.rejected["JUNK_ROW"] == sum(m["kind"] == "junk_row" for m in manifest) + 2
    assert {"MISSING_FIELD", "OUT_OF_RANGE", "BAD_NUMBER", "UNKNOWN_CATEGORY"} <= set(summary.rejected)
    # A repeated id in a CSV is a newer version of the row: it updates, it does not add.
    assert summary.inserted + summary.updated == summary.read - sum(summary.rejected.values())
    assert summary.updated == len(duplicates)
    assert db.count_applicants(conn) == summary.inserted


@pytest.mark.parametrize("name", SAMPLES)
def test_the_shared_samples_load_completely_and_idempotently(conn: Any, name: str) -> None:
    data_dir = default_data_dir()
    if data_dir is None or not (data_dir / name).exists():
        pytest.skip("shared LendingClub samples not present")
    with open(data_dir / name, encoding="utf-8") as handle:
        rows = sum(1 for _ in csv.DictReader(handle))
    first, second = load_file(conn, data_dir / name), load_file(conn, data_dir / name)
    assert (first.inserted, first.rejected) == (rows, Counter())
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, rows)
    labelled = list(db.iter_labelled(conn))
    assert len(labelled) == rows
    assert all(item.loan_status for item in labelled)
