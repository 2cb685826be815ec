"""Errors of the Applicant Data API as RFC 9457 problems (``loanrisk.problems``), bad parameters listed by name.

The API's own validators write their messages as ``"CODE: text"`` (e.g. ``"OUT_OF_RANGE: must be 1..1000."``)
so every entry of ``invalid_params`` carries a stable reason code, the same codes as the domain's rejections.
"""

from __future__ import annotations

import re
from typing import Any

from apiflask import APIFlask, HTTPError
from apiflask.fields import Field, Integer, Number, String

from loanrisk.problems import InvalidParam, Problem, invalid
from webkit import problems as web

CODED = re.compile(r"([A-Z][A-Z_]+): (.+)", re.DOTALL)
# marshmallow's own messages for the field types the API uses
BUILT_IN_REASONS = {
    Integer.default_error_messages["invalid"]: "BAD_TYPE",
    Number.default_error_messages["too_large"]: "OUT_OF_RANGE",
    String.default_error_messages["invalid"]: "BAD_TYPE",
    Field.default_error_messages["required"]: "MISSING_FIELD",
}


def coded(message: str) -> tuple[str, str]:
    """Split a message into its reason code and text; a message without a code gets a known or generic one."""
    match = CODED.fullmatch(message)
    if match:
        return match[1], match[2]
    return BUILT_IN_REASONS.get(message, "INVALID"), message


def param(field: str, messages: list[str]) -> InvalidParam:
    reason, first = coded(messages[0])
    return InvalidParam(field, reason, "; ".join([first] + [coded(m)[1] for m in messages[1:]]))


def invalid_params(detail: Any) -> list[InvalidParam]:
    """Flatten APIFlask's ``{location: {field: [messages]}}`` into one entry per bad parameter.

    The location (query, path) is left out: no two parameters of this API share a name.
    """
    if not isinstance(detail, dict):
        return []
    found = []
    for names in detail.values():
        for name, messages in names.items() if isinstance(names, dict) else ():
            texts = [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
            found.append(param(str(name), texts))
    return found


def bad_parameter(field: str, message: str) -> HTTPError:
    """Return the 400 a view raises for a parameter it checks itself (``message`` as ``"CODE: text"``)."""
    return web.ProblemError(invalid(400, [param(field, [message])]))


def validation_problem(error: HTTPError) -> Problem | None:
    params = invalid_params(error.detail)
    return invalid(error.status_code, params) if params else None


def init_app(app: APIFlask) -> None:
    web.init_app(app, validation_problem)
