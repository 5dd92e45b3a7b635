"""API validation errors speak Japanese and keep the uniform {"code", "message", "field"} body."""

import json

import pytest
from django.test import Client

from moyai.platform import services
from moyai.platform.models import AuditEvent, Role
from moyai.platform.tenancy import tenant_context
from moyai.web.api import _message


@pytest.fixture
def client(town_a, make_staff) -> Client:
    staff = make_staff(town_a, Role.REGISTRY)
    new = services.api_token_create(user=staff.user, name="住基連携", days=30)
    return Client(HTTP_AUTHORIZATION=f"Bearer {new.plaintext}")


def _post(client: Client, url: str, body: object):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data, content_type="application/json")


def test_a_missing_query_parameter_is_required_in_japanese(client, town_a) -> None:
    with tenant_context(town_a):
        before = AuditEvent.objects.count()
    response = client.get("/api/v1/registry/persons/87")
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid",
        "message": "入力が正しくありません（purpose）: 必須です",
        "field": "purpose",
        "errors": [{"field": "purpose", "message": "必須です", "type": "missing"}],
    }
    with tenant_context(town_a):
        assert AuditEvent.objects.count() == before  # refused before anything was read


def test_numbers_and_ranges(client) -> None:
    body = client.get("/api/v1/events", {"limit": "abc"}).json()
    assert body["errors"] == [
        {"field": "limit", "message": "整数で入力してください", "type": "int_parsing"}
    ]
    body = client.get("/api/v1/events", {"limit": 5000}).json()
    assert body["message"] == "入力が正しくありません（limit）: 1000以下の値を入力してください"


def test_lengths_of_strings_and_lists(client) -> None:
    response = _post(
        client,
        "/api/v1/registry/certificates",
        {"person_ids": [], "requester": "代" * 51, "purpose": ""},
    )
    assert response.status_code == 422
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert messages == {
        "body.person_ids": "1件以上指定してください",
        "body.requester": "50文字以内で入力してください",
        "body.purpose": "入力してください",
    }


def test_the_kind_of_a_movement_and_dates(client) -> None:
    body = _post(client, "/api/v1/registry/movements", {"kind": "nope"}).json()
    assert body["errors"][0]["type"] == "union_tag_invalid"
    assert body["errors"][0]["message"].startswith(
        "kind は次のいずれかを指定してください: move_in、birth、move_out"
    )
    body = _post(client, "/api/v1/registry/movements", {}).json()
    assert body["errors"][0]["message"] == "kind を指定してください"
    body = _post(
        client,
        "/api/v1/registry/movements",
        {
            "kind": "move_in",
            "notification": {"notified_on": "2024-01-01T10:00:00", "occurred": "1日"},
            "members": [{}],
            "previous_address": "横浜市",
        },
    ).json()
    messages = {e["type"]: e["message"] for e in body["errors"]}
    assert messages["date_from_datetime_inexact"] == (
        "日付には時刻を付けずに YYYY-MM-DD で入力してください"
    )
    assert messages["missing"] == "必須です"


def test_no_english_in_any_message(client) -> None:
    bodies = [
        client.get("/api/v1/registry/persons/87").json(),
        client.get("/api/v1/events", {"limit": "x", "after": "y"}).json(),
        _post(client, "/api/v1/registry/movements", {"kind": "birth"}).json(),
        _post(client, "/api/v1/registry/certificates", {"person_ids": "x"}).json(),
    ]
    for body in bodies:
        for text in [body["message"]] + [e["message"] for e in body["errors"]]:
            assert "Input" not in text and "Field" not in text and "should" not in text, text


def test_an_unreadable_body_is_refused_in_japanese(client) -> None:
    response = _post(client, "/api/v1/registry/movements", "not json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "error",
        "message": "リクエストの本文を読み取れません（JSON の形式を確認）",
        "field": "",
    }


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ({"type": "missing", "msg": "Field required"}, "必須です"),
        ({"type": "string_too_long", "ctx": {"max_length": 20}}, "20文字以内で入力してください"),
        ({"type": "string_too_short", "ctx": {"min_length": 3}}, "3文字以上で入力してください"),
        ({"type": "int_parsing"}, "整数で入力してください"),
        ({"type": "date_parsing"}, "日付を西暦の YYYY-MM-DD で入力してください（例: 2025-04-01）"),
        (
            {"type": "date_from_datetime_parsing"},
            "日付を西暦の YYYY-MM-DD で入力してください（例: 2025-04-01）",
        ),
        (
            {"type": "literal_error", "ctx": {"expected": "'1' or '2'"}},
            "次のいずれかを指定してください: 1、2",
        ),
        (
            {"type": "enum", "ctx": {"expected": "'salary', 'pension' or 'declaration'"}},
            "次のいずれかを指定してください: salary、pension、declaration",
        ),
        ({"type": "greater_than_equal", "ctx": {"ge": 0}}, "0以上の値を入力してください"),
        # A validator's own (Japanese) message is kept as it is.
        (
            {
                "type": "value_error",
                "msg": "Value error, 年度は2025以降です",
                "ctx": {"error": ValueError("年度は2025以降です")},
            },
            "年度は2025以降です",
        ),
        (
            {"type": "value_error", "msg": "Value error, 続柄を入力してください"},
            "続柄を入力してください",
        ),
        ({"type": "some_future_type", "msg": "Something English"}, "入力が正しくありません"),
        # A message whose number is missing from ``ctx`` falls back to the generic one.
        ({"type": "too_long", "ctx": {}}, "入力が正しくありません"),
        ({"type": "enum"}, "次のいずれかを指定してください"),
    ],
)
def test_pydantic_error_types_in_japanese(error, message) -> None:
    assert _message(error) == message
