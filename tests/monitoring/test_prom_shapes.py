"""The dashboard's shaping of Prometheus answers (pure functions of monitoring.dashboard.prom)."""

from __future__ import annotations

from monitoring.dashboard.prom import aligned, by_label, grid, histogram_counts, scalar, table


def test_by_label_largest_first() -> None:
    pairs = [({"decision": "REVIEW"}, 5.0), ({"decision": "APPROVE"}, 9.0), ({"decision": "DECLINE"}, 5.0)]
    assert list(by_label(pairs, "decision").items()) == [("APPROVE", 9.0), ("DECLINE", 5.0), ("REVIEW", 5.0)]


def test_scalar_of_empty_and_nan() -> None:
    assert scalar([]) is None
    assert scalar([({}, float("nan"))]) is None
    assert scalar([({}, 2.5)]) == 2.5


def test_table_pivots_grade_by_decision() -> None:
    pairs = [
        ({"grade": "B", "decision": "APPROVE"}, 3.0),
        ({"grade": "A", "decision": "APPROVE"}, 4.0),
        ({"grade": "B", "decision": "DECLINE"}, 1.0),
    ]
    assert table(pairs, "grade", "decision") == {"A": {"APPROVE": 4.0}, "B": {"APPROVE": 3.0, "DECLINE": 1.0}}


def test_histogram_counts_turns_cumulative_buckets_into_counts() -> None:
    pairs = [({"le": "0.1"}, 4.0), ({"le": "+Inf"}, 10.0), ({"le": "0.05"}, 1.0), ({"le": "1.0"}, 10.0)]
    assert histogram_counts(pairs) == [
        {"from": 0.0, "to": 0.05, "count": 1.0},
        {"from": 0.05, "to": 0.1, "count": 3.0},
        {"from": 0.1, "to": 1.0, "count": 6.0},
    ]


def test_aligned_puts_values_on_the_grid_with_gaps() -> None:
    times = grid(100.0, 120.0, 5.0)
    result = [
        {"metric": {"decision": "APPROVE"}, "values": [[100, "1"], [110, "2.5"], [120, "NaN"]]},
        {"metric": {"decision": "DECLINE"}, "values": [[115, "4"]]},
    ]
    assert times == [100.0, 105.0, 110.0, 115.0, 120.0]
    assert aligned(result, times, "decision") == {
        "APPROVE": [1.0, None, 2.5, None, None],
        "DECLINE": [None, None, None, 4.0, None],
    }
    assert aligned([{"metric": {}, "values": [[105, "7"]]}], times, None) == {"": [None, 7.0, None, None, None]}
