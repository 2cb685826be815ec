"""OpenAPI post-processing shared by the APIs: say in the document what the apps really send."""

from __future__ import annotations

from typing import Any

from loanrisk.problems import MEDIA_TYPE


def document_problems(spec: dict[Any, Any] | str) -> dict[Any, Any] | str:
    """Move every 4xx/5xx response body from application/json to application/problem+json.

    APIFlask documents error bodies as application/json; the apps send problem+json, and a client generated
    from the document (or schemathesis) must expect that.
    """
    if isinstance(spec, str):  # APIFlask hands over YAML text when SPEC_FORMAT is "yaml"
        return spec
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if str(status)[:1] in ("4", "5") and "application/json" in content:
                    content[MEDIA_TYPE] = content.pop("application/json")
    return spec
