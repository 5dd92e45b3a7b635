"""What the tax 業務's forms share: messages that name the field, a service's error put on
the field it names, and the co-owner lines 「税務宛名番号 持分」."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from moyai.registry.forms import JaForm
from moyai.registry.rules import DATE_EXAMPLE, iso_date_from_text, iso_month_from_text

_SHARE_LINE = re.compile(r"^\s*(\S+)\s+(\d+\s*/\s*\d+)\s*$")


class DateTextField(forms.CharField):
    """A date typed in 西暦 (1985-04-01) or 和暦 (昭和60年4月1日); cleaned to ``YYYY-MM-DD``
    (or "" when left empty)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = str(super().to_python(value))
        if not text:
            return ""
        try:
            return iso_date_from_text(text)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class MonthTextField(DateTextField):
    """A month typed in 西暦 (2015-04) or 和暦 (平成27年4月), or a year alone (2002, 平成14年);
    cleaned to ``YYYY-MM`` or ``YYYY``."""

    def to_python(self, value: Any) -> str:
        text = str(forms.CharField.to_python(self, value))
        if not text:
            return ""
        try:
            return iso_month_from_text(text)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class LedgerForm(JaForm):
    """A form whose messages name the field: 「地積を入力してください」, not 「必須です」."""

    aliases: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            label = str(field.label).split("（")[0]
            field.error_messages["required"] = f"{label}を入力してください"
            field.error_messages["invalid"] = f"{label}の形式が正しくありません"
            field.error_messages["invalid_choice"] = f"{label}は一覧から選んでください"
            field.error_messages["max_length"] = f"{label}が長すぎます"
            if isinstance(field, forms.IntegerField):
                field.error_messages["invalid"] = f"{label}は整数で入力してください"
                field.error_messages["min_value"] = f"{label}は%(limit_value)s以上です"
                field.error_messages["max_value"] = f"{label}は%(limit_value)s以下です"
            if isinstance(field, forms.DateField):
                field.error_messages["invalid"] = (
                    f"{label}は西暦の年-月-日で入力してください（例: 2026-04-01）"
                )
            if isinstance(field, MonthTextField):
                field.error_messages["invalid"] = (
                    f"{label}は西暦か和暦の年月で入力してください（例: 2015-04、平成27年4月）"
                )
            elif isinstance(field, DateTextField):
                field.error_messages["invalid"] = (
                    f"{label}は西暦か和暦の年月日で入力してください（{DATE_EXAMPLE}）"
                )

    def attach(self, field: str, message: str) -> None:
        """A service's :class:`ServiceError` on the form field it names (``parts[1].area_m2``
        → ``parts``), or on the form as a whole when no field matches."""
        name = field.split(".")[0].split("[")[0]
        name = self.aliases.get(name, name)
        self.add_error(name if name in self.fields else None, message)


def share_lines(text: str) -> list[tuple[str, str]]:
    """Co-owners one per line as 「税務宛名番号 持分」 (``T000000001 1/2``)."""
    shares: list[tuple[str, str]] = []
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        m = _SHARE_LINE.match(line)
        if not m:
            raise forms.ValidationError(
                f"共有者の{i + 1}行目は「税務宛名番号 持分」（例: T000000001 1/2）で"
                "入力してください"
            )
        shares.append((m.group(1), m.group(2).replace(" ", "")))
    return shares
