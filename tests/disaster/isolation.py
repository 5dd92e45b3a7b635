"""B's 被災者支援 data for tests/web/test_isolation.py (called inside B's tenant context)."""

from __future__ import annotations

from datetime import date

from moyai.disaster import services
from moyai.disaster.models import Programme, VictimHousehold


def seed_b(canary: str) -> dict[str, int]:
    """A 災害 over B's canary 町字 with its ledger, a surveyed 住家, a shelter and a programme."""
    disaster = services.disaster_register(
        code="CANARY-1",
        name=canary,
        kind=canary,
        occurred_on=date(2026, 6, 1),
        towns=[canary],
        support_act_on=date(2026, 6, 1),
    )
    services.ledger_build(disaster_id=disaster.pk)
    household = VictimHousehold.objects.get(disaster=disaster)
    services.survey_record(
        dwelling_id=household.dwelling_id,
        kind="first",
        method="site",
        surveyed_on=date(2026, 6, 5),
        ratio="55.0",
    )
    shelter = services.shelter_open(
        disaster_id=disaster.pk,
        name=canary,
        address=canary,
        capacity=10,
        opened_on=date(2026, 6, 1),
    )
    return {
        "disaster_id": disaster.pk,
        "household_id": household.pk,
        "dwelling_id": household.dwelling_id or 0,
        "shelter_id": shelter.pk,
        "programme_id": Programme.objects.filter(disaster=disaster).first().pk,  # type: ignore[union-attr]
    }
