"""Demo content for 被災者支援: a small past flood over three 町字 of one demo municipality, with
its ledger, surveys (one 再調査), a shelter with evacuees, a 義援金 round and some applications —
so that every screen has something to show. Idempotent: does nothing if the 災害 exists."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from moyai.disaster import services
from moyai.disaster.models import Disaster, Dwelling, Programme, Victim, VictimHousehold
from moyai.platform.audit import Actor, acting_as
from moyai.platform.models import Municipality
from moyai.platform.tenancy import tenant_context

CODE = "DEMO-R8-豪雨"


def seed_disaster(m: Municipality, *, seed: int = 1) -> bool:
    """Seed the demo flood in ``m`` (its first three 町字). Returns False if it already exists."""
    from moyai.registry.synthetic import DEFAULT_TOWNS, TOWNS

    towns = [t for t, _, _ in TOWNS.get(m.code, DEFAULT_TOWNS)[:3]]
    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    occurred = timezone.localdate() - timedelta(days=40)
    actor = Actor(username="cli:demo", channel="cli", municipality_code=m.code)
    with acting_as(actor), tenant_context(m):
        if Disaster.objects.filter(code=CODE).exists():
            return False
        disaster = services.disaster_register(
            code=CODE,
            name="（デモ）大雨による浸水被害",
            kind="豪雨（洪水・浸水）",
            occurred_on=occurred,
            towns=towns,
            relief_act_on=occurred,
            support_act_on=occurred + timedelta(days=2),
        )
        services.ledger_build(disaster_id=disaster.pk)
        surveyed_on = occurred + timedelta(days=5)
        dwellings = list(Dwelling.objects.filter(disaster=disaster).order_by("number"))
        for i, d in enumerate(dwellings):
            if i % 7 == 6:
                continue  # some 住家 not surveyed yet
            ratio = rng.choice([5, 12, 18, 24, 33, 38, 44, 52, 61])
            services.survey_record(
                dwelling_id=d.pk,
                kind="first",
                method="site",
                surveyed_on=surveyed_on,
                ratio=f"{ratio}.0",
            )
            if i == 0:
                services.survey_record(
                    dwelling_id=d.pk,
                    kind="resurvey",
                    method="site",
                    surveyed_on=surveyed_on + timedelta(days=7),
                    ratio=f"{ratio + 9}.5",
                    requested_by="世帯主",
                    reason="内部の損傷を追加で確認",
                )
        services.programme_define(
            disaster_id=disaster.pk,
            code="gienkin-1",
            name="義援金（第1次配分）",
            kind="donation",
            config={
                "unit": "household",
                "amounts": {
                    "全壊": 350000,
                    "大規模半壊": 180000,
                    "中規模半壊": 180000,
                    "半壊": 180000,
                    "準半壊": 50000,
                },
            },
            order=30,
        )
        services.programme_define(
            disaster_id=disaster.pk,
            code="own-1",
            name="町独自の住宅再建支援金",
            kind="own",
            config={
                "unit": "household",
                "amounts": {"全壊": 300000, "大規模半壊": 200000, "中規模半壊": 100000},
                "single_factor": "3/4",
            },
            order=40,
        )
        shelter = services.shelter_open(
            disaster_id=disaster.pk,
            name="町立小学校体育館",
            address=f"{towns[0]}1番地",
            capacity=120,
            opened_on=occurred,
        )
        services.shelter_open(
            disaster_id=disaster.pk,
            name="地区集会所",
            address=f"{towns[-1]}3番地",
            capacity=30,
            opened_on=occurred,
        )
        arrived = timezone.now() - timedelta(days=39)
        victims = list(Victim.objects.filter(disaster=disaster).order_by("id"))
        for v in victims[: max(1, len(victims) // 6)]:
            stay = services.shelter_check_in(
                shelter_id=shelter.pk, victim_id=v.pk, at=arrived, consent=rng.random() < 0.5
            )
            if rng.random() < 0.5:
                services.shelter_check_out(
                    stay_id=stay.pk,
                    destination="自宅（片付け後）",
                    at=arrived + timedelta(days=rng.randint(1, 20)),
                )
        for v in victims[len(victims) // 6 : len(victims) // 3]:
            services.safety_set(victim_id=v.pk, safety="safe")
        basic = Programme.objects.get(disaster=disaster, code="support_basic")
        decided_on = occurred + timedelta(days=25)
        for h in VictimHousehold.objects.filter(
            disaster=disaster, dwelling__level__in=["total", "large_half"]
        ).order_by("number")[:4]:
            a = services.application_submit(
                programme_id=basic.pk,
                household_id=h.pk,
                applied_on=occurred + timedelta(days=15),
                bank_code="0001",
                branch_code="001",
                account_type="1",
                account_number=f"{1000000 + h.number}",
                account_holder_kana="ﾃﾞﾓ ﾀﾛｳ",
            )
            if h.number % 2:
                services.application_decide(
                    application_id=a.pk, approve=True, decided_on=decided_on
                )
    return True
