"""The dashboard's page and its JSON data endpoints (/api/summary, /api/series, /api/decisions)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template, request, send_file
from werkzeug.exceptions import HTTPException

from loanrisk import events as ev
from monitoring.dashboard import store
from monitoring.dashboard.prom import (
    Prometheus,
    PrometheusError,
    aligned,
    by_label,
    grid,
    histogram_counts,
    scalar,
    table,
)

bp = Blueprint("dashboard", __name__)
ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{0,64}$")  # what an application id may look like in a query
MAX_MINUTES = 24 * 60
POINTS = 180  # samples per chart line

# Totals since the topics began (what `make reconcile` counts), each a PromQL instant query.
SUMMARY = {
    "decisions": ("sum by (decision) (loanrisk_pipeline_decisions_total)", "decision"),
    "dead_letters": ("sum by (reason) (loanrisk_pipeline_dead_letters_total)", "reason"),
}
TOP_DECLINE_REASONS = 'topk(10, sum by (code) (loanrisk_pipeline_decision_reasons_total{decision="DECLINE"}))'

# the latency over the last 15 minutes, so the figure stays readable after a run ends (the chart: the 1 min view)
LATENCY_15M = "sum by (le) (increase(loanrisk_pipeline_e2e_latency_seconds_bucket[15m]))"
SCALARS = {
    "decision_events": "sum(loanrisk_pipeline_decision_events_total)",
    "applicants_per_s": "loanrisk:applicants_decided:rate1m",
    "kafka_lag": "sum(loanrisk_kafka_consumer_lag)",
    "latency_p50_s": f"histogram_quantile(0.5, {LATENCY_15M})",
    "latency_p99_s": f"histogram_quantile(0.99, {LATENCY_15M})",
}
# Charts over time: (PromQL, label naming the lines or None for one line).
SERIES = {
    "applicants_per_s": ("loanrisk:applicants_decided:rate1m", None),
    "decision_mix": ("loanrisk:decisions_by_outcome:rate1m", "decision"),
    "dead_letters": ("loanrisk:dead_letters_by_reason:rate1m", "reason"),
    "latency_p50_s": ("loanrisk:e2e_latency_seconds:p50_1m", None),
    "latency_p99_s": ("loanrisk:e2e_latency_seconds:p99_1m", None),
    "kafka_lag": ("sum(loanrisk_kafka_consumer_lag)", None),
}


def init_app(app: Flask) -> None:
    """Answer every error of the dashboard's API as application/problem+json."""
    app.register_error_handler(HTTPException, problem_for)


def problem_for(error: HTTPException) -> Response:
    """Return an HTTP error as a problem+json body."""
    body = {"type": "about:blank", "title": error.name, "status": error.code, "detail": error.description}
    return Response(current_app.json.dumps(body), status=error.code, mimetype="application/problem+json")


def prometheus() -> Prometheus:
    return Prometheus(current_app.config["PROMETHEUS_URL"])


def unavailable(error: PrometheusError) -> Response:
    """Return a 503 problem for a source that did not answer."""
    body = {"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": error.detail}
    return Response(current_app.json.dumps(body), status=503, mimetype="application/problem+json")


@bp.get("/")
def index() -> str:
    """Serve the dashboard page."""
    return render_template("index.html", refresh_s=current_app.config["REFRESH_S"])


@bp.get("/healthz")
def healthz() -> Response:
    """Say the process is alive."""
    return jsonify({"status": "ok"})


@bp.get("/vendor/chart.umd.js")
def chartjs() -> Response:
    """Serve Chart.js from the npm package the stack installed (never a CDN)."""
    path = current_app.config["CHARTJS_FILE"]
    if not path or not Path(path).is_file():
        abort(404, "chart.js is not installed: run stack/stack.sh install dashboard")
    return send_file(path, mimetype="text/javascript", max_age=3600)


@bp.get("/api/summary")
def summary() -> Response:
    """Return the totals, the mix by grade, the PD distribution and the versions in use."""
    prom = prometheus()
    out: dict[str, Any] = {}
    for key, (query, label) in SUMMARY.items():
        pairs = prom.vector(query)
        if isinstance(pairs, PrometheusError):
            return unavailable(pairs)
        out[key] = {k: int(v) for k, v in by_label(pairs, label).items()}
    for key, query in SCALARS.items():
        pairs = prom.vector(query)
        out[key] = None if isinstance(pairs, PrometheusError) else scalar(pairs)
    reasons = prom.vector(TOP_DECLINE_REASONS)
    out["decline_reasons"] = (
        []
        if isinstance(reasons, PrometheusError)
        else [{"code": code, "count": int(n)} for code, n in by_label(reasons, "code").items()]
    )  # a list: JSON keeps its order
    grades = prom.vector("sum by (grade, decision) (loanrisk_pipeline_decisions_total)")
    pd = prom.vector("sum by (le) (loanrisk_pipeline_probability_of_default_bucket)")
    served = prom.vector("max by (model_version, policy_version) (loanrisk_risk_model_info)")
    deciding = prom.vector("sum by (model_version, policy_version) (loanrisk_pipeline_decisions_by_version_total)")
    out["by_grade"] = {} if isinstance(grades, PrometheusError) else table(grades, "grade", "decision")
    out["pd_histogram"] = [] if isinstance(pd, PrometheusError) else histogram_counts(pd)
    out["served_versions"] = [] if isinstance(served, PrometheusError) else [labels for labels, _ in served]
    out["deciding_versions"] = (
        [] if isinstance(deciding, PrometheusError) else [{**labels, "applicants": int(v)} for labels, v in deciding]
    )
    out["applicants_decided"] = sum(out["decisions"].values())
    out["as_of"] = time.time()
    return jsonify(out)


@bp.get("/api/series")
def series() -> Response:
    """Return every chart's lines over the last ``minutes`` (default 15) on one time grid."""
    text = request.args.get("minutes", "15")
    minutes = int(text) if text.isdigit() else 0
    if not 1 <= minutes <= MAX_MINUTES:
        abort(400, f"minutes must be 1 to {MAX_MINUTES}")
    end = float(int(time.time()))
    start, step = end - minutes * 60, max(5.0, minutes * 60 / POINTS)
    times = grid(start, end, step)
    prom = prometheus()
    out: dict[str, Any] = {"timestamps": times, "step_s": step}
    for key, (query, label) in SERIES.items():
        result = prom.matrix(query, start, end, step)
        if isinstance(result, PrometheusError):
            return unavailable(result)
        out[key] = aligned(result, times, label)
    return jsonify(out)


@bp.get("/api/decisions")
def decisions() -> Response:
    """Return the latest decisions, or with ?q= those whose application id starts with q."""
    query = request.args.get("q", "").strip()
    if not ID_PATTERN.match(query):
        abort(400, "q must be up to 64 letters, digits or . _ : -")
    cfg = current_app.config
    if query:
        found = store.search_decisions(cfg["HBASE_HOST"], cfg["HBASE_PORT"], query, cfg["SEARCH_LIMIT"])
    else:
        found = store.recent_decisions(cfg["KAFKA_BOOTSTRAP"], cfg["RECENT_LIMIT"])
    return jsonify({"query": query, "decisions": found})


@bp.get("/api/decisions/<application_id>")
def decision(application_id: str) -> Response:
    """Return one applicant's decision, read from its HBase row."""
    if not ID_PATTERN.match(application_id):
        abort(400, "not an application id")
    cfg = current_app.config
    found = store.find_decision(cfg["HBASE_HOST"], cfg["HBASE_PORT"], application_id)
    if found is None:
        abort(404, f"no decision for application {application_id}")
    if isinstance(found, ev.ParseError):
        abort(422, found.detail)
    return jsonify(found)
