"""The generator: reproducible, canonical, realistic (against the fitted parameters), dirt as its manifest says."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jobs.generate import CSV_COLUMNS, DIRT_KINDS, generate_lines, load_params, main, write
from loanrisk.applicant import GRADES, Applicant
from loanrisk.cleaning import Rejection, applicant_from_json, clean_record, loan_outcome, parse_json_line


def lines_of(count: int, fmt: str, seed: int = 3, dirt_rate: float = 0.0) -> tuple[list[str], list[dict[str, Any]]]:
    """Generate in memory; return (lines, manifest entries)."""
    lines, manifest = [], []
    for chunk, entries in generate_lines(count, fmt, seed, dirt_rate, chunk=997):
        lines += chunk
        manifest += entries
    return lines, manifest


def csv_rows(lines: list[str]) -> list[dict[str, str]]:
    """Parse generated CSV lines (header first) into dicts."""
    return list(csv.DictReader(lines))


@pytest.fixture(scope="module")
def sample() -> list[dict[str, str]]:
    """Return 40,000 clean generated CSV rows."""
    lines, _ = lines_of(40_000, "csv", seed=11)
    return csv_rows(lines)


def test_same_seed_same_output_other_seed_other_ids() -> None:
    assert lines_of(500, "jsonl", seed=5) == lines_of(500, "jsonl", seed=5)
    first, other = lines_of(50, "jsonl", seed=5)[0], lines_of(50, "jsonl", seed=6)[0]
    assert {json.loads(x)["id"] for x in first}.isdisjoint(json.loads(x)["id"] for x in other)


def test_jsonl_lines_are_canonical_records_with_generated_ids() -> None:
    lines, _ = lines_of(3000, "jsonl")
    checked = [applicant_from_json(json.loads(line)) for line in lines]
    records = [r for r in checked if isinstance(r, Applicant)]
    assert len(records) == len(checked), next(r for r in checked if isinstance(r, Rejection))
    ids = [r.id for r in records]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("G") and not i.isdigit() for i in ids)


def test_csv_is_lendingclub_format_and_cleans(sample: list[dict[str, str]]) -> None:
    assert list(sample[0]) == list(CSV_COLUMNS)
    assert {r["term"] for r in sample} == {" 36 months", " 60 months"}
    assert all(r["issue_d"][:3].isalpha() and r["issue_d"][3] == "-" for r in sample[:100])
    assert {r["loan_status"] for r in sample} == {"Fully Paid", "Charged Off"}
    refused = [res for res in map(clean_record, sample) if isinstance(res, Rejection)]
    assert not refused, refused[:3]


def test_csv_and_jsonl_describe_the_same_applicants() -> None:
    rows = csv_rows(lines_of(400, "csv")[0])
    records = [json.loads(line) for line in lines_of(400, "jsonl")[0]]
    assert [clean_record(r) for r in rows] == [applicant_from_json(r) for r in records]


def by_grade(rows: list[dict[str, str]], value: Callable[[dict[str, str]], float]) -> dict[str, float]:
    """Average value(row) per grade."""
    return {g: float(np.mean([value(r) for r in rows if r["grade"] == g])) for g in GRADES}


def defaulted(row: dict[str, str]) -> float:
    outcome = loan_outcome(row["loan_status"])
    assert outcome is not None, f"generated loans are resolved, got {row['loan_status']!r}"
    return float(outcome)


def test_default_rate_rises_with_grade_and_matches_the_fit(sample: list[dict[str, str]]) -> None:
    rates = by_grade(sample, defaulted)
    observed = load_params()["default"]["observed_rate_by_grade"]
    assert all(rates[a] < rates[b] for a, b in itertools.pairwise("ABCDEF"))
    for g in "ABCD":  # enough rows in these grades for a tight comparison
        assert abs(rates[g] - observed[g]) < 0.03, (g, rates[g], observed[g])


def test_interest_rate_rises_and_fico_falls_with_grade(sample: list[dict[str, str]]) -> None:
    rate = by_grade(sample, lambda r: float(r["int_rate"]))
    fico = by_grade(sample, lambda r: float(r["fico_range_low"]))
    assert all(rate[a] < rate[b] for a, b in itertools.pairwise(GRADES))
    assert fico["A"] > fico["B"] > fico["C"] > fico["D"]


def test_income_drives_loan_amount_and_installment_is_the_annuity(sample: list[dict[str, str]]) -> None:
    rows = [r for r in sample if float(r["annual_inc"]) > 0]
    inc, amt = (np.log([float(r[k]) for r in rows]) for k in ("annual_inc", "loan_amnt"))
    assert np.corrcoef(inc, amt)[0, 1] > 0.3
    fit = load_params()["income_loan"]
    assert abs(np.median(inc) - fit["log_income_mean"]) < 0.1
    r = sample[0]
    monthly, n = float(r["int_rate"]) / 1200, int(r["term"].split()[0])
    assert float(r["installment"]) == pytest.approx(
        float(r["loan_amnt"]) * monthly / (1 - (1 + monthly) ** -n), abs=0.01
    )


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_dirt_is_what_the_manifest_says(fmt: str) -> None:
    lines, manifest = lines_of(4000, fmt, dirt_rate=0.05)
    assert 100 < len(manifest) < 320
    assert {m["kind"] for m in manifest} <= set(DIRT_KINDS)
    header = lines[0].split(",") if fmt == "csv" else None
    seen_ids: set[str] = set()
    dirty = {m["line"]: m for m in manifest}
    for number, line in enumerate(lines, start=1):
        if header and number == 1:
            continue
        entry = dirty.get(number)
        result = (
            parse_json_line(line) if fmt == "jsonl" else clean_record(next(csv.DictReader([line], fieldnames=header)))
        )
        if entry is None:
            assert isinstance(result, Applicant), (number, result)
            seen_ids.add(result.id)
            continue
        assert entry["sha256"] == hashlib.sha256(line.encode()).hexdigest()
        if entry["kind"] == "duplicate_id":  # cleaning accepts it; the pipeline dead-letters it
            assert entry["id"] in seen_ids
            assert entry["expect"] == "reject"
        else:
            assert isinstance(result, Rejection if entry["expect"] == "reject" else Applicant), (entry, result)


def test_dirt_does_not_change_the_clean_applicants() -> None:
    clean, _ = lines_of(2000, "jsonl", seed=9)
    dirty, manifest = lines_of(2000, "jsonl", seed=9, dirt_rate=0.1)
    touched = {m["line"] - 1 for m in manifest}
    assert all(clean[i] == dirty[i] for i in range(2000) if i not in touched)


def test_write_makes_file_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    summary = write(1500, "jsonl", out, seed=2, dirt_rate=0.02)
    manifest = Path(summary["manifest"]).read_text().splitlines()
    assert len(out.read_text().splitlines()) == 1500
    assert len(manifest) == summary["dirty"] > 0


@pytest.mark.parametrize(
    "args", [["--count", "0"], ["--count", "5", "--dirt-rate", "1.5"], ["--count", "5", "--format", "xml"]]
)
def test_cli_refuses_bad_arguments(args: list[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stop:
        main([*args, "--out", str(tmp_path / "x")])
    assert stop.value.code == 2
