from __future__ import annotations

from collections import defaultdict
from datetime import date

from moyai.moji.rules import is_katakana
from moyai.registry.models import ResidentRecord
from moyai.registry.rules import Member, household_problems, parse_relation
from moyai.registry.synthetic import IVS, Generator, bulk_population, seed_population


def test_generated_households_are_plausible() -> None:
    gen = Generator(7, "143014", date(2026, 11, 1))
    specs = [gen.household() for _ in range(600)]
    people = [p for s in specs for p in s.members]
    assert any(p.kind == "2" for p in people), "some 外国人住民"
    assert any(IVS in p.family_name for p in people), "some names with IVS"
    for s in specs:
        codes = [parse_relation(p.relation) for p in s.members]
        assert codes.count(["02"]) == 1
        assert all(is_katakana(p.name_kana) for p in s.members)
        youngest = max(date.fromisoformat(p.birth.iso) for p in s.members)
        assert youngest < s.moved_in <= date(2026, 11, 1)
        for p in s.members:
            if p.relation == "子":
                head = s.members[0]
                assert p.birth.iso > head.birth.iso


def test_seed_population_goes_through_the_services(town_a, in_town) -> None:
    with in_town(town_a):
        created = seed_population(town_a, persons=40, seed=3)
        assert created >= 40
        assert ResidentRecord.objects.filter(is_latest=True).count() >= 40
        # Running again does nothing (the demo is idempotent).
        assert seed_population(town_a, persons=40, seed=3) == 0


def test_bulk_population_is_consistent(town_a, in_town) -> None:
    with in_town(town_a):
        created = bulk_population(town_a, persons=120, batch=50)
        rows = list(ResidentRecord.objects.select_related("person").filter(is_latest=True))
    assert created == len(rows) >= 120
    households = defaultdict(list)
    for r in rows:
        households[r.household_number].append(
            Member(r.person_id, r.is_head, tuple(r.relation_codes))
        )
    assert all(household_problems(m) == [] for m in households.values())
    assert len({r.person.address_number for r in rows}) == len(rows)
