"""Where the services are and how to reach them, for the jobs, the APIs, the UI, monitoring, benchmarks and tests.

Every value is written once, in ``DEFAULTS``, and resolved as LOANRISK_<NAME> from the environment, else from
var/stack.env (written by `make up`), else the default, which is the local stack: stack/services/*.sh bind
these ports on 127.0.0.1. The topology does not read this module; it takes the same addresses and topic
names from config.json (`loanrisk.kafka.*`, `loanrisk.hbase.*`, `loanrisk.risk_api.url`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loanrisk.kafka_security import PREFIX, KafkaSecurity

ROOT = Path(__file__).resolve().parents[2]
STACK_ENV = ROOT / "var" / "stack.env"
SHARED_DATA = ROOT.parent / "shared" / "data"
# the two LendingClub samples of the data folder: training, the generator's fit and the demo read these
SAMPLES = ("lending_club_sample.csv", "lending_club_2015_sample.csv")

DEFAULTS: dict[str, str] = {
    "DB_HOST": "127.0.0.1",
    "DB_PORT": "3306",
    "DB_NAME": "loanrisk",
    "DB_USER": "loanrisk",
    "DB_PASSWORD": "",  # `make up` generates one into var/stack.env
    "KAFKA_BOOTSTRAP": "127.0.0.1:9092",
    "KAFKA_INPUT_TOPIC": "loan-applications",
    "KAFKA_DECISIONS_TOPIC": "loan-decisions",
    "KAFKA_DLQ_TOPIC": "loan-applications-dlq",
    "HBASE_HOST": "127.0.0.1",
    "HBASE_PORT": "9090",
    "APPLICANT_API_URL": "http://127.0.0.1:5000",
    "RISK_API_URL": "http://127.0.0.1:5001",
    "STORM_UI_URL": "http://127.0.0.1:8080",
    "DB_TIMEOUT_S": "10",  # mysql-connector's connection_timeout, for the CLIs
    # the Applicant Data API answers 503 quickly rather than holding a gunicorn worker on a dead database
    "API_DB_TIMEOUT_S": "5",
    # connect slightly above a multiple of 3 s (the TCP retransmission window), read long enough for a page
    "HTTP_CONNECT_TIMEOUT_S": "3.05",
    "HTTP_READ_TIMEOUT_S": "15",
    "KAFKA_ADMIN_TIMEOUT_MS": "10000",
    # a full-table scan by the reconciliation keeps one Thrift call open for a long batch
    "HBASE_TIMEOUT_MS": "60000",
    # access control (README "Security"): "off" is allowed on loopback binds only; the services refuse otherwise
    "AUTH": "on",
    "TOKEN_DIR": str(ROOT / "var" / "tokens"),  # store.json (hashes) and <role>.token files, written by `make up`
    "AUDIT_LOG": str(ROOT / "var" / "log" / "audit.log"),
}


def _stack_env() -> dict[str, str]:
    if not STACK_ENV.exists():
        return {}
    lines = STACK_ENV.read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def env(name: str, default: str | None = None) -> str | None:
    """Return LOANRISK_<name> from the environment, else from var/stack.env, else ``default``."""
    key = f"LOANRISK_{name}"
    return os.environ.get(key) or _stack_env().get(key) or default


def setting(name: str) -> str:
    """Return a setting of ``DEFAULTS`` as resolved (environment, var/stack.env, default)."""
    return env(name) or DEFAULTS[name]


def default_data_dir() -> Path | None:
    """Return the LendingClub data folder: LOANRISK_DATA_DIR, else ../shared/data when it exists."""
    configured = env("DATA_DIR")
    if configured:
        return Path(configured)
    return SHARED_DATA if SHARED_DATA.is_dir() else None


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one process; build with ``Settings.load()``, tests pass their own values."""

    db_host: str
    db_port: int
    db_name: str
    db_user: str
    db_password: str
    kafka_bootstrap: str
    hbase_host: str
    hbase_port: int
    applicant_api_url: str
    risk_api_url: str
    storm_ui_url: str
    input_topic: str = DEFAULTS["KAFKA_INPUT_TOPIC"]
    decisions_topic: str = DEFAULTS["KAFKA_DECISIONS_TOPIC"]
    dlq_topic: str = DEFAULTS["KAFKA_DLQ_TOPIC"]
    db_timeout_s: int = int(DEFAULTS["DB_TIMEOUT_S"])
    api_db_timeout_s: int = int(DEFAULTS["API_DB_TIMEOUT_S"])
    http_timeout_s: tuple[float, float] = (
        float(DEFAULTS["HTTP_CONNECT_TIMEOUT_S"]),
        float(DEFAULTS["HTTP_READ_TIMEOUT_S"]),
    )
    kafka_admin_timeout_ms: int = int(DEFAULTS["KAFKA_ADMIN_TIMEOUT_MS"])
    hbase_timeout_ms: int = int(DEFAULTS["HBASE_TIMEOUT_MS"])
    auth: str = DEFAULTS["AUTH"]
    token_dir: Path = Path(DEFAULTS["TOKEN_DIR"])
    audit_log: Path = Path(DEFAULTS["AUDIT_LOG"])
    kafka_security: KafkaSecurity = field(default_factory=KafkaSecurity)

    @property
    def token_store(self) -> Path:
        """The token store: names, roles and hashes of the issued tokens (never the tokens)."""
        return self.token_dir / "store.json"

    def token_file(self, role: str) -> Path:
        """The local token of a role that `make up` writes for the project's own clients."""
        return self.token_dir / f"{role}.token"

    def token(self, role: str) -> str | None:
        """Return the token a client of ``role`` sends: LOANRISK_<ROLE>_TOKEN, else var/tokens/<role>.token."""
        given = env(f"{role.upper()}_TOKEN")
        if given:
            return given
        path = self.token_file(role)
        return path.read_text().strip() if path.exists() else None

    def auth_headers(self, role: str) -> dict[str, str]:
        """Return the Authorization header of a client of ``role`` (none when there is no token)."""
        token = self.token(role)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def kafka_kwargs(self) -> dict[str, Any]:
        """Return kafka-python's bootstrap and security arguments, the same for every client of a job.

        Security: LOANRISK_KAFKA_<NAME> for each setting of loanrisk.kafka_security (SECURITY_PROTOCOL,
        SASL_MECHANISM, SSL_CAFILE, SASL_USERNAME_ENV, SASL_PASSWORD_ENV); the SASL user and password come from
        the variables those last two name. Raises KafkaSecurityError (one line naming them) when they are unset.
        """
        return {
            "bootstrap_servers": self.kafka_bootstrap.split(","),
            **self.kafka_security.python_kwargs(os.environ),
        }

    @property
    def topics(self) -> tuple[str, str, str]:
        """The pipeline's topics: applicants in, decision events out, dead letters."""
        return (self.input_topic, self.decisions_topic, self.dlq_topic)

    @classmethod
    def load(cls) -> Settings:
        return cls(
            db_host=setting("DB_HOST"),
            db_port=int(setting("DB_PORT")),
            db_name=setting("DB_NAME"),
            db_user=setting("DB_USER"),
            db_password=setting("DB_PASSWORD"),
            kafka_bootstrap=setting("KAFKA_BOOTSTRAP"),
            hbase_host=setting("HBASE_HOST"),
            hbase_port=int(setting("HBASE_PORT")),
            applicant_api_url=setting("APPLICANT_API_URL"),
            risk_api_url=setting("RISK_API_URL"),
            storm_ui_url=setting("STORM_UI_URL"),
            input_topic=setting("KAFKA_INPUT_TOPIC"),
            decisions_topic=setting("KAFKA_DECISIONS_TOPIC"),
            dlq_topic=setting("KAFKA_DLQ_TOPIC"),
            db_timeout_s=int(setting("DB_TIMEOUT_S")),
            api_db_timeout_s=int(setting("API_DB_TIMEOUT_S")),
            http_timeout_s=(float(setting("HTTP_CONNECT_TIMEOUT_S")), float(setting("HTTP_READ_TIMEOUT_S"))),
            kafka_admin_timeout_ms=int(setting("KAFKA_ADMIN_TIMEOUT_MS")),
            hbase_timeout_ms=int(setting("HBASE_TIMEOUT_MS")),
            auth=setting("AUTH"),
            token_dir=Path(setting("TOKEN_DIR")),
            audit_log=Path(setting("AUDIT_LOG")),
            kafka_security=kafka_security_from_env(),
        )


def kafka_security_kwargs() -> dict[str, Any]:
    """Return kafka-python's security arguments for a job's client that is handed only a bootstrap address."""
    return kafka_security_from_env().python_kwargs(os.environ)


def kafka_security_from_env() -> KafkaSecurity:
    """Read the topology's loanrisk.kafka.<name> security settings as LOANRISK_KAFKA_<NAME> (defaults: local)."""
    given = {key: env(f"KAFKA_{key[len(PREFIX) :].upper()}") for key in KafkaSecurity().as_options()}
    return KafkaSecurity.from_options(given)
