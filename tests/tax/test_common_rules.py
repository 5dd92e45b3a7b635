from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moyai.tax.common.rules import (
    LATE_FEE_RATES,
    DueDateCalendar,
    Installment,
    InstallmentPlan,
    RuleInputError,
    closed_reason,
    due_dates,
    installment_plan_from_mapping,
    late_fee,
    one_month_end,
    percent,
    read_decimal_units,
    read_rate,
    roll_forward,
    split_installments,
    split_special_collection,
)
from moyai.tax.common.trace import Trace

# --- roll_forward -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 6, 30), date(2026, 6, 30)),  # 火曜日: そのまま
        (date(2026, 10, 31), date(2026, 11, 2)),  # 土曜日 → 月曜日
        (date(2027, 1, 31), date(2027, 2, 1)),  # 日曜日 → 月曜日
        (date(2026, 5, 2), date(2026, 5, 7)),  # 土・日(憲法記念日)・みどり・こども・振替休日
        (date(2026, 5, 4), date(2026, 5, 7)),
        (date(2026, 5, 6), date(2026, 5, 7)),  # 振替休日
        (date(2026, 9, 21), date(2026, 9, 24)),  # 敬老の日・国民の休日・秋分の日
        (date(2026, 12, 28), date(2026, 12, 28)),  # 月曜日: 年末年始の前
        (date(2026, 12, 29), date(2027, 1, 4)),  # 12/29〜1/3 と日曜日
        (date(2027, 1, 2), date(2027, 1, 4)),
        (date(2025, 12, 31), date(2026, 1, 5)),  # 1/1〜1/3, 1/4 日曜日
    ],
)
def test_roll_forward(day: date, expected: date) -> None:
    assert roll_forward(day) == expected


def test_roll_forward_tenant_holiday() -> None:
    cal = DueDateCalendar(holidays=frozenset({date(2026, 6, 30), date(2026, 7, 1)}))
    assert roll_forward(date(2026, 6, 30), cal) == date(2026, 7, 2)
    assert closed_reason(date(2026, 6, 30), cal) == "条例で定める休日"
    assert closed_reason(date(2026, 6, 30)) is None


def test_non_holidays_only_correct_national_holidays() -> None:
    cal = DueDateCalendar(non_holidays=frozenset({date(2026, 5, 4), date(2026, 5, 2)}))
    assert roll_forward(date(2026, 5, 4), cal) == date(2026, 5, 4)
    assert roll_forward(date(2026, 5, 2), cal) == date(2026, 5, 4)  # 土・日は動かせない


def test_closed_reason_names_the_holiday() -> None:
    reason = closed_reason(date(2026, 5, 5))
    assert reason is not None and "こどもの日" in reason
    assert closed_reason(date(2026, 12, 30)) == "年末年始"


# --- 納期 ---------------------------------------------------------------------------------------


def test_resident_due_dates_reiwa8() -> None:
    plan = InstallmentPlan.national_default_resident(2026)
    assert [i.label for i in plan.installments] == ["第1期", "第2期", "第3期", "第4期"]
    assert due_dates(plan, 2026) == [
        date(2026, 6, 30),
        date(2026, 8, 31),
        date(2026, 11, 2),  # 10/31 is a Saturday
        date(2027, 2, 1),  # 1/31/2027 is a Sunday
    ]


def test_property_and_light_vehicle_due_dates() -> None:
    assert due_dates(InstallmentPlan.national_default_property(2026), 2026) == [
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2027, 1, 4),  # 12/31 → 年末年始 → 1/4
        date(2027, 3, 1),  # 2/28/2027 is a Sunday
    ]
    assert due_dates(InstallmentPlan.light_vehicle(2026), 2026) == [date(2026, 6, 1)]


def test_plan_from_mapping_and_month_end() -> None:
    plan = installment_plan_from_mapping(
        {
            "name": "固定資産税",
            "installments": [
                {"label": "第1期", "month": 5},
                {"label": "第2期", "month": 7},
                {"label": "第3期", "month": 12, "day": 25},
                {"label": "第4期", "month": 2, "year_offset": 1, "day": 31},
            ],
        }
    )
    assert due_dates(plan, 2027) == [
        date(2027, 5, 31),
        date(2027, 8, 2),  # 7/31 土曜日
        date(2027, 12, 27),  # 12/25 土曜日
        date(2028, 2, 29),  # 閏年の月末
    ]


def test_plan_from_mapping_names_the_field() -> None:
    with pytest.raises(RuleInputError) as exc:
        installment_plan_from_mapping({"installments": [{"month": 13}]})
    assert exc.value.field == "installments[0].month"
    with pytest.raises(RuleInputError) as exc:
        InstallmentPlan("x", (Installment("第1期", 10), Installment("第2期", 6)))
    assert exc.value.field == "installments"


# --- 分割金額 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "n", "expected"),
    [
        (100_000, 4, [25_000, 25_000, 25_000, 25_000]),
        (100_500, 4, [25_500, 25_000, 25_000, 25_000]),
        (123_456, 4, [33_456, 30_000, 30_000, 30_000]),
        (3_999, 4, [3_999, 0, 0, 0]),
        (4_000, 4, [1_000, 1_000, 1_000, 1_000]),
        (0, 4, [0, 0, 0, 0]),
        (7_300, 1, [7_300]),
    ],
)
def test_split_installments(total: int, n: int, expected: list[int]) -> None:
    assert split_installments(total, n) == expected


def test_split_installments_remainder_last() -> None:
    assert split_installments(100_500, 4, remainder_to="last") == [25_000, 25_000, 25_000, 25_500]
    with pytest.raises(RuleInputError):
        split_installments(100, 4, remainder_to="middle")
    with pytest.raises(RuleInputError):
        split_installments(100, 0)


@given(
    st.integers(min_value=0, max_value=50_000_000),
    st.integers(min_value=1, max_value=12),
    st.sampled_from(["first", "last"]),
)
def test_split_installments_property(total: int, n: int, where: str) -> None:
    amounts = split_installments(total, n, where)
    assert len(amounts) == n
    assert sum(amounts) == total
    keeper = 0 if where == "first" else n - 1
    others = [a for i, a in enumerate(amounts) if i != keeper]
    assert all(a % 1000 == 0 and a >= 0 for a in others)
    assert all(amounts[keeper] >= a for a in others)


@given(st.integers(min_value=0, max_value=50_000_000))
def test_split_special_collection_property(total: int) -> None:
    amounts = split_special_collection(total)
    assert len(amounts) == 12
    assert sum(amounts) == total
    assert len(set(amounts[1:])) == 1 and amounts[1] % 100 == 0
    assert amounts[0] >= amounts[1]


def test_split_special_collection_example() -> None:
    assert split_special_collection(123_456) == [11_256] + [10_200] * 11


# --- 延滞金 -------------------------------------------------------------------------------------


def test_late_fee_chuo_city_example() -> None:
    trace = Trace()
    assert late_fee(56_400, date(2026, 2, 2), date(2026, 5, 29), trace=trace) == 1_300
    assert trace.get("late_fee.base").amount == 56_000
    assert [s.amount for s in trace if s.key.startswith("late_fee.segment")] == [120, 1_228]
    assert "28/365" in trace.get("late_fee.segment1").basis
    assert "88/365" in trace.get("late_fee.segment2").basis
    assert "9.1%" in trace.get("late_fee.segment2").basis


def test_late_fee_none_below_2000_and_on_time() -> None:
    assert late_fee(1_999, date(2026, 2, 2), date(2027, 5, 29)) == 0
    assert late_fee(500_000, date(2026, 2, 2), date(2026, 2, 2)) == 0
    trace = Trace()
    assert late_fee(1_999, date(2026, 2, 2), date(2026, 3, 2), trace=trace) == 0
    assert trace.get("late_fee.none").law == "地方税法第20条の4の2②"


def test_late_fee_below_1000_not_collected() -> None:
    # 56,000 × 2.8% × 28/365 = 120 → 100 < 1,000 → 0
    trace = Trace()
    assert late_fee(56_400, date(2026, 2, 2), date(2026, 3, 2), trace=trace) == 0
    assert trace.get("late_fee.total").amount == 0


def test_late_fee_crosses_calendar_year() -> None:
    # 2025-12-01 due → first month 12/02〜2026/01/01: 30 days in 2025 (2.4%), 1 day in 2026 (2.8%);
    # then 2026/01/02〜2026/03/31: 89 days at 9.1%.
    trace = Trace()
    fee = late_fee(1_000_000, date(2025, 12, 1), date(2026, 3, 31), trace=trace)
    segments = [s.amount for s in trace if s.key.startswith("late_fee.segment")]
    assert segments == [
        1_000_000 * 2400 * 30 // (365 * 100_000),
        1_000_000 * 2800 * 1 // (365 * 100_000),
        1_000_000 * 9100 * 89 // (365 * 100_000),
    ]
    assert segments == [1_972, 76, 22_189]
    assert fee == 24_200


def test_late_fee_leap_year_still_365() -> None:
    # 2024 is a leap year: 366 days past the first month, still ÷365.
    rates = {2024: (2400, 8700), 2025: (2400, 8700)}
    trace = Trace()
    fee = late_fee(100_000, date(2023, 12, 31), date(2024, 12, 31), rates=rates, trace=trace)
    days_first = (date(2024, 1, 31) - date(2024, 1, 1)).days + 1  # 31
    days_after = (date(2024, 12, 31) - date(2024, 2, 1)).days + 1  # 335
    assert days_first + days_after == 366
    expected = 100_000 * 2400 * days_first // 36_500_000 + 100_000 * 8700 * days_after // 36_500_000
    assert fee == expected // 100 * 100
    assert "335/365" in trace.get("late_fee.segment2").basis


def test_late_fee_missing_year_names_rates() -> None:
    with pytest.raises(RuleInputError) as exc:
        late_fee(100_000, date(2026, 12, 1), date(2027, 3, 1))
    assert exc.value.field == "rates"
    assert 2027 not in LATE_FEE_RATES


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 2, 3), date(2026, 3, 2)),
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 1, 31), date(2026, 2, 28)),  # 応当日なし → 月末
        (date(2024, 1, 30), date(2024, 2, 29)),
        (date(2024, 1, 29), date(2024, 2, 28)),
        (date(2026, 12, 15), date(2027, 1, 14)),
    ],
)
def test_one_month_end(start: date, end: date) -> None:
    assert one_month_end(start) == end


# --- 入力の読取り -------------------------------------------------------------------------------


def test_rates_and_decimals() -> None:
    assert read_rate("1.4%", "rate") == 1400
    assert read_rate(1400, "rate") == 1400
    assert read_rate("0.25%", "rate") == 250
    assert percent(1400) == "1.4%" and percent(14600) == "14.6%" and percent(250) == "0.25%"
    assert read_decimal_units("300.25", "area", scale=100) == 30025
    assert read_decimal_units(120, "area", scale=100) == 12000
    with pytest.raises(RuleInputError):
        read_rate(1.4, "rate")
    with pytest.raises(RuleInputError) as exc:
        read_decimal_units("1.234", "lands[0].area_m2", scale=100)
    assert exc.value.field == "lands[0].area_m2"
