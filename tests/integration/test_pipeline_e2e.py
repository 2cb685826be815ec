"""End to end on the real stack: generated applicants and dirty records through the topology `loan-risk`.

Generates LOANRISK_E2E_N applicants (default 2000) into MySQL and a dirty JSON-lines file
(LOANRISK_E2E_DIRTY lines, default 300, with its dirt manifest), submits the topology to the local cluster
(set LOANRISK_E2E_SUBMIT=0 to reuse the running one), runs the producer until caught up, publishes the
dirty file, waits until every record is accounted for, then reconciles this run: zero missing, zero duplicated.
"""

from __future__ import annotations

import json
import os
import time

import pytest
import requests

from jobs import demo, reconcile
from loanrisk import events as ev

N = int(os.environ.get("LOANRISK_E2E_N", "2000"))
DIRTY = int(os.environ.get("LOANRISK_E2E_DIRTY", "300"))
TIMEOUT_S = float(os.environ.get("LOANRISK_E2E_TIMEOUT", "900"))
SUBMIT = os.environ.get("LOANRISK_E2E_SUBMIT", "1") != "0"
COMPONENTS = {"kafka_spout", "filter_bolt", "decision_bolt", "submit_bolt", "save_bolt", "dead_letter_bolt"}
LATE_REASONS = {ev.DUPLICATE_ID, ev.RISK_API_REJECTED}  # raised after the filter: payload by sha and coordinates


@pytest.fixture(scope="module")
def run(settings) -> demo.PipelineRun:
    """Push this test's applicants and dirty records through the pipeline once for the whole module."""
    seed = int(time.time() * 1000) % 1_000_000_000
    result = demo.run_pipeline(
        settings,
        demo.new_run_dir("e2e", settings),
        N,
        seed,
        DIRTY / N,
        samples=False,
        submit=SUBMIT,
        timeout_s=TIMEOUT_S,
        whole_table=False,
    )
    assert result.accounted, f"not accounted after {TIMEOUT_S:.0f}s, e.g. {sorted(result.pending_ids)[:5]}"
    return result


@pytest.fixture(scope="module")
def generated_ids(run) -> list[str]:
    """Ids of the applicants this test generated and loaded into MySQL."""
    return demo.csv_ids(run.run_dir / "applicants.csv")


@pytest.fixture(scope="module")
def report(settings, run, generated_ids) -> reconcile.Report:
    """Reconcile this run's applicants and its dirt manifest."""
    result = reconcile.run(settings, [run.manifest], ids=generated_ids)
    print(reconcile.format_report(result))  # noqa: T201 the reconcile report is this suite's output (pytest -s)
    return result


def test_every_generated_applicant_is_accounted_exactly_once(report, generated_ids) -> None:
    assert report.counts["applicants in MySQL"] == len(generated_ids) == N
    assert report.counts["  in HBase"] + report.counts["  dead-lettered"] == N
    assert report.clean, reconcile.format_report(report)


def test_dirty_records_reach_the_dead_letter_topic_with_a_reason(report, run) -> None:
    assert run.manifest is not None
    assert run.manifest.exists()
    assert report.counts["manifest reject records"] > 0
    assert report.total("reject dirt not dead-lettered") == 0
    assert report.total("dead letter without a reason") == 0


def test_dead_letters_carry_reason_raw_and_kafka_coordinates(settings, run) -> None:
    shas = {ln.sha256 for ln in run.lines if ln.expect == "reject"}
    letters, unreadable = reconcile.read_dead_letters(settings.kafka_bootstrap)
    mine = [dl for dl in letters if dl.raw_sha256 in shas]
    assert not unreadable
    assert {dl.raw_sha256 for dl in mine} == shas
    for dl in mine:
        assert dl.reason
        assert dl.source.topic == "loan-applications"
        assert dl.source.offset >= 0
        if dl.reason in LATE_REASONS:
            assert dl.raw == ""
            assert dl.application_id
        else:
            assert ev.sha256_hex(dl.raw.encode("utf-8")) == dl.raw_sha256 or "\ufffd" in dl.raw


def test_model_decided_rows_have_a_model_version_and_reasons_only_when_adverse(settings, generated_ids) -> None:
    conn = reconcile.hbase_connection(settings)
    try:
        table = conn.table(ev.TABLE)
        rows = [ev.parse_row(k, cols) for k, cols in table.rows([i.encode() for i in generated_ids[:200]])]
    finally:
        conn.close()
    model_rows = [r for r in rows if isinstance(r, ev.StoredRow) and r.decision.decided_by == "MODEL"]
    assert model_rows, "no applicant among the first 200 was scored by the Risk API"
    for row in model_rows:
        assert row.decision.decision in ev.DECISIONS
        assert row.decision.model_version
        assert row.decision.probability_of_default is not None
        assert 0.0 <= row.decision.probability_of_default <= 1.0
        assert json.loads(json.dumps(row.applicant))["id"] == row.application_id
        assert row.saved_at_ms >= row.kafka_ts_ms
        # adverse-action reasons: every REVIEW or DECLINE states them, an APPROVE carries none
        if row.decision.decision == "APPROVE":
            assert row.decision.reasons == ()
        else:
            assert row.decision.reasons
            assert all(r.code and r.text for r in row.decision.reasons)
    assert any(r.decision.decision != "APPROVE" for r in model_rows), "no REVIEW/DECLINE among the first 200"


def test_storm_ui_shows_the_topology_with_all_components(settings, run) -> None:
    found = demo.storm_topology_id(settings)
    assert found is not None
    assert found[1] == "ACTIVE"
    info = requests.get(
        f"{settings.storm_ui_url}/api/v1/topology/{found[0]}", headers=settings.auth_headers("reader"), timeout=10
    ).json()
    names = {s["spoutId"] for s in info.get("spouts", [])} | {b["boltId"] for b in info.get("bolts", [])}
    assert names >= COMPONENTS
