"""Moved to ``adapters.mysql``; kept so that callers not yet switched over keep working."""

from adapters.mysql import (
    SCHEMA,
    Labelled,
    UpsertCounts,
    connect,
    count_applicants,
    ensure_schema,
    fetch_applicant,
    fetch_page,
    iter_applicant_ids,
    iter_labelled,
    open_connection,
    row_hash,
    row_to_applicant,
    upsert_applicants,
)

__all__ = [
    "SCHEMA",
    "Labelled",
    "UpsertCounts",
    "connect",
    "count_applicants",
    "ensure_schema",
    "fetch_applicant",
    "fetch_page",
    "iter_applicant_ids",
    "iter_labelled",
    "open_connection",
    "row_hash",
    "row_to_applicant",
    "upsert_applicants",
]
