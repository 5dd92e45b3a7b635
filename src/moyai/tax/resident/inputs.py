"""課税資料 → the taxpayer description the rules read (pure: no Django, no I/O).

Each 課税資料 is stored as a small dict in the vocabulary of ``rules.taxpayer_from_mapping``
(:func:`salary_values`, :func:`pension_values`; a 住民税申告 or 確定申告 is entered in that
vocabulary directly). :func:`merge` combines a person's documents with the facts the registry
knows (age, sex) into one mapping:

* a **申告** (住民税申告 or 確定申告; the latest received) is complete by itself: it declares
  every income and deduction, so it is used as it stands and the 支払報告書 only decide the
  collection method;
* otherwise the **支払報告書** are added up: 給与収入, 公的年金等の収入 and 社会保険料 of every
  report; the personal deductions (生命保険料, 地震保険料, 住宅借入金, 配偶者, 扶養, 本人の障害
  など) from the main salary report (the largest 甲欄 payment), since every employer reports
  the same family and only the year-end adjustment of the main one counts them.

Family members come from the report's counts (特定扶養・老人扶養・同居老親等・その他・16歳未満),
as the employer established them; their ages stand in for the class (20, 75, 40, 10), which is
all the rules use them for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from moyai.registry.rules import age_on
from moyai.tax.resident.reports import PensionReport, SalaryReport

SALARY = "salary"
PENSION = "pension"
RETURN = "return"
DECLARATION = "declaration"
DECLARED = (RETURN, DECLARATION)

# Representative ages of the 扶養 classes (the rules decide the class from the age).
_CLASS_AGES = {"specific": 20, "elderly": 75, "other": 40, "under16": 10}


def _yen(value: int | None) -> int:
    return max(0, value or 0)


def salary_values(report: SalaryReport) -> dict[str, Any]:
    """One 給与支払報告書（個人別明細書） in the rules' vocabulary."""
    values: dict[str, Any] = {
        "salary_revenue": _yen(report.payment_amount),
        "social_insurance": _yen(report.social_insurance),
        "small_business_mutual_aid": _yen(report.small_enterprise_mutual_aid),
        "life_insurance": {
            "new_general": _yen(report.new_life_premium),
            "new_medical_care": _yen(report.care_medical_premium),
            "new_pension": _yen(report.new_private_pension_premium),
            "old_general": _yen(report.old_life_premium),
            "old_pension": _yen(report.old_private_pension_premium),
        },
        # 所得税の地震保険料控除額 = the premium up to 50,000 (beyond it the 住民税 cap applies).
        "earthquake_insurance": _yen(report.earthquake_insurance_deduction),
        "old_long_term_insurance": _yen(report.old_long_term_insurance_premium),
        "disability": "special"
        if report.special_disabled
        else ("ordinary" if report.disabled else "none"),
        "family_status": "single_parent"
        if report.single_parent
        else ("widow" if report.widow else "none"),
        "working_student": report.working_student,
    }
    available = _yen(report.housing_loan_possible) - _yen(report.housing_loan_deduction)
    if available > 0:
        values["housing_loan"] = {"available": available}
    if report.spouse_status not in ("", "0") or report.spouse is not None:
        spouse = report.spouse
        values["spouse"] = {
            "income": _yen(spouse.total_income) if spouse else 0,
            "age": 75 if spouse and spouse.elderly else 45,
            "same_household": True,
        }
    dependants: list[dict[str, Any]] = []
    parents = _yen(report.elderly_parents_cohabiting)
    for key, count in (
        ("specific", report.specific_dependents),
        ("elderly", report.elderly_dependents),
        ("other", report.other_dependents),
    ):
        for i in range(_yen(count)):
            dependant: dict[str, Any] = {"age": _CLASS_AGES[key], "income": 0}
            if key == "elderly" and i < parents:
                dependant["cohabiting_parent"] = True
            dependants.append(dependant)
    under16 = max(_yen(report.under16_dependents), len(report.dependents_under16))
    dependants.extend({"age": _CLASS_AGES["under16"], "income": 0} for _ in range(under16))
    if dependants:
        values["dependants"] = dependants
    values["_main"] = not report.otsu  # 甲欄: its year-end adjustment counted the family
    return values


def pension_values(report: PensionReport) -> dict[str, Any]:
    """One 公的年金等支払報告書: the revenue and the premiums withheld from it."""
    return {
        "pension_revenue": _yen(report.payment_amount),
        "social_insurance": _yen(report.social_insurance),
    }


@dataclass(frozen=True)
class Document:
    """A 課税資料 as :func:`merge` sees it."""

    id: int
    kind: str
    values: Mapping[str, Any]
    received_order: int = 0  # later received = larger


_PERSONAL = (
    "life_insurance",
    "earthquake_insurance",
    "old_long_term_insurance",
    "housing_loan",
    "spouse",
    "dependants",
    "disability",
    "family_status",
    "working_student",
)


def merge(
    documents: Sequence[Document], *, fiscal_year: int, birth: date | None, sex: str
) -> dict[str, Any]:
    """The taxpayer mapping for ``rules.taxpayer_from_mapping`` from a person's documents.

    ``birth`` (None when 不詳) gives ``age`` on 12/31 of the income year and on 1 January of
    the 年度; ``sex`` is the registry's code ("1" male, "2" female).
    """
    income_year_end = date(fiscal_year - 1, 12, 31)
    base: dict[str, Any] = {}
    declared = [d for d in documents if d.kind in DECLARED]
    if declared:
        latest = max(declared, key=lambda d: (d.received_order, d.id))
        base = {k: v for k, v in latest.values.items() if not k.startswith("_")}
    else:
        salaries = [d for d in documents if d.kind == SALARY]
        pensions = [d for d in documents if d.kind == PENSION]
        for key in ("salary_revenue", "pension_revenue", "social_insurance"):
            total = sum(int(d.values.get(key, 0)) for d in (*salaries, *pensions))
            if total:
                base[key] = total
        mutual = sum(int(d.values.get("small_business_mutual_aid", 0)) for d in salaries)
        if mutual:
            base["small_business_mutual_aid"] = mutual
        main = max(
            salaries,
            key=lambda d: (bool(d.values.get("_main")), int(d.values.get("salary_revenue", 0))),
            default=None,
        )
        if main is not None:
            for key in _PERSONAL:
                if key in main.values:
                    base[key] = main.values[key]
    if birth is not None and birth <= income_year_end:
        base.setdefault("age", age_on(birth, income_year_end))
        base.setdefault("age_on_january_1", age_on(birth, date(fiscal_year, 1, 1)))
    else:
        base.setdefault("age", 40)
    if base.get("family_status") == "single_parent" and "sex" not in base:
        base["sex"] = "female" if sex == "2" else "male"
    return base
