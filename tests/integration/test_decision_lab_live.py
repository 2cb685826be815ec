"""The decision lab against the real stack: re-scoring rows stored in HBase, promotion on the live Risk API."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import happybase
import pytest
import requests

from jobs import rescore as rescore_job
from jobs.settings import ROOT, Settings
from loanrisk import events as ev
from loanrisk.decision import Policy
from loanrisk.rescore import Tally, summary
from risk_api.model import RiskModel, load_model
from risk_api.schemas import EXAMPLE_APPLICANT
from risk_api.service import RiskService, load_policy
from tests.lab_challenger import make_challenger
from tests.lab_rows import generated, stored_rows


@pytest.fixture(scope="module")
def champion() -> RiskService:
    model, policy = load_model(ROOT / "models"), load_policy(ROOT / "config" / "risk_policy.json", {})
    assert isinstance(model, RiskModel), model
    assert isinstance(policy, Policy), policy
    return RiskService(model, policy)


@pytest.fixture
def connection(settings: Settings) -> Iterator[happybase.Connection]:
    conn = rescore_job.hbase_connection(settings)
    yield conn
    conn.close()


@pytest.fixture
def source(connection: happybase.Connection, champion: RiskService) -> Iterator[tuple[str, list[ev.StoredRow]]]:
    """A throw-away copy of loan_applications holding 400 rows written as the SaveBolt writes them."""
    name = f"it_lab_{uuid.uuid4().hex[:10]}"
    connection.create_table(name, {"applicant": {"max_versions": 1}, "decision": {"max_versions": 1}})
    prefix = uuid.uuid4().hex[:6]
    applicants = [a.__class__(**{**a.to_dict(), "id": f"{prefix}-{a.id}"}) for a in generated(400, seed=31)]
    rows = stored_rows(champion, applicants)
    with connection.table(name).batch() as batch:
        for key, cols in rows:
            batch.put(key, cols)
    parsed = [ev.parse_row(k, c) for k, c in rows]
    yield name, [p for p in parsed if isinstance(p, ev.StoredRow)]
    connection.delete_table(name, disable=True)


def test_rescoring_stored_rows_with_the_champion_reproduces_them_and_resumes(
    connection: happybase.Connection, champion: RiskService, source: tuple[str, list[ev.StoredRow]], tmp_path: Path
) -> None:
    name, stored = source
    state_path = tmp_path / "state.json"
    key = rescore_job.candidate_key(champion)
    # an interrupted run: the first 150 rows (in key order) are done, its tally saved
    first = sorted(stored, key=lambda r: r.application_id)[:150]
    partial = rescore_job.State(key, rescore_job.Window(), first[-1].application_id, Tally())
    done = rescore_job.score_batch(
        champion, [(r.application_id.encode(), connection.table(name).row(r.application_id)) for r in first], {}
    )
    partial.tally.add_all(done.outcomes)
    state = rescore_job.run(connection, champion, {}, partial, state_path, batch_size=64, source_table=name)
    report = summary(state.tally)
    assert state.done
    assert report["applicants"] == len(stored)  # each row once: resumed after row 150, nothing twice
    assert report["agreement"] == 1.0
    decision_col = rescore_job.columns_of(key)[0]
    written = dict(connection.table(rescore_job.TABLE).rows([r.application_id.encode() for r in stored]))
    for row in stored:
        if row.decision.decided_by == "MODEL" and row.application_id > first[-1].application_id:
            assert written[row.application_id.encode()][decision_col].decode() == row.decision.decision
    production = connection.table(name).row(stored[0].application_id.encode())
    assert not any(c.startswith(b"c:") for c in production)  # the source table is only read


def post_batches(
    url: str, answers: list[tuple[int, list[str]]], stop: threading.Event, headers: dict[str, str]
) -> None:
    body = {"applicants": [{**EXAMPLE_APPLICANT, "id": f"P{i}"} for i in range(20)]}
    while not stop.is_set():
        try:
            response = requests.post(f"{url}/v1/evaluations/batch", json=body, headers=headers, timeout=(3.05, 30))
            versions = [r["model_version"] for r in response.json()["results"]] if response.ok else []
            answers.append((response.status_code, versions))
        except requests.RequestException as exc:
            answers.append((0, [type(exc).__name__]))


def promote(model_dir: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "jobs.promote", str(model_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return done.stdout


def test_promotion_mid_stream_leaves_no_answer_without_a_model_version(
    settings: Settings, champion: RiskService, tmp_path: Path
) -> None:
    backup = tmp_path / "champion"
    backup.mkdir()
    for name in ("risk_model.skops", "risk_model.json", "MODEL_CARD.md"):
        shutil.copyfile(ROOT / "models" / name, backup / name)
    challenger = make_challenger(tmp_path / "challenger", 0.5, "lr2-promoted-test")
    answers: list[tuple[int, list[str]]] = []
    stop = threading.Event()
    headers = settings.auth_headers("scorer")
    client = threading.Thread(target=post_batches, args=(settings.risk_api_url, answers, stop, headers), daemon=True)
    client.start()
    deadline = time.monotonic() + 240  # every wait below is bounded: a stuck hand-over fails the test
    try:
        while len(answers) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "handed over" in promote(challenger)
        while not any("lr2-promoted-test" in v for _, v in answers[-3:]) and time.monotonic() < deadline:
            time.sleep(0.2)
        served = len(answers)
        while len(answers) < served + 5 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        client.join(timeout=60)
        promote(backup)
    assert all(status == 200 for status, _ in answers), [a for a in answers if a[0] != 200][:3]
    versions = {v for _, vs in answers for v in vs}
    assert versions == {champion.model.version, "lr2-promoted-test"}
    assert all(len(vs) == 20 and all(vs) for _, vs in answers)
