"""``moyai property`` / ``moyai light_vehicle``: a synthetic ledger is assessed and its notices
printed end to end from the CLI (as the demo does), and 試算 from JSON stores nothing."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from moyai.registry.synthetic import seed_population
from moyai.tax.addressees.models import Addressee, AddresseeKind
from moyai.tax.property.models import Parcel, PropertyTaxAssessment

from ..conftest import on_postgres
from .property_fixtures import pdf_text

YEAR = 2026


def _run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, verbosity=0)
    return out.getvalue()


def test_sample_ledger_assess_and_notices(town_a, in_town, cli_actor, tmp_path: Path) -> None:
    seed_population(town_a, persons=40, seed=3)
    out = _run("property", "sample-ledger", "-m", "143014", "--year", str(YEAR))
    assert "を登録しました" in out
    with in_town(town_a):
        kinds = set(Addressee.objects.values_list("kind", flat=True))
        assert {AddresseeKind.NON_RESIDENT, AddresseeKind.CORPORATION} <= kinds
        parcels = Parcel.objects.count()
        assert parcels >= 5
    out = _run("property", "assess", "-m", "143014", "--year", str(YEAR), "--chunk", "3")
    assert "賦課" in out
    out = _run("property", "notices", str(tmp_path / "pdf"), "-m", "143014", "--year", str(YEAR))
    files = sorted((tmp_path / "pdf").glob("固定資産税_納税通知書_*.pdf"))
    assert files and "通を出力しました" in out
    with in_town(town_a):
        taxed = PropertyTaxAssessment.objects.filter(total__gt=0).count()
        corp = Addressee.objects.get(kind=AddresseeKind.CORPORATION)
    assert len(files) == taxed
    text = pdf_text((tmp_path / "pdf" / f"固定資産税_納税通知書_{corp.number}.pdf").read_bytes())
    assert "株式会社架空商事" in text and "償却資産" in text and "課税明細書" in text


def test_simulate_from_json(tmp_path: Path) -> None:
    path = tmp_path / "parcel.json"
    path.write_text(
        json.dumps({"houses": [{"assessed_value": 5_000_000, "floor_area_m2": "100"}]}),
        "utf-8",
    )
    out = _run("property", "simulate", str(path), "--year", str(YEAR), "--json")
    assert json.loads(out)["total"] == 70_000
    assert "合計 70,000 円" in _run("property", "simulate", str(path), "--year", str(YEAR))
    path.write_text(json.dumps({"lands": [{"category": "沼"}]}), "utf-8")
    with pytest.raises(CommandError, match="lands"):
        _run("property", "simulate", str(path), "--year", str(YEAR))
    car = tmp_path / "car.json"
    car.write_text(json.dumps({"vehicle_class": "cargo", "first_inspection": "2019-01"}), "utf-8")
    assert "税額 5,000 円" in _run("light_vehicle", "simulate", str(car), "--year", str(YEAR))


@pytest.mark.django_db
def test_light_vehicle_cli_needs_a_municipality() -> None:
    with pytest.raises(CommandError, match="municipality"):
        _run("light_vehicle", "assess", "--year", str(YEAR))


@pytest.mark.postgres
def test_a_run_shared_by_processes(transactional_db, town_a, in_town, cli_actor) -> None:
    """--workers: worker processes share one run and write every 納税義務者 once.
    PostgreSQL only: the SQLite test database lives in this process's memory."""
    if not on_postgres():
        pytest.skip(
            "worker processes each connect to the one database; the SQLite test database "
            "lives in this process's memory, out of their reach (runs on PostgreSQL)"
        )
    seed_population(town_a, persons=30, seed=5)
    _run("property", "sample-ledger", "-m", "143014", "--year", str(YEAR))
    with in_town(town_a):
        from moyai.tax.property.services import liable_owners

        owners = len(liable_owners(YEAR))
    out = _run("property", "assess", "-m", "143014", "--year", str(YEAR), "--workers", "2")
    assert f"納税義務者 {owners} 人、賦課 {owners} 件" in out and "2 プロセス" in out
    with in_town(town_a):
        assert PropertyTaxAssessment.objects.count() == owners
        assert set(PropertyTaxAssessment.objects.values_list("reason", flat=True)) == {"initial"}
    out = _run("property", "assess", "-m", "143014", "--year", str(YEAR), "--workers", "2")
    assert f"賦課 0 件、変更なし {owners} 件" in out
    with pytest.raises(CommandError, match="workers"):
        _run("property", "assess", "-m", "143014", "--year", str(YEAR), "--workers", "0")


def test_ledger_entry_from_the_command_line(town_a, in_town, cli_actor) -> None:
    from moyai.tax.addressees import services as addressees
    from moyai.tax.property.models import AssetDeclaration, Building

    with in_town(town_a):
        a = addressees.addressee_register_non_resident(name="甲", kana="コウ", address="東京都")
        b = addressees.addressee_register_non_resident(name="乙", kana="オツ", address="横浜市")
    m = ("-m", "143014")
    out = _run(
        "property",
        "parcel-add",
        *m,
        "--co-owner",
        f"{a.number}:1/2",
        "--co-owner",
        f"{b.number}:1/2",
        "--representative",
        a.number,
        "--location",
        "一色",
        "--lot",
        "9-1",
        "--land-use",
        "宅地",
        "--area",
        "150",
        "--value",
        "9000000",
        "--small",
        "150",
        "--on",
        "2025-06-01",
    )
    assert "土地 一色9-1" in out and "令和8年度から" in out
    with pytest.raises(CommandError, match="area_m2"):
        _run(
            "property",
            "parcel-add",
            *m,
            "--owner",
            a.number,
            "--location",
            "一色",
            "--lot",
            "9-2",
            "--land-use",
            "宅地",
            "--area",
            "x",
            "--value",
            "1",
            "--on",
            "2025-06-01",
        )
    out = _run(
        "property",
        "building-add",
        *m,
        "--owner",
        b.number,
        "--location",
        "一色",
        "--house-number",
        "9番",
        "--kind",
        "居宅",
        "--structure",
        "木造",
        "--floor-area",
        "90",
        "--built",
        "2025",
        "--value",
        "8000000",
        "--completed-on",
        "2025-05-01",
        "--on",
        "2025-05-01",
    )
    with in_town(town_a):
        group = Parcel.objects.get(lot_number="9-1").owner
        house = Building.objects.get(house_number="9番")
    assert group.kind == AddresseeKind.CO_OWNERS and group.representative_id == a.pk
    out = _run(
        "property",
        "transfer",
        *m,
        "--building",
        str(house.pk),
        "--owner",
        a.number,
        "--on",
        "2026-02-01",
        "--note",
        "売買",
    )
    assert f"所有者を {a.number} にしました（令和9年度から）" in out
    with in_town(town_a):
        current = Building.objects.get(house_number="9番", valid_to__isnull=True)
    out = _run(
        "property",
        "demolish",
        *m,
        "--building",
        str(current.pk),
        "--on",
        "2027-03-01",
        "--note",
        "取壊し",
    )
    assert "滅失を登録しました（令和10年度から）" in out
    out = _run(
        "property",
        "assets",
        *m,
        "--owner",
        b.number,
        "--year",
        str(YEAR),
        "--base",
        "2000000",
        "--on",
        "2026-01-31",
    )
    assert "履歴番号 1" in out
    with in_town(town_a):
        assert AssetDeclaration.objects.get().declared_base == 2_000_000
