from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moyai.registry.rules import (
    FuzzyDate,
    Member,
    MovementKind,
    age_attained_on,
    age_on,
    format_fuzzy,
    household_problems,
    m11_check_digit,
    m11_problem,
    my_number_problem,
    notification_warning,
    parse_relation,
    relation_label,
    resident_code_problem,
    wareki,
    with_m11,
)


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(2026, 4, 1), "令和8年4月1日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1912, 7, 29), "明治45年7月29日"),
    ],
)
def test_wareki(d: date, text: str) -> None:
    assert wareki(d) == text


def test_fuzzy_dates() -> None:
    assert format_fuzzy(FuzzyDate("1950-01-01", unknown=True, label="昭和25年頃")) == "昭和25年頃"
    assert format_fuzzy(FuzzyDate("1985-03-09")) == "昭和60年3月9日"
    assert format_fuzzy(FuzzyDate("1985-03-09"), western=True) == "1985年3月9日"
    odd = FuzzyDate("2023-02-29")  # not on the calendar, kept as written
    assert not odd.is_calendar_date and odd.as_date() is None
    assert format_fuzzy(odd) == "令和5年2月29日"
    with pytest.raises(ValueError, match="不詳表記"):
        FuzzyDate("1950-01-01", unknown=True)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        FuzzyDate("S25.1.1")
    with pytest.raises(ValueError, match="範囲外"):
        FuzzyDate("1950-13-01")


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2000, 4, 2), date(2006, 4, 1), 6),  # 早生まれの境: the day before the birthday
        (date(2000, 4, 2), date(2006, 3, 31), 5),
        (date(2000, 4, 1), date(2006, 3, 31), 6),
        (date(2000, 2, 29), date(2021, 2, 28), 21),  # 閏日生まれ: end of 2月28日
        (date(2000, 2, 29), date(2021, 2, 27), 20),
        (date(2000, 1, 1), date(2000, 1, 1), 0),
    ],
)
def test_age_under_the_age_calculation_act(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


def test_age_attained_on() -> None:
    assert age_attained_on(date(1961, 4, 2), 65) == date(2026, 4, 1)
    assert age_attained_on(date(2004, 2, 29), 18) == date(2022, 2, 28)


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2050, 1, 1)),
    st.integers(min_value=0, max_value=100),
)
def test_age_and_attained_day_agree(birth: date, years: int) -> None:
    day = age_attained_on(birth, years)
    if day >= birth:
        assert age_on(birth, day) == years
        if day > birth:
            assert age_on(birth, date.fromordinal(day.toordinal() - 1)) == years - 1


def test_notification_period_warns_not_blocks() -> None:
    moved = FuzzyDate("2026-04-01")
    assert notification_warning(MovementKind.MOVE_IN, moved, date(2026, 4, 15)) is None
    warning = notification_warning(MovementKind.MOVE_IN, moved, date(2026, 4, 20))
    assert warning is not None and "14日以内" in warning and "5日過ぎています" in warning
    assert notification_warning(MovementKind.DEATH, moved, date(2026, 4, 9)) is not None
    assert (
        notification_warning(
            MovementKind.MOVE_IN, FuzzyDate("2026-04-01", True, "4月上旬"), date(2026, 6, 1)
        )
        is None
    )
    assert notification_warning(MovementKind.CLERICAL_CORRECTION, moved, date(2027, 1, 1)) is None


def test_relations() -> None:
    assert parse_relation("子の妻") == ["20", "12"]
    assert relation_label(["20", "20", "20", "20"]) == "子の子の子の子"
    with pytest.raises(ValueError, match="4代まで"):
        parse_relation("子の子の子の子の子")
    with pytest.raises(ValueError, match="「孫」は使えません"):
        parse_relation("孫")
    with pytest.raises(ValueError, match="つなげません"):
        parse_relation("子の同居人")


def test_household_needs_exactly_one_head() -> None:
    head = Member(1, True, ("02",))
    wife = Member(2, False, ("12",))
    assert household_problems([head, wife]) == []
    assert household_problems([]) == []
    assert household_problems([wife]) == ["世帯主は1人でなければなりません（0人）"]
    assert "世帯主は1人でなければなりません（2人）" in household_problems(
        [head, Member(3, True, ("02",))]
    )
    assert "世帯主でない世帯員の続柄に「世帯主」は使えません" in household_problems(
        [head, Member(4, False, ("02",))]
    )


@pytest.mark.parametrize("number", ["621498320257", "983205673214"])
def test_my_number_official_vectors(number: str) -> None:
    assert my_number_problem(number) is None
    bad = number[:11] + str((int(number[11]) + 1) % 10)
    assert my_number_problem(bad) == "個人番号の検査用数字が正しくありません"


@pytest.mark.parametrize("code", ["24727059608", "24846016224"])
def test_resident_code_samples(code: str) -> None:
    assert resident_code_problem(code) is None
    assert resident_code_problem(code[:10] + str((int(code[10]) + 1) % 10)) is not None


@given(st.integers(min_value=1, max_value=10**13))
def test_m11_numbers_validate_and_ambiguous_bases_are_skipped(base: int) -> None:
    number = with_m11(base, 15)
    if number is None:
        assert m11_check_digit(str(base).zfill(14)) is None
    else:
        assert len(number) == 15 and m11_problem(number) is None
        wrong = number[:-1] + str((int(number[-1]) + 3) % 10)
        assert m11_problem(wrong) is not None
