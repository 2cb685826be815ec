"""Fixtures of the API tests: a private token store (tests/tokens.py) the apps are configured with."""

from __future__ import annotations

import pytest

from tests.tokens import TestTokens, shared_tokens


@pytest.fixture(scope="session")
def api_tokens() -> TestTokens:
    return shared_tokens()
