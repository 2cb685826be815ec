"""Generate realistic applicants as LendingClub CSV or canonical JSON lines, with optional injected dirt.

    python -m jobs.generate --count N --format csv|jsonl --out PATH --seed S [--dirt-rate R]
                            [--shift income=-0.2,grade_e=+0.2,dti=+0.3]

Distributions and correlations come from models/generator_params.json (fitted on the training loans by
jobs.fit_generator): grade drives sub-grade, interest rate, term, FICO, verification, inquiries, income
level and the default probability; income drives the loan amount; installment follows from amount, rate
and term. Sampling is vectorised with numpy, in chunks, so 1,000,000 applicants take seconds.

CSV is LendingClub's raw format (" 36 months", "10+ years", "Dec-2015", counts as "1.0") with loan_status
(Charged Off / Fully Paid, drawn from the fitted default model); JSON lines are canonical applicant records.
Ids are "G<seed>-<n>": real LendingClub ids are all digits, so they never collide.

With --dirt-rate R a fraction R of the lines is made dirty and PATH.dirt.jsonl lists each one:
{"line", "id", "kind", "expect": "reject"|"accept", "sha256"} (see DIRT_KINDS). The same seed gives the
same clean applicants whatever the dirt rate.

With --shift the fitted distributions are moved before sampling, so input drift can be shown and tested
(`make drift`): ``income=-0.2`` scales every income by 0.8 (the loan amount follows income as fitted),
``dti=+0.3`` scales debt-to-income by 1.3, ``grade_e=+0.2`` adds 20 points of probability to grade E (the
grade shares are then renormalised; sub-grade, rate, FICO and the rest follow the grade as fitted).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from jobs.settings import ROOT
from loanrisk.applicant import FIELD_NAMES, GRADES, SCHEMA_VERSION

PARAMS_PATH = ROOT / "models" / "generator_params.json"
CHUNK = 100_000
MAX_COUNT = 10_000_000
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CSV_COLUMNS = (
    "id",
    "loan_amnt",
    "term",
    "int_rate",
    "installment",
    "grade",
    "sub_grade",
    "emp_title",
    "emp_length",
    "home_ownership",
    "annual_inc",
    "verification_status",
    "issue_d",
    "loan_status",
    "purpose",
    "title",
    "zip_code",
    "addr_state",
    "dti",
    "delinq_2yrs",
    "earliest_cr_line",
    "fico_range_low",
    "fico_range_high",
    "inq_last_6mths",
    "mths_since_last_delinq",
    "open_acc",
    "pub_rec",
    "revol_bal",
    "revol_util",
    "total_acc",
    "application_type",
)
JSON_COLUMNS = FIELD_NAMES

# kind -> (expect, formats it applies to). "accept" dirt is repaired by cleaning; "reject" must dead-letter.
DIRT_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "units_in_strings": ("accept", ("jsonl", "csv")),  # "13.56%", " 36 months", "10+ years" as strings
    "padded_lowercase": ("accept", ("jsonl", "csv")),  # " rent ", "b" for categories
    "empty_optional": ("accept", ("jsonl", "csv")),  # "" for emp_title / dti / revol_util
    "dti_sentinel": ("accept", ("jsonl", "csv")),  # dti 999: not computable
    "missing_id": ("reject", ("jsonl", "csv")),
    "missing_required": ("reject", ("jsonl", "csv")),  # a required field absent or empty
    "out_of_range": ("reject", ("jsonl", "csv")),  # negative amount, FICO 950, 48-month term ...
    "bad_number": ("reject", ("jsonl", "csv")),  # "ten thousand"
    "unknown_category": ("reject", ("jsonl", "csv")),  # grade "H", purpose "yacht"
    "duplicate_id": ("reject", ("jsonl", "csv")),  # an earlier id with other content
    "truncated_json": ("reject", ("jsonl",)),
    "invalid_json": ("reject", ("jsonl",)),
    "not_an_object": ("reject", ("jsonl",)),
    "truncated_row": ("reject", ("csv",)),  # the row stops before application_type
    "junk_row": ("reject", ("csv",)),  # a LendingClub footer line
}


@dataclass(frozen=True)
class Column:
    """One generated column: values plus a mask of unknowns (None when always known)."""

    kind: str  # "cat" (values index vocab), "float", "int", "month" (months since year 0), "text"
    values: Any
    null: np.ndarray | None = None
    vocab: Sequence[Any] = ()
    decimals: int = 2


def parse_shift(text: str) -> dict[str, float] | str:
    """Parse "income=-0.2,grade_e=+0.2,dti=+0.3" into {name: amount}, or return why it is invalid."""
    shift: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, amount = part.partition("=")
        name = name.strip().lower()
        if name not in SHIFTABLE:
            return f"cannot shift {name!r}: choose from {', '.join(sorted(SHIFTABLE))}"
        try:
            shift[name] = float(amount)
        except ValueError:
            return f"shift of {name} must be a number, got {amount!r}"
        if name in ("income", "dti") and shift[name] <= -1.0:
            return f"shift of {name} must be above -1 (a scale factor of 1 + shift)"
    return shift


SHIFTABLE = frozenset({"income", "dti"} | {f"grade_{g.lower()}" for g in GRADES})


def shifted(p: dict[str, Any], shift: dict[str, float]) -> dict[str, Any]:
    """Return generator parameters with the shift applied (the input is not changed)."""
    out: dict[str, Any] = json.loads(json.dumps(p))
    if "income" in shift:
        for g in out["log_income_by_grade"].values():
            g["mean"] += float(np.log1p(shift["income"]))
    if "dti" in shift:
        out["dti"] = {g: [q * (1.0 + shift["dti"]) for q in qs] for g, qs in out["dti"].items()}
    grades = {g: max(w + shift.get(f"grade_{g.lower()}", 0.0), 0.0) for g, w in out["grade"].items()}
    total = sum(grades.values())
    out["grade"] = {g: w / total for g, w in grades.items()}
    return out


def load_params(path: Path = PARAMS_PATH) -> dict[str, Any]:
    params: dict[str, Any] = json.loads(path.read_text())
    return params


# ---------------------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------------------


def categorical(rng: np.random.Generator, pmf: dict[str, float], n: int) -> tuple[np.ndarray, list[str]]:
    """Draw n category indices from a probability table; return (indices, vocabulary)."""
    vocab = list(pmf)
    p = np.array([pmf[k] for k in vocab], dtype=float)
    return rng.choice(len(vocab), size=n, p=p / p.sum()), vocab


def from_quantiles(rng: np.random.Generator, q: Sequence[float], n: int) -> np.ndarray:
    """Draw n values by inverse-CDF interpolation of 0..100 % quantiles."""
    return np.interp(rng.random(n), np.linspace(0, 1, len(q)), q)


def per_grade(
    rng: np.random.Generator, grade: np.ndarray, table: dict[str, Any], draw: Any, out: np.ndarray
) -> np.ndarray:
    """Fill out[i] with draw(rng, table[g], count) for the rows of each grade g."""
    for gi, g in enumerate(GRADES):
        rows = np.flatnonzero(grade == gi)
        if len(rows):
            out[rows] = draw(rng, table.get(g) or next(iter(table.values())), len(rows))
    return out


def pmf_values(rng: np.random.Generator, pmf: dict[str, float], n: int) -> np.ndarray:
    """Draw n numeric values (float, NaN for "null") from a probability table keyed by str(value)."""
    idx, vocab = categorical(rng, pmf, n)
    values: np.ndarray = np.array([np.nan if k == "null" else float(k) for k in vocab])[idx]
    return values


def sample_credit(rng: np.random.Generator, p: dict[str, Any], n: int) -> dict[str, np.ndarray]:
    """Draw grade, sub-grade, rate, term, FICO, income, amount and installment, correlated as fitted."""
    grade = rng.choice(
        len(GRADES), size=n, p=np.array([p["grade"].get(g, 0.0) for g in GRADES]) / sum(p["grade"].values())
    )
    sub_vocab = [f"{g}{k}" for g in GRADES for k in range(1, 6)]
    sub = np.zeros(n, dtype=np.int64)
    for gi, g in enumerate(GRADES):
        rows = np.flatnonzero(grade == gi)
        if len(rows):
            idx, vocab = categorical(rng, p["sub_grade"][g], len(rows))
            sub[rows] = np.array([sub_vocab.index(v) for v in vocab])[idx]
    rates = [
        p["int_rate"].get(s) or p["int_rate"][min(p["int_rate"], key=lambda k: abs(sub_vocab.index(k) - i))]
        for i, s in enumerate(sub_vocab)
    ]
    mean, sd = np.array([r["mean"] for r in rates])[sub], np.array([r["sd"] for r in rates])[sub]
    low, high = np.array([r["min"] for r in rates])[sub], np.array([r["max"] for r in rates])[sub]
    int_rate = np.round(np.clip(rng.normal(mean, sd), low, high), 2)
    term60 = rng.random(n) < np.array([p["term60"].get(g, 0.2) for g in GRADES])[grade]
    fico = per_grade(rng, grade, p["fico_low"], pmf_values, np.zeros(n)).astype(np.int64)
    inc = p["log_income_by_grade"]
    log_inc = rng.normal(
        np.array([inc[g]["mean"] for g in GRADES])[grade], np.array([inc[g]["sd"] for g in GRADES])[grade]
    )
    income = np.round(np.clip(np.exp(log_inc), 4_000, 3_000_000), -2)
    fit = p["income_loan"]
    loan = np.exp(fit["a"] + fit["b"] * np.log(income) + rng.normal(0, fit["sigma"], n))
    loan = np.round(np.clip(loan, 1_000, 40_000) / 25) * 25
    months = np.where(term60, 60, 36)
    r = int_rate / 1200
    installment = np.round(loan * r / (1 - (1 + r) ** -months), 2)
    income[rng.random(n) < p["zero_income_rate"]] = 0.0
    return {
        "grade": grade,
        "sub": sub,
        "sub_vocab": np.array(sub_vocab),
        "int_rate": int_rate,
        "term60": term60,
        "fico": fico,
        "income": income,
        "loan": loan,
        "installment": installment,
    }


def sample_history(
    rng: np.random.Generator, p: dict[str, Any], grade: np.ndarray, income: np.ndarray, n: int
) -> dict[str, Any]:
    """Draw dti, delinquencies, inquiries, accounts, revolving balance and utilisation."""
    dti = np.round(per_grade(rng, grade, p["dti"], from_quantiles, np.zeros(n)), 2)
    dti_null = (rng.random(n) < p["dti_null_rate"]) | (income == 0)
    delinq = pmf_values(rng, p["delinq_2yrs"], n)
    mths = np.round(from_quantiles(rng, p["mths_since_last_delinq"], n))
    mths_null = (rng.random(n) < p["mths_since_last_delinq_null_rate"]) & (delinq == 0)
    mths = np.where(delinq > 0, np.minimum(mths, rng.integers(0, 24, n)), mths)
    open_acc = np.maximum(np.round(from_quantiles(rng, p["open_acc"], n)), 1)
    total_acc = open_acc + np.round(from_quantiles(rng, p["closed_acc"], n))
    revol_bal = np.round(income * from_quantiles(rng, p["revol_bal_to_income"], n))
    revol_util = np.round(from_quantiles(rng, p["revol_util"], n), 1)
    inq = per_grade(rng, grade, p["inq_last_6mths"], pmf_values, np.zeros(n))
    return {
        "dti": dti,
        "dti_null": dti_null,
        "delinq": delinq,
        "mths": mths,
        "mths_null": mths_null,
        "open_acc": open_acc,
        "total_acc": total_acc,
        "revol_bal": revol_bal,
        "revol_util": revol_util,
        "inq": inq,
        "pub_rec": pmf_values(rng, p["pub_rec"], n),
    }


def default_probability(p: dict[str, Any], credit: dict[str, np.ndarray], hist: dict[str, Any]) -> np.ndarray:
    """Return P(charged off) per row from the fitted logistic model (grade intercept + standardized features)."""
    d = p["default"]
    income = np.maximum(credit["income"], 1000.0)
    dti = np.where(hist["dti_null"], d["dti_median"], hist["dti"])
    x = np.column_stack(
        [dti, np.log(income), credit["fico"], credit["term60"], hist["inq"], np.minimum(credit["loan"] / income, 2.0)]
    )
    z = (x - np.array(d["mean"])) / np.array(d["sd"])
    logit = np.array([d["grade_intercept"][g] for g in GRADES])[credit["grade"]] + z @ np.array(d["weights"])
    probability: np.ndarray = 1 / (1 + np.exp(-logit))
    return probability


def month_index(yyyy_mm: str) -> int:
    """Return "YYYY-MM" as months since year 0."""
    return int(yyyy_mm[:4]) * 12 + int(yyyy_mm[5:7]) - 1


def sample_chunk(rng: np.random.Generator, p: dict[str, Any], ids: list[str]) -> dict[str, Column]:
    """Draw one chunk of applicants as columns."""
    n = len(ids)
    c = sample_credit(rng, p, n)
    h = sample_history(rng, p, c["grade"], c["income"], n)
    issue_idx, issue_vocab = categorical(rng, p["issue_d"], n)
    issue = np.array([month_index(m) for m in issue_vocab])[issue_idx]
    earliest = issue - np.maximum(np.round(from_quantiles(rng, p["credit_age_months"], n)), 12).astype(np.int64)
    bad = rng.random(n) < default_probability(p, c, h)
    purpose_idx, purposes = categorical(rng, p["purpose"], n)
    title_vocab = [p["title_by_purpose"].get(k) for k in purposes]
    titles = dict(p["emp_title"].items())
    total = sum(titles.values())
    emp_title_idx, emp_vocab = categorical(rng, {t: w / total for t, w in titles.items()}, n)
    state_idx, states = categorical(rng, p["addr_state"], n)
    zips = sorted({z for zs in p["zip_by_state"].values() for z in zs})
    zip_idx = np.zeros(n, dtype=np.int64)
    for si, s in enumerate(states):  # pick uniformly among the state's zip prefixes
        rows = np.flatnonzero(state_idx == si)
        options = np.array([zips.index(z) for z in p["zip_by_state"][s]])
        zip_idx[rows] = options[rng.integers(0, len(options), len(rows))]
    emp_len_idx, emp_len_vocab = categorical(rng, p["emp_length"], n)
    grade_vocab = list(GRADES)
    ver = np.zeros(n, dtype=np.int64)
    ver_vocab = ["Not Verified", "Source Verified", "Verified"]
    per_grade(
        rng,
        c["grade"],
        p["verification_status"],
        lambda r, t, k: np.array([ver_vocab.index(v) for v in t])[categorical(r, t, k)[0]],
        ver,
    )
    home_idx, homes = categorical(rng, p["home_ownership"], n)
    app_idx, app_types = categorical(rng, p["application_type"], n)
    return {
        "id": Column("text", ids),
        "loan_amnt": Column("float", c["loan"]),
        "term": Column("cat", c["term60"].astype(np.int64), vocab=(36, 60)),
        "int_rate": Column("float", c["int_rate"]),
        "installment": Column("float", c["installment"]),
        "grade": Column("cat", c["grade"], vocab=grade_vocab),
        "sub_grade": Column("cat", c["sub"], vocab=list(c["sub_vocab"])),
        "emp_title": Column("cat", emp_title_idx, null=rng.random(n) < p["emp_title_null_rate"], vocab=emp_vocab),
        "emp_length": Column("cat", emp_len_idx, vocab=[None if k == "null" else int(k) for k in emp_len_vocab]),
        "home_ownership": Column("cat", home_idx, vocab=homes),
        "annual_inc": Column("float", c["income"]),
        "verification_status": Column("cat", ver, vocab=ver_vocab),
        "issue_d": Column("month", issue),
        "loan_status": Column("cat", bad.astype(np.int64), vocab=("Fully Paid", "Charged Off")),
        "purpose": Column("cat", purpose_idx, vocab=purposes),
        "title": Column("cat", purpose_idx, vocab=title_vocab),
        "zip_code": Column("cat", zip_idx, vocab=zips),
        "addr_state": Column("cat", state_idx, vocab=states),
        "dti": Column("float", h["dti"], null=h["dti_null"]),
        "delinq_2yrs": count_column(h["delinq"]),
        "earliest_cr_line": Column("month", earliest),
        "fico_range_low": Column("int", c["fico"]),
        "fico_range_high": Column("int", c["fico"] + 4),
        "inq_last_6mths": count_column(h["inq"]),
        "mths_since_last_delinq": Column("int", h["mths"], null=h["mths_null"]),
        "open_acc": Column("int", h["open_acc"]),
        "pub_rec": count_column(h["pub_rec"]),
        "revol_bal": Column("float", h["revol_bal"]),
        "revol_util": Column("float", h["revol_util"], decimals=1),
        "total_acc": Column("int", h["total_acc"]),
        "application_type": Column("cat", app_idx, vocab=app_types),
        "schema_version": Column("cat", np.zeros(n, dtype=np.int64), vocab=(SCHEMA_VERSION,)),
    }


# ---------------------------------------------------------------------------------------------------------
# Formatting: every column becomes a list of ready-made tokens, then rows are joined.
# ---------------------------------------------------------------------------------------------------------


def csv_token(value: Any, name: str) -> str:
    """Format one vocabulary value the way LendingClub's raw CSV writes it."""
    if value is None:
        return ""
    if name == "term":
        return f" {value} months"
    if name == "emp_length":
        return (
            "< 1 year" if value == 0 else "1 year" if value == 1 else "10+ years" if value == 10 else f"{value} years"
        )
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([value])
    return out.getvalue()


def month_tokens(months: np.ndarray, fmt: str) -> list[str]:
    """Format months-since-year-0 as "YYYY-MM" (jsonl, quoted) or "Mon-YYYY" (csv)."""
    lo, hi = int(months.min()), int(months.max())
    table = [
        f'"{m // 12:04d}-{m % 12 + 1:02d}"' if fmt == "jsonl" else f"{MONTH_NAMES[m % 12]}-{m // 12}"
        for m in range(lo, hi + 1)
    ]
    return list(map(table.__getitem__, (months - lo).tolist()))


def count_column(values: np.ndarray) -> Column:
    """Return a count column whose NaN draws (the real loans' unknown counts, "null" in the fit) are null."""
    unknown = np.isnan(values)
    return Column("int", np.where(unknown, 0, values), null=unknown if unknown.any() else None)


def tokens(name: str, col: Column, fmt: str, prefix: str = "") -> list[str]:
    """Format one column as a list of CSV or JSON tokens (categories carry the prefix; others do not)."""
    null = "null" if fmt == "jsonl" else ""
    if col.kind == "text":  # ids: letters, digits and '-' only, so quoting needs no escaping
        return [f'"{v}"' for v in col.values] if fmt == "jsonl" else list(col.values)
    if col.kind == "cat":
        vocab = [prefix + (json.dumps(v) if fmt == "jsonl" else csv_token(v, name)) for v in col.vocab]
        out = list(map(vocab.__getitem__, col.values.tolist()))
        null = prefix + null
    elif col.kind == "month":
        out = month_tokens(col.values, fmt)
    elif col.kind == "int" and fmt == "jsonl":
        out = list(map(str, col.values.astype(np.int64).tolist()))
    else:  # floats, and counts in CSV, which LendingClub writes as "1.0"
        out = list(map(float.__repr__, np.round(col.values.astype(float), col.decimals).tolist()))
    if col.null is not None:
        out = [null if unknown else token for token, unknown in zip(out, col.null.tolist(), strict=True)]
    return out


def csv_lines(cols: dict[str, Column]) -> list[str]:
    return [",".join(row) for row in zip(*(tokens(c, cols[c], "csv") for c in CSV_COLUMNS), strict=True)]


def jsonl_lines(cols: dict[str, Column]) -> list[str]:
    """Join the columns into canonical JSON lines (compact separators)."""
    parts: list[Any] = []
    for i, name in enumerate(JSON_COLUMNS):
        prefix = ("{" if i == 0 else ",") + json.dumps(name) + ":"
        if cols[name].kind == "cat":
            parts.append(tokens(name, cols[name], "jsonl", prefix))
        else:
            parts.append(repeat(prefix))
            parts.append(tokens(name, cols[name], "jsonl"))
    return ["".join(row) + "}" for row in zip(*parts, strict=False)]  # the prefixes repeat without end


# ---------------------------------------------------------------------------------------------------------
# Dirt
# ---------------------------------------------------------------------------------------------------------


def dirty_json(kind: str, record: dict[str, Any], rng: np.random.Generator, earlier_id: str | None) -> tuple[str, Any]:
    """Return (line, id) of a JSON record made dirty in the given way."""
    rid = record["id"]
    if kind == "units_in_strings":
        record |= {
            "int_rate": f"{record['int_rate']}%",
            "term": f" {record['term']} months",
            "loan_amnt": str(record["loan_amnt"]),
        }
    elif kind == "padded_lowercase":
        record |= {"home_ownership": f" {record['home_ownership'].lower()} ", "grade": record["grade"].lower()}
    elif kind == "empty_optional":
        record |= {"emp_title": "", "dti": "", "revol_util": ""}
    elif kind == "dti_sentinel":
        record["dti"] = 999
    elif kind == "missing_id":
        del record["id"]
        rid = None
    elif kind == "missing_required":
        field = ("loan_amnt", "grade", "annual_inc", "int_rate")[rng.integers(4)]
        if rng.random() < 0.5:
            del record[field]
        else:
            record[field] = ""
    elif kind == "out_of_range":
        record |= (
            {"loan_amnt": -record["loan_amnt"]},
            {"fico_range_low": 950, "fico_range_high": 954},
            {"term": 48},
            {"int_rate": 250.0},
        )[rng.integers(4)]
    elif kind == "bad_number":
        record["loan_amnt"] = "ten thousand"
    elif kind == "unknown_category":
        record |= ({"grade": "H"}, {"purpose": "yacht"})[rng.integers(2)]
    elif kind == "duplicate_id":
        record["id"] = rid = earlier_id
    line = json.dumps(record, separators=(",", ":"))
    if kind == "truncated_json":
        line = line[: int(rng.integers(1, len(line) - 1))]
    elif kind == "invalid_json":
        line = line.replace(":", "=", 1)
    elif kind == "not_an_object":
        line = json.dumps(list(record.values()), separators=(",", ":"))
    return line, rid


CSV_CHANGES: dict[str, tuple[dict[str, str], ...]] = {
    "units_in_strings": ({"loan_amnt": "$%(loan_amnt)s"}, {"int_rate": "%(int_rate)s%%"}),
    "padded_lowercase": ({"home_ownership": " %(home_ownership_lower)s ", "grade": "%(grade_lower)s"},),
    "empty_optional": ({"emp_title": "", "dti": "", "revol_util": ""},),
    "dti_sentinel": ({"dti": "999.0"},),
    "missing_id": ({"id": ""},),
    "missing_required": ({"loan_amnt": ""}, {"grade": ""}, {"annual_inc": ""}, {"int_rate": ""}),
    "out_of_range": (
        {"loan_amnt": "-%(loan_amnt)s"},
        {"fico_range_low": "950.0", "fico_range_high": "954.0"},
        {"term": " 48 months"},
        {"int_rate": "250.0"},
    ),
    "bad_number": ({"loan_amnt": "ten thousand"},),
    "unknown_category": ({"grade": "H"}, {"purpose": "yacht"}),
    "duplicate_id": ({"id": "%(earlier_id)s"},),
}


def dirty_csv(kind: str, fields: list[str], rng: np.random.Generator, earlier_id: str | None) -> tuple[str, Any]:
    """Return (line, id) of a CSV row made dirty in the given way."""
    row = dict(zip(CSV_COLUMNS, fields, strict=True))
    if kind == "junk_row":
        return f"Total amount funded in policy code 1: {int(rng.integers(10**8, 10**9))}", None
    values = fields[: int(rng.integers(1, len(fields) - 1))] if kind == "truncated_row" else None
    if values is None:
        options = CSV_CHANGES[kind]
        context = row | {
            "home_ownership_lower": row["home_ownership"].lower(),
            "grade_lower": row["grade"].lower(),
            "earlier_id": earlier_id or "",
        }
        row |= {k: v % context for k, v in options[int(rng.integers(len(options)))].items()}
        values = [row[k] for k in CSV_COLUMNS]
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue(), row["id"] or None


def pick_kinds(fmt: str) -> list[str]:
    return [k for k, (_, formats) in DIRT_KINDS.items() if fmt in formats]


def inject_dirt(
    lines: list[str], ids: list[str], fmt: str, rate: float, rng: np.random.Generator, first_line: int
) -> list[dict[str, Any]]:
    """Replace a fraction rate of lines with dirty ones in place; return their manifest entries."""
    if rate <= 0:
        return []
    dirty = np.flatnonzero(rng.random(len(lines)) < rate)
    dirty_set = set(dirty.tolist())
    kinds = pick_kinds(fmt)
    manifest = []
    for i in dirty.tolist():
        kind = kinds[int(rng.integers(len(kinds)))]
        earlier = next((ids[j] for j in range(i - 1, max(i - 50, -1), -1) if j not in dirty_set), None)
        if kind == "duplicate_id" and earlier is None:
            kind = "missing_id"
        if fmt == "jsonl":
            line, rid = dirty_json(kind, json.loads(lines[i]), rng, earlier)
        else:
            line, rid = dirty_csv(kind, next(csv.reader([lines[i]])), rng, earlier)
        lines[i] = line
        manifest.append(
            {
                "line": first_line + i,
                "id": rid,
                "kind": kind,
                "expect": DIRT_KINDS[kind][0],
                "sha256": hashlib.sha256(line.encode()).hexdigest(),
            }
        )
    return manifest


# ---------------------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------------------


def generate_lines(
    count: int, fmt: str, seed: int, dirt_rate: float = 0.0, params: dict[str, Any] | None = None, chunk: int = CHUNK
) -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
    """Yield (lines, manifest entries) chunk by chunk; the CSV header is the first line."""
    p = params or load_params()
    rng, dirt_rng = np.random.default_rng([seed, 0]), np.random.default_rng([seed, 1])
    line_no = 1
    if fmt == "csv":
        yield [",".join(CSV_COLUMNS)], []
        line_no = 2
    for start in range(0, count, chunk):
        ids = [f"G{seed}-{i:08d}" for i in range(start, min(start + chunk, count))]
        cols = sample_chunk(rng, p, ids)
        lines = csv_lines(cols) if fmt == "csv" else jsonl_lines(cols)
        yield lines, inject_dirt(lines, ids, fmt, dirt_rate, dirt_rng, line_no)
        line_no += len(lines)


def write(
    count: int, fmt: str, out: Path, seed: int, dirt_rate: float = 0.0, shift: dict[str, float] | None = None
) -> dict[str, Any]:
    """Write count applicants to out (and the dirt manifest next to it); return a summary."""
    dirty = 0
    manifest_path = Path(f"{out}.dirt.jsonl")
    with (
        open(out, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as handle,
        open(manifest_path, "w", encoding="utf-8") if dirt_rate > 0 else io.StringIO() as manifest,
    ):
        params = shifted(load_params(), shift) if shift else None
        for lines, entries in generate_lines(count, fmt, seed, dirt_rate, params):
            handle.write("\n".join(lines) + "\n")
            manifest.writelines(json.dumps(e) + "\n" for e in entries)
            dirty += len(entries)
    return {
        "out": str(out),
        "count": count,
        "format": fmt,
        "seed": seed,
        "dirty": dirty,
        "manifest": str(manifest_path) if dirt_rate > 0 else None,
        "shift": shift or {},
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m jobs.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True, help=f"applicants to write (1..{MAX_COUNT:,})")
    parser.add_argument("--format", choices=("csv", "jsonl"), default="jsonl")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dirt-rate", type=float, default=0.0, help="fraction of dirty lines, 0..1")
    parser.add_argument("--shift", default="", help="move distributions: income=-0.2,grade_e=+0.2,dti=+0.3")
    args = parser.parse_args(argv)
    shift = parse_shift(args.shift)
    if isinstance(shift, str):
        parser.error(shift)
    args.shift = shift
    if not 1 <= args.count <= MAX_COUNT:
        parser.error(f"--count must be 1..{MAX_COUNT}")
    if not 0.0 <= args.dirt_rate <= 1.0:
        parser.error("--dirt-rate must be within 0..1")
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate applicants as asked on the command line and print a JSON summary."""
    args = parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(json.dumps(write(args.count, args.format, args.out, args.seed, args.dirt_rate, args.shift)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
