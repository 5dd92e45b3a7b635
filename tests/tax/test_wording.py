"""What the tax screens say: 和暦 生年月日, 税率等 in words, the public 試算 without 窓口 fields,
a page view that writes nothing, and date fields that take 西暦 or 和暦."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from moyai.platform.models import AuditEvent, Role
from moyai.platform.tenancy import tenant_context
from moyai.tax.addressees.models import Addressee
from moyai.tax.light_vehicle import services as vehicles
from moyai.tax.light_vehicle.models import LightVehicle, LightVehicleParameters
from moyai.tax.property import services as property_services
from moyai.tax.property.models import PropertyTaxParameters
from moyai.tax.resident import rules, services
from moyai.tax.resident.models import Assessment, TaxDocument, TaxParameters
from moyai.tax.resident.synthetic import Employee

from ..conftest import signed_in_client
from .test_resident_services import ICHIRO, STRANGER, YEAR, _family, _file


@pytest.fixture
def clerk(town_a, make_staff):
    return signed_in_client(make_staff(town_a, Role.TAX))


def _audit_count(town) -> int:
    with tenant_context(town):
        return AuditEvent.objects.count()


# --- 生年月日は和暦 (W2) ----------------------------------------------------------------------


def test_tax_screens_show_the_birth_date_in_wareki(town_a, in_town, clerk) -> None:
    _family(town_a, in_town)
    # 翔's kana and birth date but another address and no 個人番号: a candidate, not a match.
    namesake = Employee("高橋　翔", "タカハシ　ショウ", date(2005, 4, 2), "東京都千代田区")
    with in_town(town_a):
        services.reports_import(
            fiscal_year=YEAR,
            kind="salary",
            stream=_file(ICHIRO, STRANGER, namesake),
            file_name="kyuyo.csv",
            dry_run=False,
        )
        stranger = TaxDocument.objects.get(name="見本　太郎")
        queued = TaxDocument.objects.get(name="高橋　翔")

    search = clerk.get("/tax/resident/", {"year": YEAR, "kana": "タカハシ"}).content.decode()
    assert "昭和55年5月10日" in search and "1980-05-10" not in search

    queue = clerk.get("/tax/resident/queue/", {"year": YEAR}).content.decode()
    assert "昭和45年1月1日" in queue and "1970-01-01" not in queue

    page = clerk.get(f"/tax/resident/documents/{stranger.pk}/").content.decode()
    assert "昭和45年1月1日" in page and "1970-01-01" not in page
    page = clerk.get(f"/tax/resident/documents/{queued.pk}/").content.decode()
    assert queued.candidates, "the namesake should have the registry's 翔 as a candidate"
    assert page.count("平成17年4月2日") == 2  # the document and its candidate
    assert "2005-04-02" not in page


def test_the_addressee_page_shows_the_birth_date_in_wareki(town_a, in_town, clerk) -> None:
    from moyai.tax.addressees import services as addressees

    with in_town(town_a):
        person = addressees.addressee_register_non_resident(
            name="架空　一郎", kana="カクウ　イチロウ", birth_date="1951-07-06", address="東京都"
        )
    page = clerk.get(f"/tax/addressees/{person.pk}/").content.decode()
    assert "<tr><th>生年月日</th><td>昭和26年7月6日</td></tr>" in page


# --- 税率等: 読める形で、閲覧は書かない (W6, B8) ----------------------------------------


def test_viewing_the_parameters_writes_nothing(town_a, clerk) -> None:
    before = _audit_count(town_a)
    page = clerk.get("/tax/resident/parameters/", {"year": 2025})
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="no-version"' in text and "全国標準" in text
    assert 'name="prefecture_rate" value="4.0"' in text  # the national defaults fill the form
    with tenant_context(town_a):
        assert not TaxParameters.objects.exists()
    assert _audit_count(town_a) == before


def test_an_assessment_on_an_empty_tenant_makes_version_1(
    town_a, in_town, make_staff, cli_actor
) -> None:
    _family(town_a, in_town)
    with in_town(town_a):
        services.reports_import(
            fiscal_year=YEAR, kind="salary", stream=_file(ICHIRO), file_name="k.csv", dry_run=False
        )
        assert not TaxParameters.objects.exists()
    result = services.assessment_run(municipality=town_a, fiscal_year=YEAR)
    assert result.written == 1
    with in_town(town_a):
        (row,) = TaxParameters.objects.all()
        assert row.version == 1 and row.overrides == {} and row.note == "全国標準（初期値）"
        assert row.created_by == cli_actor.username  # the one who assessed, not a viewer
        assert Assessment.objects.get().params_id == row.pk


def test_the_parameter_history_is_in_words(town_a, clerk) -> None:
    form = {
        "year": YEAR,
        "city_rate": "6",
        "prefecture_rate": "4.025",
        "city_per_capita": "3000",
        "prefecture_per_capita": "1000",
        "prefecture_per_capita_levy": "300",
        "grade": "1",
        "rounding": "before_credits",
        "note": "県の超過課税",
    }
    assert clerk.post("/tax/resident/parameters/", form).status_code == 302
    text = clerk.get("/tax/resident/parameters/", {"year": YEAR}).content.decode()
    assert "<td>なし（全国標準）</td>" in text  # version 1
    assert "道府県民税所得割の税率：4.025%" in text
    assert "道府県民税均等割の超過課税：300円" in text
    assert "所得割の100円未満切捨ての時点：税額控除の前と後" in text
    assert "{}" not in text and "before_credits" not in text.replace('value="before_credits"', "")
    assert "「税額控除の前と後」を選ぶと" in text


def test_describe_overrides() -> None:
    assert rules.describe_overrides({}) == []
    assert rules.describe_overrides(
        {
            "city_rate": 8000,
            "prefecture_rate": 2025,
            "grade": 2,
            "designated_city": True,
            "rounding": "after_credits",
            "housing_loan_cap": 97_500,
            "prefecture_per_capita_levy_label": "水源環境保全税",
        }
    ) == [
        ("市町村民税所得割の税率", "8%"),
        ("道府県民税所得割の税率", "2.025%"),
        ("級地", "2級地"),
        ("指定都市", "あり"),
        ("所得割の100円未満切捨ての時点", "税額控除の後（既定）"),
        ("住宅借入金等特別税額控除の限度額", "97,500円"),
        ("道府県民税均等割の超過課税の名称", "水源環境保全税"),
    ]


def test_property_and_light_vehicle_simulations_write_no_parameters(town_a) -> None:
    property_services.simulate(
        fiscal_year=YEAR,
        data={"lands": [{"category": "宅地", "area_m2": "100", "assessed_value": 1_000_000}]},
        municipality=town_a,
    )
    vehicles.simulate(
        fiscal_year=YEAR,
        data={"vehicle": {"vehicle_class": "cargo", "first_inspection": "2019-01"}},
        municipality=town_a,
    )
    with tenant_context(town_a):
        assert not PropertyTaxParameters.objects.exists()
        assert not LightVehicleParameters.objects.exists()


# --- 住民向けの試算 (B5) ------------------------------------------------------------------------


def test_the_public_simulation_has_no_staff_fields(town_a) -> None:
    client = Client()
    before = _audit_count(town_a)
    page = client.get("/public/tax/simulate/143014/").content.decode()
    assert "受付の記録" not in page and 'name="note"' not in page
    assert "申告の種類" not in page and 'name="kind"' not in page
    done = client.post(
        "/public/tax/simulate/143014/",
        {
            "year": YEAR,
            "age": "30",
            "salary_revenue": "1500000",
            "disability": "none",
            "family_status": "none",
        },
    )
    assert done.status_code == 200
    assert 'data-testid="total">44,500 円' in done.content.decode()
    assert _audit_count(town_a) == before
    with tenant_context(town_a):
        assert not TaxParameters.objects.exists() and not Assessment.objects.exists()


def test_the_staff_declaration_keeps_its_fields(town_a, in_town, clerk) -> None:
    family = _family(town_a, in_town)
    page = clerk.get(f"/tax/resident/persons/{family.records[0].person_id}/declaration/")
    text = page.content.decode()
    assert "受付の記録" in text and "申告の種類" in text


# --- 日付の入力: 西暦か和暦 (W8) ------------------------------------------------------------------


def test_the_non_resident_form_takes_wareki_and_names_the_format(town_a, clerk) -> None:
    form = clerk.get("/tax/addressees/non-residents/new/").content.decode()
    assert "YYYY" not in form and "例: 1985-04-01、昭和60年4月1日" in form
    base = {"name": "架空　一郎", "kana": "カクウ　イチロウ", "address": "東京都"}
    before = _audit_count(town_a)
    bad = clerk.post("/tax/addressees/non-residents/new/", {**base, "birth_date": "昭和65年1月1日"})
    assert bad.status_code == 400
    assert "生年月日は西暦か和暦の年月日で入力してください" in bad.content.decode()
    assert _audit_count(town_a) == before
    with tenant_context(town_a):
        assert not Addressee.objects.exists()
    done = clerk.post(
        "/tax/addressees/non-residents/new/", {**base, "birth_date": "昭和26年7月6日"}
    )
    assert done.status_code == 302
    with tenant_context(town_a):
        assert Addressee.objects.get().birth_date == "1951-07-06"


def test_the_vehicle_form_takes_a_wareki_month(town_a, in_town, clerk) -> None:
    from moyai.tax.addressees import services as addressees

    with in_town(town_a):
        owner = addressees.addressee_register_non_resident(
            name="架空　一郎", kana="カクウ　イチロウ", address="東京都"
        )
    form = clerk.get("/tax/light-vehicle/vehicles/new/").content.decode()
    assert "YYYY" not in form and "例: 2015-04、平成27年4月" in form
    body = {
        "plate": "湘南 580 あ 12-34",
        "vehicle_class": "cargo",
        "use": "private",
        "first_inspection": "平成27年4月",
        "fuel": "gasoline",
        "owner_number": owner.number,
        "acquired_on": "2024-01-01",
    }
    bad = clerk.post("/tax/light-vehicle/vehicles/new/", {**body, "first_inspection": "2015-13"})
    assert bad.status_code == 400
    assert "初度検査年月は西暦か和暦の年月で入力してください" in bad.content.decode()
    done = clerk.post("/tax/light-vehicle/vehicles/new/", body)
    assert done.status_code == 302, done.content.decode()
    with tenant_context(town_a):
        assert LightVehicle.objects.get().first_inspection == "2015-04"
