"""Table tests of the pure rules against the figures of the reference (docs/disaster.md)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moyai.disaster import rules
from moyai.disaster.rules import DamageLevel as L
from moyai.disaster.rules import RebuildMethod as M
from moyai.disaster.rules import SupportCategory as C


@pytest.mark.parametrize(
    ("ratio", "level"),
    [
        (1000, L.TOTAL),
        (500, L.TOTAL),
        (499, L.LARGE_HALF),
        (400, L.LARGE_HALF),
        (399, L.MEDIUM_HALF),
        (300, L.MEDIUM_HALF),
        (299, L.HALF),
        (200, L.HALF),
        (199, L.SEMI_HALF),
        (100, L.SEMI_HALF),
        (99, L.PARTIAL),
        (0, L.PARTIAL),
    ],
)
def test_damage_ratio_thresholds(ratio: int, level: L) -> None:
    assert rules.classify_damage(ratio) == level


def test_ratio_parsing() -> None:
    assert rules.parse_ratio("45.3") == 453
    assert rules.parse_ratio("50%") == 500
    assert rules.format_ratio(453) == "45.3%"
    for bad in ("", "abc", "45.35", "101", "-1"):
        with pytest.raises(rules.RuleInputError):
            rules.parse_ratio(bad)


@given(st.integers(min_value=0, max_value=999))
def test_levels_never_get_lighter_as_damage_grows(ratio: int) -> None:
    order = rules.LEVEL_ORDER
    assert order.index(rules.classify_damage(ratio + 1)) <= order.index(
        rules.classify_damage(ratio)
    )


@pytest.mark.parametrize(
    ("category", "method", "members", "basic", "additional"),
    [
        # multi-person households (基礎 + 加算)
        (C.TOTAL, M.BUILD, 2, 1_000_000, 2_000_000),  # 100万 + 200万 = 300万
        (C.TOTAL, M.REPAIR, 3, 1_000_000, 1_000_000),
        (C.TOTAL, M.RENT, 4, 1_000_000, 500_000),
        (C.DEMOLISHED, M.BUILD, 2, 1_000_000, 2_000_000),
        (C.LONG_EVACUATION, M.RENT, 2, 1_000_000, 500_000),
        (C.LARGE_HALF, M.BUILD, 2, 500_000, 2_000_000),
        (C.LARGE_HALF, M.REPAIR, 2, 500_000, 1_000_000),
        (C.LARGE_HALF, M.RENT, 2, 500_000, 500_000),
        (C.MEDIUM_HALF, M.BUILD, 2, 0, 1_000_000),
        (C.MEDIUM_HALF, M.REPAIR, 2, 0, 500_000),
        (C.MEDIUM_HALF, M.RENT, 2, 0, 250_000),
        # 賃借の後に建設・購入: total capped at the 建設・購入 amount (50 + 150 = 200)
        (C.TOTAL, M.RENT_THEN_BUILD, 2, 1_000_000, 2_000_000),
        (C.TOTAL, M.RENT_THEN_REPAIR, 2, 1_000_000, 1_000_000),
        # 単数世帯 ×3/4
        (C.TOTAL, M.BUILD, 1, 750_000, 1_500_000),  # 225万
        (C.TOTAL, M.REPAIR, 1, 750_000, 750_000),
        (C.TOTAL, M.RENT, 1, 750_000, 375_000),
        (C.LARGE_HALF, M.BUILD, 1, 375_000, 1_500_000),  # 37.5万
        (C.MEDIUM_HALF, M.BUILD, 1, 0, 750_000),
        (C.MEDIUM_HALF, M.REPAIR, 1, 0, 375_000),
        (C.MEDIUM_HALF, M.RENT, 1, 0, 187_500),
    ],
)
def test_support_money_table(category, method, members, basic, additional) -> None:
    amount = rules.support_amount(category, method, members=members)
    assert (amount.basic, amount.additional) == (basic, additional)


def test_the_worked_examples_of_the_brief() -> None:
    assert rules.support_amount(C.TOTAL, M.BUILD, members=3).total == 3_000_000
    assert rules.support_amount(C.TOTAL, M.BUILD, members=1).total == 2_250_000


@pytest.mark.parametrize(
    ("level", "demolished", "long_evacuation", "category"),
    [
        (L.TOTAL, False, False, C.TOTAL),
        (L.LARGE_HALF, False, False, C.LARGE_HALF),
        (L.MEDIUM_HALF, False, False, C.MEDIUM_HALF),
        (L.HALF, False, False, None),
        (L.HALF, True, False, C.DEMOLISHED),
        (L.SEMI_HALF, False, False, None),
        (L.PARTIAL, False, False, None),
        (None, False, True, C.LONG_EVACUATION),
        (None, False, False, None),
    ],
)
def test_support_category(level, demolished, long_evacuation, category) -> None:
    assert (
        rules.support_category(level, demolished=demolished, long_evacuation=long_evacuation)
        == category
    )


@pytest.mark.parametrize(
    ("occurred", "basic", "additional"),
    [
        (date(2024, 1, 1), date(2025, 1, 31), date(2027, 1, 31)),
        (date(2026, 10, 10), date(2027, 11, 9), date(2029, 11, 9)),
        (date(2026, 1, 31), date(2027, 2, 28), date(2029, 2, 28)),  # no 31 February
    ],
)
def test_deadlines(occurred: date, basic: date, additional: date) -> None:
    assert rules.basic_deadline(occurred) == basic
    assert rules.additional_deadline(occurred) == additional


def test_allocation_per_household_dwelling_and_person() -> None:
    per_household = rules.allocation_rule_from_mapping(
        {"amounts": {"全壊": 350000, "半壊": 180000}, "single_factor": "3/4"}
    )
    assert (
        rules.allocation_amount(per_household, L.TOTAL, members=3, first_in_dwelling=False)
        == 350_000
    )
    assert (
        rules.allocation_amount(per_household, L.TOTAL, members=1, first_in_dwelling=True)
        == 262_500
    )
    assert (
        rules.allocation_amount(per_household, L.SEMI_HALF, members=3, first_in_dwelling=True) == 0
    )
    assert rules.allocation_amount(per_household, None, members=3, first_in_dwelling=True) == 0
    per_dwelling = rules.allocation_rule_from_mapping(
        {"unit": "dwelling", "amounts": {"全壊": 100}}
    )
    assert rules.allocation_amount(per_dwelling, L.TOTAL, members=2, first_in_dwelling=True) == 100
    assert rules.allocation_amount(per_dwelling, L.TOTAL, members=2, first_in_dwelling=False) == 0
    per_person = rules.allocation_rule_from_mapping(
        {"unit": "person", "amounts": {"全壊": 30000}, "cap": 100000}
    )
    assert rules.allocation_amount(per_person, L.TOTAL, members=3, first_in_dwelling=True) == 90_000
    assert (
        rules.allocation_amount(per_person, L.TOTAL, members=4, first_in_dwelling=True) == 100_000
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"unit": "village", "amounts": {"全壊": 1}}, "unit"),
        ({"amounts": {}}, "amounts"),
        ({"amounts": {"全損": 1}}, "amounts"),
        ({"amounts": {"全壊": -1}}, "amounts"),
        ({"amounts": {"全壊": 1}, "single_factor": "5/4"}, "single_factor"),
        ({"amounts": {"全壊": 1}, "single_factor": "x"}, "single_factor"),
    ],
)
def test_allocation_configuration_errors_name_the_field(raw, field) -> None:
    with pytest.raises(rules.RuleInputError) as exc:
        rules.allocation_rule_from_mapping(raw)
    assert exc.value.field == field


def test_resident_tax_reduction_by_income_band() -> None:
    rule = rules.reduction_rule_from_mapping(rules.RESIDENT_TAX_REDUCTION_DEFAULT)
    assert rules.reduction_amount(rule, L.TOTAL, tax=123_457, income=4_000_000) == 123_457
    assert rules.reduction_amount(rule, L.HALF, tax=123_457, income=4_000_000) == 61_728
    assert rules.reduction_amount(rule, L.TOTAL, tax=100_001, income=6_000_000) == 50_000
    assert rules.reduction_amount(rule, L.LARGE_HALF, tax=100_000, income=9_000_000) == 12_500
    assert rules.reduction_amount(rule, L.TOTAL, tax=100_000, income=12_000_000) == 0
    assert rules.reduction_amount(rule, L.SEMI_HALF, tax=100_000, income=1_000_000) == 0
    insurance = rules.reduction_rule_from_mapping({"rates": {"全壊": "1", "半壊": "1/2"}})
    assert rules.reduction_rate(insurance, L.HALF, None) == Fraction(1, 2)
    assert rules.reduction_amount(insurance, L.HALF, tax=45_001, income=None) == 22_500


@pytest.mark.parametrize(
    ("inquirer", "consented", "scope"),
    [
        (rules.Inquirer.COHABITING_RELATIVE, False, (True, True, True, True)),
        (rules.Inquirer.RELATIVE_OR_WORK, False, (True, True, False, False)),
        (rules.Inquirer.OTHER, False, (True, False, False, False)),
        (rules.Inquirer.OTHER, True, (True, True, True, True)),
    ],
)
def test_safety_answer_scope(inquirer, consented, scope) -> None:
    s = rules.safety_answer_scope(inquirer, consented=consented)
    assert (s.held, s.injury, s.whereabouts, s.contact) == scope


def test_support_need_reasons() -> None:
    base = dict(
        age=50, living_alone=False, elderly_only_household=False, care_level="", disability=""
    )
    assert rules.support_need_reasons(rules.CareFacts(**base)) == []
    assert rules.support_need_reasons(rules.CareFacts(**{**base, "care_level": "要介護3"})) == [
        "要介護3"
    ]
    assert rules.support_need_reasons(
        rules.CareFacts(**{**base, "age": 70, "living_alone": True, "care_level": "要支援1"})
    ) == ["ひとり暮らし高齢者（要支援1）"]
    assert rules.support_need_reasons(rules.CareFacts(**{**base, "disability": "身体3級"})) == []
    assert rules.support_need_reasons(
        rules.CareFacts(
            **{**base, "age": 80, "elderly_only_household": True, "disability": "療育A"}
        )
    ) == ["療育A", "75歳以上のみの世帯"]


def test_unconfirmed_items_are_listed() -> None:
    assert rules.UNCONFIRMED and all(isinstance(x, str) and x for x in rules.UNCONFIRMED)
