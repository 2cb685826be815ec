"""The batch tuple's wire form: items as one JSON string, decoded only on batch streams."""

from __future__ import annotations

from typing import Any

import pytest

from bolts import batch_wire

ITEMS: list[Any] = [["G1", '{"id":"G1","dti":"18.2 \\"x\\""}', "loan-applications", 0, 7, 1, "ab" * 32, {"d": None}]]


def test_items_survive_encoding_as_one_string() -> None:
    encoded = batch_wire.encode(ITEMS)
    assert isinstance(encoded, str)
    assert batch_wire.decode(encoded) == ITEMS


def test_a_list_is_read_as_it_is() -> None:
    assert batch_wire.decode(ITEMS) is ITEMS


@pytest.mark.parametrize("stream", ["default", "declined"])
def test_batch_streams_are_decoded(stream: str) -> None:
    assert batch_wire.decode_values([3, batch_wire.encode(ITEMS)], stream) == [3, ITEMS]


@pytest.mark.parametrize(
    ("values", "stream"),
    [
        (["G1", {"reason": "BAD_JSON"}], "dead_letter"),  # a dead letter keeps its dict
        (["G1", "a string that is not a batch"], "dead_letter"),
        ([0, [["loan-applications", 0, 1, "G1", "{}", 1, "ab", True]]], "default"),  # the spout's records
        ([], "__heartbeat"),
    ],
)
def test_other_tuples_are_left_alone(values: list[Any], stream: str) -> None:
    assert batch_wire.decode_values(values, stream) is values
