from dataclasses import replace
from datetime import date

import pytest

from moyai.tax.common.rules import RuleInputError
from moyai.tax.property.rules import (
    DepreciableAssets,
    House,
    Land,
    LandCategory,
    PropertyTaxParams,
    adjust_commercial,
    adjust_farmland,
    adjust_residential,
    assess_owner,
    assets_from_mapping,
    house_from_mapping,
    land_from_mapping,
    new_house_period,
    params_from_mapping,
    residential_land_ratio,
)

R8 = PropertyTaxParams.national_defaults(2026)
R8_CP = replace(R8, city_planning_levied=True, city_planning_rate=300)
M2 = 100  # 1㎡ in 0.01㎡


def lot(value: int, area_m2: int = 150, **kwargs: object) -> Land:
    return Land("中央1-1", LandCategory.TAKUCHI, area_m2 * M2, value, **kwargs)  # type: ignore[arg-type]


# --- 住宅用地特例 -------------------------------------------------------------------------------


def test_small_residential_lot_one_sixth_and_one_third() -> None:
    a = assess_owner([lot(12_000_000, dwellings=1)], [], [], R8_CP)
    assert a.items[0].small_residential_area == 150 * M2
    assert a.items[0].base == 2_000_000
    assert a.items[0].cp_base == 4_000_000
    assert a.land.base == 2_000_000 and a.land.cp_base == 4_000_000
    assert a.fixed_asset_tax == 28_000
    assert a.city_planning_tax == 12_000
    assert a.total_tax == 40_000
    step = a.trace.get("land0.residential")
    assert "1/6" in step.basis and "第349条の3の2" in step.law
    assert "第702条の3" in a.trace.get("land0.residential_cp").law


def test_general_residential_lot_one_third_and_two_thirds() -> None:
    land = lot(9_000_000, general_residential_area=150 * M2)
    a = assess_owner([land], [], [], R8_CP)
    assert a.items[0].base == 3_000_000
    assert a.items[0].cp_base == 6_000_000
    assert a.fixed_asset_tax == 42_000
    assert a.city_planning_tax == 18_000


def test_300m2_lot_with_one_dwelling_splits_at_200m2() -> None:
    land = lot(30_000_000, area_m2=300, dwellings=1, house_floor_area=120 * M2)
    assert land.residential_split() == (200 * M2, 100 * M2, 0)
    a = assess_owner([land], [], [], R8_CP)
    # 20,000,000 / 6 + 10,000,000 / 3
    assert a.items[0].base == 3_333_333 + 3_333_333
    assert a.land.base == 6_666_000  # 1,000円未満切捨て
    assert a.fixed_asset_tax == 93_300  # 93,324 → 100円未満切捨て
    # 都市計画税: 20,000,000 / 3 + 10,000,000 × 2/3
    assert a.items[0].cp_base == 6_666_666 + 6_666_666
    assert a.land.cp_base == 13_333_000
    assert a.city_planning_tax == 39_900  # 39,999


def test_two_dwellings_make_400m2_small() -> None:
    land = lot(30_000_000, area_m2=300, dwellings=2)
    assert land.residential_split() == (300 * M2, 0, 0)


def test_ten_times_floor_area_cap_leaves_non_residential_part() -> None:
    land = lot(30_000_000, area_m2=300, dwellings=1, house_floor_area=25 * M2)
    assert land.residential_split() == (200 * M2, 50 * M2, 50 * M2)
    a = assess_owner([land], [], [], R8)
    # 小規模 20,000,000/6 + 一般 5,000,000/3 + 非住宅 5,000,000 × 70% (前年度なし)
    assert a.items[0].base == 3_333_333 + 1_666_666 + 3_500_000


def test_residential_land_ratio_for_mixed_use() -> None:
    assert residential_land_ratio(100, 100) == (1, 1)
    assert residential_land_ratio(50, 100) == (1, 1)
    assert residential_land_ratio(30, 100) == (1, 2)
    assert residential_land_ratio(20, 100) == (0, 1)
    assert residential_land_ratio(60, 100, fireproof_5_floors=True) == (3, 4)
    land = lot(30_000_000, area_m2=300, dwellings=1, residential_land_ratio=(1, 2))
    assert land.residential_split() == (150 * M2, 0, 150 * M2)


# --- 免税点 -------------------------------------------------------------------------------------


def other_land(value: int) -> Land:
    return Land("山林", LandCategory.OTHER, 1000 * M2, value)


def test_land_exemption_point_both_sides() -> None:
    below = assess_owner([other_land(299_999)], [], [], R8_CP)
    assert below.land.exempt and below.land.base == 0
    assert below.fixed_asset_tax == 0 and below.city_planning_tax == 0
    assert "免税点" in below.trace.get("land.total").label
    at = assess_owner([other_land(300_000)], [], [], R8_CP)
    assert not at.land.exempt and at.land.base == 300_000
    assert at.fixed_asset_tax == 4_200
    assert at.city_planning_tax == 900


def test_exemption_point_is_on_the_category_total() -> None:
    a = assess_owner([other_land(150_000), other_land(150_000)], [], [], R8)
    assert a.land.raw_base == 300_000 and not a.land.exempt


def test_house_and_asset_exemption_points() -> None:
    h = House("家屋1", 199_999, 80 * M2)
    assert assess_owner([], [h], [], R8).fixed_asset_tax == 0
    h2 = House("家屋1", 200_000, 80 * M2)
    assert assess_owner([], [h2], [], R8).fixed_asset_tax == 2_800
    assert assess_owner([], [], [DepreciableAssets(1_499_999)], R8).fixed_asset_tax == 0
    taxed = assess_owner([], [], [DepreciableAssets(1_500_000)], R8_CP)
    assert taxed.fixed_asset_tax == 21_000
    assert taxed.city_planning_tax == 0  # 償却資産には都市計画税なし


def test_categories_are_independent() -> None:
    a = assess_owner([other_land(299_999)], [House("家屋1", 5_000_000, 80 * M2)], [], R8)
    assert a.land.exempt and not a.house.exempt
    assert a.fixed_asset_tax == 70_000


def test_tenant_may_lower_but_not_raise_exemption_points() -> None:
    lowered = replace(R8, land_exemption=0)
    assert assess_owner([other_land(100_000)], [], [], lowered).fixed_asset_tax == 1_400
    with pytest.raises(RuleInputError) as exc:
        replace(R8, land_exemption=400_000)
    assert exc.value.field == "land_exemption"


# --- 負担調整 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prior", "expected"),
    [
        (None, 2_000_000),  # 新たに課税 → 本則
        (2_100_000, 2_000_000),  # 負担水準 105% → 本則
        (2_000_000, 2_000_000),  # 100%
        (1_500_000, 1_600_000),  # 75%: 前年度 + 本則×5%
        (1_950_000, 2_000_000),  # 上限: 本則
        (200_000, 400_000),  # 下限: 本則×20%
    ],
)
def test_residential_burden_adjustment(prior: int | None, expected: int) -> None:
    assert adjust_residential(2_000_000, prior)[0] == expected
    a = assess_owner([lot(12_000_000, dwellings=1, prior_residential_base=prior)], [], [], R8)
    assert a.items[0].base == expected


@pytest.mark.parametrize(
    ("prior", "expected"),
    [
        (None, 7_000_000),
        (7_500_000, 7_000_000),  # > 70% → 評価額×70%
        (7_000_000, 7_000_000),  # 70%: 据置き
        (6_500_000, 6_500_000),  # 60〜70%: 据置き
        (6_000_000, 6_000_000),  # 60%: 据置き
        (5_000_000, 5_500_000),  # < 60%: 前年度 + 評価額×5%
        (5_800_000, 6_000_000),  # 上限 60%
        (1_000_000, 2_000_000),  # 下限 20%
    ],
)
def test_commercial_burden_bands(prior: int | None, expected: int) -> None:
    assert adjust_commercial(10_000_000, prior)[0] == expected
    a = assess_owner([lot(10_000_000, prior_other_base=prior)], [], [], R8)
    assert a.items[0].base == expected
    assert a.items[0].small_residential_area == 0


def test_farmland_burden_adjustment() -> None:
    assert adjust_farmland(1_000_000, 950_000)[0] == 973_750  # × 1.025
    assert adjust_farmland(1_000_000, 850_000)[0] == 892_500  # × 1.05
    assert adjust_farmland(1_000_000, 500_000)[0] == 550_000  # × 1.1
    assert adjust_farmland(1_000_000, 990_000)[0] == 1_000_000  # 上限: 評価額
    assert adjust_farmland(1_000_000, None)[0] == 1_000_000


def test_city_planning_burden_uses_its_own_prior() -> None:
    land = lot(
        12_000_000,
        dwellings=1,
        prior_residential_base=1_500_000,
        prior_residential_cp_base=3_000_000,
    )
    a = assess_owner([land], [], [], R8_CP)
    assert a.items[0].base == 1_600_000
    assert a.items[0].cp_base == 3_200_000  # 3,000,000 + 4,000,000×5%


# --- 新築住宅減額 -------------------------------------------------------------------------------


def new_house(**kwargs: object) -> House:
    values: dict[str, object] = {
        "label": "家屋番号1",
        "assessed_value": 9_000_000,
        "floor_area": 150 * M2,
        "completed_on": date(2023, 6, 30),
    }
    values.update(kwargs)
    return House(**values)  # type: ignore[arg-type]


def test_new_house_reduction_third_vs_fourth_year() -> None:
    house = new_house()
    assert new_house_period(house) == (2024, 3)
    third = assess_owner([], [house], [], R8)
    # 9,000,000 × 1.4% = 126,000; × 120/150 × 1/2 = 50,400
    assert third.tax_before_reduction == 126_000
    assert third.new_house_reduction == 50_400
    assert third.fixed_asset_tax == 75_600
    assert "3年度目/3年度" in third.trace.get("house0.new_house").label
    assert third.items[0].new_house_reduction == 50_400
    fourth = assess_owner([], [house], [], replace(R8, fiscal_year=2027))
    assert fourth.new_house_reduction == 0
    assert fourth.fixed_asset_tax == 126_000
    assert "期間" in fourth.trace.get("house0.new_house").basis


def test_new_house_reduction_not_on_city_planning_tax() -> None:
    a = assess_owner([], [new_house()], [], R8_CP)
    assert a.city_planning_tax == 27_000  # 9,000,000 × 0.3%, no reduction


def test_completed_on_january_first_starts_that_year() -> None:
    assert new_house_period(new_house(completed_on=date(2023, 1, 1))) == (2023, 3)
    assert (
        assess_owner([], [new_house(completed_on=date(2023, 1, 1))], [], R8).new_house_reduction
        == 0
    )
    assert new_house_period(new_house(completed_on=date(2023, 1, 2))) == (2024, 3)


def test_new_house_periods_fireproof_and_long_life() -> None:
    assert new_house_period(new_house(fireproof_3plus=True)) == (2024, 5)
    assert new_house_period(new_house(long_life_certified=True)) == (2024, 5)
    assert new_house_period(new_house(fireproof_3plus=True, long_life_certified=True)) == (2024, 7)
    old = new_house(completed_on=date(2021, 6, 1), fireproof_3plus=True)  # 2022〜2026
    assert assess_owner([], [old], [], R8).new_house_reduction == 50_400


def test_new_house_small_house_half_of_all() -> None:
    a = assess_owner([], [new_house(floor_area=100 * M2)], [], R8)
    assert a.new_house_reduction == 63_000


@pytest.mark.parametrize(
    ("kwargs", "reduced"),
    [
        ({"floor_area": 45 * M2}, False),
        ({"floor_area": 45 * M2, "rental": True}, True),
        ({"floor_area": 39 * M2, "rental": True}, False),
        ({"floor_area": 280 * M2}, True),
        ({"floor_area": 281 * M2}, False),
        ({"floor_area": 200 * M2, "residential_area": 90 * M2}, False),  # 居住部分 < 1/2
        ({"floor_area": 200 * M2, "residential_area": 100 * M2}, True),
        ({"reduction_excluded": True}, False),
        ({"completed_on": None}, False),
    ],
)
def test_new_house_requirements(kwargs: dict[str, object], reduced: bool) -> None:
    a = assess_owner([], [new_house(**kwargs)], [], R8)
    assert (a.new_house_reduction > 0) is reduced


def test_mixed_use_reduction_on_120m2_of_the_floor() -> None:
    a = assess_owner([], [new_house(floor_area=200 * M2, residential_area=150 * M2)], [], R8)
    assert a.new_house_reduction == 126_000 * 120 // (200 * 2)  # 37,800


def test_reduction_switch_and_deadline() -> None:
    off = replace(R8, new_house_reduction=False)
    assert assess_owner([], [new_house()], [], off).new_house_reduction == 0
    late = replace(R8, new_house_completed_by=date(2023, 3, 31))
    assert assess_owner([], [new_house()], [], late).new_house_reduction == 0


# --- 納税義務者・按分・端数 ---------------------------------------------------------------


def test_co_owned_parcel_is_a_separate_taxpayer() -> None:
    own = other_land(250_000)
    co_owned = other_land(250_000)
    # Each 納税義務者 (the person alone; the co-owner group) is under the 免税点 on its own.
    assert assess_owner([own], [], [], R8).fixed_asset_tax == 0
    assert assess_owner([co_owned], [], [], R8).fixed_asset_tax == 0
    # Had they been one taxpayer, the total 500,000 would be taxed.
    assert assess_owner([own, co_owned], [], [], R8).fixed_asset_tax == 7_000


def test_sectional_ownership_share() -> None:
    h = House("101号室", 10_000_000, 70 * M2, share=(1, 3))
    a = assess_owner([], [h], [], R8)
    assert a.items[0].base == 3_333_333
    assert a.house.base == 3_333_000
    assert a.fixed_asset_tax == 46_600  # 46,662
    assert "按分割合 1/3" in a.trace.get("house0.base").basis
    b = assess_owner([], [House("101号室", 10_000_000, 70 * M2)], [], R8, share=(1, 3))
    assert b.fixed_asset_tax == a.fixed_asset_tax


def test_rounding_and_totals() -> None:
    a = assess_owner([other_land(2_345_678)], [House("家屋", 1_234_567, 90 * M2)], [], R8)
    assert a.land.base == 2_345_000 and a.house.base == 1_234_000
    # (2,345,000 + 1,234,000) × 1.4% = 50,106 → 50,100
    assert a.tax_before_reduction == 50_106
    assert a.fixed_asset_tax == 50_100
    assert a.land.tax == 32_830 and a.house.tax == 17_276
    assert a.trace.get("fixed.tax").amount == 50_100
    assert [i.kind for i in a.items] == ["土地", "家屋"]


def test_city_planning_only_in_urbanization_area() -> None:
    land = replace(lot(12_000_000, dwellings=1), in_urbanization_area=False)
    a = assess_owner([land], [], [], R8_CP)
    assert a.city_planning_tax == 0 and a.fixed_asset_tax == 28_000
    assert any("市街化区域外" in n for n in a.items[0].notes)


# --- パラメータと JSON --------------------------------------------------------------------------


def test_params_from_mapping() -> None:
    p = params_from_mapping(
        R8, {"rate": "1.5%", "city_planning_levied": True, "city_planning_rate": "0.25%"}
    )
    assert (p.rate, p.city_planning_levied, p.city_planning_rate) == (1500, True, 250)
    assert p.fiscal_year == 2026


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"city_planning_rate": "0.35%"}, "city_planning_rate"),
        ({"rate": 1.4}, "rate"),
        ({"land_exemption": 400_000}, "land_exemption"),
        ({"asset_exemption": "abc"}, "asset_exemption"),
        ({"tax_rate": "1.4%"}, "tax_rate"),
        ({"new_house_completed_by": "2031/03/31"}, "new_house_completed_by"),
    ],
)
def test_params_from_mapping_names_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(RuleInputError) as exc:
        params_from_mapping(R8, overrides)
    assert exc.value.field == field
    assert isinstance(exc.value, ValueError)


def test_land_and_house_from_mapping() -> None:
    land = land_from_mapping(
        {
            "label": "中央1-1",
            "category": "宅地",
            "area_m2": "300.00",
            "assessed_value": 30_000_000,
            "dwellings": 1,
            "house_floor_area_m2": 120,
            "prior_residential_base": "6,000,000",
        }
    )
    assert land.area == 30_000 and land.house_floor_area == 12_000
    assert land.prior_residential_base == 6_000_000
    house = house_from_mapping(
        {"assessed_value": 9_000_000, "floor_area_m2": "150", "completed_on": "2023-06-30"}
    )
    assert house.completed_on == date(2023, 6, 30)
    assets = assets_from_mapping({"declared_base": 2_000_000})
    a = assess_owner([land], [house], [assets], R8)
    assert a.land.base == 6_333_000  # 6,000,000 + 6,666,666 × 5% = 6,333,333
    assert a.assets.base == 2_000_000


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"category": "宅地", "area_m2": "abc", "assessed_value": 1}, "lands[0].area_m2"),
        ({"category": "原野", "area_m2": "1", "assessed_value": 1}, "lands[0].category"),
        ({"area_m2": "1", "assessed_value": -1}, "lands[0].assessed_value"),
        (
            {"area_m2": "100", "assessed_value": 1, "small_residential_area_m2": "200"},
            "lands[0].small_residential_area",
        ),
        (
            {"category": "農地", "area_m2": "100", "assessed_value": 1, "dwellings": 1},
            "lands[0].category",
        ),
        ({"area_m2": "100", "area": 10000, "assessed_value": 1}, "lands[0].area"),
        ({"area_m2": "100", "assessed_value": 1, "share": "2/1"}, "lands[0].share"),
        ({"area_m2": "100", "assessed_value": 1, "color": "red"}, "lands[0].color"),
    ],
)
def test_land_from_mapping_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(RuleInputError) as exc:
        land_from_mapping(data, prefix="lands[0].")
    assert exc.value.field == field


def test_house_from_mapping_names_the_field() -> None:
    with pytest.raises(RuleInputError) as exc:
        house_from_mapping(
            {"assessed_value": 1, "floor_area_m2": "50", "residential_area_m2": "60"}, "houses[1]."
        )
    assert exc.value.field == "houses[1].residential_area"
    with pytest.raises(RuleInputError) as exc:
        house_from_mapping({"assessed_value": 1, "floor_area_m2": "50", "completed_on": "x"})
    assert exc.value.field == "completed_on"
