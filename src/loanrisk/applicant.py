"""The canonical applicant record: one definition, used by every component."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

SCHEMA_VERSION = 1

GRADES = ("A", "B", "C", "D", "E", "F", "G")


@dataclass(frozen=True, slots=True)
class Applicant:
    """A loan application as known at application time, with LendingClub's field names.

    Money is in US dollars, rates and utilisations in percent (13.56 means 13.56 %),
    dates as "YYYY-MM". ``None`` means the value is unknown.
    """

    id: str
    loan_amnt: float
    term: int  # months: 36 or 60
    int_rate: float
    installment: float
    grade: str  # A..G
    sub_grade: str  # A1..G5
    emp_title: str | None
    emp_length: int | None  # years 0..10 (10 means 10+)
    home_ownership: str | None  # None only from the Risk API, where it is optional (not scored)
    annual_inc: float
    verification_status: str | None  # as home_ownership
    purpose: str
    title: str | None
    zip_code: str | None  # "070xx"
    addr_state: str | None
    dti: float | None
    delinq_2yrs: int | None
    earliest_cr_line: str | None  # YYYY-MM
    fico_range_low: int
    fico_range_high: int
    inq_last_6mths: int | None
    mths_since_last_delinq: int | None
    open_acc: int | None
    pub_rec: int | None
    revol_bal: float | None
    revol_util: float | None
    total_acc: int | None
    application_type: str | None  # "Individual" or "Joint App"; as home_ownership
    issue_d: str | None  # YYYY-MM
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dict (field order kept)."""
        # Every field is a scalar, so a shallow read equals dataclasses.asdict at a fraction of its cost.
        return {name: getattr(self, name) for name in FIELD_NAMES}


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Applicant))
