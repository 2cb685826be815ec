"""Applicant Data API: serves the applicants stored in MySQL, with cursor paging (port 5000)."""

from __future__ import annotations

from typing import Any, cast

from apiflask import APIFlask
from flask.json.provider import DefaultJSONProvider

from adapters.settings import Settings
from applicant_api import applicants, db, errors, health
from loanrisk.problems import SCHEMA as PROBLEM_SCHEMA
from monitoring.flask_metrics import init_metrics
from webkit import auth


def default_config() -> dict[str, Any]:
    """Return the defaults: database from LOANRISK_DB_* (or var/stack.env), bounded requests and pages."""
    settings = Settings.load()
    return {
        "DB_HOST": settings.db_host,
        "DB_PORT": settings.db_port,
        "DB_NAME": settings.db_name,
        "DB_USER": settings.db_user,
        "DB_PASSWORD": settings.db_password,
        "DB_TIMEOUT_S": settings.api_db_timeout_s,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "VALIDATION_ERROR_STATUS_CODE": 400,
        "VALIDATION_ERROR_DESCRIPTION": "Bad request parameter",
        "HTTP_ERROR_SCHEMA": PROBLEM_SCHEMA,
        "VALIDATION_ERROR_SCHEMA": PROBLEM_SCHEMA,
        # per token and per gunicorn worker (webkit.auth): a producer pages at a few requests per second
        "RATE_LIMIT_PER_S": 100,
        "RATE_LIMIT_BURST": 200,
        **auth.default_config(),
    }


def create_app(test_config: dict[str, Any] | None = None) -> APIFlask:
    """Build the app: defaults, then APPLICANT_API_* environment variables, then the test config."""
    app = APIFlask(__name__, title="Applicant Data API", version="1.0.0", docs_path="/docs")
    app.config.from_mapping(default_config())
    app.config.from_prefixed_env("APPLICANT_API")
    if test_config:
        app.config.from_mapping(test_config)
    cast(DefaultJSONProvider, app.json).sort_keys = False  # keep the record's field order
    db.init_app(app)
    errors.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(applicants.bp)
    init_metrics(app)
    auth.init_auth(app, {"/applicants": "reader"}, service="applicant_api", rate_limit=True)
    return app
