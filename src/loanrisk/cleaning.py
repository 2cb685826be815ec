"""Cleaning and validation of applicant records: raw LendingClub rows and JSON in, Applicant or Rejection out.

Two entry points share one table of field parsers:

* ``clean_record`` is lenient. It accepts a raw LendingClub CSV row (every value a string: " 36 months",
  "13.56%", "10+ years", "Dec-2015", "" for unknown) or a JSON dict (typed values, or strings with units),
  ignores columns that are not part of the applicant (post-origination columns, ``loan_status``, ...), and
  repairs what has one obvious meaning.
* ``applicant_from_json`` is strict. It accepts only the canonical record that ``Applicant.to_dict()`` gives:
  no other key, typed values, dates as "YYYY-MM", categories spelled exactly. Every field the risk model or
  the decision policy uses must be present (null when unknown and nullable); a field neither uses
  (``FieldRule.scored`` false: free text, geography, and categories the model no longer reads) may be
  absent or null, and absent means null. Free text (``emp_title``, ``title``) is trimmed of surrounding
  whitespace, as lenders' rows carry it; every other string must come without it. The Risk API's
  OpenAPI document derives its required list from this same table.

Decisions a lender would take on the real files (see the PROVENANCE notes of the shared samples):

* ``dti`` 999 (and -1) are LendingClub sentinels for "not computable" (e.g. the primary applicant of a joint
  application has little or no income of their own). They become ``None``, not a rejection: the application
  is real and was funded; the model and the pre-screen decide what an unknown ratio means.
* ``annual_inc`` 0 is accepted as 0.0. It occurs on joint applications where the co-borrower carries the
  income. It is a stated fact about the applicant, not a data error; a negative income is OUT_OF_RANGE.
* ``home_ownership`` ANY, OTHER and NONE are real LendingClub categories and are kept.

Rejection reasons (stable codes; ``field`` names the offending field when there is one):

==================== ==========================================================================
JUNK_ROW             a notes/footer/divider/blank row of a raw LendingClub file, not a loan
BAD_JSON             the payload is not valid UTF-8 JSON
NOT_AN_OBJECT        the JSON payload is not an object
TOO_LARGE            the payload is larger than MAX_PAYLOAD_BYTES
MISSING_FIELD        a required field is absent, empty or null
UNKNOWN_FIELD        (strict only) a key that is not a field of the applicant record
BAD_TYPE             a value of the wrong JSON type (bool for a number, list, object, number for text)
BAD_NUMBER           a number that does not parse, is NaN/infinite, or is fractional where whole is needed
OUT_OF_RANGE         a number or text length outside the plausible range for the field
BAD_DATE             a date that is neither "Mon-YYYY" nor "YYYY-MM" (lenient also "YYYY-MM-DD")
BAD_FORMAT           an id, zip code, state or sub-grade that does not match its pattern
UNKNOWN_CATEGORY     a value outside the field's category list (grade, purpose, home_ownership, ...)
INCONSISTENT         fields that contradict each other (sub_grade vs grade, fico high below low)
UNSUPPORTED_VERSION  a schema_version this code does not know
==================== ==========================================================================
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import orjson

from loanrisk.applicant import FIELD_NAMES, GRADES, SCHEMA_VERSION, Applicant

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_TEXT_LENGTH = 255

REASONS = (
    "JUNK_ROW",
    "BAD_JSON",
    "NOT_AN_OBJECT",
    "TOO_LARGE",
    "MISSING_FIELD",
    "UNKNOWN_FIELD",
    "BAD_TYPE",
    "BAD_NUMBER",
    "OUT_OF_RANGE",
    "BAD_DATE",
    "BAD_FORMAT",
    "UNKNOWN_CATEGORY",
    "INCONSISTENT",
    "UNSUPPORTED_VERSION",
)

HOME_OWNERSHIP = ("MORTGAGE", "RENT", "OWN", "ANY", "OTHER", "NONE")
VERIFICATION_STATUS = ("Not Verified", "Source Verified", "Verified")
PURPOSES = (
    "debt_consolidation",
    "credit_card",
    "home_improvement",
    "other",
    "major_purchase",
    "medical",
    "small_business",
    "car",
    "vacation",
    "moving",
    "house",
    "wedding",
    "renewable_energy",
    "educational",
)
APPLICATION_TYPES = ("Individual", "Joint App")
TERMS = (36, 60)
DTI_SENTINELS = (999.0, -1.0)

BAD_STATUSES = ("Charged Off", "Does not meet the credit policy. Status:Charged Off")
GOOD_STATUSES = ("Fully Paid", "Does not meet the credit policy. Status:Fully Paid")

JUNK_PREFIXES = ("notes offered by", "loans that do not meet", "total amount funded", "loans that meet")

_MONTHS = {
    m: i
    for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)
}
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_ZIP_RE = re.compile(r"\d{3}xx")
_STATE_RE = re.compile(r"[A-Z]{2}")
_SUB_GRADE_RE = re.compile(r"[A-G][1-5]")
_MON_YYYY_RE = re.compile(r"([A-Za-z]{3})-(\d{4})")
_YYYY_MM_RE = re.compile(r"(\d{4})-(\d{2})(?:-\d{2})?")
_APPLICATION_TYPE_ALIASES = {"individual": "Individual", "joint app": "Joint App", "joint": "Joint App"}


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a record was refused: a stable reason code, the offending field (or None) and a human detail."""

    reason: str
    field: str | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "field": self.field, "detail": self.detail}


# ---------------------------------------------------------------------------------------------------------
# Scalar parsers. Each takes (field, value, strict) and returns the typed value, None, or a Rejection.
# ---------------------------------------------------------------------------------------------------------

Parser = Callable[[str, object, bool], Any]
Number = TypeVar("Number", int, float)


def _blank(value: object) -> bool:
    """Tell whether a raw value means "unknown": None or an empty/whitespace string."""
    return value is None or (isinstance(value, str) and not value.strip())


def _number(field: str, value: object, strict: bool, unit: str = "") -> float | Rejection:
    """Parse a finite number from a JSON number or (lenient) a string such as "13.56%", "$1,000", " 36 months"."""
    if isinstance(value, bool):
        return Rejection("BAD_TYPE", field, f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float range (JSON allows any length)
            return Rejection("BAD_NUMBER", field, "not a finite number: an integer too large")
    elif isinstance(value, str) and not strict:
        text = value.strip().lower().replace(",", "").lstrip("$")
        if unit and text.endswith(unit):
            text = text[: -len(unit)].strip()
        try:
            number = float(text)
        except ValueError:
            return Rejection("BAD_NUMBER", field, f"not a number: {value[:40]!r}")
    else:
        return Rejection("BAD_TYPE", field, f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        return Rejection("BAD_NUMBER", field, f"not a finite number: {value!r}")
    return number


def _whole(field: str, value: object, strict: bool) -> int | Rejection:
    """Parse a whole number; "3.0" and 3.0 are accepted, 3.5 is BAD_NUMBER."""
    number = _number(field, value, strict)
    if isinstance(number, Rejection):
        return number
    if not number.is_integer():
        return Rejection("BAD_NUMBER", field, f"not a whole number: {value!r}")
    return int(number)


def _in_range(field: str, number: Number, low: float, high: float) -> Number | Rejection:
    """Return number when low <= number <= high, else an OUT_OF_RANGE rejection."""
    if low <= number <= high:
        return number
    return Rejection("OUT_OF_RANGE", field, f"{number!r} is outside [{low:g}, {high:g}]")


def money(low: float, high: float) -> Parser:
    """Make a parser for an amount in dollars within [low, high]."""

    def parse(field: str, value: object, strict: bool) -> float | Rejection:
        if type(value) is float and low <= value <= high:  # the canonical value, as _number and _in_range take it
            return value
        number = _number(field, value, strict)
        return number if isinstance(number, Rejection) else _in_range(field, number, low, high)

    return parse


def percent(low: float, high: float) -> Parser:
    """Make a parser for a percentage ("13.56%" or 13.56) within [low, high]."""

    def parse(field: str, value: object, strict: bool) -> float | Rejection:
        if type(value) is float and low <= value <= high:  # the canonical value, as _number and _in_range take it
            return value
        number = _number(field, value, strict, unit="%")
        return number if isinstance(number, Rejection) else _in_range(field, number, low, high)

    return parse


def count(low: int, high: int) -> Callable[[str, object, bool], int | Rejection]:
    """Make a parser for a whole number within [low, high]."""

    def parse(field: str, value: object, strict: bool) -> int | Rejection:
        if type(value) is int and low <= value <= high:  # the canonical value, as _whole and _in_range take it
            return value
        number = _whole(field, value, strict)
        return number if isinstance(number, Rejection) else _in_range(field, number, low, high)

    return parse


def parse_term(field: str, value: object, strict: bool) -> int | Rejection:
    """Parse the loan term in months: " 36 months", "60", 36."""
    if type(value) is int and value in TERMS:  # the canonical value
        return value
    number = _number(field, value, strict, unit="months")
    if isinstance(number, Rejection):
        return number
    if number not in TERMS:
        return Rejection("OUT_OF_RANGE", field, f"term must be 36 or 60 months, got {value!r}")
    return int(number)


_EMPLOYMENT_YEARS = count(0, 10)


def parse_emp_length(field: str, value: object, strict: bool) -> int | Rejection | None:
    """Parse employment length in years: "10+ years" -> 10, "< 1 year" -> 0, "n/a" -> None, or 0..10."""
    if isinstance(value, str) and not strict:
        text = value.strip().lower()
        if text in ("n/a", "na", "none"):
            return None
        if text.startswith("<"):
            return 0
        value = text.replace("+", "").replace("years", "").replace("year", "").strip()
    return _EMPLOYMENT_YEARS(field, value, strict)


def parse_dti(field: str, value: object, strict: bool) -> float | Rejection | None:
    """Parse debt-to-income in percent; the 999 and -1 sentinels mean "not computable" and become None."""
    if type(value) is float and 0.0 <= value <= 998.99:  # the canonical value (the sentinels lie outside)
        return value
    number = _number(field, value, strict, unit="%")
    if isinstance(number, Rejection):
        return number
    if not strict and number in DTI_SENTINELS:
        return None
    return _in_range(field, number, 0.0, 998.99)


def parse_month(field: str, value: object, strict: bool) -> str | Rejection:
    """Parse a month: "Dec-2015" (lenient), "2015-12" and (lenient) "2015-12-01" -> "2015-12"."""
    return _remembered_month(field, value, strict) if type(value) is str else _month(field, value, strict)


def _month(field: str, value: object, strict: bool) -> str | Rejection:
    """Parse a month as parse_month says (uncached)."""
    if not isinstance(value, str):
        return Rejection("BAD_TYPE", field, f"expected a date string, got {type(value).__name__}")
    text = value.strip()
    match = _MON_YYYY_RE.fullmatch(text)
    if match and not strict and match.group(1).lower() in _MONTHS:
        year, month = int(match.group(2)), _MONTHS[match.group(1).lower()]
    elif (match := _YYYY_MM_RE.fullmatch(text)) and (not strict or len(text) == 7):
        year, month = int(match.group(1)), int(match.group(2))
    else:
        return Rejection("BAD_DATE", field, f"not a month (Mon-YYYY or YYYY-MM): {value[:40]!r}")
    if not (1900 <= year <= 2100 and 1 <= month <= 12):
        return Rejection("BAD_DATE", field, f"impossible month: {value[:40]!r}")
    return f"{year:04d}-{month:02d}"


# A record carries two months out of a few thousand that occur; results (str or frozen Rejection) are immutable.
_remembered_month = functools.lru_cache(maxsize=4096)(_month)


def text(field: str, value: object, _strict: bool) -> str | Rejection:
    """Parse free text: stripped, at most MAX_TEXT_LENGTH characters."""
    if not isinstance(value, str):
        return Rejection("BAD_TYPE", field, f"expected text, got {type(value).__name__}")
    cleaned = value.strip()
    if len(cleaned) > MAX_TEXT_LENGTH:
        return Rejection("OUT_OF_RANGE", field, f"text longer than {MAX_TEXT_LENGTH} characters")
    return cleaned


def pattern(regex: re.Pattern[str], upper: bool = False) -> Callable[[str, object, bool], str | Rejection]:
    """Make a parser for a short code that must match regex (optionally upper-cased when lenient)."""

    def parse(field: str, value: object, strict: bool) -> str | Rejection:
        if not isinstance(value, str):
            return Rejection("BAD_TYPE", field, f"expected text, got {type(value).__name__}")
        code = value if strict else (value.strip().upper() if upper else value.strip())
        if not regex.fullmatch(code):
            return Rejection("BAD_FORMAT", field, f"does not match {regex.pattern}: {value[:40]!r}")
        return code

    return parse


def category(choices: tuple[str, ...], aliases: Mapping[str, str] | None = None) -> Parser:
    """Make a parser for one of choices; lenient matching ignores case and surrounding spaces."""
    folded = {c.lower(): c for c in choices} | dict(aliases or {})
    itself = frozenset(c for c in choices if folded.get(c.strip().lower()) == c)  # both paths return these as given

    def parse(field: str, value: object, strict: bool) -> str | Rejection:
        if type(value) is str and value in itself:
            return value
        if not isinstance(value, str):
            return Rejection("BAD_TYPE", field, f"expected text, got {type(value).__name__}")
        found = (value if value in choices else None) if strict else folded.get(value.strip().lower())
        if found is None:
            return Rejection("UNKNOWN_CATEGORY", field, f"{value[:40]!r} is not one of {', '.join(choices)}")
        return found

    return parse


_ID_CODE = pattern(_ID_RE)


def parse_id(field: str, value: object, strict: bool) -> str | Rejection:
    """Parse the application id: letters, digits, '_' or '-', up to 64 characters (lenient: ints too)."""
    if isinstance(value, int) and not isinstance(value, bool) and not strict:
        value = str(value)
    return _ID_CODE(field, value, strict)


class FieldRule(NamedTuple):
    """How one field of the record is parsed and whether it must be known.

    ``required``: a record must carry a value (lenient path: the record store needs it). ``scored``: the risk
    model or the decision policy reads it, so the strict JSON contract needs its key (and its value when
    required); an unscored field may be absent or null there.
    """

    parse: Parser
    required: bool
    scored: bool


# Field -> rule. Order is the record's order.
FIELDS: dict[str, FieldRule] = {
    "id": FieldRule(parse_id, True, True),
    "loan_amnt": FieldRule(money(1.0, 100_000.0), True, True),
    "term": FieldRule(parse_term, True, True),
    "int_rate": FieldRule(percent(0.01, 50.0), True, True),
    "installment": FieldRule(money(0.01, 10_000.0), True, True),
    "grade": FieldRule(category(GRADES), True, True),
    "sub_grade": FieldRule(pattern(_SUB_GRADE_RE, upper=True), True, True),
    "emp_title": FieldRule(text, False, False),
    "emp_length": FieldRule(parse_emp_length, False, True),
    "home_ownership": FieldRule(category(HOME_OWNERSHIP), True, False),
    "annual_inc": FieldRule(money(0.0, 1e9), True, True),
    "verification_status": FieldRule(category(VERIFICATION_STATUS), True, False),
    "purpose": FieldRule(category(PURPOSES), True, True),
    "title": FieldRule(text, False, False),
    "zip_code": FieldRule(pattern(_ZIP_RE), False, False),
    "addr_state": FieldRule(pattern(_STATE_RE, upper=True), False, False),
    "dti": FieldRule(parse_dti, False, True),
    "delinq_2yrs": FieldRule(count(0, 100), False, True),
    "earliest_cr_line": FieldRule(parse_month, False, True),
    "fico_range_low": FieldRule(count(300, 850), True, True),
    "fico_range_high": FieldRule(count(300, 850), True, True),
    "inq_last_6mths": FieldRule(count(0, 100), False, True),
    "mths_since_last_delinq": FieldRule(count(0, 1200), False, True),
    "open_acc": FieldRule(count(0, 1000), False, False),
    "pub_rec": FieldRule(count(0, 1000), False, True),
    "revol_bal": FieldRule(money(0.0, 1e9), False, False),
    "revol_util": FieldRule(percent(0.0, 1000.0), False, True),
    "total_acc": FieldRule(count(0, 1000), False, True),
    "application_type": FieldRule(category(APPLICATION_TYPES, _APPLICATION_TYPE_ALIASES), True, False),
    "issue_d": FieldRule(parse_month, False, True),
}
TRIMMED_TEXT = ("emp_title", "title")  # free text: surrounding whitespace is trimmed even on the strict path


def strict_key_required(name: str) -> bool:
    """Tell whether the strict JSON contract needs the field's key (schema_version is always needed)."""
    return name == "schema_version" or FIELDS[name].scored


def strict_value_required(name: str) -> bool:
    """Tell whether the strict JSON contract refuses null for the field."""
    return name == "schema_version" or (FIELDS[name].required and FIELDS[name].scored)


# ---------------------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------------------


def is_junk_row(raw: Mapping[str, object]) -> bool:
    """Tell whether a raw LendingClub row is a notes/footer/divider/blank row rather than a loan."""
    if all(_blank(v) for v in raw.values()):
        return True
    first = raw.get("id")
    if not isinstance(first, str):
        return False
    words = first.strip().lower()
    return words.startswith(JUNK_PREFIXES) or (" " in words and _blank(raw.get("loan_amnt")))


class _Step(NamedTuple):
    """A field as ``_build`` walks it: FIELDS' rule with what the strict contract says of it, looked up once."""

    name: str
    parse: Parser
    required: bool  # the lenient path needs a value
    strict_required: bool  # the strict path refuses null (strict_value_required)
    trimmed: bool  # free text, trimmed on the strict path too (TRIMMED_TEXT)


_STEPS = tuple(
    _Step(name, rule.parse, rule.required, strict_value_required(name), name in TRIMMED_TEXT)
    for name, rule in FIELDS.items()
)


def _field_value(value: object, step: _Step, strict: bool) -> Any:
    """Parse one raw value with its field's parser; absent or blank values become None or MISSING_FIELD."""
    name = step.name
    if strict and step.trimmed and isinstance(value, str):
        value = value.strip() or None
    blank = value is None if strict else _blank(value)
    if blank:
        needed = step.strict_required if strict else step.required
        return Rejection("MISSING_FIELD", name, f"{name} is required") if needed else None
    if strict and isinstance(value, str) and value != value.strip():
        return Rejection("BAD_FORMAT", name, "surrounding whitespace")
    return step.parse(name, value, strict)


def _cross_check(values: dict[str, Any]) -> Rejection | None:
    """Check the rules that involve two fields."""
    if values["sub_grade"][0] != values["grade"]:
        return Rejection(
            "INCONSISTENT", "sub_grade", f"sub_grade {values['sub_grade']} is not in grade {values['grade']}"
        )
    if values["fico_range_high"] < values["fico_range_low"]:
        return Rejection("INCONSISTENT", "fico_range_high", "fico_range_high is below fico_range_low")
    return None


def _build(raw: Mapping[str, object], strict: bool) -> Applicant | Rejection:
    """Parse every field of raw, then cross-check, into an Applicant or the first Rejection."""
    values: dict[str, Any] = {}
    get = raw.get
    for step in _STEPS:
        name = step.name
        value = get(name)
        # only None and text can be blank, padded or trimmed: any other value goes straight to its parser
        value = (
            _field_value(value, step, strict)
            if value is None or isinstance(value, str)
            else step.parse(name, value, strict)
        )
        if isinstance(value, Rejection):
            return value
        values[name] = value
    problem = _cross_check(values)
    return problem if problem else Applicant(**values)


def clean_record(raw: Mapping[str, object]) -> Applicant | Rejection:
    """Clean a raw LendingClub CSV row or a loosely typed JSON dict into an Applicant, or say why not."""
    if is_junk_row(raw):
        return Rejection("JUNK_ROW", None, f"not a loan row: {str(raw.get('id'))[:60]!r}")
    version = raw.get("schema_version")
    if not _blank(version) and version not in (SCHEMA_VERSION, str(SCHEMA_VERSION)):
        return Rejection("UNSUPPORTED_VERSION", "schema_version", f"unknown schema_version {version!r}")
    return _build(raw, strict=False)


_FIELD_SET = frozenset(FIELD_NAMES)
_STRICT_KEYS = tuple(name for name in FIELD_NAMES if strict_key_required(name))  # in record order


def applicant_from_json(data: object) -> Applicant | Rejection:
    """Validate the canonical applicant JSON (as Applicant.to_dict() gives it) strictly into an Applicant."""
    if not isinstance(data, Mapping):
        return Rejection("NOT_AN_OBJECT", None, f"expected a JSON object, got {type(data).__name__}")
    unknown = [] if _FIELD_SET.issuperset(data) else sorted(set(data) - _FIELD_SET, key=str)
    if unknown:
        return Rejection(
            "UNKNOWN_FIELD", str(unknown[0])[:64], f"not a field of the applicant record: {str(unknown[0])[:64]!r}"
        )
    missing = [name for name in _STRICT_KEYS if name not in data]
    if missing:
        return Rejection("MISSING_FIELD", missing[0], f"{missing[0]} is required (null when unknown)")
    version = data["schema_version"]
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        return Rejection("UNSUPPORTED_VERSION", "schema_version", f"unknown schema_version {version!r}")
    return _build(data, strict=True)


def loads_json(raw: str | bytes) -> Any:
    """Parse JSON with orjson (3-4x faster than json.loads); whatever orjson refuses, json.loads decides.

    For what orjson accepts the result is json.loads's (the last duplicate key wins, floats correctly rounded).
    orjson reads strict RFC 8259 UTF-8 only: NaN, Infinity, integers over 64 bits, lone surrogates, UTF-16 and
    bad JSON go to json.loads, so they are read, or refused with its message, exactly as before.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def parse_json_line(text: str | bytes) -> Applicant | Rejection:
    """Parse one Kafka/JSON-lines payload: BAD_JSON, NOT_AN_OBJECT, TOO_LARGE, else clean_record."""
    if len(text) > MAX_PAYLOAD_BYTES:
        return Rejection("TOO_LARGE", None, f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
    try:
        data = loads_json(text)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return Rejection("BAD_JSON", None, f"invalid JSON: {str(err)[:120]}")
    if not isinstance(data, dict):
        return Rejection("NOT_AN_OBJECT", None, f"expected a JSON object, got {type(data).__name__}")
    return clean_record(data)


def loan_outcome(loan_status: str) -> int | None:
    """Return 1 for a charged-off (bad) loan, 0 for a fully paid one, None while unresolved or unknown."""
    status = (loan_status or "").strip()
    if status in BAD_STATUSES:
        return 1
    if status in GOOD_STATUSES:
        return 0
    return None
