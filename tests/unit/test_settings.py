"""Settings of the jobs and APIs: one default per value, overridable, and equal to what the stack binds."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from adapters import settings as settings_module
from adapters.settings import DEFAULTS, ROOT, Settings

SERVICE_PORTS = {
    name: int(port)
    for path in (ROOT / "stack" / "services").glob("*.sh")
    for name, port in re.findall(r"^PORT_(\w+)=(\d+)$", path.read_text(), re.MULTILINE)
}


@pytest.fixture
def no_stack_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(settings_module, "STACK_ENV", tmp_path / "missing.env")
    for name in DEFAULTS:
        monkeypatch.delenv(f"LOANRISK_{name}", raising=False)


@pytest.mark.usefixtures("no_stack_env")
def test_without_overrides_the_defaults_are_the_local_stack() -> None:
    loaded = Settings.load()
    assert (loaded.db_host, loaded.db_port, loaded.kafka_bootstrap) == ("127.0.0.1", 3306, "127.0.0.1:9092")
    assert loaded.topics == ("loan-applications", "loan-decisions", "loan-applications-dlq")
    assert loaded.http_timeout_s == (3.05, 15.0)


@pytest.mark.usefixtures("no_stack_env")
def test_the_dataclass_defaults_are_the_loaded_defaults() -> None:
    loaded = Settings.load()
    built = Settings(
        loaded.db_host, loaded.db_port, loaded.db_name, loaded.db_user, loaded.db_password,
        loaded.kafka_bootstrap, loaded.hbase_host, loaded.hbase_port, loaded.applicant_api_url,
        loaded.risk_api_url, loaded.storm_ui_url,
    )  # fmt: skip
    assert built == loaded


def test_the_environment_wins_over_stack_env_which_wins_over_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stack_env = tmp_path / "stack.env"
    stack_env.write_text("# generated\nLOANRISK_DB_PORT=3307\nLOANRISK_KAFKA_DLQ_TOPIC=dlq-from-file\n")
    monkeypatch.setattr(settings_module, "STACK_ENV", stack_env)
    monkeypatch.setenv("LOANRISK_KAFKA_DLQ_TOPIC", "dlq-from-env")
    monkeypatch.delenv("LOANRISK_DB_PORT", raising=False)
    monkeypatch.delenv("LOANRISK_HBASE_TIMEOUT_MS", raising=False)
    loaded = Settings.load()
    assert loaded.dlq_topic == "dlq-from-env"
    assert loaded.db_port == 3307
    assert loaded.hbase_timeout_ms == int(DEFAULTS["HBASE_TIMEOUT_MS"])


@pytest.mark.parametrize(
    ("setting", "service"),
    [("DB_PORT", "mariadb"), ("HBASE_PORT", "hbase_thrift"), ("KAFKA_BOOTSTRAP", "kafka"),
     ("APPLICANT_API_URL", "applicant_api"), ("RISK_API_URL", "risk_api"), ("STORM_UI_URL", "ui")],
)  # fmt: skip
def test_default_ports_are_the_ports_the_stack_binds(setting: str, service: str) -> None:
    value = DEFAULTS[setting]
    port = int(value) if value.isdigit() else urlsplit(value if "//" in value else f"//{value}").port
    assert port == SERVICE_PORTS[service]
