"""Unit tests of loanrisk.features: derived model inputs from the canonical applicant record."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, cast

import pytest

from loanrisk import features
from loanrisk.applicant import Applicant

BASE = Applicant(
    id="G1",
    loan_amnt=12000.0,
    term=36,
    int_rate=11.99,
    installment=398.52,
    grade="B",
    sub_grade="B5",
    emp_title="Nurse",
    emp_length=6,
    home_ownership="MORTGAGE",
    annual_inc=72000.0,
    verification_status="Source Verified",
    purpose="debt_consolidation",
    title="Debt consolidation",
    zip_code="940xx",
    addr_state="CA",
    dti=17.4,
    delinq_2yrs=0,
    earliest_cr_line="2004-07",
    fico_range_low=700,
    fico_range_high=704,
    inq_last_6mths=1,
    mths_since_last_delinq=None,
    open_acc=11,
    pub_rec=0,
    revol_bal=14200.0,
    revol_util=48.3,
    total_acc=24,
    application_type="Individual",
    issue_d="2026-11",
)


def value(applicant: Applicant, name: str) -> float:
    """Return one named numeric feature of the applicant."""
    return numeric(features.feature_row(applicant), name)


def numeric(row: Mapping[str, object], name: str) -> float:
    found = row[name]
    assert isinstance(found, float), (name, found)
    return found


@pytest.mark.parametrize(("sub_grade", "rank"), [("A1", 1), ("A5", 5), ("B1", 6), ("G5", 35)])
def test_sub_grade_rank_orders_a1_to_g5(sub_grade: str, rank: float) -> None:
    assert features.sub_grade_rank(sub_grade) == rank


@pytest.mark.parametrize("bad", ["", "H1", "A6", "A", "a1x"])
def test_sub_grade_rank_is_nan_when_unknown(bad: str) -> None:
    assert math.isnan(features.sub_grade_rank(bad))


@pytest.mark.parametrize(
    ("start", "end", "months"), [("2004-07", "2026-11", 268), ("2020-01", "2020-01", 0), ("2019-12", "2020-01", 1)]
)
def test_months_between(start: str, end: str, months: float) -> None:
    assert features.months_between(start, end) == months


@pytest.mark.parametrize(("start", "end"), [(None, "2020-01"), ("2020-01", None), ("garbage", "2020-01")])
def test_months_between_unknown_is_nan(start: str | None, end: str | None) -> None:
    assert math.isnan(features.months_between(start, end))


def test_row_has_every_feature_in_order() -> None:
    row = features.feature_row(BASE)
    assert tuple(row) == features.FEATURE_NAMES
    assert len(features.numeric_values(BASE)) == len(features.NUMERIC_FEATURES)


def test_derived_values_of_the_base_applicant() -> None:
    row = features.feature_row(BASE)
    assert row["sub_grade_rank"] == 10
    assert row["term_60"] == 0.0
    assert row["fico_mid"] == 702.0
    assert row["credit_history_years"] == pytest.approx(268 / 12)
    assert row["log_annual_inc"] == pytest.approx(math.log(72000.0))
    assert row["installment_to_income"] == pytest.approx(12 * 398.52 / 72000.0)
    assert row["ever_delinquent"] == 0.0
    assert row["home_ownership"] == "MORTGAGE"


@pytest.mark.parametrize("field", ["id", "emp_title", "title", "zip_code", "addr_state"])
def test_identifiers_and_free_text_are_not_features(field: str) -> None:
    other = dataclasses.replace(BASE, **cast("dict[str, Any]", {field: "X99" if field != "zip_code" else "123xx"}))
    assert features.feature_row(other) == features.feature_row(BASE)


@pytest.mark.parametrize(
    "field", ["dti", "revol_util", "revol_bal", "emp_length", "inq_last_6mths", "earliest_cr_line"]
)
def test_unknown_values_become_nan(field: str) -> None:
    name = {"revol_bal": "log_revol_bal", "earliest_cr_line": "credit_history_years"}.get(field, field)
    assert math.isnan(value(dataclasses.replace(BASE, **cast("dict[str, Any]", {field: None})), name))


def test_sentinel_and_extreme_values_are_clipped() -> None:
    assert value(dataclasses.replace(BASE, dti=999.0), "dti") == features.DTI_MAX
    assert value(dataclasses.replace(BASE, revol_util=900.0), "revol_util") == features.REVOL_UTIL_MAX


def test_zero_income_gives_finite_features() -> None:
    row = features.feature_row(dataclasses.replace(BASE, annual_inc=0.0))
    assert math.isfinite(numeric(row, "log_annual_inc"))
    assert math.isfinite(numeric(row, "installment_to_income"))


def test_income_features_are_monotone_in_income() -> None:
    rows = [features.feature_row(dataclasses.replace(BASE, annual_inc=inc)) for inc in (0.0, 500.0, 5e3, 5e4, 5e5, 5e8)]
    logs = [numeric(r, "log_annual_inc") for r in rows]
    ratios = [numeric(r, "installment_to_income") for r in rows]
    assert logs == sorted(logs)
    assert ratios == sorted(ratios, reverse=True)


def test_delinquency_flag() -> None:
    assert value(dataclasses.replace(BASE, mths_since_last_delinq=12), "ever_delinquent") == 1.0


def test_directional_features_exist() -> None:
    assert set(features.DIRECTIONAL_SIGNS) <= set(features.NUMERIC_FEATURES)
    assert set(features.DIRECTIONAL_SIGNS.values()) <= {-1, 1}


def test_feature_columns_match_rows() -> None:
    cols = features.feature_columns([BASE, dataclasses.replace(BASE, term=60)])
    assert cols["term_60"] == [0.0, 1.0]
    assert list(cols) == list(features.FEATURE_NAMES)


def test_model_candidates_are_exactly_the_directional_features() -> None:
    assert set(features.MODEL_CANDIDATES) == set(features.DIRECTIONAL_SIGNS)
    assert not {"log_revol_bal", "open_acc", "emp_length"} & set(features.MODEL_CANDIDATES)


@pytest.mark.parametrize(("emp_length", "years"), [(None, 0.0), (0, 0.0), (6, 6.0), (10, 10.0)])
def test_unstated_employment_folds_into_zero_years(emp_length: int | None, years: float) -> None:
    assert value(dataclasses.replace(BASE, emp_length=emp_length), "employment_years") == years


@pytest.mark.parametrize(("purpose", "flag"), [("small_business", 1.0), ("debt_consolidation", 0.0), ("other", 0.0)])
def test_small_business_flag(purpose: str, flag: float) -> None:
    assert value(dataclasses.replace(BASE, purpose=purpose), "small_business") == flag
