"""個人住民税の規則 (moyai.tax.resident.rules): pure tests, no database."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moyai.tax.resident.rules import (
    UNCONFIRMED,
    Dependant,
    Disability,
    Donations,
    Exemption,
    FamilyStatus,
    ForeignTaxCredit,
    HousingLoan,
    LifeInsurancePremiums,
    MedicalExpenses,
    ResidentTaxAssessment,
    ResidentTaxParams,
    Rounding,
    RuleInputError,
    Split,
    Spouse,
    TaxpayerInput,
    assess,
    earthquake_insurance_deduction,
    furusato_special_rate,
    kyuyo_shotoku,
    life_insurance_deduction,
    medical_expense_deduction,
    national_defaults,
    nenkin_shotoku,
    params_from_mapping,
    taxpayer_from_mapping,
    wareki_nendo,
)

YEARS = (2025, 2026)
R7, R8 = 2025, 2026

# 柏市 ケース1 (reference §1.9 A).
EXAMPLE_A: dict[str, Any] = {
    "age": 45,
    "salary_revenue": 7_000_000,
    "social_insurance": 700_000,
    "life_insurance": {"new_general": 100_000, "new_medical_care": 100_000},
    "earthquake_insurance": 10_000,
    "spouse": {"income": 0, "age": 45},
    "dependants": [{"age": 20}, {"age": 14}],
}


def example_a(**changes: Any) -> TaxpayerInput:
    return taxpayer_from_mapping({**EXAMPLE_A, **changes})


def run(tp: TaxpayerInput, year: int = R8, **overrides: object) -> ResidentTaxAssessment:
    return assess(tp, params_from_mapping(national_defaults(year), overrides))


def step(result: ResidentTaxAssessment, key: str) -> int:
    return result.trace.get(key).amount


# --- worked examples ---------------------------------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
def test_example_a_kashiwa(year: int) -> None:
    r = run(example_a(), year)
    assert r.income_levy == Split(192_200, 128_100)
    assert r.per_capita == Split(3_000, 1_000)
    assert r.forest_environment_tax == 1_000
    assert r.total == 325_300
    assert r.exemption is Exemption.NONE
    assert step(r, "income.salary") == 5_200_000
    assert step(r, "deduction.life_insurance") == 56_000
    assert step(r, "deduction.earthquake") == 5_000
    assert step(r, "deduction.spouse") == 330_000
    assert step(r, "deduction.dependant.1") == 450_000
    assert step(r, "deduction.basic") == 430_000
    assert step(r, "deduction.total") == 1_971_000 == r.deductions
    assert step(r, "taxable_income") == 3_229_000 == r.taxable_income
    assert r.levy_computed == Split(193_740, 129_160)
    assert step(r, "adjustment.personal_diff") == 280_000
    assert step(r, "credit.adjustment.city") == 1_500
    assert step(r, "credit.adjustment.prefecture") == 1_000
    assert r.adjustment_credit == Split(1_500, 1_000)
    assert step(r, "total") == 325_300
    assert r.household_count == 4
    basis = r.trace.get("income.salary").basis
    assert "7,000,000 × 90% − 1,100,000 = 5,200,000" in basis
    assert "地方税法" in r.trace.get("taxable_income").law
    assert all(isinstance(s.amount, int) for s in r.trace)


def test_example_a_designated_city_and_kanagawa() -> None:
    r = run(example_a(), designated_city=True)
    assert (r.levy_computed, r.adjustment_credit) == (Split(258_320, 64_580), Split(2_000, 500))
    assert r.income_levy == Split(256_300, 64_000)
    assert r.total == 325_300
    r = run(example_a(), prefecture_rate=4_025, prefecture_per_capita_levy=300)
    assert r.levy_computed.prefecture == 129_967  # 3,229,000 × 4.025%
    assert r.income_levy == Split(192_200, 128_900)
    assert r.per_capita == Split(3_000, 1_300)
    assert r.total == 192_200 + 128_900 + 3_000 + 1_300 + 1_000
    assert "4.025%" in r.trace.get("levy.prefecture").basis


def test_example_b_minimum_salary_deduction() -> None:
    single = TaxpayerInput(age=30, salary_revenue=1_500_000)
    r8 = run(single, R8)
    assert step(r8, "income.salary") == 850_000
    assert r8.taxable_income == 420_000
    assert r8.levy_computed == Split(25_200, 16_800)
    assert r8.adjustment_credit == Split(1_500, 1_000)
    assert r8.income_levy == Split(23_700, 15_800)
    assert r8.total == 44_500
    r7 = run(single, R7)
    assert step(r7, "income.salary") == 950_000
    assert r7.total == 54_500


def test_example_b_exemption_by_grade() -> None:
    single = TaxpayerInput(age=30, salary_revenue=1_100_000)
    r = run(single, R8)
    assert r.total_income == 450_000
    assert r.exemption is Exemption.FULL
    assert r.total == 0
    assert "450,000" in r.exemption_reason
    r3 = run(single, R8, grade=3)
    assert r3.exemption is Exemption.INCOME_LEVY
    assert r3.income_levy == Split(0, 0)
    assert r3.total == 5_000
    assert run(single, R7).exemption is Exemption.NONE  # 令和7年度: 給与所得 550,000


# --- 給与所得・公的年金等 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("revenue", "r7", "r8"),
    [
        (550_000, 0, 0),
        (551_000, 1_000, 0),
        (650_000, 100_000, 0),
        (651_000, 101_000, 1_000),
        (1_618_999, 1_068_999, 968_999),
        (1_619_000, 1_069_000, 969_000),
        # 令和7年度は別表第五の定額 (1,624,000〜1,627,999円 → 1,074,000円).
        (1_625_000, 1_074_000, 975_000),
        (1_625_001, 1_074_000, 975_001),
        (1_628_000, 1_076_800, 978_000),  # 407,000 × 2.4 + 100,000
        (1_800_000, 1_180_000, 1_150_000),  # 1,800,000 − (1,800,000 × 30% + 80,000)
        (1_899_999, 1_247_200, 1_249_999),  # 474,000 × 2.8 − 80,000
        (1_900_000, 1_250_000, 1_250_000),
        (3_600_000, 2_440_000, 2_440_000),  # 3,600,000 − (3,600,000 × 20% + 440,000)
        (6_600_000, 4_840_000, 4_840_000),  # 6,600,000 × 90% − 1,100,000
        (8_500_000, 6_550_000, 6_550_000),
        (10_000_000, 8_050_000, 8_050_000),  # 1,950,000 上限
    ],
)
def test_kyuyo_shotoku_table(revenue: int, r7: int, r8: int) -> None:
    assert kyuyo_shotoku(revenue, R7) == r7
    assert kyuyo_shotoku(revenue, R8) == r8


def _reference_deduction(revenue: int) -> int:
    """Reference table §1.2 (exact where the 別表 step is a multiple of 4,000 yen)."""
    if revenue <= 3_600_000:
        return revenue * 30 // 100 + 80_000
    if revenue <= 6_600_000:
        return revenue * 20 // 100 + 440_000
    if revenue <= 8_500_000:
        return revenue * 10 // 100 + 1_100_000
    return 1_950_000


@given(st.integers(1_900_000 // 4_000, 12_000_000 // 4_000), st.sampled_from(YEARS))
def test_kyuyo_matches_reference_formulas_on_4000_yen_steps(units: int, year: int) -> None:
    revenue = units * 4_000
    assert kyuyo_shotoku(revenue, year) == revenue - _reference_deduction(revenue)


@pytest.mark.parametrize(
    ("revenue", "age", "other", "income"),
    [
        (1_000_000, 65, 0, 0),
        (1_000_000, 64, 0, 400_000),
        (1_300_000, 64, 0, 700_000),
        (1_300_000, 65, 0, 200_000),
        (3_300_000, 64, 0, 2_200_000),  # 3,300,000 − (825,000 + 275,000)
        (3_300_000, 65, 0, 2_200_000),
        (3_299_999, 65, 0, 2_199_999),
        (4_100_000, 65, 0, 2_800_000),
        (4_100_000, 64, 0, 2_800_000),
        (7_700_000, 65, 0, 5_860_000),  # 7,700,000 − (1,155,000 + 685,000)
        (10_000_000, 64, 0, 8_045_000),
        (12_000_000, 65, 0, 10_045_000),
        (3_300_000, 65, 10_000_000, 2_200_000),
        (3_300_000, 65, 10_000_001, 2_300_000),
        (3_300_000, 65, 20_000_000, 2_300_000),
        (3_300_000, 65, 20_000_001, 2_400_000),
        (1_000_000, 64, 20_000_001, 600_000),
    ],
)
def test_nenkin_shotoku(revenue: int, age: int, other: int, income: int) -> None:
    assert nenkin_shotoku(revenue, age, other, R8) == income
    assert nenkin_shotoku(revenue, age, other, R7) == income


def test_pension_age_in_assessment() -> None:
    at_65 = run(TaxpayerInput(age=65, pension_revenue=1_500_000))
    at_64 = run(TaxpayerInput(age=64, pension_revenue=1_500_000))
    assert step(at_65, "income.pension") == 400_000
    assert step(at_64, "income.pension") == 1_500_000 - (375_000 + 275_000)
    assert at_65.exemption is Exemption.FULL
    assert at_64.exemption is Exemption.NONE


def test_income_adjustment_deductions() -> None:
    with_child = TaxpayerInput(age=45, salary_revenue=9_000_000, dependants=(Dependant(age=10),))
    r = run(with_child)
    assert step(r, "income.adjustment_family") == 50_000
    assert r.total_income == 7_050_000 - 50_000
    assert run(TaxpayerInput(age=45, salary_revenue=9_000_000)).total_income == 7_050_000
    both = run(TaxpayerInput(age=65, salary_revenue=1_500_000, pension_revenue=2_000_000))
    assert step(both, "income.salary") == 850_000
    assert step(both, "income.pension") == 900_000
    assert step(both, "income.adjustment_pension") == 100_000
    assert both.total_income == 1_650_000


# --- 所得控除 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("premiums", "amount"),
    [
        (LifeInsurancePremiums(new_general=12_000), 12_000),
        (LifeInsurancePremiums(new_general=32_000), 22_000),
        (LifeInsurancePremiums(new_general=32_001), 22_001),  # 16,000.5 → 切上げ
        (LifeInsurancePremiums(new_general=56_000), 28_000),
        (LifeInsurancePremiums(new_general=100_000), 28_000),
        (LifeInsurancePremiums(old_general=15_000), 15_000),
        (LifeInsurancePremiums(old_general=40_000), 27_500),
        (LifeInsurancePremiums(old_general=70_000), 35_000),
        (LifeInsurancePremiums(old_general=100_000), 35_000),
        (LifeInsurancePremiums(new_general=20_000, old_general=10_000), 26_000),
        (LifeInsurancePremiums(new_general=40_000, old_general=30_000), 28_000),
        (LifeInsurancePremiums(new_general=100_000, old_general=100_000), 35_000),
        (LifeInsurancePremiums(new_medical_care=30_000), 21_000),
        (LifeInsurancePremiums(new_general=100_000, new_medical_care=100_000), 56_000),
        (
            LifeInsurancePremiums(new_general=100_000, new_medical_care=100_000, new_pension=1),
            56_001,
        ),
        (
            LifeInsurancePremiums(
                new_general=100_000, new_medical_care=100_000, new_pension=100_000
            ),
            70_000,
        ),
        (LifeInsurancePremiums(old_general=100_000, old_pension=100_000), 70_000),
    ],
)
def test_life_insurance(premiums: LifeInsurancePremiums, amount: int) -> None:
    assert life_insurance_deduction(premiums) == amount


def test_earthquake_insurance() -> None:
    assert earthquake_insurance_deduction(10_000) == 5_000
    assert earthquake_insurance_deduction(50_001) == 25_000
    assert earthquake_insurance_deduction(0, 10_000) == 7_500
    assert earthquake_insurance_deduction(0, 20_000) == 10_000
    assert earthquake_insurance_deduction(40_000, 20_000) == 25_000


def test_medical_expenses() -> None:
    assert medical_expense_deduction(200_000, 20_000, 1_500_000) == 105_000  # 5% = 75,000
    assert medical_expense_deduction(200_000, 0, 5_200_000) == 100_000  # 10万 cap of the floor
    assert medical_expense_deduction(50_000, 0, 500_000) == 25_000
    assert medical_expense_deduction(50_000, 40_000, 5_000_000) == 0
    assert medical_expense_deduction(5_000_000, 0, 5_200_000) == 2_000_000
    tp = TaxpayerInput(
        age=30, salary_revenue=1_500_000, medical_expenses=MedicalExpenses(paid=200_000)
    )
    r = run(tp)
    assert step(r, "deduction.medical") == 200_000 - 42_500  # 850,000 × 5%
    assert "42,500" in r.trace.get("deduction.medical").basis


@pytest.mark.parametrize(
    ("income", "basic"),
    [
        (24_000_000, 430_000),
        (24_000_001, 290_000),
        (24_500_000, 290_000),
        (24_500_001, 150_000),
        (25_000_000, 150_000),
        (25_000_001, 0),
    ],
)
def test_basic_deduction_phase_out(income: int, basic: int) -> None:
    r = run(TaxpayerInput(age=50, business_income=income))
    assert step(r, "deduction.basic") == basic
    expected_adjustment = 0 if income > 25_000_000 else 1_500
    assert r.adjustment_credit.city == expected_adjustment


def _with_spouse(
    spouse_income: int, spouse_age: int = 45, salary: int = 5_000_000
) -> TaxpayerInput:
    return TaxpayerInput(
        age=45, salary_revenue=salary, spouse=Spouse(income=spouse_income, age=spouse_age)
    )


@pytest.mark.parametrize(
    ("year", "spouse_income", "key", "amount", "diff"),
    [
        (R7, 480_000, "deduction.spouse", 330_000, 50_000),
        (R7, 480_001, "deduction.spouse_special", 330_000, 50_000),
        (R7, 499_999, "deduction.spouse_special", 330_000, 50_000),
        (R7, 500_000, "deduction.spouse_special", 330_000, 30_000),
        (R7, 550_000, "deduction.spouse_special", 330_000, 0),
        (R8, 480_001, "deduction.spouse", 330_000, 50_000),
        (R8, 580_000, "deduction.spouse", 330_000, 50_000),
        (R8, 580_001, "deduction.spouse_special", 330_000, 50_000),  # 要確認 band
        (R8, 600_000, "deduction.spouse_special", 330_000, 30_000),  # 要確認 band
        (R8, 650_000, "deduction.spouse_special", 330_000, 0),
        (R8, 1_000_001, "deduction.spouse_special", 310_000, 0),
        (R8, 1_330_000, "deduction.spouse_special", 30_000, 0),
    ],
)
def test_spouse_edges(year: int, spouse_income: int, key: str, amount: int, diff: int) -> None:
    r = run(_with_spouse(spouse_income), year)
    assert step(r, key) == amount
    assert step(r, "adjustment.personal_diff") == 50_000 + diff
    counted = 2 if key == "deduction.spouse" else 1
    assert r.household_count == counted


def test_spouse_other_cases() -> None:
    r = run(_with_spouse(1_330_001))
    assert not {"deduction.spouse", "deduction.spouse_special"} & {k for k, _ in r.deduction_items}
    assert step(run(_with_spouse(0, spouse_age=70)), "deduction.spouse") == 380_000
    # 本人の合計所得 ≤950万 / ≤1,000万 / 超.
    assert step(run(_with_spouse(0, salary=11_400_000)), "deduction.spouse") == 220_000
    assert step(run(_with_spouse(0, salary=11_900_000)), "deduction.spouse") == 110_000
    high = run(_with_spouse(0, salary=12_000_000))
    assert "deduction.spouse" not in dict(high.deduction_items)
    assert high.household_count == 2  # 同一生計配偶者 is still counted
    apart = TaxpayerInput(age=45, salary_revenue=5_000_000, spouse=Spouse(0, 45, False))
    assert run(apart).household_count == 1


def test_dependants_and_specified_relative() -> None:
    deps = (
        Dependant(age=16),
        Dependant(age=19),
        Dependant(age=70),
        Dependant(age=75, cohabiting_parent=True),
        Dependant(age=12, disability=Disability.SPECIAL_COHABITING),
        Dependant(age=20, income=900_000),
    )
    tp = TaxpayerInput(age=50, salary_revenue=8_000_000, dependants=deps)
    r8 = run(tp, R8)
    items = dict(r8.deduction_items)
    assert items["deduction.dependant.1"] == 330_000
    assert items["deduction.dependant.2"] == 450_000
    assert items["deduction.dependant.3"] == 380_000
    assert items["deduction.dependant.4"] == 450_000
    assert "deduction.dependant.5" not in items  # 年少扶養親族
    assert items["deduction.disability.dependant.5"] == 530_000
    assert items["deduction.specified_relative.6"] == 450_000
    assert r8.household_count == 6  # 本人 + 5 扶養親族 (the 20-year-old with 90万 is not one)
    diffs = 50_000 + 180_000 + 100_000 + 130_000 + 220_000 + 50_000
    assert step(r8, "adjustment.personal_diff") == diffs
    r7 = run(tp, R7)
    assert "deduction.specified_relative.6" not in dict(r7.deduction_items)
    assert r7.trace.get("dependant.6").amount == 0


@pytest.mark.parametrize(
    ("income", "amount"),
    [(580_001, 450_000), (950_000, 450_000), (950_001, 410_000), (1_230_000, 30_000)],
)
def test_specified_relative_bands(income: int, amount: int) -> None:
    tp = TaxpayerInput(age=50, salary_revenue=6_000_000, dependants=(Dependant(21, income),))
    assert dict(run(tp).deduction_items)["deduction.specified_relative.1"] == amount
    over = TaxpayerInput(age=50, salary_revenue=6_000_000, dependants=(Dependant(21, 1_230_001),))
    assert "deduction.specified_relative.1" not in dict(run(over).deduction_items)


def test_personal_statuses() -> None:
    base = {"age": 40, "salary_revenue": 3_000_000}
    mother = taxpayer_from_mapping({**base, "family_status": "single_parent", "sex": "female"})
    father = taxpayer_from_mapping({**base, "family_status": "single_parent", "sex": "male"})
    assert step(run(mother), "deduction.single_parent") == 300_000
    assert step(run(mother), "adjustment.personal_diff") == 100_000
    assert step(run(father), "adjustment.personal_diff") == 60_000
    child_income = {**base, "family_status": "single_parent", "sex": "female"}
    over = taxpayer_from_mapping({**child_income, "single_parent_child_income": 580_001})
    assert "deduction.single_parent" not in dict(run(over).deduction_items)
    r7_ok = taxpayer_from_mapping({**child_income, "single_parent_child_income": 480_001})
    assert "deduction.single_parent" not in dict(run(r7_ok, R7).deduction_items)
    assert "deduction.single_parent" in dict(run(r7_ok, R8).deduction_items)
    widow = taxpayer_from_mapping({**base, "family_status": "widow"})
    assert step(run(widow), "deduction.widow") == 260_000
    rich_widow = taxpayer_from_mapping(
        {**base, "salary_revenue": 7_000_000, "family_status": "widow"}
    )
    assert "deduction.widow" not in dict(run(rich_widow).deduction_items)
    special = taxpayer_from_mapping({**base, "disability": "special"})
    assert step(run(special), "deduction.disability.self") == 300_000
    student = {"age": 20, "salary_revenue": 1_500_000, "working_student": True}
    # 令和8年度: 合計所得 850,000 ≤ 850,000; 令和7年度: 950,000 > 750,000.
    assert step(run(taxpayer_from_mapping(student), R8), "deduction.working_student") == 260_000
    r7 = run(taxpayer_from_mapping(student), R7)
    assert "deduction.working_student" not in dict(r7.deduction_items)


# --- 非課税 -------------------------------------------------------------------------------------


def _household(n: int, income: int) -> TaxpayerInput:
    """本人 + 同一生計配偶者 + (n − 2) children under 16; all income is 事業所得."""
    spouse = Spouse(income=0, age=40) if n >= 2 else None
    children = tuple(Dependant(age=5) for _ in range(max(0, n - 2)))
    return TaxpayerInput(age=40, business_income=income, spouse=spouse, dependants=children)


@pytest.mark.parametrize(
    ("overrides", "limits"),
    [
        ({"grade": 1}, (450_000, 1_010_000, 1_360_000, 1_710_000)),
        ({"grade": 2}, (415_000, 919_000, 1_234_000, 1_549_000)),
        ({"grade": 3}, (380_000, 828_000, 1_108_000, 1_388_000)),
        (
            {"grade": 3, "per_capita_exemption_addon": 170_000},
            (380_000, 830_000, 1_110_000, 1_390_000),
        ),
    ],
)
@pytest.mark.parametrize("year", YEARS)
def test_per_capita_exemption_limits(
    overrides: dict[str, object], limits: tuple[int, ...], year: int
) -> None:
    for n, limit in enumerate(limits, start=1):
        at = run(_household(n, limit), year, **overrides)
        assert at.household_count == n
        assert at.exemption is Exemption.FULL, (n, limit)
        assert at.total == 0
        above = run(_household(n, limit + 1), year, **overrides)
        assert above.exemption is not Exemption.FULL
        assert above.total >= 5_000
        assert step(above, "exemption.per_capita_limit") == limit


def test_income_levy_only_exemption_n4() -> None:
    at = run(_household(4, 1_820_000))
    assert at.exemption is Exemption.INCOME_LEVY
    assert step(at, "exemption.income_levy_limit") == 1_820_000
    assert at.income_levy == Split(0, 0)
    assert at.total == 5_000
    above = run(_household(4, 1_820_001))
    assert above.exemption is Exemption.NONE
    assert above.income_levy.total > 0


@pytest.mark.parametrize(
    "status",
    [
        {"age": 17},
        {"age": 18, "age_on_january_1": 17},
        {"age": 40, "disability": "ordinary"},
        {"age": 40, "family_status": "widow"},
        {"age": 40, "family_status": "single_parent", "sex": "male"},
    ],
)
def test_special_exemption_135(status: dict[str, object]) -> None:
    at = run(taxpayer_from_mapping({**status, "business_income": 1_350_000}))
    assert at.exemption is Exemption.FULL
    assert "1,350,000" in at.exemption_reason
    above = run(taxpayer_from_mapping({**status, "business_income": 1_350_001}))
    assert above.exemption is Exemption.NONE
    adult = run(TaxpayerInput(age=18, business_income=1_350_000))
    assert adult.exemption is Exemption.NONE


def test_public_assistance() -> None:
    r = run(TaxpayerInput(age=40, salary_revenue=3_000_000, public_assistance=True))
    assert r.exemption is Exemption.FULL
    assert r.total == 0
    assert "生活扶助" in r.exemption_reason


# --- 税額控除と端数 -------------------------------------------------------------------------------


def test_rounding_option_differs_for_odd_credit() -> None:
    tp = TaxpayerInput(age=40, business_income=851_000, foreign_tax_credit=ForeignTaxCredit(50))
    after = run(tp)
    before = run(tp, rounding="before_credits")
    assert after.levy_computed == Split(25_260, 16_840)
    assert after.income_levy == Split(23_700, 15_800)  # 25,260 − 1,500 − 50 = 23,710
    assert before.income_levy == Split(23_600, 15_800)  # 25,200 − 1,500 − 50 = 23,650
    assert step(before, "levy.city.rounded") == 25_200
    # 100円の倍数の控除なら同じ.
    round_credit = TaxpayerInput(age=40, business_income=851_000)
    assert run(round_credit).income_levy == run(round_credit, rounding="before_credits").income_levy


def test_donation_special_credit_capped_at_20_percent() -> None:
    tp = TaxpayerInput(age=30, salary_revenue=1_500_000, donations=Donations(furusato=1_000_000))
    r = run(tp)
    # 基本: (min(1,000,000, 850,000 × 30%) − 2,000) × 6% / 4%; 特例: 23,700 / 15,800 × 20%.
    assert r.donation_credit == Split(15_180 + 4_740, 10_120 + 3_160)
    assert r.income_levy == Split(3_700, 2_500)
    assert "20%" in r.trace.get("credit.donation.city").basis


def test_donation_uncapped() -> None:
    r = run(example_a(donations={"furusato": 30_000}))
    assert furusato_special_rate(3_229_000, 280_000) == 79_790
    assert r.donation_credit == Split(1_680 + 13_404, 1_120 + 8_936)
    assert r.income_levy == Split(177_100, 118_100)


def test_furusato_rates() -> None:
    assert furusato_special_rate(100_000, 200_000) == 90_000
    assert furusato_special_rate(2_000_000, 50_000) == 84_895
    assert furusato_special_rate(2_000_001, 50_000) == 79_790
    assert furusato_special_rate(50_000_000, 50_000) == 45_055


def test_housing_loan_credit() -> None:
    r = run(example_a(housing_loan={"available": 200_000}))
    assert r.housing_loan_credit == Split(58_500, 39_000)  # 97,500 × 3/5, 2/5
    assert r.income_levy == Split(133_700, 89_100)
    small = run(
        example_a(housing_loan={"available": 200_000, "income_tax_taxable_income": 1_000_000})
    )
    assert small.housing_loan_credit == Split(30_000, 20_000)
    special = run(example_a(housing_loan={"available": 200_000, "special": True}))
    assert special.housing_loan_credit == Split(81_900, 54_600)  # 136,500
    designated = run(example_a(housing_loan={"available": 200_000}), designated_city=True)
    assert designated.housing_loan_credit == Split(78_000, 19_500)


def test_dividend_credit() -> None:
    low = TaxpayerInput(
        age=50, business_income=4_000_000, dividend_income=1_000_000, dividend_credit_base=1_000_000
    )
    assert run(low).dividend_credit == Split(16_000, 12_000)
    assert run(low, designated_city=True).dividend_credit == Split(22_400, 5_600)
    high = TaxpayerInput(
        age=50, business_income=9_430_000, dividend_income=2_000_000, dividend_credit_base=2_000_000
    )
    r = run(high)
    assert r.taxable_income == 11_000_000
    assert r.dividend_credit == Split(16_000 + 8_000, 12_000 + 6_000)


def test_credits_never_exceed_levy() -> None:
    tp = TaxpayerInput(
        age=30,
        salary_revenue=1_600_000,
        housing_loan=HousingLoan(available=500_000),
        foreign_tax_credit=ForeignTaxCredit(100_000, 100_000),
    )
    r = run(tp)
    assert r.income_levy == Split(0, 0)
    assert r.credits == r.levy_computed
    assert r.total == 5_000


# --- パラメータと入力の検査 ----------------------------------------------------------------------


def test_national_defaults_and_years() -> None:
    r7, r8 = national_defaults(R7), national_defaults(R8)
    assert (r7.spouse_income_limit, r8.spouse_income_limit) == (480_000, 580_000)
    assert (r7.working_student_income_limit, r8.working_student_income_limit) == (750_000, 850_000)
    assert not r7.specified_relative_deduction and r8.specified_relative_deduction
    assert r8.rounding is Rounding.AFTER_CREDITS
    with pytest.raises(ValueError, match="2027") as exc:
        national_defaults(2027)
    assert "令和9年度" in str(exc.value)
    with pytest.raises(ValueError, match="2024"):
        national_defaults(2024)
    with pytest.raises(ValueError, match="2027"):
        kyuyo_shotoku(1_000_000, 2027)


def test_wareki_nendo() -> None:
    assert wareki_nendo(2026) == "令和8年度"
    assert wareki_nendo(2025) == "令和7年度"
    assert wareki_nendo(2019) == "令和元年度"
    assert wareki_nendo(2018) == "平成30年度"
    assert wareki_nendo(1989) == "平成元年度"


def test_params_from_mapping() -> None:
    base = national_defaults(R8)
    p = params_from_mapping(base, {"grade": 3})
    assert (p.per_capita_exemption_person, p.per_capita_exemption_addon) == (280_000, 168_000)
    p = params_from_mapping(base, {"grade": 3, "per_capita_exemption_addon": 170_000})
    assert p.per_capita_exemption_addon == 170_000
    p = params_from_mapping(base, {"designated_city": True})
    assert (p.city_rate, p.prefecture_rate, p.city_share) == (8_000, 2_000, (4, 1))
    p = params_from_mapping(base, {"rounding": "before_credits", "prefecture_rate": 4_025})
    assert p.rounding is Rounding.BEFORE_CREDITS and p.prefecture_rate == 4_025
    assert params_from_mapping(base, {}) == base


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"colour": 1}, "colour"),
        ({"city_rate": "6%"}, "city_rate"),
        ({"city_rate": 6.0}, "city_rate"),
        ({"city_rate": -1}, "city_rate"),
        ({"grade": 4}, "grade"),
        ({"designated_city": "yes"}, "designated_city"),
        ({"rounding": "sometimes"}, "rounding"),
        ({"rounding": ["after_credits"]}, "rounding"),
        ({"fiscal_year": 2027}, "fiscal_year"),
        ({"prefecture_per_capita_levy_label": ""}, "prefecture_per_capita_levy_label"),
    ],
)
def test_params_from_mapping_rejects(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(RuleInputError) as exc:
        params_from_mapping(national_defaults(R8), overrides)
    assert exc.value.field == field
    assert str(exc.value).startswith(f"{field}: ")
    assert isinstance(exc.value, ValueError)


def test_params_direct_construction_is_validated() -> None:
    with pytest.raises(RuleInputError) as exc:
        ResidentTaxParams(2030, 0, 0, 0, 0, False)
    assert exc.value.field == "fiscal_year"


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"age": 40, "salary_revenue": -1}, "salary_revenue", "給与収入"),
        ({"age": 40, "salery_revenue": 1}, "salery_revenue", "不明な項目"),
        ({"age": 40, "salary_revenue": "100"}, "salary_revenue", "整数"),
        ({"age": 40, "salary_revenue": 1.5}, "salary_revenue", "整数"),
        ({"age": 40, "salary_revenue": True}, "salary_revenue", "整数"),
        ({"salary_revenue": 1}, "age", "必須"),
        ({"age": 40, "dependants": [{"age": 10}, {"age": -3}]}, "dependants[1].age", "年齢"),
        ({"age": 40, "dependants": [{"age": 10}, {"age": 151}]}, "dependants[1].age", "年齢"),
        ({"age": 40, "dependants": [{"age": "ten"}]}, "dependants[0].age", "整数"),
        ({"age": 40, "dependants": [{"age": 10, "name": "x"}]}, "dependants[0].name", "不明"),
        (
            {"age": 40, "dependants": [{"age": 50, "cohabiting_parent": True}]},
            "dependants[0].cohabiting_parent",
            "70歳",
        ),
        ({"age": 40, "dependants": {"age": 10}}, "dependants", "配列"),
        ({"age": 40, "dependants": [5]}, "dependants[0]", "オブジェクト"),
        ({"age": 40, "spouse": {"age": 40, "disability": "bad"}}, "spouse.disability", "障害者"),
        ({"age": 40, "spouse": {"income": 0}}, "spouse.age", "必須"),
        (
            {"age": 40, "life_insurance": {"new_general": -5}},
            "life_insurance.new_general",
            "生命保険",
        ),
        ({"age": 40, "medical_expenses": {"paid": "a"}}, "medical_expenses.paid", "整数"),
        ({"age": 40, "housing_loan": {"available": 1, "x": 1}}, "housing_loan.x", "不明"),
        ({"age": 40, "donations": {"furusato": -1}}, "donations.furusato", "寄附金"),
        ({"age": 40, "foreign_tax_credit": {"city": -1}}, "foreign_tax_credit.city", "市町村民税"),
        ({"age": 40, "disability": "special_cohabiting"}, "disability", "本人"),
        ({"age": 40, "family_status": "single_parent"}, "sex", "性別"),
        ({"age": 40, "family_status": "widow", "sex": "male"}, "family_status", "寡婦"),
        ({"age": 40, "working_student": 1}, "working_student", "true"),
        ({"age": 40, "dividend_credit_base": 10}, "dividend_credit_base", "配当"),
    ],
)
def test_taxpayer_from_mapping_rejects(data: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(RuleInputError) as exc:
        taxpayer_from_mapping(data)
    assert exc.value.field == field
    assert words in str(exc.value)


def test_taxpayer_from_mapping_full_shape() -> None:
    tp = taxpayer_from_mapping(
        {
            "age": 66,
            "age_on_january_1": 66,
            "salary_revenue": 2_000_000,
            "pension_revenue": 1_200_000,
            "business_income": 0,
            "real_estate_income": 100_000,
            "dividend_income": 50_000,
            "misc_income": 10_000,
            "occasional_income": 20_000,
            "social_insurance": 300_000,
            "small_business_mutual_aid": 10_000,
            "life_insurance": {"new_general": 1, "old_pension": 2},
            "earthquake_insurance": 3,
            "old_long_term_insurance": 4,
            "medical_expenses": {"paid": 5, "reimbursed": 0},
            "disability": "ordinary",
            "family_status": "none",
            "sex": None,
            "single_parent_child_income": 0,
            "working_student": False,
            "public_assistance": False,
            "spouse": {"income": 0, "age": 70, "same_household": True, "disability": "special"},
            "dependants": [
                {"age": 90, "income": 0, "cohabiting_parent": True, "disability": "none"}
            ],
            "housing_loan": {
                "available": 10_000,
                "special": False,
                "income_tax_taxable_income": None,
            },
            "donations": {"furusato": 10_000, "designated_city": 0, "designated_prefecture": 0},
            "dividend_credit_base": 50_000,
            "foreign_tax_credit": {"city": 0, "prefecture": 0},
        }
    )
    assert tp.spouse == Spouse(0, 70, True, Disability.SPECIAL)
    assert tp.dependants == (Dependant(90, 0, True),)
    assert tp.family_status is FamilyStatus.NONE
    r = run(tp)
    assert r.exemption is Exemption.NONE
    items = dict(r.deduction_items)
    assert items["deduction.spouse"] == 380_000
    assert items["deduction.disability.spouse"] == 300_000
    assert items["deduction.dependant.1"] == 450_000


def test_unconfirmed_points_are_listed() -> None:
    assert len(UNCONFIRMED) >= 3
    assert any("特定親族特別控除" in point for point in UNCONFIRMED)


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 30_000_000),
    st.integers(0, 30_000_000),
    st.sampled_from(YEARS),
    st.sampled_from([1, 2, 3]),
    st.sampled_from(["after_credits", "before_credits"]),
)
def test_tax_is_monotone_in_salary(a: int, b: int, year: int, grade: int, rounding: str) -> None:
    low, high = sorted((a, b))
    params = params_from_mapping(national_defaults(year), {"grade": grade, "rounding": rounding})
    t_low = assess(TaxpayerInput(age=40, salary_revenue=low), params).total
    t_high = assess(TaxpayerInput(age=40, salary_revenue=high), params).total
    assert t_low <= t_high


_amount = st.integers(0, 20_000_000)
_small = st.integers(0, 500_000)
_taxpayers = st.fixed_dictionaries(
    {
        "age": st.integers(15, 100),
        "salary_revenue": _amount,
        "pension_revenue": st.integers(0, 5_000_000),
        "business_income": st.integers(0, 5_000_000),
        "social_insurance": _small,
    },
    optional={
        "dependants": st.lists(
            st.fixed_dictionaries(
                {"age": st.integers(0, 100), "income": st.integers(0, 2_000_000)}
            ),
            max_size=4,
        ),
        "spouse": st.fixed_dictionaries(
            {"age": st.integers(18, 100), "income": st.integers(0, 2_000_000)}
        ),
        "donations": st.fixed_dictionaries({"furusato": st.integers(0, 3_000_000)}),
        "housing_loan": st.fixed_dictionaries({"available": st.integers(0, 400_000)}),
        "foreign_tax_credit": st.fixed_dictionaries(
            {"city": st.integers(0, 1_234), "prefecture": _small}
        ),
        "medical_expenses": st.fixed_dictionaries({"paid": st.integers(0, 3_000_000)}),
        "life_insurance": st.fixed_dictionaries({"new_general": _small, "old_general": _small}),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    _taxpayers,
    st.sampled_from(YEARS),
    st.booleans(),
    st.sampled_from(["after_credits", "before_credits"]),
)
def test_amounts_are_int_and_levy_in_hundreds(
    data: dict[str, Any], year: int, designated: bool, rounding: str
) -> None:
    params = params_from_mapping(
        national_defaults(year), {"designated_city": designated, "rounding": rounding}
    )
    r = assess(taxpayer_from_mapping(data), params)
    splits = (
        r.levy_computed,
        r.adjustment_credit,
        r.dividend_credit,
        r.housing_loan_credit,
        r.donation_credit,
        r.foreign_tax_credit,
        r.income_levy,
        r.per_capita,
    )
    for s in splits:
        assert type(s.city) is int and type(s.prefecture) is int
        assert s.city >= 0 and s.prefecture >= 0
    assert r.income_levy.city % 100 == 0 and r.income_levy.prefecture % 100 == 0
    assert r.taxable_income % 1_000 == 0
    assert r.credits.city <= r.levy_computed.city
    assert r.credits.prefecture <= r.levy_computed.prefecture
    assert r.income_levy.city <= r.levy_computed.city
    assert r.total == r.income_levy.total + r.per_capita.total + r.forest_environment_tax
    assert all(type(s.amount) is int for s in r.trace)
    assert r.trace.get("total").amount == r.total
    if r.exemption is Exemption.FULL:
        assert r.total == 0
    elif r.exemption is Exemption.INCOME_LEVY:
        assert r.total == 5_000
