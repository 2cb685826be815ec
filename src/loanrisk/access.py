"""Access control without a framework: API tokens, their roles, the token store, rate buckets, bind safety.

Tokens are random API keys (``secrets.token_urlsafe(32)``: 256 bits), not passwords. The store keeps only
their SHA-256: a slow password hash (bcrypt, argon2) exists to make guessing a *low-entropy* secret from its
hash expensive, and nobody can enumerate 2**256 candidates, so a fast hash loses nothing here and keeps each
request's check at microseconds. A presented token is hashed and compared with every stored hash by
``hmac.compare_digest`` (constant time), so timing says nothing about how close a guess was.

Roles: ``reader`` (applicants and decisions), ``scorer`` (the Risk API's evaluations), ``operator`` (Storm UI
actions and worker logs), ``admin`` (everything: it implies every other role).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROLES = ("reader", "scorer", "operator", "admin")
ADMIN = "admin"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_DURATION = re.compile(r"([0-9]{1,6})([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
STORE_VERSION = 1


def hash_token(token: str) -> str:
    """Return the hex SHA-256 of a token: what the store keeps (see the module docstring for why SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """Return a fresh random token: 256 bits from the OS's CSPRNG, URL-safe text."""
    return secrets.token_urlsafe(32)


def implied_roles(role: str) -> frozenset[str]:
    """Return the roles a holder of ``role`` has: admin has them all."""
    return frozenset(ROLES) if role == ADMIN else frozenset({role})


def parse_duration(text: str) -> timedelta | str:
    """Read ``30d``, ``12h``, ``15m`` or ``90s``; a message when it is none of them."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        return f"not a duration: {text!r} (use e.g. 30d, 12h, 15m, 90s)"
    return timedelta(seconds=int(match[1]) * _UNIT_S[match[2]])


@dataclass(frozen=True)
class TokenRecord:
    """One issued token as stored: its name (who), role, hash and optional expiry; never the token itself."""

    name: str
    role: str
    sha256: str
    created: datetime
    expires: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "sha256": self.sha256,
            "created": self.created.isoformat(),
            "expires": self.expires.isoformat() if self.expires else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenRecord:
        expires = data.get("expires")
        return cls(
            name=str(data["name"]),
            role=str(data["role"]),
            sha256=str(data["sha256"]),
            created=datetime.fromisoformat(str(data["created"])),
            expires=datetime.fromisoformat(str(expires)) if expires else None,
        )


@dataclass(frozen=True)
class Identity:
    """Who a request authenticated as: the token's name and role (what audit lines record)."""

    name: str
    role: str

    @property
    def roles(self) -> frozenset[str]:
        return implied_roles(self.role)


@dataclass(frozen=True)
class Refused:
    """Why a presented token was refused: ``reason`` is a stable code (``MISSING``, ``UNKNOWN``, ``EXPIRED``)."""

    reason: str
    detail: str


@dataclass(frozen=True)
class TokenStore:
    """The issued tokens, by name (one live token per name: issuing a name again rotates it)."""

    records: tuple[TokenRecord, ...] = ()

    def authenticate(self, presented: str | None, now: datetime) -> Identity | Refused:
        """Find the record whose hash matches ``presented``, comparing every hash in constant time."""
        if not presented:
            return Refused("MISSING", "a bearer token is required (Authorization: Bearer <token>)")
        return self.authenticate_hash(hash_token(presented), now)

    def authenticate_hash(self, digest: str, now: datetime) -> Identity | Refused:
        """Find the record with this token hash (what a browser session keeps instead of the token)."""
        found = None
        for record in self.records:  # no early exit: the time taken does not depend on which record matched
            if hmac.compare_digest(record.sha256, digest):
                found = record
        if found is None:
            return Refused("UNKNOWN", "the bearer token is not valid")
        if found.expired(now):
            return Refused("EXPIRED", f"the bearer token {found.name!r} expired at {found.expires:%Y-%m-%dT%H:%M:%SZ}")
        return Identity(found.name, found.role)

    def issue(self, name: str, role: str, now: datetime, ttl: timedelta | None = None) -> tuple[TokenStore, str]:
        """Return the store with a new token for ``name`` (replacing any old one) and the token itself."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        if not NAME_PATTERN.fullmatch(name):
            raise ValueError(f"bad token name {name!r}: 1-64 of a-z, 0-9, '_', '.', '-'")
        token = new_token()
        record = TokenRecord(name, role, hash_token(token), now.replace(microsecond=0), now + ttl if ttl else None)
        return replace(self, records=(*self.without(name).records, record)), token

    def without(self, name: str) -> TokenStore:
        return replace(self, records=tuple(r for r in self.records if r.name != name))

    def get(self, name: str) -> TokenRecord | None:
        return next((r for r in self.records if r.name == name), None)

    def to_json(self) -> str:
        return json.dumps({"version": STORE_VERSION, "tokens": [r.to_dict() for r in self.records]}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> TokenStore:
        data = json.loads(text)
        return cls(tuple(TokenRecord.from_dict(item) for item in data.get("tokens", [])))


def load_store(path: Path) -> TokenStore:
    """Read the store; a missing file is an empty store (every token refused), never an open door."""
    return TokenStore.from_json(path.read_text()) if path.exists() else TokenStore()


def save_store(path: Path, store: TokenStore) -> None:
    """Write the store atomically with mode 600 (a reader never sees half a file)."""
    write_secret(path, store.to_json() + "\n")


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (mode 600), replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_loopback(host: str) -> bool:
    """Say whether a bind host is loopback-only (127.0.0.0/8, ::1, localhost); a unix socket counts as local."""
    host = host.strip().strip("[]")
    if host.startswith("unix:") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name or 0.0.0.0/:: may reach other machines


def bind_host(address: str) -> str:
    """Return the host of a bind address such as ``127.0.0.1:5000``, ``[::1]:5000`` or ``unix:/path``."""
    if address.startswith("unix:"):
        return address
    if address.startswith("["):
        return address[1 : address.index("]")]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address


def bind_refusal(addresses: Iterable[str], auth_enabled: bool, service: str) -> str | None:
    """Return the one-line refusal when auth is off on a non-loopback bind address, else None."""
    open_hosts = sorted({bind_host(a) for a in addresses if not is_loopback(bind_host(a))})
    if auth_enabled or not open_hosts:
        return None
    return (
        f"{service}: refusing to start: authentication is off (LOANRISK_AUTH=off) but the bind address "
        f"{', '.join(open_hosts)} is not loopback; turn authentication on or bind 127.0.0.1"
    )


@dataclass
class Bucket:
    """A token bucket: ``rate`` requests per second on average, bursts of up to ``burst``."""

    rate: float
    burst: float
    level: float
    stamp: float

    def take(self, now: float) -> float:
        """Spend one request; return 0 when allowed, else the seconds until one is available."""
        self.level = min(self.burst, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.level >= 1:
            self.level -= 1
            return 0.0
        return (1 - self.level) / self.rate


@dataclass
class RateLimiter:
    """One bucket per key (the token's name); memory of this process only (each gunicorn worker counts alone)."""

    rate: float
    burst: float
    buckets: dict[str, Bucket] = field(default_factory=dict)

    def wait_for(self, key: str, now: float | None = None) -> float:
        """Spend one request of ``key``; return 0 when allowed, else the seconds to wait (Retry-After)."""
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(self.rate, self.burst, self.burst, now)
        return bucket.take(now)


def audit_line(who: str, role: str | None, action: str, source: str | None, when: datetime, **what: Any) -> str:
    """Build one audit line (JSON): who (the token's name, never the token), what, when, from where."""
    entry: dict[str, Any] = {"ts": when.isoformat(timespec="milliseconds"), "who": who, "role": role}
    entry.update(action=action, source=source, **what)
    return json.dumps(entry, sort_keys=False, default=str)
