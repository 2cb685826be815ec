"""Behavioural tests of the shipped risk model: directional, invariance, minimum functionality, metrics floor."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loanrisk import features, reasons
from loanrisk.applicant import Applicant
from loanrisk.decision import APPROVE, DECLINE, decide, policy_from_mapping
from risk_api.model import RiskModel, load_model

AUC_FLOOR = 0.70  # issue 12's aim for out-of-time ROC AUC
BRIER_SHARE_OF_BASE = 0.95  # issue 12: Brier no worse than the base-rate forecast's minus 5 %


# Any: dataclasses.replace takes each Applicant field with its own type, which no single precise type covers.
def probabilities(model: RiskModel, applicants: list[Applicant], **change: Any) -> np.ndarray:
    """Return default probabilities after replacing fields of every applicant."""
    return model.probabilities([dataclasses.replace(a, **change) for a in applicants])


def assert_never_decreasing(model: RiskModel, applicants: list[Applicant], field: str, values: list[float]) -> None:
    """Assert that moving field through values (riskier each step) never lowers any default probability."""
    steps = [probabilities(model, applicants, **{field: v}) for v in values]
    for before, after in itertools.pairwise(steps):
        assert np.all(after >= before - 1e-12), f"{field}: probability fell for some applicant"


@pytest.mark.parametrize(
    ("field", "riskier"),
    [
        ("dti", [0.0, 5.0, 15.0, 25.0, 35.0, 50.0, 99.0]),
        ("revol_util", [0.0, 10.0, 40.0, 70.0, 100.0, 140.0, 500.0]),
        ("fico_range_low", [845, 800, 760, 720, 690, 660, 620, 560]),
        ("annual_inc", [5e6, 400_000.0, 150_000.0, 80_000.0, 40_000.0, 15_000.0, 2_000.0, 0.0]),
    ],
)
def test_riskier_value_never_lowers_default_probability(
    risk_model: RiskModel, applicants: list[Applicant], field: str, riskier: list[float]
) -> None:
    if field == "fico_range_low":
        steps = [probabilities(risk_model, applicants, fico_range_low=v, fico_range_high=v + 4) for v in riskier]
        assert all(np.all(b >= a - 1e-12) for a, b in itertools.pairwise(steps))
    else:
        assert_never_decreasing(risk_model, applicants, field, riskier)


@pytest.mark.parametrize("feature", sorted(features.DIRECTIONAL_SIGNS))
def test_directional_coefficients_have_the_required_sign(risk_model: RiskModel, feature: str) -> None:
    coefficients = risk_model.metadata["coefficients"]
    if feature in coefficients:  # a feature dropped for a wrong sign has no effect at all
        assert coefficients[feature] * features.DIRECTIONAL_SIGNS[feature] >= 0


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("id", ["X1", "123456789", "G-zz_9"]),
        ("emp_title", [None, "CEO", "unemployed", "x" * 200]),
        ("zip_code", [None, "100xx", "999xx"]),
        ("title", [None, "Vacation", "Debt consolidation"]),
        ("addr_state", [None, "NY", "MS"]),
    ],
)
def test_identity_and_location_do_not_change_the_score(
    risk_model: RiskModel, applicants: list[Applicant], field: str, values: list[object]
) -> None:
    base = risk_model.probabilities(applicants)
    for v in values:
        assert np.array_equal(probabilities(risk_model, applicants, **{field: v}), base)


CLEARLY_GOOD: dict[str, Any] = {  # Any: Applicant fields of several types, for dataclasses.replace
    "grade": "A",
    "sub_grade": "A1",
    "int_rate": 6.0,
    "term": 36,
    "loan_amnt": 5000.0,
    "installment": 152.0,
    "annual_inc": 180_000.0,
    "dti": 4.0,
    "fico_range_low": 805,
    "fico_range_high": 809,
    "revol_util": 5.0,
    "revol_bal": 2000.0,
    "inq_last_6mths": 0,
    "delinq_2yrs": 0,
    "mths_since_last_delinq": None,
    "pub_rec": 0,
    "home_ownership": "MORTGAGE",
    "purpose": "credit_card",
    "earliest_cr_line": "1995-03",
    "emp_length": 10,
}
CLEARLY_BAD: dict[str, Any] = {
    "grade": "G",
    "sub_grade": "G5",
    "int_rate": 30.0,
    "term": 60,
    "loan_amnt": 35_000.0,
    "installment": 1130.0,
    "annual_inc": 28_000.0,
    "dti": 38.0,
    "fico_range_low": 662,
    "fico_range_high": 666,
    "revol_util": 97.0,
    "revol_bal": 30_000.0,
    "inq_last_6mths": 5,
    "delinq_2yrs": 3,
    "mths_since_last_delinq": 4,
    "pub_rec": 2,
    "home_ownership": "RENT",
    "purpose": "small_business",
    "earliest_cr_line": "2022-01",
    "emp_length": 0,
}


def policy(model: RiskModel):
    """Return the policy the model was trained alongside (recorded in its metadata)."""
    return policy_from_mapping(model.metadata["policy"])


def test_clearly_good_applicant_is_approved(risk_model: RiskModel, example: Applicant) -> None:
    [evaluation] = risk_model.evaluate([dataclasses.replace(example, **CLEARLY_GOOD)])
    assert evaluation.probability_of_default < 0.05
    assert decide(evaluation.probability_of_default, policy(risk_model)) == APPROVE


def test_clearly_bad_applicant_is_declined_with_reasons(risk_model: RiskModel, example: Applicant) -> None:
    [evaluation] = risk_model.evaluate([dataclasses.replace(example, **CLEARLY_BAD)])
    assert evaluation.probability_of_default > 0.5
    assert decide(evaluation.probability_of_default, policy(risk_model)) == DECLINE
    codes = [r.code for r in evaluation.reasons]
    assert len(codes) == reasons.MAX_REASONS
    assert {"SUB_GRADE_HIGH_RISK", "INT_RATE_HIGH", "FICO_LOW", "DTI_HIGH", "TERM_LONG"} & set(codes)


def test_reasons_are_catalogued_and_at_most_four(risk_model: RiskModel, applicants: list[Applicant]) -> None:
    for evaluation in risk_model.evaluate(applicants):
        assert len(evaluation.reasons) <= reasons.MAX_REASONS
        assert all(reasons.CATALOGUE[r.code] == r.text for r in evaluation.reasons)


def test_reason_contributions_explain_the_score_exactly(risk_model: RiskModel, applicants: list[Applicant]) -> None:
    _, points = risk_model.factor_points(applicants)
    p = risk_model.probabilities(applicants)
    assert np.allclose(risk_model.reference_log_odds() + points.sum(axis=1), np.log(p / (1 - p)))


def test_reasons_are_the_largest_adverse_factors_in_order(risk_model: RiskModel, applicants: list[Applicant]) -> None:
    factors, points = risk_model.factor_points(applicants)
    factor_of = {code: f for f, code in reasons.FACTOR_CODES.items()}
    for evaluation, row in zip(risk_model.evaluate(applicants), points, strict=True):
        adverse = sorted((j for j in range(len(factors)) if row[j] > 0), key=lambda j: -row[j])
        expected = [factors[j] for j in adverse[: reasons.MAX_REASONS]]
        assert [factor_of[r.code] for r in evaluation.reasons] == expected


def test_fast_path_equals_the_pipeline(risk_model: RiskModel, applicants: list[Applicant]) -> None:
    odd = [
        dataclasses.replace(
            applicants[0],
            purpose="wedding",
            home_ownership="NONE",
            dti=None,
            revol_util=None,
            revol_bal=None,
            emp_length=None,
            earliest_cr_line=None,
            inq_last_6mths=None,
        )
    ]
    for group in (applicants, odd):
        assert np.allclose(risk_model.columns(group), risk_model.pipeline_columns(group), rtol=0, atol=1e-12)
        frame = pd.DataFrame(features.feature_columns(group), columns=list(features.FEATURE_NAMES))
        assert np.allclose(risk_model.probabilities(group), risk_model.pipeline.predict_proba(frame)[:, 1], atol=1e-12)


def test_probabilities_are_valid(risk_model: RiskModel, applicants: list[Applicant]) -> None:
    p = risk_model.probabilities(applicants)
    assert np.all((p > 0) & (p < 1))
    assert len(set(np.round(p, 6))) > len(p) // 4


@pytest.mark.parametrize("split", ["random", "out_of_time"])
def test_metrics_floor_from_metadata(risk_model: RiskModel, split: str) -> None:
    report = risk_model.metadata["metrics"][split]
    model, baselines = report["model"], report["baselines"]
    assert model["roc_auc"] >= AUC_FLOOR
    assert model["brier"] <= BRIER_SHARE_OF_BASE * model["brier_base_rate"]
    assert abs(model["mean_predicted"] - model["observed_bad_rate"]) < 0.02
    assert model["roc_auc"] > baselines["sub_grade_alone"]["roc_auc"] + 0.02
    assert model["roc_auc"] > baselines["model_v1_recipe"]["roc_auc"] - 0.01  # no worse than v1's recipe


@pytest.mark.parametrize("split", ["random", "out_of_time"])
def test_calibration_tables_are_complete(risk_model: RiskModel, split: str) -> None:
    report = risk_model.metadata["metrics"][split]["model"]
    assert sum(row["n"] for row in report["calibration"]) == report["n"]
    assert sum(row["n"] for row in report["per_grade"].values()) == report["n"]
    means = [row["mean_predicted"] for row in report["calibration"]]
    assert means == sorted(means)
    assert all(abs(row["mean_predicted"] - row["observed_bad_rate"]) < 0.05 for row in report["calibration"])


def test_out_of_time_split_really_is_later(risk_model: RiskModel) -> None:
    oot = risk_model.metadata["metrics"]["out_of_time"]
    assert oot["cutoff"] == "2011-01"
    assert oot["train_n"] > 10_000
    assert oot["model"]["n"] > 10_000


def test_every_model_feature_has_a_direction_and_a_reason(risk_model: RiskModel) -> None:
    for column in risk_model.metadata["columns"]:
        assert column["name"] in features.DIRECTIONAL_SIGNS
        assert reasons.FACTOR_CODES[column["factor"]] in reasons.CATALOGUE


def test_declines_cite_only_factors_that_moved_the_score_toward_default(
    risk_model: RiskModel, real_declines: list[Applicant]
) -> None:
    """For a sample of real declines: each reason's factor, reset to the reference, lowers the probability:
    the applicant stands on the factor's risky side of the reference."""
    factor_of = {code: f for f, code in reasons.FACTOR_CODES.items()}
    columns = risk_model.metadata["columns"]
    reference = np.asarray(risk_model.metadata["reference"])
    coefficients = np.asarray([risk_model.metadata["coefficients"][c["name"]] for c in columns])
    x = risk_model.columns(real_declines)
    p = risk_model.probabilities(real_declines)
    assert len(real_declines) >= 20
    for i, evaluation in enumerate(risk_model.evaluate(real_declines)):
        assert evaluation.reasons, evaluation
        for reason in evaluation.reasons:
            cols = [j for j, c in enumerate(columns) if c["factor"] == factor_of[reason.code]]
            reset = x[i].copy()
            reset[cols] = reference[cols]
            assert expit_row(reset, coefficients, risk_model) < p[i], (evaluation.application_id, reason.code)
            assert sum((x[i, j] - reference[j]) * coefficients[j] for j in cols) > 0
            for j in cols:  # and the factor's features push risk the documented way
                assert coefficients[j] * features.DIRECTIONAL_SIGNS[columns[j]["name"]] >= 0


def expit_row(row: np.ndarray, coefficients: np.ndarray, model: RiskModel) -> float:
    """Return the default probability of one row of model columns."""
    return float(1.0 / (1.0 + np.exp(-(row @ coefficients + model.pipeline[-1].intercept_[0]))))


def test_metadata_describes_the_artifact(risk_model: RiskModel) -> None:
    meta = risk_model.metadata
    for key in ("model_version", "training_data", "features", "sklearn_version", "metrics", "policy", "artifact"):
        assert key in meta
    assert meta["features"]["numeric"] + meta["features"]["categorical"] == [
        f for f in features.FEATURE_NAMES if f in meta["features"]["numeric"] + meta["features"]["categorical"]
    ]
    assert len(meta["reference"]) == len(meta["columns"]) == len(meta["coefficients"])


def test_tampered_artifact_is_refused(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "models"
    for name in ("risk_model.skops", "risk_model.json"):
        shutil.copy(source / name, tmp_path / name)
    with (tmp_path / "risk_model.skops").open("ab") as handle:
        handle.write(b"\0")
    refused = load_model(tmp_path)
    assert isinstance(refused, str)
    assert "sha256" in refused


def test_missing_model_is_an_error_value(tmp_path: Path) -> None:
    missing = load_model(tmp_path)
    assert isinstance(missing, str)
    assert "make train" in missing


def test_model_card_quotes_the_metadata(risk_model: RiskModel) -> None:
    card = (Path(__file__).resolve().parents[2] / "models" / "MODEL_CARD.md").read_text()
    assert risk_model.version in card
    for split in ("random", "out_of_time"):
        report = risk_model.metadata["metrics"][split]
        assert f"{report['model']['roc_auc']:.3f}" in card
        assert all(f"{b['roc_auc']:.3f}" in card for b in report["baselines"].values())
    assert risk_model.metadata["policy"]["policy_version"] in card
    assert risk_model.metadata["prescreen_policy"] in card
    assert "DECLINE (pre-screen)" in card


def test_pipeline_mix_covers_every_test_loan(risk_model: RiskModel) -> None:
    meta = risk_model.metadata
    for key, split in (("pipeline_mix_holdout", "random"), ("pipeline_mix_out_of_time", "out_of_time")):
        assert sum(r["n"] for r in meta[key].values()) == meta["metrics"][split]["model"]["n"]
        assert meta[key]["APPROVE"]["observed_bad_rate"] < meta["metrics"][split]["model"]["observed_bad_rate"]


def test_metadata_is_plain_json(risk_model: RiskModel) -> None:
    text = json.dumps(risk_model.metadata, allow_nan=False)
    assert math.isfinite(json.loads(text)["estimator"]["intercept"])


def test_holdout_auc_reproduces_from_the_artifact(risk_model: RiskModel) -> None:
    from sklearn.metrics import roc_auc_score

    from jobs import train
    from jobs.settings import default_data_dir

    data_dir = default_data_dir()
    if data_dir is None or not (data_dir / train.SAMPLES[0]).exists():
        pytest.skip("the shared LendingClub samples are not available")
    applicants, y, provenance = train.load_training_data(data_dir)
    assert provenance["sha256"] == risk_model.metadata["training_data"]["sha256"]
    test = train.split(y)[1]
    auc = roc_auc_score(y[test], risk_model.probabilities([applicants[i] for i in test]))
    assert auc == pytest.approx(risk_model.metadata["metrics"]["random"]["model"]["roc_auc"], abs=1e-9)
