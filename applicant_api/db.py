"""The API's MySQL connection: one per request on `g`, closed at teardown; database errors become 503."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import mysql.connector
from apiflask import APIFlask, HTTPError
from flask import current_app, g

from adapters import mysql as store


def get_db() -> Any:
    """Return this request's connection, opening it (and creating the schema once per process) on first use."""
    if "db" not in g:
        cfg = current_app.config
        g.db = store.open_connection(
            cfg["DB_HOST"],
            cfg["DB_PORT"],
            cfg["DB_USER"],
            cfg["DB_PASSWORD"],
            cfg["DB_NAME"],
            timeout=cfg["DB_TIMEOUT_S"],
        )
        if not current_app.extensions.get("applicant_schema_ready"):
            store.ensure_schema(g.db)
            current_app.extensions["applicant_schema_ready"] = True
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        with suppress(mysql.connector.Error):  # a broken connection is gone either way
            conn.close()


@contextmanager
def database() -> Iterator[Any]:
    """Yield the request's connection; turn any database failure into a 503 problem."""
    try:
        yield get_db()
    except mysql.connector.Error as err:
        close_db()
        raise HTTPError(
            503, "The applicant database is unavailable.", extra_data={"reason": type(err).__name__}
        ) from err


def init_app(app: APIFlask) -> None:
    app.teardown_appcontext(close_db)
