"""Structured request logs: JSON lines with request id, tenant, route, status, duration."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from django.test import Client

from moyai.platform import services as platform_services
from moyai.platform.logging import JsonFormatter, RequestContextFilter
from moyai.platform.models import Role


@pytest.fixture
def json_lines():
    """Captures moyai.request and django.request records as the production formatter writes."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    loggers = [logging.getLogger("moyai.request"), logging.getLogger("django.request")]
    for lg in loggers:
        lg.addHandler(handler)
    yield lines
    for lg in loggers:
        lg.removeHandler(handler)


@pytest.mark.django_db
def test_one_json_line_per_request_without_query_or_ids(json_lines, town_a, make_staff) -> None:
    staff = make_staff(town_a, Role.REGISTRY)
    token = platform_services.api_token_create(user=staff.user, name="t").plaintext
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_REQUEST_ID="proxy-req-0001")
    response = api.get("/api/v1/registry/persons", {"name": "髙橋", "purpose": "照会"})
    assert response.status_code == 200
    assert response["X-Request-ID"] == "proxy-req-0001"
    api.get("/api/v1/registry/persons/424242", {"purpose": "照会"})
    records = [json.loads(line) for line in json_lines]
    search, view = (r for r in records if r["logger"] == "moyai.request")
    assert search["request_id"] == "proxy-req-0001"
    assert search["route"] == "api/v1/registry/persons"
    assert search["tenant"] == "143014" and search["status"] == 200
    assert search["method"] == "GET" and search["duration_ms"] >= 0
    assert view["route"] == "api/v1/registry/persons/<person_id>"
    assert view["status"] == 404
    text = "\n".join(json_lines)
    for leaked in ("髙橋", "%E9%AB%99", "424242", "purpose", staff.user.username):
        assert leaked not in text


@pytest.mark.django_db
def test_request_id_is_made_when_missing_or_malformed(json_lines) -> None:
    first = Client().get("/healthz")
    bad = Client(HTTP_X_REQUEST_ID="<script>alert(1)</script>").get("/healthz")
    assert len(first["X-Request-ID"]) == 32 and first["X-Request-ID"] != bad["X-Request-ID"]
    assert "<script>" not in bad["X-Request-ID"]
    record = json.loads(json_lines[0])
    assert record["route"] == "healthz" and "tenant" not in record


def test_exceptions_keep_type_and_frames_but_not_the_message() -> None:
    logger = logging.getLogger("moyai.test")
    try:
        raise ValueError("氏名 山田太郎 が不正")
    except ValueError:
        record = logger.makeRecord(
            "moyai.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    record.name_kana = "ヤマダ"  # not an allowed field: dropped
    data = json.loads(JsonFormatter().format(record))
    assert data["exc_type"] == "builtins.ValueError"
    assert data["exc_frames"] and "test_logging.py" in data["exc_frames"][0]
    assert "山田" not in json.dumps(data, ensure_ascii=False) and "name_kana" not in data


def test_django_request_messages_lose_the_path() -> None:
    record = logging.getLogger("django.request").makeRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "%s: %s",
        ("Not Found", "/registry/persons/77/?name=山田"),
        None,
    )
    data = json.loads(JsonFormatter().format(record))
    assert data["msg"] == "Not Found"
