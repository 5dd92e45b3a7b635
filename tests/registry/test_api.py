from __future__ import annotations

import json

import pytest
from django.test import Client

from moyai.platform import services as platform_services
from moyai.platform.models import Role
from moyai.platform.tenancy import tenant_context
from moyai.registry.models import ResidentRecord

MOVE_IN = {
    "kind": "move_in",
    "notification": {"occurred": {"iso": "2026-04-01"}, "notified_on": "2026-04-02"},
    "previous_address": "東京都千代田区",
    "address": {"town": "一色", "block": "1番地"},
    "members": [
        {
            "family_name": "髙橋",
            "given_name": "一郎",
            "name_kana": "タカハシ　イチロウ",
            "birth": {"iso": "1980-05-10"},
            "sex": "1",
            "relation": "世帯主",
        },
        {
            "family_name": "髙橋",
            "given_name": "翔",
            "name_kana": "タカハシ　ショウ",
            "birth": {"iso": "2012-01-01", "unknown": True, "label": "平成24年頃"},
            "sex": "1",
            "relation": "子",
        },
    ],
}


@pytest.fixture
def api(town_a, make_staff) -> Client:
    staff = make_staff(town_a, Role.REGISTRY)
    token = platform_services.api_token_create(user=staff.user, name="test").plaintext
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def post(client: Client, url: str, body: dict):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_move_in_search_as_of_and_cancel(town_a, api) -> None:
    created = post(api, "/api/v1/registry/movements", MOVE_IN)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["kind"] == "move_in" and len(body["persons"]) == 2
    son = body["persons"][1]
    assert son["birth_date"] == {"iso": "2012-01-01", "unknown": True, "label": "平成24年頃"}
    assert son["relation"] == "子" and son["head_name"] == "髙橋　一郎"

    found = api.get("/api/v1/registry/persons", {"name": "高橋", "purpose": "照会"}).json()
    assert {p["name"] for p in found} == {"髙橋　一郎", "髙橋　翔"}
    head_id = body["persons"][0]["person_id"]
    before = api.get(
        f"/api/v1/registry/persons/{head_id}", {"as_of": "2026-03-31", "purpose": "照会"}
    )
    assert before.status_code == 404 and before.json()["code"] == "not_found"

    moved = post(
        api,
        "/api/v1/registry/movements",
        {
            "kind": "relocation",
            "notification": {"occurred": {"iso": "2026-05-01"}, "notified_on": "2026-05-20"},
            "person_ids": [p["person_id"] for p in body["persons"]],
            "address": {"town": "堀内"},
        },
    )
    assert moved.status_code == 201
    assert moved.json()["warnings"] and "14日以内" in moved.json()["warnings"][0]
    april = api.get(
        f"/api/v1/registry/households/{son['household_number']}",
        {"as_of": "2026-04-15", "purpose": "照会"},
    ).json()
    assert {p["address"] for p in april} == {"神奈川県葉山町一色1番地"}

    cancel = post(
        api, f"/api/v1/registry/movements/{moved.json()['number']}/cancel", {"reason": "誤り"}
    )
    assert cancel.status_code == 201
    now = api.get(f"/api/v1/registry/persons/{head_id}", {"purpose": "照会"}).json()
    assert now["address"] == "神奈川県葉山町一色1番地"
    history = api.get(f"/api/v1/registry/persons/{head_id}/history", {"purpose": "照会"}).json()
    assert [h["cancelled"] for h in history] == [False, True, False]


def test_refusals_are_uniform_and_name_the_field(town_a, api) -> None:
    bad = json.loads(json.dumps(MOVE_IN))
    bad["members"][1]["relation"] = "孫"
    response = post(api, "/api/v1/registry/movements", bad)
    assert response.status_code == 400
    assert response.json()["field"] == "members[1].relation"
    invalid = post(api, "/api/v1/registry/movements", {"kind": "teleport"})
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid"
    no_purpose = api.get("/api/v1/registry/persons", {"name": "高橋"})
    assert no_purpose.status_code == 422 and no_purpose.json()["field"] == "purpose"
    with tenant_context(town_a):
        assert not ResidentRecord.objects.exists()


def test_other_roles_are_refused(town_a, make_staff) -> None:
    staff = make_staff(town_a, Role.TAX)
    token = platform_services.api_token_create(user=staff.user, name="t").plaintext
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert post(client, "/api/v1/registry/movements", MOVE_IN).status_code == 403
    assert client.get("/api/v1/registry/persons", {"name": "x", "purpose": "p"}).status_code == 403


def test_certificate_endpoint_returns_a_signed_pdf(town_a, api) -> None:
    body = post(api, "/api/v1/registry/movements", MOVE_IN).json()
    response = post(
        api,
        "/api/v1/registry/certificates",
        {"person_ids": [body["persons"][0]["person_id"]], "requester": "本人", "purpose": "提出"},
    )
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    verified = api.get(f"/api/v1/documents/verify/{response['X-Moyai-Serial']}").json()
    assert verified["genuine"] is True
