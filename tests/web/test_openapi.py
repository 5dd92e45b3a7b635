"""The OpenAPI document behind /api/v1/docs: valid JSON that a YAML/JSON parser with strict
mappings accepts (Swagger UI refuses a document with a key twice)."""

import json
from typing import Any

import pytest
from django.test import Client


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise ValueError(f"duplicate keys {duplicated} in {keys}")
    return dict(pairs)


def test_openapi_document_has_no_duplicate_keys(db) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content, object_pairs_hook=_no_duplicate_keys)
    assert schema["openapi"].startswith("3.")


def test_duplicate_keys_are_caught_by_the_check() -> None:
    with pytest.raises(ValueError, match="200"):
        json.loads('{"responses": {"200": {}, "200": {}}}', object_pairs_hook=_no_duplicate_keys)


@pytest.mark.parametrize(
    ("path", "method", "media_type"),
    [
        ("/api/v1/registry/certificates", "post", "application/pdf"),
        ("/api/v1/billing/statements/{statement_id}/pdf", "get", "application/pdf"),
        ("/api/v1/billing/statements/{statement_id}/csv", "get", "text/csv"),
    ],
)
def test_file_responses_are_described_once_as_their_file_type(db, path, method, media_type) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    ok = schema["paths"][path][method]["responses"]["200"]
    assert ok["description"] == "OK"
    assert ok["content"] == {media_type: {"schema": {"type": "string", "format": "binary"}}}


def test_docs_page_is_served(db) -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert "openapi.json" in response.content.decode()
