"""Unit tests of loanrisk.reasons: the catalogue and the choice of principal reasons."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loanrisk import features, reasons
from loanrisk.reasons import ABOVE, BELOW, CATEGORY, MISSING, Contribution, principal_reasons

DOC = Path(__file__).resolve().parents[2] / "docs" / "reason_codes.md"


def test_every_feature_has_reason_codes() -> None:
    assert set(reasons.NUMERIC_FACTORS) == set(features.NUMERIC_FEATURES)
    assert set(reasons.CATEGORICAL_FACTORS) == set(features.CATEGORICAL_FEATURES)


def test_every_code_is_catalogued_and_used() -> None:
    used = {c for codes in reasons.NUMERIC_FACTORS.values() for c in codes if c}
    used |= set(reasons.CATEGORICAL_FACTORS.values())
    assert used == set(reasons.CATALOGUE)


@pytest.mark.parametrize("code", list(reasons.CATALOGUE))
def test_codes_are_upper_snake_with_text(code: str) -> None:
    assert re.fullmatch(r"[A-Z][A-Z0-9_]+", code)
    assert reasons.CATALOGUE[code].strip()


def test_texts_are_distinct() -> None:
    assert len(set(reasons.CATALOGUE.values())) == len(reasons.CATALOGUE)


def test_documented_catalogue_is_current() -> None:
    assert DOC.read_text() == reasons.catalogue_markdown()


def test_largest_adverse_factors_first_up_to_four() -> None:
    contributions = [Contribution("dti", 0.5, ABOVE), Contribution("fico_mid", 0.9, BELOW),
                     Contribution("revol_util", 0.1, ABOVE), Contribution("purpose", 0.3, CATEGORY),
                     Contribution("inq_last_6mths", 0.2, ABOVE), Contribution("term_60", 0.05, ABOVE)]
    codes = [r.code for r in principal_reasons(contributions)]
    assert codes == ["FICO_LOW", "DTI_HIGH", "LOAN_PURPOSE", "INQUIRIES_HIGH"]


def test_factors_that_lower_risk_are_never_reasons() -> None:
    contributions = [Contribution("dti", -0.5, BELOW), Contribution("fico_mid", 0.0, ABOVE)]
    assert principal_reasons(contributions) == []


def test_missing_value_has_its_own_code() -> None:
    [reason] = principal_reasons([Contribution("emp_length", 0.2, MISSING)])
    assert reason.code == "EMPLOYMENT_MISSING"
    assert reason.text == reasons.CATALOGUE["EMPLOYMENT_MISSING"]


def test_limit_is_respected() -> None:
    many = [Contribution(f, 1.0 + i, ABOVE) for i, f in enumerate(features.NUMERIC_FEATURES)]
    assert len(principal_reasons(many)) == reasons.MAX_REASONS
    assert len(principal_reasons(many, limit=2)) == 2


def test_reason_to_dict() -> None:
    assert reasons.Reason("DTI_HIGH", "t").to_dict() == {"code": "DTI_HIGH", "text": "t"}
