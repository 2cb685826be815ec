"""Tokens, roles, the store, rate buckets and bind safety (loanrisk.access): pure logic, no service."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loanrisk.access import (
    ROLES,
    Identity,
    RateLimiter,
    Refused,
    TokenStore,
    audit_line,
    bind_refusal,
    hash_token,
    load_store,
    parse_duration,
    save_store,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_a_store_never_holds_the_token_itself() -> None:
    store, token = TokenStore().issue("alice", "reader", NOW)
    assert token not in store.to_json()
    assert store.records[0].sha256 == hash_token(token)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64


def test_the_issued_token_authenticates_as_its_name_and_role() -> None:
    store, token = TokenStore().issue("alice", "reader", NOW)
    assert store.authenticate(token, NOW) == Identity("alice", "reader")


@pytest.mark.parametrize(("presented", "reason"), [(None, "MISSING"), ("", "MISSING"), ("not-a-token", "UNKNOWN")])
def test_missing_and_unknown_tokens_are_refused(presented: str | None, reason: str) -> None:
    store, _ = TokenStore().issue("alice", "reader", NOW)
    refused = store.authenticate(presented, NOW)
    assert isinstance(refused, Refused)
    assert refused.reason == reason


def test_an_expired_token_is_refused_as_expired_and_not_before() -> None:
    store, token = TokenStore().issue("temp", "scorer", NOW, timedelta(days=1))
    assert store.authenticate(token, NOW + timedelta(hours=23)) == Identity("temp", "scorer")
    refused = store.authenticate(token, NOW + timedelta(days=1))
    assert isinstance(refused, Refused)
    assert refused.reason == "EXPIRED"
    assert token not in refused.detail


def test_admin_implies_every_role_and_the_others_only_their_own() -> None:
    assert Identity("root", "admin").roles == frozenset(ROLES)
    for role in ("reader", "scorer", "operator"):
        assert Identity("x", role).roles == {role}


def test_issuing_a_name_again_rotates_its_token() -> None:
    store, old = TokenStore().issue("bolt", "scorer", NOW)
    store, new = store.issue("bolt", "scorer", NOW)
    assert len(store.records) == 1
    assert isinstance(store.authenticate(old, NOW), Refused)
    assert store.authenticate(new, NOW) == Identity("bolt", "scorer")


def test_revoking_refuses_the_token() -> None:
    store, token = TokenStore().issue("alice", "reader", NOW)
    assert isinstance(store.without("alice").authenticate(token, NOW), Refused)


@pytest.mark.parametrize(("name", "role"), [("alice", "root"), ("Alice Smith", "reader"), ("", "reader")])
def test_unknown_roles_and_bad_names_are_not_issued(name: str, role: str) -> None:
    with pytest.raises(ValueError, match=r"role|name"):
        TokenStore().issue(name, role, NOW)


def test_the_store_file_round_trips_with_mode_600(tmp_path: Path) -> None:
    store, token = TokenStore().issue("alice", "reader", NOW, timedelta(days=30))
    path = tmp_path / "tokens" / "store.json"
    save_store(path, store)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_store(path) == store
    assert load_store(path).authenticate(token, NOW) == Identity("alice", "reader")


def test_a_missing_store_refuses_everything(tmp_path: Path) -> None:
    assert isinstance(load_store(tmp_path / "none.json").authenticate("anything", NOW), Refused)


@pytest.mark.parametrize(("text", "seconds"), [("30d", 30 * 86400), ("12h", 43200), ("15m", 900), ("90s", 90)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["30", "d", "1w", "-1d", ""])
def test_bad_durations_are_messages(text: str) -> None:
    assert isinstance(parse_duration(text), str)


@pytest.mark.parametrize("address", ["127.0.0.1:5000", "localhost:5000", "[::1]:5000", "unix:/tmp/api.sock"])
def test_auth_may_be_off_on_loopback(address: str) -> None:
    assert bind_refusal([address], auth_enabled=False, service="api") is None


@pytest.mark.parametrize("address", ["0.0.0.0:5000", "[::]:5000", "10.1.2.3:5000", "api.example.com:5000", "0.0.0.0"])  # noqa: S104
def test_auth_off_on_any_other_address_is_refused_in_one_line(address: str) -> None:
    message = bind_refusal(["127.0.0.1:5001", address], auth_enabled=False, service="api")
    assert message is not None
    assert "refusing to start" in message
    assert "\n" not in message
    assert bind_refusal([address], auth_enabled=True, service="api") is None


def test_the_bucket_allows_a_burst_then_says_how_long_to_wait() -> None:
    limiter = RateLimiter(rate=2, burst=3)
    assert [limiter.wait_for("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.wait_for("a", now=0.0) == pytest.approx(0.5)
    assert limiter.wait_for("b", now=0.0) == 0.0  # every token name has its own bucket
    assert limiter.wait_for("a", now=0.5) == 0.0  # refilled at 2 per second


def test_an_audit_line_is_one_json_object_naming_who_what_when_where() -> None:
    line = audit_line("alice", "operator", "topology.kill", "127.0.0.1", NOW, topology="loan-risk")
    assert "\n" not in line
    assert json.loads(line) == {
        "ts": "2026-11-27T12:00:00.000+00:00",
        "who": "alice",
        "role": "operator",
        "action": "topology.kill",
        "source": "127.0.0.1",
        "topology": "loan-risk",
    }
