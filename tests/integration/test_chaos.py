"""The CI subset of `make chaos`: a worker kill, the Risk API down, and poison records, each ending with a
reconciliation of its batch (zero lost, zero duplicated), on the real stack with a short steady stream.

The full drill list with longer outages is `make chaos`; these use the same code with shorter holds.
LOANRISK_CHAOS_RATE (default 10 applicants/s) sets the stream.
"""

from __future__ import annotations

import os

import pytest

from jobs import demo
from jobs.drills import scenarios as sc
from jobs.drills.engine import Drill, Options, Scenario
from jobs.drills.measure import format_table

RATE = float(os.environ.get("LOANRISK_CHAOS_RATE", "10"))


@pytest.fixture(scope="module")
def drill(settings):
    """A drill with short phases, on the topology submitted behind the fault proxy (one worker per supervisor)."""
    opts = Options(rate=RATE, lead_s=6, tail_s=6, settle_s=240, hold_scale=0.2)
    d = Drill(settings, opts, demo.new_run_dir("chaos-ci", settings))
    d.start(submit=True)
    yield d
    d.stop()


def run(drill: Drill, scenario: Scenario):
    row = drill.run(scenario)
    print(format_table([row]))  # noqa: T201 (the row's table in the test's output)
    return row


def assert_reconciled(row) -> None:
    assert row.applicants > 0
    assert row.lost == 0, format_table([row])
    assert row.duplicated == 0, format_table([row])
    assert not row.problems, format_table([row])


def test_worker_kill_loses_and_duplicates_nothing(drill) -> None:
    row = run(drill, sc.by_name()["worker-kill"])
    assert_reconciled(row)
    assert row.worker_restarts >= 1  # the killed worker was started again by its supervisor


def test_risk_api_down_loses_and_duplicates_nothing(drill) -> None:
    scenario = sc.by_name()["risk-down"]  # the real Risk API stopped (stack/stack.sh down risk_api), 24 s here
    row = run(drill, scenario)
    assert_reconciled(row)
    assert row.recovery_s is not None


def test_poison_records_are_dead_lettered_with_their_reason_and_the_stream_flows(drill) -> None:
    row = run(drill, sc.by_name()["poison"])  # 10 MB line, 10,000-deep nesting, invalid UTF-8, always-500
    assert_reconciled(row)
    notes = [n for n in row.notes if n.startswith("poison ")]
    assert len(notes) == 4, notes
    assert f"poison {sc.ALWAYS_500}: dead-lettered (RISK_API_FAILED)" in notes, notes
