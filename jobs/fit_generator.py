"""Fit the generator's parameters on the loans the risk model is trained on: `python -m jobs.fit_generator`.

Writes models/generator_params.json (committed: a product of our code, so the generator runs without
../shared/data). Every parameter is a small summary (probabilities, quantiles, regression coefficients),
never a row of the data.

Why the training loans (``jobs.train.load_training_data``: the resolved loans of all three shared files,
de-duplicated by id) and not only the two recent samples: `make drift` compares generated applicants with
the model's stored training distribution. Fitted on the 2015-era samples alone, the generator differed from
the 2007-2011 loans that dominate training (dti PSI 0.39, loan amount 0.24), so a normal run read as
drift. Fitted on the same loans, a normal run is stable against the training split and only a ``--shift``
moves it. ``fitted_on.sha256`` is the training data's hash, as in the model's ``training_data``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from jobs.settings import ROOT, default_data_dir
from jobs.train import SAMPLES, load_training_data
from loanrisk.applicant import GRADES, Applicant

PARAMS_PATH = ROOT / "models" / "generator_params.json"
QUANTILES = 101  # 0 %, 1 %, ..., 100 %
TOP_TITLES = 300
MIN_TITLE_COUNT = 3  # a job title seen fewer times is too close to one person's row
DEFAULT_FEATURES = ("dti", "log_income", "fico", "term60", "inq", "loan_to_income")


def pmf(values: Iterable[Any]) -> dict[str, float]:
    """Return the empirical probabilities of values, keyed by str(value) ("null" for None), largest first."""
    counts = Counter("null" if v is None else str(v) for v in values)
    total = sum(counts.values())
    return {k: round(n / total, 6) for k, n in counts.most_common()}


def quantiles(values: Iterable[float | None]) -> list[float]:
    """Return the 0..100 % quantiles of the known values."""
    known = np.array([v for v in values if v is not None], dtype=float)
    return [round(float(q), 4) for q in np.quantile(known, np.linspace(0, 1, QUANTILES))]


def log_normal(values: Iterable[float]) -> dict[str, float]:
    """Return the mean and sd of log(value) over the positive values."""
    logs = np.log([v for v in values if v > 0])
    return {"mean": round(float(logs.mean()), 6), "sd": round(float(logs.std()), 6)}


def by_grade(apps: list[Applicant], key: Any, fit: Any) -> dict[str, Any]:
    """Apply fit to key(applicant) for the applicants of each grade."""
    return {g: fit([key(a) for a in apps if a.grade == g]) for g in GRADES if any(a.grade == g for a in apps)}


def months_between(later: str, earlier: str) -> int:
    """Return whole months from earlier to later ("YYYY-MM" strings)."""
    return (int(later[:4]) - int(earlier[:4])) * 12 + int(later[5:7]) - int(earlier[5:7])


def income_loan_fit(apps: list[Applicant]) -> dict[str, float]:
    """Fit log(loan_amnt) = a + b * log(annual_inc) + noise on applicants with a positive income."""
    pairs = np.array([(np.log(a.annual_inc), np.log(a.loan_amnt)) for a in apps if a.annual_inc > 0])
    b, a = np.polyfit(pairs[:, 0], pairs[:, 1], 1)
    resid = pairs[:, 1] - (a + b * pairs[:, 0])
    return {
        "a": round(float(a), 6),
        "b": round(float(b), 6),
        "sigma": round(float(resid.std()), 6),
        "log_income_mean": round(float(pairs[:, 0].mean()), 6),
        "log_income_sd": round(float(pairs[:, 0].std()), 6),
    }


def default_features(a: Applicant, dti_median: float) -> list[float]:
    """Return the raw default-model features of one applicant (see DEFAULT_FEATURES)."""
    income = max(a.annual_inc, 1000.0)
    return [
        a.dti if a.dti is not None else dti_median,
        float(np.log(income)),
        float(a.fico_range_low),
        float(a.term == 60),
        float(a.inq_last_6mths or 0),
        min(a.loan_amnt / income, 2.0),
    ]


def default_fit(resolved: list[tuple[Applicant, int]]) -> dict[str, Any]:
    """Fit P(charged off) = sigmoid(grade intercept + w . standardized features) on the resolved loans."""
    dti_median = float(np.median([a.dti for a, _ in resolved if a.dti is not None]))
    x = np.array([default_features(a, dti_median) for a, _ in resolved])
    mean, sd = x.mean(axis=0), x.std(axis=0)
    grades = np.array([[float(a.grade == g) for g in GRADES] for a, _ in resolved])
    y = np.array([outcome for _, outcome in resolved])
    model = LogisticRegression(C=1.0, fit_intercept=False, max_iter=2000).fit(np.hstack([grades, (x - mean) / sd]), y)
    coef = model.coef_[0]
    rates = {g: round(float(y[grades[:, i] == 1].mean()), 4) for i, g in enumerate(GRADES) if grades[:, i].any()}
    return {
        "features": list(DEFAULT_FEATURES),
        "dti_median": dti_median,
        "mean": [round(float(v), 6) for v in mean],
        "sd": [round(float(v), 6) for v in sd],
        "grade_intercept": {g: round(float(coef[i]), 6) for i, g in enumerate(GRADES)},
        "weights": [round(float(w), 6) for w in coef[len(GRADES) :]],
        "observed_rate_by_grade": rates,
        "resolved_loans": len(y),
    }


def fit(pairs: list[tuple[Applicant, int]], data_sha256: str = "") -> dict[str, Any]:
    """Summarise the loans (applicant, 1 = charged off) into the generator's parameters."""
    apps = [a for a, _ in pairs]
    titles = Counter(a.emp_title for a in apps if a.emp_title)
    return {
        "fitted_on": {"rows": len(apps), "files": list(SAMPLES), "sha256": data_sha256, "as": "jobs.train"},
        "grade": pmf(a.grade for a in apps),
        "sub_grade": by_grade(apps, lambda a: a.sub_grade, pmf),
        "int_rate": {
            sg: {"mean": round(float(np.mean(v)), 4), "sd": round(float(np.std(v)), 4), "min": min(v), "max": max(v)}
            for sg in sorted({a.sub_grade for a in apps})
            for v in [[a.int_rate for a in apps if a.sub_grade == sg]]
        },
        "term60": by_grade(apps, lambda a: a.term == 60, lambda v: round(float(np.mean(v)), 4)),
        "fico_low": by_grade(apps, lambda a: a.fico_range_low, pmf),
        "income_loan": income_loan_fit(apps),
        "log_income_by_grade": by_grade(apps, lambda a: a.annual_inc, log_normal),
        "zero_income_rate": round(sum(a.annual_inc == 0 for a in apps) / len(apps), 6),
        "dti": by_grade(apps, lambda a: a.dti, quantiles),
        "dti_null_rate": round(sum(a.dti is None for a in apps) / len(apps), 6),
        "revol_util": quantiles(a.revol_util for a in apps),
        "revol_bal_to_income": quantiles(
            a.revol_bal / a.annual_inc for a in apps if a.annual_inc and a.revol_bal is not None
        ),
        "open_acc": quantiles(a.open_acc for a in apps),
        "closed_acc": quantiles(
            max(a.total_acc - a.open_acc, 0) for a in apps if a.total_acc is not None and a.open_acc is not None
        ),
        "credit_age_months": quantiles(
            months_between(a.issue_d, a.earliest_cr_line) for a in apps if a.issue_d and a.earliest_cr_line
        ),
        "delinq_2yrs": pmf(a.delinq_2yrs for a in apps),
        "inq_last_6mths": by_grade(apps, lambda a: a.inq_last_6mths, pmf),
        "pub_rec": pmf(a.pub_rec for a in apps),
        "mths_since_last_delinq": quantiles(a.mths_since_last_delinq for a in apps),
        "mths_since_last_delinq_null_rate": round(sum(a.mths_since_last_delinq is None for a in apps) / len(apps), 6),
        "emp_length": pmf(a.emp_length for a in apps),
        "emp_title": {t: n for t, n in titles.most_common(TOP_TITLES) if n >= MIN_TITLE_COUNT},
        "emp_title_null_rate": round(sum(a.emp_title is None for a in apps) / len(apps), 6),
        "home_ownership": pmf(a.home_ownership for a in apps),
        "verification_status": by_grade(apps, lambda a: a.verification_status, pmf),
        "purpose": pmf(a.purpose for a in apps),
        "title_by_purpose": {
            p: Counter(a.title for a in apps if a.purpose == p and a.title).most_common(1)[0][0]
            for p in {a.purpose for a in apps}
            if any(a.purpose == p and a.title for a in apps)
        },
        "addr_state": pmf(a.addr_state for a in apps if a.addr_state),
        "zip_by_state": {
            s: sorted({a.zip_code for a in apps if a.addr_state == s and a.zip_code})
            for s in sorted({a.addr_state for a in apps if a.addr_state})
        },
        "application_type": pmf(a.application_type for a in apps),
        "issue_d": pmf(a.issue_d for a in apps),
        "default": default_fit(pairs),
    }


def main(argv: list[str] | None = None) -> int:
    """Fit on the training loans and write the parameters file."""
    parser = argparse.ArgumentParser(prog="python -m jobs.fit_generator", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PARAMS_PATH)
    args = parser.parse_args(argv)
    data_dir = default_data_dir()
    if data_dir is None:
        sys.exit("shared samples not found (set LOANRISK_DATA_DIR)")
    applicants, outcomes, provenance = load_training_data(data_dir)
    params = fit(list(zip(applicants, outcomes.tolist(), strict=True)), provenance["sha256"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(params, indent=1) + "\n")
    print(f"wrote {args.out} (fitted on {params['fitted_on']['rows']} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
