"""Cleaning and validation: every raw LendingClub format, the strict JSON contract, junk rows and outcomes."""

from __future__ import annotations

import csv
import json
import math

import pytest

from adapters.settings import SAMPLES, default_data_dir
from loanrisk.applicant import FIELD_NAMES, Applicant
from loanrisk.cleaning import (
    FIELDS,
    REASONS,
    Rejection,
    applicant_from_json,
    clean_record,
    is_junk_row,
    loan_outcome,
    parse_json_line,
)

RAW_ROW = {  # a real row of lending_club_sample.csv (id 90134693), trimmed to the columns that matter
    "id": "90134693",
    "member_id": "",
    "loan_amnt": "6000.0",
    "funded_amnt": "6000.0",
    "term": " 36 months",
    "int_rate": "9.49",
    "installment": "192.17",
    "grade": "B",
    "sub_grade": "B2",
    "emp_title": "MEDICAL ASSISTANT",
    "emp_length": "10+ years",
    "home_ownership": "RENT",
    "annual_inc": "60000.0",
    "verification_status": "Not Verified",
    "issue_d": "Sep-2016",
    "loan_status": "Fully Paid",
    "pymnt_plan": "n",
    "purpose": "credit_card",
    "title": "Credit card refinancing",
    "zip_code": "070xx",
    "addr_state": "NJ",
    "dti": "15.99",
    "delinq_2yrs": "1.0",
    "earliest_cr_line": "Aug-1998",
    "fico_range_low": "675.0",
    "fico_range_high": "679.0",
    "inq_last_6mths": "0.0",
    "mths_since_last_delinq": "7.0",
    "open_acc": "22.0",
    "pub_rec": "3.0",
    "revol_bal": "7326.0",
    "revol_util": "18.1",
    "total_acc": "35.0",
    "total_pymnt": "6734.81",
    "recoveries": "0.0",
    "last_pymnt_d": "Mar-2019",
    "application_type": "Individual",
    "hardship_flag": "N",
    "debt_settlement_flag": "N",
}


def raw(**changes: object) -> dict[str, object]:
    """Return the raw row with some columns changed."""
    return RAW_ROW | changes


def cleaned(**changes: object) -> Applicant:
    """Clean the changed raw row and insist that it was accepted."""
    result = clean_record(raw(**changes))
    assert isinstance(result, Applicant), result
    return result


def rejected(result: object) -> Rejection:
    """Insist that result is a rejection with a catalogued reason."""
    assert isinstance(result, Rejection), result
    assert result.reason in REASONS
    return result


def test_real_row_cleans_to_typed_record() -> None:
    a = cleaned()
    assert (a.id, a.loan_amnt, a.term, a.int_rate, a.emp_length) == ("90134693", 6000.0, 36, 9.49, 10)
    assert (a.issue_d, a.earliest_cr_line, a.fico_range_low, a.delinq_2yrs) == ("2016-09", "1998-08", 675, 1)


def test_post_origination_columns_and_label_are_dropped() -> None:
    record = cleaned().to_dict()
    assert set(record) == set(FIELD_NAMES)
    assert not {"loan_status", "total_pymnt", "recoveries", "last_pymnt_d", "hardship_flag"} & set(record)


@pytest.mark.parametrize(
    ("value", "expected"), [("13.56%", 13.56), ("13.56", 13.56), (" 13.56 % ", 13.56), (13.56, 13.56)]
)
def test_int_rate_with_or_without_percent_sign(value: object, expected: float) -> None:
    assert cleaned(int_rate=value).int_rate == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(" 36 months", 36), (" 60 months", 60), ("36", 36), (60, 60), (36.0, 36)]
)
def test_term_formats(value: object, expected: int) -> None:
    assert cleaned(term=value).term == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10+ years", 10), ("< 1 year", 0), ("1 year", 1), ("7 years", 7), ("n/a", None), ("", None), (4, 4)],
)
def test_emp_length_formats(value: object, expected: int | None) -> None:
    assert cleaned(emp_length=value).emp_length == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Dec-2015", "2015-12"), ("Jan-1971", "1971-01"), ("2015-12", "2015-12"), ("2015-12-01", "2015-12")],
)
def test_month_formats(value: str, expected: str) -> None:
    assert cleaned(issue_d=value, earliest_cr_line=value).issue_d == expected


@pytest.mark.parametrize("value", ["Dex-2015", "13/2015", "2015-13", "yesterday", "Dec-15"])
def test_bad_dates_are_rejected(value: str) -> None:
    result = rejected(clean_record(raw(earliest_cr_line=value)))
    assert (result.reason, result.field) == ("BAD_DATE", "earliest_cr_line")


@pytest.mark.parametrize(
    "field", ["emp_title", "emp_length", "title", "dti", "mths_since_last_delinq", "revol_util", "issue_d"]
)
def test_empty_optional_fields_become_none(field: str) -> None:
    assert getattr(cleaned(**{field: ""}), field) is None


@pytest.mark.parametrize("field", ["id", "loan_amnt", "term", "int_rate", "grade", "annual_inc", "fico_range_low"])
@pytest.mark.parametrize("empty", ["", "   ", None])
def test_empty_required_fields_are_missing(field: str, empty: object) -> None:
    result = rejected(clean_record(raw(**{field: empty})))
    assert (result.reason, result.field) == ("MISSING_FIELD", field)


@pytest.mark.parametrize("sentinel", ["999", "999.0", "-1", 999])
def test_dti_sentinels_mean_unknown(sentinel: object) -> None:
    assert cleaned(dti=sentinel).dti is None


def test_zero_income_is_a_fact_not_an_error() -> None:
    assert cleaned(annual_inc="0.0").annual_inc == 0.0


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("loan_amnt", "-5000", "OUT_OF_RANGE"),
        ("loan_amnt", "lots", "BAD_NUMBER"),
        ("loan_amnt", "nan", "BAD_NUMBER"),
        ("loan_amnt", float("inf"), "BAD_NUMBER"),
        ("loan_amnt", True, "BAD_TYPE"),
        ("loan_amnt", [6000], "BAD_TYPE"),
        ("term", " 48 months", "OUT_OF_RANGE"),
        ("int_rate", "250%", "OUT_OF_RANGE"),
        ("annual_inc", "-1", "OUT_OF_RANGE"),
        ("dti", "1500", "OUT_OF_RANGE"),
        ("fico_range_low", "950", "OUT_OF_RANGE"),
        ("open_acc", "2.5", "BAD_NUMBER"),
        ("emp_length", "11 years", "OUT_OF_RANGE"),
        ("grade", "H", "UNKNOWN_CATEGORY"),
        ("purpose", "yacht", "UNKNOWN_CATEGORY"),
        ("home_ownership", "CASTLE", "UNKNOWN_CATEGORY"),
        ("zip_code", "07030", "BAD_FORMAT"),
        ("id", "has space; DROP", "BAD_FORMAT"),
        ("sub_grade", "A3", "INCONSISTENT"),
        ("fico_range_high", "600", "INCONSISTENT"),
        ("emp_title", "x" * 300, "OUT_OF_RANGE"),
        ("schema_version", 99, "UNSUPPORTED_VERSION"),
    ],
)
def test_impossible_values_are_rejected_naming_the_field(field: str, value: object, reason: str) -> None:
    result = rejected(clean_record(raw(**{field: value})))
    assert (result.reason, result.field) == (reason, field)


def test_lenient_repairs_case_money_and_aliases() -> None:
    a = cleaned(
        grade="b", sub_grade="b2", home_ownership="rent", application_type="JOINT", loan_amnt="$6,000", addr_state="nj"
    )
    assert (a.grade, a.sub_grade, a.home_ownership, a.application_type, a.loan_amnt, a.addr_state) == (
        "B",
        "B2",
        "RENT",
        "Joint App",
        6000.0,
        "NJ",
    )


@pytest.mark.parametrize(
    "row",
    [
        {"id": "Notes offered by Prospectus (https://www.lendingclub.com/info/prospectus.action)"},
        {"id": "Loans that do not meet the credit policy", "loan_amnt": ""},
        {"id": "Total amount funded in policy code 1: 1443412975", "loan_amnt": None},
        {"id": "Total amount funded in policy code 2: 511988838"},
        {"id": "", "loan_amnt": "", "term": ""},
        {"id": "", "loan_amnt": None},
    ],
)
def test_notes_footer_divider_and_blank_rows_are_junk(row: dict[str, object]) -> None:
    assert is_junk_row(row)
    assert rejected(clean_record(row)).reason == "JUNK_ROW"


def test_a_loan_row_is_not_junk() -> None:
    assert not is_junk_row(RAW_ROW)


def test_canonical_json_round_trips_strictly() -> None:
    a = cleaned()
    assert applicant_from_json(json.loads(json.dumps(a.to_dict()))) == a
    assert clean_record(a.to_dict()) == a


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        ({"loan_amnt": "6000"}, "BAD_TYPE", "loan_amnt"),
        ({"int_rate": "9.49%"}, "BAD_TYPE", "int_rate"),
        ({"loan_amnt": math.nan}, "BAD_NUMBER", "loan_amnt"),
        ({"dti": math.inf}, "BAD_NUMBER", "dti"),
        ({"loan_amnt": 10**400}, "BAD_NUMBER", "loan_amnt"),
        ({"dti": 999.0}, "OUT_OF_RANGE", "dti"),
        ({"issue_d": "Sep-2016"}, "BAD_DATE", "issue_d"),
        ({"grade": "b"}, "UNKNOWN_CATEGORY", "grade"),
        ({"term": True}, "BAD_TYPE", "term"),
        ({"emp_length": "10+ years"}, "BAD_TYPE", "emp_length"),
        ({"id": 90134693}, "BAD_TYPE", "id"),
        ({"grade": " B"}, "BAD_FORMAT", "grade"),
        ({"loan_status": "Fully Paid"}, "UNKNOWN_FIELD", "loan_status"),
        ({"schema_version": 2}, "UNSUPPORTED_VERSION", "schema_version"),
        ({"grade": None}, "MISSING_FIELD", "grade"),
    ],
)
def test_strict_json_refuses_anything_not_canonical(change: dict[str, object], reason: str, field: str) -> None:
    result = rejected(applicant_from_json(cleaned().to_dict() | change))
    assert (result.reason, result.field) == (reason, field)


def test_strict_json_requires_every_key() -> None:
    record = cleaned().to_dict()
    del record["dti"]
    assert rejected(applicant_from_json(record)).field == "dti"


@pytest.mark.parametrize("data", [[1, 2], "text", 3, None])
def test_strict_json_requires_an_object(data: object) -> None:
    assert rejected(applicant_from_json(data)).reason == "NOT_AN_OBJECT"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"id": "G1", "loan_amnt": 10', "BAD_JSON"),
        (b"\xff\xfe{", "BAD_JSON"),
        ("", "BAD_JSON"),
        (b"[1, 2, 3]", "NOT_AN_OBJECT"),
        (b'"just text"', "NOT_AN_OBJECT"),
        (b" " * 70_000, "TOO_LARGE"),
    ],
)
def test_json_lines_that_are_not_records(payload: bytes | str, reason: str) -> None:
    assert rejected(parse_json_line(payload)).reason == reason


def test_an_integer_beyond_float_range_is_a_bad_number_not_a_crash() -> None:
    line = json.dumps(cleaned().to_dict()).replace('"loan_amnt": 6000.0', '"loan_amnt": ' + "9" * 400)
    result = rejected(parse_json_line(line))
    assert (result.reason, result.field) == ("BAD_NUMBER", "loan_amnt")


def test_json_line_with_units_is_repaired() -> None:
    record = cleaned().to_dict() | {"int_rate": "9.49%", "term": " 36 months", "loan_amnt": "6000"}
    assert parse_json_line(json.dumps(record).encode()) == cleaned()


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("Charged Off", 1),
        ("Does not meet the credit policy. Status:Charged Off", 1),
        ("Fully Paid", 0),
        ("Does not meet the credit policy. Status:Fully Paid", 0),
        ("Current", None),
        ("Late (31-120 days)", None),
        ("In Grace Period", None),
        ("", None),
    ],
)
def test_loan_outcome(status: str, outcome: int | None) -> None:
    assert loan_outcome(status) == outcome


@pytest.mark.parametrize("name", SAMPLES)
def test_every_row_of_the_shared_samples_cleans(name: str) -> None:
    data_dir = default_data_dir()
    if data_dir is None or not (data_dir / name).exists():
        pytest.skip("shared LendingClub samples not present")
    with open(data_dir / name, newline="", encoding="utf-8") as handle:
        results = [clean_record(row) for row in csv.DictReader(handle)]
    refused = [r for r in results if isinstance(r, Rejection)]
    assert results
    assert not refused, refused[:3]
    assert all(applicant_from_json(a.to_dict()) == a for a in results)


@pytest.mark.parametrize(
    ("field", "raw", "kept"),
    [
        ("emp_title", " Nurse ", "Nurse"),
        ("title", "\tCar loan\n", "Car loan"),
        ("emp_title", "  ", None),
        ("title", "", None),
    ],
)
def test_strict_json_trims_free_text(field: str, raw: str, kept: str | None) -> None:
    result = applicant_from_json(cleaned().to_dict() | {field: raw})
    assert isinstance(result, Applicant)
    assert getattr(result, field) == kept


@pytest.mark.parametrize("field", [name for name, rule in FIELDS.items() if not rule.scored])
def test_strict_json_treats_an_absent_unscored_field_as_null(field: str) -> None:
    record = cleaned().to_dict()
    del record[field]
    result = applicant_from_json(record)
    assert isinstance(result, Applicant)
    assert getattr(result, field) is None
    assert applicant_from_json(cleaned().to_dict() | {field: None}) == result


@pytest.mark.parametrize("field", [name for name, rule in FIELDS.items() if rule.scored])
def test_strict_json_requires_every_scored_key(field: str) -> None:
    record = cleaned().to_dict()
    del record[field]
    assert (rejected(applicant_from_json(record)).reason, rejected(applicant_from_json(record)).field) == (
        "MISSING_FIELD",
        field,
    )


def test_lenient_path_still_requires_what_the_record_store_needs() -> None:
    assert rejected(clean_record(cleaned().to_dict() | {"home_ownership": ""})).field == "home_ownership"


def test_the_2007_2011_file_cleans_except_its_four_rows_without_income() -> None:
    data_dir = default_data_dir()
    if data_dir is None or not (data_dir / "lending_club_2007_2011.csv").exists():
        pytest.skip("lending_club_2007_2011.csv not present")
    with open(data_dir / "lending_club_2007_2011.csv", newline="", encoding="utf-8") as handle:
        refused = [r for r in map(clean_record, csv.DictReader(handle)) if isinstance(r, Rejection)]
    assert [(r.reason, r.field) for r in refused] == [("MISSING_FIELD", "annual_inc")] * 4
