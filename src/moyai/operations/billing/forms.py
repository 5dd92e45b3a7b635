from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms

from moyai.operations.billing import rules
from moyai.operations.billing.models import PoolCategory, PoolPeriod, PoolRule, UsageBasis
from moyai.platform.models import Municipality

BUSINESS_CHOICES = list(rules.BUSINESSES)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-\d{1,2})?$")


class MonthField(forms.CharField):
    """対象月 as ``YYYY-MM`` (the browser's month input) → the first day of the month."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2027-04"})

    def to_python(self, value: Any) -> date | None:  # type: ignore[override]
        text = (value or "").strip()
        if not text:
            return None
        m = _MONTH.match(text)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise forms.ValidationError("年月を 2027-04 の形で入力してください")
        return date(int(m.group(1)), int(m.group(2)), 1)


class _Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ConsortiumForm(_Form):
    """協議会の登録 with its 設立団体 (a 協議会 is set up by its members; the registration is
    recorded in each founder's audit log)."""

    name = forms.CharField(label="協議会名", max_length=100)
    founders = forms.ModelMultipleChoiceField(
        label="設立団体",
        queryset=Municipality.objects.order_by("code"),
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "設立団体を1つ以上選んでください"},
    )
    joined_on = forms.DateField(
        label="設立団体の参加日", widget=forms.DateInput(attrs={"type": "date"})
    )
    businesses = forms.MultipleChoiceField(
        label="利用業務",
        choices=BUSINESS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=[code for code, _ in rules.BUSINESSES],
    )


class MembershipForm(_Form):
    municipality = forms.ModelChoiceField(
        label="団体",
        queryset=Municipality.objects.order_by("code"),
        to_field_name="code",
        empty_label="選んでください",
    )
    joined_on = forms.DateField(label="参加日", widget=forms.DateInput(attrs={"type": "date"}))
    businesses = forms.MultipleChoiceField(
        label="利用業務",
        choices=BUSINESS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=[code for code, _ in rules.BUSINESSES],
    )


class MembershipEndForm(_Form):
    left_on = forms.DateField(
        label="脱退日（最終日）", widget=forms.DateInput(attrs={"type": "date"})
    )


class PoolForm(_Form):
    name = forms.CharField(label="名称", max_length=100)
    category = forms.ChoiceField(label="費目", choices=PoolCategory.choices)
    rule = forms.ChoiceField(label="按分方法", choices=PoolRule.choices)
    period = forms.ChoiceField(label="金額の単位", choices=PoolPeriod.choices)
    amount = forms.IntegerField(label="金額（円）", min_value=0, required=False, initial=0)
    equal_ratio = forms.IntegerField(label="均等割の比率", min_value=0, max_value=100, initial=4)
    population_ratio = forms.IntegerField(
        label="人口割の比率", min_value=0, max_value=100, initial=6
    )
    basis = forms.ChoiceField(label="従量の基準", choices=UsageBasis.choices)
    business = forms.ChoiceField(
        label="対象業務（従量）", choices=[("", "すべての業務"), *BUSINESS_CHOICES], required=False
    )
    unit_price = forms.IntegerField(
        label="月額単価（円・1業務あたり）", min_value=0, required=False
    )
    unit_businesses = forms.MultipleChoiceField(
        label="月額単価を設定する業務",
        choices=BUSINESS_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    valid_from = MonthField(label="適用開始月")
    valid_to = MonthField(label="適用終了月", required=False)


class PoolEndForm(_Form):
    last_month = MonthField(label="最終月")


class RunForm(_Form):
    month = MonthField(label="対象月")


class ScenarioForm(_Form):
    scenario = forms.CharField(
        label="シナリオ（TOML）", widget=forms.Textarea(attrs={"rows": 24, "cols": 90})
    )
