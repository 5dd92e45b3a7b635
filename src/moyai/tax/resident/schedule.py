"""期別: how a year's 個人住民税 is collected (pure: no Django, no I/O).

* 特別徴収 (給与): 12 monthly amounts June–May, the remainder in June
  (``common.rules.split_special_collection``); the employer pays each by the 10th of the next
  month.
* 普通徴収: the tenant's installment plan (by default June, August, October, January, each due
  at the end of its month, moved to the next business day: ``common.rules.due_dates``), the
  remainder below 1,000 yen in the first installment (地方税法第20条の4の2第6項).

A **更正** keeps what was due before the day of the correction as it was and spreads the
difference over the installments still to come (a reduction larger than what is still to come
leaves those at 0 and the rest as 過誤納, to be refunded: ``refund``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from moyai.tax.common.rules import (
    NO_TENANT_HOLIDAYS,
    DueDateCalendar,
    InstallmentPlan,
    due_dates,
    split_installments,
    split_special_collection,
)

SPECIAL_MONTHS = (6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Period:
    label: str
    due: date
    amount: int

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "due": self.due.isoformat(), "amount": self.amount}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Period:
        return cls(str(data["label"]), date.fromisoformat(str(data["due"])), int(data["amount"]))


def special_schedule(total: int, fiscal_year: int) -> list[Period]:
    """12 monthly deductions; each is paid by the employer by the 10th of the next month."""
    amounts = split_special_collection(total)
    out = []
    for month, amount in zip(SPECIAL_MONTHS, amounts, strict=True):
        year = fiscal_year if month >= 6 else fiscal_year + 1
        pay_year, pay_month = (year + 1, 1) if month == 12 else (year, month + 1)
        out.append(Period(f"{month}月分", date(pay_year, pay_month, 10), amount))
    return out


def ordinary_periods(total: int, plan: InstallmentPlan, due: Sequence[date]) -> list[Period]:
    """Like :func:`ordinary_schedule` with the 納期限 already computed (a run computes them
    once for everyone)."""
    amounts = split_installments(total, len(due))
    return [
        Period(item.label, day, amount)
        for item, day, amount in zip(plan.installments, due, amounts, strict=True)
    ]


def ordinary_schedule(
    total: int,
    fiscal_year: int,
    plan: InstallmentPlan,
    calendar: DueDateCalendar = NO_TENANT_HOLIDAYS,
) -> list[Period]:
    days = due_dates(plan, fiscal_year, calendar)
    amounts = split_installments(total, len(days))
    return [
        Period(item.label, day, amount)
        for item, day, amount in zip(plan.installments, days, amounts, strict=True)
    ]


@dataclass(frozen=True)
class Revised:
    installments: list[Period]
    refund: int  # 過誤納: paid or due before the correction beyond the new total


def revise(previous: Sequence[Period], new_total: int, today: date) -> Revised:
    """A 更正 on ``today``: installments due before today stay; the rest carry the difference,
    split like a new assessment (multiples of 1,000 yen, the remainder in the first)."""
    past = [i for i in previous if i.due < today]
    future = [i for i in previous if i.due >= today]
    settled = sum(i.amount for i in past)
    remaining = new_total - settled
    if not future:
        return Revised(list(past), max(0, -remaining))
    if remaining <= 0:
        return Revised([*past, *(Period(i.label, i.due, 0) for i in future)], -remaining)
    amounts = split_installments(remaining, len(future))
    revised = [Period(i.label, i.due, a) for i, a in zip(future, amounts, strict=True)]
    return Revised([*past, *revised], 0)
