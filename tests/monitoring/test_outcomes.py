"""Reading decisions and validation reasons out of Risk API response bodies (both batch shapes)."""

from __future__ import annotations

import json

import pytest

from monitoring.outcomes import UNKNOWN, decisions_in, problem_reasons_in, validation_reasons_in

EVALUATION = {
    "application_id": "a1",
    "decision": "DECLINE",
    "probability_of_default": 0.4,
    "reasons": [{"code": "FICO_LOW", "text": "credit score is low"}],
    "model_version": "lr-1",
}


def compact(body) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (EVALUATION, {"DECLINE": 1}),
        ({"results": [EVALUATION, {**EVALUATION, "decision": "APPROVE"}, EVALUATION]}, {"DECLINE": 2, "APPROVE": 1}),
        (
            {
                "results": [EVALUATION, None],
                "problems": [{"index": 1, "field": "grade", "reason": "MISSING_FIELD", "detail": "grade is required"}],
            },
            {"DECLINE": 1},
        ),
        ({"results": []}, {}),
    ],
)
def test_decisions_in(body, expected) -> None:
    assert decisions_in(compact(body)) == expected


def test_decisions_in_indented_json() -> None:
    assert decisions_in(json.dumps({"results": [EVALUATION] * 2}, indent=2).encode()) == {"DECLINE": 2}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {
                "results": [None, EVALUATION, None],
                "problems": [
                    {"index": 0, "field": "grade", "reason": "UNKNOWN_CATEGORY", "detail": "grade must be A-G"},
                    {"index": 2, "field": "dti", "reason": "OUT_OF_RANGE", "detail": "dti"},
                ],
            },
            {"UNKNOWN_CATEGORY": 1, "OUT_OF_RANGE": 1},
        ),
        ({"results": [EVALUATION], "problems": []}, {}),
        ({"results": [EVALUATION]}, {}),  # the old shape: evaluations have "reasons", never "reason"
    ],
)
def test_problem_reasons_in_a_200_batch(body, expected) -> None:
    assert problem_reasons_in(compact(body)) == expected


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (
            {
                "status": 422,
                "reason": "BAD_TYPE",
                "invalid_params": [{"index": 0, "reason": "BAD_TYPE"}, {"index": 3, "reason": "OUT_OF_RANGE"}],
            },
            {"BAD_TYPE": 1, "OUT_OF_RANGE": 1},
        ),
        ({"status": 422, "reason": "UNKNOWN_CATEGORY"}, {"UNKNOWN_CATEGORY": 1}),
        ({"status": 422}, {UNKNOWN: 1}),
    ],
)
def test_validation_reasons_in_a_422(problem, expected) -> None:
    assert validation_reasons_in(problem) == expected
