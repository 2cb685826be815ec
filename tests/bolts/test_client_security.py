"""The bolts' client security settings: the scorer token's source and Kafka's SASL_SSL settings (no service)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bolts.common import kafka_security
from bolts.submit import bearer, scorer_token

PROD_KAFKA = {
    "loanrisk.kafka.security_protocol": "SASL_SSL",
    "loanrisk.kafka.sasl_mechanism": "SCRAM-SHA-512",
    "loanrisk.kafka.ssl_cafile": "/etc/loanrisk/tls/ca.pem",
}


def test_the_scorer_token_comes_from_the_named_env_variable_first(tmp_path: Path) -> None:
    token_file = tmp_path / "scorer.token"
    token_file.write_text("from-file\n")
    conf = {"loanrisk.risk_api.token_file": str(token_file), "loanrisk.risk_api.token_env": "MY_TOKEN"}
    assert scorer_token(conf, {"MY_TOKEN": "from-env"}) == "from-env"
    assert scorer_token(conf, {}) == "from-file"


def test_a_missing_token_file_means_no_token_not_a_crash(tmp_path: Path) -> None:
    assert scorer_token({"loanrisk.risk_api.token_file": str(tmp_path / "absent")}, {}) is None
    assert scorer_token({}, {}) is None
    assert bearer(None) == {}
    assert bearer("t") == {"Authorization": "Bearer t"}


def test_plaintext_kafka_adds_no_settings() -> None:
    assert kafka_security({}, {}) == {}


def test_sasl_ssl_reads_the_credentials_from_the_environment_into_librdkafka_settings() -> None:
    environ = {"LOANRISK_KAFKA_USERNAME": "loanrisk", "LOANRISK_KAFKA_PASSWORD": "s3cret"}
    assert kafka_security(PROD_KAFKA, environ) == {
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": "/etc/loanrisk/tls/ca.pem",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "loanrisk",
        "sasl.password": "s3cret",
    }


def test_sasl_without_credentials_is_refused_naming_the_variables() -> None:
    with pytest.raises(ValueError, match="LOANRISK_KAFKA_PASSWORD"):
        kafka_security(PROD_KAFKA, {"LOANRISK_KAFKA_USERNAME": "loanrisk"})
