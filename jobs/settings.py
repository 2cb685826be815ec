"""Moved to ``adapters.settings`` (the APIs and the UI read it too, and they import no CLI); kept for the callers."""

from adapters.settings import (
    DEFAULTS,
    ROOT,
    SAMPLES,
    SHARED_DATA,
    STACK_ENV,
    Settings,
    default_data_dir,
    env,
    kafka_security_from_env,
    kafka_security_kwargs,
    setting,
)

__all__ = [
    "DEFAULTS",
    "ROOT",
    "SAMPLES",
    "SHARED_DATA",
    "STACK_ENV",
    "Settings",
    "default_data_dir",
    "env",
    "kafka_security_from_env",
    "kafka_security_kwargs",
    "setting",
]
