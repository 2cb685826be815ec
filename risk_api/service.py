"""The scoring service the views call: model + decision policy -> response records (no Flask here)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loanrisk import reasons
from loanrisk.applicant import Applicant
from loanrisk.cleaning import Rejection, applicant_from_json
from loanrisk.decision import Policy, decide, policy_from_mapping
from loanrisk.reasons import CATALOGUE
from risk_api.model import Evaluation, RiskModel, load_model

DIGITS = 6  # probabilities are rounded for stable, readable output


@dataclass(frozen=True)
class RiskService:
    """A loaded model (the champion, which decides), the active decision policy and an optional challenger.

    The challenger scores every applicant in shadow: its probability and the decision the same policy would
    give are returned under ``challenger`` in each result, and never change the champion's decision.
    """

    model: RiskModel
    policy: Policy
    challenger: RiskModel | None = None

    def evaluate(self, applicants: Sequence[Applicant]) -> list[dict[str, Any]]:
        """Return the API's result record for each applicant, in order (with the challenger's shadow result)."""
        results = [self.result(e) for e in self.model.evaluate(applicants)]
        if self.challenger is not None and results:
            for result, p in zip(results, self.challenger.probabilities(applicants).tolist(), strict=True):
                result["challenger"] = self.shadow(self.challenger.version, p)
        return results

    def shadow(self, version: str, probability_of_default: float) -> dict[str, Any]:
        """Return the challenger's result: its version, probability and the decision the policy would give."""
        return {
            "model_version": version,
            "probability_of_default": round(probability_of_default, DIGITS),
            "decision": decide(probability_of_default, self.policy),
        }

    def result(self, evaluation: Evaluation) -> dict[str, Any]:
        """Return the API's result record for one evaluation."""
        pd_ = round(evaluation.probability_of_default, DIGITS)
        decision = decide(evaluation.probability_of_default, self.policy)
        return {
            "application_id": evaluation.application_id,
            "probability_of_default": pd_,
            "probability_of_payoff": round(1.0 - pd_, DIGITS),
            "decision": decision,
            "reasons": [r.to_dict() for r in reasons.for_decision(decision, evaluation.reasons)],
            "model_version": self.model.version,
            "policy_version": self.policy.version,
        }

    def describe(self) -> dict[str, Any]:
        """Return the model's metadata and metrics with the active policy and the reason catalogue."""
        meta = self.model.metadata
        keep = (
            "model_version",
            "trained_at",
            "code_version",
            "sklearn_version",
            "training_data",
            "features",
            "estimator",
            "coefficients",
            "metrics",
            "decision_mix_holdout",
            "decision_mix_out_of_time",
            "pipeline_mix_holdout",
            "pipeline_mix_out_of_time",
            "prescreen_policy",
            "policy_tuning",
            "artifact",
        )
        return {
            **{k: meta[k] for k in keep if k in meta},
            "policy": {
                "policy_version": self.policy.version,
                "approve_below": self.policy.approve_below,
                "decline_at": self.policy.decline_at,
            },
            "challenger": None if self.challenger is None else {"model_version": self.challenger.version},
            "reason_codes": dict(CATALOGUE),
        }


@dataclass(frozen=True)
class CheckedBatch:
    """A batch whose envelope is valid: per applicant, in request order, an Applicant or its Rejection."""

    items: list[Applicant | Rejection]

    def problems(self) -> list[dict[str, Any]]:
        """Return one problem (index, field, reason, detail) per invalid applicant."""
        return [{"index": i, **c.to_dict()} for i, c in enumerate(self.items) if isinstance(c, Rejection)]

    def valid(self) -> list[Applicant]:
        """Return the valid applicants, in request order."""
        return [c for c in self.items if not isinstance(c, Rejection)]


def validate_batch(data: object, limit: int) -> CheckedBatch | dict[str, Any]:
    """Return each applicant of the batch checked, or the one error that makes the whole request wrong."""
    if not isinstance(data, Mapping):
        return shape_error("NOT_AN_OBJECT", None, "expected a JSON object with an 'applicants' list")
    extra = sorted(set(data) - {"applicants"}, key=str)
    if extra:
        return shape_error("UNKNOWN_FIELD", str(extra[0])[:64], "only 'applicants' is allowed")
    items = data.get("applicants")
    if not isinstance(items, list):
        return shape_error(
            "MISSING_FIELD" if items is None else "BAD_TYPE", "applicants", "'applicants' must be a list"
        )
    if not 1 <= len(items) <= limit:
        return shape_error("OUT_OF_RANGE", "applicants", f"a batch holds 1 to {limit} applicants, got {len(items)}")
    return CheckedBatch([applicant_from_json(item) for item in items])


def batch_response(service: RiskService, batch: CheckedBatch) -> dict[str, Any]:
    """Return {"results": [evaluation or None, ...in request order], "problems": [...]} for a checked batch."""
    scored = iter(service.evaluate(batch.valid()))
    results = [None if isinstance(c, Rejection) else next(scored) for c in batch.items]
    return {"results": results, "problems": batch.problems()}


def shape_error(reason: str, field: str | None, detail: str) -> dict[str, Any]:
    """Return an error about the batch envelope rather than one applicant."""
    return {"reason": reason, "field": field, "detail": detail}


def load_policy(path: Path, overrides: Mapping[str, Any]) -> Policy | str:
    """Read the policy file and apply non-empty overrides (policy_version, approve_below, decline_at)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return f"cannot read risk policy {path}: {exc}"
    if not isinstance(data, dict):
        return f"risk policy {path} is not a JSON object"
    return policy_from_mapping(data | {k: v for k, v in overrides.items() if v is not None})


def build_service(
    model_dir: Path, policy_file: Path, overrides: Mapping[str, Any], challenger_dir: Path | None = None
) -> RiskService | str:
    """Load model, policy and (when a directory is given) the challenger model, or return why the service cannot
    start."""
    model = load_model(model_dir)
    if isinstance(model, str):
        return model
    challenger = load_model(challenger_dir) if challenger_dir else None
    if isinstance(challenger, str):
        return f"challenger: {challenger}"
    policy = load_policy(policy_file, overrides)
    return policy if isinstance(policy, str) else RiskService(model, policy, challenger)
