"""OpenAPI documentation of the Risk API's bodies (marshmallow schemas for APIFlask's generated spec).

These schemas document; they do not validate. They must never be stricter than the validator (a value
the document calls invalid has to be refused), so schemathesis' negative tests hold; cross-field rules
(sub_grade within grade, fico_range_high >= fico_range_low) are not expressible here. Requests are validated by
the domain's ``loanrisk.cleaning.applicant_from_json`` (one definition of every rule), and the category lists
below come from that module so the document cannot drift from the validator on them.
"""

from __future__ import annotations

from typing import Any, cast

from apiflask import Schema
from apiflask.fields import Dict, Field, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp

from loanrisk import problems
from loanrisk.applicant import GRADES, SCHEMA_VERSION
from loanrisk.cleaning import (
    APPLICATION_TYPES,
    HOME_OWNERSHIP,
    PURPOSES,
    TERMS,
    VERIFICATION_STATUS,
    strict_key_required,
    strict_value_required,
)
from loanrisk.decision import DECISIONS

MONTH = r"^(19\d\d|20\d\d|2100)-(0[1-9]|1[0-2])$"  # the validator's 1900-01 .. 2100-12

EXAMPLE_APPLICANT = {
    "id": "G000000042",
    "loan_amnt": 12000.0,
    "term": 36,
    "int_rate": 11.99,
    "installment": 398.52,
    "grade": "B",
    "sub_grade": "B5",
    "emp_title": "Nurse",
    "emp_length": 6,
    "home_ownership": "MORTGAGE",
    "annual_inc": 72000.0,
    "verification_status": "Source Verified",
    "purpose": "debt_consolidation",
    "title": "Debt consolidation",
    "zip_code": "940xx",
    "addr_state": "CA",
    "dti": 17.4,
    "delinq_2yrs": 0,
    "earliest_cr_line": "2004-07",
    "fico_range_low": 700,
    "fico_range_high": 704,
    "inq_last_6mths": 1,
    "mths_since_last_delinq": None,
    "open_acc": 11,
    "pub_rec": 0,
    "revol_bal": 14200.0,
    "revol_util": 48.3,
    "total_acc": 24,
    "application_type": "Individual",
    "issue_d": "2026-11",
    "schema_version": SCHEMA_VERSION,
}


def money(high: float, low: float = 0.0) -> Float:
    """Return a documented money field in US dollars."""
    return Float(validate=Range(low, high))


def count(high: int, low: int = 0) -> Integer:
    """Return a documented whole-number field."""
    return Integer(validate=Range(low, high))


def text(pattern: str | None = None) -> String:
    return String(validate=[Length(1, 255)] + ([Regexp(pattern)] if pattern else []))


def choice(values: tuple[str, ...]) -> String:
    return String(validate=OneOf(values))


# Type and range of every field, for the document; whether it is required or nullable comes from the
# validator's own table (loanrisk.cleaning.FIELDS) in applicant_schema, so the two cannot drift.
APPLICANT_FIELDS: dict[str, Field[Any]] = {
    "id": text(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"),
    "loan_amnt": money(100_000.0, 1.0),
    "term": Integer(validate=OneOf(TERMS)),
    "int_rate": Float(validate=Range(0.01, 50.0)),
    "installment": money(10_000.0, 0.01),
    "grade": choice(GRADES),
    "sub_grade": text(r"^[A-G][1-5]$"),
    "emp_title": String(
        validate=Length(0, 1024),
        metadata={"description": "free text, at most 255 characters once surrounding whitespace is trimmed"},
    ),
    "emp_length": count(10),
    "home_ownership": choice(HOME_OWNERSHIP),
    "annual_inc": money(1e9),
    "verification_status": choice(VERIFICATION_STATUS),
    "purpose": choice(PURPOSES),
    "title": String(
        validate=Length(0, 1024),
        metadata={"description": "free text, at most 255 characters once surrounding whitespace is trimmed"},
    ),
    "zip_code": text(r"^\d{3}xx$"),
    "addr_state": text(r"^[A-Z]{2}$"),
    "dti": Float(validate=Range(0.0, 100.0)),
    "delinq_2yrs": count(100),
    "earliest_cr_line": text(MONTH),
    "fico_range_low": count(850, 300),
    "fico_range_high": count(850, 300),
    "inq_last_6mths": count(100),
    "mths_since_last_delinq": count(1200),
    "open_acc": count(1000),
    "pub_rec": count(1000),
    "revol_bal": money(1e9),
    "revol_util": Float(validate=Range(0.0, 1000.0)),
    "total_acc": count(1000),
    "application_type": choice(APPLICATION_TYPES),
    "issue_d": text(MONTH),
    "schema_version": Integer(validate=OneOf([SCHEMA_VERSION])),
}


def applicant_schema() -> type[Schema]:
    """Return the ApplicantIn schema: required and nullable exactly as the validator's field table says."""
    for name, field in APPLICANT_FIELDS.items():
        field.required = strict_key_required(name)
        field.allow_none = not strict_value_required(name)
    return cast("type[Schema]", Schema.from_dict(dict(APPLICANT_FIELDS), name="ApplicantIn"))


ApplicantIn = applicant_schema()
ApplicantIn.__doc__ = (
    "The canonical applicant record. Fields the model or the decision policy reads are required "
    "(null where unknown and allowed); the others may be absent, meaning null. No other key."
)


class BatchIn(Schema):
    """A batch of 1 to 1,000 applicants."""

    applicants = List(Nested(ApplicantIn), required=True, validate=Length(1, 1000))


class ReasonOut(Schema):
    """A principal reason: stable code and plain text (docs/reason_codes.md)."""

    code = String(required=True)
    text = String(required=True)


class ChallengerOut(Schema):
    """The challenger model's shadow result: it never decides (present only when a challenger is configured)."""

    model_version = String(required=True)
    probability_of_default = Float(required=True, validate=Range(0.0, 1.0))
    decision = String(required=True, validate=OneOf(DECISIONS))


class EvaluationOut(Schema):
    """The Risk API's answer for one applicant."""

    application_id = String(required=True)
    probability_of_default = Float(required=True, validate=Range(0.0, 1.0))
    probability_of_payoff = Float(required=True, validate=Range(0.0, 1.0))
    decision = String(required=True, validate=OneOf(DECISIONS))
    reasons = List(Nested(ReasonOut), required=True, validate=Length(0, 4))
    model_version = String(required=True)
    policy_version = String(required=True)
    challenger = Nested(ChallengerOut)


class BatchProblem(Schema):
    """Why the applicant at ``index`` of the request was not evaluated."""

    index = Integer(required=True)
    field = String(required=True, allow_none=True)
    reason = String(required=True)
    detail = String(required=True)


class BatchOut(Schema):
    """One result slot per requested applicant, in request order; null where the applicant is invalid."""

    results = List(Nested(EvaluationOut, allow_none=True), required=True)
    problems = List(Nested(BatchProblem), required=True)


class ModelOut(Schema):
    """Metadata of the served model and the active decision policy."""

    model_version = String(required=True)
    trained_at = String()
    code_version = String()
    sklearn_version = String()
    estimator = Dict()
    artifact = Dict()
    decision_mix_holdout = Dict()
    decision_mix_out_of_time = Dict()
    pipeline_mix_holdout = Dict()
    pipeline_mix_out_of_time = Dict()
    prescreen_policy = String()
    policy_tuning = Dict()
    training_data = Dict()
    features = Dict()
    coefficients = Dict(keys=String(), values=Float())
    metrics = Dict()
    policy = Dict(required=True)
    challenger = Dict(allow_none=True, metadata={"description": "the model scored in shadow, or null"})
    reason_codes = Dict(keys=String(), values=String())


class StatusOut(Schema):
    """Liveness or readiness."""

    status = String(required=True)
    model_version = String()


# The one problem document (loanrisk.problems), plus the first invalid parameter named on top for the SubmitBolt.
PROBLEM_SCHEMA: dict[str, Any] = {
    **problems.SCHEMA,
    "properties": {
        **problems.SCHEMA["properties"],
        "field": {"type": "string", "nullable": True, "description": "the first invalid parameter's field"},
        "reason": {"type": "string", "description": "the first invalid parameter's reason code"},
        "index": {"type": "integer", "minimum": 0, "description": "the first invalid applicant's batch index"},
    },
}
