"""Ledger entry by clerks: 土地・家屋・償却資産 registration and correction, the 異動 screens
(分筆・合筆・滅失・所有権移転), owners with shares (共有), 住登外者・法人 and 送付先・納税管理人,
軽自動車 registration screens, and the background 軽自動車税 run. Every refusal names the field
and leaves nothing written."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest

from moyai.platform.models import AuditEvent, JobRun, Role
from moyai.platform.tenancy import TenantMismatch
from moyai.tax.addressees import services as addressees
from moyai.tax.addressees.models import Addressee, AddresseeKind, CoOwner
from moyai.tax.common.services import insert_rows
from moyai.tax.light_vehicle import services as vehicles
from moyai.tax.light_vehicle.models import LightVehicle, VehicleTaxAssessment
from moyai.tax.property import services
from moyai.tax.property.models import AssetDeclaration, Building, Parcel, PropertyTaxAssessment

from ..conftest import signed_in_client

YEAR = 2026
# 法人番号 with a valid check digit (the sample ledger's 株式会社架空商事 uses the same rule).
CORP = "7000012050002"


@pytest.fixture
def people(town_a, in_town):
    with in_town(town_a):
        a = addressees.addressee_register_non_resident(
            name="髙橋　一郎", kana="タカハシ　イチロウ", address="東京都千代田区1-1"
        )
        b = addressees.addressee_register_non_resident(
            name="𠮷田　花子", kana="ヨシダ　ハナコ", address="横浜市中区2-2"
        )
    return a, b


@pytest.fixture
def clerk(town_a, make_staff):
    return signed_in_client(make_staff(town_a, Role.TAX))


def _counts(town, in_town) -> tuple[int, ...]:
    with in_town(town):
        return (
            Addressee.objects.count(),
            CoOwner.objects.count(),
            Parcel.objects.count(),
            Building.objects.count(),
            AssetDeclaration.objects.count(),
            LightVehicle.objects.count(),
        )


def _land(**changes):
    values = {
        "location": "一色",
        "lot_number": "10-1",
        "land_use": "宅地",
        "area_m2": "300.00",
        "assessed_value": 15_000_000,
        "small_residential_m2": "200",
        "general_residential_m2": "100",
        "in_urbanization_area": "on",
        "changed_on": "2025-06-01",
        "note": "新規登録",
    }
    values.update(changes)
    return values


# --- services ---------------------------------------------------------------------------------


def test_co_owned_parcel_registers_the_group_in_the_same_transaction(
    town_a, in_town, people
) -> None:
    a, b = people
    spec = addressees.OwnerSpec(
        shares=((a.number, "1/2"), (b.number, "1/2")), representative=b.number
    )
    facts = services.ParcelFacts("一色", "5-1", "雑種地", "100", 3_000_000)
    with in_town(town_a):
        parcel = services.parcel_register(owner=spec, facts=facts, changed_on=date(2025, 6, 1))
        group = Addressee.objects.get(pk=parcel.owner_id)
        assert group.kind == AddresseeKind.CO_OWNERS and group.representative_id == b.pk
        assert sorted(
            CoOwner.objects.filter(group=group).values_list("share_numerator", flat=True)
        ) == [1, 1]
    before = _counts(town_a, in_town)
    # Same co-owners with other shares: a new group would be needed, but the 地番 is taken.
    other = addressees.OwnerSpec(
        shares=((a.number, "1/3"), (b.number, "2/3")), representative=a.number
    )
    with in_town(town_a), pytest.raises(services.ServiceError) as refused:
        services.parcel_register(owner=other, facts=facts, changed_on=date(2025, 6, 1))
    assert refused.value.field == "lot_number" and "地番" in refused.value.message
    assert _counts(town_a, in_town) == before  # the group was not left behind
    bad = addressees.OwnerSpec(
        shares=((a.number, "1/2"), (b.number, "1/3")), representative=a.number
    )
    with in_town(town_a), pytest.raises(services.ServiceError) as refused:
        services.parcel_register(
            owner=bad,
            facts=services.ParcelFacts("一色", "6-1", "雑種地", "100", 1),
            changed_on=date(2025, 6, 1),
        )
    assert refused.value.field == "members" and "持分の合計" in refused.value.message
    with in_town(town_a), pytest.raises(services.ServiceError) as refused:
        services.parcel_register(
            owner=addressees.OwnerSpec(
                shares=((a.number, "1/2"), ("T999999999", "1/2")), representative=a.number
            ),
            facts=services.ParcelFacts("一色", "6-1", "雑種地", "100", 1),
            changed_on=date(2025, 6, 1),
        )
    assert refused.value.field == "co_owners[1]" and "T999999999" in refused.value.message
    assert _counts(town_a, in_town) == before


def test_parcel_and_building_corrections_are_new_versions(town_a, in_town, people) -> None:
    a, _ = people
    with in_town(town_a):
        parcel = services.parcel_register(
            owner_id=a.pk,
            facts=services.ParcelFacts("一色", "7-1", "宅地", "200", 10_000_000, "200"),
            changed_on=date(2024, 6, 1),
        )
        fixed = services.parcel_correct(
            parcel_id=parcel.pk,
            facts=services.ParcelFacts("一色", "7-1", "宅地", "210", 11_000_000, "200", "10"),
            fiscal_year=YEAR,
            note="実測による地積の更正",
        )
        parcel.refresh_from_db()
        assert (parcel.valid_from, parcel.valid_to) == (2025, YEAR)
        assert (fixed.valid_from, fixed.valid_to, fixed.area, fixed.assessed_value) == (
            YEAR,
            None,
            21_000,
            11_000_000,
        )
        assert fixed.predecessors == [parcel.pk] and fixed.get_change_display() == "評価替え・修正"
        event = AuditEvent.objects.filter(
            target_type="property_parcel", target_id=str(fixed.pk)
        ).get()
        assert (
            event.detail["before"]["area"] == "20000" and event.detail["after"]["area"] == "21000"
        )
        rows = Parcel.objects.count()
        with pytest.raises(services.ServiceError) as refused:
            services.parcel_correct(
                parcel_id=fixed.pk,
                facts=services.ParcelFacts("一色", "7-1", "宅地", "210", 11_000_000, "300", "0"),
                fiscal_year=YEAR,
                note="誤り",
            )
        assert refused.value.field == "small_residential_m2"
        with pytest.raises(services.ServiceError) as refused:
            services.parcel_correct(
                parcel_id=parcel.pk,
                facts=services.ParcelFacts("一色", "7-1", "宅地", "210", 1, "200"),
                fiscal_year=YEAR,
                note="閉じた行",
            )
        assert refused.value.field == "parcel_id" and "すでに異動" in refused.value.message
        assert Parcel.objects.count() == rows
        house = services.building_register(
            owner_id=a.pk,
            facts=services.BuildingFacts("一色", "7番", "居宅", "木造", "100", 6_000_000, 2001),
            changed_on=date(2024, 6, 1),
        )
        new = services.building_correct(
            building_id=house.pk,
            facts=services.BuildingFacts(
                "一色", "7番", "居宅", "軽量鉄骨造", "100", 6_500_000, 2001
            ),
            fiscal_year=YEAR,
            note="構造の誤り",
        )
        assert (new.structure, new.assessed_value, new.valid_from) == (
            "軽量鉄骨造",
            6_500_000,
            YEAR,
        )
        with pytest.raises(services.ServiceError) as refused:
            services.building_correct(
                building_id=new.pk,
                facts=services.BuildingFacts(
                    "一色", "7番", "居宅", "軽量鉄骨造", "100", 6_500_000, 2001
                ),
                fiscal_year=YEAR,
                note="同じ",
            )
        assert "変更された項目がありません" in refused.value.message


def test_addressee_update_keeps_the_previous_values_in_the_audit(town_a, in_town, people) -> None:
    a, b = people
    with in_town(town_a):
        group = addressees.co_owners_register(
            members=[addressees.Share(a.pk, "1/2"), addressees.Share(b.pk, "1/2")],
            representative_id=a.pk,
        )
        addressees.addressee_update(
            addressee_id=a.pk,
            name="髙橋　一郎",
            kana="タカハシ　イチロウ",
            address="大阪市北区3-3",
            postal_code="530-0001",
            note="転居の届出",
        )
        a.refresh_from_db()
        group.refresh_from_db()
        assert (a.address, a.postal_code) == ("大阪市北区3-3", "5300001")
        assert group.address == "大阪市北区3-3"  # the 代表者's address
        event = AuditEvent.objects.filter(target_id=a.number, action="update").latest("id")
        assert event.detail["before"]["address"] == "東京都千代田区1-1"
        with pytest.raises(services.ServiceError) as refused:
            addressees.addressee_update(
                addressee_id=group.pk, name="x", kana="x", address="x", note="x"
            )
        assert refused.value.field == "addressee_id"
        with pytest.raises(services.ServiceError) as refused:
            addressees.addressee_update(
                addressee_id=a.pk, name="髙橋　一郎", kana="", address="x", note="x"
            )
        assert refused.value.field == "kana"
        a.refresh_from_db()
        assert a.address == "大阪市北区3-3"


def test_insert_rows_keeps_the_tenant_guard(town_a, town_b, in_town, people) -> None:
    a, _ = people
    with in_town(town_a):
        setup = services.parameters_in_force(fiscal_year=YEAR)
        row = PropertyTaxAssessment(
            municipality_id=town_b.pk,
            owner_id=a.pk,
            fiscal_year=YEAR,
            seq=1,
            reason="initial",
            params=setup.row,
            inputs={},
            digest="x",
            land_base=0,
            house_base=0,
            asset_base=0,
            new_house_reduction=0,
            fixed_asset_tax=0,
            city_planning_tax=0,
            total=0,
            created_by="test",
        )
        with pytest.raises(TenantMismatch):
            insert_rows(PropertyTaxAssessment, [row])
        assert PropertyTaxAssessment.objects.count() == 0


def test_light_vehicle_run_is_chunked_and_resumable(town_a, in_town, cli_actor, people) -> None:
    a, b = people
    with in_town(town_a):
        for i in range(5):
            vehicles.vehicle_register(
                owner_id=(a if i % 2 else b).pk,
                facts=vehicles.VehicleFacts(
                    f"湘南 480 あ {i:02d}-00", "cargo", first_inspection="2019-01"
                ),
                acquired_on=date(2025, 1, 1),
            )
    calls: list[tuple[int, int]] = []
    result = vehicles.assessment_run(
        municipality=town_a,
        fiscal_year=YEAR,
        chunk_size=2,
        job_key="light_vehicle_tax.assess:t",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert (result.vehicles, result.written) == (5, 5)
    assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]
    # The same key again: the job is finished, nothing is done twice.
    again = vehicles.assessment_run(
        municipality=town_a, fiscal_year=YEAR, chunk_size=2, job_key="light_vehicle_tax.assess:t"
    )
    assert again.written == 0
    with in_town(town_a):
        assert VehicleTaxAssessment.objects.count() == 5
        assert set(VehicleTaxAssessment.objects.values_list("tax", flat=True)) == {5_000}
        assert JobRun.objects.get(key="light_vehicle_tax.assess:t").done == 5
        first = LightVehicle.objects.order_by("id").first()
        vehicles.vehicle_correct(
            vehicle_id=first.pk,
            facts=vehicles.VehicleFacts(first.plate, "passenger", first_inspection="2019-01"),
            note="車種区分の誤り",
        )
    fresh = vehicles.assessment_run(municipality=town_a, fiscal_year=YEAR)
    assert (fresh.written, fresh.unchanged) == (1, 4)
    with in_town(town_a):
        current = VehicleTaxAssessment.objects.get(vehicle=first, is_current=True)
        assert (current.seq, current.tax) == (2, 10_800)


# --- screens ----------------------------------------------------------------------------------


def test_parcel_screens_register_correct_subdivide_and_merge(
    clerk, town_a, in_town, people
) -> None:
    a, b = people
    assert clerk.get("/tax/property/parcels/new/").status_code == 200
    before = _counts(town_a, in_town)
    bad = clerk.post("/tax/property/parcels/new/", _land(owner_number=a.number, area_m2="abc"))
    assert bad.status_code == 400 and "地積" in bad.content.decode()
    missing = clerk.post("/tax/property/parcels/new/", _land(owner_number="", lot_number=""))
    body = missing.content.decode()
    assert missing.status_code == 400 and "地番を入力してください" in body
    too_big = clerk.post(
        "/tax/property/parcels/new/", _land(owner_number=a.number, small_residential_m2="400")
    )
    assert too_big.status_code == 400 and "住宅用地" in too_big.content.decode()
    assert _counts(town_a, in_town) == before
    made = clerk.post("/tax/property/parcels/new/", _land(owner_number=a.number))
    assert made.status_code == 302
    with in_town(town_a):
        parcel = Parcel.objects.get(lot_number="10-1")
    assert parcel.area == 30_000 and parcel.small_residential_area == 20_000
    assert parcel.owner_id == a.pk and parcel.valid_from == YEAR
    # co-owned parcel from the same screen
    shared = clerk.post(
        "/tax/property/parcels/new/",
        _land(
            lot_number="11",
            land_use="雑種地",
            small_residential_m2="",
            general_residential_m2="",
            co_owners=f"{a.number} 1/2\n{b.number} 1/2",
            representative_number=b.number,
        ),
    )
    assert shared.status_code == 302
    with in_town(town_a):
        group = Parcel.objects.get(lot_number="11").owner
    assert group.kind == AddresseeKind.CO_OWNERS and group.representative_id == b.pk
    # 修正
    page = clerk.get(f"/tax/property/parcels/{parcel.pk}/edit/")
    assert page.status_code == 200 and "300.00" in page.content.decode()
    edit = _land(assessed_value=16_000_000, fiscal_year=YEAR, note="評価の修正")
    assert (
        clerk.post(f"/tax/property/parcels/{parcel.pk}/edit/", {**edit, "note": ""}).status_code
        == 400
    )
    fixed = clerk.post(f"/tax/property/parcels/{parcel.pk}/edit/", edit)
    assert fixed.status_code == 302
    with in_town(town_a):
        current = Parcel.objects.get(lot_number="10-1", valid_to__isnull=True)
    assert current.assessed_value == 16_000_000
    # 分筆: the areas must add up; a refusal writes nothing
    rows = _counts(town_a, in_town)
    wrong = clerk.post(
        f"/tax/property/parcels/{current.pk}/subdivide/",
        {
            "changed_on": "2026-02-01",
            "note": "分筆",
            "parts": "10-1 200 10000000 200 0\n10-5 50 1000000",
        },
    )
    assert wrong.status_code == 400 and "地積の合計" in wrong.content.decode()
    garbled = clerk.post(
        f"/tax/property/parcels/{current.pk}/subdivide/",
        {"changed_on": "2026-02-01", "note": "分筆", "parts": "10-1 200"},
    )
    assert garbled.status_code == 400 and "分筆後の土地の1行目" in garbled.content.decode()
    assert _counts(town_a, in_town) == rows
    split = clerk.post(
        f"/tax/property/parcels/{current.pk}/subdivide/",
        {
            "changed_on": "2026-02-01",
            "note": "分筆",
            "parts": "10-1 200 10000000 200 0\n10-5 100 6000000 0 100",
        },
    )
    assert split.status_code == 302
    with in_town(town_a):
        parts = dict(
            Parcel.objects.filter(
                location="一色", lot_number__in=["10-1", "10-5"], valid_to__isnull=True
            ).values_list("lot_number", "area")
        )
    assert parts == {"10-1": 20_000, "10-5": 10_000}
    # 合筆 back: by 地番
    with in_town(town_a):
        head = Parcel.objects.get(lot_number="10-1", valid_to__isnull=True)
    unknown = clerk.post(
        f"/tax/property/parcels/{head.pk}/merge/",
        {
            "changed_on": "2027-02-01",
            "note": "合筆",
            "lot_numbers": "10-9",
            "lot_number": "10-1",
            "assessed_value": 1,
        },
    )
    assert unknown.status_code == 400 and "10-9" in unknown.content.decode()
    merged = clerk.post(
        f"/tax/property/parcels/{head.pk}/merge/",
        {
            "changed_on": "2027-02-01",
            "note": "合筆",
            "lot_numbers": "10-5",
            "lot_number": "10-1",
            "assessed_value": 16_000_000,
        },
    )
    assert merged.status_code == 302
    with in_town(town_a):
        whole = Parcel.objects.get(lot_number="10-1", valid_to__isnull=True)
    assert whole.area == 30_000 and whole.get_change_display() == "合筆"


def test_building_screens_transfer_and_demolish(clerk, town_a, in_town, people) -> None:
    a, b = people
    house = {
        "location": "一色",
        "house_number": "20番",
        "house_kind": "居宅",
        "structure": "木造",
        "floor_area_m2": "120",
        "built_year": "2025",
        "assessed_value": "9000000",
        "completed_on": "2025-06-30",
        "in_urbanization_area": "on",
        "changed_on": "2025-06-30",
        "note": "新築",
        "owner_number": a.number,
    }
    before = _counts(town_a, in_town)
    bad = clerk.post("/tax/property/buildings/new/", {**house, "structure": "石造"})
    assert bad.status_code == 400 and "構造は一覧から選んでください" in bad.content.decode()
    late = clerk.post("/tax/property/buildings/new/", {**house, "completed_on": "2024-06-30"})
    assert late.status_code == 400 and "新築年月日と建築年が一致しません" in late.content.decode()
    assert _counts(town_a, in_town) == before
    assert clerk.post("/tax/property/buildings/new/", house).status_code == 302
    with in_town(town_a):
        row = Building.objects.get(house_number="20番")
    page = clerk.get(f"/tax/property/buildings/{row.pk}/")
    assert page.status_code == 200 and "新規登録" in page.content.decode()
    same = clerk.post(
        f"/tax/property/buildings/{row.pk}/",
        {"owner_number": a.number, "changed_on": "2026-03-01", "note": "売買"},
    )
    assert same.status_code == 400 and "今の所有者と同じ" in same.content.decode()
    moved = clerk.post(
        f"/tax/property/buildings/{row.pk}/",
        {"owner_number": b.number, "changed_on": "2026-03-01", "note": "売買"},
    )
    assert moved.status_code == 302
    with in_town(town_a):
        now = Building.objects.get(house_number="20番", valid_to__isnull=True)
    assert now.owner_id == b.pk and now.valid_from == 2027
    edit = clerk.post(
        f"/tax/property/buildings/{now.pk}/edit/",
        {**house, "assessed_value": "8800000", "fiscal_year": YEAR, "note": "評価の修正"},
    )
    assert edit.status_code == 400  # the row starts in 2027: a 2026 correction is refused
    assert "異動日が登録" in edit.content.decode()
    no_date = clerk.post(f"/tax/property/buildings/{now.pk}/demolish/", {"note": "取壊し"})
    assert no_date.status_code == 400 and "異動日を入力してください" in no_date.content.decode()
    gone = clerk.post(
        f"/tax/property/buildings/{now.pk}/demolish/",
        {"changed_on": "2027-05-01", "note": "取壊し"},
    )
    assert gone.status_code == 302
    with in_town(town_a):
        assert Building.objects.get(pk=now.pk).valid_to == 2028


def test_asset_declaration_screen(clerk, town_a, in_town) -> None:
    with in_town(town_a):
        corp = addressees.addressee_register_corporation(
            corporate_number=CORP, name="株式会社架空商事", address="葉山町一色1"
        )
    url = f"/tax/property/owners/{corp.pk}/assets/"
    assert clerk.get(url).status_code == 200
    bad = clerk.post(url, {"fiscal_year": YEAR, "declared_base": "-1", "declared_on": "2026-01-31"})
    assert bad.status_code == 400 and "課税標準額の合計は0以上です" in bad.content.decode()
    ok = clerk.post(
        url, {"fiscal_year": YEAR, "declared_base": "3000000", "declared_on": "2026-01-31"}
    )
    assert ok.status_code == 302
    with in_town(town_a):
        assert list(AssetDeclaration.objects.values_list("declared_base", "seq")) == [
            (3_000_000, 1)
        ]


def test_addressee_screens(clerk, town_a, in_town, people) -> None:
    a, _ = people
    before = _counts(town_a, in_town)
    assert clerk.get("/tax/addressees/").status_code == 200
    wrong = clerk.post(
        "/tax/addressees/corporations/new/",
        {"corporate_number": "1000012050002", "name": "株式会社架空商事", "address": "葉山町"},
    )
    assert (
        wrong.status_code == 400
        and "法人番号の検査用数字が正しくありません" in wrong.content.decode()
    )
    short = clerk.post(
        "/tax/addressees/corporations/new/",
        {"corporate_number": "12345", "name": "株式会社架空商事", "address": "葉山町"},
    )
    assert short.status_code == 400 and "法人番号は半角数字13桁です" in short.content.decode()
    no_kana = clerk.post(
        "/tax/addressees/non-residents/new/", {"name": "葛󠄀西　太郎", "address": "x"}
    )
    assert no_kana.status_code == 400 and "フリガナを入力してください" in no_kana.content.decode()
    bad_postal = clerk.post(
        "/tax/addressees/non-residents/new/",
        {"name": "葛󠄀西　太郎", "kana": "カサイ　タロウ", "address": "x", "postal_code": "12"},
    )
    assert (
        bad_postal.status_code == 400 and "郵便番号は7桁の数字です" in bad_postal.content.decode()
    )
    assert _counts(town_a, in_town) == before
    made = clerk.post(
        "/tax/addressees/corporations/new/",
        {"corporate_number": CORP, "name": "株式会社架空商事", "address": "葉山町一色1"},
    )
    assert made.status_code == 302
    person = clerk.post(
        "/tax/addressees/non-residents/new/",
        {
            "name": "葛󠄀西　太郎",
            "kana": "カサイ　タロウ",
            "address": "東京都港区1",
            "birth_date": "1970-01-02",
        },
    )
    assert person.status_code == 302
    with in_town(town_a):
        kasai = Addressee.objects.get(kana="カサイ　タロウ")
    page = clerk.get(person["Location"]).content.decode()
    assert "葛󠄀西　太郎" in page  # the IVS is kept as written
    # 共有者 screen
    group = clerk.post(
        "/tax/addressees/co-owners/new/",
        {"co_owners": f"{a.number} 1/2\n{kasai.number} 1/3", "representative_number": a.number},
    )
    assert group.status_code == 400 and "持分の合計が1になりません" in group.content.decode()
    group = clerk.post(
        "/tax/addressees/co-owners/new/",
        {"co_owners": f"{a.number} 1/2\n{kasai.number} 1/2", "representative_number": a.number},
    )
    assert group.status_code == 302
    # 送付先・納税管理人 per 業務
    url = f"/tax/addressees/{kasai.pk}/"
    no_address = clerk.post(
        url,
        {
            "contact": "1",
            "business": "property_tax",
            "role": "manager",
            "contact_name": "税理士　一",
            "contact_note": "納税管理人申告書",
        },
    )
    assert (
        no_address.status_code == 400
        and "送付先の住所を入力してください" in no_address.content.decode()
    )
    set_manager = clerk.post(
        url,
        {
            "contact": "1",
            "business": "property_tax",
            "role": "manager",
            "contact_name": "税理士　一",
            "contact_address": "葉山町堀内2",
            "contact_note": "納税管理人申告書",
        },
    )
    assert set_manager.status_code == 302
    with in_town(town_a):
        kasai.refresh_from_db()
        assert addressees.mail_to(kasai, "property_tax").care_of == "納税管理人"
        assert addressees.mail_to(kasai, "light_vehicle_tax").care_of == ""
    update = clerk.post(
        url,
        {
            "update": "1",
            "name": "葛󠄀西　太郎",
            "kana": "カサイ　タロウ",
            "address": "東京都港区9",
            "birth_date": "1970-01-02",
            "note": "住所変更の届出",
        },
    )
    assert update.status_code == 302
    with in_town(town_a):
        kasai.refresh_from_db()
    assert kasai.address == "東京都港区9"


def test_vehicle_screens_and_background_run(clerk, town_a, in_town, people) -> None:
    a, b = people
    car = {
        "plate": "湘南 580 あ 12-34",
        "vehicle_class": "cargo",
        "use": "private",
        "first_inspection": "2019-01",
        "fuel": "gasoline",
        "owner_number": a.number,
        "acquired_on": "2025-01-10",
    }
    assert clerk.get("/tax/light-vehicle/vehicles/new/").status_code == 200
    before = _counts(town_a, in_town)
    bad = clerk.post("/tax/light-vehicle/vehicles/new/", {**car, "first_inspection": "2019-13"})
    assert bad.status_code == 400 and "初度検査" in bad.content.decode()
    nobody = clerk.post("/tax/light-vehicle/vehicles/new/", {**car, "owner_number": "T000009999"})
    assert nobody.status_code == 400 and "税務宛名番号が見つかりません" in nobody.content.decode()
    assert _counts(town_a, in_town) == before
    assert clerk.post("/tax/light-vehicle/vehicles/new/", car).status_code == 302
    with in_town(town_a):
        vehicle = LightVehicle.objects.get(plate=car["plate"])
    edit = clerk.post(
        f"/tax/light-vehicle/vehicles/{vehicle.pk}/edit/",
        {**car, "vehicle_class": "passenger", "note": "車検証の確認"},
    )
    assert edit.status_code == 302
    run = clerk.post("/tax/light-vehicle/run/", {"year": YEAR})
    assert run.status_code == 302 and run["Location"].startswith("/tax/resident/progress/")
    assert "順番待ち" in clerk.get(run["Location"]).content.decode()
    from moyai.tax.light_vehicle.tasks import assess_year

    key = parse_qs(urlparse(run["Location"]).query)["key"][0]
    assert key.startswith("light_vehicle_tax.assess:")
    assess_year.call(town_a.code, YEAR, key)
    done = clerk.get(run["Location"]).content.decode()
    assert "完了しました" in done and "/tax/light-vehicle/" in done
    with in_town(town_a):
        assert VehicleTaxAssessment.objects.get(vehicle=vehicle).tax == 10_800
    moved = clerk.post(
        f"/tax/light-vehicle/vehicles/{vehicle.pk}/transfer/",
        {"owner_number": b.number, "changed_on": "2026-05-01", "note": "名義変更"},
    )
    assert moved.status_code == 302
    with in_town(town_a):
        current = LightVehicle.objects.get(plate=car["plate"], released_on__isnull=True)
    assert current.owner_id == b.pk
    early = clerk.post(
        f"/tax/light-vehicle/vehicles/{current.pk}/scrap/",
        {"changed_on": "2026-04-01", "note": "廃車"},
    )
    assert early.status_code == 400 and "登録日より前" in early.content.decode()
    scrapped = clerk.post(
        f"/tax/light-vehicle/vehicles/{current.pk}/scrap/",
        {"changed_on": "2027-03-01", "note": "廃車"},
    )
    assert scrapped.status_code == 302
    closed = clerk.post(
        f"/tax/light-vehicle/vehicles/{current.pk}/scrap/",
        {"changed_on": "2027-03-02", "note": "廃車"},
    )
    assert closed.status_code == 400 and "すでに廃車" in closed.content.decode()


def test_property_shards_share_one_run(town_a, in_town, cli_actor, people) -> None:
    """shard=(i, n): every owner is assessed by exactly one shard, with the same figures as a
    run in one process (the shards run one after the other here; the CLI forks them)."""
    a, b = people
    with in_town(town_a):
        for i, owner in enumerate((a, b, a)):
            services.parcel_register(
                owner_id=owner.pk,
                facts=services.ParcelFacts(
                    "堀内", f"{i + 1}", "宅地", "250", 12_000_000, "200", "50"
                ),
                changed_on=date(2025, 3, 1),
            )
        group = addressees.co_owners_register(
            members=[addressees.Share(a.pk, "1/2"), addressees.Share(b.pk, "1/2")],
            representative_id=a.pk,
        )
        services.building_register(
            owner_id=group.pk,
            facts=services.BuildingFacts("堀内", "3番", "居宅", "木造", "100", 7_000_000, 1990),
            changed_on=date(2025, 3, 1),
        )
    with pytest.raises(services.ServiceError) as refused:
        services.assessment_run(municipality=town_a, fiscal_year=YEAR, shard=(2, 2))
    assert refused.value.field == "shard"
    parts = [
        services.assessment_run(
            municipality=town_a,
            fiscal_year=YEAR,
            job_key="property_tax.assess:s",
            shard=(i, 2),
            initial=True,
        )
        for i in range(2)
    ]
    assert [p.owners for p in parts] == [2, 1] and sum(p.written for p in parts) == 3
    with in_town(town_a):
        assert sorted(
            JobRun.objects.filter(key__startswith="property_tax.assess:s:").values_list(
                "key", flat=True
            )
        ) == [
            "property_tax.assess:s:1/2",
            "property_tax.assess:s:2/2",
        ]
        sharded = dict(PropertyTaxAssessment.objects.values_list("owner_id", "total"))
        assert set(PropertyTaxAssessment.objects.values_list("reason", flat=True)) == {"initial"}
        PropertyTaxAssessment.objects.all().delete()
    single = services.assessment_run(municipality=town_a, fiscal_year=YEAR)
    with in_town(town_a):
        assert dict(PropertyTaxAssessment.objects.values_list("owner_id", "total")) == sharded
    assert single.written == 3 and all(sharded.values())
