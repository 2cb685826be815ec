"""Applicant Data API errors that are answered before any database access (no service needed)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from applicant_api import create_app
from loanrisk.problems import MEDIA_TYPE
from tests.tokens import TestTokens


@pytest.fixture(scope="module")
def client(api_tokens: TestTokens) -> FlaskClient:
    # port 1: a view that reached the database would fail with 503, so a 4xx proves it never got there
    return api_tokens.client(create_app({**api_tokens.config(), "TESTING": True, "DB_PORT": 1, "DB_TIMEOUT_S": 1}))


def problem_of(response: Any, status: int) -> dict[str, Any]:
    body: dict[str, Any] = response.get_json()
    assert response.status_code == status
    assert response.content_type == MEDIA_TYPE
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["detail"]
    return body


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ({"limit": 0}, "limit", "OUT_OF_RANGE"),
        ({"limit": 1001}, "limit", "OUT_OF_RANGE"),
        ({"limit": "ten"}, "limit", "BAD_TYPE"),
        ({"limit": "1e309"}, "limit", "BAD_TYPE"),
        ({"after": "abc"}, "after", "BAD_FORMAT"),
        ({"after": "1" * 40}, "after", "BAD_FORMAT"),
        ({"after": "1' OR '1'='1"}, "after", "BAD_FORMAT"),
        ({"limt": 5}, "limt", "UNKNOWN_FIELD"),
    ],
)
def test_bad_query_parameters_are_400_with_one_invalid_param(
    client: FlaskClient, query: dict[str, Any], field: str, reason: str
) -> None:
    body = problem_of(client.get("/applicants", query_string=query), 400)
    assert [(p["field"], p["reason"]) for p in body["invalid_params"]] == [(field, reason)]
    assert body["detail"].startswith(f"{field}: ")


def test_every_bad_parameter_is_listed(client: FlaskClient) -> None:
    body = problem_of(client.get("/applicants", query_string={"limit": 0, "after": "x", "limt": 5}), 400)
    assert sorted(p["field"] for p in body["invalid_params"]) == ["after", "limit", "limt"]
    assert body["detail"].endswith("(and 2 more)")


def test_a_malformed_id_is_400_naming_the_path_parameter(client: FlaskClient) -> None:
    body = problem_of(client.get("/applicants/bad%20id"), 400)
    assert body["invalid_params"] == [
        {
            "field": "applicant_id",
            "reason": "BAD_FORMAT",
            "detail": "must be 1-64 letters, digits, '_' or '-'.",
        }
    ]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/nowhere", 404), ("post", "/applicants", 405), ("delete", "/applicants/G1", 405)],
)
def test_unknown_paths_and_methods_are_problems(client: FlaskClient, method: str, path: str, status: int) -> None:
    problem_of(getattr(client, method)(path), status)


def test_a_405_problem_keeps_the_allow_header(client: FlaskClient) -> None:
    response = client.post("/applicants")
    problem_of(response, 405)
    assert "GET" in response.headers["Allow"]


def test_an_unreachable_database_is_a_503_problem_with_the_reason(client: FlaskClient) -> None:
    body = problem_of(client.get("/readyz"), 503)
    assert body["detail"] == "The applicant database is unavailable."
    assert body["reason"]


def test_the_openapi_document_describes_errors_as_problems(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    responses = spec["paths"]["/applicants"]["get"]["responses"]
    assert set(responses["400"]["content"]) == {MEDIA_TYPE}
    assert set(responses["200"]["content"]) == {"application/json"}
