"""The Risk API with a challenger in shadow: both models score, only the champion decides."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from risk_api import create_app
from risk_api.schemas import EXAMPLE_APPLICANT
from tests.lab_challenger import make_challenger
from tests.tokens import shared_tokens

TOKENS = shared_tokens()
AUTH = TOKENS.config()  # auth on, with the test token store


@pytest.fixture(scope="module")
def challenger_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_challenger(tmp_path_factory.mktemp("challenger"), intercept_shift=3.0)


@pytest.fixture(scope="module")
def shadow_app(challenger_dir: Path) -> Flask:
    return create_app({**AUTH, "TESTING": True, "CHALLENGER_DIR": str(challenger_dir)})


def test_every_evaluation_carries_the_challenger_and_the_champion_decides(shadow_app: Flask) -> None:
    plain = (
        TOKENS.client(create_app({**AUTH, "TESTING": True})).post("/v1/evaluations", json=EXAMPLE_APPLICANT).get_json()
    )
    shadow = TOKENS.client(shadow_app).post("/v1/evaluations", json=EXAMPLE_APPLICANT).get_json()
    challenger = shadow.pop("challenger")
    assert shadow == plain  # the champion's answer is unchanged by the shadow
    assert challenger["model_version"] == "lr2-challenger-test"
    assert challenger["probability_of_default"] > plain["probability_of_default"]  # +3 log-odds
    assert challenger["decision"] == "DECLINE"
    assert plain["decision"] != "DECLINE"


def test_batch_results_carry_the_challenger(shadow_app: Flask) -> None:
    client: FlaskClient = TOKENS.client(shadow_app, "scorer")
    body = client.post("/v1/evaluations/batch", json={"applicants": [EXAMPLE_APPLICANT, {"id": "x"}]}).get_json()
    assert body["results"][0]["challenger"]["model_version"] == "lr2-challenger-test"
    assert body["results"][1] is None


def test_model_endpoint_names_the_challenger(shadow_app: Flask) -> None:
    assert TOKENS.client(shadow_app, "reader").get("/v1/model").get_json()["challenger"] == {
        "model_version": "lr2-challenger-test"
    }


def test_a_challenger_that_fails_its_check_stops_the_start(tmp_path: Path, challenger_dir: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "risk_model.json").write_text((challenger_dir / "risk_model.json").read_text())
    (broken / "risk_model.skops").write_bytes(b"not the artifact")
    with pytest.raises(RuntimeError, match="challenger"):
        create_app({"TESTING": True, "CHALLENGER_DIR": str(broken)})
