"""The demo flood: seeded once over the first three 町字 of a synthetic population."""

from __future__ import annotations

import pytest
from django.utils import timezone

from moyai.disaster import demo, selectors
from moyai.disaster.models import Application, DamageSurvey, Disaster, ShelterStay, Victim
from moyai.registry.synthetic import seed_population

pytestmark = pytest.mark.django_db


def test_demo_flood(town_a, in_town, cli_actor) -> None:
    seed_population(town_a, persons=40, seed=3)
    assert demo.seed_disaster(town_a) is True
    assert demo.seed_disaster(town_a) is False  # idempotent
    with in_town(town_a):
        disaster = Disaster.objects.get(code=demo.CODE)
        assert set(disaster.towns) == {"一色", "堀内", "長柄"}
        victims = Victim.objects.filter(disaster=disaster)
        assert victims.exists()
        assert set(victims.values_list("address", flat=True)) and all(
            any(t in a for t in disaster.towns) for a in victims.values_list("address", flat=True)
        )
        assert DamageSurvey.objects.filter(kind="resurvey").count() == 1
        assert ShelterStay.objects.exists()
        assert (
            Application.objects.exists()
            or not DamageSurvey.objects.filter(level__in=["total", "large_half"]).exists()
        )
        report = selectors.gap_report(disaster=disaster)
        assert report.counts["所在未確認"] > 0


def test_ledger_tasks_are_idempotent(town_a, in_town, cli_actor) -> None:
    from moyai.disaster import services, tasks

    seed_population(town_a, persons=20, seed=5)
    with in_town(town_a):
        disaster = services.disaster_register(
            code="T-1",
            name="地震",
            kind="地震",
            occurred_on=timezone.localdate(),
            towns=["一色", "堀内"],
        )
    first = tasks.build_ledger.call(town_a.code, disaster.pk)
    assert first > 0
    assert tasks.build_ledger.call(town_a.code, disaster.pk) == first
    assert tasks.refresh_ledgers.call(town_a.code) == 0
