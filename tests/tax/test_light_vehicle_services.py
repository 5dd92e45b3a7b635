"""軽自動車税（種別割）: ledger (登録・名義変更・廃車・減免) → 賦課 on 4月1日 → 通知書, 試算."""

from __future__ import annotations

from datetime import date

import pytest

from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent
from moyai.tax.addressees import services as addressees
from moyai.tax.light_vehicle import services
from moyai.tax.light_vehicle.models import LightVehicle, VehicleTaxAssessment

from .property_fixtures import family, pdf_text

YEAR = 2026


@pytest.fixture
def owners(town_a, in_town):
    moved = family(town_a, in_town)
    with in_town(town_a):
        return (
            addressees.addressee_for_resident(person_id=moved.records[0].person_id),
            addressees.addressee_for_resident(person_id=moved.records[1].person_id),
        )


def test_vehicles_are_taxed_to_the_owner_on_april_first(town_a, in_town, owners) -> None:
    a, b = owners
    with in_town(town_a):
        old = services.vehicle_register(
            owner_id=a.pk,
            facts=services.VehicleFacts(
                "湘南 580 あ 12-34", "passenger", first_inspection="2013-03"
            ),
            acquired_on=date(2020, 5, 1),
        )
        new = services.vehicle_register(
            owner_id=a.pk,
            facts=services.VehicleFacts(
                "湘南 580 い 56-78", "軽自動車（四輪以上・乗用）", first_inspection="2013-04"
            ),
            acquired_on=date(2020, 5, 1),
        )
        moped = services.vehicle_register(
            owner_id=a.pk,
            facts=services.VehicleFacts("葉山町 あ 1234", "moped_50"),
            acquired_on=date(2021, 4, 1),
        )
        # 名義変更 on 4/1 → B is the owner on the 賦課期日
        services.vehicle_transfer(
            vehicle_id=moped.pk, owner_id=b.pk, changed_on=date(2026, 4, 1), note="譲渡"
        )
        # 廃車 on 4/2 → still taxed for 令和8年度
        services.vehicle_scrap(vehicle_id=new.pk, changed_on=date(2026, 4, 2), note="廃車申告")
        result = services.assessment_run(municipality=town_a, fiscal_year=YEAR)
        assert (result.vehicles, result.written) == (3, 3)
        taxes = {
            (x.vehicle.plate, x.owner_id): (x.rate_kind, x.tax)
            for x in VehicleTaxAssessment.objects.select_related("vehicle")
        }
        assert taxes[("湘南 580 あ 12-34", a.pk)] == ("経年車重課", 12_900)  # ≤ 平成25年3月
        assert taxes[("湘南 580 い 56-78", a.pk)][1] == 7_200  # 平成25年4月: 旧税率
        assert taxes[("葉山町 あ 1234", b.pk)][1] == 2_000
        due = VehicleTaxAssessment.objects.first().due
        assert due == date(2026, 6, 1)  # 5/31 is a Sunday
        # 減免 → the re-run writes only that vehicle
        services.exemption_set(vehicle_id=old.pk, reason="身体障害者等", note="手帳 第123号")
        again = services.assessment_run(municipality=town_a, fiscal_year=YEAR)
        assert (again.written, again.unchanged) == (1, 2)
        current = VehicleTaxAssessment.objects.get(vehicle=old, is_current=True)
        assert (current.seq, current.exemption_amount, current.tax) == (2, 12_900, 0)
        assert services.explain(current).trace.get("exemption").amount == 12_900
        issued = services.tax_notice_issue(owner_id=a.pk, fiscal_year=YEAR, purpose="")
        text = pdf_text(issued.pdf)
        assert "軽自動車税（種別割）" in text and "納税通知書" in text
        assert "湘南580い56-78" in text and "7,200" in text
        assert "湘南580あ12-34" not in text  # fully exempt: not on the notice


def test_refusals_leave_nothing(town_a, in_town, owners) -> None:
    a, _ = owners
    with in_town(town_a):
        before = AuditEvent.objects.count()
        with pytest.raises(ServiceError) as no_inspection:
            services.vehicle_register(
                owner_id=a.pk,
                facts=services.VehicleFacts("湘南 1", "passenger"),
                acquired_on=date(2025, 1, 1),
            )
        assert no_inspection.value.field == "first_inspection"
        with pytest.raises(ServiceError) as bad_class:
            services.vehicle_register(
                owner_id=a.pk,
                facts=services.VehicleFacts("湘南 1", "tank"),
                acquired_on=date(2025, 1, 1),
            )
        assert bad_class.value.field == "vehicle_class"
        v = services.vehicle_register(
            owner_id=a.pk,
            facts=services.VehicleFacts("湘南 1", "cargo", first_inspection="2019-01"),
            acquired_on=date(2025, 1, 1),
        )
        with pytest.raises(ServiceError) as dup:
            services.vehicle_register(
                owner_id=a.pk,
                facts=services.VehicleFacts("湘南 1", "cargo", first_inspection="2019-01"),
                acquired_on=date(2025, 1, 1),
            )
        assert dup.value.field == "plate"
        with pytest.raises(ServiceError) as ratio:
            services.exemption_set(vehicle_id=v.pk, reason="障害", ratio="3/2", note="x")
        assert ratio.value.field.endswith("ratio")
        with pytest.raises(ServiceError) as same:
            services.vehicle_transfer(
                vehicle_id=v.pk, owner_id=a.pk, changed_on=date(2025, 5, 1), note="x"
            )
        assert same.value.field == "owner_id"
        assert LightVehicle.objects.count() == 1
        v.refresh_from_db()
        assert v.exemption is None and v.released_on is None
        assert AuditEvent.objects.count() == before + 1


def test_simulate(town_a, in_town) -> None:
    outcome = services.simulate(
        fiscal_year=YEAR,
        data={
            "vehicle": {
                "vehicle_class": "passenger",
                "first_inspection": "2025-06",
                "fuel": "ev",
                "new_registration": "2025-06-10",
            }
        },
    )
    assert outcome.tax == 2_700 and "グリーン化特例" in outcome.rate_kind
    with pytest.raises(ServiceError) as bad:
        services.simulate(fiscal_year=YEAR, data={"vehicle": {"vehicle_class": "x"}})
    assert bad.value.field == "vehicle.vehicle_class"
    with in_town(town_a):
        services.parameters_update(
            fiscal_year=YEAR, overrides={"flat_rates": {"small_special_farm": 2000}}, note="条例"
        )
    farm = {"vehicle": {"vehicle_class": "small_special_farm"}}
    assert services.simulate(fiscal_year=YEAR, data=farm).tax == 2_400
    assert services.simulate(fiscal_year=YEAR, data=farm, municipality=town_a).tax == 2_000
