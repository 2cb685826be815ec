"""Write virtualenvs/<topology>.txt, what `sparse submit` installs on each worker of an env with use_virtualenv.

The file is generated, never edited: the closure of the packages the topology's Python components import
(streamparse for the multilang runner, kafka-python and happybase in the sink bolts, requests in the submit
bolt), each pinned to its version in constraints.txt, so a worker runs exactly what the tests ran.
Dependencies are read from the installed distributions' metadata, with markers evaluated for this Python
(3.11 on Linux, the workers' `virtualenv_flags`).

    python -m jobs.virtualenv_spec            # rewrite virtualenvs/loan-risk.txt
    python -m jobs.virtualenv_spec --check    # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
SPEC = ROOT / "virtualenvs" / "loan-risk.txt"
WORKER_ROOTS = ("streamparse", "kafka-python", "confluent-kafka", "orjson", "happybase", "requests")
# every virtualenv has them, and `pip freeze` leaves them out of the lock
BUILT_INTO_VIRTUALENV = frozenset({"pip", "setuptools", "wheel"})
HEADER = "# Generated from constraints.txt by `python -m jobs.virtualenv_spec`; do not edit.\n"


def read_pins(lines: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Map each canonical name of a ``Name==version`` lock to its spelling and version."""
    pins: dict[str, tuple[str, str]] = {}
    for line in lines:
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[canonicalize_name(name)] = (name.strip(), version.strip())
    return pins


def installed_requires(name: str) -> list[str]:
    """Return the unconditional dependencies of an installed distribution, extras left out."""
    found = []
    for spec in metadata.requires(name) or []:
        requirement = Requirement(spec)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            found.append(requirement.name)
    return found


def closure(roots: Iterable[str], requires: Callable[[str], list[str]]) -> set[str]:
    """Return the canonical names of the roots and everything they need, transitively."""
    seen: set[str] = set()
    todo = [canonicalize_name(r) for r in roots]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(canonicalize_name(d) for d in requires(name))
    return seen


def render(names: Iterable[str], pins: Mapping[str, tuple[str, str]]) -> str:
    """Return the requirements file; a package missing from the lock is an error, not an unpinned line."""
    names = set(names) - BUILT_INTO_VIRTUALENV
    missing = sorted(names - set(pins))
    if missing:
        raise ValueError(f"not pinned in constraints.txt: {', '.join(missing)}")
    lines = sorted((f"{pins[n][0]}=={pins[n][1]}" for n in names), key=str.lower)
    return HEADER + "".join(f"{line}\n" for line in lines)


def generate() -> str:
    pins = read_pins(CONSTRAINTS.read_text().splitlines())
    return render(closure(WORKER_ROOTS, installed_requires), pins)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs from what would be written")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = SPEC.read_text() if SPEC.exists() else ""
        if current != text:
            print(f"{SPEC.relative_to(ROOT)} is out of date: run python -m jobs.virtualenv_spec", file=sys.stderr)
            return 1
        return 0
    SPEC.parent.mkdir(exist_ok=True)
    SPEC.write_text(text)
    print(f"wrote {SPEC.relative_to(ROOT)} ({text.count(chr(10)) - 1} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
