"""The decision lab on the shipped model, in process: re-scoring stored rows, PSI of generator runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from jobs import drift as drift_job
from jobs import rescore as rescore_job
from jobs.settings import ROOT
from loanrisk import drift
from loanrisk import events as ev
from loanrisk.decision import Policy
from loanrisk.rescore import Outcome, Tally, summary
from risk_api.model import RiskModel
from risk_api.service import RiskService, load_policy
from tests.lab_rows import Row, generated, stored_rows

POLICY_FILE = ROOT / "config" / "risk_policy.json"


@pytest.fixture(scope="module")
def champion(risk_model: RiskModel) -> RiskService:
    policy = load_policy(POLICY_FILE, {})
    assert isinstance(policy, Policy), policy
    return RiskService(risk_model, policy)


@pytest.fixture(scope="module")
def rows(champion: RiskService) -> list[Row]:
    return stored_rows(champion, generated(600, seed=11))


def test_rescoring_with_the_champion_reproduces_every_stored_decision(champion: RiskService, rows: list[Row]) -> None:
    scored = rescore_job.score_batch(champion, rows, {})
    assert len(scored.outcomes) == len(rows)
    assert not scored.unreadable
    assert all(o.now == o.candidate for o in scored.outcomes)
    model_rows = [o for o in scored.outcomes if o.pd_now is not None]
    assert model_rows, "the sample must hold model decisions"
    assert all(o.pd_now == o.pd_candidate for o in model_rows)
    assert all(o.reasons_now == o.reasons_candidate for o in scored.outcomes)
    assert summary(tally(scored.outcomes))["agreement"] == 1.0


def test_a_tighter_cut_off_moves_exactly_the_expected_rows(champion: RiskService, rows: list[Row]) -> None:
    tight = Policy("tight-test", champion.policy.approve_below - 0.03, champion.policy.decline_at - 0.05)
    scored = rescore_job.score_batch(RiskService(champion.model, tight), rows, {})
    moved = {o.application_id: (o.now, o.candidate) for o in scored.outcomes if o.now != o.candidate}
    expected = {}
    for o in scored.outcomes:
        if o.pd_now is None:
            continue
        p = o.pd_now
        if tight.approve_below <= p < champion.policy.approve_below:
            expected[o.application_id] = ("APPROVE", "DECLINE" if p >= tight.decline_at else "REVIEW")
        elif tight.decline_at <= p < champion.policy.decline_at and p >= champion.policy.approve_below:
            expected[o.application_id] = ("REVIEW", "DECLINE")
    assert moved
    assert moved == expected
    report = summary(tally(scored.outcomes))
    assert (
        report["swap_matrix"]["APPROVE"]["APPROVE"] + len([m for m in moved.values() if m[0] == "APPROVE"])
        == report["mix"]["APPROVE"]["now"]
    )
    assert all(m[1] != "APPROVE" for m in moved.values())  # stricter: nobody is swapped in


def test_candidate_cells_are_stored_under_the_candidate_version(champion: RiskService, rows: list[Row]) -> None:
    scored = rescore_job.score_batch(champion, rows, {})
    decision_col, pd_col, reasons_col = rescore_job.columns_of(rescore_job.candidate_key(champion))
    assert decision_col.startswith(b"c:" + champion.model.version.encode() + b"@" + champion.policy.version.encode())
    assert all(set(cells) == {decision_col, pd_col, reasons_col} for cells in scored.cells.values())


def test_candidate_cells_are_the_risk_apis_results(champion: RiskService, rows: list[Row]) -> None:
    """The batch path stores exactly what the Risk API would answer for the candidate (another policy here)."""
    tight = RiskService(champion.model, Policy("tight-test", 0.08, 0.2))
    scored = rescore_job.score_batch(tight, rows, {})
    decision_col, pd_col, reasons_col = rescore_job.columns_of(rescore_job.candidate_key(tight))
    applicants = {a.id: a for a in generated(600, seed=11)}
    keys = list(scored.cells)
    answers = tight.evaluate([applicants[k.decode()] for k in keys])
    assert len(keys) > 100
    for key, answer in zip(keys, answers, strict=True):
        cells = scored.cells[key]
        assert cells[decision_col].decode() == answer["decision"]
        assert cells[pd_col] == repr(answer["probability_of_default"]).encode()
        assert cells[reasons_col] == orjson.dumps(answer["reasons"])


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"id": "X1"}'],  # not JSON, not an object, an object without the applicant's fields
)
def test_an_unreadable_stored_row_is_reported_and_the_batch_still_scored(
    champion: RiskService, rows: list[Row], body: bytes
) -> None:
    broken = (b"X1", {**rows[0][1], ev.COL_APPLICANT_JSON: body})
    scored = rescore_job.score_batch(champion, [broken, *rows[:50]], {})
    assert len(scored.unreadable) == 1
    assert scored.unreadable[0].startswith("b'X1': ")
    assert len(scored.outcomes) == 50


def test_window_keeps_only_rows_received_in_it(champion: RiskService, rows: list[Row]) -> None:
    first_ts = int(ev.cells(rows[0][1])[ev.COL_KAFKA_TS])  # any row schema
    window = rescore_job.Window(first_ts + 100, first_ts + 200)
    assert len(rescore_job.score_batch(champion, rows, {}, window).outcomes) == 100


def test_psi_is_zero_for_identical_generator_runs(risk_model: RiskModel) -> None:
    columns = drift_job.model_columns(risk_model, generated(3000, seed=5))
    stored = drift.references(columns)
    assert all(d.psi == 0.0 for d in drift.report(stored, columns))


def test_a_shifted_generator_run_is_act_and_a_normal_one_stable(risk_model: RiskModel) -> None:
    stored = drift.references(drift_job.model_columns(risk_model, generated(5000, seed=7)))
    normal = drift.report(stored, drift_job.model_columns(risk_model, generated(5000, seed=8)))
    shift = {"income": -0.3, "grade_e": 0.3}  # the README's demo shift
    shifted = drift.report(stored, drift_job.model_columns(risk_model, generated(5000, seed=8, shift=shift)))
    assert drift.overall(normal) == drift.STABLE, normal
    assert drift.overall(shifted) == drift.ACT
    by_name = {d.name: d.psi for d in shifted}
    assert by_name["log_annual_inc"] > drift.ACT_ABOVE
    assert by_name["sub_grade_rank"] > drift.WATCH_AT


def test_a_normal_generator_run_is_stable_against_the_training_data(risk_model: RiskModel) -> None:
    """`make drift` against the model's stored training distribution: the generator is fitted on the same loans."""
    normal = drift_job.measure(risk_model, generated(5000, seed=8))
    assert not isinstance(normal, str), normal
    assert all(d.psi < drift.WATCH_AT for d in normal), normal


def test_a_shifted_generator_run_is_act_against_the_training_data(risk_model: RiskModel) -> None:
    shifted = drift_job.measure(risk_model, generated(5000, seed=8, shift={"income": -0.3, "grade_e": 0.3}))
    assert not isinstance(shifted, str), shifted
    assert drift.overall(shifted) == drift.ACT
    assert {d.name: d.psi for d in shifted}["log_annual_inc"] > drift.ACT_ABOVE


def test_more_grade_e_drifts_further_from_the_training_data(risk_model: RiskModel) -> None:
    normal = drift_job.measure(risk_model, generated(5000, seed=7))
    shifted = drift_job.measure(risk_model, generated(5000, seed=7, shift={"grade_e": 0.3}))
    assert not isinstance(normal, str), normal
    assert not isinstance(shifted, str), shifted
    before, after = {d.name: d.psi for d in normal}, {d.name: d.psi for d in shifted}
    for name in ("sub_grade_rank", "int_rate"):
        assert after[name] > max(before[name], drift.WATCH_AT), (name, before[name], after[name])


def tally(outcomes: list[Outcome]) -> Tally:
    t = Tally()
    t.add_all(outcomes)
    return t


def test_reference_is_stored_for_every_model_input(risk_model: RiskModel) -> None:
    variables = risk_model.metadata["reference_distribution"]["variables"]
    assert set(variables) == {*risk_model.metadata["features"]["numeric"], drift.PROBABILITY}
    assert all(np.isclose(sum(v["fractions"]) + v["missing"], 1.0) for v in variables.values())


def test_drift_report_files(tmp_path: Path, risk_model: RiskModel) -> None:
    drifts = drift_job.measure(risk_model, generated(500, seed=9))
    assert not isinstance(drifts, str)
    drift_job.write(drifts, risk_model.version, "test", tmp_path)
    assert 'loanrisk_psi{model="' in (tmp_path / "drift.prom").read_text()
    assert (tmp_path / "drift.md").read_text().startswith("# Input drift")
