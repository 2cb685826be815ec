"""Benchmark the risk model and the Risk API (a script, not a test): prints figures, asserts nothing.

    python benchmarks/bench_risk.py [--url URL] [--requests 2000] [--concurrency 4]   (URL: LOANRISK_RISK_API_URL)

1. in-process batch scoring rate (applicants/s) of exactly what the API serves (model + policy + reasons);
2. over loopback against the running API: single-request latency p50/p99 (sequential, light load),
   throughput with N concurrent clients, and the batch endpoint's applicants/s.
Every loop is bounded by a count and a time budget.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import http.client
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "src")]

from jobs.settings import Settings  # noqa: E402
from loanrisk.applicant import Applicant  # noqa: E402
from loanrisk.cleaning import Rejection, applicant_from_json  # noqa: E402
from risk_api import ROOT  # noqa: E402
from risk_api.schemas import EXAMPLE_APPLICANT  # noqa: E402
from risk_api.service import build_service  # noqa: E402

TIME_BUDGET_S = 10.0
SETTINGS = Settings.load()


def applicants(n: int) -> list[Applicant]:
    """Return n varied valid applicants derived from the documented example."""
    base = applicant_from_json(EXAMPLE_APPLICANT)
    if isinstance(base, Rejection):
        sys.exit(f"the documented example is invalid: {base}")
    grades = [f"{g}{k}" for g in "ABCDEFG" for k in "12345"]
    return [
        dataclasses.replace(
            base,
            id=f"BENCH{i}",
            sub_grade=grades[i % 35],
            grade=grades[i % 35][0],
            dti=float(i % 40),
            annual_inc=30_000.0 + 1_000 * (i % 90),
            emp_length=None if i % 7 == 0 else i % 11,
            fico_range_low=660 + i % 150,
            fico_range_high=664 + i % 150,
        )
        for i in range(n)
    ]


def in_process(batch: int, rounds: int, freeze: bool) -> None:
    """Print the in-process scoring rate of the service the API runs, in batches."""
    service = build_service(ROOT / "models", ROOT / "config" / "risk_policy.json", {})
    if isinstance(service, str):
        sys.exit(service)
    people = applicants(batch)
    if freeze:  # what gunicorn's pre_fork hook does (risk_api/gunicorn.conf.py)
        gc.collect()
        gc.freeze()
    service.evaluate(people)  # warm-up
    start, cpu, done = time.perf_counter(), time.process_time(), 0
    for _ in range(rounds):
        service.evaluate(people)
        done += batch
        if time.perf_counter() - start > TIME_BUDGET_S:
            break
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    # per CPU-second too: on a shared 2-core box the wall-clock rate mostly measures the neighbours
    print(
        f"in-process  batch={batch:<5} gc {'frozen' if freeze else 'normal'} {done:>7} applicants in "
        f"{elapsed:6.2f} s = {done / elapsed:10,.0f} applicants/s"
        f"  ({done / cpu:,.0f} per CPU-second; load average {os.getloadavg()[0]:.1f})"
    )
    one, timings = people[:1], []
    for _ in range(2000):
        t = time.perf_counter()
        service.evaluate(one)
        timings.append(time.perf_counter() - t)
    print(f"in-process  single    p50 {pct(timings, 50) * 1e3:.3f} ms  p99 {pct(timings, 99) * 1e3:.3f} ms")


def pct(samples: list[float], q: float) -> float:
    """Return the q-th percentile of samples by nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


SCORER = SETTINGS.auth_headers("scorer")  # var/tokens/scorer.token or LOANRISK_SCORER_TOKEN (README, Security)


class Client:
    """A minimal HTTP/1.1 client on one connection (reopened when the server closes it)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=max(SETTINGS.http_timeout_s)
        )

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """POST a JSON body; return the status and the response body."""
        self.conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **SCORER})
        response = self.conn.getresponse()
        return response.status, response.read()

    def post_ok(self, path: str, body: bytes) -> None:
        """POST and stop the benchmark on any answer but 200: a figure of errors would mislead."""
        status, answer = self.post(path, body)
        if status != 200:
            sys.exit(f"POST {path} answered {status}: {answer[:300]!r}")


def single_latency(url: str, count: int) -> None:
    """Print p50/p99 latency and sequential throughput of POST /v1/evaluations."""
    client, bodies = Client(url), [json.dumps(a.to_dict()).encode() for a in applicants(200)]
    for body in bodies[:20]:
        client.post("/v1/evaluations", body)  # warm-up
    timings, start = [], time.perf_counter()
    for i in range(count):
        t = time.perf_counter()
        client.post_ok("/v1/evaluations", bodies[i % len(bodies)])
        timings.append(time.perf_counter() - t)
        if time.perf_counter() - start > TIME_BUDGET_S:
            break
    elapsed = time.perf_counter() - start
    print(
        f"API single  sequential n={len(timings)}  p50 {pct(timings, 50) * 1e3:.2f} ms  "
        f"p99 {pct(timings, 99) * 1e3:.2f} ms  max {max(timings) * 1e3:.2f} ms  "
        f"mean {statistics.mean(timings) * 1e3:.2f} ms  = {len(timings) / elapsed:,.0f} req/s"
    )


def concurrent_throughput(url: str, count: int, concurrency: int) -> None:
    """Print throughput and latency of POST /v1/evaluations with several concurrent clients."""
    bodies = [json.dumps(a.to_dict()).encode() for a in applicants(200)]

    def worker(k: int) -> list[float]:
        client, deadline = Client(url), time.perf_counter() + TIME_BUDGET_S
        timings: list[float] = []
        for i in range(count // concurrency):
            t = time.perf_counter()
            client.post("/v1/evaluations", bodies[(i + k) % len(bodies)])
            timings.append(time.perf_counter() - t)
            if time.perf_counter() > deadline:
                break
        return timings

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        timings = [t for part in pool.map(worker, range(concurrency)) for t in part]
    elapsed = time.perf_counter() - start
    print(
        f"API single  {concurrency} clients n={len(timings)}  p50 {pct(timings, 50) * 1e3:.2f} ms  "
        f"p99 {pct(timings, 99) * 1e3:.2f} ms  = {len(timings) / elapsed:,.0f} req/s"
    )


def batch_rate(url: str, size: int, rounds: int, concurrency: int) -> None:
    """Print the applicants/s of POST /v1/evaluations/batch with batches of size, from 1 and N clients."""
    body = json.dumps({"applicants": [a.to_dict() for a in applicants(size)]}).encode()

    def worker(_: int) -> int:
        client, done, deadline = Client(url), 0, time.perf_counter() + TIME_BUDGET_S
        for _ in range(rounds):
            client.post_ok("/v1/evaluations/batch", body)
            done += size
            if time.perf_counter() > deadline:
                break
        return done

    for clients in sorted({1, concurrency}):
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            done = sum(pool.map(worker, range(clients)))
        elapsed = time.perf_counter() - start
        print(
            f"API batch   size={size} {clients} clients: {done} applicants in {elapsed:.2f} s = "
            f"{done / elapsed:,.0f} applicants/s ({len(body) / 1e6:.2f} MB per request)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=SETTINGS.risk_api_url)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--skip-api", action="store_true", help="only the in-process figures")
    args = parser.parse_args()
    for freeze in (False, True):
        for batch, rounds in ((1000, 50), (100, 200)):
            in_process(batch, rounds, freeze)
    if args.skip_api:
        return
    single_latency(args.url, args.requests)
    concurrent_throughput(args.url, args.requests, args.concurrency)
    batch_rate(args.url, 1000, 20, 2)


if __name__ == "__main__":
    main()
