"""``events.dumps`` writes json.dumps's exact bytes (orjson where provably equal) and refuses what it refuses.

The canonical applicant JSON is fingerprinted against rows written earlier, so the reference here is the
serialiser ``events.dumps`` used before orjson: any byte of difference would turn a replay into a duplicate.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import enum
import json
import math
import random
import struct
import uuid
from collections import OrderedDict
from typing import Any

import pytest

from jobs import generate
from loanrisk import events
from loanrisk.applicant import Applicant
from loanrisk.cleaning import clean_record, parse_json_line
from risk_api.schemas import EXAMPLE_APPLICANT

# control characters, JSON's escapes, DEL, C1, no-break and soft hyphen, line/paragraph separators, BOM, noncharacters
SPECIAL_CHARS = "\x00\x01\x08\t\n\x0b\x0c\r\x1f \"'/\\\x7f\x80\x85\xa0\xad\u2028\u2029\ufeff\ufffe\uffff"
SPECIAL_CHARS += "\U0001f600\U0010ffff"


def reference(data: Any) -> bytes:
    """The serialiser events.dumps was before orjson (the bytes of every stored applicant:json)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def outcome(serialise: Any, data: Any) -> tuple[str, Any]:
    """Return ("bytes", the output) or ("error", the exception's type and message)."""
    try:
        return "bytes", serialise(data)
    except (ValueError, TypeError, RecursionError) as exc:
        return "error", (type(exc), str(exc))


def assert_same(data: Any) -> None:
    assert outcome(events.dumps, data) == outcome(reference, data), repr(data)[:300]


def random_float(rng: random.Random) -> float:
    """Return a float of any magnitude: random bits, log-uniform, decimal-looking, or whole."""
    kind = rng.randrange(4)
    if kind == 0:
        return float(struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0])
    if kind == 1:
        return rng.choice((1.0, -1.0)) * 10 ** rng.uniform(-330.0, 308.0)
    if kind == 2:
        return round(10 ** rng.uniform(-6.0, 18.0), rng.randrange(0, 8))
    return float(rng.getrandbits(rng.randrange(1, 70)))


def random_char(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return chr(rng.randrange(0x80))
    if roll < 0.5:
        return rng.choice(SPECIAL_CHARS)
    code = rng.randrange(0x80, 0x110000)
    return chr(code) if not 0xD800 <= code <= 0xDFFF else "\ue000"


def random_text(rng: random.Random) -> str:
    return "".join(random_char(rng) for _ in range(rng.randrange(0, 10)))


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 4 and roll < 0.12:
        return {random_text(rng): random_value(rng, depth + 1) for _ in range(rng.randrange(0, 6))}
    if depth < 4 and roll < 0.22:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    if depth < 4 and roll < 0.25:
        return tuple(random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4)))
    scalars = (None, True, False, rng.randrange(-(2**70), 2**70), rng.randrange(-999, 999), 0.0, -0.0)
    return rng.choice((*scalars, random_float(rng), random_float(rng), random_text(rng), random_text(rng)))


def test_random_floats_of_every_magnitude_are_written_as_before():
    rng = random.Random(20261128)
    for _ in range(30_000):
        number = random_float(rng)
        assert_same(number)
        assert_same({"x": number, "n": [number, -number]})


@pytest.mark.parametrize("edge", [1e-4, 1e16, 1e-5, 1e15, 5e-324, 2.0**53, 2.0**63, 2.0**64, 1.7976931348623157e308])
def test_floats_next_to_the_fast_range_edges_are_written_as_before(edge: float):
    below = above = edge
    for _ in range(300):
        below, above = math.nextafter(below, 0.0), math.nextafter(above, math.inf)
        for number in (below, above, -below, -above):
            assert_same(number)


@pytest.mark.parametrize(
    "number", [0, 1, -1, 2**53 + 1, 2**63 - 1, -(2**63), 2**63, 2**64 - 1, 2**64, -(2**63) - 1, 10**40]
)
def test_integers_up_to_and_beyond_64_bits_are_written_as_before(number: int):
    assert_same(number)
    assert_same({"n": [number]})


def test_every_code_point_is_written_as_before():
    for start in range(0, 0x110000, 0x800):
        chunk = "".join(chr(c) for c in range(start, start + 0x800) if not 0xD800 <= c <= 0xDFFF)
        assert_same(chunk)
        assert_same({chunk[:40]: chunk[40:80]})


def test_random_text_and_nested_records_are_written_as_before():
    rng = random.Random(7)
    for _ in range(8_000):
        assert_same({random_text(rng): random_value(rng) for _ in range(rng.randrange(0, 8))})
        assert_same([random_value(rng), random_value(rng)])


def test_real_canonical_applicants_are_written_as_before_by_the_fast_path():
    lines = [line for chunk, _ in generate.generate_lines(3_000, "jsonl", 11, dirt_rate=0.05) for line in chunk]
    rows = [line for chunk, _ in generate.generate_lines(500, "csv", 12) for line in chunk]
    parsed = [parse_json_line(line) for line in lines]
    parsed += [clean_record(row) for row in csv.DictReader(rows)]
    applicants = [a.to_dict() for a in parsed if isinstance(a, Applicant)]
    assert len(applicants) > 3_000
    for applicant in [*applicants, EXAMPLE_APPLICANT]:
        assert events.applicant_json(applicant) == reference(applicant)
        assert events._plain(applicant, 0)  # the canonical record takes the orjson path


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_still_refused(bad: float):
    for data in (bad, {"dti": bad}, {"a": [1, {"b": (bad,)}]}):
        with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
            events.dumps(data)


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Code(enum.StrEnum):
    A = "a"


class Text(str):
    pass


class Number(float):
    pass


@dataclasses.dataclass
class Point:
    x: int


def circular() -> dict[str, Any]:
    data: dict[str, Any] = {"a": 1}
    data["self"] = data
    return data


@pytest.mark.parametrize(
    "data",
    [
        "lone \ud800 surrogate",
        {"k\udfff": 1},
        {1: "int key", 2.5: "float key", None: "none key", False: "bool key"},
        {1: "a", "b": 2},  # keys of mixed types: json.dumps cannot sort them
        {Text("sub"): 1, "a": 2},
        Text("str subclass"),
        Number(1e16),
        Level.HIGH,
        Code.A,
        Colour.RED,
        OrderedDict([("b", 1), ("a", 2)]),
        dt.datetime(2026, 11, 28, tzinfo=dt.UTC),
        uuid.UUID(int=7),
        Point(1),
        {1, 2},
        b"bytes",
        circular(),
        [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1.5]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    ],
    ids=repr,
)
def test_what_orjson_could_write_differently_is_decided_by_json_dumps(data: Any):
    assert_same(data)
    assert_same({"nested": [data]})
