"""Storm UI for the local stack: Storm UI's REST API, its pages, the actions and the logviewer, over Nimbus' Thrift.

Storm's own web application (storm-webapp) is not published for the Storm we run, so this Flask app serves the
same REST paths and field names (docs/STORM-UI-REST-API.md in Apache Storm) and pages an operator of Storm UI
knows, on 127.0.0.1 only. `storm ui` (stack/storm/storm) runs it with gunicorn.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from webkit import auth

from .nimbus import NimbusDown, NimbusError, NotFound
from .problems import Problem, problem


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Storm UI app; settings come from STORM_UI_* environment variables or test_config."""
    app = Flask(__name__)
    app.config.from_mapping(
        NIMBUS_HOST="localhost",
        NIMBUS_PORT=6627,
        NIMBUS_TIMEOUT_MS=10000,
        LOG_DIR=str(Path(os.environ.get("STORM_LOG_DIR", "logs"))),
        REFRESH_SECS=10,
        KAFKA_TIMEOUT_MS=5000,
        MAX_CONTENT_LENGTH=64 * 1024,
        SECRET_KEY=secrets.token_bytes(32),
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True,
        # A page on another site that rebinds its DNS name to 127.0.0.1 would be same-origin with the UI and
        # could read the anti-forgery token; answering only to these Host names stops that (400 otherwise).
        TRUSTED_HOSTS=["127.0.0.1", "localhost", "[::1]"],
    )
    app.config.from_mapping(auth.default_config())
    app.config.from_prefixed_env("STORM_UI")
    app.config.from_mapping(test_config or {})

    from . import api, logviewer, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(logviewer.bp)
    app.register_blueprint(pages.bp)
    register_error_handlers(app)
    auth.init_auth(app, ACCESS_RULES, default_role=("reader", "operator"), service="storm_ui", browser_login=True)
    return app


# reader (or operator): every view; operator: the actions (every POST under /topology) and the worker logs
ACCESS_RULES = {
    "POST /api/v1/topology": "operator",
    "/api/v1/listLogs": "operator",
    "/api/v1/log": "operator",
    "/api/v1/search": "operator",
    "/api/v1/download": "operator",
    "/logviewer": "operator",
}


def register_error_handlers(app: Flask) -> None:
    """Every error is problem+json: Nimbus down 503, unknown topology/component 404, HTTP errors as they are."""

    @app.errorhandler(Problem)
    def on_problem(error: Problem) -> Response:
        return error.response()

    @app.errorhandler(NimbusDown)
    def on_nimbus_down(error: NimbusDown) -> Response:
        return problem(503, "Nimbus unavailable", str(error))

    @app.errorhandler(NimbusError)
    def on_nimbus_error(error: NimbusError) -> Response:
        return problem(502, "Nimbus error", str(error))

    @app.errorhandler(NotFound)
    def on_not_found(error: NotFound) -> Response:
        return problem(404, "Not Found", str(error))

    @app.errorhandler(HTTPException)
    def on_http_error(error: HTTPException) -> Response:
        return problem(error.code or 500, error.name, error.description or error.name)
