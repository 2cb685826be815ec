"""Bearer-token access control for the project's Flask apps: one call, ``init_auth(app, rules)``.

Authentication is Flask-HTTPAuth's ``HTTPTokenAuth`` (scheme ``Bearer``) over ``loanrisk.access``'s token store
(hashes only, constant-time comparison). Every endpoint needs a token except ``/healthz`` and ``/readyz``;
``/metrics`` is exempt only for requests from loopback (Prometheus scrapes it on the same host, and a scrape
job would otherwise need a token of its own). ``rules`` maps a path prefix to the role it needs (the longest
prefix wins); any other path needs ``default_role``. Missing, unknown or expired tokens get 401 with
``WWW-Authenticate``, a valid token without the role 403, a token over its rate 429 with ``Retry-After``: all
problem+json.

App config (set by the app factory's defaults, overridable like any other key):
``AUTH`` (``on``/``off``, from ``LOANRISK_AUTH``), ``AUTH_TOKEN_STORE`` (the store file), ``BIND`` (the
address(es) served, when the server is not gunicorn started with ``--bind``), ``RATE_LIMIT_PER_S`` and
``RATE_LIMIT_BURST`` (0 = no limit), ``AUDIT_LOG`` (the JSON-lines audit file).

The rate limit is a token bucket per token name in this process's memory (no Redis): each gunicorn worker
counts on its own, so the effective limit of a service is workers x the configured rate.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from apiflask import APIFlask
from flask import Flask, Response, current_app, g, redirect, request, session
from flask_httpauth import HTTPTokenAuth  # type: ignore[import-untyped]
from markupsafe import escape
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response as BaseResponse

from adapters.settings import Settings
from loanrisk.access import (
    Identity,
    RateLimiter,
    Refused,
    TokenStore,
    audit_line,
    bind_refusal,
    hash_token,
    is_loopback,
    load_store,
    utcnow,
)
from loanrisk.problems import MEDIA_TYPE, SCHEMA, problem
from webkit.problems import response

Roles = str | tuple[str, ...]  # what a path needs: one role, or any one of several
PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})
LOOPBACK_PATHS = frozenset({"/metrics"})
ANONYMOUS = Identity("anonymous", "admin")  # who a request is when authentication is off (loopback only)
WORKER_BOOT_ERROR = 3  # gunicorn's exit code for "this app cannot boot": the master stops instead of respawning


@dataclass
class StoreFile:
    """The token store, re-read when its file changes: ``jobs.tokens revoke`` takes effect without a restart."""

    path: Path
    stamp: tuple[int, int] | None = None
    store: TokenStore = field(default_factory=TokenStore)

    def current(self) -> TokenStore:
        try:
            stat = self.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self.stamp:
            self.store, self.stamp = load_store(self.path), stamp
        return self.store


@dataclass
class AuditLog:
    """Append-only JSON lines, one per event, to a mode-600 file (O_APPEND: lines of several workers never mix)."""

    path: Path

    def write(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


def auth_enabled(app: Flask) -> bool:
    return str(app.config.get("AUTH", "on")).strip().lower() not in ("off", "0", "false", "no")


def served_addresses(app: Flask, argv: list[str] | None = None) -> list[str]:
    """Return the addresses the app will be served on: its BIND config and gunicorn's ``--bind`` options."""
    configured = app.config.get("BIND") or []
    addresses = [a.strip() for a in configured.split(",")] if isinstance(configured, str) else list(configured)
    argv = sys.argv if argv is None else argv
    if argv and Path(argv[0]).name.startswith("gunicorn"):
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("-b", "--bind", action="append", default=[])
        cli = shlex.split(os.environ.get("GUNICORN_CMD_ARGS", "")) + argv[1:]
        addresses += parser.parse_known_args(cli)[0].bind
    return [a for a in addresses if a]


def refuse_open_bind(app: Flask, service: str) -> None:
    """Stop the process with a one-line message when auth is off and the app is served beyond loopback."""
    message = bind_refusal(served_addresses(app), auth_enabled(app), service)
    if message:
        sys.stderr.write(message + "\n")
        raise SystemExit(WORKER_BOOT_ERROR)


def needed_role(
    path: str,
    rules: Mapping[str, Roles],
    default_role: Roles,
    method: str = "GET",
    public: frozenset[str] = frozenset(),
) -> tuple[str, ...] | None:
    """Return the role a request needs, None for a public path.

    A rule's key is a path prefix (``/applicants``) or a method and a prefix (``POST /api/v1/topology``); the
    longest matching prefix wins, a method-specific rule over a plain one of the same prefix.
    """
    if path in PUBLIC_PATHS or any(path == p or path.startswith(p.rstrip("/") + "/") for p in public):
        return None
    found: tuple[int, int, Roles] | None = None
    for key, role in rules.items():
        verb, _, prefix = key.rpartition(" ")
        if verb and verb != method:
            continue
        if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
            rank = (len(prefix), 1 if verb else 0, role)
            found = rank if found is None or rank[:2] > found[:2] else found
    chosen = found[2] if found else default_role
    return (chosen,) if isinstance(chosen, str) else chosen


def identity() -> Identity | None:
    """Return who the current request authenticated as (``anonymous`` when auth is off), None when it did not."""
    found = g.get("auth_identity")
    return found if isinstance(found, Identity) else None


def audit(action: str, **what: Any) -> None:
    """Write an audit line for the current request: who (the token's name), what, when and from where."""
    log = current_app.extensions.get("audit_log")
    if not isinstance(log, AuditLog):
        return
    who = identity()
    log.write(
        audit_line(
            who.name if who else "unauthenticated",
            who.role if who else None,
            action,
            request.remote_addr,
            utcnow(),
            method=request.method,
            path=request.path,
            **what,
        )
    )


def refusal_response(status: int, refused: Refused | None, realm: str) -> Response:
    """Build the 401/403 problem; a 401 carries the RFC 6750 challenge, with the error when a token was sent."""
    if status == 403:
        who = identity()
        detail = f"the token {who.name!r} (role {who.role}) lacks the role this needs" if who else "forbidden"
        needed = list(g.get("auth_needed") or ())
        return response(problem(403, detail, "forbidden", title="Role required", needed_roles=needed))
    refused = refused or Refused("MISSING", "a bearer token is required (Authorization: Bearer <token>)")
    challenge = f'Bearer realm="{realm}"'
    if refused.reason != "MISSING":
        challenge += f', error="invalid_token", error_description="{refused.reason.lower()}"'
    built = problem(401, refused.detail, "unauthorized", title="Authentication required", reason=refused.reason)
    return response(built, Headers({"WWW-Authenticate": challenge}))


def rate_limited(wait_s: float, who: Identity) -> Response:
    seconds = max(1, ceil(wait_s))
    built = problem(429, f"token {who.name!r} is over its rate limit; retry in {seconds}s", "rate-limited")
    return response(built, Headers({"Retry-After": str(seconds)}))


AUTH_RESPONSES = {
    "401": "Missing, unknown or expired bearer token",
    "403": "The token lacks the role this operation needs",
    "429": "The token is over its rate limit (see Retry-After)",
}


def document_auth(spec: dict[Any, Any] | str, rules: Mapping[str, Roles], default_role: Roles) -> dict[Any, Any] | str:
    """Add the bearer scheme, each operation's security and its 401/403/429 problems to the OpenAPI document."""
    if isinstance(spec, str):
        return spec
    spec.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token: python -m jobs.tokens issue --role ROLE --name NAME (README, Security).",
    }
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            role = None if path in LOOPBACK_PATHS else needed_role(path, rules, default_role, method.upper())
            operation["security"] = [{"bearer": []}] if role else []
            if role:
                needs = " or ".join(f"`{r}`" for r in role)
                operation["description"] = f"{operation.get('description', '')}\n\nNeeds role {needs}.".strip()
                for status, description in AUTH_RESPONSES.items():
                    operation["responses"].setdefault(status, _problem_response(description))
    return spec


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": SCHEMA}}}


def init_auth(
    app: Flask,
    rules: Mapping[str, Roles],
    *,
    default_role: Roles = "reader",
    service: str,
    rate_limit: bool = False,
    browser_login: bool = False,
    public_prefixes: tuple[str, ...] = (),
) -> None:
    """Protect every endpoint of ``app`` (see the module docstring); refuse to start when that is unsafe.

    ``browser_login`` (apps with pages, which need ``SECRET_KEY``): ``/login`` takes a token once and keeps its
    hash (never the token) in the signed session cookie; a page request without credentials is sent there.
    Call it last in the app factory: it wraps the spec processor registered before it.
    """
    refuse_open_bind(app, service)
    if isinstance(app, APIFlask):
        previous = app.spec_callback
        app.spec_processor(lambda spec: document_auth(previous(spec) if previous else spec, rules, default_role))
    app.extensions["audit_log"] = AuditLog(Path(app.config["AUDIT_LOG"]))
    limiter = rate_limiter(app) if rate_limit else None
    if not auth_enabled(app):
        app.logger.warning("%s: authentication is OFF (AUTH=off, loopback only)", service)
        app.before_request(_as_anonymous(limiter))
        return
    tokens = StoreFile(Path(app.config["AUTH_TOKEN_STORE"]))
    if not tokens.path.exists():
        app.logger.warning("%s: no token store at %s: every request will be refused", service, tokens.path)
    auth = HTTPTokenAuth(scheme="Bearer", realm=service)

    @auth.verify_token  # type: ignore[untyped-decorator]
    def verify(token: str) -> Identity | None:
        found = tokens.current().authenticate(token, utcnow())
        if isinstance(found, Refused):
            g.auth_refused = found
            return None
        g.auth_identity = found
        return found

    @auth.get_user_roles  # type: ignore[untyped-decorator]
    def roles(user: Identity) -> list[str]:
        return sorted(user.roles)

    @auth.error_handler  # type: ignore[untyped-decorator]
    def refuse(status: int) -> Response:
        refused = g.get("auth_refused")
        reason = refused.reason if refused else ("MISSING" if status == 401 else "FORBIDDEN")
        audit("auth.refused", status=status, reason=reason)
        return refusal_response(status, refused, service)

    public = frozenset({*public_prefixes, *(("/login", "/logout", "/static") if browser_login else ())})

    def check() -> BaseResponse | None:
        role = needed_role(request.path, rules, default_role, request.method, public)
        if role is None or (request.path in LOOPBACK_PATHS and is_loopback(request.remote_addr or "")):
            return None
        g.auth_needed = role
        refused: BaseResponse | None
        if browser_login and "Authorization" not in request.headers:
            refused = session_check(tokens, role, service)
        else:
            refused = auth.login_required(role=list(role))(_passed)()
        if refused is not None or limiter is None:
            return refused
        return _spend(limiter, identity() or ANONYMOUS)

    app.before_request(check)
    if browser_login:
        if app.config.get("SESSION_COOKIE_NAME", "session") == "session":  # cookies ignore ports: one name per app
            app.config["SESSION_COOKIE_NAME"] = f"{service}_session"
        app.add_url_rule("/login", "auth_login", lambda: login(tokens), methods=["GET", "POST"])
        app.add_url_rule("/logout", "auth_logout", logout, methods=["POST"])


def _passed() -> None:
    return None


SESSION_KEY = "auth_sha256"
LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><h1>Sign in</h1><p>{message}</p><form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label>API token <input type="password" name="token" autocomplete="off" autofocus></label>
<button type="submit">Sign in</button></form>
<p>Tokens: <code>var/tokens/reader.token</code> (views) or <code>operator.token</code> (actions and logs);
<code>python -m jobs.tokens issue --role operator --name you</code> issues one.</p></body></html>"""


def session_check(tokens: StoreFile, roles: tuple[str, ...], service: str) -> BaseResponse | None:
    """Authenticate a browser by the token hash its session holds; send a page request without one to /login."""
    digest = session.get(SESSION_KEY)
    found = tokens.current().authenticate_hash(str(digest), utcnow()) if digest else None
    if isinstance(found, Identity):
        g.auth_identity = found
        return None if found.roles.intersection(roles) else refusal_response(403, None, service)
    if request.method == "GET" and not request.path.startswith("/api/"):
        return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/?=&')}")
    return refusal_response(401, found, service)


def login(tokens: StoreFile) -> BaseResponse | str:
    """GET: the sign-in form; POST: check the token, keep its hash in the session, go on to ``next``."""
    target = request.values.get("next", "/")
    target = target if target.startswith("/") and not target.startswith("//") else "/"
    if request.method == "GET":
        return LOGIN_PAGE.format(message="Paste an API token.", next=escape(target))
    presented = request.form.get("token", "").strip()
    found = tokens.current().authenticate(presented, utcnow())
    if isinstance(found, Refused):
        page = LOGIN_PAGE.format(message=escape(found.detail), next=escape(target))
        return Response(page, status=401, mimetype="text/html")
    session.clear()
    session[SESSION_KEY] = hash_token(presented)
    g.auth_identity = found
    audit("auth.login")
    return redirect(target)


def logout() -> BaseResponse:
    session.pop(SESSION_KEY, None)
    return redirect("/login")


def _spend(limiter: RateLimiter, who: Identity) -> Response | None:
    wait_s = limiter.wait_for(who.name)
    return rate_limited(wait_s, who) if wait_s > 0 else None


def _as_anonymous(limiter: RateLimiter | None) -> Callable[[], Response | None]:
    def mark() -> Response | None:
        g.auth_identity = ANONYMOUS
        if limiter is None or request.path in PUBLIC_PATHS:
            return None
        return _spend(limiter, ANONYMOUS)

    return mark


def rate_limiter(app: Flask) -> RateLimiter | None:
    rate, burst = float(app.config.get("RATE_LIMIT_PER_S") or 0), float(app.config.get("RATE_LIMIT_BURST") or 0)
    return RateLimiter(rate, max(burst, 1.0)) if rate > 0 else None


def default_config() -> dict[str, Any]:
    """Return the auth keys of an app's config from the settings (``LOANRISK_AUTH``, the store and audit paths)."""
    settings = Settings.load()
    return {"AUTH": settings.auth, "AUTH_TOKEN_STORE": str(settings.token_store), "AUDIT_LOG": str(settings.audit_log)}
