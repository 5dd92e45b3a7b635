"""被災者支援の規則: 住家被害認定の区分, 被災者生活再建支援金, 義援金・独自施策の配分, 減免,
申請期間, 安否情報の回答範囲. Pure functions: no Django, no I/O, ``int`` yen.

Sources are listed in ``docs/disaster.md``; figures not confirmed against a primary source are in
:data:`UNCONFIRMED` (and shown on the screens that use them).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from fractions import Fraction
from typing import Any


class RuleInputError(ValueError):
    """A configuration or input that the rules cannot use (message in Japanese, with the field)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class DamageLevel(StrEnum):
    """住家の被害の程度 (災害に係る住家の被害認定基準運用指針, six 区分 since 令和3年)."""

    TOTAL = "total"  # 全壊
    LARGE_HALF = "large_half"  # 大規模半壊
    MEDIUM_HALF = "medium_half"  # 中規模半壊
    HALF = "half"  # 半壊
    SEMI_HALF = "semi_half"  # 準半壊
    PARTIAL = "partial"  # 一部損壊（準半壊に至らない）

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]


LEVEL_LABELS: dict[DamageLevel, str] = {
    DamageLevel.TOTAL: "全壊",
    DamageLevel.LARGE_HALF: "大規模半壊",
    DamageLevel.MEDIUM_HALF: "中規模半壊",
    DamageLevel.HALF: "半壊",
    DamageLevel.SEMI_HALF: "準半壊",
    DamageLevel.PARTIAL: "一部損壊",
}
LEVEL_BY_LABEL: dict[str, DamageLevel] = {v: k for k, v in LEVEL_LABELS.items()}
LEVEL_ORDER: tuple[DamageLevel, ...] = tuple(LEVEL_LABELS)

# Lower bounds of the 損害割合 in tenths of a percent (500 = 50.0 %), highest first.
_THRESHOLDS: tuple[tuple[int, DamageLevel], ...] = (
    (500, DamageLevel.TOTAL),
    (400, DamageLevel.LARGE_HALF),
    (300, DamageLevel.MEDIUM_HALF),
    (200, DamageLevel.HALF),
    (100, DamageLevel.SEMI_HALF),
    (0, DamageLevel.PARTIAL),
)


def classify_damage(ratio_tenths: int) -> DamageLevel:
    """損害割合 (in 0.1 % units, 0–1000) → 被害の程度.

    全壊 50 % 以上, 大規模半壊 40 % 以上 50 % 未満, 中規模半壊 30 % 以上 40 % 未満, 半壊 20 % 以上
    30 % 未満, 準半壊 10 % 以上 20 % 未満, それ未満は一部損壊.
    """
    if not 0 <= ratio_tenths <= 1000:
        raise RuleInputError("損害割合は0%から100%の範囲で入力してください", "ratio")
    for bound, level in _THRESHOLDS:
        if ratio_tenths >= bound:
            return level
    raise AssertionError("unreachable")  # pragma: no cover


def parse_ratio(text: str) -> int:
    """'45.3' or '45.3%' → 453 (tenths of a percent)."""
    raw = text.strip().rstrip("%％").strip()
    if not raw:
        raise RuleInputError("損害割合を入力してください", "ratio")
    try:
        value = Fraction(raw) * 10
    except (ValueError, ZeroDivisionError) as exc:
        raise RuleInputError("損害割合は数値（%）で入力してください", "ratio") from exc
    if value.denominator != 1:
        raise RuleInputError("損害割合は小数第1位までで入力してください", "ratio")
    ratio = int(value)
    classify_damage(ratio)
    return ratio


def format_ratio(ratio_tenths: int) -> str:
    return f"{ratio_tenths // 10}.{ratio_tenths % 10}%"


# --- 被災者生活再建支援金 (被災者生活再建支援法 第3条) ------------------------------------------


class SupportCategory(StrEnum):
    """支援金の対象となる世帯の区分."""

    TOTAL = "total"  # 全壊世帯
    DEMOLISHED = "demolished"  # 解体世帯（半壊・敷地被害でやむを得ず解体）
    LONG_EVACUATION = "long_evacuation"  # 長期避難世帯
    LARGE_HALF = "large_half"  # 大規模半壊世帯
    MEDIUM_HALF = "medium_half"  # 中規模半壊世帯


CATEGORY_LABELS: dict[SupportCategory, str] = {
    SupportCategory.TOTAL: "全壊",
    SupportCategory.DEMOLISHED: "解体",
    SupportCategory.LONG_EVACUATION: "長期避難",
    SupportCategory.LARGE_HALF: "大規模半壊",
    SupportCategory.MEDIUM_HALF: "中規模半壊",
}


class RebuildMethod(StrEnum):
    """住宅の再建方法 (加算支援金)."""

    BUILD = "build"  # 建設・購入
    REPAIR = "repair"  # 補修
    RENT = "rent"  # 賃借（公営住宅を除く）
    RENT_THEN_BUILD = "rent_then_build"  # 賃借した後に建設・購入
    RENT_THEN_REPAIR = "rent_then_repair"  # 賃借した後に補修


METHOD_LABELS: dict[RebuildMethod, str] = {
    RebuildMethod.BUILD: "建設・購入",
    RebuildMethod.REPAIR: "補修",
    RebuildMethod.RENT: "賃借（公営住宅以外）",
    RebuildMethod.RENT_THEN_BUILD: "賃借の後に建設・購入",
    RebuildMethod.RENT_THEN_REPAIR: "賃借の後に補修",
}

MAN = 10_000
BASIC: dict[SupportCategory, int] = {
    SupportCategory.TOTAL: 100 * MAN,
    SupportCategory.DEMOLISHED: 100 * MAN,
    SupportCategory.LONG_EVACUATION: 100 * MAN,
    SupportCategory.LARGE_HALF: 50 * MAN,
    SupportCategory.MEDIUM_HALF: 0,
}
_FULL_ADDITIONAL = {
    RebuildMethod.BUILD: 200 * MAN,
    RebuildMethod.REPAIR: 100 * MAN,
    RebuildMethod.RENT: 50 * MAN,
}
_MEDIUM_ADDITIONAL = {
    RebuildMethod.BUILD: 100 * MAN,
    RebuildMethod.REPAIR: 50 * MAN,
    RebuildMethod.RENT: 25 * MAN,
}
SINGLE_FACTOR = Fraction(3, 4)


def support_category(
    level: DamageLevel | None, *, demolished: bool = False, long_evacuation: bool = False
) -> SupportCategory | None:
    """The 支援金 区分 of a household, or None when it is not eligible.

    長期避難 and 解体 (of a 半壊 or worse 住家, or after 敷地被害) take precedence over the
    damage level; 半壊 and lighter damage are not eligible otherwise.
    """
    if long_evacuation:
        return SupportCategory.LONG_EVACUATION
    if level == DamageLevel.TOTAL:
        return SupportCategory.TOTAL
    if demolished:
        return SupportCategory.DEMOLISHED
    if level == DamageLevel.LARGE_HALF:
        return SupportCategory.LARGE_HALF
    if level == DamageLevel.MEDIUM_HALF:
        return SupportCategory.MEDIUM_HALF
    return None


def _scaled(amount: int, members: int) -> int:
    if members < 1:
        raise RuleInputError("世帯の人数は1人以上です", "members")
    if members == 1:
        scaled = amount * SINGLE_FACTOR
        return int(scaled)  # every table amount × 3/4 is a whole number of yen
    return amount


def basic_support(category: SupportCategory, *, members: int) -> int:
    """基礎支援金 (単数世帯は3/4)."""
    return _scaled(BASIC[category], members)


def additional_support(category: SupportCategory, method: RebuildMethod, *, members: int) -> int:
    """加算支援金 (単数世帯は3/4). 賃借の後に建設・購入（補修）: 合計が建設・購入（補修）の額."""
    table = _MEDIUM_ADDITIONAL if category == SupportCategory.MEDIUM_HALF else _FULL_ADDITIONAL
    if method in (RebuildMethod.RENT_THEN_BUILD, RebuildMethod.RENT_THEN_REPAIR):
        final = (
            RebuildMethod.BUILD if method == RebuildMethod.RENT_THEN_BUILD else RebuildMethod.REPAIR
        )
        return _scaled(table[final], members)
    return _scaled(table[method], members)


@dataclass(frozen=True)
class SupportAmount:
    category: SupportCategory
    basic: int
    additional: int

    @property
    def total(self) -> int:
        return self.basic + self.additional


def support_amount(
    category: SupportCategory, method: RebuildMethod | None, *, members: int
) -> SupportAmount:
    return SupportAmount(
        category,
        basic_support(category, members=members),
        additional_support(category, method, members=members) if method else 0,
    )


def months_after(start: date, months: int) -> date:
    """The last day of a period of ``months`` months counted from ``start`` itself
    (「災害のあった日から起算して…月を経過する日」: 初日算入, ends the day before the
    corresponding day; a month without that day ends on its last day)."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if start.day > last:
        return date(year, month, last)
    return date.fromordinal(date(year, month, start.day).toordinal() - 1)


BASIC_MONTHS = 13
ADDITIONAL_MONTHS = 37


def basic_deadline(occurred_on: date) -> date:
    """基礎支援金の申請期間の末日 (災害のあった日から13月)."""
    return months_after(occurred_on, BASIC_MONTHS)


def additional_deadline(occurred_on: date) -> date:
    """加算支援金の申請期間の末日 (災害のあった日から37月)."""
    return months_after(occurred_on, ADDITIONAL_MONTHS)


# --- 義援金 and the municipality's own payments (配分の式) -------------------------------------


class Unit(StrEnum):
    HOUSEHOLD = "household"  # 世帯あたり
    DWELLING = "dwelling"  # 住家（戸）あたり: one payment however many 世帯 live there
    PERSON = "person"  # 世帯員1人あたり


UNIT_LABELS = {
    Unit.HOUSEHOLD: "世帯あたり",
    Unit.DWELLING: "住家（戸）あたり",
    Unit.PERSON: "1人あたり",
}


@dataclass(frozen=True)
class AllocationRule:
    """配分の式: an amount per 被害の程度 and unit; 単数世帯 factor; per-person extras."""

    unit: Unit
    amounts: Mapping[DamageLevel, int]
    single_factor: Fraction = Fraction(1)
    per_person_extra: int = 0  # e.g. 世帯員1人につき加算
    cap: int | None = None


def allocation_rule_from_mapping(raw: Mapping[str, Any]) -> AllocationRule:
    """Read a programme's configuration: {"unit": "household", "amounts": {"全壊": 350000, …},
    "single_factor": "3/4", "per_person_extra": 0, "cap": null}."""
    try:
        unit = Unit(str(raw.get("unit", "household")))
    except ValueError as exc:
        raise RuleInputError(
            "配分の単位は household・dwelling・person のいずれかです", "unit"
        ) from exc
    amounts: dict[DamageLevel, int] = {}
    table = raw.get("amounts") or {}
    if not isinstance(table, Mapping) or not table:
        raise RuleInputError("被害の程度ごとの金額（amounts）を設定してください", "amounts")
    for key, value in table.items():
        level = LEVEL_BY_LABEL.get(str(key)) or (
            DamageLevel(str(key)) if str(key) in DamageLevel.__members__.values() else None
        )
        if level is None:
            raise RuleInputError(f"被害の程度「{key}」はありません", "amounts")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise RuleInputError(f"「{key}」の金額は0以上の整数（円）です", "amounts")
        amounts[level] = value
    try:
        factor = Fraction(str(raw.get("single_factor", "1")))
    except (ValueError, ZeroDivisionError) as exc:
        raise RuleInputError(
            "単数世帯の割合は 3/4 のように書いてください", "single_factor"
        ) from exc
    if not 0 < factor <= 1:
        raise RuleInputError("単数世帯の割合は0より大きく1以下です", "single_factor")
    extra = raw.get("per_person_extra", 0)
    cap = raw.get("cap")
    if not isinstance(extra, int) or extra < 0:
        raise RuleInputError("1人あたりの加算は0以上の整数（円）です", "per_person_extra")
    if cap is not None and (not isinstance(cap, int) or cap < 0):
        raise RuleInputError("上限額は0以上の整数（円）です", "cap")
    return AllocationRule(unit, amounts, factor, extra, cap)


def allocation_amount(
    rule: AllocationRule, level: DamageLevel | None, *, members: int, first_in_dwelling: bool
) -> int:
    """The amount one household receives under ``rule`` (0 when not eligible). Fractions of a
    yen are cut off."""
    if level is None or level not in rule.amounts:
        return 0
    base = rule.amounts[level]
    if rule.unit == Unit.DWELLING and not first_in_dwelling:
        return 0
    if rule.unit == Unit.PERSON:
        base *= members
    elif members == 1:
        base = int(base * rule.single_factor)
    if base == 0:
        return 0
    total = base + rule.per_person_extra * members
    return min(total, rule.cap) if rule.cap is not None else total


def _yen(value: int) -> str:
    return f"{value:,}円"


def describe_allocation(rule: AllocationRule) -> list[tuple[str, str]]:
    """配分の式 as (項目, 内容) rows for the screens: 単位, 金額 per 被害の程度 (in the order of
    the 区分), 単数世帯の割合, 加算 and 上限 when set."""
    rows = [("配分の単位", UNIT_LABELS[rule.unit])]
    rows += [
        (f"金額（{level.label}）", _yen(rule.amounts[level]))
        for level in LEVEL_ORDER
        if level in rule.amounts
    ]
    if rule.unit != Unit.PERSON:
        rows.append(("単数世帯（1人の世帯）の割合", share_text(rule.single_factor)))
    if rule.per_person_extra:
        rows.append(("世帯員1人あたりの加算", _yen(rule.per_person_extra)))
    if rule.cap is not None:
        rows.append(("上限額", _yen(rule.cap)))
    return rows


def share_text(value: Fraction) -> str:
    """1 → 全額, 3/4 → 4分の3, 0 → なし."""
    if value == 0:
        return "なし"
    if value == 1:
        return "全額"
    return f"{value.denominator}分の{value.numerator}"


# --- 減免 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncomeBand:
    """Up to ``income_limit`` yen of 合計所得金額, the share remitted per 被害の程度."""

    income_limit: int | None  # None = no limit
    rates: Mapping[DamageLevel, Fraction]


@dataclass(frozen=True)
class ReductionRule:
    """減免の割合: by 被害の程度, optionally by 合計所得金額 band (first band that fits)."""

    bands: tuple[IncomeBand, ...]


def reduction_rule_from_mapping(raw: Mapping[str, Any]) -> ReductionRule:
    """{"bands": [{"income_limit": 5000000, "rates": {"全壊": "1", "半壊": "1/2"}}, …]} or
    {"rates": {…}} (no income condition, e.g. 国保税)."""
    raw_bands = raw.get("bands")
    if raw_bands is None:
        raw_bands = [{"income_limit": None, "rates": raw.get("rates") or {}}]
    if not isinstance(raw_bands, list) or not raw_bands:
        raise RuleInputError("減免の割合（rates または bands）を設定してください", "rates")
    bands: list[IncomeBand] = []
    for band in raw_bands:
        limit = band.get("income_limit")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise RuleInputError("所得の上限は0以上の整数（円）です", "income_limit")
        rates: dict[DamageLevel, Fraction] = {}
        for key, value in (band.get("rates") or {}).items():
            level = LEVEL_BY_LABEL.get(str(key))
            if level is None:
                raise RuleInputError(f"被害の程度「{key}」はありません", "rates")
            try:
                rate = Fraction(str(value))
            except (ValueError, ZeroDivisionError) as exc:
                raise RuleInputError(
                    f"「{key}」の割合は 1/2 のように書いてください", "rates"
                ) from exc
            if not 0 <= rate <= 1:
                raise RuleInputError(f"「{key}」の割合は0から1の間です", "rates")
            rates[level] = rate
        if not rates:
            raise RuleInputError("減免の割合（rates）を設定してください", "rates")
        bands.append(IncomeBand(limit, rates))
    return ReductionRule(tuple(bands))


def describe_reduction(rule: ReductionRule) -> list[tuple[str, str]]:
    """減免の割合 as (項目, 内容) rows: one per 合計所得金額 band (the first that fits applies),
    the share per 被害の程度 in the order of the 区分."""
    rows = []
    for band in rule.bands:
        label = (
            "所得の条件なし"
            if band.income_limit is None
            else f"合計所得金額 {_yen(band.income_limit)}以下"
        )
        shares = "、".join(
            f"{level.label} {share_text(band.rates[level])}"
            for level in LEVEL_ORDER
            if level in band.rates
        )
        rows.append((label, shares))
    if all(band.income_limit is not None for band in rule.bands):
        rows.append(("上の区分を超える所得", "減免なし"))
    return rows


def reduction_rate(rule: ReductionRule, level: DamageLevel | None, income: int | None) -> Fraction:
    if level is None:
        return Fraction(0)
    for band in rule.bands:
        if band.income_limit is None or (income is not None and income <= band.income_limit):
            return band.rates.get(level, Fraction(0))
    return Fraction(0)


def reduction_amount(
    rule: ReductionRule, level: DamageLevel | None, *, tax: int, income: int | None
) -> int:
    """減免額 = 税額 × 割合 (円未満切捨て)."""
    if tax < 0:
        raise RuleInputError("税額は0以上です", "tax")
    return int(tax * reduction_rate(rule, level, income))


# A default for 個人住民税 (municipalities set their own by 条例): by 合計所得金額 and 損害の程度.
RESIDENT_TAX_REDUCTION_DEFAULT: dict[str, Any] = {
    "bands": [
        {
            "income_limit": 5_000_000,
            "rates": {"全壊": "1", "大規模半壊": "1/2", "中規模半壊": "1/2", "半壊": "1/2"},
        },
        {
            "income_limit": 7_500_000,
            "rates": {"全壊": "1/2", "大規模半壊": "1/4", "中規模半壊": "1/4", "半壊": "1/4"},
        },
        {
            "income_limit": 10_000_000,
            "rates": {"全壊": "1/4", "大規模半壊": "1/8", "中規模半壊": "1/8", "半壊": "1/8"},
        },
    ]
}


# --- 安否情報 (災害対策基本法 第86条の15, 施行規則 第8条の3) -----------------------------------


class Inquirer(StrEnum):
    COHABITING_RELATIVE = "cohabiting"  # 同居の親族（婚姻の届出をしていない事実婚を含む）
    RELATIVE_OR_WORK = "relative"  # 同居でない親族・職場の関係者その他の関係者
    OTHER = "other"  # 知人その他安否情報の確認に必要と認められる者


INQUIRER_LABELS = {
    Inquirer.COHABITING_RELATIVE: "同居の親族",
    Inquirer.RELATIVE_OR_WORK: "親族（同居以外）・職場の関係者",
    Inquirer.OTHER: "知人その他",
}


@dataclass(frozen=True)
class SafetyAnswerScope:
    """What may be answered to a 安否 inquiry."""

    held: bool  # 安否情報を保有しているか否か
    injury: bool  # 負傷又は疾病の状況
    whereabouts: bool  # 居所
    contact: bool  # 連絡先その他


def safety_answer_scope(inquirer: Inquirer, *, consented: bool) -> SafetyAnswerScope:
    """同居の親族: 居所・負傷又は疾病の状況・連絡先; 親族・職場の関係者: 負傷又は疾病の状況;
    知人その他: 保有の有無のみ. With the person's consent (or when needed for their life), more
    may be answered: we answer everything the person agreed to disclose."""
    if consented or inquirer == Inquirer.COHABITING_RELATIVE:
        return SafetyAnswerScope(True, True, True, True)
    if inquirer == Inquirer.RELATIVE_OR_WORK:
        return SafetyAnswerScope(True, True, False, False)
    return SafetyAnswerScope(True, False, False, False)


# --- 避難行動要支援者 (災害対策基本法 第49条の10) ----------------------------------------------


@dataclass(frozen=True)
class CareFacts:
    age: int
    living_alone: bool
    elderly_only_household: bool
    care_level: str  # "" / "要支援1" … "要介護5"
    disability: str  # "" / "身体1級" / "身体2級" / "療育A" / "精神1級" …
    self_nominated: bool = False


def support_need_reasons(facts: CareFacts) -> list[str]:
    """The municipality's 避難行動要支援者 criteria (a common set; see docs/disaster.md)."""
    reasons: list[str] = []
    if facts.care_level in ("要介護3", "要介護4", "要介護5"):
        reasons.append(f"{facts.care_level}")
    elif facts.care_level and facts.age >= 65 and facts.living_alone:
        reasons.append(f"ひとり暮らし高齢者（{facts.care_level}）")
    if facts.disability in ("身体1級", "身体2級", "療育A", "精神1級"):
        reasons.append(facts.disability)
    if facts.age >= 75 and facts.elderly_only_household:
        reasons.append("75歳以上のみの世帯")
    if facts.self_nominated:
        reasons.append("手上げ（本人の申出）")
    return reasons


# --- what is not confirmed against a primary source ---------------------------------------------

UNCONFIRMED: list[str] = [
    "被災者台帳の記載事項のうち 第90条の3第2項 第1号〜第6号は条文で確認したが、第7号（要配慮者の"
    "事由）・第8号と 施行規則（内閣府令）の項目（連絡先・世帯の構成・罹災証明書の交付の状況・"
    "提供先・提供の日時・個人番号）は参考資料の記憶に基づく一覧で、e-Gov の条文との照合が未了",
    "中規模半壊の損壊割合（床面積 30%以上50%未満）は未確認。損害割合（30%台）だけで判定する",
    "支援金の申請期間（基礎13月・加算37月）の数え方（災害のあった日から起算して…月を経過する日"
    "＝初日算入、応当日の前日）は施行令の文言との照合が未了",
    "個人住民税の減免の既定値（合計所得 500万・750万・1000万円の区分と割合）は旧自治庁通知の"
    "記憶に基づく例示。団体の条例に合わせて設定し直すこと",
    "安否情報の回答範囲（施行規則 第8条の3）は記憶に基づく。条文との照合が未了",
    "り災番号を世帯単位で振ることは資料にあるが、番号の書式（災害コード-6桁）は本システム独自",
    "避難行動要支援者の抽出基準は団体ごとに異なる。ここでは一般的な例（要介護3以上 等）",
]
