"""The dashboard app through Flask's test client: the page, its own assets, and problems for bad requests.

No service is needed: Prometheus is pointed at a closed port, which is what the page must survive.
"""

from __future__ import annotations

import re

import pytest

from monitoring.dashboard import create_app
from tests.tokens import shared_tokens

CLOSED = "http://127.0.0.1:1"
TOKENS = shared_tokens()


@pytest.fixture
def client(tmp_path):
    chart = tmp_path / "chart.umd.js"
    chart.write_text("/* chart.js stand-in for the route test */")
    config = {**TOKENS.config(), "TESTING": True, "PROMETHEUS_URL": CLOSED, "CHARTJS_FILE": str(chart)}
    return TOKENS.client(create_app(config), "reader")


def test_page_loads_every_script_from_the_app_itself(client) -> None:
    page = client.get("/").get_data(as_text=True)
    sources = re.findall(r'<script src="([^"]+)"', page)
    assert sources == ["/vendor/chart.umd.js", "/static/dashboard.js"]
    assert "http" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', page))  # no CDN, nothing remote
    for canvas in ("c-rate", "c-mix", "c-grade", "c-reasons", "c-dlq", "c-latency", "c-lag", "c-pd"):
        assert f'id="{canvas}"' in page


def test_chartjs_is_served_from_the_configured_file(client) -> None:
    response = client.get("/vendor/chart.umd.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"


def test_missing_chartjs_is_a_404_problem(tmp_path) -> None:
    app = create_app({**TOKENS.config(), "TESTING": True, "CHARTJS_FILE": str(tmp_path / "absent.js")})
    response = app.test_client().get("/vendor/chart.umd.js")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_summary_without_prometheus_is_a_503_problem(client) -> None:
    response = client.get("/api/summary")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert CLOSED in response.json["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/series?minutes=0",
        "/api/series?minutes=100000",
        "/api/series?minutes=x",
        "/api/decisions?q=%3Cscript%3E",
        "/api/decisions?q=" + "9" * 65,
        "/api/decisions/a%20b",
    ],
)
def test_bad_requests_are_400_problems(client, path) -> None:
    response = client.get(path)
    assert response.status_code == 400, path
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 400


def test_unknown_path_is_a_404_problem(client) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_without_a_token_the_page_asks_to_sign_in_and_the_api_is_401(tmp_path) -> None:
    app = create_app({**TOKENS.config(), "TESTING": True, "PROMETHEUS_URL": CLOSED})
    anonymous = app.test_client()
    page = anonymous.get("/")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login")
    assert anonymous.get("/api/decisions").status_code == 401
    assert anonymous.get("/healthz").status_code == 200


def test_signing_in_with_a_reader_token_opens_the_page_and_a_wrong_one_does_not(tmp_path) -> None:
    app = create_app({**TOKENS.config(), "TESTING": True, "PROMETHEUS_URL": CLOSED})
    browser = app.test_client()
    refused = browser.post("/login", data={"token": "wrong", "next": "/"})
    assert refused.status_code == 401
    assert browser.get("/").status_code == 302
    signed_in = browser.post("/login", data={"token": TOKENS.tokens["reader"], "next": "/"})
    assert signed_in.status_code == 302
    assert browser.get("/").status_code == 200
    assert TOKENS.tokens["reader"] not in str(browser.get_cookie("session"))
