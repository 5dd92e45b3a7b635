"""固定資産税・軽自動車税: screens (search, 名寄帳, 賦課, PDF) and the API (public 試算)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from moyai.platform.models import Role
from moyai.tax.addressees import services as addressees
from moyai.tax.light_vehicle import services as vehicles
from moyai.tax.property import services
from moyai.tax.property.models import PropertyTaxAssessment

from ..conftest import signed_in_client
from .property_fixtures import family, pdf_text

YEAR = 2026


@pytest.fixture
def ledger(town_a, in_town):
    moved = family(town_a, in_town)
    with in_town(town_a):
        owner = addressees.addressee_for_resident(person_id=moved.records[0].person_id)
        parcel = services.parcel_register(
            owner_id=owner.pk,
            facts=services.ParcelFacts("一色", "1234-1", "宅地", "200", 12_000_000, "200", "0"),
            changed_on=date(2025, 6, 1),
        )
        vehicle = vehicles.vehicle_register(
            owner_id=owner.pk,
            facts=vehicles.VehicleFacts("湘南 580 あ 12-34", "cargo", first_inspection="2019-01"),
            acquired_on=date(2024, 1, 1),
        )
    return owner, parcel, vehicle


def test_search_ledger_run_and_notice(town_a, make_staff, ledger) -> None:
    owner, parcel, _ = ledger
    client = signed_in_client(make_staff(town_a, Role.TAX))
    page = client.get("/tax/property/", {"q": "タカハシ", "year": YEAR})
    assert page.status_code == 200 and "髙橋" in page.content.decode()
    by_lot = client.get("/tax/property/", {"lot_number": "1234", "year": YEAR})
    assert "一色1234-1" in by_lot.content.decode()
    run = client.post("/tax/property/run/", {"year": YEAR})
    assert run.status_code == 302 and run["Location"].startswith("/tax/resident/progress/")
    assert "順番待ち" in client.get(run["Location"]).content.decode()  # a background task
    from urllib.parse import parse_qs, urlparse

    from moyai.tax.property.tasks import assess_year

    key = parse_qs(urlparse(run["Location"]).query)["key"][0]
    assess_year.call(town_a.code, YEAR, key)  # what `moyai worker` does
    done = client.get(run["Location"], headers={"HX-Request": "true"}).content.decode()
    assert (
        "完了しました" in done and "/tax/property/" in client.get(run["Location"]).content.decode()
    )
    sheet = client.get(f"/tax/property/owners/{owner.pk}/", {"year": YEAR})
    body = sheet.content.decode()
    assert sheet.status_code == 200
    assert "名寄帳" in body and "28,000 円" in body and "住宅用地" in body
    pdf = client.post(f"/tax/property/owners/{owner.pk}/notice/", {"year": YEAR})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "28,000" in pdf_text(pdf.content)
    history = client.get(f"/tax/property/parcels/{parcel.pk}/")
    assert history.status_code == 200 and "新規登録" in history.content.decode()
    bad = client.post(
        f"/tax/property/parcels/{parcel.pk}/",
        {"owner_number": "T999", "changed_on": "2025-07-01", "note": "売買"},
    )
    assert bad.status_code == 400 and "見つかりません" in bad.content.decode()


def test_other_roles_are_refused(town_a, make_staff, ledger) -> None:
    owner, _, _ = ledger
    client = signed_in_client(make_staff(town_a, Role.REGISTRY))
    assert client.get("/tax/property/").status_code == 403
    assert client.get(f"/tax/property/owners/{owner.pk}/").status_code == 403
    assert client.get("/tax/light-vehicle/").status_code == 403
    api = client.get(
        f"/api/v1/tax/property/owners/{owner.pk}", {"fiscal_year": YEAR, "purpose": "x"}
    )
    assert api.status_code == 403


def test_light_vehicle_screens(town_a, make_staff, ledger) -> None:
    owner, _, vehicle = ledger
    client = signed_in_client(make_staff(town_a, Role.TAX))
    found = client.get("/tax/light-vehicle/", {"plate": "580"})
    assert "湘南 580 あ 12-34" in found.content.decode()
    run = client.post("/tax/light-vehicle/run/", {"year": YEAR})
    assert run.status_code == 302 and run["Location"].startswith("/tax/resident/progress/")
    from urllib.parse import parse_qs, urlparse

    from moyai.tax.light_vehicle.tasks import assess_year

    assess_year.call(town_a.code, YEAR, parse_qs(urlparse(run["Location"]).query)["key"][0])
    page = client.get(f"/tax/light-vehicle/vehicles/{vehicle.pk}/")
    assert page.status_code == 200 and "5,000" in page.content.decode()
    refused = client.post(f"/tax/light-vehicle/vehicles/{vehicle.pk}/", {"reason": "障害"})
    assert refused.status_code == 400
    pdf = client.post(f"/tax/light-vehicle/owners/{owner.pk}/notice/", {"year": YEAR})
    assert pdf.status_code == 200 and "5,000" in pdf_text(pdf.content)
    api = client.get(f"/api/v1/tax/light-vehicle/vehicles/{vehicle.pk}", {"purpose": "照会"})
    assert api.status_code == 200 and api.json()["assessments"][0]["tax"] == 5_000


def test_api_ledger_and_correction(town_a, make_staff, ledger, in_town) -> None:
    owner, _, _ = ledger
    with in_town(town_a):
        services.assessment_run(municipality=town_a, fiscal_year=YEAR)
        assert PropertyTaxAssessment.objects.count() == 1
    client = signed_in_client(make_staff(town_a, Role.TAX))
    got = client.get(
        f"/api/v1/tax/property/owners/{owner.pk}", {"fiscal_year": YEAR, "purpose": "照会"}
    )
    assert got.status_code == 200
    data = got.json()
    assert data["parcels"][0]["lot_number"] == "1234-1"
    assert data["current"]["total"] == 28_000
    assert data["explanation"]["land"]["base"] == 2_000_000
    fix = client.post(
        f"/api/v1/tax/property/owners/{owner.pk}/correction",
        json.dumps({"fiscal_year": YEAR, "note": "確認"}),
        content_type="application/json",
    )
    assert fix.status_code == 200 and fix.json()["changed"] is False
    missing = client.get(
        "/api/v1/tax/property/owners/999999", {"fiscal_year": YEAR, "purpose": "x"}
    )
    assert missing.status_code == 404
    overview = client.get("/api/v1/tax/property/overview", {"fiscal_year": YEAR})
    assert overview.json()["fixed_asset_tax"] == 28_000


def test_public_simulations_need_no_login_and_store_nothing(client, town_a) -> None:
    body = {
        "fiscal_year": YEAR,
        "property": {
            "lands": [
                {
                    "category": "宅地",
                    "area_m2": "300",
                    "assessed_value": 15_000_000,
                    "dwellings": 1,
                    "house_floor_area_m2": "120",
                }
            ]
        },
    }
    got = client.post(
        "/api/v1/tax/property/simulate", json.dumps(body), content_type="application/json"
    )
    assert got.status_code == 200, got.content
    data = got.json()
    # 200㎡ 小規模 (1/6) + 100㎡ 一般 (1/3): 10,000,000/6 + 5,000,000/3 = 3,333,333 → 3,333,000
    assert data["land"]["base"] == 3_333_000
    assert data["total"] == 46_600  # 3,333,000 × 1.4% = 46,662 → 46,600
    assert any(s["key"] == "total" for s in data["trace"])
    bad = client.post(
        "/api/v1/tax/property/simulate",
        json.dumps({"fiscal_year": YEAR, "property": {"lands": [{"area_m2": "x"}]}}),
        content_type="application/json",
    )
    assert bad.status_code == 400 and "lands[0]" in bad.content.decode()
    car = client.post(
        "/api/v1/tax/light-vehicle/simulate",
        json.dumps(
            {
                "fiscal_year": YEAR,
                "vehicle": {"vehicle_class": "passenger", "first_inspection": "2012-03"},
                "exemption": {"ratio": "1/2"},
            }
        ),
        content_type="application/json",
    )
    assert car.status_code == 200 and car.json()["tax"] == 6_400  # 12,900 − 6,450 → 100円未満切捨て
    unknown = client.post(
        "/api/v1/tax/property/simulate",
        json.dumps({**body, "municipality_code": "999999"}),
        content_type="application/json",
    )
    assert unknown.status_code == 404
