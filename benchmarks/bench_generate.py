"""Benchmark the generator and compare its distributions with the loans it is fitted on.

    .venv/bin/python benchmarks/bench_generate.py [--count 1000000] [--format csv jsonl] [--dirt-rate 0.01]

Prints the applicants/s written to a file per format, then (from the CSV) default rate, interest rate and
FICO by grade, median income and loan amount, and the income/amount correlation, next to the same figures
of the real loans the generator is fitted on (the model's training loans: the resolved loans of the three
shared files, de-duplicated by id) when ../shared/data is present.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jobs.generate import write
from jobs.settings import default_data_dir
from jobs.train import SAMPLES
from loanrisk.applicant import GRADES
from loanrisk.cleaning import loan_outcome


def timed_write(count: int, fmt: str, out: Path, dirt_rate: float) -> float:
    """Write count applicants and return the rate in applicants per second."""
    start = time.perf_counter()
    write(count, fmt, out, seed=1, dirt_rate=dirt_rate)
    return count / (time.perf_counter() - start)


def figures(df: pd.DataFrame) -> dict[str, object]:
    """Compute the comparison figures of a LendingClub-format frame (raw string columns)."""
    df = df.assign(
        outcome=df["loan_status"].map(loan_outcome),
        rate=pd.to_numeric(df["int_rate"].astype(str).str.rstrip("%"), errors="coerce"),
        income=pd.to_numeric(df["annual_inc"], errors="coerce"),
        amount=pd.to_numeric(df["loan_amnt"], errors="coerce"),
        fico=pd.to_numeric(df["fico_range_low"], errors="coerce"),
    )
    by = df.groupby("grade")
    positive = df[(df.income > 0) & (df.amount > 0)]
    return {
        "grade share %": (by.size() / len(df) * 100).round(1).to_dict(),
        "default rate % (resolved)": (by["outcome"].mean() * 100).round(1).to_dict(),
        "mean int_rate": by["rate"].mean().round(2).to_dict(),
        "mean fico_low": by["fico"].mean().round(0).to_dict(),
        "median annual_inc": float(df["income"].median()),
        "median loan_amnt": float(df["amount"].median()),
        "corr(log inc, log amount)": round(
            float(np.corrcoef(np.log(positive.income), np.log(positive.amount))[0, 1]), 3
        ),
    }


def real_frame() -> pd.DataFrame | None:
    """Read the resolved loans of the shared files (first file's row wins per id), or None when absent."""
    data_dir = default_data_dir()
    if data_dir is None or not all((data_dir / s).exists() for s in SAMPLES):
        return None
    frame = pd.concat([pd.read_csv(data_dir / s, dtype=str, keep_default_na=False) for s in SAMPLES])
    resolved = frame[frame["loan_status"].map(lambda s: loan_outcome(s) is not None)]
    return resolved.drop_duplicates(subset="id", keep="first")


def print_comparison(generated: dict[str, Any], real: dict[str, Any] | None) -> None:
    """Print generated vs real figures side by side."""
    for key, value in generated.items():
        other = real.get(key) if real else None
        if isinstance(value, dict):
            print(f"{key}:")
            for g in GRADES:
                print(
                    f"  {g}: generated {value.get(g, float('nan')):>8}   real {other.get(g, '-') if other else '-':>8}"
                )
        else:
            print(f"{key}: generated {value}   real {other if other is not None else '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--format", nargs="+", default=["csv", "jsonl"], choices=["csv", "jsonl"])
    parser.add_argument("--dirt-rate", type=float, default=0.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.format:
            out = Path(tmp) / f"applicants.{fmt}"
            rate = timed_write(args.count, fmt, out, args.dirt_rate)
            size = out.stat().st_size / 1e6
            print(f"{fmt}: {args.count:,} applicants, {size:,.0f} MB, {rate:,.0f} applicants/s")
        if "csv" in args.format:
            frame = pd.read_csv(Path(tmp) / "applicants.csv", dtype=str, keep_default_na=False, nrows=500_000)
            real = real_frame()
            print_comparison(figures(frame), figures(real) if real is not None else None)


if __name__ == "__main__":
    main()
