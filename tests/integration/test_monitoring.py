"""Monitoring on the real stack: metric endpoints, Prometheus targets and rules, and the dashboard's data
endpoints agreeing with `make reconcile` after a small pipeline run (LOANRISK_MONITORING_N applicants, default 300).

Waits are bounded polls (Prometheus scrapes every 5 s; the exporter follows the topics): they wait for the
figures to arrive, they do not time anything.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from adapters.settings import ROOT, Settings
from jobs import demo, reconcile
from loanrisk import events as ev
from risk_api.schemas import EXAMPLE_APPLICANT

AUTH = Settings.load().auth_headers("admin")  # var/tokens/admin.token, written by `make up`

PROMETHEUS = os.environ.get("LOANRISK_PROMETHEUS_URL", "http://127.0.0.1:9390")
EXPORTER = os.environ.get("LOANRISK_EXPORTER_URL", "http://127.0.0.1:9391")
DASHBOARD = os.environ.get("LOANRISK_DASHBOARD_URL", "http://127.0.0.1:5080")
N = int(os.environ.get("LOANRISK_MONITORING_N", "300"))
SUBMIT = os.environ.get("LOANRISK_E2E_SUBMIT", "1") != "0"
WAIT_S = 180
JOBS = {"prometheus", "risk_api", "applicant_api", "pipeline", "dashboard"}
ALERTS = {
    "KafkaLagGrowing",
    "DeadLetterRateHigh",
    "RiskApi5xxRateHigh",
    "NoDecisionsWhileLagging",
    "EndToEndLatencyP99High",
}


def poll(read: Callable[[], Any], done: Callable[[Any], bool], wait_s: float = WAIT_S, every_s: float = 2) -> Any:
    """Read until done(value) or wait_s passed; return the last value read (the assertion is the caller's)."""
    deadline = time.monotonic() + wait_s
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(every_s)
        value = read()
    return value


def metric_names(url: str) -> set[str]:
    """Return the sample names a /metrics endpoint exposes."""
    response = requests.get(f"{url}/metrics", timeout=10)
    response.raise_for_status()
    return {s.name for family in text_string_to_metric_families(response.text) for s in family.samples}


def test_risk_api_metrics_expose_requests_latency_decisions_and_model_info(settings) -> None:
    assert requests.post(f"{settings.risk_api_url}/v1/evaluations", json=EXAMPLE_APPLICANT, headers=AUTH, timeout=10).ok
    bad = requests.post(
        f"{settings.risk_api_url}/v1/evaluations", json={**EXAMPLE_APPLICANT, "grade": "Z"}, headers=AUTH, timeout=10
    )
    assert bad.status_code == 422
    names = metric_names(settings.risk_api_url)
    assert {
        "loanrisk_http_requests_total",
        "loanrisk_http_request_duration_seconds_bucket",
        "loanrisk_risk_decisions_total",
        "loanrisk_risk_validation_failures_total",
        "loanrisk_risk_model_info",
    } <= names


def test_applicant_api_metrics_expose_requests_and_latency(settings) -> None:
    page = requests.get(f"{settings.applicant_api_url}/applicants", params={"limit": 1}, headers=AUTH, timeout=10)
    assert page.status_code < 500
    assert {"loanrisk_http_requests_total", "loanrisk_http_request_duration_seconds_bucket"} <= metric_names(
        settings.applicant_api_url
    )


def test_exporter_exposes_the_pipeline_metrics() -> None:
    names = metric_names(EXPORTER)
    assert {
        "loanrisk_pipeline_decision_events_total",
        "loanrisk_pipeline_e2e_latency_seconds_bucket",
        "loanrisk_pipeline_probability_of_default_bucket",
    } <= names


def test_make_status_shows_the_monitoring_services_healthy() -> None:
    done = subprocess.run(
        ["stack/stack.sh", "status", "exporter", "prometheus", "dashboard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:] if line.strip()}
    assert {name: fields[1] for name, fields in lines.items()} == {
        "exporter": "9391",
        "prometheus": "9390",
        "dashboard": "5080",
    }
    assert all(fields[3] == "healthy" for fields in lines.values()), done.stdout
    assert done.returncode == 0


def targets() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = requests.get(f"{PROMETHEUS}/api/v1/targets", timeout=10).json()["data"][
        "activeTargets"
    ]
    return found


def test_prometheus_shows_every_target_up() -> None:
    found = poll(targets, lambda ts: {t["labels"]["job"] for t in ts if t["health"] == "up"} >= JOBS)
    health = {t["labels"]["job"]: (t["health"], t.get("lastError")) for t in found}
    assert set(health) == JOBS
    assert all(h == "up" for h, _ in health.values()), health


def test_prometheus_loaded_the_recording_and_alert_rules() -> None:
    groups = requests.get(f"{PROMETHEUS}/api/v1/rules", timeout=10).json()["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert {r["name"] for r in rules if r["type"] == "alerting"} >= ALERTS
    assert "loanrisk:e2e_latency_seconds:p99_5m" in {r["name"] for r in rules if r["type"] == "recording"}
    assert all(r["health"] != "err" for r in rules), [(r["name"], r.get("lastError")) for r in rules]


# ------------------------------------------------------------ after a small pipeline run


@pytest.fixture(scope="module")
def run(settings) -> demo.PipelineRun:
    """Push a few applicants (with dirt) through the pipeline once for this module."""
    seed = int(time.time() * 1000) % 1_000_000_000
    result = demo.run_pipeline(
        settings,
        demo.new_run_dir("monitoring", settings),
        N,
        seed,
        0.1,
        samples=False,
        submit=SUBMIT,
        timeout_s=900,
        whole_table=False,
    )
    assert result.accounted
    return result


@pytest.fixture(scope="module")
def truth(settings, run) -> dict[str, Any]:
    """What `make reconcile` counts over the whole table and topics, and the HBase rows by decision."""
    report = reconcile.run(settings, reconcile.default_manifests(settings))
    print(reconcile.format_report(report))  # noqa: T201 (the accounting in the test log, as make reconcile prints it)
    rows, _ = reconcile.scan_rows(settings)
    return {"report": report, "by_decision": dict(Counter(r.decision for r in rows.values())), "rows": rows}


def dashboard_summary() -> dict[str, Any]:
    summary: dict[str, Any] = requests.get(f"{DASHBOARD}/api/summary", headers=AUTH, timeout=15).json()
    return summary


def test_dashboard_totals_agree_with_reconcile(truth) -> None:
    report = truth["report"]
    expected = {
        "decisions": truth["by_decision"],
        "dead_letters": dict(report.dlq_reasons),
        "decision_events": report.counts["decision events"],
    }

    def seen(s: dict[str, Any]) -> dict[str, Any]:
        return {
            "decisions": s.get("decisions"),
            "dead_letters": s.get("dead_letters"),
            "decision_events": s.get("decision_events"),
        }

    summary = poll(dashboard_summary, lambda s: seen(s) == expected)
    assert seen(summary) == expected
    assert summary["applicants_decided"] == report.counts["HBase rows read"]
    assert sum(sum(g.values()) for g in summary["by_grade"].values()) == report.counts["HBase rows read"]
    assert sum(b["count"] for b in summary["pd_histogram"]) == sum(
        1 for r in truth["rows"].values() if r.decided_by == "MODEL"
    )


def test_dashboard_series_carry_the_run(truth) -> None:
    series = poll(
        lambda: requests.get(f"{DASHBOARD}/api/series", params={"minutes": 15}, headers=AUTH, timeout=15).json(),
        lambda s: any(v for line in s["applicants_per_s"].values() for v in line),
    )
    assert len(series["timestamps"]) > 10
    assert any(v and v > 0 for line in series["applicants_per_s"].values() for v in line)
    assert set(series["decision_mix"]) <= set(ev.DECISIONS)
    assert series["decision_mix"]
    assert any(v is not None for v in series["latency_p99_s"].get("", []))


def test_dashboard_lists_recent_decisions_and_opens_one_from_hbase(settings, truth) -> None:
    recent = requests.get(f"{DASHBOARD}/api/decisions", headers=AUTH, timeout=15).json()["decisions"]
    assert recent
    assert all(d["application_id"] in truth["rows"] for d in recent)
    ident = recent[0]["application_id"]
    detail = requests.get(f"{DASHBOARD}/api/decisions/{ident}", headers=AUTH, timeout=15).json()
    conn = reconcile.hbase_connection(settings)
    try:
        row = ev.parse_row(ident, conn.table(ev.TABLE).row(ident.encode()))
    finally:
        conn.close()
    assert not isinstance(row, ev.ParseError)
    assert detail["decision"] == row.decision.decision
    assert detail["probability_of_default"] == row.decision.probability_of_default
    assert detail["model_version"] == row.decision.model_version
    assert detail["source"] == row.source.to_dict()
    assert detail["applicant"] == row.applicant
    assert [r["code"] for r in detail["reasons"]] == [r.code for r in row.decision.reasons]
    found = requests.get(f"{DASHBOARD}/api/decisions", params={"q": ident}, headers=AUTH, timeout=15).json()[
        "decisions"
    ]
    assert ident in {d["application_id"] for d in found}


def test_dashboard_answers_bad_and_unknown_ids_with_problems() -> None:
    missing = requests.get(f"{DASHBOARD}/api/decisions/no-such-application-id", headers=AUTH, timeout=15)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")
    bad = requests.get(f"{DASHBOARD}/api/decisions", params={"q": "<script>"}, headers=AUTH, timeout=15)
    assert bad.status_code == 400
    assert bad.headers["Content-Type"].startswith("application/problem+json")
