"""`sparse` with a working `sparse stats --all` (what .venv/bin/sparse runs; linked by stack/services/storm.sh).

streamparse 5.0.1's `sparse stats -n NAME --all` cannot work: its `_print_all_components` calls map() with a
function and no iterable, so it raises TypeError before asking Storm UI anything. This replaces that one
function with one that prints each component's page (spouts, then bolts, as Storm UI lists them) through
streamparse's own `-c` printer, gives streamparse's Storm UI requests the local reader token, then runs
streamparse's command line unchanged.
"""

from __future__ import annotations

import sys


def print_all_components(env_name: str, topology_name: str, config_file: str | None = None) -> None:
    """Print `sparse stats -c COMPONENT` for every spout and bolt of the topology."""
    from streamparse.cli import stats

    detail = stats._get_topology_ui_detail(env_name, topology_name, config_file=config_file)
    names = [s["spoutId"] for s in detail.get("spouts", [])] + [b["boltId"] for b in detail.get("bolts", [])]
    for name in names:
        print(f"## {name}")
        stats._print_component_status(env_name, topology_name, name, config_file=config_file)


def main() -> int:
    """streamparse's `sparse` command line with the --all printer fixed and Storm UI's reader token sent."""
    import requests
    from streamparse import util
    from streamparse.cli import sparse, stats

    from adapters.settings import Settings

    stats._print_all_components = print_all_components
    # `sparse stats` reads Storm UI's REST API with a bare requests.get; the UI wants a token (README, Security)
    session = requests.Session()
    session.headers.update(Settings.load().auth_headers("reader"))
    util.requests = session
    sparse.main()  # it exits with an error itself, and returns None when the command worked
    return 0


if __name__ == "__main__":
    sys.exit(main())
