"""The Risk API as `make up` runs it: gunicorn on the configured URL (no test client, no mock)."""

from __future__ import annotations

import json

import pytest
import requests

from jobs.settings import Settings
from loanrisk.reasons import CATALOGUE
from risk_api.schemas import EXAMPLE_APPLICANT

TIMEOUT = 5


@pytest.fixture(scope="module")
def url(settings: Settings) -> str:
    """Return the running Risk API's base URL, failing clearly when it is down."""
    try:
        requests.get(f"{settings.risk_api_url}/readyz", timeout=TIMEOUT).raise_for_status()
    except requests.RequestException as exc:
        pytest.fail(f"Risk API not ready at {settings.risk_api_url} (run `make up`): {exc}")
    return settings.risk_api_url


def test_live_evaluation_has_decision_reasons_and_versions(url: str) -> None:
    response = requests.post(f"{url}/v1/evaluations", json=EXAMPLE_APPLICANT, timeout=TIMEOUT)
    assert response.status_code == 200
    result = response.json()
    assert result["decision"] in {"APPROVE", "REVIEW", "DECLINE"}
    assert result["model_version"] == requests.get(f"{url}/v1/model", timeout=TIMEOUT).json()["model_version"]
    assert all(CATALOGUE[r["code"]] == r["text"] for r in result["reasons"])


def test_live_batch_preserves_order(url: str) -> None:
    people = [{**EXAMPLE_APPLICANT, "id": f"LIVE{i}", "dti": float(i)} for i in range(50)]
    response = requests.post(f"{url}/v1/evaluations/batch", json={"applicants": people}, timeout=TIMEOUT)
    assert [r["application_id"] for r in response.json()["results"]] == [p["id"] for p in people]


@pytest.mark.parametrize(("body", "content_type", "status"), [
    (json.dumps({**EXAMPLE_APPLICANT, "dti": "NaN"}), "application/json", 422),
    ('{"dti": NaN}', "application/json", 422),
    ("{not json", "application/json", 400),
    (json.dumps(EXAMPLE_APPLICANT), "text/plain", 415),
    ("HUGE", "application/json", 413),
], ids=["nan-string", "nan-literal", "bad-json", "text-plain", "over-size-limit"])
def test_live_bad_input_is_a_problem(url: str, body: str, content_type: str, status: int) -> None:
    if body == "HUGE":
        body = "[" + "1," * 3_000_000 + "1]"  # 6 MB, over the 4 MiB limit
    response = requests.post(f"{url}/v1/evaluations", data=body, headers={"Content-Type": content_type},
                             timeout=TIMEOUT)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == status


def test_live_chunked_body_over_the_limit_is_413(url: str) -> None:
    chunks = (b"[" + b"1," * 100_000 for _ in range(30))  # 6 MB without a Content-Length
    response = requests.post(f"{url}/v1/evaluations", data=chunks, headers={"Content-Type": "application/json"},
                             timeout=TIMEOUT)
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/problem+json")
