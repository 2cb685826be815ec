"""Risk API through the Flask test client: the contract of interfaces.md and every error case."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapters.settings import ROOT
from loanrisk.applicant import FIELD_NAMES
from loanrisk.reasons import CATALOGUE
from risk_api import create_app
from risk_api.schemas import EXAMPLE_APPLICANT
from tests.tokens import shared_tokens

RESULT_KEYS = {
    "application_id",
    "probability_of_default",
    "probability_of_payoff",
    "decision",
    "reasons",
    "model_version",
    "policy_version",
}
PROBLEM = "application/problem+json"
TOKENS = shared_tokens()
AUTH = TOKENS.config()  # auth on, with the test token store


@pytest.fixture(scope="module")
def app() -> Flask:
    """Return the Risk API with the shipped model and policy."""
    return create_app({**AUTH, "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return TOKENS.client(app)


def applicant(**change: Any) -> dict[str, Any]:
    """Return a valid canonical applicant dict with some fields changed."""
    return {**EXAMPLE_APPLICANT, **change}


def without(field: str) -> dict[str, Any]:
    """Return a valid applicant dict lacking one field."""
    return {k: v for k, v in EXAMPLE_APPLICANT.items() if k != field}


def post(client: FlaskClient, path: str, body: Any) -> Any:
    """POST body serialised as JSON (NaN/Infinity allowed, as a careless client would send them)."""
    return client.post(
        path, data=json.dumps(body, allow_nan=True), content_type="application/json", headers=TOKENS.headers("scorer")
    )


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """Assert a problem+json response with the given status; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = json.loads(response.get_data())
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    return body


def test_valid_applicant_gets_a_decision(client: FlaskClient) -> None:
    response = post(client, "/v1/evaluations", applicant())
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    result = response.get_json()
    assert set(result) == RESULT_KEYS
    assert result["application_id"] == EXAMPLE_APPLICANT["id"]
    assert 0 < result["probability_of_default"] < 1
    assert result["probability_of_default"] + result["probability_of_payoff"] == pytest.approx(1.0)
    assert result["decision"] in {"APPROVE", "REVIEW", "DECLINE"}
    assert all(CATALOGUE[r["code"]] == r["text"] for r in result["reasons"])
    assert len(result["reasons"]) <= 4


@pytest.mark.parametrize(
    ("approve_below", "decline_at", "decision"), [(1.0, 1.0, "APPROVE"), (0.0, 1.0, "REVIEW"), (0.0, 0.0, "DECLINE")]
)
def test_only_adverse_decisions_carry_reasons(approve_below: float, decline_at: float, decision: str) -> None:
    policy = create_app({**AUTH, "TESTING": True, "APPROVE_BELOW": approve_below, "DECLINE_AT": decline_at})
    risky = applicant(sub_grade="D5", grade="D", int_rate=21.0, dti=29.0, inq_last_6mths=3, revol_util=95.0)
    result = post(policy.test_client(), "/v1/evaluations", risky).get_json()
    assert result["decision"] == decision
    assert bool(result["reasons"]) == (decision != "APPROVE")


def test_result_names_the_served_model_and_policy(client: FlaskClient) -> None:
    model = client.get("/v1/model").get_json()
    result = post(client, "/v1/evaluations", applicant()).get_json()
    assert result["model_version"] == model["model_version"]
    assert result["policy_version"] == model["policy"]["policy_version"]
    p, policy = result["probability_of_default"], model["policy"]
    expected = "APPROVE" if p < policy["approve_below"] else "DECLINE" if p >= policy["decline_at"] else "REVIEW"
    assert result["decision"] == expected


def test_batch_keeps_request_order(client: FlaskClient) -> None:
    people = [applicant(id=f"B{i}", dti=float(i), sub_grade=f"B{1 + i % 5}") for i in range(30)]
    response = post(client, "/v1/evaluations/batch", {"applicants": people})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["application_id"] for r in results] == [p["id"] for p in people]
    singles = [post(client, "/v1/evaluations", p).get_json() for p in people[:3]]
    assert results[:3] == singles


def test_batch_of_the_maximum_size_is_accepted(client: FlaskClient) -> None:
    response = post(client, "/v1/evaluations/batch", {"applicants": [applicant(id=f"M{i}") for i in range(1000)]})
    assert response.status_code == 200
    assert len(response.get_json()["results"]) == 1000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"applicants": [applicant(id=f"O{i}") for i in range(1001)]}, "applicants"),
        ({"applicants": []}, "applicants"),
        ({"applicants": "nope"}, "applicants"),
        ({}, "applicants"),
        ({"applicants": [applicant()], "extra": 1}, "extra"),
        ([applicant()], None),
    ],
)
def test_batch_wrong_as_a_whole_is_422(client: FlaskClient, body: Any, field: str | None) -> None:
    problem = assert_problem(post(client, "/v1/evaluations/batch", body), 422)
    assert problem["field"] == field
    assert [(p["field"], p["reason"]) for p in problem["invalid_params"]] == [(field, problem["reason"])]


def test_invalid_applicants_in_a_batch_cost_only_their_own_evaluation(client: FlaskClient) -> None:
    people = [applicant(id=f"I{i}") for i in range(5)]
    people[1] = applicant(id="I1", loan_amnt="lots")
    people[3] = without("dti")
    response = post(client, "/v1/evaluations/batch", {"applicants": people})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"results", "problems"}
    assert [r and r["application_id"] for r in body["results"]] == ["I0", None, "I2", None, "I4"]
    assert [(p["index"], p["field"], p["reason"]) for p in body["problems"]] == [
        (1, "loan_amnt", "BAD_TYPE"),
        (3, "dti", "MISSING_FIELD"),
    ]
    assert all(p["detail"] for p in body["problems"])
    assert body["results"][0] == post(client, "/v1/evaluations", people[0]).get_json()


def test_batch_of_500_with_one_invalid_applicant_gives_499_evaluations_and_1_problem(client: FlaskClient) -> None:
    people = [applicant(id=f"F{i}") for i in range(500)]
    people[250] = applicant(id="F250", fico_range_low=9000)
    body = post(client, "/v1/evaluations/batch", {"applicants": people}).get_json()
    assert sum(r is not None for r in body["results"]) == 499
    assert body["results"][250] is None
    assert body["problems"] == [
        {"index": 250, "field": "fico_range_low", "reason": "OUT_OF_RANGE", "detail": body["problems"][0]["detail"]}
    ]


def test_valid_batch_has_no_problems(client: FlaskClient) -> None:
    body = post(client, "/v1/evaluations/batch", {"applicants": [applicant()]}).get_json()
    assert body["problems"] == []
    assert len(body["results"]) == 1


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (without("annual_inc"), "annual_inc", "MISSING_FIELD"),
        (without("id"), "id", "MISSING_FIELD"),
        (applicant(annual_inc=None), "annual_inc", "MISSING_FIELD"),
        (applicant(loan_amnt="12000"), "loan_amnt", "BAD_TYPE"),
        (applicant(term="36 months"), "term", None),
        (applicant(zip_code=" 940xx"), "zip_code", "BAD_FORMAT"),
        (applicant(grade=" B"), "grade", "BAD_FORMAT"),
        (applicant(fico_range_low=True), "fico_range_low", "BAD_TYPE"),
        (applicant(dti=[1]), "dti", "BAD_TYPE"),
        (applicant(dti=float("nan")), "dti", "BAD_NUMBER"),
        (applicant(annual_inc=float("inf")), "annual_inc", "BAD_NUMBER"),
        (applicant(revol_util=float("-inf")), "revol_util", "BAD_NUMBER"),
        (applicant(purpose="yacht"), "purpose", "UNKNOWN_CATEGORY"),
        (applicant(home_ownership="CASTLE"), "home_ownership", "UNKNOWN_CATEGORY"),
        (applicant(grade="Z"), "grade", "UNKNOWN_CATEGORY"),
        (applicant(loan_amnt=-5.0), "loan_amnt", "OUT_OF_RANGE"),
        (applicant(fico_range_low=9000), "fico_range_low", "OUT_OF_RANGE"),
        (applicant(issue_d="Dec-2015"), "issue_d", None),
        (applicant(surprise=1), "surprise", "UNKNOWN_FIELD"),
        (applicant(sub_grade="C1"), "sub_grade", "INCONSISTENT"),
        (applicant(schema_version=99), "schema_version", "UNSUPPORTED_VERSION"),
    ],
)
def test_invalid_applicant_is_422_naming_the_field(
    client: FlaskClient, body: dict[str, Any], field: str, reason: str | None
) -> None:
    problem = assert_problem(post(client, "/v1/evaluations", body), 422)
    assert problem["field"] == field
    assert problem["invalid_params"][0] == {"field": field, "reason": problem["reason"], "detail": ANY}
    if reason:
        assert problem["reason"] == reason


@pytest.mark.parametrize(
    ("field", "raw", "kept"),
    [
        ("emp_title", "  Registered Nurse ", "Registered Nurse"),
        ("title", "Debt consolidation\t", "Debt consolidation"),
        ("emp_title", "   ", None),
    ],
)
def test_free_text_is_trimmed_not_refused(client: FlaskClient, field: str, raw: str, kept: str | None) -> None:
    from loanrisk.cleaning import applicant_from_json

    response = post(client, "/v1/evaluations", applicant(**{field: raw}))
    assert response.status_code == 200
    assert getattr(applicant_from_json(applicant(**{field: raw})), field) == kept


UNSCORED = [
    "emp_title",
    "title",
    "zip_code",
    "addr_state",
    "open_acc",
    "revol_bal",
    "home_ownership",
    "verification_status",
    "application_type",
]


def test_fields_the_model_and_policy_do_not_use_may_be_absent(client: FlaskClient) -> None:
    lean = {k: v for k, v in EXAMPLE_APPLICANT.items() if k not in UNSCORED}
    full = post(client, "/v1/evaluations", applicant()).get_json()
    response = post(client, "/v1/evaluations", lean)
    assert response.status_code == 200
    assert response.get_json() == full
    nulls = post(client, "/v1/evaluations", applicant(**dict.fromkeys(UNSCORED)))
    assert nulls.status_code == 200


def test_openapi_required_list_is_the_validators(client: FlaskClient) -> None:
    from loanrisk.cleaning import strict_key_required, strict_value_required

    body = client.get("/openapi.json").get_json()["components"]["schemas"]["ApplicantIn"]
    assert set(body["required"]) == {f for f in FIELD_NAMES if strict_key_required(f)}
    assert set(body["required"]) == set(FIELD_NAMES) - set(UNSCORED)
    for name, prop in body["properties"].items():
        assert prop.get("nullable", False) == (not strict_value_required(name)), name


def test_openapi_documents_the_batch_answer(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    out = spec["components"]["schemas"]["BatchOut"]
    assert set(out["required"]) == {"results", "problems"}
    problem = spec["components"]["schemas"]["BatchProblem"]
    assert set(problem["required"]) == {"index", "field", "reason", "detail"}


@pytest.mark.parametrize("body", [[applicant()], "text", 42, None])
def test_json_that_is_not_an_object_is_422(client: FlaskClient, body: Any) -> None:
    assert assert_problem(post(client, "/v1/evaluations", body), 422)["reason"] == "NOT_AN_OBJECT"


@pytest.mark.parametrize("path", ["/v1/evaluations", "/v1/evaluations/batch"])
@pytest.mark.parametrize("raw", [b"{", b"", b'{"id": }', b"\xff\xfe\x00", b"[" * 100_000])
def test_bad_json_is_400(client: FlaskClient, path: str, raw: bytes) -> None:
    problem = assert_problem(client.post(path, data=raw, content_type="application/json"), 400)
    assert problem["reason"] == "BAD_JSON"
    assert [p["reason"] for p in problem["invalid_params"]] == ["BAD_JSON"]


@pytest.mark.parametrize("path", ["/v1/evaluations", "/v1/evaluations/batch"])
def test_missing_body_is_400(client: FlaskClient, path: str) -> None:
    assert_problem(client.post(path), 400)


@pytest.mark.parametrize("path", ["/v1/evaluations", "/v1/evaluations/batch"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_wrong_content_type_is_415(client: FlaskClient, path: str, content_type: str | None) -> None:
    response = client.post(path, data=json.dumps(applicant()), content_type=content_type)
    assert_problem(response, 415)


def test_body_over_the_limit_is_413() -> None:
    small = create_app({**AUTH, "TESTING": True, "MAX_CONTENT_LENGTH": 2048}).test_client()
    response = post(small, "/v1/evaluations/batch", {"applicants": [applicant(id=f"L{i}") for i in range(10)]})
    assert_problem(response, 413)


def test_default_limit_fits_a_full_batch_but_not_much_more(app: Flask) -> None:
    full = len(json.dumps({"applicants": [applicant(emp_title="x" * 255, title="y" * 255)] * 1000}))
    assert full <= app.config["MAX_CONTENT_LENGTH"] < 10 * full


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/v1/evaluations", 405),
        ("put", "/v1/evaluations/batch", 405),
        ("get", "/nowhere", 404),
        ("delete", "/v1/model", 405),
    ],
)
def test_routing_errors_are_problems(client: FlaskClient, method: str, path: str, status: int) -> None:
    assert_problem(getattr(client, method)(path), status)


def test_model_endpoint_reports_metadata_and_metrics(client: FlaskClient) -> None:
    body = client.get("/v1/model").get_json()
    assert body["metrics"]["holdout"]["roc_auc"] > 0.5
    assert {"random", "out_of_time", "experiments"} <= set(body["metrics"])
    assert body["training_data"]["sha256"]
    assert body["sklearn_version"]
    assert body["reason_codes"] == CATALOGUE


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["model_version"]


def test_openapi_document_describes_the_endpoints(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert {"/v1/evaluations", "/v1/evaluations/batch", "/v1/model", "/healthz", "/readyz"} <= set(spec["paths"])
    body = spec["components"]["schemas"]["ApplicantIn"]
    assert set(body["properties"]) == set(FIELD_NAMES)
    errors = spec["paths"]["/v1/evaluations"]["post"]["responses"]
    assert {"400", "413", "415", "422"} <= set(errors)
    assert PROBLEM in errors["422"]["content"]


def test_openapi_documents_one_problem_dialect(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    documented = spec["components"]["schemas"]["HTTPError"]["properties"]
    assert {"invalid_params", "field", "reason", "index"} <= set(documented)
    assert "errors" not in documented
    item = documented["invalid_params"]["items"]
    assert set(item["properties"]) == {"field", "reason", "index", "detail"}


def test_policy_thresholds_come_from_config(client: FlaskClient) -> None:
    strict = create_app(
        {**AUTH, "TESTING": True, "APPROVE_BELOW": 0.0, "DECLINE_AT": 0.0, "POLICY_VERSION": "all-decline"}
    )
    result = post(strict.test_client(), "/v1/evaluations", applicant()).get_json()
    assert (result["decision"], result["policy_version"]) == ("DECLINE", "all-decline")
    assert (
        result["probability_of_default"]
        == post(client, "/v1/evaluations", applicant()).get_json()["probability_of_default"]
    )


def test_policy_can_be_overridden_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISK_API_APPROVE_BELOW", "1.0")
    monkeypatch.setenv("RISK_API_DECLINE_AT", "1.0")
    result = post(create_app({**AUTH, "TESTING": True}).test_client(), "/v1/evaluations", applicant()).get_json()
    assert result["decision"] == "APPROVE"


def test_policy_file_is_read(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"policy_version": "file-v9", "approve_below": 0.0, "decline_at": 1.0}))
    result = post(
        create_app({**AUTH, "TESTING": True, "POLICY_FILE": str(policy)}).test_client(), "/v1/evaluations", applicant()
    ).get_json()
    assert (result["decision"], result["policy_version"]) == ("REVIEW", "file-v9")


@pytest.mark.parametrize(
    "config",
    [
        {"APPROVE_BELOW": 0.5, "DECLINE_AT": 0.1},
        {"POLICY_FILE": "/nonexistent/policy.json"},
        {"MODEL_DIR": "/nonexistent"},
    ],
)
def test_bad_configuration_fails_at_start(config: dict[str, Any]) -> None:
    with pytest.raises(RuntimeError):
        create_app({**AUTH, "TESTING": True, **config})


def test_tampered_model_fails_at_start(tmp_path: Path) -> None:
    for name in ("risk_model.skops", "risk_model.json"):
        shutil.copy(ROOT / "models" / name, tmp_path / name)
    meta = json.loads((tmp_path / "risk_model.json").read_text())
    meta["artifact"]["sha256"] = "0" * 64
    (tmp_path / "risk_model.json").write_text(json.dumps(meta))
    with pytest.raises(RuntimeError, match="sha256"):
        create_app({**AUTH, "TESTING": True, "MODEL_DIR": str(tmp_path)})
