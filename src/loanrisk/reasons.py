"""Reason codes: the principal factors that raised an applicant's risk, in words the applicant can be told.

The model is linear in log-odds, so each factor's contribution is exactly
``coefficient x (applicant's value - reference applicant's value)`` summed over the factor's model
columns. The reference applicant is the policy's reference: the average training applicant (a missing
value is imputed with that average, so an unknown value is never a reason). The factors with the
largest positive contributions are the principal reasons for an adverse decision (Regulation B: up to
four), and reasons are given only for adverse decisions (DECLINE and REVIEW), never for an APPROVE.

Every model feature has a documented direction (``features.DIRECTIONAL_SIGNS``) that training enforces,
so each factor has exactly one adverse code: a positive contribution always means the applicant stands
on the risky side of the reference, which is what the code's text says. Two features fold into one
factor where they say the same thing to an applicant: the interest rate is set from the credit grade
(``credit_grade``), and a recent and an older delinquency are both "delinquency".

The catalogue below is the contract: codes never change meaning; docs/reason_codes.md is generated
from it (``catalogue_markdown``) and a test keeps the two equal. Codes of model v1 that are no longer
issued stay listed in ``RETIRED`` so none is ever reused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_REASONS = 4
ADVERSE_DECISIONS = ("DECLINE", "REVIEW")


@dataclass(frozen=True, slots=True)
class Reason:
    """One principal reason: a stable code and its plain-language text."""

    code: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}


@dataclass(frozen=True, slots=True)
class Contribution:
    """How much one factor added to the log-odds of default against the reference applicant."""

    factor: str
    points: float


# code -> text an applicant can be told. Append new codes; never reuse or rename one.
CATALOGUE: dict[str, str] = {
    "SUB_GRADE_HIGH_RISK": "Credit grade of the application indicates high risk",
    "TERM_LONG": "Loan term requested is long (60 months)",
    "LOAN_AMOUNT_HIGH": "Amount of credit requested is too high",
    "INCOME_LOW": "Income insufficient for the amount of credit requested",
    "PAYMENT_TO_INCOME_HIGH": "Loan payments too high relative to income",
    "DTI_HIGH": "Debt-to-income ratio too high",
    "FICO_LOW": "Credit score too low",
    "REVOL_UTIL_HIGH": "Revolving credit balances too high relative to credit limits",
    "INQUIRIES_HIGH": "Too many recent credit inquiries",
    "DELINQUENCIES_HIGH": "Delinquency on past or present credit obligations",
    "PUBLIC_RECORDS_HIGH": "Derogatory public record on the credit report",
    "TOTAL_ACCOUNTS_LOW": "Limited credit experience (few credit accounts)",
    "CREDIT_HISTORY_SHORT": "Length of credit history too short",
    "EMPLOYMENT_SHORT": "Length of employment too short or not stated",
    "SMALL_BUSINESS_PURPOSE": "Loans for a small business carry higher risk",
}

# Codes of model v1 (favourable sides, missing values, nominal categories): never issued again, never reused.
RETIRED: dict[str, str] = {
    "SUB_GRADE_LOW_RISK": "favourable side: not an adverse-action reason",
    "INT_RATE_HIGH": "folded into SUB_GRADE_HIGH_RISK (the rate is set from the grade)",
    "INT_RATE_LOW": "favourable side",
    "TERM_SHORT": "favourable side",
    "LOAN_AMOUNT_LOW": "favourable side",
    "INCOME_HIGH": "favourable side",
    "PAYMENT_TO_INCOME_LOW": "favourable side",
    "DTI_LOW": "favourable side",
    "DTI_MISSING": "an unknown value is imputed with the reference's value",
    "FICO_HIGH": "favourable side",
    "REVOL_UTIL_LOW": "favourable side",
    "REVOL_UTIL_MISSING": "an unknown value is imputed with the reference's value",
    "REVOL_BAL_HIGH": "feature dropped: no defensible direction",
    "REVOL_BAL_LOW": "feature dropped",
    "REVOL_BAL_MISSING": "feature dropped",
    "INQUIRIES_LOW": "favourable side",
    "INQUIRIES_MISSING": "an unknown value is imputed with the reference's value",
    "DELINQUENCIES_LOW": "favourable side",
    "DELINQUENCIES_MISSING": "an unknown value is imputed with the reference's value",
    "DELINQUENCY_HISTORY": "folded into DELINQUENCIES_HIGH",
    "NO_DELINQUENCY_HISTORY": "favourable side",
    "PUBLIC_RECORDS_LOW": "favourable side",
    "PUBLIC_RECORDS_MISSING": "an unknown value is imputed with the reference's value",
    "OPEN_ACCOUNTS_HIGH": "feature dropped: no defensible direction",
    "OPEN_ACCOUNTS_LOW": "feature dropped",
    "OPEN_ACCOUNTS_MISSING": "feature dropped",
    "TOTAL_ACCOUNTS_HIGH": "favourable side",
    "TOTAL_ACCOUNTS_MISSING": "an unknown value is imputed with the reference's value",
    "CREDIT_HISTORY_LONG": "favourable side",
    "CREDIT_HISTORY_MISSING": "an unknown value is imputed with the reference's value",
    "EMPLOYMENT_LONG": "favourable side",
    "EMPLOYMENT_MISSING": "folded into EMPLOYMENT_SHORT",
    "HOME_OWNERSHIP": "feature dropped: housing status has no defensible direction",
    "INCOME_VERIFICATION": "feature dropped: verification status has no defensible direction",
    "LOAN_PURPOSE": "feature dropped: only the small-business purpose is kept (SMALL_BUSINESS_PURPOSE)",
    "APPLICATION_TYPE": "feature dropped: application type has no defensible direction",
}

# model feature -> the reason factor it belongs to
FACTOR_OF_FEATURE: dict[str, str] = {
    "sub_grade_rank": "credit_grade",
    "int_rate": "credit_grade",
    "term_60": "term",
    "loan_amnt": "loan_amount",
    "log_annual_inc": "income",
    "installment_to_income": "payment_to_income",
    "dti": "dti",
    "fico_mid": "credit_score",
    "revol_util": "revolving_utilization",
    "inq_last_6mths": "inquiries",
    "delinq_2yrs": "delinquency",
    "ever_delinquent": "delinquency",
    "pub_rec": "public_records",
    "total_acc": "credit_experience",
    "credit_history_years": "credit_history",
    "employment_years": "employment",
    "small_business": "business_purpose",
}

# reason factor -> its one adverse code
FACTOR_CODES: dict[str, str] = {
    "credit_grade": "SUB_GRADE_HIGH_RISK",
    "term": "TERM_LONG",
    "loan_amount": "LOAN_AMOUNT_HIGH",
    "income": "INCOME_LOW",
    "payment_to_income": "PAYMENT_TO_INCOME_HIGH",
    "dti": "DTI_HIGH",
    "credit_score": "FICO_LOW",
    "revolving_utilization": "REVOL_UTIL_HIGH",
    "inquiries": "INQUIRIES_HIGH",
    "delinquency": "DELINQUENCIES_HIGH",
    "public_records": "PUBLIC_RECORDS_HIGH",
    "credit_experience": "TOTAL_ACCOUNTS_LOW",
    "credit_history": "CREDIT_HISTORY_SHORT",
    "employment": "EMPLOYMENT_SHORT",
    "business_purpose": "SMALL_BUSINESS_PURPOSE",
}


# reason factor -> its Reason, made once (a Reason is frozen, so every evaluation can share it)
FACTOR_REASONS: dict[str, Reason] = {factor: Reason(code, CATALOGUE[code]) for factor, code in FACTOR_CODES.items()}


def principal_reasons(contributions: Iterable[Contribution], limit: int = MAX_REASONS) -> list[Reason]:
    """Return up to ``limit`` reasons for the factors that raised the risk most, largest first."""
    adverse = sorted((c for c in contributions if c.points > 0.0), key=lambda c: (-c.points, c.factor))
    return [FACTOR_REASONS[c.factor] for c in adverse[:limit]]


def for_decision(decision: str, reasons: Iterable[Reason]) -> list[Reason]:
    """Return the reasons an adverse decision states; an APPROVE states none."""
    return list(reasons) if decision in ADVERSE_DECISIONS else []


def catalogue_markdown() -> str:
    """Return the reason-code catalogue as the Markdown of docs/reason_codes.md."""
    features_of = {f: [k for k, v in FACTOR_OF_FEATURE.items() if v == f] for f in FACTOR_CODES}
    factor_of_code = {code: factor for factor, code in FACTOR_CODES.items()}
    lines = [
        "# Reason codes of the risk model",
        "",
        "Generated from `src/loanrisk/reasons.py` (`catalogue_markdown`); a unit test keeps this file equal to it.",
        "An evaluation whose decision is DECLINE or REVIEW states up to four of these: the factors whose",
        "contribution `coefficient x (applicant value - reference value)` raised the log-odds of default the",
        "most, against the policy's reference applicant (the average training applicant). An APPROVE states",
        "none. Every model feature has a direction enforced in training, so a factor can only be a reason when",
        "the applicant stands on its risky side. A code is issued only while one of its features is in the served",
        "model (`GET /v1/model` and models/MODEL_CARD.md list them; training drops a feature whose learned effect",
        "points the wrong way). Codes are stable: new ones are appended, none is reused.",
        "",
        "| code | text (as told to the applicant) | factor | model features |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{code}` | {text} | `{factor_of_code[code]}` | "
        + ", ".join(f"`{f}`" for f in features_of[factor_of_code[code]])
        + " |"
        for code, text in CATALOGUE.items()
    ]
    lines += [
        "",
        "## Retired codes (model v1; never issued again, never reused)",
        "",
        "| code | why |",
        "| --- | --- |",
    ]
    lines += [f"| `{code}` | {why} |" for code, why in RETIRED.items()]
    return "\n".join(lines) + "\n"
