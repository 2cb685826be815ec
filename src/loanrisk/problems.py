"""Problem details (RFC 9457): the one error shape of every HTTP surface of the project, without a framework.

Every app answers an error with the same members: ``type`` (``about:blank`` or ``urn:loanrisk:problem:<slug>``),
``title``, ``status``, ``detail`` and, when the request had bad parts, one list ``invalid_params`` whose entries
always carry ``field`` (``None`` when the whole body is wrong), ``reason`` (a stable upper-case code such as
``OUT_OF_RANGE``, the same codes as ``loanrisk.cleaning``'s rejections), ``detail`` (for a person) and, for an
element of a batch, ``index``. Apps only wrap ``Problem.to_dict()`` in a response with ``MEDIA_TYPE``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:loanrisk:problem:"
# A batch of 1,000 bad applicants would otherwise answer with a 1,000-entry list; the count stays exact.
MAX_INVALID_PARAMS = 100


@dataclass(frozen=True)
class InvalidParam:
    """One bad part of a request; ``index`` is the element's position when the request is a batch."""

    field: str | None
    reason: str
    detail: str
    index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"field": self.field, "reason": self.reason, "detail": self.detail}
        if self.index is not None:
            body["index"] = self.index
        return body

    def describe(self) -> str:
        """Say where and what in one line, e.g. ``applicant 3: dti: must be 0..100``."""
        where = f"applicant {self.index}: " if self.index is not None else ""
        name = f"{self.field}: " if self.field else ""
        return f"{where}{name}{self.detail}"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> InvalidParam:
        """Read a rejection dict (``Rejection.to_dict()`` plus an optional ``index``)."""
        index = data.get("index")
        return cls(
            data.get("field"),
            str(data["reason"]),
            str(data.get("detail", "")),
            index if isinstance(index, int) else None,
        )


@dataclass(frozen=True)
class Problem:
    """A problem document; ``extensions`` are extra members (RFC 9457 section 3.2), never the standard ones."""

    status: int
    detail: str
    type: str = "about:blank"
    title: str = ""
    invalid_params: tuple[InvalidParam, ...] = ()
    invalid_count: int = 0
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {key: value for key, value in self.extensions.items() if key not in STANDARD_MEMBERS}
        body.update(
            type=self.type, title=self.title or status_title(self.status), status=self.status, detail=self.detail
        )
        if self.invalid_params:
            body["invalid_params"] = [param.to_dict() for param in self.invalid_params]
            if self.invalid_count > len(self.invalid_params):
                body["invalid_count"] = self.invalid_count
        return body


STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "invalid_params", "invalid_count"})


def status_title(status: int) -> str:
    """Return the HTTP reason phrase, which RFC 9457 wants as the title of an ``about:blank`` problem."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_type(slug: str | None) -> str:
    """Return the type URI of a problem this project defines, or ``about:blank`` for a plain HTTP status."""
    return f"{TYPE_PREFIX}{slug}" if slug else "about:blank"


def problem(status: int, detail: str, slug: str | None = None, *, title: str = "", **extensions: Any) -> Problem:
    """Build a problem; ``slug`` names a problem type of ours (then a ``title`` of its own is allowed)."""
    return Problem(status, detail, problem_type(slug), title if slug else "", extensions=extensions)


def invalid(status: int, params: Iterable[InvalidParam], slug: str | None = None, **extensions: Any) -> Problem:
    """Build the problem of a request with bad parts: the first one is the ``detail``, all are listed (capped)."""
    found = tuple(params)
    if not found:
        raise ValueError("an invalid-request problem needs at least one invalid parameter")
    detail = found[0].describe() + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
    return Problem(
        status,
        detail,
        problem_type(slug),
        invalid_params=found[:MAX_INVALID_PARAMS],
        invalid_count=len(found),
        extensions=extensions,
    )


# OpenAPI 3 schema of the document, for the apps' generated specs (what `Problem.to_dict()` produces).
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "invalid_params": {
            "type": "array",
            "maxItems": MAX_INVALID_PARAMS,
            "items": {
                "type": "object",
                "required": ["field", "reason", "detail"],
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "reason": {"type": "string"},
                    "detail": {"type": "string"},
                    "index": {"type": "integer", "minimum": 0},
                },
            },
        },
        "invalid_count": {"type": "integer", "minimum": 1},
    },
}
