"""In-process rate of `make rescore` (parse stored row, score, decide, tally) on generated stored rows.

    .venv/bin/python benchmarks/bench_rescore.py [--rows 50000] [--batch 5000] [--repeat 3]

Prints applicants/s per pass, wall clock and per CPU second: `Scorer` + `score_batch` + `Tally.add_all` on
rows built exactly as the pipeline stores them. HBase round trips are not included; `make rescore` prints
this in-process figure for a real run and the rate with HBase I/O beside it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from jobs import rescore as rescore_job
from jobs.settings import ROOT
from loanrisk.rescore import Tally
from risk_api.service import RiskService, build_service

sys.path.insert(0, str(ROOT))  # the tests' row builder, as the pipeline writes rows
from tests.lab_rows import generated, stored_rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=rescore_job.DEFAULT_BATCH)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the same rows (the box may be shared)")
    args = parser.parse_args()
    service = build_service(ROOT / "models", ROOT / "config" / "risk_policy.json", {})
    if not isinstance(service, RiskService):
        raise SystemExit(service)
    unique = stored_rows(service, generated(min(args.rows, 10_000), seed=21))
    rows = (unique * (args.rows // len(unique) + 1))[: args.rows]
    scorer = rescore_job.Scorer(service)
    for run in range(1, args.repeat + 1):
        tally = Tally()
        began, began_cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(rows), args.batch):
            tally.add_all(rescore_job.score_batch(scorer, rows[start : start + args.batch], {}).outcomes)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
        print(
            f"pass {run}: rescore in process: {tally.n:,} applicants in {elapsed:.2f} s = {tally.n / elapsed:,.0f} "
            f"applicants/s wall clock, {tally.n / cpu:,.0f} per CPU second (batch {args.batch:,}, one core; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
