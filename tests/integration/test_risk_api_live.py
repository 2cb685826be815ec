"""The Risk API as `make up` runs it: gunicorn on the configured URL (no test client, no mock)."""

from __future__ import annotations

import json

import pytest
import requests

from adapters.settings import Settings
from loanrisk.reasons import CATALOGUE
from risk_api.schemas import EXAMPLE_APPLICANT

AUTH = Settings.load().auth_headers("admin")  # var/tokens/admin.token, written by `make up`

TIMEOUT = 5


@pytest.fixture(scope="module")
def url(settings: Settings) -> str:
    """Return the running Risk API's base URL, failing clearly when it is down."""
    try:
        requests.get(f"{settings.risk_api_url}/readyz", headers=AUTH, timeout=TIMEOUT).raise_for_status()
    except requests.RequestException as exc:
        pytest.fail(f"Risk API not ready at {settings.risk_api_url} (run `make up`): {exc}")
    return settings.risk_api_url


def test_live_evaluation_has_decision_reasons_and_versions(url: str) -> None:
    response = requests.post(f"{url}/v1/evaluations", json=EXAMPLE_APPLICANT, headers=AUTH, timeout=TIMEOUT)
    assert response.status_code == 200
    result = response.json()
    assert result["decision"] in {"APPROVE", "REVIEW", "DECLINE"}
    model = requests.get(f"{url}/v1/model", headers=AUTH, timeout=TIMEOUT).json()
    assert result["model_version"] == model["model_version"]
    assert all(CATALOGUE[r["code"]] == r["text"] for r in result["reasons"])


def test_live_batch_preserves_order(url: str) -> None:
    people = [{**EXAMPLE_APPLICANT, "id": f"LIVE{i}", "dti": float(i)} for i in range(50)]
    response = requests.post(f"{url}/v1/evaluations/batch", json={"applicants": people}, headers=AUTH, timeout=TIMEOUT)
    assert [r["application_id"] for r in response.json()["results"]] == [p["id"] for p in people]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (json.dumps({**EXAMPLE_APPLICANT, "dti": "NaN"}), "application/json", 422),
        ('{"dti": NaN}', "application/json", 422),
        ("{not json", "application/json", 400),
        (json.dumps(EXAMPLE_APPLICANT), "text/plain", 415),
        ("HUGE", "application/json", 413),
    ],
    ids=["nan-string", "nan-literal", "bad-json", "text-plain", "over-size-limit"],
)
def test_live_bad_input_is_a_problem(url: str, body: str, content_type: str, status: int) -> None:
    if body == "HUGE":
        body = "[" + "1," * 3_000_000 + "1]"  # 6 MB, over the 4 MiB limit
    response = requests.post(
        f"{url}/v1/evaluations", data=body, headers={**AUTH, "Content-Type": content_type}, timeout=TIMEOUT
    )
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == status


def test_live_chunked_body_over_the_limit_is_413(url: str) -> None:
    chunks = (b"[" + b"1," * 100_000 for _ in range(30))  # 6 MB without a Content-Length
    response = requests.post(
        f"{url}/v1/evaluations", data=chunks, headers={**AUTH, "Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/problem+json")


REAL_FILE = "lending_club_2015_sample.csv"  # 999 real loans, 76 with whitespace around emp_title or title
BATCH = 500


def canonical_as_sent(row: dict[str, str]) -> dict[str, object]:
    """Return a raw LendingClub row as a lender sends it: the canonical record, free text untrimmed."""
    from loanrisk.cleaning import Rejection, clean_record

    applicant = clean_record(row)
    assert not isinstance(applicant, Rejection), applicant
    return applicant.to_dict() | {f: (row[f] if row[f].strip() else None) for f in ("emp_title", "title")}


@pytest.fixture(scope="module")
def real_records() -> list[dict[str, object]]:
    """Return the 999 real loans of the 2015 sample as canonical records (skip without the data folder)."""
    import csv

    from adapters.settings import default_data_dir

    data_dir = default_data_dir()
    if data_dir is None or not (data_dir / REAL_FILE).exists():
        pytest.skip(f"{REAL_FILE} is not in the data folder")
    with (data_dir / REAL_FILE).open(newline="", encoding="utf-8") as handle:
        return [canonical_as_sent(row) for row in csv.DictReader(handle)]


def test_live_999_real_loans_in_batches_of_500_are_all_scored(url: str, real_records: list[dict[str, object]]) -> None:
    assert len(real_records) == 999
    assert any(isinstance(r["emp_title"], str) and r["emp_title"] != r["emp_title"].strip() for r in real_records)
    results = []
    for start in range(0, len(real_records), BATCH):
        chunk = real_records[start : start + BATCH]
        response = requests.post(f"{url}/v1/evaluations/batch", json={"applicants": chunk}, headers=AUTH, timeout=30)
        assert response.status_code == 200
        body = response.json()
        assert body["problems"] == []
        results += body["results"]
    assert [r["application_id"] for r in results] == [r["id"] for r in real_records]
    assert all(bool(r["reasons"]) == (r["decision"] != "APPROVE") for r in results)


def test_live_batch_of_500_with_one_invalid_applicant(url: str, real_records: list[dict[str, object]]) -> None:
    chunk = [dict(r) for r in real_records[:BATCH]]
    chunk[123]["annual_inc"] = "a lot"
    response = requests.post(f"{url}/v1/evaluations/batch", json={"applicants": chunk}, headers=AUTH, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert sum(r is not None for r in body["results"]) == 499
    assert body["results"][123] is None
    assert [(p["index"], p["field"], p["reason"]) for p in body["problems"]] == [(123, "annual_inc", "BAD_TYPE")]
