"""Export → import into an empty deployment → export reproduces the files byte for byte."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moyai.exchange.selectors import export_tenant
from moyai.exchange.services import import_tenant
from moyai.platform.models import Counter, Municipality
from moyai.platform.tenancy import tenant_context
from moyai.registry import selectors, services
from moyai.registry.models import Movement, Person, ResidentRecord
from moyai.registry.rules import FuzzyDate
from moyai.registry.services import Address, NewPerson, Notification

KANJI = "山田中川本髙﨑𠮷辺邉葛辻花子太郎一美"
IVS = ["", "\U000e0102", "\U000e0103"]

names = st.builds(
    lambda a, b, v: a + v + b, st.sampled_from(KANJI), st.sampled_from(KANJI), st.sampled_from(IVS)
)
kana = st.text(
    alphabet="アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン",
    min_size=1,
    max_size=6,
)
births = st.one_of(
    st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)).map(FuzzyDate.of),
    st.integers(min_value=1920, max_value=2000).map(
        lambda y: FuzzyDate(f"{y}-01-01", True, f"{y}年頃")
    ),
)
member = st.tuples(names, names, kana, births, st.sampled_from(["1", "2"]))


def files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def wipe_registry(town: Municipality) -> None:
    """An empty deployment for ``town`` (its registry tables emptied)."""
    with tenant_context(town):
        Movement.objects.update(cancels=None, cancelled_by=None)
        ResidentRecord.objects.all().delete()
        Movement.objects.all().delete()
        Person.objects.all().delete()
        Counter.objects.filter(name__startswith="registry.").delete()


def build(town: Municipality, households: list[list[tuple]], my_number: bool) -> None:
    with tenant_context(town):
        results = []
        for i, members in enumerate(households):
            people = [
                NewPerson(
                    family_name=f,
                    given_name=g,
                    name_kana=k,
                    birth=b,
                    sex=s,
                    relation="世帯主" if j == 0 else "子",
                    my_number="621498320257" if my_number and i == 0 and j == 0 else "",
                )
                for j, (f, g, k, b, s) in enumerate(members)
            ]
            results.append(
                services.move_in(
                    notification=Notification(FuzzyDate("2021-04-01"), date(2021, 4, 2)),
                    previous_address="東京都",
                    address=Address(town=f"一色{i}", block="1番地"),
                    members=people,
                )
            )
        first = results[0]
        services.relocation(
            notification=Notification(FuzzyDate("2022-01-10"), date(2022, 1, 11)),
            person_ids=[r.person_id for r in first.records],
            address=Address(town="堀内"),
        )
        last = results[-1]
        moved = services.move_out(
            notification=Notification(FuzzyDate("2023-03-01"), date(2023, 2, 20)),
            person_ids=[r.person_id for r in last.records],
            destination="横浜市",
        )
        if len(results) > 1:
            services.cancel_movement(movement_number=moved.movement.number, reason="誤り")


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    households=st.lists(st.lists(member, min_size=1, max_size=3), min_size=1, max_size=4),
    my_number=st.booleans(),
)
def test_round_trip_is_byte_identical(town_a, in_town, households, my_number) -> None:
    with in_town(town_a), transaction.atomic():
        build(town_a, households, my_number)
        tmp = Path(tempfile.mkdtemp())
        try:
            first = export_tenant(
                municipality=town_a, directory=tmp / "1", with_my_number=my_number, purpose="試験"
            )
            wipe_registry(town_a)
            report = import_tenant(
                municipality=town_a, directory=tmp / "1", dry_run=False, purpose="試験"
            )
            assert report.ok, report.problems[:5]
            assert report.imported_counts == report.source_counts
            export_tenant(
                municipality=town_a, directory=tmp / "2", with_my_number=my_number, purpose="試験"
            )
            assert files(tmp / "1") == files(tmp / "2")
            assert first.manifest["files"]
            if my_number:
                with tenant_context(town_a):
                    found = selectors.person_by_my_number(my_number="621498320257", purpose="試験")
                assert found is not None
        finally:
            shutil.rmtree(tmp)
        transaction.set_rollback(True)


def test_numbering_continues_after_an_import(town_a, in_town, tmp_path) -> None:
    with in_town(town_a):
        build(town_a, [[("山", "田", "ヤマダ", FuzzyDate("1980-01-01"), "1")]], False)
        export_tenant(
            municipality=town_a, directory=tmp_path / "x", with_my_number=False, purpose="試験"
        )
        wipe_registry(town_a)
        import_tenant(municipality=town_a, directory=tmp_path / "x", dry_run=False, purpose="試験")
        before = set(Person.objects.values_list("address_number", flat=True))
        result = services.move_in(
            notification=Notification(FuzzyDate("2024-01-01"), date(2024, 1, 2)),
            previous_address="東京都",
            address=Address(town="一色"),
            members=[
                NewPerson(
                    family_name="川",
                    given_name="子",
                    name_kana="カワ",
                    birth=FuzzyDate("1990-01-01"),
                    sex="2",
                    relation="世帯主",
                )
            ],
        )
        assert result.records[0].person.address_number not in before
        assert result.movement.number == Movement.objects.count()
