"""Applicant Data API through the Flask test client against the real MariaDB (a scratch database per run)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import DataGenerationMethod
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from applicant_api import create_app
from jobs import db
from jobs.generate import generate_lines
from jobs.settings import Settings
from loanrisk.applicant import FIELD_NAMES, Applicant
from loanrisk.cleaning import applicant_from_json
from tests.tokens import TestTokens, shared_tokens

pytestmark = pytest.mark.integration

PROBLEM_JSON = "application/problem+json"


def generated(count: int, seed: int) -> list[Applicant]:
    lines = [line for chunk, _ in generate_lines(count, "jsonl", seed) for line in chunk]
    checked = [applicant_from_json(json.loads(line)) for line in lines]
    applicants = [a for a in checked if isinstance(a, Applicant)]
    assert len(applicants) == count, "the generator wrote an invalid record"
    return applicants


@pytest.fixture(scope="module")
def database(settings: Settings) -> Iterator[str]:
    """Create a scratch database loanrisk_test_<random> with the schema and 250 applicants; drop it after."""
    name = f"{settings.db_name}_test_{uuid.uuid4().hex[:10]}"
    conn = db.connect(settings, database="")
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    conn.close()
    conn = db.connect(settings, database=name)
    db.ensure_schema(conn)
    db.upsert_applicants(conn, [db.Labelled(a, None) for a in generated(250, seed=101)])
    conn.close()
    yield name
    conn = db.connect(settings, database="")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


@pytest.fixture(scope="module")
def app(database: str, api_tokens: TestTokens) -> Any:
    """Return the app bound to the scratch database (no rate limit: the walks below page as fast as they can)."""
    return create_app({**api_tokens.config(RATE_LIMIT_PER_S=0), "TESTING": True, "DB_NAME": database})


@pytest.fixture
def client(app: Any, api_tokens: TestTokens) -> Any:
    return api_tokens.client(app, "reader")


def walk(client: Any, limit: int, max_pages: int = 100_000) -> list[str]:
    """Follow next_cursor until the API has nothing more; return the ids in the order served."""
    ids: list[str] = []
    cursor = None
    for _ in range(max_pages):
        query = {"limit": limit} | ({"after": cursor} if cursor is not None else {})
        body = client.get("/applicants", query_string=query).get_json()
        ids += [item["id"] for item in body["items"]]
        if not body["items"] or body["next_cursor"] in (None, cursor):
            return ids
        cursor = body["next_cursor"]
    raise AssertionError("walk did not end")


def stored_ids(settings: Settings, database: str) -> list[str]:
    conn = db.connect(settings, database=database)
    try:
        return list(db.iter_applicant_ids(conn))
    finally:
        conn.close()


def test_health_and_readiness(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_readyz_is_503_problem_when_mysql_is_unreachable(api_tokens: TestTokens) -> None:
    broken = api_tokens.client(create_app({**api_tokens.config(), "TESTING": True, "DB_PORT": 1, "DB_TIMEOUT_S": 2}))
    response = broken.get("/readyz")
    assert response.status_code == 503
    assert response.content_type == PROBLEM_JSON
    assert broken.get("/applicants").status_code == 503


@pytest.mark.parametrize("limit", [1, 7, 100, 1000])
def test_walking_returns_every_applicant_exactly_once(
    client: Any, settings: Settings, database: str, limit: int
) -> None:
    walked = walk(client, limit)
    assert len(walked) == len(set(walked))
    assert sorted(walked) == sorted(stored_ids(settings, database))


def test_page_items_are_canonical_records(client: Any) -> None:
    body = client.get("/applicants", query_string={"limit": 5}).get_json()
    assert body["limit"] == 5
    assert body["has_more"] is True
    assert len(body["items"]) == 5
    for item in body["items"]:
        assert list(item) == list(FIELD_NAMES)
        assert isinstance(applicant_from_json(item), Applicant)


def test_get_one_applicant(client: Any) -> None:
    first = client.get("/applicants", query_string={"limit": 1}).get_json()["items"][0]
    response = client.get(f"/applicants/{first['id']}")
    assert response.status_code == 200
    assert response.get_json() == first


def test_cursor_at_the_end_is_returned_unchanged(client: Any) -> None:
    last = client.get("/applicants", query_string={"after": "999999999999", "limit": 10}).get_json()
    assert last["items"] == []
    assert last["next_cursor"] == "999999999999"
    assert last["has_more"] is False


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1e309"}, "limit"),
        ({"after": "abc"}, "after"),
        ({"after": "-1"}, "after"),
        ({"after": "1" * 40}, "after"),
        ({"after": "1' OR '1'='1"}, "after"),
        ({"after": ""}, "after"),
        ({"limt": 5}, "limt"),
    ],
)
def test_bad_parameters_get_400_problem_naming_them(client: Any, query: dict[str, Any], param: str) -> None:
    response = client.get("/applicants", query_string=query)
    body = response.get_json()
    assert response.status_code == 400
    assert response.content_type == PROBLEM_JSON
    assert body["status"] == 400
    assert param in body["detail"]
    assert [p["field"] for p in body["invalid_params"]] == [param]


@pytest.mark.parametrize(
    ("path", "status"),
    [("/applicants/G0-nope", 404), ("/applicants/bad%20id", 400), ("/applicants/" + "9" * 65, 400), ("/nowhere", 404)],
)
def test_unknown_or_malformed_paths_are_problems(client: Any, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.content_type == PROBLEM_JSON


def test_methods_other_than_get_are_refused(client: Any) -> None:
    response = client.post("/applicants", json={"id": "x"})
    assert response.status_code == 405
    assert response.content_type == PROBLEM_JSON


def test_openapi_document_is_generated_from_the_code(client: Any) -> None:
    spec = client.get("/openapi.json").get_json()
    assert {"/applicants", "/applicants/{applicant_id}", "/healthz", "/readyz"} <= set(spec["paths"])
    applicant = spec["components"]["schemas"]["Applicant"]
    assert set(applicant["properties"]) == set(FIELD_NAMES)


def test_paging_is_complete_while_rows_are_inserted_and_updated(client: Any, settings: Settings, database: str) -> None:
    fresh = generated(3000, seed=202)
    done = threading.Event()
    errors: list[BaseException] = []

    def insert(part: list[Applicant]) -> None:
        """Insert part in small batches from its own connection."""
        conn = db.connect(settings, database=database)
        try:
            for i in range(0, len(part), 40):
                db.upsert_applicants(conn, [db.Labelled(a, None) for a in part[i : i + 40]])
        except BaseException as err:  # noqa: BLE001 (reported to the main thread, which fails the test)
            errors.append(err)
        finally:
            conn.close()

    def update_existing() -> None:
        """Keep changing the label of existing rows (an update must not move a row in the walk)."""
        conn = db.connect(settings, database=database)
        try:
            olds = generated(50, seed=101)  # the ids of the fixture's first 50 rows, with other content
            n = 0
            while not done.is_set():
                n += 1
                db.upsert_applicants(conn, [db.Labelled(a, f"round {n}") for a in olds])
        except BaseException as err:  # noqa: BLE001
            errors.append(err)
        finally:
            conn.close()

    writers = [threading.Thread(target=insert, args=(fresh[k::2],)) for k in range(2)]
    updater = threading.Thread(target=update_existing)
    for t in [*writers, updater]:
        t.start()
    walked: list[str] = []
    cursor, pages_while_inserting = None, 0
    while True:  # walk until the writers are done and a page comes back empty
        query = {"limit": 25} | ({"after": cursor} if cursor is not None else {})
        inserting = any(t.is_alive() for t in writers)
        body = client.get("/applicants", query_string=query).get_json()
        pages_while_inserting += inserting
        walked += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"] if body["next_cursor"] is not None else cursor
        if not body["items"] and not inserting:  # writers done before this read began: nothing can follow it
            break
    done.set()
    for t in [*writers, updater]:
        t.join()
    assert not errors, errors
    assert pages_while_inserting > 10, "the walk did not overlap the inserts"
    assert len(walked) == len(set(walked)), "an applicant was served twice"
    assert sorted(walked) == sorted(stored_ids(settings, database)), "an applicant was skipped"
    assert {a.id for a in fresh} <= set(walked)


@pytest.fixture
def api_schema(app: Any, api_tokens: TestTokens) -> Any:
    """Load the app's own OpenAPI document for schemathesis."""
    return schemathesis.from_wsgi(
        "/openapi.json",
        app,
        headers=api_tokens.headers("reader"),
        data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative],
    )


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_fuzz_against_own_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers=shared_tokens().headers("reader"),
        checks=(not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance),
    )


def test_a_bulk_read_beyond_the_first_page_is_audited_without_applicant_fields(
    client: Any, api_tokens: TestTokens
) -> None:
    before = api_tokens.audit_log.stat().st_size if api_tokens.audit_log.exists() else 0
    first = client.get("/applicants", query_string={"limit": 3}).get_json()
    client.get("/applicants", query_string={"limit": 3, "after": first["next_cursor"]})
    with api_tokens.audit_log.open("rb") as log:
        log.seek(before)
        lines = [json.loads(line) for line in log.read().splitlines()]
    reads = [e for e in lines if e["action"] == "applicants.bulk_read"]
    assert len(reads) == 1  # the first page is not a bulk read
    assert (reads[0]["who"], reads[0]["after"], reads[0]["limit"], reads[0]["returned"]) == (
        "test-reader",
        first["next_cursor"],
        3,
        3,
    )
    assert not set(reads[0]) & set(FIELD_NAMES) - {"id"}
    assert api_tokens.tokens["reader"] not in api_tokens.audit_log.read_text()
