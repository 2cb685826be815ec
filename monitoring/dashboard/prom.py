"""A small client of Prometheus' HTTP API (instant and range queries), and the shapes the dashboard serves.

The shaping functions are pure: they take Prometheus' JSON ``data`` and return the dashboard's JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

TIMEOUT_S = 5


@dataclass(frozen=True)
class PrometheusError:
    """Prometheus could not answer a query (error as value: the page shows it instead of a chart)."""

    detail: str


@dataclass(frozen=True)
class Prometheus:
    url: str

    def get(self, path: str, params: Mapping[str, Any]) -> dict[str, Any] | PrometheusError:
        """GET an API path; return its ``data`` or the error."""
        try:
            answer = requests.get(f"{self.url.rstrip('/')}{path}", params=params, timeout=TIMEOUT_S).json()
        except (requests.RequestException, ValueError) as exc:
            return PrometheusError(f"Prometheus at {self.url} did not answer: {type(exc).__name__}")
        if answer.get("status") != "success":
            return PrometheusError(str(answer.get("error", "query failed")))
        data: dict[str, Any] = answer["data"]
        return data

    def vector(self, query: str) -> list[tuple[dict[str, str], float]] | PrometheusError:
        """Run an instant query; return (labels, value) pairs."""
        data = self.get("/api/v1/query", {"query": query})
        if isinstance(data, PrometheusError):
            return data
        return [(r["metric"], value_of(r["value"][1])) for r in data.get("result", [])]

    def matrix(self, query: str, start: float, end: float, step: float) -> list[dict[str, Any]] | PrometheusError:
        """Run a range query; return Prometheus' result list."""
        data = self.get("/api/v1/query_range", {"query": query, "start": start, "end": end, "step": step})
        return data if isinstance(data, PrometheusError) else data.get("result", [])


def value_of(text: str) -> float:
    """Read a Prometheus sample value ("NaN" and "+Inf" included)."""
    return float(text)


def finite(value: float) -> float | None:
    """Return value, or None when it is NaN or infinite (JSON has neither)."""
    return value if math.isfinite(value) else None


def by_label(pairs: list[tuple[dict[str, str], float]], label: str) -> dict[str, float]:
    """Map one label's value to the sample value, largest first."""
    found = {labels.get(label, ""): value for labels, value in pairs}
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def scalar(pairs: list[tuple[dict[str, str], float]]) -> float | None:
    """Return the value of a one-sample vector, or None when it is empty or not a number."""
    return finite(pairs[0][1]) if pairs else None


def table(pairs: list[tuple[dict[str, str], float]], row: str, column: str) -> dict[str, dict[str, float]]:
    """Pivot samples into {row label: {column label: value}}, rows sorted."""
    out: dict[str, dict[str, float]] = {}
    for labels, value in pairs:
        out.setdefault(labels.get(row, ""), {})[labels.get(column, "")] = value
    return dict(sorted(out.items()))


def histogram_counts(pairs: list[tuple[dict[str, str], float]]) -> list[dict[str, Any]]:
    """Turn cumulative ``_bucket`` samples (by le) into per-bucket counts: [{"from", "to", "count"}]."""
    buckets = sorted((float(labels["le"]), value) for labels, value in pairs if "le" in labels)
    out, low, below = [], 0.0, 0.0
    for upper, cumulative in buckets:
        if math.isinf(upper):
            if cumulative > below:
                out.append({"from": low, "to": None, "count": cumulative - below})
            continue
        out.append({"from": low, "to": upper, "count": cumulative - below})
        low, below = upper, cumulative
    return out


def grid(start: float, end: float, step: float) -> list[float]:
    """Return the timestamps Prometheus evaluates a range query at."""
    n = int((end - start) // step) + 1
    return [start + i * step for i in range(n)]


def aligned(result: list[dict[str, Any]], times: list[float], label: str | None) -> dict[str, list[float | None]]:
    """Map each series (named by label, '' when None) to its values on the time grid (None where absent)."""
    index = {round(t, 3): i for i, t in enumerate(times)}
    out: dict[str, list[float | None]] = {}
    for series in result:
        name = series["metric"].get(label, "") if label else ""
        values: list[float | None] = [None] * len(times)
        for t, v in series.get("values", []):
            i = index.get(round(float(t), 3))
            if i is not None:
                values[i] = finite(value_of(v))
        out[name] = values
    return dict(sorted(out.items()))
