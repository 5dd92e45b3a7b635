from dataclasses import replace
from datetime import date

import pytest

from moyai.tax.common.rules import RuleInputError
from moyai.tax.light_vehicle.rules import (
    Fuel,
    LightVehicleExemption,
    LightVehicleParams,
    Use,
    Vehicle,
    VehicleClass,
    assess_vehicle,
    effective_first_inspection,
    exemption_from_mapping,
    heavy_cutoff,
    params_from_mapping,
    vehicle_from_mapping,
)

R7 = LightVehicleParams.national_defaults(2025)
R8 = LightVehicleParams.national_defaults(2026)


def car(year: int, month: int | None, **kwargs: object) -> Vehicle:
    return Vehicle(VehicleClass.PASSENGER, first_inspection=(year, month), **kwargs)  # type: ignore[arg-type]


def tax(vehicle: Vehicle, params: LightVehicleParams = R8) -> int:
    return assess_vehicle(vehicle, params).tax


def test_passenger_private_old_and_new_rates() -> None:
    assert tax(car(2015, 3)) == 7_200
    assert tax(car(2015, 4)) == 10_800
    a = assess_vehicle(car(2015, 4), R8)
    assert "平成27年4月以降" in a.rate_kind
    assert a.trace.get("rate").law == "地方税法第463条の15"


def test_heavy_boundary_reiwa8() -> None:
    assert heavy_cutoff(2026) == (2013, 3)
    heavy = assess_vehicle(car(2013, 3), R8)
    assert heavy.tax == 12_900 and heavy.rate_kind == "経年車重課"
    assert "附則第30条" in heavy.trace.get("rate").law
    assert tax(car(2013, 4)) == 7_200  # not yet 13 years; before 2015-04 → 旧税率


@pytest.mark.parametrize(
    ("vehicle_class", "use", "expected"),
    [
        (VehicleClass.THREE_WHEEL, Use.PRIVATE, (3_100, 3_900, 4_600)),
        (VehicleClass.PASSENGER, Use.COMMERCIAL, (5_500, 6_900, 8_200)),
        (VehicleClass.PASSENGER, Use.PRIVATE, (7_200, 10_800, 12_900)),
        (VehicleClass.CARGO, Use.COMMERCIAL, (3_000, 3_800, 4_500)),
        (VehicleClass.CARGO, Use.PRIVATE, (4_000, 5_000, 6_000)),
    ],
)
def test_wheeled_rows(
    vehicle_class: VehicleClass, use: Use, expected: tuple[int, int, int]
) -> None:
    old, new, heavy = expected
    assert tax(Vehicle(vehicle_class, use, (2014, 1))) == old
    assert tax(Vehicle(vehicle_class, use, (2020, 1))) == new
    assert tax(Vehicle(vehicle_class, use, (2010, 1))) == heavy


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fuel": Fuel.HYBRID},
        {"fuel": Fuel.EV},
        {"fuel": Fuel.FCV},
        {"fuel": Fuel.NATURAL_GAS},
        {"fuel": Fuel.METHANOL},
        {"towed": True},
    ],
)
def test_heavy_exempt(kwargs: dict[str, object]) -> None:
    a = assess_vehicle(car(2010, 1, **kwargs), R8)
    assert a.tax == 7_200
    assert "対象外" in a.trace.get("heavy_exempt").label


def test_diesel_is_not_exempt() -> None:
    assert tax(car(2010, 1, fuel=Fuel.OTHER)) == 12_900


def test_heisei15_october_counts_as_december() -> None:
    assert effective_first_inspection(2003, 10) == (2003, 12)
    assert effective_first_inspection(2003, 2) == (2003, 12)
    assert effective_first_inspection(2003, None) == (2003, 12)
    assert effective_first_inspection(2003, 11) == (2003, 11)
    # 平成28年度 (2016): 重課 up to 2003年3月. A vehicle first inspected 2003年2月 counts as
    # 2003年12月, so it is not yet 重課; one of 2002年11月 (→ 2002年12月) is.
    h28 = replace(R8, fiscal_year=2016, green_window=None)
    assert heavy_cutoff(2016) == (2003, 3)
    not_yet = assess_vehicle(car(2003, 2), h28)
    assert not_yet.tax == 7_200
    assert tax(car(2003, None), h28) == 7_200
    heavy = assess_vehicle(car(2002, 11), h28)
    assert heavy.tax == 12_900
    assert "12月とみなす" in heavy.trace.get("rate").basis
    # Without the rule 2003年2月 would be ≤ 2003年3月: the edge matters.
    assert heavy_cutoff(2016) >= (2003, 2)


def test_month_needed_after_heisei15() -> None:
    with pytest.raises(RuleInputError) as exc:
        car(2004, None)
    assert exc.value.field == "first_inspection"
    with pytest.raises(RuleInputError):
        Vehicle(VehicleClass.CARGO)


def test_green_reiwa8_ev() -> None:
    ev = car(2025, 6, fuel=Fuel.EV, new_registration=date(2025, 6, 10))
    a = assess_vehicle(ev, R8)
    assert a.tax == 2_700
    assert a.rate_kind == "グリーン化特例（概ね75%軽減）"
    assert tax(car(2025, 6, fuel=Fuel.EV)) == 2_700  # judged from 初度検査年月
    assert tax(car(2025, 3, fuel=Fuel.EV, new_registration=date(2025, 3, 31))) == 10_800
    assert tax(car(2026, 3, fuel=Fuel.EV, new_registration=date(2026, 3, 31))) == 2_700
    # Only the single 年度 after registration.
    assert tax(ev, replace(R8, fiscal_year=2027, green_window=None)) == 10_800
    assert tax(car(2025, 6, fuel=Fuel.HYBRID)) == 10_800


@pytest.mark.parametrize(
    ("vehicle", "expected"),
    [
        (Vehicle(VehicleClass.THREE_WHEEL, first_inspection=(2025, 5), fuel=Fuel.EV), 1_000),
        (Vehicle(VehicleClass.PASSENGER, Use.COMMERCIAL, (2025, 5), Fuel.EV), 1_800),
        (Vehicle(VehicleClass.CARGO, Use.COMMERCIAL, (2025, 5), Fuel.NATURAL_GAS), 1_000),
        (Vehicle(VehicleClass.CARGO, Use.PRIVATE, (2025, 5), Fuel.EV), 1_300),
    ],
)
def test_green_75_rows(vehicle: Vehicle, expected: int) -> None:
    assert tax(vehicle) == expected


def test_green_50_commercial_passenger_only() -> None:
    taxi = Vehicle(
        VehicleClass.PASSENGER, Use.COMMERCIAL, (2025, 8), Fuel.HYBRID, green_50_standard=True
    )
    a = assess_vehicle(taxi, R8)
    assert a.tax == 3_500 and "50%" in a.rate_kind
    private = replace(taxi, use=Use.PRIVATE)
    assert tax(private) == 10_800
    assert tax(replace(taxi, green_50_standard=False)) == 6_900


def test_green_reiwa7() -> None:
    ev = car(2024, 5, fuel=Fuel.EV)
    assert tax(ev, R7) == 2_700
    assert tax(ev, R8) == 10_800
    assert R7.green_window == (date(2024, 4, 1), date(2025, 3, 31))


@pytest.mark.parametrize(
    ("vehicle_class", "expected"),
    [
        (VehicleClass.MOPED_50, 2_000),
        (VehicleClass.SPECIFIED_SMALL, 2_000),
        (VehicleClass.NEW_STANDARD_MOPED, 2_000),
        (VehicleClass.MOPED_90, 2_000),
        (VehicleClass.MOPED_125, 2_400),
        (VehicleClass.MINICAR, 3_700),
        (VehicleClass.SMALL_SPECIAL_FARM, 2_400),
        (VehicleClass.SMALL_SPECIAL_OTHER, 5_900),
        (VehicleClass.LIGHT_TWO_WHEEL, 3_600),
        (VehicleClass.SNOWMOBILE, 3_600),
        (VehicleClass.SMALL_TWO_WHEEL, 6_000),
    ],
)
def test_flat_rates(vehicle_class: VehicleClass, expected: int) -> None:
    assert tax(Vehicle(vehicle_class)) == expected
    # No 重課 for 二輪 etc., whatever the age.
    assert tax(Vehicle(vehicle_class, first_inspection=(1990, 1))) == expected


def test_ordinance_override() -> None:
    hofu = params_from_mapping(R8, {"flat_rates": {"small_special_farm": 2_000}})
    assert tax(Vehicle(VehicleClass.SMALL_SPECIAL_FARM), hofu) == 2_000
    assert tax(Vehicle(VehicleClass.SMALL_SPECIAL_OTHER), hofu) == 5_900
    custom = params_from_mapping(R8, {"wheeled_rates": {"passenger_private": {"heavy": 13_000}}})
    assert tax(car(2010, 1), custom) == 13_000
    assert tax(car(2020, 1), custom) == 10_800
    no_green = params_from_mapping(R8, {"green_window": None})
    assert tax(car(2025, 6, fuel=Fuel.EV), no_green) == 10_800
    dropped = params_from_mapping(R8, {"green_75": {"passenger_private": None}})
    assert tax(car(2025, 6, fuel=Fuel.EV), dropped) == 10_800


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"flat_rates": {"small_special_farm": 2_050}}, "flat_rates.small_special_farm"),
        ({"flat_rates": {"bicycle": 100}}, "flat_rates.bicycle"),
        ({"flat_rates": {"passenger": 100}}, "flat_rates.passenger"),
        (
            {"wheeled_rates": {"passenger_private": {"old": "x"}}},
            "wheeled_rates.passenger_private.old",
        ),
        (
            {"wheeled_rates": {"passenger_private": {"oldest": 1}}},
            "wheeled_rates.passenger_private.oldest",
        ),
        ({"green_window": ["2026-03-31", "2025-04-01"]}, "green_window"),
        ({"rates": {}}, "rates"),
    ],
)
def test_params_from_mapping_names_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(RuleInputError) as exc:
        params_from_mapping(R8, overrides)
    assert exc.value.field == field


def test_national_defaults_only_for_known_years() -> None:
    with pytest.raises(RuleInputError) as exc:
        LightVehicleParams.national_defaults(2024)
    assert exc.value.field == "fiscal_year"


def test_disability_exemption() -> None:
    a = assess_vehicle(car(2020, 1), R8, LightVehicleExemption())
    assert a.standard_tax == 10_800
    assert a.exemption_amount == 10_800
    assert a.tax == 0
    step = a.trace.get("exemption")
    assert "身体障害者等" in step.label and "第463条の23" in step.law
    half = assess_vehicle(car(2020, 1), R8, LightVehicleExemption("公益", (1, 2)))
    assert half.tax == 5_400


def test_vehicle_from_mapping() -> None:
    v = vehicle_from_mapping(
        {
            "vehicle_class": "passenger",
            "use": "自家用",
            "first_inspection": "2025-06",
            "fuel": "電気",
            "new_registration": "2025-06-10",
        }
    )
    assert v.fuel is Fuel.EV and v.first_inspection == (2025, 6)
    assert tax(v) == 2_700
    assert vehicle_from_mapping({"vehicle_class": "cargo", "first_inspection": "2002"}) == Vehicle(
        VehicleClass.CARGO, first_inspection=(2002, None)
    )
    assert vehicle_from_mapping(
        {"vehicle_class": "軽自動車（三輪）", "first_inspection": {"year": 2014, "month": 2}}
    ).first_inspection == (2014, 2)
    ex = exemption_from_mapping({"reason": "身体障害者等"})
    assert ex is not None and ex.ratio == (1, 1)
    assert exemption_from_mapping(None) is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"vehicle_class": "passenger"}, "vehicles[0].first_inspection"),
        ({"vehicle_class": "bus"}, "vehicles[0].vehicle_class"),
        (
            {"vehicle_class": "passenger", "first_inspection": "2015/04"},
            "vehicles[0].first_inspection",
        ),
        (
            {"vehicle_class": "passenger", "first_inspection": "2015-13"},
            "vehicles[0].first_inspection",
        ),
        ({"vehicle_class": "moped_50", "fuel": "steam"}, "vehicles[0].fuel"),
        ({"vehicle_class": "moped_50", "towed": "yes"}, "vehicles[0].towed"),
        ({"vehicle_class": "moped_50", "colour": "red"}, "vehicles[0].colour"),
    ],
)
def test_vehicle_from_mapping_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(RuleInputError) as exc:
        vehicle_from_mapping(data, prefix="vehicles[0].")
    assert exc.value.field == field
