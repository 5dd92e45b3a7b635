"""税に共通の規則: 納期・期限の繰延べ、分割金額、特別徴収の月割額、延滞金. Pure; no Django, no I/O.

Sources (``shared/reference/tax-rules.md`` §1.7, §5, §6):

- 地方税法 第20条の5第2項・地方税法施行令 第6条の18: 期限が日曜日・国民の祝日・土曜日・
  1月2日・1月3日・12月29日〜31日・条例で定める休日に当たるときは、その翌日（これらの日でない日）
  を期限とみなす.
- 地方税法 第20条の4の2: 課税標準額の1,000円未満切捨て（①）、確定金額の100円未満切捨て（③）、
  分割金額の1,000円未満の端数は最初の納期に合算（⑥）.
- 地方税法 第320条（個人住民税の普通徴収の納期: 6月・8月・10月・1月）、第321条の5（給与からの
  特別徴収: 6月〜翌年5月の12回）、第362条（固定資産税の納期: 4月・7月・12月・2月）、
  軽自動車税種別割の納期（法定は4月; 条例で5月が一般的）.
- 延滞金: 第326条（市町村民税）、第369条（固定資産税）、第463条の24（軽自動車税）、第723条（国保税）
  の本則 7.3%・14.6%、附則第3条の2 の特例（延滞金特例基準割合）. 日数は閏年でも365で割る.

Rates are integers in units of 0.001% (``RATE_UNIT`` = 100,000 per 100%): 1.4% = 1400,
2.8% = 2800. Money is ``int`` yen throughout.
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

import jpholiday

from moyai.tax.common.trace import Trace, yen

RATE_UNIT = 100_000
"""A rate of ``RATE_UNIT`` is 100%; 1 is 0.001%."""


class RuleInputError(ValueError):
    """An input a tax rule cannot use; ``field`` names it (e.g. ``rate``, ``lands[0].area``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- 端数処理 -----------------------------------------------------------------------------------


def floor_to(amount: int, unit: int) -> int:
    """Truncate a non-negative amount to a multiple of ``unit`` (1,000円未満切捨て etc.)."""
    if amount < 0:
        raise ValueError(f"端数処理は0以上の金額が対象です: {amount}")
    return amount // unit * unit


def truncate_base(amount: int) -> int:
    """課税標準額: 1,000円未満切捨て (地方税法第20条の4の2①)."""
    return floor_to(amount, 1000)


def truncate_tax(amount: int) -> int:
    """確定金額: 100円未満切捨て (地方税法第20条の4の2③)."""
    return floor_to(amount, 100)


def apply_rate(amount: int, rate: int) -> int:
    """``amount × rate`` (rate in units of 0.001%), truncated to whole yen."""
    return amount * rate // RATE_UNIT


def percent(rate: int) -> str:
    """``1400`` → ``1.4%``, ``300`` → ``0.3%``, ``14600`` → ``14.6%`` (for trace texts)."""
    whole, frac = divmod(rate, 1000)
    if frac == 0:
        return f"{whole}%"
    return f"{whole}.{frac:03d}".rstrip("0") + "%"


def area_text(hundredths: int) -> str:
    """Area in 0.01㎡ → ``300.25㎡``."""
    whole, frac = divmod(hundredths, 100)
    return f"{whole:,}.{frac:02d}㎡"


# --- 入力の読取り (for the ``*_from_mapping`` functions of each tax) ------------------------


def read_int(
    value: object, field: str, *, minimum: int | None = 0, maximum: int | None = None
) -> int:
    """An integer from JSON: ``int`` or a string of digits (``"1,200"`` allowed); never a float."""
    if isinstance(value, bool):
        raise RuleInputError(field, "整数で入力してください")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"-?[0-9][0-9,]*", value.strip()):
        number = int(value.strip().replace(",", ""))
    else:
        raise RuleInputError(field, f"整数で入力してください（{value!r}）")
    if minimum is not None and number < minimum:
        raise RuleInputError(field, f"{minimum:,}以上で入力してください（{number:,}）")
    if maximum is not None and number > maximum:
        raise RuleInputError(field, f"{maximum:,}以下で入力してください（{number:,}）")
    return number


def read_bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "1", 1):
        return True
    if value in ("false", "0", 0):
        return False
    raise RuleInputError(field, f"真偽値（true/false）で入力してください（{value!r}）")


def read_date(value: object, field: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise RuleInputError(
        field, f"日付は西暦の年-月-日で入力してください（例: 2026-04-01。入力: {value!r}）"
    )


def read_decimal_units(value: object, field: str, *, scale: int, suffix: str = "") -> int:
    """A decimal quantity as an integer count of ``1/scale`` units, exactly (no float rounding).

    ``read_decimal_units("300.25", f, scale=100)`` → 30025 (0.01㎡). ``suffix`` (e.g. ``%``) may
    follow the number. JSON numbers are read through their decimal text.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RuleInputError(field, f"数値で入力してください（{value!r}）")
    text = str(value).strip().replace(",", "")
    if suffix and text.endswith(suffix):
        text = text[: -len(suffix)].strip()
    try:
        number = Decimal(text) * scale
    except InvalidOperation:
        raise RuleInputError(field, f"数値で入力してください（{value!r}）") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise RuleInputError(field, f"小数の桁数が多すぎます（{value!r}）")
    if number < 0:
        raise RuleInputError(field, f"0以上で入力してください（{value!r}）")
    return int(number)


def read_rate(value: object, field: str) -> int:
    """A rate: an ``int`` in units of 0.001% (``1400``) or a percent string (``"1.4%"``)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return read_decimal_units(value, field, scale=1000, suffix="%")
    if isinstance(value, int) and not isinstance(value, bool):
        return read_int(value, field)
    raise RuleInputError(
        field, f"税率は「1.4%」の形か0.001%単位の整数（1400）で入力してください（{value!r}）"
    )


def read_share(value: object, field: str) -> tuple[int, int]:
    """持分 ``[1, 2]`` or ``"1/2"`` → (1, 2); 0 < numerator ≤ denominator."""
    parts: Sequence[object]
    if isinstance(value, str) and "/" in value:
        parts = value.split("/", 1)
    elif isinstance(value, list | tuple) and len(value) == 2:
        parts = value
    else:
        raise RuleInputError(
            field, f"持分は [分子, 分母] か「1/2」の形で入力してください（{value!r}）"
        )
    num = read_int(parts[0], field, minimum=1)
    den = read_int(parts[1], field, minimum=1)
    if num > den:
        raise RuleInputError(field, f"持分が1を超えています（{num}/{den}）")
    return (num, den)


def reject_unknown(data: Mapping[str, object], known: Iterable[str], prefix: str = "") -> None:
    allowed = set(known)
    for key in data:
        if key not in allowed:
            raise RuleInputError(prefix + key, "この項目は使えません")


# --- 期限の繰延べ (地方税法第20条の5②・施行令第6条の18) ----------------------------


@dataclass(frozen=True)
class DueDateCalendar:
    """A tenant's calendar for due dates.

    ``holidays``: 条例で定める休日 beyond the national ones (e.g. a 市の休日). ``non_holidays``:
    dates that ``jpholiday`` reports as 国民の祝日 but are not (a correction for the library, e.g.
    a holiday moved by a later law); it never overrides Saturdays, Sundays or 12/29–1/3.
    """

    holidays: frozenset[date] = frozenset()
    non_holidays: frozenset[date] = frozenset()


NO_TENANT_HOLIDAYS = DueDateCalendar()


def closed_reason(day: date, calendar: DueDateCalendar = NO_TENANT_HOLIDAYS) -> str | None:
    """Why ``day`` cannot be a 期限 (``日曜日``, ``国民の祝日（…）``, ``年末年始`` …), or None."""
    if day.weekday() == 6:
        return "日曜日"
    if day.weekday() == 5:
        return "土曜日"
    if (day.month, day.day) in ((1, 2), (1, 3)) or (day.month == 12 and day.day >= 29):
        return "年末年始"
    if day not in calendar.non_holidays and jpholiday.is_holiday(day):
        name = jpholiday.is_holiday_name(day)
        return f"国民の祝日（{name}）" if name else "国民の祝日"
    if day in calendar.holidays:
        return "条例で定める休日"
    return None


def roll_forward(day: date, calendar: DueDateCalendar = NO_TENANT_HOLIDAYS) -> date:
    """The 期限 that applies when ``day`` is one: the first day from ``day`` that is not closed."""
    while closed_reason(day, calendar) is not None:
        day += timedelta(days=1)
    return day


# --- 納期 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Installment:
    """One 納期: ``label`` (第1期), the month and day (``None`` = 月末; a day past the month's end
    is the 月末), and the calendar year relative to the 年度 (0 = the year the 年度 starts in,
    1 = the next calendar year, for January–March)."""

    label: str
    month: int
    day: int | None = None
    year_offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise RuleInputError("month", f"月が範囲外です（{self.month}）")
        if self.day is not None and not 1 <= self.day <= 31:
            raise RuleInputError("day", f"日が範囲外です（{self.day}）")
        if not 0 <= self.year_offset <= 1:
            raise RuleInputError("year_offset", f"年のずれは0か1です（{self.year_offset}）")

    def nominal_date(self, fiscal_year: int) -> date:
        """The date the 条例 names, before any roll-forward."""
        year = fiscal_year + self.year_offset
        last = _calendar.monthrange(year, self.month)[1]
        return date(year, self.month, last if self.day is None else min(self.day, last))


def _month_ends(labels_months: Sequence[tuple[int, int]]) -> tuple[Installment, ...]:
    return tuple(
        Installment(f"第{i}期", month, None, offset)
        for i, (month, offset) in enumerate(labels_months, start=1)
    )


@dataclass(frozen=True)
class InstallmentPlan:
    """A tenant's 納期 for one tax (the 条例 fixes them; the defaults follow the law's months)."""

    name: str
    installments: tuple[Installment, ...]

    def __post_init__(self) -> None:
        if not self.installments:
            raise RuleInputError("installments", "納期が1つもありません")
        nominal = [i.nominal_date(2000) for i in self.installments]
        if nominal != sorted(nominal):
            raise RuleInputError("installments", "納期は日付の順に並べてください")

    @classmethod
    def national_default_resident(cls, fiscal_year: int) -> InstallmentPlan:
        """個人住民税 普通徴収 (第320条): 6月・8月・10月・翌年1月, each 月末.

        ``fiscal_year`` is accepted so that year-specific defaults can be added; the law's months
        have not changed between 年度.
        """
        _check_year(fiscal_year)
        return cls("個人住民税（普通徴収）", _month_ends([(6, 0), (8, 0), (10, 0), (1, 1)]))

    @classmethod
    def national_default_property(cls, fiscal_year: int) -> InstallmentPlan:
        """固定資産税・都市計画税 (第362条): 4月・7月・12月・翌年2月, each 月末.

        A 12月31日 期限 rolls forward to January; many cities therefore set 12月25日 by 条例.
        """
        _check_year(fiscal_year)
        return cls("固定資産税・都市計画税", _month_ends([(4, 0), (7, 0), (12, 0), (2, 1)]))

    @classmethod
    def light_vehicle(cls, fiscal_year: int) -> InstallmentPlan:
        """軽自動車税種別割: 4月 by law, 5月31日 by most 条例 (the default here)."""
        _check_year(fiscal_year)
        return cls("軽自動車税（種別割）", (Installment("全期", 5, 31, 0),))


def _check_year(fiscal_year: int) -> None:
    if not 1989 <= fiscal_year <= 2200:
        raise RuleInputError("fiscal_year", f"年度が範囲外です（{fiscal_year}）")


def due_dates(
    plan: InstallmentPlan, fiscal_year: int, calendar: DueDateCalendar = NO_TENANT_HOLIDAYS
) -> list[date]:
    """The 納期限 of each installment of ``plan`` in ``fiscal_year``, rolled forward."""
    _check_year(fiscal_year)
    return [roll_forward(i.nominal_date(fiscal_year), calendar) for i in plan.installments]


def installment_plan_from_mapping(data: Mapping[str, object]) -> InstallmentPlan:
    """``{"name": "…", "installments": [{"label": "第1期", "month": 6, "day": null,
    "year_offset": 0}, …]}``; ``day`` null or absent = 月末."""
    reject_unknown(data, ("name", "installments"))
    rows = data.get("installments")
    if not isinstance(rows, list) or not rows:
        raise RuleInputError("installments", "納期の一覧を入力してください")
    result = []
    for n, row in enumerate(rows):
        f = f"installments[{n}]."
        if not isinstance(row, Mapping):
            raise RuleInputError(f"installments[{n}]", "納期は項目の組で入力してください")
        reject_unknown(row, ("label", "month", "day", "year_offset"), f)
        day = row.get("day")
        try:
            result.append(
                Installment(
                    str(row.get("label") or f"第{n + 1}期"),
                    read_int(row.get("month"), f + "month", minimum=1, maximum=12),
                    None if day is None else read_int(day, f + "day", minimum=1, maximum=31),
                    read_int(row.get("year_offset", 0), f + "year_offset", maximum=1),
                )
            )
        except RuleInputError as exc:
            raise RuleInputError(
                exc.field if exc.field.startswith(f) else f + exc.field, exc.message
            ) from None
    return InstallmentPlan(str(data.get("name") or ""), tuple(result))


# --- 分割金額 -----------------------------------------------------------------------------------


def split_installments(total: int, n: int, remainder_to: str = "first") -> list[int]:
    """``total`` split into ``n`` 分割金額 (地方税法第20条の4の2⑥).

    Each installment is ``total ÷ n`` truncated to a multiple of 1,000 yen; the remainder goes to
    the first installment (the law's rule), or to the last when a 条例 says so
    (``remainder_to="last"``). When ``total ÷ n`` is below 1,000 yen the whole amount falls to
    that installment and the others are 0 — the law's 「分割金額の全額が1,000円未満であるとき」;
    callers may omit the 0 installments from the 納税通知書. The list always has ``n`` items and
    sums to ``total``.
    """
    if n < 1:
        raise RuleInputError("n", f"分割回数は1以上です（{n}）")
    if total < 0:
        raise RuleInputError("total", f"税額は0以上です（{total}）")
    if remainder_to not in ("first", "last"):
        raise RuleInputError("remainder_to", "端数の合算先は first か last です")
    each = floor_to(total // n, 1000)
    amounts = [each] * n
    index = 0 if remainder_to == "first" else n - 1
    amounts[index] = total - each * (n - 1)
    return amounts


def split_special_collection(total: int) -> list[int]:
    """給与からの特別徴収の月割額: 12 amounts for June, July, …, May (地方税法第321条の5).

    Each month is ``total ÷ 12`` truncated to a multiple of 100 yen; the remainder is added to
    June (the first month).
    """
    # 要確認: 端数を6月分に合算する扱いは参照資料で ⚠️（第321条の5 の条文を未確認）。
    if total < 0:
        raise RuleInputError("total", f"税額は0以上です（{total}）")
    each = floor_to(total // 12, 100)
    return [total - each * 11] + [each] * 11


# --- 延滞金 -------------------------------------------------------------------------------------

LateFeeRates = Mapping[int, tuple[int, int]]
"""Calendar year → (rate up to 1 month after the 納期限, rate after that), in 0.001% units."""

LATE_FEE_RATES: LateFeeRates = MappingProxyType(
    {
        # 附則第3条の2: 特例基準割合 1.4% (平均貸付割合 0.4% + 1%) → 2.4% / 8.7%.
        2022: (2400, 8700),
        2023: (2400, 8700),
        2024: (2400, 8700),
        2025: (2400, 8700),
        # 令和8年: 平均貸付割合 0.8% → 特例基準割合 1.8% → 2.8% / 9.1%.
        2026: (2800, 9100),
    }
)
"""延滞金の割合 by calendar year (``tax-rules.md`` §5); a tenant adds later years as announced."""

LATE_FEE_LAW = "地方税法第326条・第369条・第463条の24、附則第3条の2"


def one_month_end(start: date) -> date:
    """The last day of the 1-month period that begins on ``start`` (民法第143条②).

    The period ends on the day before the same date of the next month; when the next month has
    no such date it ends on that month's last day (1月31日 → 2月末日).
    """
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    last = _calendar.monthrange(year, month)[1]
    if start.day > last:
        return date(year, month, last)
    return date(year, month, start.day) - timedelta(days=1)


def late_fee(
    base_tax: int,
    due: date,
    paid: date,
    rates: LateFeeRates | None = None,
    trace: Trace | None = None,
) -> int:
    """延滞金 on ``base_tax`` paid on ``paid`` for a 納期限 ``due`` (``tax-rules.md`` §5).

    - The base is ``base_tax`` truncated below 1,000 yen; none if ``base_tax`` < 2,000 yen.
    - Days run from the day after ``due`` to ``paid`` inclusive. Up to 1 month (民法 rule, see
      ``one_month_end``) the lower rate applies, after that the higher one.
    - Days are split by calendar year, each year with its own rates; each segment is
      base × rate × days ÷ 365 (even in leap years), truncated below 1 yen.
    - The total is truncated below 100 yen, and is not collected (0) when below 1,000 yen.

    ``due`` is the 納期限 as rolled forward (``roll_forward``). 一部納付 is not handled here: for a
    partial payment, call this once per period with the base remaining in that period (the
    base changes from the day after each payment). Raises ``RuleInputError("rates", …)`` for a
    year without rates.
    """
    table = LATE_FEE_RATES if rates is None else rates
    if base_tax < 0:
        raise RuleInputError("base_tax", f"税額は0以上です（{base_tax}）")
    if paid <= due:
        return 0
    t = trace if trace is not None else Trace()
    if base_tax < 2000:
        t.note(
            "late_fee.none",
            "延滞金なし（税額2,000円未満）",
            f"税額 {yen(base_tax)}円",
            "地方税法第20条の4の2②",
            "延滞金",
        )
        return 0
    base = floor_to(base_tax, 1000)
    t.add(
        "late_fee.base",
        "延滞金の計算の基礎となる税額",
        base,
        f"{yen(base_tax)} の1,000円未満切捨て",
        "地方税法第20条の4の2②",
        "延滞金",
    )
    start = due + timedelta(days=1)
    boundary = one_month_end(start)
    total = 0
    periods = [(start, min(paid, boundary), 0, "1か月以内")]
    if paid > boundary:
        periods.append((boundary + timedelta(days=1), paid, 1, "1か月超"))
    n = 0
    for first, last, band, band_label in periods:
        for seg_first, seg_last in _by_calendar_year(first, last):
            year = seg_first.year
            if year not in table:
                raise RuleInputError("rates", f"{year}年の延滞金の割合が設定されていません")
            rate = table[year][band]
            days = (seg_last - seg_first).days + 1
            amount = base * rate * days // (365 * RATE_UNIT)
            n += 1
            total += t.add(
                f"late_fee.segment{n}",
                f"延滞金（{band_label}・{year}年 {seg_first:%m/%d}〜{seg_last:%m/%d}）",
                amount,
                f"{yen(base)} × {percent(rate)} × {days}/365（1円未満切捨て）",
                LATE_FEE_LAW,
                "延滞金",
            )
    result = floor_to(total, 100)
    if result < 1000:
        t.add(
            "late_fee.total",
            "延滞金（1,000円未満のため徴収しない）",
            0,
            f"合計 {yen(total)} → 100円未満切捨て {yen(result)} < 1,000",
            "地方税法第20条の4の2⑤",
            "延滞金",
        )
        return 0
    return t.add(
        "late_fee.total",
        "延滞金",
        result,
        f"合計 {yen(total)} の100円未満切捨て",
        "地方税法第20条の4の2⑤",
        "延滞金",
    )


def _by_calendar_year(first: date, last: date) -> list[tuple[date, date]]:
    segments = []
    while first.year < last.year:
        year_end = date(first.year, 12, 31)
        segments.append((first, year_end))
        first = year_end + timedelta(days=1)
    segments.append((first, last))
    return segments
