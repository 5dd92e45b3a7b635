"""固定資産税 benchmark: the 当初課税 of N 土地・家屋, against a bare read of the same rows.

    .venv/bin/python bench/property_bench.py --db postgres --items 500000
    .venv/bin/python bench/property_bench.py --db sqlite   --items 50000

The script creates a fresh database (PostgreSQL: drops and re-creates ``moyai_bench_property``;
SQLite: a temporary file), migrates it, creates 143014 葉山町 and writes, in bulk as the owner,
one 税務宛名 per owner (住登外者; the 住民記録 is not what is measured) and for each owner a 宅地
(小規模/一般住宅用地 portions, some with a 前年度課税標準額 for 負担調整) and a 家屋 (some new
enough for 新築住宅減額); every 10th owner also has a 田 or 畑. Items = 土地 + 家屋. On
PostgreSQL the measurements run as the application role, under row-level security.

Measured, in this order, on the same database:

* ``bare_read``: for each chunk of 2,000 owners (the ids in the order the run uses), exactly
  the reads of an assessment — the owners' 土地 and 家屋 in force on 1 January, their 償却資産
  申告 and current assessments — and nothing else;
* ``assess``: ``services.assessment_run`` (ledger rows → rules input JSON, ``assess_owner``
  with the full trace, digest, 4 期別 with due dates, bulk insert, one event and one audit row
  per chunk, one transaction per chunk);
* ``rerun``: the same run again: every owner unchanged, nothing written;
* with ``--workers N`` (default 2), ``assess_N_workers`` and ``rerun_N_workers``: the same two
  runs shared by N worker processes (``shard=(i, N)``, as ``moyai property assess --workers``),
  after the single-process assessments are deleted.

After loading, the ledger tables get ``VACUUM (ANALYZE)``; during the runs a thread
``ANALYZE``s the assessment table every 20 seconds (what autovacuum would do on a production
server; it is off on this one), as ``bench/tax_bench.py`` does.

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

YEAR = 2026
CHUNK = 2000


def log(message: str) -> None:
    rb.log(message)


def load_ledger(town: Any, items: int, seed: int, batch: int) -> dict[str, int]:
    """Owners, 土地 and 家屋 in bulk (as the owner of the tables), about ``items`` rows."""
    from moyai.platform.tenancy import tenant_context
    from moyai.tax.addressees.models import Addressee
    from moyai.tax.property.models import Building, Parcel

    rng = random.Random(seed)
    owners = max(1, items * 10 // 21)  # 2 rows per owner + a 農地 for every 10th
    made = {"owners": 0, "parcels": 0, "buildings": 0}
    on = date(YEAR - 1, 10, 1)
    with tenant_context(town):
        for start in range(0, owners, batch):
            n = min(batch, owners - start)
            people = Addressee.objects.bulk_create(
                Addressee(
                    municipality_id=town.id,
                    number=f"T{start + i + 1:09d}",
                    kind="non_resident",
                    name=f"所有者　{start + i + 1}",
                    kana=f"ショユウシャ　{start + i + 1}",
                    address="東京都千代田区架空町1",
                    created_by="bench",
                )
                for i in range(n)
            )
            parcels: list[Parcel] = []
            buildings: list[Building] = []
            for person in people:
                k = int(person.number[1:])
                area = rng.randint(120, 330) * 100
                small = min(area, 20_000)
                value = area // 100 * rng.randint(40, 120) * 1000
                prior = {}
                if rng.random() < 0.3:
                    prior = {"prior_residential_base": value // 6 * rng.randint(80, 100) // 100}
                common = {
                    "municipality_id": town.id,
                    "owner_id": person.pk,
                    "valid_from": YEAR,
                    "change": "new",
                    "changed_on": on,
                    "created_by": "bench",
                }
                parcels.append(
                    Parcel(
                        location=f"町{k % 97}",
                        lot_number=f"{k}-1",
                        land_use="宅地",
                        area=area,
                        assessed_value=value,
                        small_residential_area=small,
                        general_residential_area=area - small,
                        prior=prior,
                        **common,
                    )
                )
                if k % 10 == 0:
                    farm = rng.randint(300, 1500) * 100
                    parcels.append(
                        Parcel(
                            location=f"町{k % 97}",
                            lot_number=f"{k}-2",
                            land_use=rng.choice(["田", "畑"]),
                            area=farm,
                            assessed_value=farm // 100 * rng.randint(50, 150),
                            **common,
                        )
                    )
                floor = rng.randint(70, 160) * 100
                built = rng.randint(1975, YEAR - 1)
                buildings.append(
                    Building(
                        location=f"町{k % 97}",
                        house_number=f"{k}番",
                        house_kind="居宅",
                        structure="木造",
                        floor_area=floor,
                        assessed_value=floor // 100 * rng.randint(30, 110) * 1000,
                        built_year=built,
                        completed_on=date(built, 6, 30) if built >= YEAR - 3 else None,
                        **common,
                    )
                )
            Parcel.objects.bulk_create(parcels, batch_size=2000)
            Building.objects.bulk_create(buildings, batch_size=2000)
            made["owners"] += len(people)
            made["parcels"] += len(parcels)
            made["buildings"] += len(buildings)
            if (start // batch) % 20 == 0:
                log(f"  {made['owners']:,} owners / {owners:,}")
    return made


def bare_read(town: Any, owners: list[int]) -> float:
    """The reads of an assessment, chunk by chunk, and nothing else."""
    from moyai.platform.tenancy import tenant_context
    from moyai.tax.property.models import (
        AssetDeclaration,
        Building,
        Parcel,
        PropertyTaxAssessment,
    )
    from moyai.tax.property.services import as_of

    start = time.perf_counter()
    rows = 0
    for i in range(0, len(owners), CHUNK):
        ids = owners[i : i + CHUNK]
        with tenant_context(town):
            rows += len(list(Parcel.objects.filter(as_of(YEAR), owner_id__in=ids).order_by("id")))
            rows += len(list(Building.objects.filter(as_of(YEAR), owner_id__in=ids).order_by("id")))
            rows += len(
                list(
                    AssetDeclaration.objects.filter(
                        fiscal_year=YEAR, is_current=True, owner_id__in=ids
                    )
                )
            )
            rows += len(
                list(
                    PropertyTaxAssessment.objects.filter(
                        fiscal_year=YEAR, owner_id__in=ids, is_current=True
                    ).only("id", "owner_id", "seq", "digest", "installments")
                )
            )
    seconds = time.perf_counter() - start
    log(f"bare read: {rows:,} rows in {seconds:.1f}s")
    return seconds


class Analyzer:
    """What autovacuum does on a production server (it is off on this one): ``ANALYZE`` the
    assessment table every ``every`` seconds while runs write into it, as the owner on a
    connection of its own (as in ``bench/tax_bench.py``)."""

    def __init__(self, url: str, table: str, every: float = 20.0) -> None:
        import threading

        self.url = url.replace("postgres://", "postgresql://", 1)
        self.table = table
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.runs = 0

    def _run(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(self.every):
                conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(self.table)))
                self.runs += 1

    def __enter__(self) -> Analyzer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _shard(code: str, index: int, count: int, initial: bool) -> int:
    from moyai.platform.audit import Actor, acting_as
    from moyai.platform.models import Municipality
    from moyai.tax.property.services import assessment_run

    town = Municipality.objects.get(code=code)
    with acting_as(Actor(username="bench:property", channel="cli", municipality_code=code)):
        result = assessment_run(
            municipality=town,
            fiscal_year=YEAR,
            chunk_size=CHUNK,
            shard=(index, count),
            initial=initial,
        )
    return result.written


def parallel_run(code: str, workers: int) -> int:
    """The run shared by worker processes (spawned, each with its own connection), as
    ``--workers`` runs it."""
    from moyai.platform.management.processes import run_in_processes
    from moyai.platform.models import Municipality
    from moyai.platform.tenancy import tenant_context
    from moyai.tax.property.models import PropertyTaxAssessment

    with tenant_context(Municipality.objects.get(code=code)):
        initial = not PropertyTaxAssessment.objects.filter(fiscal_year=YEAR).exists()
    written = run_in_processes(_shard, [(code, i, workers, initial) for i in range(workers)])
    return sum(written)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--items", type=int, default=500_000, help="土地 + 家屋 rows (about)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument(
        "--pg-url", default="postgres://postgres@127.0.0.1:5432/moyai_bench_property"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="also time the run shared by this many worker processes (as `moyai property "
        "assess --workers`); the single-process runs come first",
    )
    args = parser.parse_args(argv)

    url, remove = rb.prepare_database(args.db, args.pg_url, None, False)
    rb.configure_django(url)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from moyai.platform.audit import Actor, acting_as
    from moyai.platform.services import municipality_create
    from moyai.platform.tenancy import tenant_context
    from moyai.tax.property.models import PropertyTaxAssessment
    from moyai.tax.property.services import assessment_run, liable_owners

    bench = rb.Bench(args.db)
    total_start = time.perf_counter()
    try:
        call_command("migrate", verbosity=0, interactive=False)
        with acting_as(Actor(username="bench:property", channel="cli")):
            town = municipality_create(code=rb.TOWN_CODE, name=rb.TOWN_NAME)
        log(f"loading about {args.items:,} 土地・家屋 ...")
        start = time.perf_counter()
        load = load_ledger(town, args.items, args.seed, args.batch)
        loading = time.perf_counter() - start
        items = load["parcels"] + load["buildings"]
        log(f"  {items:,} items of {load['owners']:,} owners in {loading:.0f}s")
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                for table in (
                    "tax_addressees_addressee",
                    "property_tax_parcel",
                    "property_tax_building",
                ):
                    cur.execute(f"VACUUM (ANALYZE) {table}")
            else:
                cur.execute("ANALYZE")
        rb.switch_to_app_role(connection.vendor, settings.DB_APP_ROLE, bench)
        actor = Actor(username="bench:property", channel="cli", municipality_code=town.code)
        with acting_as(actor):
            with tenant_context(town):
                owners = liable_owners(YEAR)
            log(f"{len(owners):,} 納税義務者")
            results: dict[str, float] = {"bare_read": bare_read(town, owners)}
            analyzer = (
                Analyzer(url, "property_tax_propertytaxassessment")
                if connection.vendor == "postgresql"
                else None
            )
            if analyzer is not None:
                analyzer.__enter__()
            names = ["assess", "rerun"]
            if args.workers > 1:
                names += [f"assess_{args.workers}_workers", f"rerun_{args.workers}_workers"]
            for name in names:
                if name == f"assess_{args.workers}_workers":
                    with tenant_context(town):  # start again from nothing, same parameters
                        PropertyTaxAssessment.objects.all().delete()
                if name.endswith("_workers"):
                    start = time.perf_counter()
                    written = parallel_run(town.code, args.workers)
                    results[name] = time.perf_counter() - start
                    log(f"{name}: {results[name]:.1f}s, written {written:,}")
                    continue
                start = time.perf_counter()
                done = [0]

                def progress(
                    n: int, total: int, done: list[int] = done, name: str = name, t0: float = start
                ) -> None:
                    if n - done[0] >= 50_000 or n == total:
                        done[0] = n
                        log(f"  {name}: {n:,} / {total:,}  {time.perf_counter() - t0:.0f}s")

                result = assessment_run(
                    municipality=town, fiscal_year=YEAR, chunk_size=CHUNK, progress=progress
                )
                results[name] = time.perf_counter() - start
                log(
                    f"{name}: {results[name]:.1f}s, written {result.written:,}, "
                    f"unchanged {result.unchanged:,}, problems {len(result.problems)}"
                )
            if analyzer is not None:
                analyzer.__exit__()
                log(f"ANALYZE of the assessment table during the runs: {analyzer.runs} times")
            with tenant_context(town):
                assessments = PropertyTaxAssessment.objects.count()
                taxed = PropertyTaxAssessment.objects.filter(total__gt=0).count()
        base = results["bare_read"]
        for name, seconds in results.items():
            row = {
                "name": f"property.{name}",
                "db": args.db,
                "items": items,
                "owners": len(owners),
                "seconds": round(seconds, 1),
                "items_per_s": round(items / seconds),
                "ratio_to_bare_read": round(seconds / base, 2),
                "extra": {
                    **load,
                    "load_seconds": round(loading, 1),
                    "assessments": assessments,
                    "taxed": taxed,
                    "server": bench.meta.get("server"),
                },
            }
            print(json.dumps(row, ensure_ascii=False), flush=True)
        log("")
        total = time.perf_counter() - total_start
        log(f"固定資産税 {items:,} items / {len(owners):,} owners ({args.db}), total {total:.0f}s")
        for name, seconds in results.items():
            log(
                f"  {name:<10} {seconds:8.1f}s  {items / seconds:9,.0f} items/s  "
                f"×{seconds / base:.2f} of the bare read"
            )
    finally:
        connection.close()
        if not args.keep:
            remove()


if __name__ == "__main__":
    main()
