"""固定資産税 below the screens: 課税台帳 (登録・異動 by 年度) → 賦課 per 納税義務者 → 更正 →
説明 → 納税通知書（課税明細書）, and the 試算."""

from __future__ import annotations

from datetime import date

import pytest

from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent, OutboxEvent
from moyai.tax.addressees import services as addressees
from moyai.tax.property import services
from moyai.tax.property.models import Parcel, PropertyTaxAssessment

from .property_fixtures import family, pdf_text

YEAR = 2026
HOME = services.ParcelFacts(
    location="一色",
    lot_number="1234-1",
    land_use="宅地",
    area_m2="200",
    assessed_value=12_000_000,
    small_residential_m2="200",
    general_residential_m2="0",
)
HOUSE = services.BuildingFacts(
    location="一色",
    house_number="1234番1",
    house_kind="居宅",
    structure="木造",
    floor_area_m2="100",
    assessed_value=5_000_000,
    built_year=2000,
)
LAST_YEAR = date(2025, 6, 1)


@pytest.fixture
def owners(town_a, in_town):
    moved = family(town_a, in_town)
    with in_town(town_a):
        a = addressees.addressee_for_resident(person_id=moved.records[0].person_id)
        b = addressees.addressee_for_resident(person_id=moved.records[1].person_id)
        outsider = addressees.addressee_register_non_resident(
            name="架空　一郎", kana="カクウ　イチロウ", address="東京都千代田区架空町1"
        )
    return a, b, outsider


def _run(town):
    return services.assessment_run(municipality=town, fiscal_year=YEAR)


def test_home_and_house_are_assessed_with_the_residential_special_rule(
    town_a, in_town, owners
) -> None:
    a, _, _ = owners
    with in_town(town_a):
        services.parcel_register(owner_id=a.pk, facts=HOME, changed_on=LAST_YEAR)
        services.building_register(owner_id=a.pk, facts=HOUSE, changed_on=LAST_YEAR)
        result = _run(town_a)
        assert (result.owners, result.written, result.problems) == (1, 1, [])
        got = PropertyTaxAssessment.objects.get(owner=a, fiscal_year=YEAR)
        # 小規模住宅用地 12,000,000 × 1/6 = 2,000,000; 家屋 5,000,000; × 1.4% = 98,000
        assert (got.land_base, got.house_base, got.fixed_asset_tax) == (
            2_000_000,
            5_000_000,
            98_000,
        )
        assert got.total == 98_000 and got.city_planning_tax == 0
        assert [p["amount"] for p in got.installments] == [26_000, 24_000, 24_000, 24_000]
        assert [p["label"] for p in got.installments] == ["第1期", "第2期", "第3期", "第4期"]
        assert got.installments[0]["due"] == "2026-04-30"
        assert got.installments[2]["due"] == "2027-01-04"  # 12/31 → 年末年始 → 1/4
        outcome = services.explain(got)
        assert outcome.trace.get("total").amount == 98_000
        assert {i.kind for i in outcome.items} == {"土地", "家屋"}
        # a re-run changes nothing
        again = _run(town_a)
        assert (again.written, again.unchanged) == (0, 1)
        assert OutboxEvent.objects.filter(type="property_tax.assessed").count() == 1


def test_co_owned_parcel_is_a_separate_taxpayer_and_exemption_is_per_owner(
    town_a, in_town, owners
) -> None:
    a, b, _ = owners
    with in_town(town_a):
        group = addressees.co_owners_register(
            members=[addressees.Share(a.pk, "1/2"), addressees.Share(b.pk, "1/2")],
            representative_id=a.pk,
        )
        # A's own field: 200,000 < 30万 → 免税点未満
        services.parcel_register(
            owner_id=a.pk,
            facts=services.ParcelFacts("堀内", "10", "山林", "500", 200_000),
            changed_on=LAST_YEAR,
        )
        # the shared 雑種地: 250,000 — also under 30万 on its own (not added to A's)
        services.parcel_register(
            owner_id=group.pk,
            facts=services.ParcelFacts("堀内", "11", "雑種地", "300", 250_000),
            changed_on=LAST_YEAR,
        )
        # the shared house: 3,000,000 → taxed to the group
        services.building_register(
            owner_id=group.pk,
            facts=services.BuildingFacts("堀内", "11番", "倉庫", "木造", "60", 3_000_000, 1990),
            changed_on=LAST_YEAR,
        )
        _run(town_a)
        mine = PropertyTaxAssessment.objects.get(owner=a, fiscal_year=YEAR)
        shared = PropertyTaxAssessment.objects.get(owner=group, fiscal_year=YEAR)
        assert (mine.land_base, mine.total, mine.exempt) == (0, 0, ["土地"])
        assert mine.installments == []
        assert (shared.land_base, shared.house_base) == (0, 3_000_000)
        assert shared.exempt == ["土地"]
        assert shared.total == 42_000  # 3,000,000 × 1.4%
        assert not PropertyTaxAssessment.objects.filter(owner=b).exists()
        with pytest.raises(ServiceError) as zero:
            services.tax_notice_issue(owner_id=a.pk, fiscal_year=YEAR, purpose="")
        assert "免税点" in zero.value.message
        issued = services.tax_notice_issue(owner_id=group.pk, fiscal_year=YEAR, purpose="")
        text = pdf_text(issued.pdf)
        assert "納税通知書" in text and "課税明細書" in text
        assert "42,000" in text and "持分1/2" in text


def test_ledger_history_by_fiscal_year(town_a, in_town, owners) -> None:
    a, b, outsider = owners
    with in_town(town_a):
        parcel = services.parcel_register(owner_id=a.pk, facts=HOME, changed_on=date(2024, 6, 1))
        assert parcel.valid_from == 2025
        # 所有権移転 on 2025-05-10 → the buyer from 令和8年度
        moved = services.parcel_transfer(
            parcel_id=parcel.pk, owner_id=outsider.pk, changed_on=date(2025, 5, 10), note="売買"
        )
        parcel.refresh_from_db()
        assert (parcel.valid_to, moved.valid_from) == (2026, 2026)
        assert Parcel.objects.filter(services.as_of(2025)).get().owner_id == a.pk
        assert Parcel.objects.filter(services.as_of(2026)).get().owner_id == outsider.pk
        services.assessment_run(municipality=town_a, fiscal_year=2025)
        _run(town_a)
        assert PropertyTaxAssessment.objects.get(fiscal_year=2025).owner_id == a.pk
        assert PropertyTaxAssessment.objects.get(fiscal_year=2026).owner_id == outsider.pk
        # an old row cannot change again
        with pytest.raises(ServiceError) as old:
            services.parcel_transfer(
                parcel_id=parcel.pk, owner_id=b.pk, changed_on=date(2026, 2, 1), note="売買"
            )
        assert "異動" in old.value.message
        # 分筆 (2026-01-01 → from 令和8年度): the areas must add up; nothing written otherwise
        before = (Parcel.objects.count(), AuditEvent.objects.count())
        with pytest.raises(ServiceError) as sums:
            services.parcel_subdivide(
                parcel_id=moved.pk,
                parts=[
                    services.SubParcel("1234-1", "120", 7_000_000, "120", "0"),
                    services.SubParcel("1234-5", "70", 4_000_000, "70", "0"),
                ],
                changed_on=date(2026, 1, 1),
                note="分筆登記",
            )
        assert sums.value.field == "parts"
        assert (Parcel.objects.count(), AuditEvent.objects.count()) == before
        parts = services.parcel_subdivide(
            parcel_id=moved.pk,
            parts=[
                services.SubParcel("1234-1", "120", 7_200_000, "120", "0"),
                services.SubParcel("1234-5", "80", 4_800_000, "80", "0"),
            ],
            changed_on=date(2026, 1, 1),
            note="分筆登記",
        )
        assert [p.valid_from for p in parts] == [2026, 2026]
        in_2026 = Parcel.objects.filter(services.as_of(2026)).order_by("lot_number")
        assert [p.lot_number for p in in_2026] == ["1234-1", "1234-5"]
        # 合筆 back (2026-03-01 → from 令和9年度)
        merged = services.parcel_merge(
            parcel_ids=[p.pk for p in parts],
            lot_number="1234-1",
            assessed_value=12_000_000,
            changed_on=date(2026, 3, 1),
            note="合筆登記",
        )
        assert (merged.area, merged.valid_from, merged.small_residential_area) == (
            20_000,
            2027,
            20_000,
        )
        # 更正 of 令和8年度 after the 分筆 (same total here: 7.2M/6 + 4.8M/6 = 2,000,000)
        result = services.assessment_correct(
            owner_id=outsider.pk, fiscal_year=YEAR, note="分筆の反映"
        )
        assert result is not None and result.seq == 2 and result.reason == "correction"
        assert result.land_base == 2_000_000
        assert PropertyTaxAssessment.objects.filter(owner=outsider, fiscal_year=YEAR).count() == 2


def test_building_loss_and_refusals(town_a, in_town, owners) -> None:
    a, _, _ = owners
    with in_town(town_a):
        house = services.building_register(owner_id=a.pk, facts=HOUSE, changed_on=LAST_YEAR)
        before = AuditEvent.objects.count()
        for facts, name in (
            (services.ParcelFacts("一色", "1", "宅地", "0", 1), "area_m2"),
            (services.ParcelFacts("一色", "1", "沼", "10", 1), "land_use"),
            (services.ParcelFacts("一色", "", "宅地", "10", 1), "lot_number"),
            (services.ParcelFacts("一色", "1", "山林", "100", 1, "50", "0"), "land_use"),
            (
                services.ParcelFacts("一色", "1", "宅地", "100", 1, "80", "30"),
                "small_residential_m2",
            ),
        ):
            with pytest.raises(ServiceError) as bad:
                services.parcel_register(owner_id=a.pk, facts=facts, changed_on=LAST_YEAR)
            assert bad.value.field == name, facts
        with pytest.raises(ServiceError) as dup:
            services.building_register(owner_id=a.pk, facts=HOUSE, changed_on=LAST_YEAR)
        assert dup.value.field == "house_number"
        with pytest.raises(ServiceError) as owner:
            services.parcel_register(owner_id=999_999, facts=HOME, changed_on=LAST_YEAR)
        assert owner.value.code == "not_found"
        assert AuditEvent.objects.count() == before
        assert Parcel.objects.count() == 0
        services.building_demolish(
            building_id=house.pk, changed_on=date(2025, 12, 1), note="取壊し"
        )
        house.refresh_from_db()
        assert house.valid_to == 2026
        result = _run(town_a)
        assert result.written == 0  # nothing on 2026-01-01


def test_new_house_reduction_and_city_planning_tax(town_a, in_town, owners) -> None:
    a, _, _ = owners
    with in_town(town_a):
        services.parameters_update(
            fiscal_year=YEAR,
            overrides={"city_planning_levied": True, "city_planning_rate": "0.3%"},
            note="都市計画税条例",
        )
        services.building_register(
            owner_id=a.pk,
            facts=services.BuildingFacts(
                "一色",
                "9番",
                "居宅",
                "木造",
                "100",
                10_000_000,
                2025,
                completed_on=date(2025, 6, 30),
            ),
            changed_on=date(2025, 6, 30),
        )
        _run(town_a)
        got = PropertyTaxAssessment.objects.get(owner=a)
        # 10,000,000 × 1.4% = 140,000; 新築住宅減額 ½ (100㎡ ≤ 120㎡) = 70,000
        assert (got.new_house_reduction, got.fixed_asset_tax) == (70_000, 70_000)
        assert got.city_planning_tax == 30_000  # 10,000,000 × 0.3%, no 減額
        assert got.total == 100_000
        with pytest.raises(ServiceError) as bad:
            services.parameters_update(
                fiscal_year=YEAR, overrides={"rate": "0.5%", "x": 1}, note="x"
            )
        assert bad.value.field == "x"


def test_simulate_stores_nothing_and_matches_an_assessment(town_a, in_town) -> None:
    data = {
        "lands": [
            {
                "category": "宅地",
                "area_m2": "200",
                "assessed_value": 12_000_000,
                "small_residential_area_m2": "200",
            }
        ],
        "houses": [{"assessed_value": 5_000_000, "floor_area_m2": "100"}],
    }
    outcome = services.simulate(fiscal_year=YEAR, data=data)
    assert outcome.total_tax == 98_000
    with pytest.raises(ServiceError) as bad:
        services.simulate(fiscal_year=YEAR, data={"lands": [{"category": "宅地"}]})
    assert bad.value.field.startswith("lands[0].")
    with pytest.raises(ServiceError) as empty:
        services.simulate(fiscal_year=YEAR, data={})
    assert empty.value.field == "lands"
    with pytest.raises(ServiceError) as year:
        services.simulate(fiscal_year=2030, data=data)
    assert year.value.field == "fiscal_year"
    with in_town(town_a):
        services.parameters_update(fiscal_year=YEAR, overrides={"rate": "1.5%"}, note="超過課税")
    assert services.simulate(fiscal_year=YEAR, data=data, municipality=town_a).total_tax == 105_000


def test_notice_goes_to_the_tax_manager(town_a, in_town, owners) -> None:
    _, _, outsider = owners
    with in_town(town_a):
        addressees.contact_set(
            addressee_id=outsider.pk,
            business="property_tax",
            role="manager",
            name="代理　三郎",
            address="神奈川県三浦郡葉山町堀内99",
            note="納税管理人申告",
        )
        services.parcel_register(owner_id=outsider.pk, facts=HOME, changed_on=LAST_YEAR)
        _run(town_a)
        before = AuditEvent.objects.count()
        issued = services.tax_notice_issue(owner_id=outsider.pk, fiscal_year=YEAR, purpose="発送")
        text = pdf_text(issued.pdf)
        assert "代理三郎様（納税管理人）" in text
        assert "葉山町堀内99" in text and "架空一郎" in text
        assert "一色1234-1" in text and "28,000" in text  # 2,000,000 × 1.4%
        assert AuditEvent.objects.count() > before
