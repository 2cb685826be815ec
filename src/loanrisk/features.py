"""Model inputs derived from the canonical applicant record, using only application-time fields.

The risk model sees two blocks of columns: ``NUMERIC_FEATURES`` (floats, ``nan`` when unknown; the
model's pipeline imputes them) and ``CATEGORICAL_FEATURES`` (strings; the pipeline one-hot encodes
them). Identifiers and free text (``id``, ``emp_title``, ``title``, ``zip_code``, ``addr_state``)
are deliberately not features: the score must not depend on them.

``DIRECTIONAL_SIGNS`` states, for the features a lender expects to push risk one way, the sign the
model's coefficient must have (+1: a higher value may only raise the default probability).
``MODEL_CANDIDATES`` are the features the risk model may use: exactly the directional ones, so every
factor the model can cite as an adverse-action reason moves risk in a direction a lender can state
("Debt-to-income ratio too high"). Features without a defensible direction are computed (the
baseline recipe of model v1 still uses them) but are not candidates: ``log_revol_bal`` and
``open_acc`` (more can mean either a thick file or over-extension), the housing status, the income
verification status, the application type and the loan purpose as a nominal category. The one
purpose with a stated direction is kept as its own flag: a small-business loan carries business risk
(27.6 % charged off among the 44,545 shared resolved loans against 15.3 % overall).
``employment_years`` folds an unstated employment length into 0 years ("too short or not stated"):
the applicants who leave it out default like those with under a year (21.6 % against 15.1 %).
The installment is not a feature of its own: it is a function of loan amount, rate and term, and
as a separate column it made the loan amount's coefficient flip sign (collinearity); it enters
through the payment-to-income ratio. Every
derived feature is a non-decreasing or non-increasing function of its inputs, so these signs make
the score monotone in dti, revol_util, the FICO score and annual income.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from loanrisk.applicant import GRADES, Applicant

NAN = float("nan")

# model v1's numeric features, the first 18 of model v2's (jobs.train rebuilds v1 as a baseline)
V1_NUMERIC_FEATURES: tuple[str, ...] = (
    "sub_grade_rank",
    "int_rate",
    "term_60",
    "loan_amnt",
    "log_annual_inc",
    "installment_to_income",
    "dti",
    "fico_mid",
    "revol_util",
    "log_revol_bal",
    "inq_last_6mths",
    "delinq_2yrs",
    "ever_delinquent",
    "pub_rec",
    "open_acc",
    "total_acc",
    "credit_history_years",
    "emp_length",
)

NUMERIC_FEATURES: tuple[str, ...] = (*V1_NUMERIC_FEATURES, "employment_years", "small_business")

CATEGORICAL_FEATURES: tuple[str, ...] = (
    "home_ownership",
    "verification_status",
    "purpose",
    "application_type",
)

FEATURE_NAMES: tuple[str, ...] = NUMERIC_FEATURES + CATEGORICAL_FEATURES

DIRECTIONAL_SIGNS: dict[str, int] = {
    "sub_grade_rank": +1,
    "int_rate": +1,
    "term_60": +1,
    "loan_amnt": +1,
    "log_annual_inc": -1,
    "installment_to_income": +1,
    "dti": +1,
    "fico_mid": -1,
    "revol_util": +1,
    "inq_last_6mths": +1,
    "delinq_2yrs": +1,
    "ever_delinquent": +1,
    "pub_rec": +1,
    "total_acc": -1,
    "credit_history_years": -1,
    "employment_years": -1,
    "small_business": +1,
}

MODEL_CANDIDATES: tuple[str, ...] = tuple(f for f in NUMERIC_FEATURES if f in DIRECTIONAL_SIGNS)

# Why these bounds: LendingClub data carries sentinels (dti 999) and extreme tails; clipping is
# monotone, so it keeps the directional guarantees while stopping one value from dominating a score.
INCOME_FLOOR = 1_000.0
DTI_MAX = 100.0
REVOL_UTIL_MAX = 150.0
PAYMENT_TO_INCOME_MAX = 1.0
COUNT_MAX = 50.0


def sub_grade_rank(sub_grade: str) -> float:
    """Return A1 -> 1 ... G5 -> 35, or nan for an unknown sub-grade."""
    if len(sub_grade) != 2 or sub_grade[0] not in GRADES or sub_grade[1] not in "12345":
        return NAN
    return GRADES.index(sub_grade[0]) * 5.0 + int(sub_grade[1])


def months_between(start: str | None, end: str | None) -> float:
    """Return the months from YYYY-MM ``start`` to ``end``, or nan when either is unknown."""
    if not start or not end:
        return NAN
    try:
        (y0, m0), (y1, m1) = (map(int, start.split("-")[:2]), map(int, end.split("-")[:2]))
    except ValueError:
        return NAN
    return float((y1 - y0) * 12 + (m1 - m0))


def clip(value: float | None, low: float, high: float) -> float:
    """Return value bounded to [low, high], or nan when it is unknown."""
    if value is None or math.isnan(value):
        return NAN
    return min(max(float(value), low), high)


def optional(value: float | None) -> float:
    """Return value as a float, nan when unknown."""
    return NAN if value is None else float(value)


def numeric_values(a: Applicant) -> list[float]:
    """Return the applicant's numeric features in NUMERIC_FEATURES order."""
    income = max(a.annual_inc, INCOME_FLOOR)
    history = months_between(a.earliest_cr_line, a.issue_d)
    return [
        sub_grade_rank(a.sub_grade),
        a.int_rate,
        1.0 if a.term == 60 else 0.0,
        a.loan_amnt,
        math.log(income),
        min(12.0 * a.installment / income, PAYMENT_TO_INCOME_MAX),
        clip(a.dti, 0.0, DTI_MAX),
        (a.fico_range_low + a.fico_range_high) / 2.0,
        clip(a.revol_util, 0.0, REVOL_UTIL_MAX),
        NAN if a.revol_bal is None else math.log1p(max(a.revol_bal, 0.0)),
        clip(a.inq_last_6mths, 0.0, COUNT_MAX),
        clip(a.delinq_2yrs, 0.0, COUNT_MAX),
        0.0 if a.mths_since_last_delinq is None else 1.0,
        clip(a.pub_rec, 0.0, COUNT_MAX),
        clip(a.open_acc, 0.0, COUNT_MAX * 2),
        clip(a.total_acc, 0.0, COUNT_MAX * 4),
        history / 12.0 if history >= 0 else NAN,
        optional(a.emp_length),
        0.0 if a.emp_length is None else float(a.emp_length),
        1.0 if a.purpose == "small_business" else 0.0,
    ]


def categorical_values(a: Applicant) -> list[str | None]:
    """Return the applicant's categorical features in CATEGORICAL_FEATURES order."""
    return [a.home_ownership, a.verification_status, a.purpose, a.application_type]


def feature_row(a: Applicant) -> dict[str, float | str | None]:
    """Return the applicant's model inputs keyed by feature name."""
    return dict(zip(FEATURE_NAMES, [*numeric_values(a), *categorical_values(a)], strict=True))


def feature_columns(applicants: Iterable[Applicant]) -> dict[str, list[float | str | None]]:
    """Return the model inputs of many applicants as columns keyed by feature name."""
    rows = [[*numeric_values(a), *categorical_values(a)] for a in applicants]
    return {name: [row[i] for row in rows] for i, name in enumerate(FEATURE_NAMES)}
