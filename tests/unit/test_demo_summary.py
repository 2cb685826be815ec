"""Pure parts of the demo: percentiles, run figures, the summary text and the accounting of file lines."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from jobs.demo import FileLine, figures, file_lines, format_summary, line_accounted, percentile
from jobs.reconcile import ManifestEntry, RowSummary


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, None),
        ([7], 50, 7),
        ([7], 99, 7),
        ([1, 2, 3, 4], 50, 2),
        (list(range(1, 101)), 50, 50),
        (list(range(1, 101)), 99, 99),
        (list(range(1, 101)), 100, 100),
        ([5, 1, 3], 0, 1),
    ],
)
def test_percentile_nearest_rank(values, q, expected) -> None:
    assert percentile(values, q) == expected


def test_figures_aggregate_rows() -> None:
    rows = [
        RowSummary("1", "APPROVE", "MODEL", ("LOW_DTI",), 1_000, 1_040),
        RowSummary("2", "DECLINE", "PRESCREEN", ("GRADE_DECLINED",), 1_500, 1_520),
        RowSummary("3", "DECLINE", "MODEL", ("HIGH_DTI", "LOW_FICO"), 2_000, 3_000),
    ]
    fig = figures(rows)
    assert fig.decided == 3
    assert fig.by_decision == Counter({"DECLINE": 2, "APPROVE": 1})
    assert fig.decided_by == Counter({"MODEL": 2, "PRESCREEN": 1})
    assert fig.reasons["DECLINE"] == Counter({"GRADE_DECLINED": 1, "HIGH_DTI": 1, "LOW_FICO": 1})
    assert fig.latency_ms == [40, 20, 1000]
    assert fig.throughput == pytest.approx(3 / 2.0)  # first Kafka timestamp 1.0 s, last save 3.0 s


def test_figures_of_nothing() -> None:
    fig = figures([])
    assert fig.decided == 0
    assert fig.throughput is None


def test_format_summary_names_every_figure() -> None:
    fig = figures([RowSummary("1", "REVIEW", "MODEL", ("HIGH_DTI",), 1_000, 1_100)])
    text = format_summary(2, fig, Counter({"BAD_JSON": 1}), {"Storm UI": "http://127.0.0.1:8080"})
    assert "applicants in (published to Kafka)          2" in text
    assert "REVIEW          1   top reasons: HIGH_DTI 1" in text
    assert "BAD_JSON" in text
    assert "p50 100 ms, p99 100 ms" in text
    assert "http://127.0.0.1:8080" in text


def test_file_lines_and_their_accounting(tmp_path) -> None:
    lines = [b'{"id": "G1", "grade": "A"}', b'{"id": "G2", "dti": -5}', b'{"id": "G3", "int_rate": "13.5%"}', b"{bro"]
    path = tmp_path / "dirty.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    digest = [hashlib.sha256(x).hexdigest() for x in lines]
    manifest = [
        ManifestEntry("m", 2, "G2", "impossible_value", "reject", digest[1]),
        ManifestEntry("m", 3, "G3", "percent_string", "accept", digest[2]),
        ManifestEntry("m", 4, None, "truncated_json", "reject", digest[3]),
    ]
    got = file_lines(path, manifest)
    assert got == [
        FileLine(digest[0], "G1", None),
        FileLine(digest[1], "G2", "reject"),
        FileLine(digest[2], "G3", "accept"),
        FileLine(digest[3], None, "reject"),
    ]
    saved, dlq = {"G1", "G2", "G3"}, {digest[3]}
    assert [line_accounted(x, dlq, saved) for x in got] == [True, False, True, True]
    assert line_accounted(got[1], dlq | {digest[1]}, saved)
