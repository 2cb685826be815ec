"""Read the outcomes out of Risk API response bodies (pure functions: no Flask, no prometheus-client).

Shapes, as the Risk API answers them:
- one evaluation: ``{"application_id", "decision", "probability_of_default", "reasons", ...}``;
- a batch: ``{"results": [<evaluation>, ...]}``, or, with per-applicant problems,
  ``{"results": [<evaluation or null>, ...], "problems": [{"index", "field", "reason", "detail"}, ...]}``;
- a 422 problem: ``{"reason", "field", ..., "errors": [{"index"?, "reason", ...}, ...]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNKNOWN = "UNKNOWN"


def decisions_in(body: Mapping[str, Any]) -> list[str]:
    """Return the decision of each evaluation in a response body (none for a problem)."""
    if "decision" in body:
        return [str(body["decision"])]
    results = body.get("results")
    if not isinstance(results, list):
        return []
    return [str(r["decision"]) for r in results if isinstance(r, Mapping) and "decision" in r]


def validation_reasons_in(body: Mapping[str, Any]) -> list[str]:
    """Return the reason of each refused applicant: the batch's problems, a 422's errors, or its one reason."""
    for key in ("problems", "errors"):
        items = body.get(key)
        if isinstance(items, list) and items:
            return [str(p.get("reason") or UNKNOWN) if isinstance(p, Mapping) else UNKNOWN for p in items]
    if "problems" in body:
        return []
    return [str(body.get("reason") or UNKNOWN)]
