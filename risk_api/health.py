"""Liveness and readiness probes."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Response, current_app, jsonify

from loanrisk.cleaning import applicant_from_json
from risk_api.problems import failed
from risk_api.schemas import EXAMPLE_APPLICANT, StatusOut

bp = APIBlueprint("health", __name__, tag="Health")


@bp.get("/healthz")
@bp.output(StatusOut)
@bp.doc(summary="Liveness: the process answers")
def healthz() -> Response:
    """Say the process is alive."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@bp.output(StatusOut)
@bp.doc(summary="Readiness: the model scores an example applicant", responses={503: "Not ready"})
def readyz() -> Response:
    """Score the example applicant end to end; ready only if that works."""
    risk = current_app.extensions["risk_service"]
    try:
        risk.evaluate([applicant_from_json(EXAMPLE_APPLICANT)])
    except Exception as exc:  # a probe reports failure instead of raising
        current_app.logger.exception("readiness probe failed")
        return failed(503, f"model cannot score: {type(exc).__name__}", "not-ready")
    return jsonify({"status": "ready", "model_version": risk.model.version})
