"""Input drift: the population stability index (PSI) of recent applicants against the training population.

The reference distribution of every model input (and of the predicted default probability) is computed at
training time and stored in the model's metadata: inner bin edges at the training deciles plus the share of
training rows in each bin, and the share of unknown values (nan) as a bin of its own. Recent applicants are
binned with the same edges, so the comparison never needs the training data again.

PSI = sum over bins of (recent - reference) * ln(recent / reference). A bin empty on one side would make
the logarithm infinite, so shares are floored at ``FLOOR`` (the usual practice). Identical samples give
exactly 0. Bands, as credit teams read them: below 0.1 stable, 0.1 to 0.25 watch, above 0.25 act.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

BINS = 10
FLOOR = 1e-4
WATCH_AT = 0.1
ACT_ABOVE = 0.25
STABLE, WATCH, ACT = "stable", "watch", "act"
PROBABILITY = "probability_of_default"  # the name under which the predicted probability is stored


@dataclass(frozen=True, slots=True)
class Reference:
    """Bins of one variable at training time: inner edges, share per bin, share of unknown values."""

    edges: tuple[float, ...]
    fractions: tuple[float, ...]  # len(edges) + 1 bins: (-inf, e0], (e0, e1], ..., (e_last, inf)
    missing: float

    def to_dict(self) -> dict[str, Any]:
        """Return the reference as JSON-ready data (stored in the model metadata)."""
        return {"edges": list(self.edges), "fractions": list(self.fractions), "missing": self.missing}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reference:
        """Build a reference back from ``to_dict()``'s output."""
        return cls(tuple(map(float, data["edges"])), tuple(map(float, data["fractions"])), float(data["missing"]))


@dataclass(frozen=True, slots=True)
class Drift:
    """The PSI of one variable with its band and the size of the recent sample."""

    name: str
    psi: float
    band: str
    n: int

    def to_dict(self) -> dict[str, Any]:
        """Return the drift as JSON-ready data."""
        return {"name": self.name, "psi": round(self.psi, 6), "band": self.band, "n": self.n}


def band(psi: float) -> str:
    """Return stable (< 0.1), watch (0.1 to 0.25) or act (> 0.25)."""
    if psi < WATCH_AT:
        return STABLE
    return WATCH if psi <= ACT_ABOVE else ACT


def shares(values: np.ndarray, edges: Sequence[float]) -> tuple[np.ndarray, float]:
    """Return the share of known values in each bin of edges, and the share of unknown values."""
    values = np.asarray(values, dtype=float)
    known = values[~np.isnan(values)]
    total = max(len(values), 1)
    counts = np.bincount(np.searchsorted(np.asarray(edges, dtype=float), known, side="left"), minlength=len(edges) + 1)
    return counts / total, (len(values) - len(known)) / total


def reference(values: Sequence[float] | np.ndarray, bins: int = BINS) -> Reference:
    """Return the reference distribution of a training sample: decile edges (distinct) and shares."""
    values = np.asarray(values, dtype=float)
    known = values[~np.isnan(values)]
    if not len(known):
        return Reference((), (0.0,), float(len(values) > 0))
    # edges are observed values (no interpolation between 0 and 1 of a flag); the top bin is never empty
    quantiles = np.quantile(known, np.linspace(0, 1, bins + 1)[1:-1], method="inverted_cdf")
    edges = tuple(float(e) for e in np.unique(quantiles) if e < known.max())
    fractions, missing = shares(values, edges)
    return Reference(edges, tuple(float(f) for f in fractions), float(missing))


def psi(expected: Reference, values: Sequence[float] | np.ndarray) -> float:
    """Return the PSI of a recent sample against a reference (0 for a sample distributed as the reference)."""
    actual, actual_missing = shares(np.asarray(values, dtype=float), expected.edges)
    a = np.append(actual, actual_missing)
    e = np.append(np.asarray(expected.fractions, dtype=float), expected.missing)
    a, e = np.maximum(a, FLOOR), np.maximum(e, FLOOR)
    value = float(np.sum((a - e) * np.log(a / e)))
    return 0.0 if math.isclose(value, 0.0, abs_tol=1e-12) else value


def references(columns: Mapping[str, Sequence[float] | np.ndarray], bins: int = BINS) -> dict[str, dict[str, Any]]:
    """Return the JSON-ready reference of every named column (model inputs and the predicted probability)."""
    return {name: reference(values, bins).to_dict() for name, values in columns.items()}


def report(stored: Mapping[str, Mapping[str, Any]], columns: Mapping[str, Sequence[float] | np.ndarray]) -> list[Drift]:
    """Return the drift of every column that has a stored reference, worst first."""
    drifts = []
    for name, values in columns.items():
        if name in stored:
            value = psi(Reference.from_dict(stored[name]), values)
            drifts.append(Drift(name, value, band(value), len(values)))
    return sorted(drifts, key=lambda d: -d.psi)


def overall(drifts: Sequence[Drift]) -> str:
    """Return the worst band among drifts (stable when there are none)."""
    order = (STABLE, WATCH, ACT)
    return max((d.band for d in drifts), key=order.index, default=STABLE)
