"""Risk API: scores canonical applicants with the trained model and the configured decision policy.

Run: gunicorn -c risk_api/gunicorn.conf.py 'risk_api:create_app()' (what `make up` does, port 5001).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from apiflask import APIFlask

from monitoring.flask_metrics import init_metrics
from risk_api import evaluations, health, problems
from risk_api.schemas import PROBLEM_SCHEMA
from risk_api.service import build_service
from webkit import auth

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> APIFlask:
    """Create the Risk API: config defaults, RISK_API_* environment, then test_config; model loaded once."""
    app = APIFlask(__name__, title="Loan Risk API", version="1.0", spec_path="/openapi.json", docs_path="/docs")
    app.config.from_mapping(
        MODEL_DIR=str(ROOT / "models"),
        POLICY_FILE=str(ROOT / "config" / "risk_policy.json"),
        CHALLENGER_DIR="",  # a second model scored in shadow on every request (RISK_API_CHALLENGER_DIR=var/challenger)
        POLICY_VERSION=None,  # these three override the policy file when set (e.g. RISK_API_DECLINE_AT=0.35)
        APPROVE_BELOW=None,
        DECLINE_AT=None,
        MAX_BATCH=1000,
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,  # a full batch of 1,000 applicants is about 0.9 MB
        HTTP_ERROR_SCHEMA=PROBLEM_SCHEMA,
        VALIDATION_ERROR_SCHEMA=PROBLEM_SCHEMA,
        VALIDATION_ERROR_DESCRIPTION="Invalid applicant",
        SPEC_FORMAT="json",
        JSON_SORT_KEYS=False,
        # per token and per gunicorn worker (webkit.auth): far above the SubmitBolts' batched calls, it stops
        # a runaway client, not the pipeline
        RATE_LIMIT_PER_S=500,
        RATE_LIMIT_BURST=1000,
        **auth.default_config(),
    )
    app.config.from_prefixed_env("RISK_API")
    if test_config:
        app.config.from_mapping(test_config)
    app.logger.setLevel(logging.INFO)
    auth.refuse_open_bind(app, "risk_api")  # before loading the model: fail fast
    risk = build_service(
        Path(app.config["MODEL_DIR"]),
        Path(app.config["POLICY_FILE"]),
        {
            "policy_version": app.config["POLICY_VERSION"],
            "approve_below": app.config["APPROVE_BELOW"],
            "decline_at": app.config["DECLINE_AT"],
        },
        challenger_dir(app.config["CHALLENGER_DIR"]),
    )
    if isinstance(risk, str):
        raise RuntimeError(risk)
    app.extensions["risk_service"] = risk
    app.logger.info(
        "risk model %s, policy %s, challenger %s",
        risk.model.version,
        risk.policy.version,
        risk.challenger.version if risk.challenger else "none",
    )
    problems.init_app(app)
    app.register_blueprint(evaluations.bp)
    app.register_blueprint(health.bp)
    init_metrics(app)
    auth.init_auth(app, {"/v1/evaluations": "scorer"}, service="risk_api", rate_limit=True)
    return app


def challenger_dir(configured: str | None) -> Path | None:
    """Return the challenger model's directory, or None when no challenger is configured."""
    return Path(configured) if configured else None
