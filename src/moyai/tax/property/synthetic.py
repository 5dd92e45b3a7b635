"""A synthetic 固定資産課税台帳 for demo municipalities, tests and benchmarks.

For about half of the households living in the municipality on the 賦課期日: the 宅地 under
their house (小規模住宅用地 up to 200㎡) and the 居宅 on it, some also a 田 or 畑; one household
pair shares a parcel (共有 1/2 each); a few 住登外 owners (people who moved away or inherited
land) and one 法人 with a shop, its land and a 償却資産 申告. Everything is invented; only the
owners come from the (synthetic) registry. Written through the services (validated and audited
like a clerk's entries).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from moyai.platform.rules import corporate_number_check_digit
from moyai.registry.selectors import residents_as_of
from moyai.tax.addressees import services as addressees
from moyai.tax.property import services

_KINDS = ("居宅", "居宅", "居宅", "共同住宅")
_STRUCTURES = ("木造", "木造", "軽量鉄骨造", "鉄骨造")


@dataclass
class LedgerSeed:
    owners: int = 0
    parcels: int = 0
    buildings: int = 0
    declarations: int = 0


def _lot(rng: random.Random, used: set[str]) -> str:
    while True:
        lot = f"{rng.randint(1, 3999)}-{rng.randint(1, 30)}"
        if lot not in used:
            used.add(lot)
            return lot


def _corporate_number(rng: random.Random) -> str:
    twelve = "".join(str(rng.randint(0, 9)) for _ in range(12))
    return f"{corporate_number_check_digit(twelve)}{twelve}"


def seed_ledger(*, fiscal_year: int, seed: int = 1, share: float = 0.5) -> LedgerSeed:
    """Register a synthetic ledger in the current tenant, in force from ``fiscal_year``
    (changes dated 1 October of the year before)."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    on = date(fiscal_year - 1, 10, 1)
    result = LedgerSeed()
    heads = [
        r
        for r in residents_as_of(
            on=date(fiscal_year - 1, 1, 1), purpose="固定資産税の架空の課税台帳の作成"
        )
        if r.is_head
    ]
    used: set[str] = set()
    chosen = [r for r in heads if rng.random() < share]
    for record in chosen:
        owner = addressees.addressee_for_resident(person_id=record.person_id)
        result.owners += 1
        location = record.address_town or "中央"
        area = rng.randint(120, 330)
        small = min(area, 200)
        floor = rng.randint(70, 160)
        services.parcel_register(
            owner_id=owner.pk,
            facts=services.ParcelFacts(
                location=location,
                lot_number=_lot(rng, used),
                land_use="宅地",
                area_m2=str(area),
                assessed_value=area * rng.randint(40, 120) * 1000,
                small_residential_m2=str(small),
                general_residential_m2=str(area - small),
            ),
            changed_on=on,
        )
        built = rng.randint(1975, fiscal_year - 1)
        services.building_register(
            owner_id=owner.pk,
            facts=services.BuildingFacts(
                location=location,
                house_number=f"{rng.randint(1, 3999)}番{rng.randint(1, 30)}",
                house_kind=rng.choice(_KINDS),
                structure=rng.choice(_STRUCTURES),
                floor_area_m2=str(floor),
                assessed_value=floor * rng.randint(30, 110) * 1000,
                built_year=built,
                completed_on=date(built, rng.randint(1, 12), 15)
                if built >= fiscal_year - 3
                else None,
            ),
            changed_on=on,
        )
        result.parcels += 1
        result.buildings += 1
        if rng.random() < 0.2:
            farm = rng.randint(300, 1500)
            services.parcel_register(
                owner_id=owner.pk,
                facts=services.ParcelFacts(
                    location=location,
                    lot_number=_lot(rng, used),
                    land_use=rng.choice(["田", "畑"]),
                    area_m2=str(farm),
                    assessed_value=farm * rng.randint(50, 150),
                ),
                changed_on=on,
            )
            result.parcels += 1
    # 共有: two households share a 雑種地 (1/2 each).
    if len(chosen) >= 2:
        a = addressees.addressee_for_resident(person_id=chosen[0].person_id)
        b = addressees.addressee_for_resident(person_id=chosen[1].person_id)
        group = addressees.co_owners_register(
            members=[addressees.Share(a.pk, "1/2"), addressees.Share(b.pk, "1/2")],
            representative_id=a.pk,
        )
        services.parcel_register(
            owner_id=group.pk,
            facts=services.ParcelFacts(
                location="山ノ下",
                lot_number=_lot(rng, used),
                land_use="雑種地",
                area_m2="450",
                assessed_value=9_000_000,
            ),
            changed_on=on,
        )
        result.owners += 1
        result.parcels += 1
    # 住登外: owners living elsewhere.
    for i, (name, kana) in enumerate(
        [
            ("架空　一郎", "カクウ　イチロウ"),
            ("仮名　花子", "カメイ　ハナコ"),
            ("見本　次郎", "ミホン　ジロウ"),
        ]
    ):
        owner = addressees.addressee_register_non_resident(
            name=name,
            kana=kana,
            birth_date=f"19{50 + i * 7}-0{i + 3}-1{i}",
            address=f"東京都千代田区架空町{i + 1}丁目{i + 2}番地",
        )
        area = rng.randint(150, 600)
        services.parcel_register(
            owner_id=owner.pk,
            facts=services.ParcelFacts(
                location="堀内",
                lot_number=_lot(rng, used),
                land_use=rng.choice(["宅地", "山林", "畑"]),
                area_m2=str(area),
                assessed_value=area * rng.randint(5, 60) * 1000,
            ),
            changed_on=on,
        )
        result.owners += 1
        result.parcels += 1
    # 法人: a shop with its land and 償却資産.
    corp = addressees.addressee_register_corporation(
        corporate_number=_corporate_number(rng),
        name="株式会社架空商事",
        kana="カクウショウジ",
        address="神奈川県三浦郡葉山町一色1番地",
    )
    services.parcel_register(
        owner_id=corp.pk,
        facts=services.ParcelFacts(
            location="一色",
            lot_number=_lot(rng, used),
            land_use="宅地",
            area_m2="820",
            assessed_value=98_000_000,
        ),
        changed_on=on,
    )
    services.building_register(
        owner_id=corp.pk,
        facts=services.BuildingFacts(
            location="一色",
            house_number="1番1",
            house_kind="店舗",
            structure="鉄骨造",
            floor_area_m2="640",
            assessed_value=72_000_000,
            built_year=2008,
        ),
        changed_on=on,
    )
    services.assets_declare(
        owner_id=corp.pk,
        fiscal_year=fiscal_year,
        declared_base=12_400_000,
        declared_on=date(fiscal_year, 1, 31),
    )
    result.owners += 1
    result.parcels += 1
    result.buildings += 1
    result.declarations += 1
    return result
