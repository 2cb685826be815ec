"""One error processor: every error is an RFC 9457 problem (application/problem+json) naming bad parameters."""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask, HTTPError
from werkzeug.http import HTTP_STATUS_CODES

PROBLEM_JSON = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "invalid_params": {
            "type": "array",
            "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "in": {"type": "string"}, "reason": {"type": "string"}}},
        },
    },
}


def invalid_params(detail: Any) -> list[dict[str, str]]:
    """Flatten APIFlask's {location: {field: [messages]}} validation detail into RFC 9457 invalid_params."""
    if not isinstance(detail, dict):
        return []
    found = []
    for location, fields in detail.items():
        for name, messages in (fields.items() if isinstance(fields, dict) else []):
            reason = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
            found.append({"name": str(name), "in": str(location), "reason": reason})
    return found


def problem(error: HTTPError) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Render an HTTP error as a problem document."""
    params = invalid_params(error.detail)
    detail = str(error.message)
    if params:
        detail = "; ".join(f"{p['in']} parameter '{p['name']}': {p['reason']}" for p in params)
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(error.status_code, "Error"),
        "status": error.status_code,
        "detail": detail,
    }
    if params:
        body["invalid_params"] = params
    body.update(error.extra_data or {})
    return body, error.status_code, {**dict(error.headers or {}), "Content-Type": PROBLEM_JSON}


def document_problems(spec: dict[str, Any]) -> dict[str, Any]:
    """Document every 4xx/5xx body of the OpenAPI document as application/problem+json (what is sent)."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if str(status)[0] in "45" and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return spec


def init_app(app: APIFlask) -> None:
    """Register the problem renderer as the app's error processor, and document it in the spec."""
    app.error_processor(problem)
    app.spec_processor(document_problems)
