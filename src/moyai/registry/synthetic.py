"""Synthetic population for demos and benchmarks. Every person here is invented.

Households get plausible ages and 続柄 (single people, couples, families with children, three
generations), readings from Faker's ja_JP name pairs, a share of 外国人住民, and some names with
外字-like variants (IVS such as 葛󠄀 and 辻󠄀, and 髙, 﨑, 𠮷) so that every screen and document meets
them. :func:`seed_population` goes through the real 異動 services (so the demo has history and
audit); :func:`bulk_population` writes rows directly for million-person benchmarks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from faker import Faker

from moyai.platform.models import Municipality
from moyai.platform.services import counter_next
from moyai.platform.tenancy import tenant_context
from moyai.registry import services
from moyai.registry.models import Movement, Person, ResidentRecord, ResidentStatus
from moyai.registry.rules import (
    FuzzyDate,
    MovementKind,
    parse_relation,
    resident_code_check_digit,
    with_m11,
)
from moyai.registry.services import Address, NewPerson, Notification

IVS = "\U000e0102"  # Moji_Joho collection (IPAmj明朝 prints it); E0100 is Adobe-Japan1
VARIANT_SURNAMES = [
    ("葛" + IVS + "西", "カサイ"),
    ("辻" + IVS + "本", "ツジモト"),
    ("髙橋", "タカハシ"),
    ("山﨑", "ヤマザキ"),
    ("𠮷田", "ヨシダ"),
    ("渡邉", "ワタナベ"),
    ("齋藤", "サイトウ"),
    ("葛" + IVS + "城", "カツラギ"),
]
FOREIGN = [
    ("SMITH", "JOHN", "スミス", "ジョン", "アメリカ合衆国"),
    ("NGUYEN", "VAN AN", "グエン", "ヴァン　アン", "ベトナム"),
    ("WANG", "FANG", "ワン", "ファン", "中国"),
    ("SANTOS", "MARIA", "サントス", "マリア", "ブラジル"),
    ("KIM", "MINJUN", "キム", "ミンジュン", "韓国"),
    ("SILVA", "ANA", "シルバ", "アナ", "フィリピン"),
]
TOWNS: dict[str, list[tuple[str, str, str]]] = {
    # 町字, 町字コード (synthetic), 郵便番号
    "143014": [
        ("一色", "0010001", "2400111"),
        ("堀内", "0020001", "2400112"),
        ("長柄", "0030001", "2400113"),
        ("下山口", "0040001", "2400197"),
        ("上山口", "0050001", "2400116"),
        ("木古庭", "0060001", "2400115"),
    ],
    "143219": [
        ("宮山", "0010001", "2530106"),
        ("岡田", "0020001", "2530105"),
        ("一之宮", "0030001", "2530111"),
        ("倉見", "0040001", "2530101"),
        ("田端", "0050001", "2530103"),
    ],
    "143413": [
        ("大磯", "0010001", "2550003"),
        ("東小磯", "0020001", "2550004"),
        ("西小磯", "0030001", "2550005"),
        ("国府本郷", "0040001", "2590111"),
        ("高麗", "0050001", "2550002"),
    ],
}
DEFAULT_TOWNS = [("中央", "0010001", ""), ("本町", "0020001", ""), ("新町", "0030001", "")]


@dataclass(frozen=True)
class HouseholdSpec:
    members: list[NewPerson]
    address: Address
    moved_in: date
    previous_address: str


class Generator:
    """Deterministic (seeded) households of plausible shape."""

    def __init__(self, seed: int, code: str, today: date) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
        self.faker = Faker("ja_JP")
        self.faker.seed_instance(seed)
        self.towns = TOWNS.get(code, DEFAULT_TOWNS)
        self.today = today
        self._codes: set[str] = set()

    def _resident_code(self) -> str:
        """A well-formed 住民票コード, never repeated within this generator."""
        while True:
            ten = f"{self.rng.randrange(10**10):010d}"
            code = ten + str(resident_code_check_digit(ten))
            if code not in self._codes:
                self._codes.add(code)
                return code

    def _birth(self, age: int) -> date:
        return self.today - timedelta(days=age * 365 + self.rng.randrange(365))

    def _surname(self) -> tuple[str, str]:
        if self.rng.random() < 0.06:
            return self.rng.choice(VARIANT_SURNAMES)
        kanji, kana, _ = self.faker.last_name_pair()
        return kanji, kana

    def _given(self, sex: str) -> tuple[str, str]:
        pair = (
            self.faker.first_name_male_pair() if sex == "1" else self.faker.first_name_female_pair()
        )
        return pair[0], pair[1]

    def _japanese(
        self, surname: tuple[str, str], sex: str, age: int, relation: str, domicile: str, head: str
    ) -> NewPerson:
        given = self._given(sex)
        return NewPerson(
            family_name=surname[0],
            given_name=given[0],
            name_kana=f"{surname[1]}　{given[1]}",
            kana_confirmed=self.rng.random() < 0.8,
            birth=FuzzyDate.of(self._birth(age)),
            sex=sex,
            relation=relation,
            domicile=domicile,
            domicile_head=head,
            resident_code=self._resident_code(),
        )

    def household(self) -> HouseholdSpec:
        town, town_code, postal = self.rng.choice(self.towns)
        address = Address(
            town=town,
            block=f"{self.rng.randint(1, 2999)}番地",
            building=(
                f"{self.faker.last_name()}ハイツ{self.rng.randint(1, 3)}0{self.rng.randint(1, 8)}"
            )
            if self.rng.random() < 0.25
            else "",
            town_code=town_code,
            postal_code=postal,
        )
        moved_in = self.today - timedelta(days=self.rng.randint(30, 365 * 30))
        previous = self.rng.choice(
            [
                "東京都世田谷区",
                "横浜市港北区",
                "川崎市中原区",
                "藤沢市",
                "鎌倉市",
                "大阪市北区",
                "札幌市中央区",
            ]
        )
        if self.rng.random() < 0.03:
            return self._foreign(address, moved_in)
        surname = self._surname()
        domicile = self.rng.choice(
            [
                "神奈川県三浦郡葉山町一色1番地",
                "東京都千代田区千代田1番",
                "神奈川県横浜市中区本町1丁目1番地",
            ]
        )
        shape = self.rng.random()
        head_age = self.rng.randint(22, 85)
        members: list[NewPerson] = []
        head_sex = "1" if self.rng.random() < 0.7 else "2"
        head = self._japanese(surname, head_sex, head_age, "世帯主", domicile, "")
        head_name = f"{head.family_name}　{head.given_name}"
        members.append(head)
        if shape > 0.3 and head_age > 24:
            spouse_sex = "2" if head_sex == "1" else "1"
            members.append(
                self._japanese(
                    surname,
                    spouse_sex,
                    max(20, head_age + self.rng.randint(-5, 5)),
                    "妻" if head_sex == "1" else "夫",
                    domicile,
                    head_name,
                )
            )
            if shape > 0.5 and 25 < head_age < 70:
                for _ in range(self.rng.choice([1, 1, 2, 2, 3])):
                    child_age = self.rng.randint(0, min(30, head_age - 22))
                    members.append(
                        self._japanese(
                            surname, self.rng.choice("12"), child_age, "子", domicile, head_name
                        )
                    )
            if shape > 0.9 and head_age < 60:
                members.append(
                    self._japanese(surname, "2", head_age + 28, "母", domicile, head_name)
                )
        youngest = max(m.birth.iso for m in members)
        moved_in = min(self.today, max(moved_in, date.fromisoformat(youngest) + timedelta(days=1)))
        return HouseholdSpec(members, address, moved_in, previous)

    def _foreign(self, address: Address, moved_in: date) -> HouseholdSpec:
        family, given, fkana, gkana, country = self.rng.choice(FOREIGN)
        age = self.rng.randint(20, 60)
        person = NewPerson(
            family_name=family,
            given_name=given,
            name_kana=f"{fkana}　{gkana}",
            kana_confirmed=True,
            name_roman=f"{family} {given}",
            birth=FuzzyDate.of(self._birth(age)),
            sex=self.rng.choice("12"),
            relation="世帯主",
            kind="2",
            nationality=country,
            residence_status=self.rng.choice(
                ["永住者", "技術・人文知識・国際業務", "留学", "特定技能"]
            ),
            residence_period="3年",
            article_30_45="中長期在留者",
            residence_card_number=f"AB{self.rng.randint(10**7, 10**8 - 1)}CD",
            resident_code=self._resident_code(),
        )
        return HouseholdSpec([person], address, max(moved_in, date(2012, 7, 9)), country)


def seed_population(
    municipality: Municipality,
    *,
    persons: int,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Fill a municipality through the real 異動 services, with some later history
    (births, relocations, deaths). Returns the number of persons created. Idempotent per
    municipality: does nothing if it already has residents."""
    from django.utils import timezone

    today = timezone.localdate()
    gen = Generator(seed, municipality.code, today)
    with tenant_context(municipality):
        if Person.objects.exists():
            return 0
    created = 0
    households: list[str] = []
    while created < persons:
        spec = gen.household()
        with tenant_context(municipality):
            notified = min(today, spec.moved_in + timedelta(days=gen.rng.choice([3, 7, 10, 20])))
            result = services.move_in(
                notification=Notification(
                    FuzzyDate.of(spec.moved_in),
                    notified,
                    notifier_name=spec.members[0].family_name,
                    notifier_relation="本人",
                    counter="本庁",
                ),
                members=spec.members,
                address=spec.address,
                previous_address=spec.previous_address,
                from_abroad=spec.members[0].kind == "2",
            )
        created += len(result.records)
        households.append(result.records[0].household_number)
        if progress:
            progress(min(created, persons), persons)
    _add_history(municipality, gen, households, today)
    return created


def _add_history(
    municipality: Municipality, gen: Generator, households: list[str], today: date
) -> None:
    """A little life after moving in: 転居, 出生 and 死亡 in a few households."""
    rng = gen.rng
    for number in rng.sample(households, k=min(len(households), max(1, len(households) // 10))):
        with tenant_context(municipality):
            members = list(
                ResidentRecord.objects.filter(
                    household_number=number, is_latest=True, status=ResidentStatus.RESIDENT
                )
            )
            if not members:
                continue
            start = max(date.fromisoformat(m.effective_from) for m in members)
            if (today - start).days < 60:
                continue
            when = start + timedelta(days=rng.randint(30, (today - start).days - 1))
            kind = rng.choice(["relocation", "birth", "death"])
            n = Notification(FuzzyDate.of(when), when + timedelta(days=5), counter="本庁")
            town, code, postal = rng.choice(gen.towns)
            head = next(m for m in members if m.is_head)
            if kind == "relocation":
                services.relocation(
                    notification=n,
                    person_ids=[m.person_id for m in members],
                    address=Address(town, f"{rng.randint(1, 2999)}番地", "", code, postal),
                )
            elif kind == "birth" and len(members) >= 2:
                given = gen._given("2")
                services.birth(
                    notification=n,
                    household_number=number,
                    child=NewPerson(
                        family_name=head.family_name,
                        given_name=given[0],
                        name_kana=f"{head.name_kana.split('　')[0]}　{given[1]}",
                        birth=FuzzyDate.of(when),
                        sex="2",
                        relation="子" if head.relation_codes == ["02"] else "子の子",
                        kind=head.kind,
                        resident_code=gen._resident_code(),
                    ),
                )
            elif kind == "death" and len(members) == 1:
                services.death(notification=n, person_id=head.person_id)


def bulk_population(
    municipality: Municipality,
    *,
    persons: int,
    seed: int = 1,
    batch: int = 5000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write ``persons`` synthetic residents directly (one 転入 異動 per batch, no audit or
    events) — a benchmark fixture, not a way to register people."""
    from django.utils import timezone

    today = timezone.localdate()
    gen = Generator(seed, municipality.code, today)
    created = 0
    specs: Iterator[HouseholdSpec] = iter(gen.household, None)
    households = _numbers(municipality, "registry.household")
    address_numbers = _numbers(municipality, "registry.address_number")
    while created < persons:
        with tenant_context(municipality), transaction.atomic():
            movement = Movement.objects.create(
                number=counter_next(name="registry.movement"),
                kind=MovementKind.MOVE_IN.value,
                occurred_on="2000-01-01",
                staff_username="bench:bulk",
                note="ベンチマーク用の一括生成",
            )
            people: list[Person] = []
            rows: list[ResidentRecord] = []
            while len(people) < batch and created + len(people) < persons:
                spec = next(specs)
                hh = next(households)
                head_name = f"{spec.members[0].family_name}　{spec.members[0].given_name}"
                for order, p in enumerate(spec.members, start=1):
                    person = Person(
                        address_number=next(address_numbers),
                        resident_code=p.resident_code,
                        latest_seq=1,
                    )
                    people.append(person)
                    codes = parse_relation(p.relation)
                    name = f"{p.family_name}　{p.given_name}".strip("　")
                    rows.append(
                        ResidentRecord(
                            seq=1,
                            is_latest=True,
                            movement=movement,
                            effective_from=spec.moved_in.isoformat(),
                            status=ResidentStatus.RESIDENT,
                            kind=p.kind,
                            family_name=p.family_name,
                            given_name=p.given_name,
                            name=name,
                            name_kana=p.name_kana,
                            name_roman=p.name_roman,
                            **services._keys(name, p.name_kana, ""),
                            birth_date=p.birth.iso,
                            sex=p.sex,
                            household_number=hh,
                            is_head=codes == ["02"],
                            relation_codes=codes,
                            household_order=order,
                            head_name=head_name,
                            address_prefecture=municipality.prefecture,
                            address_city=municipality.name,
                            address_town=spec.address.town,
                            address_town_code=spec.address.town_code,
                            address_block=spec.address.block,
                            address_building=spec.address.building,
                            postal_code=spec.address.postal_code,
                            became_resident_on=spec.moved_in.isoformat(),
                            address_set_on=spec.moved_in.isoformat(),
                            previous_address=spec.previous_address,
                            nationality=p.nationality,
                            residence_status=p.residence_status,
                            article_30_45=p.article_30_45,
                        )
                    )
            for person in people:
                person.municipality_id = municipality.pk
            Person.objects.bulk_create(people)
            for person, row in zip(people, rows, strict=True):
                row.person = person
                row.municipality_id = municipality.pk
            ResidentRecord.objects.bulk_create(rows)
            created += len(people)
        if progress:
            progress(created, persons)
    return created


def _numbers(municipality: Municipality, counter: str, block: int = 1000) -> Iterator[str]:
    """宛名番号/世帯番号 reserved a block at a time (bases without a check digit skipped)."""
    while True:
        with tenant_context(municipality):
            first = counter_next(name=counter, count=block)
        for base in range(first, first + block):
            number = with_m11(base, services.NUMBER_WIDTH)
            if number is not None:
                yield number
