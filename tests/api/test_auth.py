"""Access control of both APIs through the test client: 401/403/429 problems, public probes, refusal to start.

No service is needed: the Applicant API points at port 1, so a request that passed authentication answers 503
(database unreachable), which proves it got past the check without needing MariaDB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from apiflask import APIFlask
from flask.testing import FlaskClient

from adapters.settings import ROOT
from applicant_api import create_app as applicant_app
from loanrisk.problems import MEDIA_TYPE
from risk_api import create_app as risk_app
from risk_api.schemas import EXAMPLE_APPLICANT
from tests.tokens import TestTokens
from webkit.auth import served_addresses

BAD_TOKEN = "x" * 43
PUBLIC = "0.0.0.0"  # noqa: S104 (the bind address the tests expect a refusal for)


@pytest.fixture(scope="module")
def applicants(api_tokens: TestTokens) -> APIFlask:
    return applicant_app({**api_tokens.config(), "TESTING": True, "DB_PORT": 1, "DB_TIMEOUT_S": 1})


@pytest.fixture(scope="module")
def risk(api_tokens: TestTokens) -> APIFlask:
    return risk_app({**api_tokens.config(), "TESTING": True})


class Route(NamedTuple):
    """A protected path: its app fixture, the role that may call it (and admin), the roles that may not."""

    app: str
    method: str
    path: str
    may: str
    may_not: tuple[str, ...]


PROTECTED = [
    Route("applicants", "get", "/applicants", "reader", ("scorer", "operator")),
    Route("applicants", "get", "/applicants/A1", "reader", ("scorer", "operator")),
    Route("applicants", "get", "/openapi.json", "reader", ("scorer", "operator")),
    Route("risk", "post", "/v1/evaluations", "scorer", ("reader", "operator")),
    Route("risk", "post", "/v1/evaluations/batch", "scorer", ("reader", "operator")),
    Route("risk", "get", "/v1/model", "reader", ("scorer", "operator")),
    Route("risk", "get", "/openapi.json", "reader", ("scorer", "operator")),
]
IDS = [f"{r.app}:{r.method.upper()} {r.path}" for r in PROTECTED]


def client_of(request: pytest.FixtureRequest, route: Route) -> FlaskClient:
    app: APIFlask = request.getfixturevalue(route.app)
    return app.test_client()


def call(client: FlaskClient, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
    body = {"applicants": [EXAMPLE_APPLICANT]} if path.endswith("batch") else EXAMPLE_APPLICANT
    kwargs: dict[str, Any] = {"json": body} if method == "post" else {}
    return getattr(client, method)(path, headers=headers or {}, **kwargs)


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == MEDIA_TYPE
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert body["detail"]
    return body


@pytest.mark.parametrize("route", PROTECTED, ids=IDS)
@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "MISSING"),
        (f"Bearer {BAD_TOKEN}", "UNKNOWN"),
        ("Basic YWRtaW46YWRtaW4=", "MISSING"),
        ("Bearer", "MISSING"),
    ],
)
def test_no_or_a_wrong_token_is_401_with_a_challenge(
    request: pytest.FixtureRequest, route: Route, authorization: str | None, reason: str
) -> None:
    headers = {"Authorization": authorization} if authorization else None
    response = call(client_of(request, route), route.method, route.path, headers)
    assert problem_of(response, 401)["reason"] == reason
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")


@pytest.mark.parametrize("route", PROTECTED, ids=IDS)
def test_an_expired_token_is_401_saying_so(
    request: pytest.FixtureRequest, api_tokens: TestTokens, route: Route
) -> None:
    response = call(client_of(request, route), route.method, route.path, api_tokens.headers("expired"))
    body = problem_of(response, 401)
    assert body["reason"] == "EXPIRED"
    assert "expired" in body["detail"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("route", PROTECTED, ids=IDS)
def test_a_token_without_the_role_is_403(request: pytest.FixtureRequest, api_tokens: TestTokens, route: Route) -> None:
    client = client_of(request, route)
    for role in route.may_not:
        body = problem_of(call(client, route.method, route.path, api_tokens.headers(role)), 403)
        assert f"test-{role}" in body["detail"]


@pytest.mark.parametrize("route", PROTECTED, ids=IDS)
def test_the_role_and_admin_get_past_the_check(
    request: pytest.FixtureRequest, api_tokens: TestTokens, route: Route
) -> None:
    client = client_of(request, route)
    for role in (route.may, "admin"):
        status = call(client, route.method, route.path, api_tokens.headers(role)).status_code
        assert status == (503 if route.app == "applicants" and route.path != "/openapi.json" else 200)


@pytest.mark.parametrize("app", ["applicants", "risk"])
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_probes_need_no_token(request: pytest.FixtureRequest, app: str, path: str) -> None:
    status = request.getfixturevalue(app).test_client().get(path).status_code
    assert status == (503 if app == "applicants" and path == "/readyz" else 200)


def test_unknown_paths_need_a_token_too(applicants: APIFlask) -> None:
    problem_of(applicants.test_client().get("/nowhere"), 401)


def test_the_openapi_document_declares_the_bearer_scheme_and_the_auth_problems(
    risk: APIFlask, api_tokens: TestTokens
) -> None:
    spec = risk.test_client().get("/openapi.json", headers=api_tokens.headers("reader")).get_json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    evaluate = spec["paths"]["/v1/evaluations"]["post"]
    assert evaluate["security"] == [{"bearer": []}]
    assert {"401", "403", "429"} <= set(evaluate["responses"])
    assert spec["paths"]["/healthz"]["get"]["security"] == []


def test_a_burst_over_the_rate_gets_429_with_retry_after(api_tokens: TestTokens) -> None:
    app = risk_app({**api_tokens.config(RATE_LIMIT_PER_S=0.01, RATE_LIMIT_BURST=3), "TESTING": True})
    client = app.test_client()
    statuses = [call(client, "get", "/v1/model", api_tokens.headers("reader")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = call(client, "get", "/v1/model", api_tokens.headers("reader"))
    problem_of(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert call(client, "get", "/v1/model", api_tokens.headers("admin")).status_code == 200  # a bucket per token


def test_refusals_are_audited_without_the_token(tmp_path: Path, api_tokens: TestTokens) -> None:
    audit_log = tmp_path / "audit.log"
    app = risk_app({**api_tokens.config(AUDIT_LOG=str(audit_log)), "TESTING": True})
    call(app.test_client(), "post", "/v1/evaluations", {"Authorization": f"Bearer {BAD_TOKEN}"})
    call(app.test_client(), "post", "/v1/evaluations")
    call(app.test_client(), "post", "/v1/evaluations", api_tokens.headers("reader"))
    lines = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert [(e["who"], e["action"], e["status"], e["reason"]) for e in lines] == [
        ("unauthenticated", "auth.refused", 401, "UNKNOWN"),
        ("unauthenticated", "auth.refused", 401, "MISSING"),
        ("test-reader", "auth.refused", 403, "FORBIDDEN"),
    ]
    assert all(e["source"] == "127.0.0.1" and e["path"] == "/v1/evaluations" for e in lines)
    text = audit_log.read_text()
    assert BAD_TOKEN not in text
    assert api_tokens.tokens["reader"] not in text


def test_auth_may_be_off_on_loopback(api_tokens: TestTokens) -> None:
    app = risk_app({**api_tokens.config(AUTH="off", BIND="127.0.0.1:5001"), "TESTING": True})
    assert app.test_client().post("/v1/evaluations", json=EXAMPLE_APPLICANT).status_code == 200


@pytest.mark.parametrize("factory", [applicant_app, risk_app])
def test_auth_off_on_a_public_bind_refuses_to_start_in_one_line(
    factory: Any, api_tokens: TestTokens, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        factory({**api_tokens.config(AUTH="off", BIND=f"{PUBLIC}:5000"), "TESTING": True})
    assert stopped.value.code == 3  # gunicorn's boot error: the master stops instead of respawning workers
    err = capsys.readouterr().err.strip()
    assert "refusing to start" in err
    assert PUBLIC in err
    assert "\n" not in err


def test_gunicorns_bind_option_counts(applicants: APIFlask) -> None:
    argv = ["/x/.venv/bin/gunicorn", "--workers", "2", "-b", "127.0.0.1:5000", f"--bind={PUBLIC}:5000", "app:create()"]
    assert served_addresses(applicants, argv) == ["127.0.0.1:5000", f"{PUBLIC}:5000"]
    assert served_addresses(applicants, ["python", "--bind", f"{PUBLIC}:1"]) == []  # not gunicorn's option


def test_gunicorn_on_a_public_address_without_auth_exits_with_the_message(tmp_path: Path) -> None:
    env = {**os.environ, "LOANRISK_AUTH": "off", "LOANRISK_TOKEN_DIR": str(tmp_path)}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    app = "applicant_api:create_app()"
    cmd = [str(gunicorn), "--chdir", str(ROOT), "--workers", "1", "--bind", f"{PUBLIC}:0", app]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    refusals = [line for line in done.stderr.splitlines() if "refusing to start" in line]
    expected = (
        f"applicant_api: refusing to start: authentication is off (LOANRISK_AUTH=off) but the bind address {PUBLIC} "
        "is not loopback; turn authentication on or bind 127.0.0.1"
    )
    assert refusals == [expected]
