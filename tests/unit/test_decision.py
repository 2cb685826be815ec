"""Unit tests of loanrisk.decision: thresholds from configuration to APPROVE / REVIEW / DECLINE."""

from __future__ import annotations

import pytest

from loanrisk.decision import APPROVE, DECLINE, REVIEW, Policy, decide, policy_from_mapping

POLICY = Policy("test-1", approve_below=0.1, decline_at=0.3)


@pytest.mark.parametrize(
    ("p", "decision"),
    [
        (0.0, APPROVE),
        (0.0999, APPROVE),
        (0.1, REVIEW),
        (0.2, REVIEW),
        (0.2999, REVIEW),
        (0.3, DECLINE),
        (1.0, DECLINE),
    ],
)
def test_thresholds(p: float, decision: str) -> None:
    assert decide(p, POLICY) == decision


def test_thresholds_come_from_the_policy() -> None:
    strict = Policy("strict", approve_below=0.01, decline_at=0.05)
    assert decide(0.06, strict) == DECLINE
    assert decide(0.06, POLICY) == APPROVE


def test_equal_thresholds_leave_no_review_band() -> None:
    policy = Policy("binary", 0.2, 0.2)
    assert {decide(p / 100, policy) for p in range(101)} == {APPROVE, DECLINE}


def test_nan_probability_is_refused() -> None:
    with pytest.raises(ValueError, match="nan"):
        decide(float("nan"), POLICY)


def test_policy_from_mapping() -> None:
    assert policy_from_mapping({"policy_version": "v7", "approve_below": "0.1", "decline_at": 0.3}) == Policy(
        "v7", 0.1, 0.3
    )


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"policy_version": "v", "approve_below": 0.1},
        {"policy_version": "v", "approve_below": "x", "decline_at": 0.3},
        {"policy_version": "v", "approve_below": 0.4, "decline_at": 0.3},
        {"policy_version": "v", "approve_below": -0.1, "decline_at": 0.3},
        {"policy_version": "v", "approve_below": 0.1, "decline_at": 1.5},
        {"policy_version": "", "approve_below": 0.1, "decline_at": 0.3},
    ],
)
def test_invalid_policy_is_an_error_value(config: dict[str, object]) -> None:
    assert isinstance(policy_from_mapping(config), str)
