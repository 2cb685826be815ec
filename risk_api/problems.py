"""Every error of the Risk API as application/problem+json (RFC 9457), from one place."""

from __future__ import annotations

from typing import Any

from apiflask import HTTPError
from flask import Response, json
from werkzeug.http import HTTP_STATUS_CODES

PROBLEM_JSON = "application/problem+json"
MAX_LISTED_ERRORS = 100


def problem(status: int, detail: str, slug: str | None = None, **extra: Any) -> Response:
    """Return a problem+json response; ``slug`` names a problem type of this API, else about:blank."""
    body = {
        "type": f"urn:loanrisk:problem:{slug}" if slug else "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def invalid_applicants(errors: list[dict[str, Any]]) -> Response:
    """Return the 422 for applicants the domain validation refused; the first error is named on top."""
    first = errors[0]
    where = f"applicant {first['index']}: " if "index" in first else ""
    return problem(
        422,
        f"{where}{first['detail']}",
        "invalid-applicant",
        reason=first["reason"],
        field=first["field"],
        **({"index": first["index"]} if "index" in first else {}),
        errors=errors[:MAX_LISTED_ERRORS],
    )


def http_error_to_problem(error: HTTPError) -> Response:
    """Turn any HTTPError (404, 405, 413, aborts) into a problem+json response."""
    detail = error.message if isinstance(error.message, str) else HTTP_STATUS_CODES.get(error.status_code, "Error")
    response = problem(error.status_code, detail, **(error.extra_data or {}))
    for key, value in (error.headers or {}).items():
        response.headers[key] = value
    return response


def internal_error(_: Exception) -> Response:
    """Return a generic 500 problem without leaking internals (the traceback goes to the log)."""
    return problem(500, "internal error; see the Risk API log")


def init_app(app: Any) -> None:
    """Route every HTTP error and unexpected exception of app through problem+json."""
    app.error_processor(http_error_to_problem)
    app.register_error_handler(500, internal_error)
