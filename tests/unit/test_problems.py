"""The one problem-details shape (RFC 9457) that every app answers errors with."""

from __future__ import annotations

import pytest

from loanrisk.cleaning import Rejection, applicant_from_json
from loanrisk.problems import MAX_INVALID_PARAMS, SCHEMA, InvalidParam, Problem, invalid, problem, status_title


def test_plain_problem_has_the_standard_members_and_the_status_phrase_as_title() -> None:
    assert problem(404, "no applicant with id 'x'").to_dict() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "no applicant with id 'x'",
    }


def test_a_problem_type_of_ours_is_a_urn_and_may_have_its_own_title() -> None:
    body = problem(503, "connection refused", "nimbus-unavailable", title="Nimbus unavailable").to_dict()
    assert body["type"] == "urn:loanrisk:problem:nimbus-unavailable"
    assert body["title"] == "Nimbus unavailable"


def test_about_blank_keeps_the_status_phrase_even_when_a_title_is_given() -> None:
    assert problem(400, "bad", title="Something else").to_dict()["title"] == "Bad Request"


def test_extensions_are_added_but_never_replace_standard_members() -> None:
    body = Problem(503, "down", extensions={"reason": "OperationalError", "status": 200, "type": "x"}).to_dict()
    assert body == {
        "reason": "OperationalError",
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "down",
    }


@pytest.mark.parametrize(
    ("status", "title"), [(400, "Bad Request"), (404, "Not Found"), (503, "Service Unavailable"), (599, "Error")]
)
def test_status_title(status: int, title: str) -> None:
    assert status_title(status) == title


def test_invalid_names_the_first_param_in_the_detail_and_lists_every_one() -> None:
    params = [
        InvalidParam("loan_amnt", "OUT_OF_RANGE", "must be 1..100000", 3),
        InvalidParam("dti", "BAD_TYPE", "expected a number", 4),
    ]
    body = invalid(422, params, "invalid-applicant").to_dict()
    assert body["detail"] == "applicant 3: loan_amnt: must be 1..100000 (and 1 more)"
    assert body["invalid_params"] == [
        {"field": "loan_amnt", "reason": "OUT_OF_RANGE", "detail": "must be 1..100000", "index": 3},
        {"field": "dti", "reason": "BAD_TYPE", "detail": "expected a number", "index": 4},
    ]
    assert "invalid_count" not in body


def test_a_param_outside_a_batch_has_no_index_and_a_whole_body_error_no_field() -> None:
    body = invalid(400, [InvalidParam(None, "BAD_JSON", "invalid JSON")]).to_dict()
    assert body["detail"] == "invalid JSON"
    assert body["invalid_params"] == [{"field": None, "reason": "BAD_JSON", "detail": "invalid JSON"}]


def test_a_long_list_is_capped_and_the_exact_count_kept() -> None:
    params = [InvalidParam("dti", "BAD_TYPE", "expected a number", i) for i in range(1000)]
    body = invalid(422, params).to_dict()
    assert len(body["invalid_params"]) == MAX_INVALID_PARAMS
    assert body["invalid_count"] == 1000


def test_invalid_needs_a_param() -> None:
    with pytest.raises(ValueError, match="at least one"):
        invalid(400, [])


def test_a_domain_rejection_becomes_an_invalid_param() -> None:
    rejection = applicant_from_json({"id": "G1"})
    assert isinstance(rejection, Rejection)
    param = InvalidParam.from_mapping({"index": 2, **rejection.to_dict()})
    assert (param.field, param.reason, param.detail, param.index) == (
        rejection.field,
        rejection.reason,
        rejection.detail,
        2,
    )


def test_the_schema_requires_what_every_problem_has() -> None:
    body = invalid(422, [InvalidParam("dti", "BAD_TYPE", "expected a number", 0)]).to_dict()
    assert set(SCHEMA["required"]) <= set(body)
    assert set(body) <= set(SCHEMA["properties"])
    entry = SCHEMA["properties"]["invalid_params"]["items"]
    assert set(entry["required"]) <= set(body["invalid_params"][0]) <= set(entry["properties"])
