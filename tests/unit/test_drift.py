"""Unit tests of loanrisk.drift: reference bins, PSI and its bands."""

from __future__ import annotations

import numpy as np
import pytest

from loanrisk import drift


def sample(seed: int, n: int = 5000, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(50.0 + shift, 10.0, n)


def test_psi_is_zero_for_identical_samples() -> None:
    values = sample(1)
    assert drift.psi(drift.reference(values), values) == 0.0


def test_psi_is_small_for_another_sample_of_the_same_population() -> None:
    assert drift.psi(drift.reference(sample(1)), sample(2)) < drift.WATCH_AT


def test_psi_of_a_shifted_population_is_act() -> None:
    value = drift.psi(drift.reference(sample(1)), sample(2, shift=8.0))
    assert value > drift.ACT_ABOVE
    assert drift.band(value) == drift.ACT


def test_reference_has_decile_bins_and_missing_share() -> None:
    values = np.append(sample(3, 900), [np.nan] * 100)
    ref = drift.reference(values)
    assert len(ref.edges) == 9
    assert len(ref.fractions) == 10
    assert ref.missing == pytest.approx(0.1)
    assert sum(ref.fractions) + ref.missing == pytest.approx(1.0)


def test_more_missing_values_drift() -> None:
    ref = drift.reference(sample(4))
    recent = sample(5)
    recent[: len(recent) // 3] = np.nan
    assert drift.psi(ref, recent) > drift.ACT_ABOVE


def test_a_discrete_variable_keeps_distinct_edges() -> None:
    flags = np.array([0.0] * 800 + [1.0] * 200)
    ref = drift.reference(flags)
    assert ref.edges == (0.0,)
    assert ref.fractions == pytest.approx((0.8, 0.2))
    assert drift.psi(ref, np.array([0.0] * 400 + [1.0] * 600)) > drift.ACT_ABOVE


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, drift.STABLE),
        (0.099, drift.STABLE),
        (0.1, drift.WATCH),
        (0.25, drift.WATCH),
        (0.2501, drift.ACT),
    ],
)
def test_bands(value: float, expected: str) -> None:
    assert drift.band(value) == expected


def test_reference_round_trips_through_json_data() -> None:
    ref = drift.reference(sample(6))
    assert drift.Reference.from_dict(ref.to_dict()) == ref


def test_report_covers_only_stored_variables_worst_first() -> None:
    stored = drift.references({"a": sample(7), "b": sample(8)})
    found = drift.report(stored, {"a": sample(9), "b": sample(10, shift=10.0), "unknown": sample(11)})
    assert [d.name for d in found] == ["b", "a"]
    assert drift.overall(found) == drift.ACT
    assert drift.overall([]) == drift.STABLE
