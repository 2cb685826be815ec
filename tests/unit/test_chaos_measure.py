"""The drills' measurements (jobs.drills.measure) and the proxy's fault logic, without services."""

from __future__ import annotations

import json

import pytest

from bolts.settings import DEFAULTS, STORM_DEFAULTS
from jobs.drills import engine
from jobs.drills.measure import (
    Row,
    Sample,
    committed_at,
    conflicting_events,
    ends_at,
    format_table,
    peak_lag,
    recovery_s,
    worker_restarts,
)
from jobs.drills.proxy import Fault, names_poison
from jobs.produce import line_key


def sample(
    at: float,
    lag: int | None,
    workers: set[int],
    ends: dict[int, int] | None = None,
    committed: dict[int, int] | None = None,
) -> Sample:
    if ends is None:
        ends, committed = ({}, {}) if lag is None else ({0: 1000}, {0: 1000 - lag})
    return Sample(at, ends, committed if committed is not None else {}, frozenset(workers))


SAMPLES = [sample(0, 10, {1}), sample(2, None, {1}), sample(4, 900, {2}), sample(6, 300, {2}), sample(8, 40, {2, 3})]


def test_lag_is_end_minus_committed_over_partitions() -> None:
    assert sample(0, None, set(), {0: 10, 1: 5}, {0: 4}).lag == 11
    assert sample(0, None, set(), {}, {}).lag is None


def test_peak_lag_ignores_unreadable_samples() -> None:
    assert peak_lag(SAMPLES) == 900
    assert peak_lag([sample(0, None, set())]) is None


def test_worker_restarts_count_new_pids() -> None:
    assert worker_restarts(SAMPLES) == 2
    assert worker_restarts([]) == 0


def test_recovery_lasts_until_every_partition_committed_its_end_offset_at_the_heal() -> None:
    samples = [
        sample(0, None, set(), {0: 100, 1: 50}, {0: 90, 1: 50}),
        sample(2, None, set(), {0: 120, 1: 70}, {0: 95, 1: 50}),  # healed here: target 120 / 70
        sample(4, None, set(), {}, {}),
        sample(6, None, set(), {0: 130, 1: 80}, {0: 121, 1: 60}),
        sample(8, None, set(), {0: 140, 1: 90}, {0: 125, 1: 70}),
    ]
    assert recovery_s(samples, healed_at=1) == 7
    assert recovery_s(samples[:4], healed_at=1) is None
    assert recovery_s(samples, healed_at=9) is None


def test_a_batch_is_committed_once_every_partition_reached_its_end_offset_after_it_was_stored() -> None:
    samples = [
        sample(0, None, set(), {0: 100, 1: 50}, {0: 90, 1: 50}),
        sample(2, None, set(), {}, {}),  # Kafka restarting: no target, no verdict
        sample(4, None, set(), {0: 110, 1: 60}, {0: 100, 1: 50}),  # stored here: target 110 / 60
        sample(6, None, set(), {0: 120, 1: 70}, {0: 110, 1: 59}),
        sample(8, None, set(), {0: 130, 1: 80}, {0: 111, 1: 60}),
    ]
    assert ends_at(samples, 1) == {0: 110, 1: 60}
    assert ends_at(samples, 9) is None
    assert committed_at(samples, 1, {0: 110, 1: 60}) == 8
    assert committed_at(samples[:4], 1, {0: 110, 1: 60}) is None


def test_the_drill_waits_for_commits_as_long_as_the_topology_may_take_to_replay_a_failed_batch() -> None:
    assert STORM_DEFAULTS["topology.message.timeout.secs"] == engine.MESSAGE_TIMEOUT_S
    assert DEFAULTS["loanrisk.spout.retry_max_delay_ms"] == engine.RETRY_MAX_DELAY_S * 1000
    assert DEFAULTS["loanrisk.spout.offset_commit_period_ms"] == engine.COMMIT_PERIOD_S * 1000
    assert engine.COMMIT_WAIT_S > engine.MESSAGE_TIMEOUT_S + engine.RETRY_MAX_DELAY_S + engine.COMMIT_PERIOD_S


@pytest.mark.parametrize(
    ("lost", "dup", "problems", "passed"),
    [(0, 0, [], True), (1, 0, [], False), (0, 1, [], False), (0, 0, ["x"], False)],
)
def test_a_row_passes_only_without_loss_duplicates_or_failed_checks(lost, dup, problems, passed) -> None:
    assert Row("s", lost=lost, duplicated=dup, problems=problems).passed is passed


def test_the_table_has_a_header_a_rule_and_one_line_per_scenario_then_notes() -> None:
    rows = [
        Row("worker-kill", "15:00:01", 12.0, applicants=900, peak_lag=300, worker_restarts=1, notes=["n"]),
        Row("poison", lost=1, problems=["always-500 not dead-lettered"]),
    ]
    lines = format_table(rows).splitlines()
    assert lines[0].startswith("| scenario")
    assert set(lines[1]) <= {"|", "-"}
    assert "worker-kill" in lines[2]
    assert lines[2].split("|")[-2].strip() == "ok"
    assert "FAIL" in lines[3]
    assert "not recovered" in lines[3]
    assert lines[4] == "- worker-kill: n"
    assert "FAILED CHECK" in lines[5]


def test_the_proxy_poisons_a_batch_naming_a_poison_id() -> None:
    body = json.dumps({"applicants": [{"id": "A"}, {"id": "P"}]}).encode()
    assert names_poison(body, {"P"})
    assert not names_poison(body, {"Q"})
    assert not names_poison(b"not json", {"P"})
    assert names_poison(json.dumps({"id": "P"}).encode(), {"P"})


def test_the_proxy_fault_accepts_known_modes_only() -> None:
    fault = Fault()
    assert fault.update({"mode": "slow", "delay_s": 3}) is None
    assert fault.mode == "slow"
    assert fault.delay_s == 3
    assert fault.update({"mode": "explode"}) is not None
    assert fault.mode == "slow"
    assert fault.update({"delay_s": "soon"}) is not None


def test_a_hostile_line_has_no_key_instead_of_crashing_the_producer() -> None:
    deep = b'{"id": "X", "a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    assert line_key(deep) is None
    assert line_key(b'{"id": "\xff"}') is None
    assert line_key(b'{"id": "A-1"}') == b"A-1"


def test_identical_repeats_are_not_conflicts_but_a_second_event_id_is() -> None:
    pairs = [("A", "e1"), ("A", "e1"), ("B", "e2"), ("B", "e3"), ("C", ""), ("C", "")]
    assert conflicting_events(pairs) == ["B"]
