"""Loader pieces that need no database: header detection in raw files, streaming and the summary."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from tqdm import tqdm

from jobs import db
from jobs.load import LoadSummary, counted_lines, find_header, parse_args, read_rows

HEADER = "id,member_id,loan_amnt,term,loan_status\n"


@pytest.mark.parametrize(
    "preamble",
    ["", "Notes offered by Prospectus (https://www.lendingclub.com/info/prospectus.action)\n", "\n\n"],
)
def test_header_is_found_after_a_preamble(preamble: str) -> None:
    lines = iter(io.StringIO(preamble + HEADER + '1,,5000.0, 36 months,"Fully Paid"\n'))
    columns = find_header(lines)
    assert columns == ["id", "member_id", "loan_amnt", "term", "loan_status"]
    assert next(read_rows(lines, columns)) == {
        "id": "1",
        "member_id": "",
        "loan_amnt": "5000.0",
        "term": " 36 months",
        "loan_status": "Fully Paid",
    }


def test_a_file_without_header_is_reported() -> None:
    assert find_header(iter(io.StringIO("a,b,c\n1,2,3\n"))) is None


def test_quoted_newlines_stay_in_one_row() -> None:
    lines = iter(io.StringIO(HEADER.replace("member_id", "desc") + '1,"two\nlines",5000.0, 36 months,Current\n'))
    header = find_header(lines)
    assert header is not None
    rows = list(read_rows(lines, header))
    assert len(rows) == 1
    assert rows[0]["desc"] == "two\nlines"


def test_progress_advances_by_characters_read() -> None:
    with tqdm(total=100, file=io.StringIO()) as bar:
        consumed = list(counted_lines(io.StringIO("ab\ncd\n"), bar))
        assert consumed == ["ab\n", "cd\n"]
        assert bar.n == 6


def test_summary_adds_batches_and_counts_applicants() -> None:
    summary = LoadSummary(file="x.csv", read=7, rejected=Counter({"JUNK_ROW": 1}))
    summary.add(db.UpsertCounts(inserted=3, updated=1, unchanged=2))
    assert summary.to_dict() == {
        "file": "x.csv",
        "read": 7,
        "inserted": 3,
        "updated": 1,
        "unchanged": 2,
        "rejected": {"JUNK_ROW": 1},
        "applicants": 6,
    }


@pytest.mark.parametrize("argv", [[], ["--samples", "--batch-size", "0"]])
def test_cli_needs_files_or_samples(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
