"""Decision policy: a default probability becomes APPROVE, REVIEW or DECLINE.

The thresholds and the policy version are configuration (config/risk_policy.json for the Risk
API), never constants here, so a policy change is a config change with a new version.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

APPROVE = "APPROVE"
REVIEW = "REVIEW"
DECLINE = "DECLINE"
DECISIONS = (APPROVE, REVIEW, DECLINE)


@dataclass(frozen=True, slots=True)
class Policy:
    """Approve below ``approve_below``, decline at or above ``decline_at``, review in between."""

    version: str
    approve_below: float
    decline_at: float


def policy_from_mapping(data: Mapping[str, Any]) -> Policy | str:
    """Build a Policy from config keys, or return why the config is invalid."""
    try:
        policy = Policy(str(data["policy_version"]), float(data["approve_below"]), float(data["decline_at"]))
    except (KeyError, TypeError, ValueError) as exc:
        return f"risk policy config is invalid: {exc!r}"
    if not policy.version:
        return "risk policy config is invalid: empty policy_version"
    if not 0.0 <= policy.approve_below <= policy.decline_at <= 1.0:
        return "risk policy config is invalid: need 0 <= approve_below <= decline_at <= 1"
    return policy


def decide(probability_of_default: float, policy: Policy) -> str:
    """Return APPROVE, REVIEW or DECLINE for a default probability under the policy."""
    if math.isnan(probability_of_default):
        raise ValueError("probability of default is nan")
    if probability_of_default < policy.approve_below:
        return APPROVE
    if probability_of_default >= policy.decline_at:
        return DECLINE
    return REVIEW
