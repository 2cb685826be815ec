"""The exporter's reading of a stored applicant cell, for the grade label (no services)."""

from __future__ import annotations

from loanrisk import events as ev
from monitoring.exporter import applicant_of
from monitoring.pipeline import grade_of


def test_the_grade_comes_from_the_applicant_cell() -> None:
    columns = {ev.COL_APPLICANT_JSON: b'{"grade": "c", "annual_income": 50000}'}
    assert grade_of(applicant_of(columns)) == "C"


def test_a_missing_or_unreadable_cell_gives_the_unknown_grade() -> None:
    for columns in ({}, {ev.COL_APPLICANT_JSON: b"{not json"}, {ev.COL_APPLICANT_JSON: b"[1, 2]"}):
        assert applicant_of(columns) is None
        assert grade_of(applicant_of(columns)) == "unknown"
