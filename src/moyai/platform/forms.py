from __future__ import annotations

from typing import Any

from django import forms

from moyai.platform.models import AuditAction
from moyai.platform.services import GRANTABLE_ROLES


class AuditSearchForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    date_from = forms.DateField(
        label="期間（から）", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="期間（まで）", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    actor = forms.CharField(label="職員", required=False, max_length=150)
    action = forms.ChoiceField(
        label="操作", required=False, choices=[("", "すべて"), *AuditAction.choices]
    )
    target_type = forms.CharField(label="対象種別", required=False, max_length=64)
    target_id = forms.CharField(label="対象ID", required=False, max_length=64)
    purpose = forms.CharField(label="検索の目的", max_length=200, initial="監査ログの点検")


class SupportGrantForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    grantee = forms.CharField(label="応援職員のユーザー名", max_length=150)
    roles = forms.MultipleChoiceField(
        label="付与する権限",
        widget=forms.CheckboxSelectMultiple,
        choices=[(r.value, r.label) for r in sorted(GRANTABLE_ROLES)],
    )
    reason = forms.CharField(label="理由", max_length=200)
    starts_at = forms.DateTimeField(
        label="開始日時", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    expires_at = forms.DateTimeField(
        label="終了日時", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class ProfileForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    mayor_title = forms.CharField(label="首長の職名（例: 葉山町長）", max_length=50)
    mayor_name = forms.CharField(label="首長の氏名", max_length=100)
    statement_household = forms.CharField(
        label="認証文: 住民票の写し（世帯全員）",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    statement_selected = forms.CharField(
        label="認証文: 住民票の写し（一部）",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
