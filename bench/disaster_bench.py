"""被災者台帳 benchmark: building the ledger of a flood over about 20 % of the addresses of a
municipality, against a bare read of the same rows in the same run.

    .venv/bin/python bench/disaster_bench.py --db postgres --persons 300000
    .venv/bin/python bench/disaster_bench.py --db sqlite   --persons 30000

The script creates a fresh database (PostgreSQL: drops and re-creates ``moyai_bench_disaster``;
SQLite: a temporary file), migrates it, creates 143014 葉山町 and loads, as the owner of the
tables, ``bulk_population`` (six 町字) and a 固定資産課税台帳 of 家屋 (a 居宅 for about half of
the households, owned by the head as a 税務宛名 linked to 住民記録, plus one house in every 50 owned
by a 住登外者). The flood covers the whole of 一色 and the 番地 10…–15… of 堀内 (about 20 % of the
addresses). On PostgreSQL the measurements run as the application role, under row-level
security.

Measured, in this order, on the same database:

* ``bare_read``: the reads the build makes and nothing else — the as-of snapshot of the
  住民記録 rows in the area (same query, same columns), the 家屋 of the area with their owners and
  the 個人住民税 facts of those persons — materialised in Python;
* ``build``: ``services.ledger_build`` (reads above + 住家・被災世帯・被災者 built in Python and
  written with multi-row INSERTs in batches of 2,000, one audit row and one event), one
  transaction;
* ``refresh``: ``services.ledger_refresh`` over the whole ledger with no 異動 (reads every
  被災者's current 住民票 and finds nothing to write).

``ratio`` = seconds ÷ ``bare_read`` seconds. One JSON object per measurement goes to stdout;
progress to stderr. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import registry_bench as rb

FLOOD_ON = date(2026, 10, 10)
TOWNS = ["一色"]
ADDRESSES = [f"堀内 {n}" for n in range(10, 16)]


def log(message: str) -> None:
    rb.log(message)


def load_houses(town: Any, seed: int, batch: int) -> dict[str, int]:
    """A 居宅 for about half of the households (owned by the head), one in 50 by a 住登外者."""
    from moyai.platform.tenancy import tenant_context
    from moyai.registry.models import ResidentRecord
    from moyai.tax.addressees.models import Addressee
    from moyai.tax.property.models import Building

    rng = random.Random(seed)
    made = {"owners": 0, "buildings": 0, "owners_elsewhere": 0}
    with tenant_context(town):
        heads = list(
            ResidentRecord.objects.filter(is_latest=True, is_head=True)
            .values_list("person_id", "name", "name_kana", "address_town", "address_block")
            .order_by("person_id")
        )
    chosen = [h for h in heads if rng.random() < 0.5]
    for start in range(0, len(chosen), batch):
        part = chosen[start : start + batch]
        with tenant_context(town):
            owners = Addressee.objects.bulk_create(
                Addressee(
                    municipality_id=town.id,
                    number=f"R{start + i + 1:09d}",
                    kind="resident",
                    person_id=pid,
                    name=name,
                    kana=kana,
                    address=f"神奈川県葉山町{t}{b}",
                    created_by="bench",
                )
                for i, (pid, name, kana, t, b) in enumerate(part)
            )
            houses = []
            for owner, (_, _, _, t, b) in zip(owners, part, strict=True):
                k = int(owner.number[1:])
                houses.append(
                    Building(
                        municipality_id=town.id,
                        owner_id=owner.pk,
                        location=t,
                        house_number=f"{b}-{k}",
                        house_kind="居宅",
                        structure="木造",
                        floor_area=rng.randint(70, 160) * 100,
                        assessed_value=rng.randint(2, 12) * 1_000_000,
                        built_year=rng.randint(1975, 2025),
                        valid_from=2026,
                        change="new",
                        changed_on=date(2025, 10, 1),
                        created_by="bench",
                    )
                )
                if k % 50 == 0:
                    other = Addressee.objects.create(
                        municipality_id=town.id,
                        number=f"N{k:09d}",
                        kind="non_resident",
                        name=f"所有者　{k}",
                        kana=f"ショユウシャ　{k}",
                        address="東京都千代田区架空町1",
                        created_by="bench",
                    )
                    houses.append(
                        Building(
                            municipality_id=town.id,
                            owner_id=other.pk,
                            location=t,
                            house_number=f"貸家{k}",
                            house_kind="居宅",
                            structure="木造",
                            floor_area=8000,
                            assessed_value=3_000_000,
                            built_year=1990,
                            valid_from=2026,
                            change="new",
                            changed_on=date(2025, 10, 1),
                            created_by="bench",
                        )
                    )
                    made["owners_elsewhere"] += 1
            Building.objects.bulk_create(houses, batch_size=2000)
        made["owners"] += len(owners)
        made["buildings"] += len(houses)
    return made


def bare_read(town: Any, disaster_id: int) -> tuple[float, int]:
    """The reads of the build, materialised, and nothing else."""
    from moyai.disaster import services
    from moyai.disaster.models import Disaster
    from moyai.platform.tenancy import tenant_context
    from moyai.registry.selectors import residents_as_of

    start = time.perf_counter()
    with tenant_context(town):
        disaster = Disaster.objects.get(pk=disaster_id)
        rows = list(
            residents_as_of(on=disaster.baseline_on, purpose="bench: bare read")
            .filter(services._area_filter(disaster))
            .values_list(*services._RECORD_FIELDS)
        )
        taxes = services._tax_facts([r[0] for r in rows], services.fiscal_year_of(FLOOD_ON))
        houses = services._buildings(services._affected_towns(disaster), FLOOD_ON.year)
    seconds = time.perf_counter() - start
    log(
        f"bare read: {len(rows):,} persons, {len(houses):,} houses, {len(taxes)} taxes "
        f"in {seconds:.1f}s"
    )
    return seconds, len(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--persons", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument(
        "--pg-url", default="postgres://postgres@127.0.0.1:5432/moyai_bench_disaster"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    url, remove = rb.prepare_database(args.db, args.pg_url, None, False)
    rb.configure_django(url)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from moyai.disaster import services
    from moyai.disaster.models import Victim, VictimHousehold
    from moyai.platform.audit import Actor, acting_as
    from moyai.platform.services import municipality_create
    from moyai.platform.tenancy import tenant_context
    from moyai.registry.models import ResidentRecord

    bench = rb.Bench(args.db)
    try:
        call_command("migrate", verbosity=0, interactive=False)
        with acting_as(Actor(username="bench:disaster", channel="cli")):
            town = municipality_create(code=rb.TOWN_CODE, name=rb.TOWN_NAME)
        log(f"loading {args.persons:,} persons ...")
        load = rb.load_population(town, args.persons, args.seed, args.batch)
        start = time.perf_counter()
        houses = load_houses(town, args.seed, args.batch)
        log(f"  {houses['buildings']:,} 家屋 in {time.perf_counter() - start:.0f}s")
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                for table in (
                    "registry_residentrecord",
                    "registry_person",
                    "tax_addressees_addressee",
                    "property_tax_building",
                ):
                    cur.execute(f"VACUUM (ANALYZE) {table}")
            else:
                cur.execute("ANALYZE")
        rb.switch_to_app_role(connection.vendor, settings.DB_APP_ROLE, bench)
        actor = Actor(username="bench:disaster", channel="cli", municipality_code=town.code)
        with acting_as(actor):
            with tenant_context(town):
                total = ResidentRecord.objects.filter(is_latest=True, status="1").count()
                disaster = services.disaster_register(
                    code="BENCH-1",
                    name="ベンチマーク豪雨",
                    kind="豪雨",
                    occurred_on=FLOOD_ON,
                    towns=TOWNS,
                    addresses=ADDRESSES,
                    support_act_on=FLOOD_ON,
                )
            results: dict[str, float] = {}
            results["bare_read"], persons = bare_read(town, disaster.pk)
            start = time.perf_counter()
            with tenant_context(town):
                built = services.ledger_build(disaster_id=disaster.pk)
            results["build"] = time.perf_counter() - start
            log(f"build: {built} in {results['build']:.1f}s")
            start = time.perf_counter()
            with tenant_context(town):
                refreshed = services.ledger_refresh(disaster_id=disaster.pk)
            results["refresh"] = time.perf_counter() - start
            log(f"refresh: {refreshed} in {results['refresh']:.1f}s")
            with tenant_context(town):
                assert Victim.objects.count() == built.victims == persons
                assert VictimHousehold.objects.count() == built.households
        base = results["bare_read"]
        meta = {
            "db": args.db,
            "server": bench.meta.get("server", ""),
            "persons_loaded": total,
            "affected_persons": built.victims,
            "affected_share": round(built.victims / total, 3) if total else 0,
            "households": built.households,
            "dwellings": built.dwellings,
            "houses_loaded": houses["buildings"],
            "owners_elsewhere": built.owners_elsewhere,
            "load_seconds": load["load_seconds"],
        }
        for name, seconds in results.items():
            print(
                json.dumps(
                    {
                        "measurement": name,
                        "seconds": round(seconds, 2),
                        "ratio": round(seconds / base, 2) if base else None,
                        **meta,
                    },
                    ensure_ascii=False,
                )
            )
    finally:
        connection.close()
        if not args.keep:
            remove()


if __name__ == "__main__":
    main()
