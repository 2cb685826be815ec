"""Test tokens: a private token store with one token per role plus an expired one, for the apps' test clients."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from loanrisk.access import ROLES, TokenStore, save_store, utcnow


@dataclass(frozen=True)
class TestTokens:
    """Where the store and audit log are, and the raw token of each role (``expired``: a reader's, expired)."""

    store: Path
    audit_log: Path
    tokens: dict[str, str]

    __test__ = False  # not a test class, whatever pytest's name pattern says

    def config(self, **more: Any) -> dict[str, Any]:
        """App config keys: auth on, this store, this audit log."""
        return {"AUTH": "on", "AUTH_TOKEN_STORE": str(self.store), "AUDIT_LOG": str(self.audit_log), **more}

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def client(self, app: Flask, role: str = "admin") -> FlaskClient:
        """Return a test client of ``app`` that sends the role's token on every request."""
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.tokens[role]}"
        return client


def make_tokens(folder: Path) -> TestTokens:
    store, tokens, now = TokenStore(), {}, utcnow()
    for role in ROLES:
        store, tokens[role] = store.issue(f"test-{role}", role, now)
    store, tokens["expired"] = store.issue("test-expired", "reader", now - timedelta(days=2), timedelta(days=1))
    save_store(folder / "store.json", store)
    return TestTokens(folder / "store.json", folder / "audit.log", tokens)


@functools.cache
def shared_tokens() -> TestTokens:
    """Return the test session's tokens (in a temporary folder removed at exit); module-level code may call it."""
    folder = Path(tempfile.mkdtemp(prefix="loanrisk-tokens-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return make_tokens(folder)
