"""Issue, rotate, revoke and list API tokens; `init` writes the local stack's tokens (what `make up` runs).

    python -m jobs.tokens issue --role reader --name alice [--expires 30d] [--out FILE]
    python -m jobs.tokens rotate --name alice [--expires 30d] [--out FILE]
    python -m jobs.tokens revoke --name alice
    python -m jobs.tokens list
    python -m jobs.tokens init          # var/tokens/{admin,reader,scorer,operator}.token, kept when valid

The store (var/tokens/store.json, mode 600) holds names, roles, expiry and SHA-256 hashes only. A token is
shown once, when issued (or written to --out with mode 600); the services re-read the store when it
changes, so a revocation or rotation takes effect on the next request.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from adapters.settings import Settings
from loanrisk.access import ROLES, TokenStore, hash_token, load_store, parse_duration, save_store, utcnow, write_secret

LOCAL_PREFIX = "local-"


def ttl_of(text: str | None) -> timedelta | None:
    if not text:
        return None
    parsed = parse_duration(text)
    if isinstance(parsed, str):
        raise SystemExit(parsed)
    return parsed


def hand_over(token: str, out: str | None) -> None:
    """Write the new token to ``out`` (mode 600) or print it once."""
    if out:
        write_secret(Path(out), token + "\n")
        print(f"token written to {out} (mode 600)", file=sys.stderr)
    else:
        print(token)


def issue(settings: Settings, name: str, role: str, expires: str | None, out: str | None) -> None:
    store = load_store(settings.token_store)
    try:
        store, token = store.issue(name, role, utcnow(), ttl_of(expires))
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    save_store(settings.token_store, store)
    hand_over(token, out)


def rotate(settings: Settings, name: str, expires: str | None, out: str | None) -> None:
    record = load_store(settings.token_store).get(name)
    if record is None:
        raise SystemExit(f"no token named {name!r}")
    issue(settings, name, record.role, expires, out)


def revoke(settings: Settings, name: str) -> None:
    store = load_store(settings.token_store)
    if store.get(name) is None:
        raise SystemExit(f"no token named {name!r}")
    save_store(settings.token_store, store.without(name))
    print(f"revoked {name}")


def list_tokens(settings: Settings) -> None:
    now = utcnow()
    for r in load_store(settings.token_store).records:
        state = "EXPIRED" if r.expired(now) else "valid"
        until = r.expires.isoformat(timespec="seconds") if r.expires else "never"
        print(f"{r.name:<24} {r.role:<9} {state:<8} created {r.created.isoformat()}  expires {until}")


def local_token_valid(store: TokenStore, path: Path, role: str) -> bool:
    record = store.get(LOCAL_PREFIX + role)
    if record is None or not path.exists() or record.expired(utcnow()):
        return False
    return record.role == role and record.sha256 == hash_token(path.read_text().strip())


def init(settings: Settings) -> None:
    """Give each role a local token in var/tokens/<role>.token; keep the ones that still match the store."""
    store = load_store(settings.token_store)
    for role in ROLES:
        path = settings.token_file(role)
        if not local_token_valid(store, path, role):
            store, token = store.issue(LOCAL_PREFIX + role, role, utcnow())
            save_store(settings.token_store, store)
            write_secret(path, token + "\n")
    if not settings.token_store.exists():
        save_store(settings.token_store, store)
    print(f"API tokens in {settings.token_dir}: " + ", ".join(f"{r}.token" for r in ROLES) + " (mode 600)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m jobs.tokens", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    issued = commands.add_parser("issue", help="issue a new token (replaces the name's old one)")
    issued.add_argument("--role", required=True, choices=ROLES)
    rotated = commands.add_parser("rotate", help="replace a token with a new one, same name and role")
    for sub in (issued, rotated):
        sub.add_argument("--name", required=True)
        sub.add_argument("--expires", help="lifetime such as 30d, 12h, 15m (default: never)")
        sub.add_argument("--out", help="write the token to this file (mode 600) instead of printing it")
    commands.add_parser("revoke", help="delete a token").add_argument("--name", required=True)
    commands.add_parser("list", help="names, roles, expiry (never the tokens)")
    commands.add_parser("init", help="write the local stack's token per role (idempotent)")
    args = parser.parse_args(argv)
    settings = Settings.load()
    if args.command == "issue":
        issue(settings, args.name, args.role, args.expires, args.out)
    elif args.command == "rotate":
        rotate(settings, args.name, args.expires, args.out)
    elif args.command == "revoke":
        revoke(settings, args.name)
    elif args.command == "list":
        list_tokens(settings)
    else:
        init(settings)


if __name__ == "__main__":
    main()
