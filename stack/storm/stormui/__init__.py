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

from flask import Flask

from webkit import auth

from .problems import register_error_handlers


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
