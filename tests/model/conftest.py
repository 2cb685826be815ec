"""Fixtures for the behavioural tests of the shipped risk model (models/)."""

from __future__ import annotations

import csv
import dataclasses
import itertools
from pathlib import Path

import pytest

from jobs.settings import ROOT, default_data_dir
from loanrisk.applicant import Applicant
from loanrisk.cleaning import Rejection, applicant_from_json, clean_record
from risk_api.model import RiskModel, load_model
from risk_api.schemas import EXAMPLE_APPLICANT

MODEL_DIR = ROOT / "models"
REAL_SAMPLE = 300
DECLINE_SAMPLE_FILE = "lending_club_2007_2011.csv"
DECLINE_SAMPLE = 2000


@pytest.fixture(scope="session")
def risk_model() -> RiskModel:
    """Return the shipped model, verified and loaded as the Risk API loads it."""
    model = load_model(MODEL_DIR)
    assert not isinstance(model, str), model
    return model


@pytest.fixture(scope="session")
def example() -> Applicant:
    """Return the documented example applicant."""
    applicant = applicant_from_json(EXAMPLE_APPLICANT)
    assert isinstance(applicant, Applicant)
    return applicant


def synthetic_applicants(example: Applicant) -> list[Applicant]:
    """Return a grid of varied applicants around the example (grades, incomes, terms, unknowns)."""
    # each dimension also moves a feature model v2 scores (inquiries, revolving utilisation), so the grid's
    # probabilities vary beyond grade, income and term
    grid = itertools.product(
        ["A1", "C3", "E5", "G5"],
        [20_000.0, 80_000.0, 400_000.0],
        [36, 60],
        [(None, 0), (3, 4)],
        [("RENT", 10.0), ("MORTGAGE", 55.0), ("OWN", 95.0)],
    )
    return [
        dataclasses.replace(
            example,
            id=f"S{i}",
            grade=sg[0],
            sub_grade=sg,
            annual_inc=inc,
            term=term,
            emp_length=emp,
            home_ownership=home,
            mths_since_last_delinq=emp,
            inq_last_6mths=inq,
            revol_util=util,
        )
        for i, (sg, inc, term, (emp, inq), (home, util)) in enumerate(grid)
    ]


def real_applicants(data_dir: Path | None) -> list[Applicant]:
    """Return up to REAL_SAMPLE cleaned applicants of the shared samples, or none without the data."""
    path = data_dir / "lending_club_sample.csv" if data_dir else None
    if path is None or not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        cleaned = (clean_record(row) for row in itertools.islice(csv.DictReader(handle), REAL_SAMPLE))
        return [a for a in cleaned if not isinstance(a, Rejection)]


@pytest.fixture(scope="session")
def real_declines(risk_model: RiskModel) -> list[Applicant]:
    """Return the applicants the shipped model and policy decline among real loans (a synthetic grid without data)."""
    from loanrisk.decision import DECLINE, decide, policy_from_mapping

    data_dir = default_data_dir()
    path = data_dir / DECLINE_SAMPLE_FILE if data_dir else None
    if path is not None and path.exists():
        with path.open(newline="", encoding="utf-8") as handle:
            rows = itertools.islice(csv.DictReader(handle), 0, None, 20)  # every 20th loan: all vintages
            pool = [
                a for a in map(clean_record, itertools.islice(rows, DECLINE_SAMPLE)) if not isinstance(a, Rejection)
            ]
    else:
        example = applicant_from_json(EXAMPLE_APPLICANT)
        assert isinstance(example, Applicant), example
        pool = synthetic_applicants(example)
    policy = policy_from_mapping(risk_model.metadata["policy"])
    assert not isinstance(policy, str), policy
    return [a for a, p in zip(pool, risk_model.probabilities(pool), strict=True) if decide(float(p), policy) == DECLINE]


@pytest.fixture(scope="session")
def applicants(example: Applicant) -> list[Applicant]:
    """Return the base applicants of the behavioural tests: a synthetic grid plus real ones when present."""
    return synthetic_applicants(example) + real_applicants(default_data_dir())
