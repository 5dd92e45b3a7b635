"""The 税務 files of the standard layout (1.1): 税務宛名・共有者・送付先, 固定資産課税台帳 and the
軽自動車 ledger round-trip byte for byte; bad rows are refused with nothing written; a 1.0
package (registry only) still imports."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moyai.exchange import layout
from moyai.exchange.selectors import export_tenant
from moyai.exchange.services import import_tenant
from moyai.platform.models import Municipality
from moyai.platform.tenancy import tenant_context
from moyai.registry.models import Person
from moyai.tax.addressees import services as addressees
from moyai.tax.addressees.models import Addressee, AddresseeKind, CoOwner
from moyai.tax.light_vehicle import services as vehicles
from moyai.tax.light_vehicle.models import LightVehicle, VehicleTaxAssessment
from moyai.tax.property import services as ledger
from moyai.tax.property.models import (
    AssetDeclaration,
    Building,
    Parcel,
    PropertyTaxAssessment,
)

from ..tax.property_fixtures import family
from .test_refusals import _edit, _refresh_manifest
from .test_round_trip import files, wipe_registry

CORPORATE = "8700110005901"


def wipe(town: Municipality) -> None:
    """An empty deployment for ``town``: the ledgers, the 税務宛名 and the registry emptied."""
    with tenant_context(town):
        VehicleTaxAssessment.objects.all().delete()
        PropertyTaxAssessment.objects.all().delete()
        LightVehicle.objects.update(predecessor=None)
        LightVehicle.objects.all().delete()
        for model in (AssetDeclaration, Building, Parcel, CoOwner):
            model.objects.all().delete()
        Addressee.objects.update(representative=None)
        Addressee.objects.all().delete()
    wipe_registry(town)


def _parcel(location: str, lot: str, area: str, value: int) -> ledger.ParcelFacts:
    return ledger.ParcelFacts(
        location=location,
        lot_number=lot,
        land_use="宅地",
        area_m2=area,
        assessed_value=value,
        small_residential_m2=area,
        prior={"prior_residential_base": value // 6},
    )


@pytest.fixture
def arranged(town_a, in_town):
    def arrange(parcels: int = 2, steps: tuple[str, ...] = (), cars: int = 1) -> None:
        moved = family(town_a, in_town)
        with in_town(town_a):
            a = addressees.addressee_for_resident(person_id=moved.records[0].person_id)
            b = addressees.addressee_for_resident(person_id=moved.records[1].person_id)
            away = addressees.addressee_register_non_resident(
                name="遠方　𠮷男",
                kana="エンポウ　ヨシオ",
                birth_date="1960-02-29",
                address="北海道札幌市中央区北1条西2丁目",
                postal_code="060-0001",
            )
            corp = addressees.addressee_register_corporation(
                corporate_number=CORPORATE,
                name="株式会社架空",
                address="東京都港区芝公園4-2-8",
                postal_code="1050011",
            )
            group = addressees.co_owners_register(
                members=[addressees.Share(a.pk, "2/3"), addressees.Share(away.pk, "1/3")],
                representative_id=away.pk,
            )
            addressees.contact_set(
                addressee_id=away.pk,
                business="property_tax",
                role="manager",
                name="葉山　管理人",
                address="神奈川県三浦郡葉山町堀内2135",
                postal_code="2400192",
                note="納税管理人申告書",
            )
            addressees.contact_set(
                addressee_id=corp.pk,
                business="all",
                role="send_to",
                name="株式会社架空 経理部",
                address='東京都港区芝公園4-2-8, 3階 "経理"',
                note="送付先変更届",
            )
            owners = [a, b, away, corp, group]
            rows = [
                ledger.parcel_register(
                    owner_id=owners[i % len(owners)].pk,
                    facts=_parcel("葉山町一色", f"{100 + i}", f"{200 + i}.50", 3_000_000 + i),
                    changed_on=date(2023, 6, 1),
                )
                for i in range(parcels)
            ]
            house = ledger.building_register(
                owner_id=group.pk,
                facts=ledger.BuildingFacts(
                    location="葉山町一色",
                    house_number="100番",
                    house_kind="居宅",
                    structure="木造",
                    floor_area_m2="98.76",
                    assessed_value=5_000_000,
                    built_year=2023,
                    residential_m2="98.76",
                    completed_on=date(2023, 7, 1),
                ),
                changed_on=date(2023, 7, 1),
            )
            shop = ledger.building_register(
                owner_id=corp.pk,
                facts=ledger.BuildingFacts(
                    location="葉山町堀内",
                    house_number="5番",
                    house_kind="店舗",
                    structure="鉄骨造",
                    floor_area_m2="250.00",
                    assessed_value=20_000_000,
                    built_year=2001,
                ),
                changed_on=date(2001, 3, 1),
            )
            for step in sorted(steps, key=lambda s: s == "revalue"):  # 評価替え (2026) last
                current = list(Parcel.objects.filter(pk__in=[p.pk for p in rows], valid_to=None))
                if step == "subdivide" and current:
                    p = current[0]
                    half = p.area // 2
                    parts = ledger.parcel_subdivide(
                        parcel_id=p.pk,
                        parts=[
                            ledger.SubParcel(p.lot_number, f"{half / 100:.2f}", 1_000_000),
                            ledger.SubParcel(
                                f"{p.lot_number}-{len(rows)}",
                                f"{(p.area - half) / 100:.2f}",
                                1_000_000,
                            ),
                        ],
                        changed_on=date(2025, 1, 1),
                        note="分筆登記",
                    )
                    rows.extend(parts)
                elif step == "merge" and len(current) >= 2:
                    same = [p for p in current if p.owner_id == current[0].owner_id]
                    if len(same) >= 2:
                        rows.append(
                            ledger.parcel_merge(
                                parcel_ids=[same[1].pk, same[0].pk],
                                lot_number=same[0].lot_number,
                                assessed_value=2_500_000,
                                changed_on=date(2025, 1, 1),
                                note="合筆登記",
                            )
                        )
                elif step == "transfer" and current:
                    p = current[-1]
                    new = next(o for o in owners if o.pk != p.owner_id)
                    rows.append(
                        ledger.parcel_transfer(
                            parcel_id=p.pk,
                            owner_id=new.pk,
                            changed_on=date(2025, 1, 1),
                            note="売買",
                        )
                    )
                elif step == "revalue" and current:
                    rows.append(
                        ledger.parcel_revalue(
                            parcel_id=current[0].pk,
                            assessed_value=2_900_000,
                            fiscal_year=2026,
                            note="評価替え",
                        )
                    )
            house = ledger.building_transfer(
                building_id=house.pk, owner_id=b.pk, changed_on=date(2024, 12, 1), note="相続"
            )
            ledger.building_demolish(
                building_id=shop.pk, changed_on=date(2025, 5, 1), note="取壊し"
            )
            for base in (1_000_000, 1_200_000):
                ledger.assets_declare(
                    owner_id=corp.pk,
                    fiscal_year=2026,
                    declared_base=base,
                    declared_on=date(2026, 1, 31),
                    note="修正申告" if base > 1_000_000 else "",
                )
            ledger.assets_declare(
                owner_id=away.pk, fiscal_year=2025, declared_base=0, declared_on=date(2025, 1, 20)
            )
            for i in range(cars):
                car = vehicles.vehicle_register(
                    owner_id=owners[i % 4].pk,
                    facts=vehicles.VehicleFacts(
                        f"湘南 580 あ {10 + i}-34", "passenger", first_inspection="2013-03"
                    ),
                    acquired_on=date(2020, 5, 1),
                )
                if i % 2 == 0:
                    car = vehicles.vehicle_transfer(
                        vehicle_id=car.pk,
                        owner_id=owners[(i + 1) % 4].pk,
                        changed_on=date(2024, 4, 1),
                        note="名義変更",
                    )
                    vehicles.exemption_set(vehicle_id=car.pk, reason="身体障害者等", note="手帳")
                if i % 3 == 2:
                    vehicles.vehicle_scrap(
                        vehicle_id=car.pk, changed_on=date(2025, 6, 1), note="廃車"
                    )
            vehicles.vehicle_register(
                owner_id=b.pk,
                facts=vehicles.VehicleFacts("葉山町 あ 1234", "moped_50", first_inspection="2002"),
                acquired_on=date(2021, 4, 1),
            )

    return arrange


def _round_trip(town: Municipality, package: Path, again: Path) -> None:
    wipe(town)
    report = import_tenant(municipality=town, directory=package, dry_run=False, purpose="試験")
    assert report.ok, report.problems[:5]
    assert report.written
    assert report.imported_counts == report.source_counts
    export_tenant(municipality=town, directory=again, with_my_number=False, purpose="試験")
    assert files(package) == files(again)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    parcels=st.integers(min_value=1, max_value=4),
    steps=st.lists(st.sampled_from(["subdivide", "merge", "transfer", "revalue"]), max_size=5),
    cars=st.integers(min_value=0, max_value=4),
)
def test_ledgers_round_trip_byte_identical(town_a, in_town, arranged, parcels, steps, cars):
    with transaction.atomic():
        arranged(parcels, tuple(steps), cars)
        tmp = Path(tempfile.mkdtemp())
        try:
            with in_town(town_a):
                first = export_tenant(
                    municipality=town_a, directory=tmp / "1", with_my_number=False, purpose="試験"
                )
            assert first.manifest["version"] == "1.1"
            counts = {k: v["rows"] for k, v in first.manifest["files"].items()}
            assert counts[layout.ADDRESSEE_FILE] == 5 and counts[layout.CO_OWNER_FILE] == 2
            assert counts[layout.CONTACT_FILE] == 2 and counts[layout.ASSET_FILE] == 3
            assert counts[layout.PARCEL_FILE] >= parcels
            assert counts[layout.VEHICLE_FILE] == 1 + cars + (cars + 1) // 2
            with in_town(town_a):
                _round_trip(town_a, tmp / "1", tmp / "2")
        finally:
            shutil.rmtree(tmp)
        transaction.set_rollback(True)


@pytest.fixture
def package(town_a, in_town, arranged, tmp_path) -> Path:
    arranged(3, ("subdivide", "transfer", "revalue"), 3)
    with in_town(town_a):
        export_tenant(
            municipality=town_a, directory=tmp_path / "pkg", with_my_number=False, purpose="試験"
        )
        wipe(town_a)
    return tmp_path / "pkg"


def test_the_imported_ledgers_are_linked_and_numbering_continues(town_a, in_town, package):
    with in_town(town_a):
        report = import_tenant(
            municipality=town_a, directory=package, dry_run=False, purpose="試験"
        )
        assert report.ok and report.written, report.problems[:5]
        assert report.source_counts["税務"]["税務宛名"] == {
            "住民": 2,
            "住登外者": 1,
            "法人": 1,
            "共有者": 1,
        }
        group = Addressee.objects.get(kind=AddresseeKind.CO_OWNERS)
        away = Addressee.objects.get(kind=AddresseeKind.NON_RESIDENT)
        assert group.representative_id == away.pk
        assert str(away.pk) in group.members_key
        assert away.contact("property_tax", "manager")["postal_code"] == "2400192"
        resident = Addressee.objects.filter(kind=AddresseeKind.RESIDENT).first()
        assert Person.objects.filter(pk=resident.person_id).exists()
        for row in Parcel.objects.exclude(predecessors=[]):
            assert Parcel.objects.filter(pk__in=row.predecessors).count() == len(row.predecessors)
        moved = LightVehicle.objects.exclude(predecessor=None).first()
        assert moved.predecessor.plate == moved.plate
        # The same 共有 again is found, not duplicated (members_key rebuilt with the new ids).
        members = [addressees.Share(m.member_id, m.share) for m in group.co_owners.all()]
        assert addressees.co_owners_register(members=members, representative_id=away.pk) == group
        # The 税務宛名番号 continue after the imported ones.
        highest = max(Addressee.objects.values_list("number", flat=True))
        new = addressees.addressee_register_non_resident(
            name="新規", kana="シンキ", address="東京都"
        )
        assert new.number > highest
        # A ledger step on an imported row works.
        p = Parcel.objects.filter(valid_to=None).order_by("pk").first()
        ledger.parcel_transfer(
            parcel_id=p.pk, owner_id=new.pk, changed_on=date(2026, 1, 1), note="売買"
        )


def _nothing_written(town) -> None:
    with tenant_context(town):
        assert not Person.objects.exists()
        assert not Addressee.objects.exists()
        assert not Parcel.objects.exists() and not LightVehicle.objects.exists()


def _rows(package: Path, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((package / name).read_text(encoding="utf-8"))))


def test_unknown_owner_and_bad_values_are_refused(town_a, in_town, package) -> None:
    _edit(package, layout.PARCEL_FILE, 2, "所有者_税務宛名番号", "T999999999")
    _edit(package, layout.PARCEL_FILE, 4, "地目", "湖")
    _edit(package, layout.PARCEL_FILE, 3, "地積", "12.3")
    _edit(package, layout.BUILDING_FILE, 2, "新築年月日", "2023-02-30")
    _edit(package, layout.VEHICLE_FILE, 2, "車種区分", "spaceship")
    _edit(package, layout.CO_OWNER_FILE, 2, "持分_分子", "3")
    _edit(package, layout.ASSET_FILE, 3, "最新フラグ", "1")  # 修正申告の前の申告
    resident = next(
        i for i, r in enumerate(_rows(package, layout.ADDRESSEE_FILE)) if r[1] == "resident"
    )
    _edit(package, layout.ADDRESSEE_FILE, resident + 1, "宛名番号", "999999999999999")
    _refresh_manifest(package)
    with in_town(town_a):
        report = import_tenant(
            municipality=town_a, directory=package, dry_run=False, purpose="試験"
        )
    found = {(p.file, p.line, p.field) for p in report.problems}
    assert (layout.PARCEL_FILE, 2, "所有者_税務宛名番号") in found
    assert (layout.PARCEL_FILE, 4, "地目") in found
    assert (layout.PARCEL_FILE, 3, "地積") in found
    assert (layout.BUILDING_FILE, 2, "新築年月日") in found
    assert (layout.VEHICLE_FILE, 2, "車種区分") in found
    assert (layout.ASSET_FILE, 3, "最新フラグ") in found
    assert (layout.ADDRESSEE_FILE, resident + 1, "宛名番号") in found
    assert any(p.file == layout.CO_OWNER_FILE and "持分の合計" in p.reason for p in report.problems)
    assert not report.written
    _nothing_written(town_a)


def test_a_predecessor_must_come_earlier(town_a, in_town, package) -> None:
    rows = _rows(package, layout.PARCEL_FILE)
    at = rows[0].index("異動前の行番号")
    line = next(i for i, r in enumerate(rows) if i and r[at] not in ("", "[]")) + 1
    _edit(package, layout.PARCEL_FILE, line, "異動前の行番号", json.dumps([line - 1]))  # itself
    _refresh_manifest(package)
    with in_town(town_a):
        report = import_tenant(
            municipality=town_a, directory=package, dry_run=False, purpose="試験"
        )
    assert [(p.line, p.field) for p in report.problems] == [(line, "異動前の行番号")]
    _nothing_written(town_a)


def test_a_failure_while_writing_the_ledgers_leaves_nothing(
    town_a, in_town, package, monkeypatch
) -> None:
    from moyai.exchange import tax

    def boom(*args, **kwargs):
        raise RuntimeError("停電")

    monkeypatch.setattr(tax, "_save_contacts", boom)
    with in_town(town_a), pytest.raises(RuntimeError):
        import_tenant(municipality=town_a, directory=package, dry_run=False, purpose="試験")
    _nothing_written(town_a)


def test_a_version_1_0_package_without_tax_files_imports(town_a, in_town, package) -> None:
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    for name, _ in layout.TAX_FILES:
        del manifest["files"][name]
        (package / name).unlink()
    manifest["version"] = "1.0"
    (package / "manifest.json").write_bytes(layout.manifest_bytes(manifest))
    with in_town(town_a):
        report = import_tenant(
            municipality=town_a, directory=package, dry_run=False, purpose="試験"
        )
        assert report.ok and report.written, report.problems[:5]
        assert report.imported_counts == report.source_counts
        assert Person.objects.count() == 2 and not Addressee.objects.exists()


def test_a_listed_tax_file_that_is_missing_is_refused(town_a, in_town, package) -> None:
    (package / layout.VEHICLE_FILE).unlink()
    with in_town(town_a):
        report = import_tenant(municipality=town_a, directory=package, dry_run=True, purpose="試験")
    assert any(p.file == layout.VEHICLE_FILE for p in report.problems)


def test_a_target_with_tax_data_is_refused(town_a, in_town, package) -> None:
    with in_town(town_a):
        addressees.addressee_register_non_resident(name="先客", kana="センキャク", address="東京都")
        report = import_tenant(
            municipality=town_a, directory=package, dry_run=False, purpose="試験"
        )
    assert not report.written
    assert any("税務の宛名・台帳" in p.reason for p in report.problems)
