"""Reading decisions and validation reasons out of Risk API response bodies (both batch shapes)."""

from __future__ import annotations

import pytest

from monitoring.outcomes import UNKNOWN, decisions_in, validation_reasons_in

EVALUATION = {"application_id": "a1", "decision": "DECLINE", "probability_of_default": 0.4}


@pytest.mark.parametrize(("body", "expected"), [
    (EVALUATION, ["DECLINE"]),
    ({"results": [EVALUATION, {**EVALUATION, "decision": "APPROVE"}]}, ["DECLINE", "APPROVE"]),
    ({"results": [EVALUATION, None], "problems": [{"index": 1, "reason": "MISSING_FIELD"}]}, ["DECLINE"]),
    ({"results": "not a list"}, []),
    ({"status": 422, "reason": "BAD_TYPE"}, []),
])
def test_decisions_in(body, expected) -> None:
    assert decisions_in(body) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ({"status": 422, "reason": "BAD_TYPE", "errors": [{"index": 0, "reason": "BAD_TYPE"},
                                                      {"index": 3, "reason": "OUT_OF_RANGE"}]},
     ["BAD_TYPE", "OUT_OF_RANGE"]),
    ({"status": 422, "reason": "UNKNOWN_CATEGORY"}, ["UNKNOWN_CATEGORY"]),
    ({"status": 422}, [UNKNOWN]),
    ({"results": [None], "problems": [{"index": 0, "field": "grade", "reason": "UNKNOWN_CATEGORY"}]},
     ["UNKNOWN_CATEGORY"]),
    ({"results": [EVALUATION], "problems": []}, []),
])
def test_validation_reasons_in(body, expected) -> None:
    assert validation_reasons_in(body) == expected
