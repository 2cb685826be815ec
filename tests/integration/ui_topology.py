"""The running `loan-risk` topology the Storm UI tests look at: the one `make demo` left, or a small fresh run."""

from __future__ import annotations

import os
import time
from typing import Any

import requests

from adapters.settings import Settings
from jobs import demo

AUTH = Settings.load().auth_headers("reader")  # var/tokens/reader.token, written by `make up`

UI_RUN_N = int(os.environ.get("LOANRISK_UI_N", "300"))
# Bolts fed only by the dead_letter stream: a run has tens of dead letters, and Storm counts 1 tuple in 20
# (topology.stats.sample.rate 0.05), so their figures may well be 0 after a correct run.
RARE_PATH = frozenset({"dead_letter_bolt"})


def has_figures(bolt: dict[str, Any]) -> bool:
    return bolt["boltId"] in RARE_PATH or bolt["executed"] > 0


def running_loan_risk(settings) -> str:
    """Id of an ACTIVE `loan-risk` with figures; push UI_RUN_N applicants through a fresh one when there is none."""
    found = demo.storm_topology_id(settings)
    if found is not None and found[1] == "ACTIVE" and shows_figures(settings.storm_ui_url, found[0]):
        return found[0]
    seed = int(time.time() * 1000) % 1_000_000_000
    result = demo.run_pipeline(
        settings,
        demo.new_run_dir("ui", settings),
        UI_RUN_N,
        seed,
        0.05,
        samples=False,
        submit=True,
        timeout_s=900,
        whole_table=False,
    )
    assert result.accounted, "the UI tests' applicants did not all come through"
    found = demo.storm_topology_id(settings)
    assert found is not None, "loan-risk is not running after the run"
    wait_for_figures(settings.storm_ui_url, found[0])
    return found[0]


def shows_figures(ui: str, topology_id: str) -> bool:
    """Whether Storm UI shows acked spout tuples and executed tuples on every bolt but the rare-path ones."""
    page = requests.get(f"{ui}/api/v1/topology/{topology_id}", headers=AUTH, timeout=30).json()
    return all(s["acked"] > 0 for s in page["spouts"]) and all(has_figures(b) for b in page["bolts"])


def wait_for_figures(ui: str, topology_id: str, timeout_s: float = 180) -> None:
    """Wait until Nimbus reports the run's counts: executors send their statistics every few seconds."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if shows_figures(ui, topology_id):
            return
        time.sleep(3)
    raise AssertionError(f"no figures for {topology_id} after {timeout_s:.0f} s")
