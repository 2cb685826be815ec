"""How a batch tuple's ``items`` field crosses Storm: one JSON-encoded string, not a nested list.

Storm's ShellBolt parses every multilang message into json-smart objects and serialises them again for the
next bolt. A batch of up to 500 applicants as nested lists made the worker JVM build and walk thousands of
objects per tuple on every hop; as one string field, Java only unescapes and escapes one string (and Kryo
between workers sends one String). The Python side encodes the items once with orjson when it emits, and
decodes them when the tuple arrives (``FastMultilang.read_tuple``), so bolts see the same list as before.
A list still arrives as a list (tests feed them; a topology submitted before this change emits them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

# Positions of a batch tuple's fields (bolts.common.BATCH_FIELDS: shard, items).
BATCH_ARITY = 2
ITEMS = 1
# The decision bolt's stream of pre-screen declines (to the save bolt).
DECLINED_STREAM = "declined"
# The streams whose tuples are batches: each bolt's default stream (filter, decision, submit) and the declines.
# (The spout's default stream carries a list of records, never a string, so it is left as it is.)
BATCH_STREAMS = frozenset({"default", DECLINED_STREAM})


def encode(items: Sequence[Any]) -> str:
    """Return a batch's items as the one string that travels in the tuple's ``items`` field."""
    return orjson.dumps(items).decode("utf-8")


def decode(items: str | list[Any]) -> list[Any]:
    """Return a batch's items from its ``items`` field (an encoded string, or already a list)."""
    if isinstance(items, str):
        decoded: list[Any] = orjson.loads(items)
        return decoded
    return items


def decode_values(values: list[Any], stream: str) -> list[Any]:
    """Return a tuple's values with its items decoded when it is a batch tuple."""
    if stream in BATCH_STREAMS and len(values) == BATCH_ARITY and isinstance(values[ITEMS], str):
        return [values[0], decode(values[ITEMS])]
    return values
