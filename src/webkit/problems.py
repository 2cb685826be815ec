"""Problem details as Flask responses: APIFlask's errors and unexpected exceptions become ``loanrisk.problems``."""

from __future__ import annotations

from collections.abc import Callable

from apiflask import APIFlask, HTTPError
from flask import Response, json
from werkzeug.datastructures import Headers

from loanrisk.problems import MEDIA_TYPE, Problem, problem, status_title
from webkit.openapi import document_problems


class ProblemError(HTTPError):
    """Raise a built problem from a view; the error processor answers with it as it is."""

    def __init__(self, built: Problem) -> None:
        super().__init__(built.status, built.detail)
        self.problem = built


def response(built: Problem, headers: Headers | None = None) -> Response:
    """Answer with the problem, keeping the error's own headers (Allow, Retry-After) but not its Content-Type."""
    resp = Response(json.dumps(built.to_dict()), status=built.status, mimetype=MEDIA_TYPE)
    for key, value in (headers or Headers()).items():
        if key.lower() != "content-type":
            resp.headers[key] = value
    return resp


def from_http_error(error: HTTPError) -> Problem:
    """Turn an APIFlask/Werkzeug error (404, 405, 413, an abort) into a problem, keeping its extra members."""
    if isinstance(error, ProblemError):
        return error.problem
    detail = error.message if isinstance(error.message, str) and error.message else None
    return problem(error.status_code, detail or status_title(error.status_code), **(error.extra_data or {}))


def internal_error(_: Exception) -> Response:
    """Answer a generic 500 without leaking internals (Flask logs the traceback)."""
    return response(problem(500, "internal error; see the service log"))


def init_app(app: APIFlask, validation_problem: Callable[[HTTPError], Problem | None] | None = None) -> None:
    """Route every error of ``app`` through problem+json and document it so in the OpenAPI spec.

    ``validation_problem(error)`` may turn APIFlask's request-validation errors (``error.detail`` holds
    marshmallow's messages) into a problem with ``invalid_params``; other errors keep their message.
    """

    def render(error: HTTPError) -> Response:
        built = validation_problem(error) if validation_problem and error.detail else None
        return response(built or from_http_error(error), Headers(error.headers or {}))

    app.error_processor(render)
    app.register_error_handler(500, internal_error)
    app.spec_processor(document_problems)
