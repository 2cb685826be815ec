"""Prometheus metrics for the Flask apps (Risk API, Applicant Data API, dashboard): ``init_metrics(app)``.

Hooks in from the outside (before/after-request hooks and a ``/metrics`` view), so the apps' own code does not
change. Under gunicorn every worker is a process of its own: when ``PROMETHEUS_MULTIPROC_DIR`` is set (the
service scripts set it), prometheus-client keeps the counts in files there and ``/metrics`` sums all workers.

For an app that serves the risk model (``app.extensions["risk_service"]``) it also counts, from the JSON
responses of its POST endpoints, the decisions by outcome and the invalid applicants by reason (both batch
shapes: ``{"results": [...]}`` and ``{"results": [...], "problems": [...]}``), and exposes the model and
policy versions as an info metric.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import InfoMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from monitoring.outcomes import UNKNOWN, decisions_in, problem_reasons_in, validation_reasons_in

REQUESTS = Counter(
    "loanrisk_http_requests",
    "HTTP requests answered, by app, endpoint, method and status",
    ["app", "endpoint", "method", "status"],
)
LATENCY = Histogram(
    "loanrisk_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["app", "endpoint", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DECISIONS = Counter("loanrisk_risk_decisions", "Applicants the Risk API decided, by outcome", ["decision"])
VALIDATION_FAILURES = Counter(
    "loanrisk_risk_validation_failures",
    "Applicants the Risk API refused as invalid (a 422, or a batch's problems), by reason",
    ["reason"],
)

JSON_TYPES = ("application/json", "application/problem+json")
UNMATCHED = "unmatched"  # 404s and the like: one label value, so odd paths cannot blow up the series count


class ModelInfoCollector(Collector):
    """Expose ``loanrisk_risk_model_info{model_version, policy_version} 1`` for the served model."""

    def __init__(self, describe: Mapping[str, Any]) -> None:
        self.labels = {
            "model_version": str(describe.get("model_version", "")),
            "policy_version": str((describe.get("policy") or {}).get("policy_version", "")),
        }

    def collect(self) -> Iterator[InfoMetricFamily]:
        yield InfoMetricFamily(
            "loanrisk_risk_model", "Model and decision policy the Risk API serves", value=self.labels
        )


def init_metrics(app: Flask) -> None:
    """Count and time every request of app, and serve the metrics at /metrics."""
    name = app.config.get("METRICS_APP_NAME") or app.import_name.split(".")[0]
    risk = app.extensions.get("risk_service")
    extra = CollectorRegistry(auto_describe=True)
    if risk is not None:
        extra.register(ModelInfoCollector(risk.describe()))

    @app.before_request
    def start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def count_request(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        labels = (name, endpoint_label(), request.method, str(response.status_code))
        REQUESTS.labels(*labels).inc()
        if started is not None:
            LATENCY.labels(*labels).observe(time.perf_counter() - started)
        if risk is not None and request.method == "POST":
            count_outcomes(response)
        return response

    def metrics() -> Response:
        body = generate_latest(main_registry()) + generate_latest(extra)
        return Response(body, mimetype=CONTENT_TYPE_LATEST.split(";")[0], headers={"Content-Type": CONTENT_TYPE_LATEST})

    if hasattr(app, "doc"):  # APIFlask: keep /metrics out of the OpenAPI document
        metrics = app.doc(hide=True)(metrics)
    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])


def endpoint_label() -> str:
    """Return the matched route's pattern (e.g. /v1/evaluations), or 'unmatched'."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def main_registry() -> CollectorRegistry:
    """Return the registry to expose: all gunicorn workers' files in multiprocess mode, else this process."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus-client has no annotation here
    return registry


def count_outcomes(response: Response) -> None:
    """Count the decisions and the invalid applicants a Risk API response carries."""
    if response.is_streamed or response.mimetype not in JSON_TYPES:
        return
    data = response.get_data()
    if response.status_code == 422:
        problem = json_object(data)  # small: at most 100 listed errors
        count_labels(VALIDATION_FAILURES, validation_reasons_in(problem) if problem is not None else {UNKNOWN: 1})
    elif response.status_code < 300:
        count_labels(DECISIONS, decisions_in(data))
        count_labels(VALIDATION_FAILURES, problem_reasons_in(data))


def count_labels(counter: Counter, counts: Mapping[str, int]) -> None:
    """Add each value's count to counter, under the value as its only label."""
    for value, n in counts.items():
        counter.labels(value).inc(n)


def json_object(data: bytes) -> dict[str, Any] | None:
    """Return the body's JSON object, or None when it is not one."""
    try:
        body = json.loads(data)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
