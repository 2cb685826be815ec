"""MySQL (MariaDB) access for applicants: schema, upserts with exact counts, cursor pages, id walks.

Paging order is an insertion sequence `seq`, not the id. Writers allocate `seq` while holding the row lock
of the one-row table `applicant_seq` until they commit, so commits happen in `seq` order and every set of
committed rows a reader can see is a prefix of the sequence: a reader that walks `seq > cursor` never
skips a row inserted while it walks. An update keeps its row's `seq`, so a walk returns each id once.

Float fields are DOUBLE so that the record read back equals the record written (the canonical JSON is the
contract, and its fingerprint must not change by a round trip through the database).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import mysql.connector

from loanrisk.applicant import FIELD_NAMES, Applicant

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS applicants (
        id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        seq BIGINT UNSIGNED NOT NULL COMMENT 'insertion sequence: the paging order',
        loan_amnt DOUBLE NOT NULL,
        term TINYINT UNSIGNED NOT NULL,
        int_rate DOUBLE NOT NULL,
        installment DOUBLE NOT NULL,
        grade CHAR(1) NOT NULL,
        sub_grade CHAR(2) NOT NULL,
        emp_title VARCHAR(255) NULL,
        emp_length TINYINT UNSIGNED NULL,
        home_ownership VARCHAR(16) NOT NULL,
        annual_inc DOUBLE NOT NULL,
        verification_status VARCHAR(32) NOT NULL,
        purpose VARCHAR(32) NOT NULL,
        title VARCHAR(255) NULL,
        zip_code CHAR(5) NULL,
        addr_state CHAR(2) NULL,
        dti DOUBLE NULL,
        delinq_2yrs SMALLINT UNSIGNED NULL,
        earliest_cr_line DATE NULL,
        fico_range_low SMALLINT UNSIGNED NOT NULL,
        fico_range_high SMALLINT UNSIGNED NOT NULL,
        inq_last_6mths SMALLINT UNSIGNED NULL,
        mths_since_last_delinq SMALLINT UNSIGNED NULL,
        open_acc SMALLINT UNSIGNED NULL,
        pub_rec SMALLINT UNSIGNED NULL,
        revol_bal DOUBLE NULL,
        revol_util DOUBLE NULL,
        total_acc SMALLINT UNSIGNED NULL,
        application_type VARCHAR(16) NOT NULL,
        issue_d DATE NULL,
        schema_version SMALLINT UNSIGNED NOT NULL,
        loan_status VARCHAR(64) NULL COMMENT 'training label only, never an input',
        row_hash CHAR(64) CHARACTER SET ascii NOT NULL COMMENT 'sha256 of record + label: tells unchanged rows',
        created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        UNIQUE KEY applicants_seq (seq)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    """CREATE TABLE IF NOT EXISTS applicant_seq (
        one TINYINT UNSIGNED NOT NULL PRIMARY KEY,
        last_seq BIGINT UNSIGNED NOT NULL
    ) ENGINE=InnoDB""",
    "INSERT IGNORE INTO applicant_seq (one, last_seq) VALUES (1, 0)",
)

DatabaseError = mysql.connector.Error  # what callers catch, without importing the driver

_DATE_FIELDS = ("earliest_cr_line", "issue_d")
_COLUMNS = (*FIELD_NAMES, "loan_status", "row_hash")
# Column names and placeholders come from the code (FIELD_NAMES), never from input; values go as parameters.
_INSERT = f"INSERT INTO applicants (seq, {', '.join(_COLUMNS)}) VALUES (%s, {', '.join(['%s'] * len(_COLUMNS))})"  # noqa: S608
_UPDATE = f"UPDATE applicants SET {', '.join(f'{c} = %s' for c in _COLUMNS if c != 'id')} WHERE id = %s"  # noqa: S608
_SELECT = f"SELECT seq, {', '.join(FIELD_NAMES)} FROM applicants"  # noqa: S608
_SELECT_LABELLED = f"SELECT seq, {', '.join(FIELD_NAMES)}, loan_status FROM applicants"  # noqa: S608


@dataclass(frozen=True)
class Labelled:
    """An applicant as stored, with its training label (LendingClub loan_status, or None)."""

    applicant: Applicant
    loan_status: str | None


@dataclass
class UpsertCounts:
    """What an upsert did: rows inserted, updated (content changed) and unchanged."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class DatabaseSettings(Protocol):
    """Where the database is (``adapters.settings.Settings`` is one)."""

    @property
    def db_host(self) -> str: ...
    @property
    def db_port(self) -> int: ...
    @property
    def db_name(self) -> str: ...
    @property
    def db_user(self) -> str: ...
    @property
    def db_password(self) -> str: ...
    @property
    def db_timeout_s(self) -> int: ...


def connect(settings: DatabaseSettings, database: str | None = None) -> Any:
    """Open a connection to ``database``, by default the project's."""
    return open_connection(
        host=settings.db_host,
        port=settings.db_port,
        user=settings.db_user,
        password=settings.db_password,
        database=database or settings.db_name,
        timeout=settings.db_timeout_s,
    )


def open_connection(host: str, port: int, user: str, password: str, database: str, timeout: int) -> Any:
    """Open a MySQL connection (utf8mb4, READ COMMITTED, autocommit off)."""
    conn = mysql.connector.connect(
        host=host,
        port=int(port),
        user=user,
        password=password,
        database=database,
        charset="utf8mb4",
        collation="utf8mb4_unicode_ci",
        autocommit=False,
        connection_timeout=timeout,
    )
    with conn.cursor() as cur:
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    return conn


def ensure_schema(conn: Any) -> None:
    """Create the tables if they do not exist (idempotent)."""
    with conn.cursor() as cur:
        for statement in SCHEMA:
            cur.execute(statement)
    conn.commit()


def row_hash(record: dict[str, Any], loan_status: str | None) -> str:
    """Return the sha256 hex of the record (Applicant.to_dict()) and its label, serialised with sorted keys."""
    body = json.dumps({"applicant": record, "loan_status": loan_status}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _to_sql(name: str, value: Any) -> Any:
    """Convert one record value to its column value ("YYYY-MM" -> first of month)."""
    if name in _DATE_FIELDS and value is not None:
        return dt.date(int(value[:4]), int(value[5:7]), 1)
    return value


def _params(item: Labelled) -> list[Any]:
    """Return the column values of one labelled applicant, in _COLUMNS order."""
    record = item.applicant.to_dict()
    values = [_to_sql(name, record[name]) for name in FIELD_NAMES]
    return [*values, item.loan_status, row_hash(record, item.loan_status)]


def row_to_applicant(row: Sequence[Any]) -> Applicant:
    """Build an Applicant from the FIELD_NAMES columns of a row (dates back to "YYYY-MM")."""
    values = dict(zip(FIELD_NAMES, row, strict=True))
    for name in _DATE_FIELDS:
        if values[name] is not None:
            values[name] = values[name].strftime("%Y-%m")
    return Applicant(**values)


def _existing_hashes(cur: Any, ids: list[str]) -> dict[str, str]:
    """Return id -> row_hash for the ids already stored."""
    marks = ", ".join(["%s"] * len(ids))
    cur.execute(f"SELECT id, row_hash FROM applicants WHERE id IN ({marks})", ids)  # noqa: S608 (placeholders)
    return dict(cur.fetchall())


def upsert_applicants(conn: Any, items: Iterable[Labelled]) -> UpsertCounts:
    """Insert new applicants, update changed ones, leave equal ones alone; one transaction, exact counts."""
    latest = {item.applicant.id: item for item in items}  # a repeated id in one batch: the last one wins
    counts = UpsertCounts()
    if not latest:
        return counts
    with conn.cursor() as cur:
        cur.execute("SELECT last_seq FROM applicant_seq WHERE one = 1 FOR UPDATE")  # serialises writers
        (last_seq,) = cur.fetchone()
        stored = _existing_hashes(cur, list(latest))
        new_rows, changed_rows = [], []
        for item_id, item in latest.items():
            params = _params(item)
            if item_id not in stored:
                last_seq += 1
                new_rows.append([last_seq, *params])
            elif stored[item_id] != params[-1]:
                changed_rows.append([*params[1:], item_id])
            else:
                counts.unchanged += 1
        if new_rows:
            cur.executemany(_INSERT, new_rows)
            cur.execute("UPDATE applicant_seq SET last_seq = %s WHERE one = 1", (last_seq,))
        if changed_rows:
            cur.executemany(_UPDATE, changed_rows)
    conn.commit()
    counts.inserted, counts.updated = len(new_rows), len(changed_rows)
    return counts


def fetch_page(conn: Any, after_seq: int, limit: int) -> list[tuple[int, Applicant]]:
    """Return up to limit (seq, applicant) pairs with seq > after_seq, in seq order."""
    with conn.cursor() as cur:
        cur.execute(f"{_SELECT} WHERE seq > %s ORDER BY seq LIMIT %s", (after_seq, limit))
        rows = cur.fetchall()
    conn.commit()  # end the read so the next page sees rows committed meanwhile
    return [(row[0], row_to_applicant(row[1:])) for row in rows]


def fetch_applicant(conn: Any, applicant_id: str) -> Applicant | None:
    with conn.cursor() as cur:
        cur.execute(f"{_SELECT} WHERE id = %s", (applicant_id,))
        row = cur.fetchone()
    conn.commit()
    return row_to_applicant(row[1:]) if row else None


def count_applicants(conn: Any) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM applicants")
        (total,) = cur.fetchone()
    conn.commit()
    return int(total)


def iter_applicant_ids(conn: Any, batch: int = 10_000) -> Iterator[str]:
    """Yield every stored applicant id once, in insertion order, in constant memory."""
    after = 0
    while True:
        with conn.cursor() as cur:
            cur.execute("SELECT seq, id FROM applicants WHERE seq > %s ORDER BY seq LIMIT %s", (after, batch))
            rows = cur.fetchall()
        conn.commit()
        if not rows:
            return
        after = rows[-1][0]
        yield from (row_id for _, row_id in rows)


def iter_labelled(conn: Any, batch: int = 10_000) -> Iterator[Labelled]:
    """Yield every stored applicant with its label, in insertion order, in constant memory."""
    after = 0
    while True:
        with conn.cursor() as cur:
            cur.execute(f"{_SELECT_LABELLED} WHERE seq > %s ORDER BY seq LIMIT %s", (after, batch))
            rows = cur.fetchall()
        conn.commit()
        if not rows:
            return
        after = rows[-1][0]
        yield from (Labelled(row_to_applicant(row[1:-1]), row[-1]) for row in rows)
