"""Fixtures of the bolt tests: sample applicants and spout tuples."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from loanrisk.applicant import Applicant


@pytest.fixture
def applicant() -> dict[str, Any]:
    """Return a canonical applicant dict that passes the pre-screen."""
    return Applicant(
        id="G000042",
        loan_amnt=10_000.0,
        term=36,
        int_rate=9.5,
        installment=320.3,
        grade="B",
        sub_grade="B2",
        emp_title="Nurse",
        emp_length=6,
        home_ownership="MORTGAGE",
        annual_inc=72_000.0,
        verification_status="Verified",
        purpose="debt_consolidation",
        title="Debt consolidation",
        zip_code="070xx",
        addr_state="NJ",
        dti=18.2,
        delinq_2yrs=0,
        earliest_cr_line="2004-03",
        fico_range_low=705,
        fico_range_high=709,
        inq_last_6mths=1,
        mths_since_last_delinq=None,
        open_acc=9,
        pub_rec=0,
        revol_bal=8_200.0,
        revol_util=41.0,
        total_acc=22,
        application_type="Individual",
        issue_d="2015-12",
    ).to_dict()


def spout_values(payload: bytes, key: str | None = None, offset: int = 5, partition: int = 2) -> list[Any]:
    """Return the values LoanKafkaSpout emits for a Kafka record with this payload."""
    try:
        text, utf8 = payload.decode("utf-8"), True
    except UnicodeDecodeError:
        text, utf8 = payload.decode("utf-8", errors="replace"), False
    return [
        "loan-applications",
        partition,
        offset,
        key,
        text,
        1_790_000_000_000 + offset,
        hashlib.sha256(payload).hexdigest(),
        utf8,
    ]


def as_payload(data: Any) -> bytes:
    """Serialise a dict the way the producer does."""
    return json.dumps(data).encode("utf-8")
