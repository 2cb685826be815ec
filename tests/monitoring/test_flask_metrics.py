"""init_metrics on the real app factories, through Flask's test client: what /metrics exposes after requests."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from applicant_api import create_app as create_applicant_api
from risk_api import create_app as create_risk_api
from risk_api.schemas import EXAMPLE_APPLICANT
from tests.tokens import shared_tokens

TOKENS = shared_tokens()


def samples(client: FlaskClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Read /metrics into {(sample name, labels): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def risk_client():
    return TOKENS.client(create_risk_api({**TOKENS.config(), "TESTING": True}))


def test_risk_api_counts_requests_and_decisions_by_outcome(risk_client) -> None:
    before = samples(risk_client)
    one = risk_client.post("/v1/evaluations", json=EXAMPLE_APPLICANT)
    batch = risk_client.post("/v1/evaluations/batch", json={"applicants": [EXAMPLE_APPLICANT] * 3})
    after = samples(risk_client)
    decision = one.json["decision"]
    assert {r["decision"] for r in batch.json["results"]} == {decision}
    assert (
        value(after, "loanrisk_risk_decisions_total", decision=decision)
        - value(before, "loanrisk_risk_decisions_total", decision=decision)
        == 4
    )
    labels = {"app": "risk_api", "endpoint": "/v1/evaluations/batch", "method": "POST", "status": "200"}
    assert (
        value(after, "loanrisk_http_requests_total", **labels) - value(before, "loanrisk_http_requests_total", **labels)
        == 1
    )
    assert value(after, "loanrisk_http_request_duration_seconds_count", **labels) >= 1
    assert value(after, "loanrisk_http_request_duration_seconds_bucket", **labels, le="+Inf") >= 1


def test_risk_api_counts_invalid_applicants_by_reason(risk_client) -> None:
    before = samples(risk_client)
    bad = {**EXAMPLE_APPLICANT, "grade": "Z"}
    response = risk_client.post("/v1/evaluations/batch", json={"applicants": [EXAMPLE_APPLICANT, bad, bad]})
    # one invalid applicant no longer fails the batch: 200 with a result per valid one and a problem per invalid one
    assert response.status_code == 200
    [reason] = {problem["reason"] for problem in response.json["problems"]}
    after = samples(risk_client)
    assert (
        value(after, "loanrisk_risk_validation_failures_total", reason=reason)
        - value(before, "loanrisk_risk_validation_failures_total", reason=reason)
        == 2
    )
    labels = {"app": "risk_api", "endpoint": "/v1/evaluations/batch", "method": "POST", "status": "200"}
    assert (
        value(after, "loanrisk_http_requests_total", **labels) - value(before, "loanrisk_http_requests_total", **labels)
        == 1
    )


def test_risk_api_exposes_model_and_policy_versions(risk_client) -> None:
    model = risk_client.get("/v1/model").json
    found = samples(risk_client)
    assert (
        value(
            found,
            "loanrisk_risk_model_info",
            model_version=model["model_version"],
            policy_version=model["policy"]["policy_version"],
        )
        == 1
    )


def test_unknown_paths_share_one_label_value(risk_client) -> None:
    risk_client.get("/no/such/path/1")
    risk_client.get("/no/such/path/2")
    found = samples(risk_client)
    assert (
        value(found, "loanrisk_http_requests_total", app="risk_api", endpoint="unmatched", method="GET", status="404")
        >= 2
    )
    assert not any("/no/such" in dict(labels).get("endpoint", "") for _, labels in found)


def test_metrics_is_not_in_the_openapi_document(risk_client) -> None:
    assert "/metrics" not in risk_client.get("/openapi.json").json["paths"]


def test_applicant_api_counts_requests_by_endpoint_and_status() -> None:
    client = TOKENS.client(create_applicant_api({**TOKENS.config(), "TESTING": True}))
    labels = {"app": "applicant_api", "endpoint": "/healthz", "method": "GET", "status": "200"}
    before = value(samples(client), "loanrisk_http_requests_total", **labels)
    assert client.get("/healthz").status_code == 200
    found = samples(client)
    assert value(found, "loanrisk_http_requests_total", **labels) - before == 1
    assert value(found, "loanrisk_http_request_duration_seconds_count", **labels) >= 1
    assert not any(name == "loanrisk_risk_model_info" for name, _ in found)  # not a model server
