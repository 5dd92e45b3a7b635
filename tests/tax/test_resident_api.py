"""個人住民税 API: public 試算 (= a real assessment), a person's tax with its explanation, 更正."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from moyai.platform import services as platform_services
from moyai.platform.models import AuditEvent, Role
from moyai.platform.tenancy import tenant_context
from moyai.tax.resident import services
from moyai.tax.resident.models import Assessment

from .test_resident_services import YEAR, _family


@pytest.fixture
def api(town_a, make_staff) -> Client:
    staff = make_staff(town_a, Role.TAX)
    token = platform_services.api_token_create(user=staff.user, name="test").plaintext
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _post(client: Client, url: str, body: dict) -> object:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_public_simulation_needs_no_sign_in_and_names_bad_fields(town_a) -> None:
    client = Client()
    body = {"fiscal_year": YEAR, "taxpayer": {"age": 30, "salary_revenue": 1_500_000}}
    answer = _post(client, "/api/v1/tax/resident/simulate", body)
    assert answer.status_code == 200
    data = answer.json()
    assert data["total"] == 44_500 and data["trace"][-1]["key"] == "total"
    body["municipality_code"] = "143014"
    assert _post(client, "/api/v1/tax/resident/simulate", body).json()["total"] == 44_500
    body["taxpayer"] = {"age": 30, "dependants": [{"age": -1}]}
    bad = _post(client, "/api/v1/tax/resident/simulate", body)
    assert bad.status_code == 400 and bad.json()["field"] == "dependants[0].age"
    body["municipality_code"] = "999999"
    assert _post(client, "/api/v1/tax/resident/simulate", body).status_code == 404


def test_person_tax_and_correction(town_a, in_town, api) -> None:
    family = _family(town_a, in_town)
    son = family.records[2]
    with in_town(town_a):
        services.declaration_record(
            person_id=son.person_id,
            fiscal_year=YEAR,
            values={"salary_revenue": 1_500_000},
            kind="declaration",
        )
    url = f"/api/v1/tax/resident/persons/{son.person_id}"
    empty = api.get(url, {"fiscal_year": YEAR, "purpose": "照会"}).json()
    assert empty["current"] is None and empty["history"] == []
    changed = _post(api, f"{url}/correction", {"fiscal_year": YEAR, "note": "申告"}).json()
    assert changed["changed"] and changed["assessment"]["total"] == 44_500
    again = _post(api, f"{url}/correction", {"fiscal_year": YEAR, "note": "再確認"}).json()
    assert again == {"changed": False, "assessment": None}
    tax = api.get(url, {"fiscal_year": YEAR, "purpose": "照会"}).json()
    assert tax["current"]["collection"] == "ordinary"
    assert tax["explanation"]["total"] == tax["current"]["total"] == 44_500
    assert len(tax["current"]["installments"]) == 4
    with tenant_context(town_a):
        assert AuditEvent.objects.filter(
            target_type="person", target_id=str(son.person_id), purpose="照会"
        ).exists()
        assert Assessment.objects.count() == 1
    overview = api.get("/api/v1/tax/resident/overview", {"fiscal_year": YEAR}).json()
    assert overview["assessments"] == 1 and overview["total"] == 44_500


def test_other_roles_are_refused(town_a, make_staff) -> None:
    staff = make_staff(town_a, Role.REGISTRY)
    token = platform_services.api_token_create(user=staff.user, name="t").plaintext
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    answer = client.get("/api/v1/tax/resident/overview", {"fiscal_year": YEAR})
    assert answer.status_code == 403
