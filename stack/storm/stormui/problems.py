"""The Storm UI's errors in the project's one problem dialect (``loanrisk.problems``, sent by ``webkit.problems``)."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from adapters.nimbus import NimbusDownError, NimbusError, NotFoundError
from loanrisk.problems import InvalidParam, invalid, problem
from webkit.problems import ProblemError, response


def bad_parameter(name: str, reason: str, detail: str) -> ProblemError:
    """Return the 422 a view raises for a query, path or body parameter it refuses."""
    return ProblemError(invalid(422, [InvalidParam(name, reason, detail)]))


def refusal(status: int, slug: str, title: str, detail: str) -> ProblemError:
    """Return a problem of the UI's own type ``slug`` (a refused action or log file) for a view to raise."""
    return ProblemError(problem(status, detail, slug, title=title))


def register_error_handlers(app: Flask) -> None:
    """Every error is problem+json: Nimbus down 503, unknown topology/component 404, HTTP errors as they are."""

    @app.errorhandler(ProblemError)
    def on_problem(error: ProblemError) -> Response:
        return response(error.problem)

    @app.errorhandler(NimbusDownError)
    def on_nimbus_down(error: NimbusDownError) -> Response:
        return response(problem(503, str(error), "nimbus-unavailable", title="Nimbus unavailable"))

    @app.errorhandler(NimbusError)
    def on_nimbus_error(error: NimbusError) -> Response:
        return response(problem(502, str(error), "nimbus-error", title="Nimbus error"))

    @app.errorhandler(NotFoundError)
    def on_not_found(error: NotFoundError) -> Response:
        return response(problem(404, str(error)))

    @app.errorhandler(HTTPException)
    def on_http_error(error: HTTPException) -> Response:
        return response(problem(error.code or 500, error.description or error.name))
