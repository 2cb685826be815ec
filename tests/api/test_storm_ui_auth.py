"""Storm UI access control through the test client (no Nimbus: port 1, so a request past the check answers 503).

operator: the actions (POST) and the worker logs; reader: every view; the browser signs in once at /login and
its session keeps the token's hash. The actions' audit lines are checked on the real stack
(tests/integration/test_storm_ui.py), where an action can succeed.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.tokens import TestTokens

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "stack" / "storm"))

create_app = importlib.import_module("stormui").create_app  # stack/storm/stormui, not an installed package

ACTIONS = ["activate", "deactivate", "rebalance/0", "kill/0"]
LOGS = ["/api/v1/listLogs", "/api/v1/log?file=x.log", "/api/v1/search?file=x.log&search=a", "/logviewer"]
VIEWS = ["/api/v1/cluster/summary", "/api/v1/topology/summary", "/api/v1/topology/t-1-1", "/api/v1/nimbus/summary"]


@pytest.fixture(scope="module")
def ui(api_tokens: TestTokens) -> Flask:
    app: Flask = create_app({**api_tokens.config(), "TESTING": True, "NIMBUS_PORT": 1, "NIMBUS_TIMEOUT_MS": 500})
    return app


def post_action(ui: Flask, action: str, headers: dict[str, str]) -> Any:
    return ui.test_client().post(f"/api/v1/topology/t-1-1/{action}", json={}, headers=headers)


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_needs_an_operator_token(ui: Flask, api_tokens: TestTokens, action: str) -> None:
    assert post_action(ui, action, {}).status_code == 401
    assert post_action(ui, action, {"Authorization": "Bearer nope"}).status_code == 401
    assert post_action(ui, action, api_tokens.headers("expired")).status_code == 401
    for role in ("reader", "scorer"):
        assert post_action(ui, action, api_tokens.headers(role)).status_code == 403
    # past the check, the UI's own CSRF protection still refuses a request without the page's token
    assert post_action(ui, action, api_tokens.headers("operator")).status_code == 403
    assert "CSRF" in post_action(ui, action, api_tokens.headers("operator")).get_json()["title"]


@pytest.mark.parametrize("path", LOGS)
def test_worker_logs_need_an_operator_token(ui: Flask, api_tokens: TestTokens, path: str) -> None:
    client = ui.test_client()
    assert client.get(path).status_code in (302, 401)  # a page redirects to /login, the API answers 401
    assert client.get(path, headers=api_tokens.headers("reader")).status_code == 403
    assert client.get(path, headers=api_tokens.headers("operator")).status_code not in (401, 403)


@pytest.mark.parametrize("path", VIEWS)
def test_views_need_a_reader_token(ui: Flask, api_tokens: TestTokens, path: str) -> None:
    client = ui.test_client()
    assert client.get(path).status_code == 401
    assert client.get(path, headers=api_tokens.headers("scorer")).status_code == 403
    for role in ("reader", "operator", "admin"):
        assert client.get(path, headers=api_tokens.headers(role)).status_code == 503  # Nimbus is down, not 401


def test_a_page_without_a_session_goes_to_sign_in_and_back(ui: Flask, api_tokens: TestTokens) -> None:
    browser = ui.test_client()
    first = browser.get("/topology.html?id=t-1-1")
    assert first.status_code == 302
    assert first.headers["Location"] == "/login?next=/topology.html?id=t-1-1"
    assert browser.post("/login", data={"token": api_tokens.tokens["expired"], "next": "/"}).status_code == 401
    signed_in = browser.post("/login", data={"token": api_tokens.tokens["reader"], "next": "/topology.html?id=t-1-1"})
    assert signed_in.headers["Location"] == "/topology.html?id=t-1-1"
    assert browser.get("/topology.html?id=t-1-1").status_code == 200
    assert browser.get("/logviewer").status_code == 403  # a reader's session does not open the logs
    browser.post("/logout")
    assert browser.get("/").status_code == 302


def test_sign_in_never_redirects_off_site(ui: Flask, api_tokens: TestTokens) -> None:
    answer = ui.test_client().post("/login", data={"token": api_tokens.tokens["reader"], "next": "//evil.example/"})
    assert answer.headers["Location"] == "/"
