"""Unit tests of the pre-screen policy rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from loanrisk.applicant import FIELD_NAMES, Applicant
from loanrisk.events import Decision
from loanrisk.prescreen import REASON_CODES, RULES, PrescreenPolicy, decline_reasons, prescreen

GOOD = Applicant(
    id="G000001",
    loan_amnt=10_000.0,
    term=36,
    int_rate=9.5,
    installment=320.3,
    grade="B",
    sub_grade="B2",
    emp_title="Nurse",
    emp_length=6,
    home_ownership="MORTGAGE",
    annual_inc=72_000.0,
    verification_status="Verified",
    purpose="debt_consolidation",
    title="Debt consolidation",
    zip_code="070xx",
    addr_state="NJ",
    dti=18.2,
    delinq_2yrs=0,
    earliest_cr_line="2004-03",
    fico_range_low=705,
    fico_range_high=709,
    inq_last_6mths=1,
    mths_since_last_delinq=None,
    open_acc=9,
    pub_rec=0,
    revol_bal=8_200.0,
    revol_util=41.0,
    total_acc=22,
    application_type="Individual",
    issue_d="2015-12",
).to_dict()
POLICY = PrescreenPolicy()


def declined(applicant: Mapping[str, Any], policy: PrescreenPolicy) -> Decision:
    decision = prescreen(applicant, policy)
    assert decision is not None, "the pre-screen decided nothing"
    return decision


def test_a_good_applicant_goes_to_the_model():
    """No rule fires for an ordinary prime applicant."""
    assert decline_reasons(GOOD, POLICY) == ()
    assert prescreen(GOOD, POLICY) is None


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"grade": "E", "sub_grade": "E1"}, "PS_GRADE"),
        ({"grade": "G", "sub_grade": "G5"}, "PS_GRADE"),
        ({"loan_amnt": 999.99}, "PS_LOAN_AMOUNT"),
        ({"loan_amnt": 40_000.01}, "PS_LOAN_AMOUNT"),
        ({"annual_inc": 0.0}, "PS_INCOME_MISSING"),
        ({"annual_inc": None}, "PS_INCOME_MISSING"),
        ({"dti": None}, "PS_DTI_UNKNOWN"),
        ({"dti": 50.01}, "PS_DTI_HIGH"),
        ({"fico_range_low": 659, "fico_range_high": 663}, "PS_FICO_LOW"),
        ({"mths_since_last_delinq": 2}, "PS_RECENT_DELINQUENCY"),
        ({"delinq_2yrs": 101}, "PS_DELINQUENCIES"),
        ({"inq_last_6mths": 6}, "PS_INQUIRIES"),
        ({"pub_rec": 2}, "PS_PUBLIC_RECORDS"),
    ],
)
def test_each_rule_declines_with_its_code(change, code):
    """Breaking one rule declines with exactly that reason code."""
    decision = prescreen({**GOOD, **change}, POLICY)
    assert decision is not None
    assert (decision.decision, decision.decided_by) == ("DECLINE", "PRESCREEN")
    assert [r.code for r in decision.reasons] == [code]
    assert decision.probability_of_default is None
    assert decision.model_version is None
    assert decision.application_id == GOOD["id"]
    assert decision.policy_version == POLICY.policy_version


@pytest.mark.parametrize(
    "change",
    [
        {"grade": "D", "sub_grade": "D5"},
        {"loan_amnt": 1_000.0},
        {"loan_amnt": 40_000.0},
        {"dti": 50.0},
        {"dti": 0.0},
        {"fico_range_low": 660},
        {"mths_since_last_delinq": 3},
        {"delinq_2yrs": 2},
        {"delinq_2yrs": 3},
        {"delinq_2yrs": 100},
        {"inq_last_6mths": 5},
        {"pub_rec": 1},
        {"delinq_2yrs": None, "inq_last_6mths": None, "pub_rec": None},
    ],
)
def test_boundaries_and_unknown_history_pass(change):
    """Values on a threshold pass; unknown history fields are no reason to decline."""
    assert decline_reasons({**GOOD, **change}, POLICY) == ()


def test_reasons_are_in_catalogue_order_and_capped():
    """Many broken rules give at most max_reasons reasons, most important first."""
    bad = {
        **GOOD,
        "grade": "F",
        "loan_amnt": 50_000.0,
        "annual_inc": 0.0,
        "dti": None,
        "fico_range_low": 600,
        "pub_rec": 4,
    }
    assert [r.code for r in decline_reasons(bad, POLICY)] == [
        "PS_GRADE",
        "PS_LOAN_AMOUNT",
        "PS_INCOME_MISSING",
        "PS_DTI_UNKNOWN",
        "PS_FICO_LOW",
        "PS_PUBLIC_RECORDS",
    ]
    assert [r.code for r in declined(bad, POLICY).reasons] == [
        "PS_GRADE",
        "PS_LOAN_AMOUNT",
        "PS_INCOME_MISSING",
        "PS_DTI_UNKNOWN",
    ]


def test_thresholds_come_from_options():
    """config.json options override the defaults, with the fields' types."""
    policy = PrescreenPolicy.from_options(
        {
            "loanrisk.prescreen.declined_grades": "f, g",
            "loanrisk.prescreen.max_dti": "35",
            "loanrisk.prescreen.min_fico": 700,
            "loanrisk.prescreen.policy_version": "prescreen-test",
            "unrelated.key": 1,
        }
    )
    assert policy.declined_grades == ("F", "G")
    assert policy.max_dti == 35.0
    assert policy.min_fico == 700
    assert prescreen({**GOOD, "grade": "E"}, policy) is None
    assert [r.code for r in declined({**GOOD, "dti": 36.0}, policy).reasons] == ["PS_DTI_HIGH"]
    assert declined({**GOOD, "dti": 36.0}, policy).policy_version == "prescreen-test"


def test_list_options_are_accepted():
    """A JSON list in config.json works as well as a comma-separated string."""
    assert PrescreenPolicy.from_options({"loanrisk.prescreen.declined_grades": ["E"]}).declined_grades == ("E",)


def test_catalogue_is_complete_and_rules_read_real_fields():
    """Every rule has a documented code, and rules only read fields of the applicant record."""
    worst = dict.fromkeys(FIELD_NAMES) | {
        "id": "X",
        "mths_since_last_delinq": 0,
        "delinq_2yrs": 101,
        "inq_last_6mths": 9,
        "pub_rec": 9,
        "grade": "G",
    }
    assert {r.code for r in decline_reasons(worst, POLICY)} == set(REASON_CODES) - {"PS_DTI_HIGH"}
    assert len(RULES) == len(REASON_CODES)


def test_v3_leaves_repeated_delinquencies_to_the_model():
    """prescreen-v3: more than 2 delinquencies in 2 years declined mostly repaid loans, so the rule is off."""
    assert POLICY.policy_version == "prescreen-v3"
    assert POLICY.max_delinq_2yrs == 100
    assert prescreen({**GOOD, "delinq_2yrs": 3}, POLICY) is None
    assert (
        declined({**GOOD, "delinq_2yrs": 3}, PrescreenPolicy(max_delinq_2yrs=2)).reasons[0].code == "PS_DELINQUENCIES"
    )
