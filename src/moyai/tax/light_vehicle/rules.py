"""軽自動車税（種別割）の規則: 税率（経年重課・グリーン化特例）と減免. Pure; no Django, no I/O.

Sources (``shared/reference/tax-rules.md`` §4):

- 地方税法 第463条の15（種別割の標準税率; 条例で定める — 例: 防府市 小型特殊農耕 2,000円）.
- 地方税法 附則第30条（三輪以上の軽自動車の税率の特例: 最初の新規検査から13年を経過した車両の
  重課、新規検査の翌年度のグリーン化特例（軽課））. 重課の対象外: 電気・燃料電池・天然ガス・
  メタノール・ガソリンハイブリッド車、被けん引車. 平成15年10月以前の初度検査は、その年の12月を
  初度検査年月とみなす.
- 地方税法 第463条の23（条例による減免: 身体障害者等; 条番号は要確認）.
- 賦課期日 4月1日; 月割なし.

Amounts are ``int`` yen; every standard rate is a multiple of 100 yen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from moyai.tax.common.rules import (
    RuleInputError,
    read_bool,
    read_date,
    read_int,
    read_share,
    reject_unknown,
    truncate_tax,
)
from moyai.tax.common.trace import Trace, yen

LAW_RATE = "地方税法第463条の15"
LAW_SPECIAL = "地方税法附則第30条"
LAW_EXEMPTION = "地方税法第463条の23"

NEW_RATE_FROM = (2015, 4)  # 平成27年4月以降の初度検査は新税率
MONTH_KNOWN_FROM = (2003, 11)  # 平成15年10月以前は年のみ → 12月とみなす
HEAVY_YEARS = 13

E = TypeVar("E", bound=StrEnum)


class VehicleClass(StrEnum):
    """車種区分 (§4 の表の行)."""

    MOPED_50 = "moped_50"
    SPECIFIED_SMALL = "specified_small"
    NEW_STANDARD_MOPED = "new_standard_moped"
    MOPED_90 = "moped_90"
    MOPED_125 = "moped_125"
    MINICAR = "minicar"
    SMALL_SPECIAL_FARM = "small_special_farm"
    SMALL_SPECIAL_OTHER = "small_special_other"
    LIGHT_TWO_WHEEL = "light_two_wheel"
    SNOWMOBILE = "snowmobile"
    SMALL_TWO_WHEEL = "small_two_wheel"
    THREE_WHEEL = "three_wheel"
    PASSENGER = "passenger"
    CARGO = "cargo"

    @property
    def label(self) -> str:
        return VEHICLE_CLASS_LABELS[self]

    @property
    def wheeled(self) -> bool:
        """三輪以上の軽自動車 (税率が初度検査年月で決まるもの)."""
        return self in (VehicleClass.THREE_WHEEL, VehicleClass.PASSENGER, VehicleClass.CARGO)


VEHICLE_CLASS_LABELS: Mapping[VehicleClass, str] = MappingProxyType(
    {
        VehicleClass.MOPED_50: "原動機付自転車（50cc以下）",
        VehicleClass.SPECIFIED_SMALL: "特定小型原動機付自転車",
        VehicleClass.NEW_STANDARD_MOPED: "原動機付自転車（新基準原付: 125cc以下・4.0kW以下）",
        VehicleClass.MOPED_90: "原動機付自転車（50cc超90cc以下）",
        VehicleClass.MOPED_125: "原動機付自転車（90cc超125cc以下）",
        VehicleClass.MINICAR: "ミニカー",
        VehicleClass.SMALL_SPECIAL_FARM: "小型特殊自動車（農耕作業用）",
        VehicleClass.SMALL_SPECIAL_OTHER: "小型特殊自動車（その他）",
        VehicleClass.LIGHT_TWO_WHEEL: "軽二輪（125cc超250cc以下）",
        VehicleClass.SNOWMOBILE: "雪上車",
        VehicleClass.SMALL_TWO_WHEEL: "二輪の小型自動車（250cc超）",
        VehicleClass.THREE_WHEEL: "軽自動車（三輪）",
        VehicleClass.PASSENGER: "軽自動車（四輪以上・乗用）",
        VehicleClass.CARGO: "軽自動車（四輪以上・貨物）",
    }
)


class Use(StrEnum):
    PRIVATE = "private"
    COMMERCIAL = "commercial"

    @property
    def label(self) -> str:
        return "自家用" if self is Use.PRIVATE else "営業用"


class Fuel(StrEnum):
    GASOLINE = "gasoline"
    HYBRID = "hybrid"  # ガソリンハイブリッド
    EV = "ev"
    FCV = "fcv"
    NATURAL_GAS = "natural_gas"
    METHANOL = "methanol"
    OTHER = "other"  # 軽油等

    @property
    def label(self) -> str:
        return FUEL_LABELS[self]


FUEL_LABELS: Mapping[Fuel, str] = MappingProxyType(
    {
        Fuel.GASOLINE: "ガソリン",
        Fuel.HYBRID: "ガソリンハイブリッド",
        Fuel.EV: "電気",
        Fuel.FCV: "燃料電池",
        Fuel.NATURAL_GAS: "天然ガス",
        Fuel.METHANOL: "メタノール",
        Fuel.OTHER: "その他",
    }
)

HEAVY_EXEMPT_FUELS = frozenset({Fuel.EV, Fuel.FCV, Fuel.NATURAL_GAS, Fuel.METHANOL, Fuel.HYBRID})
GREEN_75_FUELS = frozenset({Fuel.EV, Fuel.NATURAL_GAS})
GREEN_50_FUELS = frozenset({Fuel.GASOLINE, Fuel.HYBRID})


class RateRow(StrEnum):
    """三輪以上の税率表の行."""

    THREE_WHEEL = "three_wheel"
    PASSENGER_COMMERCIAL = "passenger_commercial"
    PASSENGER_PRIVATE = "passenger_private"
    CARGO_COMMERCIAL = "cargo_commercial"
    CARGO_PRIVATE = "cargo_private"

    @property
    def label(self) -> str:
        return {
            "three_wheel": "三輪",
            "passenger_commercial": "乗用・営業用",
            "passenger_private": "乗用・自家用",
            "cargo_commercial": "貨物・営業用",
            "cargo_private": "貨物・自家用",
        }[self.value]


@dataclass(frozen=True)
class WheeledRates:
    """One row: 初度検査 平成27年3月以前 (``old``), 同年4月以降 (``new``), 13年超 (``heavy``)."""

    old: int
    new: int
    heavy: int


# --- 車両 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vehicle:
    """A vehicle as of 4月1日.

    ``first_inspection``: 初度検査年月 (year, month) — required for 三輪以上; the month may be
    ``None`` only for 平成15年10月以前 (the 車検証 then shows the year alone). ``new_registration``:
    the date of the first 新規検査 (for グリーン化特例; ``None`` → judged from
    ``first_inspection``). ``green_50_standard``: meets the 燃費・排出ガス基準 of the ~50% tier
    (営業用乗用 gasoline/HV). ``towed``: 被けん引車.
    """

    vehicle_class: VehicleClass
    use: Use = Use.PRIVATE
    first_inspection: tuple[int, int | None] | None = None
    fuel: Fuel = Fuel.GASOLINE
    towed: bool = False
    new_registration: date | None = None
    green_50_standard: bool = False
    label: str = ""

    def __post_init__(self) -> None:
        if self.first_inspection is not None:
            year, month = self.first_inspection
            if not 1950 <= year <= 2200:
                raise RuleInputError("first_inspection", f"初度検査年が範囲外です（{year}）")
            if month is None:
                if year > MONTH_KNOWN_FROM[0]:
                    raise RuleInputError("first_inspection", "初度検査の月を入力してください")
            elif not 1 <= month <= 12:
                raise RuleInputError("first_inspection", f"初度検査の月が範囲外です（{month}）")
        elif self.vehicle_class.wheeled:
            raise RuleInputError("first_inspection", "三輪以上の軽自動車は初度検査年月が必要です")

    @property
    def rate_row(self) -> RateRow | None:
        if self.vehicle_class is VehicleClass.THREE_WHEEL:
            return RateRow.THREE_WHEEL
        commercial = self.use is Use.COMMERCIAL
        if self.vehicle_class is VehicleClass.PASSENGER:
            return RateRow.PASSENGER_COMMERCIAL if commercial else RateRow.PASSENGER_PRIVATE
        if self.vehicle_class is VehicleClass.CARGO:
            return RateRow.CARGO_COMMERCIAL if commercial else RateRow.CARGO_PRIVATE
        return None


def effective_first_inspection(year: int, month: int | None) -> tuple[int, int]:
    """初度検査年月 as the 重課 rule counts it: 平成15年10月以前 → that year's December."""
    if month is None or (year, month) < MONTH_KNOWN_FROM:
        return (year, 12)
    return (year, month)


def heavy_cutoff(fiscal_year: int) -> tuple[int, int]:
    """The last 初度検査年月 that is 重課 in ``fiscal_year``: (年度 − 13)年3月.

    令和8年度 (2026) → 2013年3月 (平成25年3月).
    """
    return (fiscal_year - HEAVY_YEARS, 3)


# --- パラメータ ---------------------------------------------------------------------------------

FLAT_STANDARD: Mapping[VehicleClass, int] = MappingProxyType(
    {
        VehicleClass.MOPED_50: 2000,
        VehicleClass.SPECIFIED_SMALL: 2000,
        VehicleClass.NEW_STANDARD_MOPED: 2000,
        VehicleClass.MOPED_90: 2000,
        VehicleClass.MOPED_125: 2400,
        VehicleClass.MINICAR: 3700,
        VehicleClass.SMALL_SPECIAL_FARM: 2400,
        VehicleClass.SMALL_SPECIAL_OTHER: 5900,
        VehicleClass.LIGHT_TWO_WHEEL: 3600,
        VehicleClass.SNOWMOBILE: 3600,
        VehicleClass.SMALL_TWO_WHEEL: 6000,
    }
)

WHEELED_STANDARD: Mapping[RateRow, WheeledRates] = MappingProxyType(
    {
        RateRow.THREE_WHEEL: WheeledRates(3100, 3900, 4600),
        RateRow.PASSENGER_COMMERCIAL: WheeledRates(5500, 6900, 8200),
        RateRow.PASSENGER_PRIVATE: WheeledRates(7200, 10800, 12900),
        RateRow.CARGO_COMMERCIAL: WheeledRates(3000, 3800, 4500),
        RateRow.CARGO_PRIVATE: WheeledRates(4000, 5000, 6000),
    }
)

# グリーン化特例 令和8年度分 (2025-04-01〜2026-03-31 に新規検査).
GREEN_75: Mapping[RateRow, int] = MappingProxyType(
    {
        RateRow.THREE_WHEEL: 1000,
        RateRow.PASSENGER_COMMERCIAL: 1800,
        RateRow.PASSENGER_PRIVATE: 2700,
        RateRow.CARGO_COMMERCIAL: 1000,
        RateRow.CARGO_PRIVATE: 1300,
    }
)
GREEN_50: Mapping[RateRow, int] = MappingProxyType(
    {RateRow.THREE_WHEEL: 2000, RateRow.PASSENGER_COMMERCIAL: 3500}
)


@dataclass(frozen=True)
class LightVehicleParams:
    """A tenant's 種別割 rates for one 年度 (standard rates, changed by 条例 where it differs).

    ``green_window``: the 新規検査 period whose vehicles get the グリーン化特例 in this 年度
    (``None`` = no 特例); ``green_75`` / ``green_50``: the ~75% (EV・天然ガス) and ~50%
    (営業用乗用 gasoline/HV meeting the standards) tier amounts per row.
    """

    fiscal_year: int
    flat_rates: Mapping[VehicleClass, int] = field(default_factory=lambda: FLAT_STANDARD)
    wheeled_rates: Mapping[RateRow, WheeledRates] = field(default_factory=lambda: WHEELED_STANDARD)
    green_window: tuple[date, date] | None = None
    green_75: Mapping[RateRow, int] = field(default_factory=lambda: MappingProxyType({}))
    green_50: Mapping[RateRow, int] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not 2000 <= self.fiscal_year <= 2200:
            raise RuleInputError("fiscal_year", f"年度が範囲外です（{self.fiscal_year}）")
        for cls in VehicleClass:
            if not cls.wheeled and cls not in self.flat_rates:
                raise RuleInputError(f"flat_rates.{cls.value}", "税率が設定されていません")
        for cls, amount in self.flat_rates.items():
            _check_amount(amount, f"flat_rates.{cls.value}")
        for row in RateRow:
            if row not in self.wheeled_rates:
                raise RuleInputError(f"wheeled_rates.{row.value}", "税率が設定されていません")
            rates = self.wheeled_rates[row]
            for part in ("old", "new", "heavy"):
                _check_amount(getattr(rates, part), f"wheeled_rates.{row.value}.{part}")
        for name, table in (("green_75", self.green_75), ("green_50", self.green_50)):
            for row, amount in table.items():
                _check_amount(amount, f"{name}.{row.value}")
        if self.green_window is not None and self.green_window[0] > self.green_window[1]:
            raise RuleInputError("green_window", "グリーン化特例の期間の始めと終わりが逆です")

    @classmethod
    def national_defaults(cls, fiscal_year: int) -> LightVehicleParams:
        """標準税率 and the グリーン化特例 of 令和7年度 (2025) or 令和8年度 (2026)."""
        if fiscal_year == 2026:
            return cls(
                fiscal_year,
                green_window=(date(2025, 4, 1), date(2026, 3, 31)),
                green_75=GREEN_75,
                green_50=GREEN_50,
            )
        if fiscal_year == 2025:
            # 要確認: 令和7年度分（2024-04-01〜2025-03-31 新規検査）の軽課額は参照資料にない。
            # 令和8年度分と同額の概ね75%・50%軽減を置く。概ね25%軽減（営業用乗用, 2025-03-31
            # までの新規検査）は未実装 — 確認のうえ green_25 相当を追加すること。
            return cls(
                fiscal_year,
                green_window=(date(2024, 4, 1), date(2025, 3, 31)),
                green_75=GREEN_75,
                green_50=GREEN_50,
            )
        raise RuleInputError(
            "fiscal_year", f"{fiscal_year}年度の軽自動車税の標準税率は設定されていません"
        )


def _check_amount(amount: object, name: str) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise RuleInputError(name, f"税率は0以上の整数（円）です（{amount!r}）")
    if amount % 100:
        raise RuleInputError(name, f"税率は100円単位です（{amount}）")


def _parse_enum(enum: type[E], value: object, name: str) -> E:
    for member in enum:
        if value == member.value or value == getattr(member, "label", None):
            return member
    allowed = "・".join(m.value for m in enum)
    raise RuleInputError(name, f"使えない値です（{value!r}; 使える値: {allowed}）")


def params_from_mapping(
    base: LightVehicleParams, overrides: Mapping[str, object]
) -> LightVehicleParams:
    """``base`` with a tenant's 条例 rates::

        {"flat_rates": {"small_special_farm": 2000},
         "wheeled_rates": {"passenger_private": {"old": 7200, "new": 10800, "heavy": 12900}},
         "green_75": {"passenger_private": 2700}, "green_50": {"passenger_commercial": null},
         "green_window": ["2025-04-01", "2026-03-31"]}

    Each table is merged into ``base`` (a partial ``wheeled_rates`` row keeps the other parts;
    ``null`` in ``green_*`` removes the row; ``"green_window": null`` turns the 特例 off).
    """
    reject_unknown(
        overrides, ("flat_rates", "wheeled_rates", "green_75", "green_50", "green_window")
    )
    changes: dict[str, object] = {}
    if "flat_rates" in overrides:
        table = _table(overrides["flat_rates"], "flat_rates")
        flat = dict(base.flat_rates)
        for key, value in table.items():
            cls = _parse_enum(VehicleClass, key, f"flat_rates.{key}")
            if cls.wheeled:
                raise RuleInputError(f"flat_rates.{key}", "三輪以上は wheeled_rates で設定します")
            flat[cls] = read_int(value, f"flat_rates.{key}")
        changes["flat_rates"] = MappingProxyType(flat)
    if "wheeled_rates" in overrides:
        table = _table(overrides["wheeled_rates"], "wheeled_rates")
        wheeled = dict(base.wheeled_rates)
        for key, value in table.items():
            row = _parse_enum(RateRow, key, f"wheeled_rates.{key}")
            parts = _table(value, f"wheeled_rates.{key}")
            reject_unknown(parts, ("old", "new", "heavy"), f"wheeled_rates.{key}.")
            current = wheeled[row]
            wheeled[row] = WheeledRates(
                *(
                    read_int(parts[p], f"wheeled_rates.{key}.{p}")
                    if p in parts
                    else getattr(current, p)
                    for p in ("old", "new", "heavy")
                )
            )
        changes["wheeled_rates"] = MappingProxyType(wheeled)
    for name in ("green_75", "green_50"):
        if name in overrides:
            table = _table(overrides[name], name)
            tier = dict(getattr(base, name))
            for key, value in table.items():
                row = _parse_enum(RateRow, key, f"{name}.{key}")
                if value is None:
                    tier.pop(row, None)
                else:
                    tier[row] = read_int(value, f"{name}.{key}")
            changes[name] = MappingProxyType(tier)
    if "green_window" in overrides:
        window = overrides["green_window"]
        if window is None:
            changes["green_window"] = None
        elif isinstance(window, list | tuple) and len(window) == 2:
            changes["green_window"] = (
                read_date(window[0], "green_window"),
                read_date(window[1], "green_window"),
            )
        else:
            raise RuleInputError("green_window", "[開始日, 終了日] の形で入力してください")
    return replace(base, **changes)  # type: ignore[arg-type]


def _table(value: object, name: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise RuleInputError(name, "項目名と値の組で入力してください")
    return value


# --- 減免・結果 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LightVehicleExemption:
    """減免 (条例, 第463条の23): ``reason`` (e.g. 身体障害者等) and the exempted ``ratio``
    of the tax ((1, 1) = 全額免除, the usual 障害者減免)."""

    reason: str = "身体障害者等"
    ratio: tuple[int, int] = (1, 1)

    def __post_init__(self) -> None:
        num, den = self.ratio
        if not (0 < num <= den):
            raise RuleInputError("exemption.ratio", f"減免の割合が範囲外です（{num}/{den}）")


@dataclass(frozen=True)
class LightVehicleAssessment:
    fiscal_year: int
    vehicle: Vehicle
    rate_kind: str  # 標準税率 / 経年車重課 / グリーン化特例（概ね75%軽減） …
    standard_tax: int
    exemption_amount: int
    tax: int
    trace: Trace = field(compare=False)


def assess_vehicle(
    vehicle: Vehicle,
    params: LightVehicleParams,
    exemption: LightVehicleExemption | None = None,
) -> LightVehicleAssessment:
    """種別割 of one vehicle for ``params.fiscal_year`` (owner as of 4月1日; no 月割).

    三輪以上: グリーン化特例 (new 新規検査 in ``params.green_window``: EV・天然ガス → ~75%
    tier; ``green_50_standard`` gasoline/HV → ~50% tier where the row has one), otherwise 重課
    when the (effective) 初度検査年月 ≤ (年度 − 13)年3月 and the vehicle is not exempt from it,
    otherwise by 初度検査: ≤ 2015年3月 → 旧税率, later → 新税率. Others: flat rate.
    """
    t = Trace()
    y = params.fiscal_year
    name = vehicle.vehicle_class.label
    group = "軽自動車税"
    row = vehicle.rate_row
    if row is None:
        kind = "標準税率"
        amount = t.add(
            "rate",
            f"{name} 税率",
            params.flat_rates[vehicle.vehicle_class],
            f"{name}",
            LAW_RATE,
            group,
        )
    else:
        kind, amount = _wheeled(vehicle, row, params, t)
    exempted = 0
    if exemption is not None:
        num, den = exemption.ratio
        exempted = amount * num // den
        share = "全額" if num == den else f"{num}/{den}"
        t.add(
            "exemption",
            f"減免（{exemption.reason}・{share}）",
            exempted,
            f"{yen(amount)} × {num}/{den}",
            f"{LAW_EXEMPTION}・市税条例",
            group,
        )
    tax = t.add(
        "tax",
        "軽自動車税（種別割）額",
        truncate_tax(amount - exempted),
        f"{yen(amount)} − {yen(exempted)}",
        LAW_RATE,
        group,
    )
    return LightVehicleAssessment(y, vehicle, kind, amount, exempted, tax, t)


def _in_green_window(vehicle: Vehicle, params: LightVehicleParams) -> bool:
    if params.green_window is None:
        return False
    start, end = params.green_window
    if vehicle.new_registration is not None:
        return start <= vehicle.new_registration <= end
    assert vehicle.first_inspection is not None
    year, month = vehicle.first_inspection
    if month is None:
        return False
    return (start.year, start.month) <= (year, month) <= (end.year, end.month)


def _wheeled(
    vehicle: Vehicle, row: RateRow, params: LightVehicleParams, t: Trace
) -> tuple[str, int]:
    assert vehicle.first_inspection is not None
    y = params.fiscal_year
    year, month = vehicle.first_inspection
    rates = params.wheeled_rates[row]
    label = f"{VEHICLE_CLASS_LABELS[vehicle.vehicle_class]}（{row.label}）"
    shown = f"{year}年{month}月" if month is not None else f"{year}年（月不明）"
    group = "軽自動車税"

    if _in_green_window(vehicle, params):
        if vehicle.fuel in GREEN_75_FUELS and row in params.green_75:
            kind = "グリーン化特例（概ね75%軽減）"
            return kind, t.add(
                "rate",
                f"{label} {kind}",
                params.green_75[row],
                f"{vehicle.fuel.label}・{_registered(vehicle, shown)}（{y}年度分の軽課）",
                LAW_SPECIAL,
                group,
            )
        if vehicle.green_50_standard and vehicle.fuel in GREEN_50_FUELS and row in params.green_50:
            kind = "グリーン化特例（概ね50%軽減）"
            return kind, t.add(
                "rate",
                f"{label} {kind}",
                params.green_50[row],
                f"{vehicle.fuel.label}・燃費基準達成・{_registered(vehicle, shown)}",
                LAW_SPECIAL,
                group,
            )

    effective = effective_first_inspection(year, month)
    cutoff = heavy_cutoff(y)
    if effective <= cutoff:
        counted = (
            f"（平成15年10月以前のため{effective[0]}年12月とみなす）"
            if effective != (year, month)
            else ""
        )
        if vehicle.fuel in HEAVY_EXEMPT_FUELS or vehicle.towed:
            why = "被けん引車" if vehicle.towed else vehicle.fuel.label
            t.note(
                "heavy_exempt",
                f"経年車重課の対象外（{why}）",
                f"初度検査 {shown}{counted} ≤ {cutoff[0]}年{cutoff[1]}月",
                LAW_SPECIAL,
                group,
            )
        else:
            kind = "経年車重課"
            return kind, t.add(
                "rate",
                f"{label} {kind}",
                rates.heavy,
                f"初度検査 {shown}{counted} ≤ {cutoff[0]}年{cutoff[1]}月（13年経過）",
                LAW_SPECIAL,
                group,
            )
    if effective < NEW_RATE_FROM:
        kind = "標準税率（平成27年3月以前の初度検査）"
        amount = rates.old
    else:
        kind = "標準税率（平成27年4月以降の初度検査）"
        amount = rates.new
    return kind, t.add("rate", f"{label} {kind}", amount, f"初度検査 {shown}", LAW_RATE, group)


def _registered(vehicle: Vehicle, shown: str) -> str:
    if vehicle.new_registration is not None:
        return f"新規検査 {vehicle.new_registration.isoformat()}"
    return f"初度検査 {shown}"


# --- JSON からの読取り ----------------------------------------------------------------------------

_VEHICLE_KEYS = (
    "label",
    "vehicle_class",
    "use",
    "first_inspection",
    "fuel",
    "towed",
    "new_registration",
    "green_50_standard",
)
_YEAR_MONTH = re.compile(r"^(\d{4})(?:-(\d{1,2}))?$")


def _year_month(value: object, name: str) -> tuple[int, int | None]:
    """``"2015-03"``, ``"2002"`` (year only), ``[2015, 3]`` or ``{"year": 2015, "month": 3}``."""
    if isinstance(value, str):
        m = _YEAR_MONTH.match(value.strip())
        if not m:
            raise RuleInputError(
                name, f"初度検査年月は西暦の年-月で入力してください（例: 2015-04。入力: {value!r}）"
            )
        return int(m.group(1)), None if m.group(2) is None else int(m.group(2))
    if isinstance(value, list | tuple) and len(value) == 2:
        year, month = value
    elif isinstance(value, Mapping):
        reject_unknown(value, ("year", "month"), name + ".")
        year, month = value.get("year"), value.get("month")
    else:
        raise RuleInputError(
            name, f"初度検査年月は西暦の年-月で入力してください（例: 2015-04。入力: {value!r}）"
        )
    return read_int(year, name), None if month is None else read_int(month, name)


def vehicle_from_mapping(data: Mapping[str, object], prefix: str = "") -> Vehicle:
    """A ``Vehicle`` from JSON::

        {"label": "中央 あ 12-34", "vehicle_class": "passenger", "use": "private",
         "first_inspection": "2015-04", "fuel": "gasoline", "towed": false,
         "new_registration": "2025-06-10", "green_50_standard": false}

    Enum fields take the code (``passenger``) or the Japanese label (``軽自動車（四輪以上・乗用）``,
    ``自家用``, ``電気``).
    """
    p = prefix
    reject_unknown(data, _VEHICLE_KEYS, p)
    inspection = data.get("first_inspection")
    registration = data.get("new_registration")
    kwargs: dict[str, object] = {
        "vehicle_class": _parse_enum(VehicleClass, data.get("vehicle_class"), p + "vehicle_class"),
        "use": _parse_enum(Use, data.get("use", "private"), p + "use"),
        "first_inspection": None
        if inspection is None
        else _year_month(inspection, p + "first_inspection"),
        "fuel": _parse_enum(Fuel, data.get("fuel", "gasoline"), p + "fuel"),
        "towed": read_bool(data.get("towed", False), p + "towed"),
        "new_registration": None
        if registration is None
        else read_date(registration, p + "new_registration"),
        "green_50_standard": read_bool(
            data.get("green_50_standard", False), p + "green_50_standard"
        ),
        "label": str(data.get("label") or ""),
    }
    try:
        return Vehicle(**kwargs)  # type: ignore[arg-type]
    except RuleInputError as exc:
        raise RuleInputError(p + exc.field, exc.message) from None


def exemption_from_mapping(
    data: Mapping[str, object] | None, prefix: str = ""
) -> LightVehicleExemption | None:
    """``{"reason": "身体障害者等", "ratio": "1/1"}`` or ``null`` (no 減免)."""
    if data is None:
        return None
    reject_unknown(data, ("reason", "ratio"), prefix)
    return LightVehicleExemption(
        reason=str(data.get("reason") or "身体障害者等"),
        ratio=read_share(data.get("ratio", [1, 1]), prefix + "ratio"),
    )
