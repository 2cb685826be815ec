"""Settings for the command-line jobs: environment first, then var/stack.env, then local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK_ENV = ROOT / "var" / "stack.env"
SHARED_DATA = ROOT.parent / "shared" / "data"


def _stack_env() -> dict[str, str]:
    """Read the generated var/stack.env (KEY=VALUE lines) if it exists."""
    if not STACK_ENV.exists():
        return {}
    pairs = (line.split("=", 1) for line in STACK_ENV.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def env(name: str, default: str | None = None) -> str | None:
    """Return LOANRISK_<name> from the environment, else from var/stack.env, else default."""
    key = f"LOANRISK_{name}"
    return os.environ.get(key) or _stack_env().get(key) or default


def default_data_dir() -> Path | None:
    """Return the LendingClub data folder: LOANRISK_DATA_DIR, else ../shared/data when it exists."""
    configured = env("DATA_DIR")
    if configured:
        return Path(configured)
    return SHARED_DATA if SHARED_DATA.is_dir() else None


@dataclass(frozen=True)
class Settings:
    """Where the services are; every value can be overridden by a LOANRISK_* variable."""

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

    @classmethod
    def load(cls) -> Settings:
        """Build settings from the environment and var/stack.env."""
        return cls(
            db_host=env("DB_HOST", "127.0.0.1"),
            db_port=int(env("DB_PORT", "3306")),
            db_name=env("DB_NAME", "loanrisk"),
            db_user=env("DB_USER", "loanrisk"),
            db_password=env("DB_PASSWORD", ""),
            kafka_bootstrap=env("KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
            hbase_host=env("HBASE_HOST", "127.0.0.1"),
            hbase_port=int(env("HBASE_PORT", "9090")),
            applicant_api_url=env("APPLICANT_API_URL", "http://127.0.0.1:5000"),
            risk_api_url=env("RISK_API_URL", "http://127.0.0.1:5001"),
            storm_ui_url=env("STORM_UI_URL", "http://127.0.0.1:8080"),
        )
