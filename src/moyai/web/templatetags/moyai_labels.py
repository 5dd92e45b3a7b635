"""Template filters that show stored codes in Japanese, for every app's screens.

``{% load moyai_labels %}``, then ``{{ grant.roles|role_labels }}``,
``{{ row.actor_username|actor_label }}``, ``{{ row.target_type|target_type_label }}``,
``{{ row.channel|channel_label }}`` and ``{% for d in row.detail|detail_rows %}``.
See :mod:`moyai.web.labels`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template

from moyai.web import labels

register = template.Library()


@register.filter
def role_labels(values: Iterable[str] | None, sep: str = "・") -> str:
    """A list of role values (``["disaster", "tax"]``) as 被災者支援・税務."""
    return sep.join(labels.role_labels(values))


@register.filter
def target_type_label(value: str) -> str:
    return labels.target_type_label(value)


@register.filter
def channel_label(value: str) -> str:
    return labels.channel_label(value)


@register.filter
def actor_label(username: str) -> str:
    """``cli:demo`` → コマンド（demo）; a staff username as it is."""
    return labels.actor_label(username)


@register.filter
def detail_rows(detail: Mapping[str, Any] | None) -> list[labels.DetailRow]:
    return labels.detail_rows(detail)
