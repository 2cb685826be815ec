"""Shared test set-up: tests under tests/integration need the running stack (`make up`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.settings import Settings

INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration as an integration test."""
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Return where the local stack's services are (env and var/stack.env)."""
    return Settings.load()
