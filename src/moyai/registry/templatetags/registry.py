from __future__ import annotations

from datetime import date

from django import template

from moyai.registry.models import ResidentRecord
from moyai.registry.rules import FuzzyDate, format_fuzzy, wareki

register = template.Library()


@register.filter
def fuzzy(value: FuzzyDate | None, western: bool = False) -> str:
    """不詳日 as printed: 不詳表記, 和暦, or 西暦 (外国人住民)."""
    return format_fuzzy(value, western=bool(western))


@register.filter
def birth_text(record: ResidentRecord) -> str:
    return format_fuzzy(record.birth, western=record.is_foreign)


@register.filter
def iso_wareki(value: str | date | None, western: bool = False) -> str:
    """An ISO date (text or ``date``) in 和暦 for screens that keep dates as text (e.g. the
    被災者台帳's copy of the 生年月日), or 西暦 written the same way (2024年9月17日) when
    ``western`` (外国人住民: ``{{ r.removed_on|iso_wareki:r.is_foreign }}``); anything that is
    not a whole date is shown as it is."""
    if not value:
        return ""
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
    if western:
        return f"{day.year}年{day.month}月{day.day}日"
    return wareki(day)
