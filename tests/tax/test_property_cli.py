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
