"""Unit tests of jobs.evaluate: the policy cut-off tuning and the decision mix the model card reports."""

from __future__ import annotations

import numpy as np
import pytest

from jobs import evaluate as ev

POLICY = {"policy_version": "t", "approve_below": 0.2, "decline_at": 0.5}


def bands(n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Return outcomes whose bad rate equals the predicted probability, on a grid of probabilities."""
    p = np.repeat(np.linspace(0.01, 0.6, 60), n // 60)
    rng = np.random.default_rng(7)
    return (rng.random(len(p)) < p).astype(int), p


def test_tuned_cutoffs_meet_their_bad_rate_targets() -> None:
    y, p = bands(60_000)
    cut = ev.tune_cutoffs(y, p, approve_bad_rate=0.08, decline_bad_rate=0.5)
    assert y[p < cut["approve_below"]].mean() <= 0.08
    assert y[p >= cut["decline_at"]].mean() >= 0.5 > y[p >= cut["decline_at"] - 0.05].mean()
    assert cut["approve_below"] <= cut["decline_at"]
    wider = cut["approve_below"] + 0.05  # the band is the widest one: a wider one breaks the target
    assert y[p < wider].mean() > 0.08


def test_decision_mix_shares_sum_to_one_and_follow_the_policy() -> None:
    y, p = np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.3, 0.9])
    mix = ev.decision_mix(y, p, POLICY)
    assert [mix[d]["n"] for d in ("APPROVE", "REVIEW", "DECLINE")] == [1, 2, 1]
    assert mix["REVIEW"]["observed_bad_rate"] == pytest.approx(0.5)
    assert sum(r["share"] for r in mix.values()) == pytest.approx(1.0)


def test_pipeline_mix_puts_prescreen_declines_first() -> None:
    y, p = np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.3, 0.9])
    mix = ev.decision_mix(y, p, POLICY, prescreened=np.array([True, False, False, False]))
    assert list(mix) == [ev.PRESCREEN_DECLINE, "APPROVE", "REVIEW", "DECLINE"]
    assert (mix[ev.PRESCREEN_DECLINE]["n"], mix["APPROVE"]["n"], mix["APPROVE"]["observed_bad_rate"]) == (1, 0, None)


def test_calibration_table_covers_every_prediction_in_order() -> None:
    y, p = bands()
    table = ev.calibration_table(y, p)
    assert sum(r["n"] for r in table) == len(p)
    assert len(table) == 10
    assert [r["mean_predicted"] for r in table] == sorted(r["mean_predicted"] for r in table)
