"""Reason codes: the principal factors that raised an applicant's risk, as stable codes with text.

The model is linear in log-odds, so each factor's contribution is exactly
``coefficient x (applicant's value - reference applicant's value)`` summed over the factor's model
columns (a numeric feature and its missing-value indicator, or the one-hot columns of a category).
The reference applicant is the average training applicant. The factors with the largest positive
contributions are the principal reasons for an adverse decision (Regulation B: up to four).

The catalogue below is the contract: codes never change meaning; docs/reason_codes.md is generated
from it (``catalogue_markdown``) and a test keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_REASONS = 4

# Where a factor's value stands against the reference applicant.
ABOVE, BELOW, MISSING, CATEGORY = "above", "below", "missing", "category"


@dataclass(frozen=True, slots=True)
class Reason:
    """One principal reason: a stable code and its plain-language text."""

    code: str
    text: str

    def to_dict(self) -> dict[str, str]:
        """Return the reason as a JSON-ready dict."""
        return {"code": self.code, "text": self.text}


@dataclass(frozen=True, slots=True)
class Contribution:
    """How much one factor added to the log-odds of default against the reference applicant."""

    factor: str
    points: float
    state: str  # ABOVE, BELOW, MISSING or CATEGORY


# code -> text. Append new codes; never reuse or rename one.
CATALOGUE: dict[str, str] = {
    "SUB_GRADE_HIGH_RISK": "loan sub-grade assigned at application indicates high credit risk",
    "SUB_GRADE_LOW_RISK": "loan sub-grade assigned at application indicates low credit risk",
    "INT_RATE_HIGH": "interest rate on the loan is high",
    "INT_RATE_LOW": "interest rate on the loan is low",
    "TERM_LONG": "loan term is 60 months",
    "TERM_SHORT": "loan term is 36 months",
    "LOAN_AMOUNT_HIGH": "requested loan amount is high",
    "LOAN_AMOUNT_LOW": "requested loan amount is low",
    "INCOME_HIGH": "annual income is high",
    "INCOME_LOW": "annual income is low",
    "PAYMENT_TO_INCOME_HIGH": "loan payments are high relative to income",
    "PAYMENT_TO_INCOME_LOW": "loan payments are low relative to income",
    "DTI_HIGH": "debt-to-income ratio is high",
    "DTI_LOW": "debt-to-income ratio is low",
    "DTI_MISSING": "debt-to-income ratio not available",
    "FICO_HIGH": "credit score is high",
    "FICO_LOW": "credit score is low",
    "REVOL_UTIL_HIGH": "revolving credit utilization is high",
    "REVOL_UTIL_LOW": "revolving credit utilization is low",
    "REVOL_UTIL_MISSING": "revolving credit utilization not available",
    "REVOL_BAL_HIGH": "revolving credit balance is high",
    "REVOL_BAL_LOW": "revolving credit balance is low",
    "REVOL_BAL_MISSING": "revolving credit balance not available",
    "INQUIRIES_HIGH": "number of credit inquiries in the last 6 months is high",
    "INQUIRIES_LOW": "few or no credit inquiries in the last 6 months",
    "INQUIRIES_MISSING": "number of recent credit inquiries not available",
    "DELINQUENCIES_HIGH": "delinquencies in the last 2 years",
    "DELINQUENCIES_LOW": "no delinquencies in the last 2 years",
    "DELINQUENCIES_MISSING": "delinquency count for the last 2 years not available",
    "DELINQUENCY_HISTORY": "history of delinquency on the credit report",
    "NO_DELINQUENCY_HISTORY": "no delinquency on the credit report",
    "PUBLIC_RECORDS_HIGH": "derogatory public records on the credit report",
    "PUBLIC_RECORDS_LOW": "no derogatory public records",
    "PUBLIC_RECORDS_MISSING": "public record count not available",
    "OPEN_ACCOUNTS_HIGH": "number of open credit accounts is high",
    "OPEN_ACCOUNTS_LOW": "number of open credit accounts is low",
    "OPEN_ACCOUNTS_MISSING": "number of open credit accounts not available",
    "TOTAL_ACCOUNTS_HIGH": "total number of credit accounts is high",
    "TOTAL_ACCOUNTS_LOW": "limited number of credit accounts",
    "TOTAL_ACCOUNTS_MISSING": "total number of credit accounts not available",
    "CREDIT_HISTORY_LONG": "length of credit history is long",
    "CREDIT_HISTORY_SHORT": "length of credit history is short",
    "CREDIT_HISTORY_MISSING": "length of credit history not available",
    "EMPLOYMENT_LONG": "length of employment is long",
    "EMPLOYMENT_SHORT": "length of employment is short",
    "EMPLOYMENT_MISSING": "length of employment not provided",
    "HOME_OWNERSHIP": "housing status (own, mortgage, rent) is associated with higher risk",
    "INCOME_VERIFICATION": "income verification status is associated with higher risk",
    "LOAN_PURPOSE": "stated purpose of the loan is associated with higher risk",
    "APPLICATION_TYPE": "application type (individual or joint) is associated with higher risk",
}

# model factor -> (code when above the reference, code when below, code when missing)
NUMERIC_FACTORS: dict[str, tuple[str, str, str | None]] = {
    "sub_grade_rank": ("SUB_GRADE_HIGH_RISK", "SUB_GRADE_LOW_RISK", None),
    "int_rate": ("INT_RATE_HIGH", "INT_RATE_LOW", None),
    "term_60": ("TERM_LONG", "TERM_SHORT", None),
    "loan_amnt": ("LOAN_AMOUNT_HIGH", "LOAN_AMOUNT_LOW", None),
    "log_annual_inc": ("INCOME_HIGH", "INCOME_LOW", None),
    "installment_to_income": ("PAYMENT_TO_INCOME_HIGH", "PAYMENT_TO_INCOME_LOW", None),
    "dti": ("DTI_HIGH", "DTI_LOW", "DTI_MISSING"),
    "fico_mid": ("FICO_HIGH", "FICO_LOW", None),
    "revol_util": ("REVOL_UTIL_HIGH", "REVOL_UTIL_LOW", "REVOL_UTIL_MISSING"),
    "log_revol_bal": ("REVOL_BAL_HIGH", "REVOL_BAL_LOW", "REVOL_BAL_MISSING"),
    "inq_last_6mths": ("INQUIRIES_HIGH", "INQUIRIES_LOW", "INQUIRIES_MISSING"),
    "delinq_2yrs": ("DELINQUENCIES_HIGH", "DELINQUENCIES_LOW", "DELINQUENCIES_MISSING"),
    "ever_delinquent": ("DELINQUENCY_HISTORY", "NO_DELINQUENCY_HISTORY", None),
    "pub_rec": ("PUBLIC_RECORDS_HIGH", "PUBLIC_RECORDS_LOW", "PUBLIC_RECORDS_MISSING"),
    "open_acc": ("OPEN_ACCOUNTS_HIGH", "OPEN_ACCOUNTS_LOW", "OPEN_ACCOUNTS_MISSING"),
    "total_acc": ("TOTAL_ACCOUNTS_HIGH", "TOTAL_ACCOUNTS_LOW", "TOTAL_ACCOUNTS_MISSING"),
    "credit_history_years": ("CREDIT_HISTORY_LONG", "CREDIT_HISTORY_SHORT", "CREDIT_HISTORY_MISSING"),
    "emp_length": ("EMPLOYMENT_LONG", "EMPLOYMENT_SHORT", "EMPLOYMENT_MISSING"),
}

CATEGORICAL_FACTORS: dict[str, str] = {
    "home_ownership": "HOME_OWNERSHIP",
    "verification_status": "INCOME_VERIFICATION",
    "purpose": "LOAN_PURPOSE",
    "application_type": "APPLICATION_TYPE",
}


def reason_code(contribution: Contribution) -> str:
    """Return the catalogue code for a factor in the given state."""
    if contribution.state == CATEGORY:
        return CATEGORICAL_FACTORS[contribution.factor]
    above, below, missing = NUMERIC_FACTORS[contribution.factor]
    if contribution.state == MISSING and missing is not None:
        return missing
    return below if contribution.state == BELOW else above


def principal_reasons(contributions: Iterable[Contribution], limit: int = MAX_REASONS) -> list[Reason]:
    """Return up to ``limit`` reasons for the factors that raised the risk most, largest first."""
    adverse = sorted((c for c in contributions if c.points > 0.0), key=lambda c: (-c.points, c.factor))
    reasons: list[Reason] = []
    for contribution in adverse:
        code = reason_code(contribution)
        if all(r.code != code for r in reasons):
            reasons.append(Reason(code, CATALOGUE[code]))
        if len(reasons) == limit:
            break
    return reasons


def catalogue_markdown() -> str:
    """Return the reason-code catalogue as the Markdown table of docs/reason_codes.md."""
    factor_of = {code: f for f, codes in NUMERIC_FACTORS.items() for code in codes if code}
    factor_of |= {code: f for f, code in CATEGORICAL_FACTORS.items()}
    lines = [
        "# Reason codes of the risk model",
        "",
        "Generated from `src/loanrisk/reasons.py` (`catalogue_markdown`); a unit test keeps this file equal to it.",
        "Each evaluation returns up to four of these: the factors whose contribution",
        "`coefficient x (applicant value - reference value)` raised the log-odds of default the most,",
        "against the average training applicant. Codes are stable: new ones are appended, none is reused.",
        "",
        "| code | text | model factor |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{code}` | {text} | `{factor_of[code]}` |" for code, text in CATALOGUE.items()]
    return "\n".join(lines) + "\n"
