"""HBase through its Thrift server (happybase): connections, and reading the decisions table in bulk."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import happybase
from thriftpy2.thrift import TException

Columns = dict[bytes, bytes]
# what an unreachable or failing Thrift server raises (TTransportException is a TException)
ERRORS = (OSError, TException)
# the Thrift server drops a connection idle for 60 s
IDLE_S = 50


def connect(host: str, port: int, timeout_ms: int) -> Any:
    return happybase.Connection(host, port, timeout=timeout_ms)


def has_table(conn: Any, name: str) -> bool:
    return name.encode() in conn.tables()


def scan(conn: Any, table: str, columns: Sequence[bytes], batch_size: int = 2000) -> Iterator[tuple[bytes, Columns]]:
    """Yield (key, columns) of every row of ``table``; nothing when the table does not exist."""
    if has_table(conn, table):
        yield from conn.table(table).scan(columns=list(columns), batch_size=batch_size)


def scan_keys(conn: Any, table: str) -> set[str]:
    """Return every row key of ``table`` (a key-only scan: cheaper than reading many rows by id)."""
    if not has_table(conn, table):
        return set()
    rows = conn.table(table).scan(filter=b"KeyOnlyFilter() AND FirstKeyOnlyFilter()", batch_size=5000)
    return {key.decode("utf-8", errors="replace") for key, _ in rows}


def fetch(
    conn: Any, table: str, ids: Iterable[str], columns: Sequence[bytes] | None = None, chunk: int = 1000
) -> Iterator[tuple[bytes, Columns]]:
    """Yield (key, columns) of the rows of ``ids`` that exist, ``chunk`` keys per Thrift call."""
    if not has_table(conn, table):
        return
    handle, keys = conn.table(table), [i.encode("utf-8") for i in ids]
    for start in range(0, len(keys), chunk):
        yield from handle.rows(keys[start : start + chunk], columns=list(columns) if columns else None)


class KeptConnection:
    """One connection for a long-running reader, opened again after an idle spell or a failure (``drop()``)."""

    def __init__(self, host: str, port: int, timeout_ms: int = 10_000) -> None:
        self.host, self.port, self.timeout_ms = host, port, timeout_ms
        self.conn: Any = None
        self.used_at = 0.0

    def table(self, name: str) -> Any:
        now = time.monotonic()
        if self.conn is not None and now - self.used_at > IDLE_S:
            self.drop()
        if self.conn is None:
            self.conn = connect(self.host, self.port, self.timeout_ms)
        self.used_at = now
        return self.conn.table(name)

    def drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None
