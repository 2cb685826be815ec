"""Pure accounting of the reconciliation: applicants, dirt manifests, decision events."""

from __future__ import annotations

import hashlib
import json

import pytest

from jobs.reconcile import load_manifests, manifests_for_cluster
from loanrisk import events as ev
from loanrisk.reconcile import (
    ManifestEntry,
    RowSummary,
    collect_rows,
    format_report,
    parse_all,
    parse_manifest_line,
    reconcile,
    row_summary,
)

SRC = ev.Source("loan-applications", 0, 0)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def row(ident: str, decision: str = "APPROVE") -> RowSummary:
    return RowSummary(ident, decision, "MODEL", ("R1",), 1_000, 1_050)


def letter(ident: str | None, raw: str, reason: str = "OUT_OF_RANGE", offset: int = 0) -> ev.DeadLetter:
    return ev.DeadLetter(reason, "dti", "detail", ident, raw, sha(raw), ev.Source("loan-applications", 1, offset), 5)


def event(ident: str, decision: str = "APPROVE", saved: int = 1_050) -> ev.DecisionEvent:
    return ev.DecisionEvent(ident, decision, "MODEL", 0.1, (), "m1", "p1", SRC, 1_000, saved)


def test_clean_when_every_applicant_is_once_somewhere() -> None:
    rows = {"1": row("1"), "2": row("2", "DECLINE")}
    report = reconcile(["1", "2", "3"], rows, [letter("3", "raw3")], [event("1"), event("2", "DECLINE")], [])
    assert report.clean, format_report(report)
    assert report.counts["applicants in MySQL"] == 3
    assert report.counts["  in HBase"] == 2
    assert report.counts["  dead-lettered"] == 1


def test_missing_both_and_twice_are_discrepancies() -> None:
    rows = {"1": row("1"), "2": row("2")}
    letters = [letter("2", "raw2"), letter("4", "raw4a"), letter("4", "raw4b", offset=9)]
    report = reconcile(["1", "2", "3", "4"], rows, letters, [event("1"), event("2")], [])
    assert not report.clean
    assert report.discrepancies["missing (neither in HBase nor dead-lettered)"] == ["3"]
    assert report.discrepancies["in HBase and dead-lettered"] == ["2"]
    assert report.discrepancies["dead-lettered twice (different payloads)"] == ["4"]


def test_redelivered_dead_letter_counts_once() -> None:
    letters = [letter("5", "raw5", offset=3), letter("5", "raw5", offset=3)]
    report = reconcile(["5"], {}, letters, [], [])
    assert report.clean, format_report(report)
    assert report.counts["  repeated dead letters (same source record)"] == 1


def test_duplicate_id_and_manifest_dead_letters_do_not_count_against_the_applicant() -> None:
    dup = letter("7", "other content", reason=ev.DUPLICATE_ID)
    dirt = letter("7", "dirty line")
    manifest = [ManifestEntry("m.dirt.jsonl", 3, "7", "impossible_value", "reject", sha("dirty line"))]
    report = reconcile(["7"], {"7": row("7")}, [dup, dirt], [event("7")], manifest)
    assert report.clean, format_report(report)


def test_manifest_rejects_must_be_dead_lettered_and_accepts_saved() -> None:
    manifest = [
        ManifestEntry("m", 1, None, "truncated_json", "reject", sha('{"id": "G1", "lo')),
        ManifestEntry("m", 2, "G2", "impossible_value", "reject", sha("line2")),
        ManifestEntry("m", 3, "G3", "percent_string", "accept", sha("line3")),
        ManifestEntry("m", 4, "G4", "percent_string", "accept", sha("line4")),
        ManifestEntry("m", 5, "G5", "percent_string", "accept", sha("line5")),
    ]
    letters = [letter(None, '{"id": "G1", "lo', reason="BAD_JSON"), letter("G5", "line5")]
    rows = {"G3": row("G3"), "G5": row("G5")}
    report = reconcile([], rows, letters, [event("G3"), event("G5")], manifest)
    assert report.discrepancies["reject dirt not dead-lettered"] == ["m:2 id=G2 kind=impossible_value"]
    assert report.discrepancies["accept dirt not in HBase"] == ["m:4 id=G4 kind=percent_string"]
    assert report.discrepancies["accept dirt dead-lettered"] == ["m:5 id=G5 kind=percent_string reason=OUT_OF_RANGE"]
    assert report.counts["manifest reject records"] == 2
    assert report.counts["manifest accept records"] == 3


def test_events_one_per_decided_applicant() -> None:
    rows = {"1": row("1"), "2": row("2", "REVIEW"), "3": row("3")}
    events = [event("1"), event("1"), event("2", "APPROVE"), event("9")]
    report = reconcile(["1", "2", "3"], rows, [], events, [])
    assert report.discrepancies["decided without a decision event"] == ["3"]
    assert report.discrepancies["event disagrees with HBase"] == ["2: event APPROVE, row REVIEW"]
    assert report.discrepancies["decision event without an HBase row"] == ["9"]
    assert report.counts["  repeated events (at-least-once redeliveries)"] == 1


def test_latest_event_wins() -> None:
    events = [event("1", "DECLINE", saved=10), event("1", "APPROVE", saved=20)]
    assert reconcile(["1"], {"1": row("1")}, [], events, []).clean


def test_orphan_check_can_be_scoped_off() -> None:
    assert reconcile([], {}, [], [event("9")], [], check_orphans=False).clean


def test_unreadable_records_are_discrepancies() -> None:
    report = reconcile([], {}, [], [], [], unreadable=["loan-decisions/0@5: bad"])
    assert report.discrepancies["unreadable record"] == ["loan-decisions/0@5: bad"]
    assert "DISCREPANCIES FOUND" in format_report(report)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ('{"line": 3, "id": "G1", "kind": "truncated_json", "expect": "reject", "sha256": "ab"}', True),
        ('{"line": 4, "id": null, "kind": "missing_id", "expect": "reject", "sha256": "cd"}', True),
        ('{"line": 5, "id": "G1", "kind": "x", "expect": "maybe", "sha256": "ab"}', False),
        ('{"line": "x", "expect": "reject", "sha256": "ab"}', False),
        ("not json", False),
        ("[1]", False),
    ],
)
def test_parse_manifest_line(text: str, ok: bool) -> None:
    parsed = parse_manifest_line("m.dirt.jsonl", text)
    assert isinstance(parsed, ManifestEntry) is ok


def test_load_manifests(tmp_path) -> None:
    path = tmp_path / "a.jsonl.dirt.jsonl"
    lines = [
        {"line": 1, "id": "G1", "kind": "k", "expect": "reject", "sha256": "aa"},
        {"line": 2, "id": None, "kind": "k", "expect": "accept", "sha256": "bb"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\nbroken\n")
    entries, problems = load_manifests([path])
    assert [(e.line, e.id, e.expect) for e in entries] == [(1, "G1", "reject"), (2, None, "accept")]
    assert len(problems) == 1


def test_row_summary_reads_the_columns_the_save_bolt_writes() -> None:
    decision = ev.Decision("G1", "DECLINE", "PRESCREEN", None, (ev.Reason("GRADE_DECLINED", "grade"),), None, "p1")
    received = ev.Received(SRC, "G1", "{}", sha("{}"), 1_000)
    columns = ev.hbase_row({"id": "G1"}, decision, received, saved_at_ms=1_234)
    summary = row_summary(b"G1", columns)
    assert summary == RowSummary("G1", "DECLINE", "PRESCREEN", ("GRADE_DECLINED",), 1_000, 1_234)


def test_row_summary_of_a_broken_row_is_an_error_value() -> None:
    assert isinstance(row_summary(b"G1", {ev.COL_DECISION: b"APPROVE"}), ev.ParseError)


def test_collect_rows_keeps_the_readable_rows_by_id_and_names_the_broken_ones() -> None:
    decision = ev.Decision("G1", "APPROVE", "MODEL", 0.1, (), "m1", "p1")
    good = ev.hbase_row({"id": "G1"}, decision, ev.Received(SRC, "G1", "{}", sha("{}"), 5), saved_at_ms=9)
    rows, bad = collect_rows([(b"G1", good), (b"G2", {ev.COL_DECISION: b"APPROVE"})])
    assert list(rows) == ["G1"]
    assert rows["G1"].decision == "APPROVE"
    assert len(bad) == 1
    assert "G2" in bad[0]


def test_parse_all_says_where_each_unreadable_record_was() -> None:
    letter = json.dumps(ev.DeadLetter("BAD_JSON", None, "x", "A1", "{", sha("{"), SRC, 1).to_dict()).encode()
    found, bad = parse_all([("dlq/0@0", letter), ("dlq/0@1", b"not json")], ev.parse_dead_letter)
    assert [dl.application_id for dl in found] == ["A1"]
    assert len(bad) == 1
    assert bad[0].startswith("dlq/0@1: ")


def test_only_manifests_of_the_current_kafka_cluster_are_checked(tmp_path) -> None:
    for name, cluster, published in [
        ("run-a", "c1", True),
        ("run-b", "c2", True),
        ("run-c", None, True),
        ("run-d", "c1", False),
    ]:
        run_dir = tmp_path / name
        run_dir.mkdir()
        (run_dir / "dirty.jsonl.dirt.jsonl").write_text("")
        if published:
            (run_dir / "dirty.jsonl.published.json").write_text("{}")
        if cluster:
            (run_dir / "run.json").write_text(json.dumps({"kafka_cluster_id": cluster}))
    mine, others = manifests_for_cluster(tmp_path, "c1")
    assert [p.parent.name for p in mine] == ["run-a"]
    assert [p.parent.name for p in others] == ["run-b", "run-c", "run-d"]  # other cluster, unknown, unpublished
