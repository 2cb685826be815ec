"""Unit tests of loanrisk.rescore: decision mix, swap matrix, grades, reasons and labelled bad rates."""

from __future__ import annotations

import json

import numpy as np
import pytest

from loanrisk import reasons
from loanrisk.rescore import Outcome, Tally, markdown, mix_shift, principal_factors, summary, verdict

OUTCOMES = [
    Outcome("1", "A", "APPROVE", "APPROVE", 0.05, 0.05, (), (), False),
    Outcome("2", "B", "APPROVE", "REVIEW", 0.14, 0.14, (), ("DTI_HIGH",), True),
    Outcome("3", "C", "REVIEW", "DECLINE", 0.25, 0.25, ("DTI_HIGH",), ("DTI_HIGH", "FICO_LOW"), None),
    Outcome("4", "B", "REVIEW", "APPROVE", 0.12, 0.09, ("FICO_LOW",), (), False),
    Outcome("5", "E", "DECLINE", "DECLINE", None, None, ("GRADE_E",), ("GRADE_E",), True),
]


def tally() -> Tally:
    t = Tally()
    t.add_all(OUTCOMES)
    return t


def test_mix_and_swap_matrix() -> None:
    report = summary(tally())
    assert report["applicants"] == 5
    assert report["mix"]["APPROVE"] == {"now": 2, "candidate": 2, "now_share": 0.4, "candidate_share": 0.4}
    assert report["swap_matrix"]["APPROVE"] == {"APPROVE": 1, "REVIEW": 1, "DECLINE": 0}
    assert report["swap_matrix"]["REVIEW"] == {"APPROVE": 1, "REVIEW": 0, "DECLINE": 1}
    assert report["changed"] == 3
    assert report["agreement"] == 0.4


def test_by_grade_approval_and_expected_bad_rate() -> None:
    b = summary(tally())["by_grade"]["B"]
    assert b == {
        "n": 2,
        "approval_rate_now": 0.5,
        "approval_rate_candidate": 0.5,
        "expected_bad_rate_now": 0.14,
        "expected_bad_rate_candidate": 0.09,
    }
    assert summary(tally())["by_grade"]["E"]["expected_bad_rate_now"] is None


def test_reasons_that_change_most() -> None:
    changes = summary(tally())["reason_changes"]
    assert changes[0] == {"code": "DTI_HIGH", "now": 1, "candidate": 2, "change": 1}
    assert {c["code"]: c["change"] for c in changes} == {"DTI_HIGH": 1, "FICO_LOW": 0, "GRADE_E": 0}


def test_labelled_bad_rate_of_swapped_in_and_out() -> None:
    labelled = summary(tally())["labelled"]
    assert labelled["swap_out"] == {"n": 1, "bad_rate": 1.0}  # applicant 2
    assert labelled["swap_in"] == {"n": 1, "bad_rate": 0.0}  # applicant 4
    assert labelled["all"] == {"n": 4, "bad_rate": 0.5}


def test_tally_resumes_from_json_state() -> None:
    first, second = Tally(), Tally()
    first.add_all(OUTCOMES[:2])
    resumed = Tally.from_dict(json.loads(json.dumps(first.to_dict())))
    resumed.add_all(OUTCOMES[2:])
    second.add_all(OUTCOMES)
    assert summary(resumed) == summary(second)


def test_mix_shift_and_markdown() -> None:
    report = summary(tally())
    assert mix_shift(report) == 0.2  # REVIEW 40 % -> 20 %, DECLINE 20 % -> 40 %
    text = markdown(report, "t")
    assert "| APPROVE | 1 | 1 | 0 |" in text
    assert "| swap_in | 1 | 0.0 % |" in text


def test_verdict_promotes_only_a_better_candidate_with_a_stable_mix() -> None:
    report = summary(tally())  # largest mix shift: 0.2
    assert verdict(0.70, 0.72, report, min_gain=0.005, max_mix_shift=0.25).promote
    assert not verdict(0.70, 0.702, report, min_gain=0.005, max_mix_shift=0.25).promote
    moved = verdict(0.70, 0.72, report, min_gain=0.005, max_mix_shift=0.1)
    assert not moved.promote
    assert moved.why.startswith("stop: the decision mix moves too much")


def test_live_challenger_agreement_is_reported() -> None:
    t = Tally()
    t.add_all(
        [
            Outcome("1", "A", "APPROVE", "APPROVE", 0.05, 0.05, shadow="APPROVE"),
            Outcome("2", "B", "REVIEW", "REVIEW", 0.2, 0.2, shadow="DECLINE"),
            Outcome("3", "B", "REVIEW", "REVIEW", 0.2, 0.2),
        ]
    )
    report = summary(t)
    assert report["shadow"] == {"rows": 2, "agreement": 0.5}
    assert "2 rows carry a challenger's decision; it agrees with the champion's on 50.0 %" in markdown(report, "t")


FACTORS = list(reasons.FACTOR_CODES)


def one_by_one(points: np.ndarray) -> list[list[str]]:
    """The Risk API's path for one applicant: a stable top four, then reasons.principal_reasons."""
    found = []
    for row in points:
        top = np.argsort(-row, kind="stable")[: reasons.MAX_REASONS]
        contributions = [reasons.Contribution(FACTORS[j], float(row[j])) for j in top.tolist() if row[j] > 0.0]
        found.append([r.code for r in reasons.principal_reasons(contributions)])
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_principal_factors_of_a_batch_equal_the_reasons_of_each_applicant(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = np.round(rng.normal(0.0, 0.5, (400, len(FACTORS))), 1)  # rounded: ties and zeros occur
    points[:40] = -np.abs(points[:40])  # rows with no adverse factor at all
    batch = principal_factors(points, FACTORS)
    assert batch.shape == (400, reasons.MAX_REASONS)
    assert [[reasons.FACTOR_CODES[FACTORS[i]] for i in row if i >= 0] for row in batch.tolist()] == one_by_one(points)


def test_principal_factors_of_an_empty_batch() -> None:
    assert principal_factors(np.empty((0, len(FACTORS))), FACTORS).shape == (0, reasons.MAX_REASONS)
