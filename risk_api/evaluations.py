"""Evaluation and model endpoints: /v1/evaluations, /v1/evaluations/batch, /v1/model."""

from __future__ import annotations

from typing import Any

import orjson
from apiflask import APIBlueprint
from apiflask.scaffold import _annotate
from flask import Response, current_app, jsonify, request

from loanrisk.cleaning import Rejection, applicant_from_json, loads_json
from risk_api.problems import bad_json, failed, invalid_applicants
from risk_api.schemas import EXAMPLE_APPLICANT, ApplicantIn, BatchIn, BatchOut, EvaluationOut, ModelOut
from risk_api.service import RiskService, batch_response, validate_batch

bp = APIBlueprint("evaluations", __name__, url_prefix="/v1", tag="Evaluations")
ERRORS = {
    400: "Body missing or not valid JSON",
    413: "Body over the size limit",
    415: "Body is not application/json",
    422: "Invalid applicant (names the field)",
}
BATCH_ERRORS = {
    **ERRORS,
    422: "The request as a whole is wrong: not an object, no or empty `applicants`, an unknown "
    "key, over the batch limit (invalid applicants inside a valid batch are a 200 with problems)",
}


def documented_body(schema: Any, example: Any = None) -> Any:
    """Document a JSON request body without parsing it: the domain validates (APIFlask 2.4 internals)."""

    def decorator(f: Any) -> Any:
        _annotate(f, body=schema, body_example=example, content_type="application/json")
        return f

    return decorator


def service() -> RiskService:
    """Return the app's scoring service, loaded once at start."""
    risk: RiskService = current_app.extensions["risk_service"]
    return risk


def json_body() -> tuple[Any, Response | None]:
    """Return the parsed JSON body, or a problem response (415, 400; 413 is raised by Werkzeug)."""
    if not request.is_json:
        if not request.mimetype and not request.content_length:
            return None, bad_json("a JSON request body is required", "missing-body")
        return None, failed(415, "send the body as application/json", "unsupported-media-type")
    raw = request.get_data(cache=False)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # a chunked body has no length to check up front; Werkzeug stops reading at the limit
        return None, failed(413, f"body over the size limit of {limit} bytes", "too-large")
    try:
        return loads_json(raw), None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None, bad_json(f"invalid JSON: {str(exc)[:200]}", "bad-json")


def json_response(data: Any) -> Response:
    """Answer a JSON document encoded with orjson (the batch answer: up to 1,000 evaluations)."""
    return Response(orjson.dumps(data), mimetype="application/json")


@bp.post("/evaluations")
@bp.output(EvaluationOut, description="Decision with reason codes")
@bp.doc(summary="Evaluate one applicant", responses=ERRORS)
@documented_body(ApplicantIn, EXAMPLE_APPLICANT)
def evaluate_one() -> Response:
    """Score one canonical applicant."""
    data, error = json_body()
    if error:
        return error
    applicant = applicant_from_json(data)
    if isinstance(applicant, Rejection):
        return invalid_applicants([applicant.to_dict()])
    return jsonify(service().evaluate([applicant])[0])


@bp.post("/evaluations/batch")
@bp.output(
    BatchOut,
    description="One slot per applicant in request order: its evaluation, or null when it is invalid "
    "and then named in `problems` by its index",
)
@bp.doc(
    summary="Evaluate 1 to 1,000 applicants; an invalid applicant costs only its own evaluation", responses=BATCH_ERRORS
)
@documented_body(BatchIn, {"applicants": [EXAMPLE_APPLICANT]})
def evaluate_batch() -> Response:
    """Score a batch: an evaluation per valid applicant, a problem per invalid one (null in its result slot)."""
    data, error = json_body()
    if error:
        return error
    checked = validate_batch(data, current_app.config["MAX_BATCH"])
    if isinstance(checked, dict):
        return invalid_applicants([checked])
    return json_response(batch_response(service(), checked))


@bp.get("/model")
@bp.output(ModelOut, description="Model metadata, metrics and the active policy")
@bp.doc(summary="Describe the served model")
def describe_model() -> Response:
    """Return the served model's metadata and metrics."""
    return jsonify(service().describe())
