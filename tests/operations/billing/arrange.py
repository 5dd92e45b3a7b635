"""Arranging 割り勘 data: households moved in through the real registry services."""

from __future__ import annotations

from datetime import date
from typing import Any

from moyai.operations.billing import rules
from moyai.registry import services as registry
from moyai.registry.rules import FuzzyDate
from moyai.registry.services import Address, NewPerson, Notification

ALL = [code for code, _ in rules.BUSINESSES]
GIVEN = [("一郎", "イチロウ"), ("二郎", "ジロウ"), ("三郎", "サブロウ"), ("四郎", "シロウ")]


def move_in_household(town: Any, in_town: Any, size: int, *, on: str = "2024-10-01") -> None:
    """One household of ``size`` persons, moved in on ``on`` (one 異動, processed now)."""
    members = [
        NewPerson(
            family_name="髙橋",
            given_name=GIVEN[i][0],
            name_kana=f"タカハシ　{GIVEN[i][1]}",
            birth=FuzzyDate(f"{1960 + i}-05-10"),
            sex="1",
            relation="世帯主" if i == 0 else "子",
        )
        for i in range(size)
    ]
    with in_town(town):
        registry.move_in(
            notification=Notification(FuzzyDate(on), date.fromisoformat(on)),
            previous_address="東京都千代田区千代田1-1",
            address=Address(town="一色", block="1234番地"),
            members=members,
        )


def traces(towns: Any) -> dict[str, tuple[int, int, int]]:
    """Per town: audit rows, outbox events and issued documents (what an act can leave)."""
    from moyai.documents.models import IssuedDocument
    from moyai.platform.models import AuditEvent, OutboxEvent
    from moyai.platform.tenancy import tenant_context

    result = {}
    for town in towns:
        with tenant_context(town):
            result[town.code] = (
                AuditEvent.objects.count(),
                OutboxEvent.objects.count(),
                IssuedDocument.objects.count(),
            )
    return result
