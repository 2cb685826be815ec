"""HBase through its Thrift 1 gateway with happybase: a throw-away table, put/get/scan/delete, then drop it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import happybase
import pytest


@pytest.fixture
def connection(settings) -> Iterator[happybase.Connection]:
    """Open a happybase connection with its defaults (buffered transport, binary protocol)."""
    conn = happybase.Connection(settings.hbase_host, settings.hbase_port, timeout=20_000)
    yield conn
    conn.close()


@pytest.fixture
def table(connection: happybase.Connection) -> Iterator[happybase.Table]:
    """Create a uniquely named table with families `a` and `d`; disable and drop it afterwards."""
    name = f"it_{uuid.uuid4().hex[:12]}"
    connection.create_table(name, {"a": {"max_versions": 1}, "d": {"max_versions": 1}})
    yield connection.table(name)
    connection.delete_table(name, disable=True)
    assert name.encode() not in connection.tables()


def test_created_table_is_listed(connection: happybase.Connection, table: happybase.Table) -> None:
    """A new table shows up in the table list with both families."""
    assert table.name in connection.tables()
    assert set(table.families()) == {b"a", b"d"}


def test_put_then_get(table: happybase.Table) -> None:
    """A row written with put is read back cell for cell."""
    cells = {b"a:json": b'{"id": "G1", "grade": "B"}', b"d:decision": b"APPROVE"}
    table.put(b"G1", cells)
    assert table.row(b"G1") == cells
    assert table.row(b"G1", columns=[b"d"]) == {b"d:decision": b"APPROVE"}


def test_put_again_overwrites(table: happybase.Table) -> None:
    """A second put on the same row key replaces the cell (replays are idempotent per row key)."""
    table.put(b"G2", {b"d:decision": b"REVIEW"})
    table.put(b"G2", {b"d:decision": b"DECLINE"})
    assert table.row(b"G2") == {b"d:decision": b"DECLINE"}


def test_batch_put_then_scan_in_key_order(table: happybase.Table) -> None:
    """Rows written in a batch come back from a prefix scan sorted by row key."""
    keys = [b"G07", b"G03", b"G11", b"X01"]
    with table.batch(transaction=True) as batch:
        for key in keys:
            batch.put(key, {b"a:id": key})
    scanned = list(table.scan(row_prefix=b"G"))
    assert scanned == [(k, {b"a:id": k}) for k in sorted(keys) if k.startswith(b"G")]


def test_delete_column_then_row(table: happybase.Table) -> None:
    """Deleting one column keeps the others; deleting the row removes it."""
    table.put(b"G3", {b"a:json": b"{}", b"d:decision": b"APPROVE"})
    table.delete(b"G3", columns=[b"d:decision"])
    assert table.row(b"G3") == {b"a:json": b"{}"}
    table.delete(b"G3")
    assert table.row(b"G3") == {}
