"""The Risk API's problems, in the one dialect of ``loanrisk.problems`` (RFC 9457, ``invalid_params``).

A refused request also names its first invalid parameter on top (``field``, ``reason`` and, in a batch, ``index``):
the SubmitBolt reads those members to dead-letter the right applicant with the right reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from apiflask import APIFlask
from flask import Response

from loanrisk.problems import InvalidParam, invalid, problem
from webkit import problems as web


def refused(status: int, params: Iterable[Mapping[str, Any]], slug: str) -> Response:
    """Answer a request with bad parts (rejection dicts), the first one also on top."""
    found = [InvalidParam.from_mapping(p) for p in params]
    first = found[0]
    on_top: dict[str, Any] = {"field": first.field, "reason": first.reason}
    if first.index is not None:
        on_top["index"] = first.index
    return web.response(invalid(status, found, slug, **on_top))


def invalid_applicants(errors: list[dict[str, Any]]) -> Response:
    """Answer the 422 of applicants (or a batch envelope) the domain validation refused."""
    return refused(422, errors, "invalid-applicant")


def bad_json(detail: str, slug: str) -> Response:
    """Answer the 400 of a body that is missing or is not JSON."""
    return refused(400, [{"field": None, "reason": "BAD_JSON", "detail": detail}], slug)


def failed(status: int, detail: str, slug: str | None = None) -> Response:
    """Answer a problem without invalid parameters (415, 413, 503)."""
    return web.response(problem(status, detail, slug))


def init_app(app: APIFlask) -> None:
    web.init_app(app)
