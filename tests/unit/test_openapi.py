"""The OpenAPI post-processor both apps share: error bodies are documented as problem+json."""

from __future__ import annotations

from webkit.openapi import document_problems


def test_error_bodies_become_problem_json_and_success_bodies_stay_json() -> None:
    schema = {"$ref": "#/components/schemas/X"}
    spec = {
        "paths": {
            "/a": {
                "parameters": [{"name": "id", "in": "path"}],
                "get": {
                    "responses": {
                        "200": {"content": {"application/json": schema}},
                        "404": {"content": {"application/json": schema}},
                        "503": {"content": {"application/json": schema}},
                        "default": {"content": {"application/json": schema}},
                    }
                },
            }
        }
    }
    processed = document_problems(spec)
    assert isinstance(processed, dict)
    responses = processed["paths"]["/a"]["get"]["responses"]
    assert responses["200"]["content"] == {"application/json": schema}
    assert responses["404"]["content"] == {"application/problem+json": schema}
    assert responses["503"]["content"] == {"application/problem+json": schema}
    assert responses["default"]["content"] == {"application/json": schema}


def test_a_yaml_document_passes_through() -> None:
    assert document_problems("openapi: 3.0.3\n") == "openapi: 3.0.3\n"
