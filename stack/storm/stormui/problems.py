"""One shape for every error the UI answers: RFC 9457 problem details."""

from __future__ import annotations

import json

from flask import Response


def problem(status: int, title: str, detail: str) -> Response:
    """An application/problem+json response."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    return Response(body, status=status, mimetype="application/problem+json")


class Problem(Exception):
    """Raised by a view to answer a problem document (status, title, detail)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail

    def response(self) -> Response:
        """This problem as a response."""
        return problem(self.status, self.title, self.detail)
