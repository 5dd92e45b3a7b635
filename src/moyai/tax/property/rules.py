"""固定資産税・都市計画税の規則: 課税標準額、免税点、税額、新築住宅減額. Pure; no Django, no I/O.

Sources (``shared/reference/tax-rules.md`` §3):

- 地方税法 第349条（課税標準 = 価格）、第349条の3の2（住宅用地の特例: 小規模 1/6・一般 1/3）、
  第702条の3（都市計画税の住宅用地の特例: 1/3・2/3）、施行令第52条の11（住宅用地の範囲・
  住宅用地率、床面積の10倍まで）.
- 第350条（標準税率 1.4%）、第702条の4（都市計画税の制限税率 0.3%）.
- 第351条（免税点: 土地30万円・家屋20万円・償却資産150万円、課税標準となるべき額の合計が
  これに満たないときは課さない; 条例で下げられる）、第702条③（固定資産税の免税点未満の土地・
  家屋には都市計画税を課さない; 項番号は要確認）.
- 附則第18条（宅地等の負担調整: 住宅用地・商業地等、令和6〜8年度）、附則第19条（一般農地）、
  附則第25条・第26条（都市計画税の負担調整; 附則第19条・第25条・第26条の条番号は要確認）.
- 附則第15条の6（新築住宅の減額: 120㎡までの部分の税額の1/2、3年度・中高層耐火5年度）、
  附則第15条の7（認定長期優良住宅: 5年度・7年度）.
- 第10条の2（共有物の連帯納税義務）、第352条・第352条の2（区分所有家屋とその敷地の按分）.
- 第20条の4の2（課税標準額の1,000円未満・税額の100円未満の切捨て）.

Areas are ``int`` in units of 0.01㎡; money ``int`` yen; rates ``int`` in 0.001% (1.4% = 1400).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import TypeVar

from moyai.tax.common.rules import (
    RATE_UNIT,
    RuleInputError,
    apply_rate,
    area_text,
    percent,
    read_bool,
    read_date,
    read_decimal_units,
    read_int,
    read_rate,
    read_share,
    reject_unknown,
    truncate_base,
    truncate_tax,
)
from moyai.tax.common.trace import Trace, yen

STANDARD_RATE = 1400  # 1.4% (第350条)
CITY_PLANNING_LIMIT = 300  # 0.3% (第702条の4 制限税率)
LAND_EXEMPTION = 300_000
HOUSE_EXEMPTION = 200_000
ASSET_EXEMPTION = 1_500_000
SMALL_LOT_PER_DWELLING = 20_000  # 200㎡ (0.01㎡)
NEW_HOUSE_CAP = 12_000  # 120㎡
NEW_HOUSE_MIN = 5_000  # 50㎡
NEW_HOUSE_MIN_RENTAL = 4_000  # 40㎡ (貸家の共同住宅等)
NEW_HOUSE_MAX = 28_000  # 280㎡
LAST_BURDEN_YEAR = 2026  # 附則第18条の負担調整は令和6〜8年度分

LAW_BASE = "地方税法第349条"
LAW_RESIDENTIAL = "地方税法第349条の3の2"
LAW_CP_RESIDENTIAL = "地方税法第702条の3"
LAW_BURDEN = "地方税法附則第18条"
LAW_BURDEN_FARM = "地方税法附則第19条"
LAW_CP_BURDEN = "地方税法附則第25条・第26条"
LAW_EXEMPTION = "地方税法第351条"
LAW_CP_EXEMPTION = "地方税法第702条③"
LAW_RATE = "地方税法第350条"
LAW_CP_RATE = "地方税法第702条の4"
LAW_NEW_HOUSE = "地方税法附則第15条の6"
LAW_LONG_LIFE = "地方税法附則第15条の7"
LAW_ROUNDING = "地方税法第20条の4の2"
LAW_SHARE = "地方税法第352条・第352条の2"

T = TypeVar("T")


# --- パラメータ ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyTaxParams:
    """A tenant's 固定資産税・都市計画税 parameters for one 年度.

    ``rate``: 税率 (標準税率 1.4%; a 条例 may set more). ``city_planning_levied``: whether the
    municipality levies 都市計画税, at ``city_planning_rate`` (at most the 制限税率 0.3%).
    ``*_exemption``: 免税点 (a 条例 may only lower them). ``new_house_reduction``: apply
    新築住宅減額 to houses completed by ``new_house_completed_by``.
    """

    fiscal_year: int
    rate: int = STANDARD_RATE
    city_planning_levied: bool = False
    city_planning_rate: int = CITY_PLANNING_LIMIT
    land_exemption: int = LAND_EXEMPTION
    house_exemption: int = HOUSE_EXEMPTION
    asset_exemption: int = ASSET_EXEMPTION
    new_house_reduction: bool = True
    # ⏳ 要確認: 令和8年度改正で2031-03-31まで延長の見込み（大綱）。確定後に既定値を改める。
    new_house_completed_by: date = date(2026, 3, 31)

    def __post_init__(self) -> None:
        if not 1950 <= self.fiscal_year <= 2200:
            raise RuleInputError("fiscal_year", f"年度が範囲外です（{self.fiscal_year}）")
        if not 0 < self.rate <= RATE_UNIT:
            raise RuleInputError("rate", f"税率が範囲外です（{percent(self.rate)}）")
        if not 0 < self.city_planning_rate <= CITY_PLANNING_LIMIT:
            raise RuleInputError(
                "city_planning_rate",
                f"都市計画税の税率は制限税率0.3%以下です（{percent(self.city_planning_rate)}）",
            )
        for name, limit in (
            ("land_exemption", LAND_EXEMPTION),
            ("house_exemption", HOUSE_EXEMPTION),
            ("asset_exemption", ASSET_EXEMPTION),
        ):
            value = getattr(self, name)
            if not 0 <= value <= limit:
                raise RuleInputError(
                    name,
                    f"免税点は0円以上{yen(limit)}円以下です（条例で下げることのみ可: {value}）",
                )

    @classmethod
    def national_defaults(cls, fiscal_year: int) -> PropertyTaxParams:
        """標準税率 1.4%, 都市計画税なし (a tenant that levies it sets the flag and rate),
        法定の免税点, 新築住宅減額あり."""
        return cls(fiscal_year=fiscal_year)


_PARAM_KEYS = (
    "rate",
    "city_planning_levied",
    "city_planning_rate",
    "land_exemption",
    "house_exemption",
    "asset_exemption",
    "new_house_reduction",
    "new_house_completed_by",
)


def params_from_mapping(
    base: PropertyTaxParams, overrides: Mapping[str, object]
) -> PropertyTaxParams:
    """``base`` with a tenant's overrides, e.g. ``{"rate": "1.5%", "city_planning_levied": true,
    "city_planning_rate": "0.25%", "land_exemption": 300000, "new_house_reduction": true,
    "new_house_completed_by": "2031-03-31"}``. Rates are ``"1.4%"`` strings or integers in
    0.001% units. Unknown keys and bad values raise ``RuleInputError`` naming the key."""
    reject_unknown(overrides, _PARAM_KEYS)
    changes: dict[str, object] = {}
    for key, value in overrides.items():
        if key in ("rate", "city_planning_rate"):
            changes[key] = read_rate(value, key)
        elif key in ("city_planning_levied", "new_house_reduction"):
            changes[key] = read_bool(value, key)
        elif key == "new_house_completed_by":
            changes[key] = read_date(value, key)
        else:
            changes[key] = read_int(value, key)
    return replace(base, **changes)  # type: ignore[arg-type]


# --- 課税客体 -----------------------------------------------------------------------------------


class LandCategory(StrEnum):
    """負担調整の区分から見た地目."""

    TAKUCHI = "takuchi"  # 宅地（宅地比準土地を含む）: 住宅用地と商業地等（非住宅用地）
    FARMLAND = "farmland"  # 一般農地
    OTHER = "other"  # その他（山林・原野等）

    @property
    def label(self) -> str:
        return {"takuchi": "宅地", "farmland": "農地", "other": "その他"}[self.value]


def _check_share(share: tuple[int, int], name: str) -> None:
    num, den = share
    if not (0 < num <= den):
        raise RuleInputError(name, f"持分は0より大きく1以下です（{num}/{den}）")


@dataclass(frozen=True)
class Land:
    """One 筆 of land as 名寄帳 holds it, for one 年度.

    ``area`` (地積) and the other areas are in 0.01㎡. For 宅地, the 住宅用地 is either given as
    ``small_residential_area`` (小規模住宅用地) + ``general_residential_area`` (一般住宅用地), or
    derived from ``dwellings`` (住戸数) and ``house_floor_area`` (the houses' 床面積 on the lot):
    the lot up to 10 × 床面積, times ``residential_land_ratio`` (住宅用地率, see
    ``residential_land_ratio``), is 住宅用地; 200㎡ per dwelling of it is 小規模, the rest 一般;
    what remains is 非住宅用地 (商業地等). Neither given → the whole 宅地 is 商業地等.

    ``prior_*`` are the 前年度課税標準額 for 負担調整 (固定資産税 and, ``_cp_``, 都市計画税), for
    the 住宅用地 part and for the rest (商業地等・農地・その他); ``None`` = no previous base
    (newly assessed): 本則. ``share`` is a 区分所有者's 按分 ratio (第352条の2), (1, 1) otherwise.
    """

    label: str
    category: LandCategory
    area: int
    assessed_value: int
    small_residential_area: int | None = None
    general_residential_area: int | None = None
    dwellings: int = 0
    house_floor_area: int | None = None
    residential_land_ratio: tuple[int, int] = (1, 1)
    prior_residential_base: int | None = None
    prior_other_base: int | None = None
    prior_residential_cp_base: int | None = None
    prior_other_cp_base: int | None = None
    in_urbanization_area: bool = True
    share: tuple[int, int] = (1, 1)

    def __post_init__(self) -> None:
        if self.area <= 0:
            raise RuleInputError("area", "地積は0より大きい値です")
        if self.assessed_value < 0:
            raise RuleInputError("assessed_value", "評価額は0以上です")
        for name in (
            "small_residential_area",
            "general_residential_area",
            "house_floor_area",
            "prior_residential_base",
            "prior_other_base",
            "prior_residential_cp_base",
            "prior_other_cp_base",
        ):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise RuleInputError(name, "0以上で入力してください")
        if self.dwellings < 0:
            raise RuleInputError("dwellings", "住戸数は0以上です")
        num, den = self.residential_land_ratio
        if not (0 <= num <= den and den > 0):
            raise RuleInputError("residential_land_ratio", "住宅用地率は0以上1以下です")
        _check_share(self.share, "share")
        explicit = (self.small_residential_area or 0) + (self.general_residential_area or 0)
        if self.category is not LandCategory.TAKUCHI and (explicit or self.dwellings):
            raise RuleInputError("category", "住宅用地は地目が宅地の土地にだけ設定できます")
        if explicit > self.area:
            raise RuleInputError("small_residential_area", "住宅用地の面積が地積を超えています")
        given = (self.small_residential_area, self.general_residential_area) != (None, None)
        if given and self.dwellings:
            raise RuleInputError("dwellings", "住宅用地の面積と住戸数は同時に指定できません")

    def residential_split(self) -> tuple[int, int, int]:
        """(小規模住宅用地, 一般住宅用地, 非住宅用地・その他) areas in 0.01㎡."""
        if self.small_residential_area is not None or self.general_residential_area is not None:
            small = self.small_residential_area or 0
            general = self.general_residential_area or 0
            return small, general, self.area - small - general
        if self.category is not LandCategory.TAKUCHI or self.dwellings == 0:
            return 0, 0, self.area
        eligible = self.area
        if self.house_floor_area is not None:
            eligible = min(eligible, 10 * self.house_floor_area)
        num, den = self.residential_land_ratio
        eligible = eligible * num // den
        small = min(eligible, SMALL_LOT_PER_DWELLING * self.dwellings)
        return small, eligible - small, self.area - eligible


def residential_land_ratio(
    residential_area: int, floor_area: int, *, fireproof_5_floors: bool = False
) -> tuple[int, int]:
    """住宅用地率 of a 併用住宅 (施行令第52条の11③) from its 居住部分 share.

    Up to 4 floors (or not 耐火): ≥1/2 → 1, ≥1/4 → 0.5. 地上5階以上の耐火建築物: ≥3/4 → 1,
    ≥1/2 → 0.75, ≥1/4 → 0.5. Below 1/4 the land is not 住宅用地 (0).
    """
    # 要確認: 参照資料に数表なし（背景知識）。
    if floor_area <= 0 or not 0 <= residential_area <= floor_area:
        raise RuleInputError("residential_area", "居住部分の面積は0以上床面積以下です")
    r, f = residential_area, floor_area
    if fireproof_5_floors and 4 * r >= 3 * f:
        return (1, 1)
    if 2 * r >= f:
        return (3, 4) if fireproof_5_floors else (1, 1)
    if 4 * r >= f:
        return (1, 2)
    return (0, 1)


@dataclass(frozen=True)
class House:
    """One 家屋 (one dwelling unit for 新築住宅減額).

    ``floor_area`` and ``residential_area`` (居住部分; ``None`` = all) in 0.01㎡.
    ``fireproof_3plus``: 地上3階建以上の耐火・準耐火建築物 (中高層耐火: 5 年度).
    ``completed_on``: 新築年月日 (``None`` = not new / unknown: no reduction).
    ``long_life_certified``: 認定長期優良住宅 (5 / 7 年度, on application). ``rental``: 貸家
    (床面積 40㎡ from). ``reduction_excluded``: excluded anyway (e.g. 災害レッドゾーン in
    defiance of a 勧告). ``share``: 区分所有の按分 ratio.
    """

    label: str
    assessed_value: int
    floor_area: int
    residential_area: int | None = None
    fireproof_3plus: bool = False
    completed_on: date | None = None
    long_life_certified: bool = False
    rental: bool = False
    reduction_excluded: bool = False
    in_urbanization_area: bool = True
    share: tuple[int, int] = (1, 1)

    def __post_init__(self) -> None:
        if self.assessed_value < 0:
            raise RuleInputError("assessed_value", "評価額は0以上です")
        if self.floor_area <= 0:
            raise RuleInputError("floor_area", "床面積は0より大きい値です")
        if self.residential_area is not None and not (
            0 <= self.residential_area <= self.floor_area
        ):
            raise RuleInputError("residential_area", "居住部分の面積は0以上床面積以下です")
        _check_share(self.share, "share")

    @property
    def living_area(self) -> int:
        return self.floor_area if self.residential_area is None else self.residential_area


def new_house_period(house: House) -> tuple[int, int] | None:
    """(first 年度, number of 年度) of the 新築住宅減額, or None without a completion date.

    The first 年度 is the one whose 賦課期日 (1月1日) first finds the house: completed on
    1月1日 of year X → 年度 X; otherwise → X + 1. 3 年度 (一般), 5 (中高層耐火); 認定長期優良住宅
    5 / 7.
    """
    if house.completed_on is None:
        return None
    done = house.completed_on
    first = done.year if (done.month, done.day) == (1, 1) else done.year + 1
    years = 5 if house.fireproof_3plus else 3
    if house.long_life_certified:
        years += 2
    return first, years


@dataclass(frozen=True)
class DepreciableAssets:
    """償却資産: the 課税標準額 total of the owner's 申告 (computed by the 申告 itself)."""

    declared_base: int
    label: str = "償却資産"

    def __post_init__(self) -> None:
        if self.declared_base < 0:
            raise RuleInputError("declared_base", "課税標準額は0以上です")


# --- 結果 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyItem:
    """One row of the 課税明細書 (名寄帳): amounts before the category totals are rounded.

    ``standard_base``: 本則課税標準額 (評価額 × 特例率); ``base`` / ``cp_base``: 課税標準額 for
    固定資産税 / 都市計画税 after 負担調整 and 按分 (1円単位); ``burden_level``: 負担水準 text.
    """

    kind: str  # 土地 / 家屋 / 償却資産
    label: str
    category: str
    assessed_value: int
    area: int | None = None
    small_residential_area: int = 0
    general_residential_area: int = 0
    standard_base: int = 0
    base: int = 0
    cp_base: int = 0
    burden_level: str = ""
    new_house_reduction: int = 0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CategoryTotal:
    """Totals of one category (土地・家屋・償却資産) for the owner.

    ``raw_base``: Σ items; ``base``: 1,000円未満切捨て, 0 when ``exempt`` (免税点未満);
    ``tax``: ``base`` × 税率 (1円単位, before the 100円 truncation of the whole).
    """

    category: str
    raw_base: int
    base: int
    exempt: bool
    exemption_point: int
    tax: int
    cp_raw_base: int = 0
    cp_base: int = 0
    cp_tax: int = 0


@dataclass(frozen=True)
class PropertyAssessment:
    fiscal_year: int
    land: CategoryTotal
    house: CategoryTotal
    assets: CategoryTotal
    tax_before_reduction: int
    new_house_reduction: int
    fixed_asset_tax: int
    city_planning_tax: int
    items: tuple[PropertyItem, ...]
    trace: Trace = field(compare=False)

    @property
    def total_tax(self) -> int:
        return self.fixed_asset_tax + self.city_planning_tax


# --- 負担調整 -----------------------------------------------------------------------------------


def _level_text(prior: int, standard: int) -> str:
    if standard == 0:
        return ""
    tenths = prior * 1000 // standard
    return f"{tenths // 10}.{tenths % 10}%"


def adjust_residential(standard: int, prior: int | None) -> tuple[int, str]:
    """住宅用地の負担調整: 負担水準 = 前年度 ÷ 本則; ≥100% → 本則; otherwise 前年度 + 本則×5%,
    not above 本則 and not below 本則×20%. Returns (課税標準額, explanation)."""
    if prior is None:
        return standard, "前年度課税標準額なし → 本則"
    level = _level_text(prior, standard)
    if prior >= standard:
        return standard, f"負担水準 {level} ≥ 100% → 本則 {yen(standard)}"
    raised = prior + standard * 5 // 100
    low = standard * 20 // 100
    value = max(low, min(raised, standard))
    clamp = "（上限: 本則）" if raised > standard else "（下限: 本則×20%）" if raised < low else ""
    return value, f"負担水準 {level}: {yen(prior)} + {yen(standard)}×5% = {yen(value)}{clamp}"


def adjust_commercial(value: int, prior: int | None) -> tuple[int, str]:
    """商業地等の負担調整 (on 評価額): 負担水準 > 70% → 評価額×70%; 60〜70% → 前年度据置き;
    < 60% → 前年度 + 評価額×5%, within [評価額×20%, 評価額×60%]."""
    upper = value * 70 // 100
    if prior is None:
        return upper, f"前年度課税標準額なし → 評価額×70% = {yen(upper)}"
    level = _level_text(prior, value)
    if prior * 100 > 70 * value:
        return upper, f"負担水準 {level} > 70% → 評価額×70% = {yen(upper)}"
    if prior * 100 >= 60 * value:
        return prior, f"負担水準 {level}（60%以上70%以下）→ 前年度課税標準額を据置き"
    raised = prior + value * 5 // 100
    low, high = value * 20 // 100, value * 60 // 100
    result = max(low, min(raised, high))
    clamp = (
        "（上限: 評価額×60%）" if raised > high else "（下限: 評価額×20%）" if raised < low else ""
    )
    return result, f"負担水準 {level}: {yen(prior)} + {yen(value)}×5% = {yen(result)}{clamp}"


def adjust_farmland(value: int, prior: int | None) -> tuple[int, str]:
    """一般農地の負担調整: 前年度 × 負担調整率 (負担水準 ≥90%: 1.025, 80〜90%: 1.05,
    70〜80%: 1.075, <70%: 1.1), not above 評価額."""
    # 要確認: 負担調整率の区分は参照資料に「1.025–1.1 by band」とあるのみ（区分境界は背景知識）。
    if prior is None:
        return value, "前年度課税標準額なし → 評価額"
    level = _level_text(prior, value)
    if prior * 10 >= 9 * value:
        per_mille = 1025
    elif prior * 10 >= 8 * value:
        per_mille = 1050
    elif prior * 10 >= 7 * value:
        per_mille = 1075
    else:
        per_mille = 1100
    result = min(prior * per_mille // 1000, value)
    factor = f"{per_mille // 1000}.{per_mille % 1000:03d}".rstrip("0")
    return result, f"負担水準 {level}: {yen(prior)} × {factor} = {yen(result)}（上限: 評価額）"


# --- 計算 ---------------------------------------------------------------------------------------


def _scale(amount: int, share: tuple[int, int]) -> int:
    return amount * share[0] // share[1]


def _combine(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return (a[0] * b[0], a[1] * b[1])


def _share_text(share: tuple[int, int]) -> str:
    return "" if share[0] == share[1] else f" × 按分割合 {share[0]}/{share[1]}"


def _assess_land(
    i: int, land: Land, params: PropertyTaxParams, share: tuple[int, int], t: Trace
) -> PropertyItem:
    key, group = f"land{i}", "土地"
    name = f"土地 {land.label}（{land.category.label}・{area_text(land.area)}）"
    small, general, other = land.residential_split()
    v = land.assessed_value
    small_v = v * small // land.area
    general_v = v * general // land.area
    other_v = v - small_v - general_v
    notes: list[str] = []
    if small or general:
        t.note(
            f"{key}.split",
            f"{name} 住宅用地の区分",
            f"小規模 {area_text(small)}・一般 {area_text(general)}・非住宅 {area_text(other)}",
            LAW_RESIDENTIAL,
            group,
        )
    # 固定資産税
    fixed = cp = standard_total = 0
    levels: list[str] = []
    parts: list[str] = []
    cp_on = params.city_planning_levied and land.in_urbanization_area
    if small or general:
        standard = small_v // 6 + general_v // 3
        base, why = adjust_residential(standard, land.prior_residential_base)
        standard_total += standard
        fixed += base
        levels.append(why)
        parts.append(f"住宅用地 {yen(base)}")
        t.add(
            f"{key}.residential",
            f"{name} 住宅用地 課税標準額",
            base,
            f"本則 {yen(small_v)}×1/6 + {yen(general_v)}×1/3 = {yen(standard)}; {why}",
            f"{LAW_RESIDENTIAL}・{LAW_BURDEN}",
            group,
        )
        if cp_on:
            cp_standard = small_v // 3 + general_v * 2 // 3
            cp_base, cp_why = adjust_residential(cp_standard, land.prior_residential_cp_base)
            cp += cp_base
            t.add(
                f"{key}.residential_cp",
                f"{name} 住宅用地 都市計画税課税標準額",
                cp_base,
                f"本則 {yen(small_v)}×1/3 + {yen(general_v)}×2/3 = {yen(cp_standard)}; {cp_why}",
                f"{LAW_CP_RESIDENTIAL}・{LAW_CP_BURDEN}",
                group,
            )
    if other:
        if land.category is LandCategory.TAKUCHI:
            adjust, part, law = adjust_commercial, "商業地等（非住宅用地）", LAW_BURDEN
        elif land.category is LandCategory.FARMLAND:
            adjust, part, law = adjust_farmland, "農地", LAW_BURDEN_FARM
        else:
            adjust, part, law = _no_adjustment, "その他", LAW_BASE
            notes.append("その他の地目は負担調整を行わず評価額を課税標準額とする（簡略化）")
        base, why = adjust(other_v, land.prior_other_base)
        standard_total += other_v
        fixed += base
        levels.append(why)
        parts.append(f"{part} {yen(base)}")
        t.add(
            f"{key}.other",
            f"{name} {part} 課税標準額",
            base,
            f"評価額 {yen(other_v)}; {why}",
            law,
            group,
        )
        if cp_on:
            cp_base, cp_why = adjust(other_v, land.prior_other_cp_base)
            cp += cp_base
            t.add(
                f"{key}.other_cp",
                f"{name} {part} 都市計画税課税標準額",
                cp_base,
                f"評価額 {yen(other_v)}; {cp_why}",
                LAW_CP_BURDEN,
                group,
            )
    item_share = _combine(land.share, share)
    fixed_s, cp_s = _scale(fixed, item_share), _scale(cp, item_share)
    t.add(
        f"{key}.base",
        f"{name} 課税標準額",
        fixed_s,
        " + ".join(parts)
        + (f" = {yen(fixed)}" if len(parts) > 1 else "")
        + _share_text(item_share),
        LAW_SHARE if item_share[0] != item_share[1] else LAW_BASE,
        group,
    )
    if params.city_planning_levied and not land.in_urbanization_area:
        notes.append("市街化区域外のため都市計画税は課税しない")
    return PropertyItem(
        kind="土地",
        label=land.label,
        category=land.category.label,
        assessed_value=v,
        area=land.area,
        small_residential_area=small,
        general_residential_area=general,
        standard_base=standard_total,
        base=fixed_s,
        cp_base=cp_s,
        burden_level=" / ".join(levels),
        notes=tuple(notes),
    )


def _no_adjustment(value: int, prior: int | None) -> tuple[int, str]:
    return value, "本則（評価額）"


def _new_house_reduction(
    i: int, house: House, base: int, params: PropertyTaxParams, t: Trace
) -> tuple[int, str]:
    """(減額 in yen, note) for one house whose item 課税標準額 is ``base``."""
    key, group = f"house{i}", "家屋"
    period = new_house_period(house)
    if not params.new_house_reduction or period is None or house.completed_on is None:
        return 0, ""
    first, years = period
    y = params.fiscal_year
    ordinal = y - first + 1
    reason = ""
    if not first <= y < first + years:
        reason = f"減額期間（{first}〜{first + years - 1}年度）外"
    elif house.completed_on > params.new_house_completed_by:
        reason = f"{params.new_house_completed_by.isoformat()}までに新築された住宅が対象"
    elif house.reduction_excluded:
        reason = "減額の対象外とされた住宅"
    elif 2 * house.living_area < house.floor_area:
        reason = "居住部分が床面積の1/2未満"
    else:
        low = NEW_HOUSE_MIN_RENTAL if house.rental else NEW_HOUSE_MIN
        if not low <= house.living_area <= NEW_HOUSE_MAX:
            reason = f"床面積が{area_text(low)}以上{area_text(NEW_HOUSE_MAX)}以下でない"
    law = LAW_LONG_LIFE if house.long_life_certified else LAW_NEW_HOUSE
    if reason:
        t.note(f"{key}.new_house", f"家屋 {house.label} 新築住宅減額なし", reason, law, group)
        return 0, f"新築住宅減額なし（{reason}）"
    tax = apply_rate(base, params.rate)
    covered = min(house.living_area, NEW_HOUSE_CAP)
    amount = tax * covered // (house.floor_area * 2)
    t.add(
        f"{key}.new_house",
        f"家屋 {house.label} 新築住宅減額（{ordinal}年度目/{years}年度）",
        amount,
        f"{yen(base)} × {percent(params.rate)} = {yen(tax)}; "
        f"{yen(tax)} × {area_text(covered)}/{area_text(house.floor_area)} × 1/2",
        law,
        group,
    )
    return amount, f"新築住宅減額 {ordinal}年度目/{years}年度"


def _category(
    label: str,
    key: str,
    raw: int,
    cp_raw: int,
    point: int,
    params: PropertyTaxParams,
    t: Trace,
) -> CategoryTotal:
    exempt = raw < point
    if exempt:
        t.add(
            f"{key}.total",
            f"{label} 課税標準額（免税点未満のため課さない）",
            0,
            f"合計 {yen(raw)} < 免税点 {yen(point)}",
            LAW_EXEMPTION,
            label,
        )
        if params.city_planning_levied and cp_raw:
            t.note(
                f"{key}.cp_exempt",
                f"{label} 都市計画税も課さない（固定資産税の免税点未満）",
                "",
                LAW_CP_EXEMPTION,
                label,
            )
        return CategoryTotal(label, raw, 0, True, point, 0, cp_raw, 0, 0)
    base = t.add(
        f"{key}.total",
        f"{label} 課税標準額",
        truncate_base(raw),
        f"合計 {yen(raw)}（免税点 {yen(point)} 以上）の1,000円未満切捨て",
        f"{LAW_EXEMPTION}・{LAW_ROUNDING}①",
        label,
    )
    cp_base = truncate_base(cp_raw) if params.city_planning_levied else 0
    if params.city_planning_levied and cp_raw:
        t.add(
            f"{key}.cp_total",
            f"{label} 都市計画税課税標準額",
            cp_base,
            f"合計 {yen(cp_raw)} の1,000円未満切捨て",
            f"{LAW_ROUNDING}①",
            label,
        )
    cp_tax = apply_rate(cp_base, params.city_planning_rate) if params.city_planning_levied else 0
    return CategoryTotal(
        label, raw, base, False, point, apply_rate(base, params.rate), cp_raw, cp_base, cp_tax
    )


def assess_owner(
    lands: Sequence[Land],
    houses: Sequence[House],
    assets: Sequence[DepreciableAssets],
    params: PropertyTaxParams,
    share: tuple[int, int] = (1, 1),
) -> PropertyAssessment:
    """固定資産税・都市計画税 of one 納税義務者 in one municipality for ``params.fiscal_year``.

    The 納税義務者 is a person, or a group of co-owners: 共有物 is a separate 納税義務者 with
    連帯納税義務 (第10条の2), so call this once for the group's own property — the 免税点 then
    applies to the group's totals, apart from each member's own property. ``share`` (and each
    item's own ``share``) is a 按分 ratio for 区分所有 (第352条・第352条の2), not a 共有持分.

    Steps: per item the 課税標準額 (住宅用地特例, 負担調整, 按分); per category (土地・家屋・
    償却資産) the total, 免税点 (not levied when the total is *less than* the 免税点) and the
    1,000円未満切捨て; 固定資産税 = Σ 課税標準額 × 税率 − 新築住宅減額, 100円未満切捨て;
    都市計画税 (土地・家屋 in the 市街化区域 only; none where 固定資産税 is under the 免税点)
    likewise, without 減額. Per-house 減額 uses the house's own 課税標準額 × 税率 (1円単位).
    """
    _check_share(share, "share")
    t = Trace()
    if lands and params.fiscal_year > LAST_BURDEN_YEAR:
        # ⏳ 要確認: 令和9年度（評価替え）以降の負担調整は令和9年度改正で定まる。
        t.note(
            "land.burden_rule",
            "負担調整は令和6〜8年度の規定を適用（令和9年度以降は要確認）",
            "",
            LAW_BURDEN,
            "土地",
        )
    items: list[PropertyItem] = []
    for i, land in enumerate(lands):
        items.append(_assess_land(i, land, params, share, t))
    land_items = list(items)

    house_items: list[PropertyItem] = []
    reductions: list[int] = []
    for i, house in enumerate(houses):
        item_share = _combine(house.share, share)
        base = t.add(
            f"house{i}.base",
            f"家屋 {house.label} 課税標準額",
            _scale(house.assessed_value, item_share),
            f"評価額 {yen(house.assessed_value)}{_share_text(item_share)}",
            LAW_SHARE if item_share[0] != item_share[1] else LAW_BASE,
            "家屋",
        )
        cp_on = params.city_planning_levied and house.in_urbanization_area
        reduction, note = _new_house_reduction(i, house, base, params, t)
        reductions.append(reduction)
        notes: tuple[str, ...] = (note,) if note else ()
        if params.city_planning_levied and not house.in_urbanization_area:
            notes += ("市街化区域外のため都市計画税は課税しない",)
        house_items.append(
            PropertyItem(
                kind="家屋",
                label=house.label,
                category="家屋",
                assessed_value=house.assessed_value,
                area=house.floor_area,
                standard_base=house.assessed_value,
                base=base,
                cp_base=base if cp_on else 0,
                new_house_reduction=reduction,
                notes=notes,
            )
        )
    asset_items: list[PropertyItem] = []
    for i, asset in enumerate(assets):
        base = t.add(
            f"assets{i}.base",
            f"{asset.label} 課税標準額（申告）",
            _scale(asset.declared_base, share),
            f"申告による課税標準額 {yen(asset.declared_base)}{_share_text(share)}",
            LAW_BASE,
            "償却資産",
        )
        asset_items.append(
            PropertyItem(
                kind="償却資産",
                label=asset.label,
                category="償却資産",
                assessed_value=asset.declared_base,
                standard_base=asset.declared_base,
                base=base,
                notes=("償却資産には都市計画税を課さない",),
            )
        )

    land_total = _category(
        "土地",
        "land",
        sum(x.base for x in land_items),
        sum(x.cp_base for x in land_items),
        params.land_exemption,
        params,
        t,
    )
    house_total = _category(
        "家屋",
        "house",
        sum(x.base for x in house_items),
        sum(x.cp_base for x in house_items),
        params.house_exemption,
        params,
        t,
    )
    asset_total = _category(
        "償却資産",
        "assets",
        sum(x.base for x in asset_items),
        0,
        params.asset_exemption,
        params,
        t,
    )

    total_base = land_total.base + house_total.base + asset_total.base
    before = t.add(
        "fixed.tax_before",
        "固定資産税額（減額前）",
        apply_rate(total_base, params.rate),
        f"({yen(land_total.base)} + {yen(house_total.base)} + {yen(asset_total.base)})"
        f" × {percent(params.rate)}",
        LAW_RATE,
        "固定資産税",
    )
    reduction = 0 if house_total.exempt else min(sum(reductions), before)
    if reduction:
        t.add(
            "fixed.new_house",
            "新築住宅減額 合計",
            reduction,
            " + ".join(yen(r) for r in reductions if r),
            LAW_NEW_HOUSE,
            "固定資産税",
        )
    elif house_total.exempt and any(reductions):
        t.note("fixed.new_house", "家屋が免税点未満のため減額なし", "", LAW_EXEMPTION, "固定資産税")
    fixed_tax = t.add(
        "fixed.tax",
        "固定資産税額",
        truncate_tax(before - reduction),
        f"{yen(before)} − {yen(reduction)} の100円未満切捨て",
        f"{LAW_ROUNDING}③",
        "固定資産税",
    )
    cp_tax = 0
    if params.city_planning_levied:
        cp_base = land_total.cp_base + house_total.cp_base
        cp_before = apply_rate(cp_base, params.city_planning_rate)
        cp_tax = t.add(
            "cp.tax",
            "都市計画税額",
            truncate_tax(cp_before),
            f"({yen(land_total.cp_base)} + {yen(house_total.cp_base)}) × "
            f"{percent(params.city_planning_rate)} = {yen(cp_before)} の100円未満切捨て",
            f"{LAW_CP_RATE}・{LAW_ROUNDING}③",
            "都市計画税",
        )
    t.add(
        "total",
        "固定資産税・都市計画税 合計",
        fixed_tax + cp_tax,
        f"{yen(fixed_tax)} + {yen(cp_tax)}",
        "",
        "合計",
    )
    reduction_items = (
        house_items
        if not house_total.exempt
        else [replace(x, new_house_reduction=0) for x in house_items]
    )
    return PropertyAssessment(
        fiscal_year=params.fiscal_year,
        land=land_total,
        house=house_total,
        assets=asset_total,
        tax_before_reduction=before,
        new_house_reduction=reduction,
        fixed_asset_tax=fixed_tax,
        city_planning_tax=cp_tax,
        items=tuple(land_items + reduction_items + asset_items),
        trace=t,
    )


# --- JSON からの読取り ----------------------------------------------------------------------------


def _area(data: Mapping[str, object], key: str, prefix: str, *, required: bool) -> int | None:
    """``key`` in 0.01㎡ (int) or ``key_m2`` in ㎡ (``"300.25"``); not both."""
    m2 = key + "_m2"
    if key in data and m2 in data:
        raise RuleInputError(prefix + key, f"{key} と {m2} は同時に指定できません")
    if data.get(key) is not None:
        return read_int(data[key], prefix + key)
    if data.get(m2) is not None:
        return read_decimal_units(data[m2], prefix + m2, scale=100)
    if required:
        raise RuleInputError(prefix + m2, "面積を入力してください")
    return None


def _optional_int(data: Mapping[str, object], key: str, prefix: str) -> int | None:
    value = data.get(key)
    return None if value is None else read_int(value, prefix + key)


def _build(prefix: str, make: Callable[..., T], kwargs: dict[str, object]) -> T:
    try:
        return make(**kwargs)
    except RuleInputError as exc:
        raise RuleInputError(prefix + exc.field, exc.message) from None


_LAND_KEYS = (
    "label",
    "category",
    "area",
    "area_m2",
    "assessed_value",
    "small_residential_area",
    "small_residential_area_m2",
    "general_residential_area",
    "general_residential_area_m2",
    "dwellings",
    "house_floor_area",
    "house_floor_area_m2",
    "residential_land_ratio",
    "prior_residential_base",
    "prior_other_base",
    "prior_residential_cp_base",
    "prior_other_cp_base",
    "in_urbanization_area",
    "share",
)


def _land_category(value: object, field_name: str) -> LandCategory:
    for category in LandCategory:
        if value in (category.value, category.label):
            return category
    raise RuleInputError(field_name, f"地目は 宅地・農地・その他 のいずれかです（{value!r}）")


def land_from_mapping(data: Mapping[str, object], prefix: str = "") -> Land:
    """A ``Land`` from JSON. Areas as ``"area_m2": "300.25"`` (㎡) or ``"area": 30025`` (0.01㎡)::

        {"label": "中央1丁目1-1", "category": "宅地", "area_m2": "300", "assessed_value": 12000000,
         "dwellings": 1, "house_floor_area_m2": "120",  # or small/general_residential_area_m2
         "residential_land_ratio": "1/1", "prior_residential_base": 1900000,
         "prior_other_base": null, "prior_residential_cp_base": null, "prior_other_cp_base": null,
         "in_urbanization_area": true, "share": "1/1"}

    ``category``: 宅地/農地/その他 or takuchi/farmland/other. ``prefix`` (e.g. ``lands[0].``) is
    put before the field names of ``RuleInputError``.
    """
    p = prefix
    reject_unknown(data, _LAND_KEYS, p)
    kwargs: dict[str, object] = {
        "label": str(data.get("label") or ""),
        "category": _land_category(data.get("category", "takuchi"), p + "category"),
        "area": _area(data, "area", p, required=True),
        "assessed_value": read_int(data.get("assessed_value"), p + "assessed_value"),
        "small_residential_area": _area(data, "small_residential_area", p, required=False),
        "general_residential_area": _area(data, "general_residential_area", p, required=False),
        "dwellings": read_int(data.get("dwellings", 0), p + "dwellings"),
        "house_floor_area": _area(data, "house_floor_area", p, required=False),
        "in_urbanization_area": read_bool(
            data.get("in_urbanization_area", True), p + "in_urbanization_area"
        ),
        "share": read_share(data.get("share", [1, 1]), p + "share"),
    }
    if data.get("residential_land_ratio") is not None:
        ratio = data["residential_land_ratio"]
        if ratio in (0, "0"):
            kwargs["residential_land_ratio"] = (0, 1)
        else:
            kwargs["residential_land_ratio"] = read_share(ratio, p + "residential_land_ratio")
    for key in (
        "prior_residential_base",
        "prior_other_base",
        "prior_residential_cp_base",
        "prior_other_cp_base",
    ):
        kwargs[key] = _optional_int(data, key, p)
    return _build(p, Land, kwargs)


_HOUSE_KEYS = (
    "label",
    "assessed_value",
    "floor_area",
    "floor_area_m2",
    "residential_area",
    "residential_area_m2",
    "fireproof_3plus",
    "completed_on",
    "long_life_certified",
    "rental",
    "reduction_excluded",
    "in_urbanization_area",
    "share",
)


def house_from_mapping(data: Mapping[str, object], prefix: str = "") -> House:
    """A ``House`` from JSON::

    {"label": "家屋番号 1-1", "assessed_value": 9000000, "floor_area_m2": "150",
     "residential_area_m2": null, "fireproof_3plus": false, "completed_on": "2023-06-30",
     "long_life_certified": false, "rental": false, "reduction_excluded": false,
     "in_urbanization_area": true, "share": "1/1"}
    """
    p = prefix
    reject_unknown(data, _HOUSE_KEYS, p)
    completed = data.get("completed_on")
    kwargs: dict[str, object] = {
        "label": str(data.get("label") or ""),
        "assessed_value": read_int(data.get("assessed_value"), p + "assessed_value"),
        "floor_area": _area(data, "floor_area", p, required=True),
        "residential_area": _area(data, "residential_area", p, required=False),
        "completed_on": None if completed is None else read_date(completed, p + "completed_on"),
        "share": read_share(data.get("share", [1, 1]), p + "share"),
    }
    for key, default in (
        ("fireproof_3plus", False),
        ("long_life_certified", False),
        ("rental", False),
        ("reduction_excluded", False),
        ("in_urbanization_area", True),
    ):
        kwargs[key] = read_bool(data.get(key, default), p + key)
    return _build(p, House, kwargs)


def assets_from_mapping(data: Mapping[str, object], prefix: str = "") -> DepreciableAssets:
    """``{"declared_base": 2000000, "label": "償却資産"}``."""
    reject_unknown(data, ("declared_base", "label"), prefix)
    return _build(
        prefix,
        DepreciableAssets,
        {
            "declared_base": read_int(data.get("declared_base"), prefix + "declared_base"),
            "label": str(data.get("label") or "償却資産"),
        },
    )
