from __future__ import annotations

from django import template

from moyai.registry.models import ResidentRecord
from moyai.registry.rules import FuzzyDate, format_fuzzy

register = template.Library()


@register.filter
def fuzzy(value: FuzzyDate | None, western: bool = False) -> str:
    """不詳日 as printed: 不詳表記, 和暦, or 西暦 (外国人住民)."""
    return format_fuzzy(value, western=bool(western))


@register.filter
def birth_text(record: ResidentRecord) -> str:
    return format_fuzzy(record.birth, western=record.is_foreign)
