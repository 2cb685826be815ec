"""Unit tests of loanrisk.reasons: the catalogue, the factors and the choice of principal reasons."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loanrisk import features, reasons
from loanrisk.reasons import Contribution, Reason, for_decision, principal_reasons

DOC = Path(__file__).resolve().parents[2] / "docs" / "reason_codes.md"


def test_every_model_candidate_belongs_to_a_factor_with_one_code() -> None:
    assert set(reasons.FACTOR_OF_FEATURE) == set(features.MODEL_CANDIDATES)
    assert set(reasons.FACTOR_OF_FEATURE.values()) == set(reasons.FACTOR_CODES)


def test_every_code_is_catalogued_and_used() -> None:
    assert set(reasons.FACTOR_CODES.values()) == set(reasons.CATALOGUE)


def test_retired_codes_are_never_issued_again() -> None:
    assert not set(reasons.RETIRED) & set(reasons.CATALOGUE)


def test_features_without_a_direction_are_not_reasons() -> None:
    for feature in ("log_revol_bal", "open_acc", "emp_length", *features.CATEGORICAL_FEATURES):
        assert feature not in reasons.FACTOR_OF_FEATURE


@pytest.mark.parametrize("code", list(reasons.CATALOGUE))
def test_codes_are_upper_snake_with_applicant_readable_text(code: str) -> None:
    assert re.fullmatch(r"[A-Z][A-Z0-9_]+", code)
    text = reasons.CATALOGUE[code]
    assert text[0].isupper()
    assert "_" not in text
    assert "associated with" not in text


def test_texts_are_distinct() -> None:
    assert len(set(reasons.CATALOGUE.values())) == len(reasons.CATALOGUE)


def test_documented_catalogue_is_current() -> None:
    assert DOC.read_text() == reasons.catalogue_markdown()


def test_largest_adverse_factors_first_up_to_four() -> None:
    contributions = [
        Contribution("dti", 0.5),
        Contribution("credit_score", 0.9),
        Contribution("revolving_utilization", 0.1),
        Contribution("business_purpose", 0.3),
        Contribution("inquiries", 0.2),
        Contribution("term", 0.05),
    ]
    codes = [r.code for r in principal_reasons(contributions)]
    assert codes == ["FICO_LOW", "DTI_HIGH", "SMALL_BUSINESS_PURPOSE", "INQUIRIES_HIGH"]


def test_factors_that_lower_risk_are_never_reasons() -> None:
    contributions = [Contribution("dti", -0.5), Contribution("credit_score", 0.0)]
    assert principal_reasons(contributions) == []


def test_limit_is_respected() -> None:
    many = [Contribution(f, 1.0 + i) for i, f in enumerate(reasons.FACTOR_CODES)]
    assert len(principal_reasons(many)) == reasons.MAX_REASONS
    assert len(principal_reasons(many, limit=2)) == 2


@pytest.mark.parametrize(("decision", "kept"), [("DECLINE", True), ("REVIEW", True), ("APPROVE", False)])
def test_only_adverse_decisions_state_reasons(decision: str, kept: bool) -> None:
    given = [Reason("DTI_HIGH", reasons.CATALOGUE["DTI_HIGH"])]
    assert for_decision(decision, given) == (given if kept else [])


def test_reason_to_dict() -> None:
    assert reasons.Reason("DTI_HIGH", "t").to_dict() == {"code": "DTI_HIGH", "text": "t"}
