"""The running `loan-risk` topology the Storm UI tests look at: the one `make demo` left, or a small fresh run."""

from __future__ import annotations

import os
import time

from jobs import demo

UI_RUN_N = int(os.environ.get("LOANRISK_UI_N", "300"))


def running_loan_risk(settings) -> str:
    """Id of an ACTIVE `loan-risk` with figures; push UI_RUN_N applicants through a fresh one when there is none."""
    found = demo.storm_topology_id(settings)
    if found is not None and found[1] == "ACTIVE":
        return found[0]
    seed = int(time.time() * 1000) % 1_000_000_000
    result = demo.run_pipeline(settings, demo.new_run_dir("ui", settings), UI_RUN_N, seed, 0.05, samples=False,
                               submit=True, timeout_s=900, whole_table=False)
    assert result.accounted, "the UI tests' applicants did not all come through"
    found = demo.storm_topology_id(settings)
    assert found is not None, "loan-risk is not running after the run"
    return found[0]
