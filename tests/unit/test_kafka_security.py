"""Kafka client security: the same settings become kafka-python kwargs (jobs), librdkafka config (bolts) and the
Java spout's props."""

from __future__ import annotations

from pathlib import Path

import pytest

from bolts.settings import merged
from jobs import settings as job_settings
from loanrisk.kafka_security import KafkaSecurity, KafkaSecurityError
from tests.unit.test_topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
PROD = KafkaSecurity("SASL_SSL", "SCRAM-SHA-512", "/etc/loanrisk/tls/ca.pem")
CREDENTIALS = {"LOANRISK_KAFKA_USERNAME": "loanrisk", "LOANRISK_KAFKA_PASSWORD": "s3cret"}


def test_plaintext_gives_no_client_settings_on_either_side() -> None:
    assert KafkaSecurity().python_kwargs({}) == {}
    assert KafkaSecurity().librdkafka_config({}) == {}
    assert KafkaSecurity().java_properties() == {}
    assert KafkaSecurity().required_env() == []


def test_sasl_ssl_kwargs_for_kafka_python() -> None:
    assert PROD.python_kwargs(CREDENTIALS) == {
        "security_protocol": "SASL_SSL",
        "ssl_cafile": "/etc/loanrisk/tls/ca.pem",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "loanrisk",
        "sasl_plain_password": "s3cret",
    }


def test_sasl_ssl_config_for_librdkafka() -> None:
    assert PROD.librdkafka_config(CREDENTIALS) == {
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": "/etc/loanrisk/tls/ca.pem",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "loanrisk",
        "sasl.password": "s3cret",
    }
    assert KafkaSecurity("SSL", ssl_cafile="/ca.pem").librdkafka_config({}) == {
        "security.protocol": "SSL",
        "ssl.ca.location": "/ca.pem",
    }


def test_sasl_ssl_props_for_the_java_consumer_keep_credentials_as_worker_env_references() -> None:
    props = PROD.java_properties()
    assert props["security.protocol"] == "SASL_SSL"
    assert props["sasl.mechanism"] == "SCRAM-SHA-512"
    assert props["ssl.truststore.type"] == "PEM"
    assert props["ssl.truststore.location"] == "/etc/loanrisk/tls/ca.pem"
    assert props["sasl.jaas.config"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="${env:LOANRISK_KAFKA_USERNAME}" password="${env:LOANRISK_KAFKA_PASSWORD}";'
    )
    assert props["config.providers.env.class"] == "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
    assert "s3cret" not in str(props)
    assert PROD.required_env() == ["LOANRISK_KAFKA_USERNAME", "LOANRISK_KAFKA_PASSWORD"]


@pytest.mark.parametrize(
    "environ", [{}, {"LOANRISK_KAFKA_USERNAME": "loanrisk"}, {"LOANRISK_KAFKA_PASSWORD": "x"}], ids=str
)
def test_missing_credentials_are_one_line_naming_both_variables(environ: dict[str, str]) -> None:
    with pytest.raises(KafkaSecurityError, match="LOANRISK_KAFKA_PASSWORD"):
        PROD.librdkafka_config(environ)
    with pytest.raises(KafkaSecurityError) as raised:
        PROD.python_kwargs(environ)
    message = str(raised.value)
    assert "\n" not in message
    assert "$LOANRISK_KAFKA_USERNAME" in message
    assert "$LOANRISK_KAFKA_PASSWORD" in message


def test_unknown_protocol_or_mechanism_is_refused() -> None:
    with pytest.raises(KafkaSecurityError, match="security_protocol"):
        KafkaSecurity("SSL_SASL").python_kwargs(CREDENTIALS)
    with pytest.raises(KafkaSecurityError, match="sasl_mechanism"):
        KafkaSecurity("SASL_SSL", "GSSAPI").java_properties()


def test_the_prod_env_of_config_json_reads_into_the_same_settings() -> None:
    topo = load_topology(["sparse", "submit", "-e", "prod", "-n", "loan-risk"])
    assert KafkaSecurity.from_options(topo.options("prod")) == PROD


def test_the_spout_gets_properties_text_and_the_env_it_needs() -> None:
    topo = load_topology(["sparse", "submit", "-e", "prod", "-n", "loan-risk"])
    args = topo.spout_args(topo.options("prod"))
    assert all(isinstance(a, str | int) for a in args)
    text, required = args[7], args[8]
    assert "security.protocol=SASL_SSL\n" in text
    assert "ssl.truststore.location=/etc/loanrisk/tls/ca.pem\n" in text
    assert "${env\\:LOANRISK_KAFKA_USERNAME}" in text
    assert required == "LOANRISK_KAFKA_USERNAME,LOANRISK_KAFKA_PASSWORD"
    local = load_topology(["sparse", "submit", "-e", "local", "-n", "loan-risk"])
    text, required = local.spout_args(local.options("local"))[7:9]
    assert "security.protocol" not in text  # PLAINTEXT: only the fetch settings, nothing to resolve on the worker
    assert text == "fetch.max.wait.ms=50\nfetch.min.bytes=262144\n"
    assert required == ""


def test_the_spout_fetch_waits_only_in_the_batched_design() -> None:
    """The batched spout's fetch waits up to 50 ms for 256 KiB; the naive design keeps Kafka's defaults."""
    topo = load_topology(["sparse", "submit", "-e", "local", "-n", "loan-risk"])
    assert topo.fetch_properties(topo.options("local")) == {"fetch.min.bytes": "262144", "fetch.max.wait.ms": "50"}
    naive = merged({"loanrisk.design": "naive"})
    assert topo.fetch_properties(naive) == {"fetch.min.bytes": "1", "fetch.max.wait.ms": "500"}


def test_properties_text_escapes_what_java_would_misread() -> None:
    topo = load_topology(["sparse", "submit", "-e", "local", "-n", "loan-risk"])
    assert topo.properties_text({"a.b": "x=y:z#\\"}) == "a.b=x\\=y\\:z\\#\\\\\n"


def test_the_jobs_read_the_same_settings_from_their_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOANRISK_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("LOANRISK_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("LOANRISK_KAFKA_SSL_CAFILE", "/etc/loanrisk/tls/ca.pem")
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    loaded = job_settings.Settings.load()
    assert loaded.kafka_security == PROD
    assert loaded.kafka_kwargs() == {
        "bootstrap_servers": loaded.kafka_bootstrap.split(","),
        **PROD.python_kwargs(CREDENTIALS),
    }
    monkeypatch.delenv("LOANRISK_KAFKA_PASSWORD")
    with pytest.raises(KafkaSecurityError, match="LOANRISK_KAFKA_PASSWORD"):
        job_settings.kafka_security_kwargs()
