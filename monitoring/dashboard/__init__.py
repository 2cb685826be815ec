"""The live decisions dashboard: a credit analyst's page over Prometheus, HBase and the decision topic.

Run: gunicorn 'monitoring.dashboard:create_app()' (what `make up` does, 127.0.0.1:5080; stack/services/dashboard.sh).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from adapters.settings import Settings
from monitoring.dashboard import views
from monitoring.flask_metrics import init_metrics
from webkit import auth


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the dashboard: defaults from the project's settings, DASHBOARD_* environment, then test_config."""
    settings = Settings.load()
    app = Flask(__name__)
    app.config.from_mapping(
        PROMETHEUS_URL="http://127.0.0.1:9390",
        KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        HBASE_HOST=settings.hbase_host,
        HBASE_PORT=settings.hbase_port,
        CHARTJS_FILE=None,  # chart.umd.js from the chart.js npm package (stack/services/dashboard.sh installs it)
        RECENT_LIMIT=50,
        SEARCH_LIMIT=50,
        REFRESH_S=5,
        MAX_CONTENT_LENGTH=16 * 1024,
        METRICS_APP_NAME="dashboard",
        # the sign-in session (webkit.auth's browser login) keeps a token hash in a signed cookie
        SECRET_KEY=secrets.token_bytes(32),
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True,
        **auth.default_config(),
    )
    app.config.from_prefixed_env("DASHBOARD")
    if test_config:
        app.config.from_mapping(test_config)
    app.register_blueprint(views.bp)
    views.init_app(app)
    init_metrics(app)
    # reader: decisions are applicant data; the page's own script and Chart.js carry none
    auth.init_auth(app, {}, service="dashboard", browser_login=True, public_prefixes=("/vendor",))
    return app
