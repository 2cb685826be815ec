"""Liveness and readiness."""

from __future__ import annotations

from apiflask import APIBlueprint, Schema
from apiflask.fields import String

from applicant_api.db import database

bp = APIBlueprint("health", __name__, tag="Health")


class Status(Schema):
    """A one-word status."""

    status = String(required=True)


@bp.get("/healthz")
@bp.output(Status)
def healthz() -> dict[str, str]:
    """Answer when the process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
@bp.output(Status)
@bp.doc(responses={503: "The database is unreachable"})
def readyz() -> dict[str, str]:
    """Answer when MySQL answers a query (503 problem otherwise)."""
    with database() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchall()
    return {"status": "ready"}
