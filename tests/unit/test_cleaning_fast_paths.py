"""The parsers' shortcuts for canonical values decide exactly as their general path does.

The shortcuts (and the month cache) take exact floats, ints and strs only, so a subclass of the same value
walks the general path: both must give the same value of the same type, or the same Rejection.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from jobs import generate
from loanrisk import cleaning
from loanrisk.applicant import Applicant
from loanrisk.cleaning import FIELDS, Rejection

# subclasses named as their base, so that a BAD_TYPE detail ("got float") reads the same
Float: Any = type("float", (float,), {})
Int: Any = type("int", (int,), {})
Text: Any = type("str", (str,), {})


def general(value: Any) -> Any:
    """Return the same value as a subclass instance, which no shortcut takes."""
    kind = type(value)
    return {float: Float, int: Int, str: Text}[kind](value) if kind in (float, int, str) else value


def decided(result: Any) -> Any:
    """Return what a parser decided: the Rejection, or the value with its type (a subclass passed through as given
    counts as its base)."""
    if isinstance(result, Rejection):
        return result.to_dict()
    return {Float: float, Int: int, Text: str}.get(type(result), type(result)), result


def edge_values(rng: random.Random) -> list[Any]:
    numbers: list[Any] = [0, 1, -1, 3, 10, 11, 36, 60, 100, 101, 299, 300, 850, 851, 1000, 1001, 1200, 1201, 999]
    numbers += [0.0, -0.0, 0.01, 0.009, 1.0, 3.0, 3.5, 36.0, 50.0, 50.01, 998.99, 999.0, -1.0, 1000.0, 1000.01]
    numbers += [1e4, 10_000.01, 1e5, 100_000.01, 1e9, 1e9 + 1, math.nan, math.inf, -math.inf, 2**63, 10**30]
    numbers += [math.nextafter(x, d) for x in (0.01, 50.0, 998.99, 1e4, 1e5, 1e9, 0.0) for d in (0.0, math.inf)]
    numbers += [rng.uniform(-10.0, 1.1e9) for _ in range(300)] + [rng.randrange(-5, 1300) for _ in range(300)]
    return numbers


@pytest.mark.parametrize("name", list(FIELDS))
@pytest.mark.parametrize("strict", [False, True])
def test_number_and_count_shortcuts_decide_as_the_general_path(name: str, strict: bool):
    parse = FIELDS[name].parse
    for value in edge_values(random.Random(name)):
        assert decided(parse(name, value, strict)) == decided(parse(name, general(value), strict)), value


@pytest.mark.parametrize("strict", [False, True])
def test_text_shortcuts_and_the_month_cache_decide_as_the_general_path(strict: bool):
    lines = [line for chunk, _ in generate.generate_lines(400, "jsonl", 9) for line in chunk]
    records = [a.to_dict() for a in map(cleaning.parse_json_line, lines) if isinstance(a, Applicant)]
    texts = {str(v) for record in records for v in record.values()}
    texts |= {"", " ", "rent", " RENT ", "Joint", "joint app", "Dec-2015", "dec-2015", "2015-13", "2015-12-01", "B9"}
    for name in FIELDS:
        parse = FIELDS[name].parse
        for text in sorted(texts):
            for _ in range(2):  # the second call of a month answers from the cache
                assert decided(parse(name, text, strict)) == decided(parse(name, general(text), strict)), text
