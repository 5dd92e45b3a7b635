"""個人住民税 benchmark: the 当初課税 of a municipality, against a bare read of the same inputs.

    .venv/bin/python bench/tax_bench.py --db postgres --persons 1200000
    .venv/bin/python bench/tax_bench.py --db sqlite   --persons 1200000

The script creates a fresh database (PostgreSQL: drops and re-creates ``moyai_bench_tax``;
SQLite: a temporary file), migrates it, creates 143014 葉山町 and fills it with
``bulk_population`` (as the owner), then files one 課税資料 per resident aged 15 or more on
1 January 2026 — a 給与支払報告書 (salary, 社会保険料, 生命保険料, spouse and dependants drawn
at random) or, from 65, a 公的年金等支払報告書 — written in bulk as already matched
(``match = my_number``; 名寄せ is not what is measured). On PostgreSQL the measurements run as
the application role, under row-level security.

Measured, in this order, on the same database:

* ``bare_read``: for each chunk of 2,000 persons (the ids in the order the run uses), exactly
  the reads of an assessment — the persons' 課税資料, their 住民票 as of 1 January
  (``records_as_of`` without its audit row) and their current assessments — and nothing else;
* ``assess``: ``services.assessment_run`` (merge, rules with the full trace, digest, 期別 and
  due dates, bulk insert, one event and one audit row per chunk, one transaction per chunk);
* ``rerun``: the same run again: every person unchanged, nothing written.

``ratio`` = seconds ÷ ``bare_read`` seconds (target for ``assess``: ≤ 3). One JSON object per
measurement goes to stdout; progress to stderr. Nothing here asserts a timing.
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


def salary_values(rng: random.Random, age: int, children: int) -> dict[str, Any]:
    salary = int(min(20_000_000, max(600_000, rng.lognormvariate(15.3, 0.45)))) // 1000 * 1000
    values: dict[str, Any] = {
        "salary_revenue": salary,
        "social_insurance": salary * 145 // 1000,
        "life_insurance": {
            "new_general": rng.choice((0, 0, 24_000, 60_000, 120_000)),
            "new_medical_care": rng.choice((0, 0, 36_000)),
            "new_pension": 0,
            "old_general": 0,
            "old_pension": 0,
        },
        "earthquake_insurance": rng.choice((0, 0, 12_000, 50_000)),
        "disability": "none",
        "family_status": "none",
        "working_student": False,
        "_main": True,
    }
    if age >= 25 and rng.random() < 0.4:
        values["spouse"] = {"income": 0, "age": age, "same_household": True}
    if children:
        values["dependants"] = [
            {"age": rng.choice((10, 17, 20)), "income": 0} for _ in range(children)
        ]
    return values


def file_documents(town: Any, seed: int) -> int:
    """One matched 課税資料 per resident aged 15+ on 1 January (bulk, as the owner)."""
    from moyai.platform.tenancy import tenant_context
    from moyai.registry.models import ResidentRecord, ResidentStatus
    from moyai.registry.rules import age_on
    from moyai.tax.resident.models import TaxDocument

    rng = random.Random(seed)
    january = date(YEAR, 1, 1)
    start = time.perf_counter()
    made = 0
    last = 0
    while True:
        with tenant_context(town):
            rows = list(
                ResidentRecord.objects.filter(
                    is_latest=True, status=ResidentStatus.RESIDENT, person_id__gt=last
                )
                .order_by("person_id")
                .values_list("person_id", "birth_date", "name", "name_kana")[:10_000]
            )
            if not rows:
                break
            last = rows[-1][0]
            batch = []
            for person_id, birth, name, kana in rows:
                try:
                    born = date.fromisoformat(birth)
                except ValueError:
                    continue
                if born > january or age_on(born, january) < 15:
                    continue
                age = age_on(born, date(YEAR - 1, 12, 31))
                if age >= 65:
                    values: dict[str, Any] = {
                        "pension_revenue": rng.choice((800_000, 1_500_000, 2_400_000, 3_600_000)),
                        "social_insurance": rng.choice((60_000, 120_000)),
                    }
                    kind, ordinary = "pension", True
                else:
                    values = salary_values(rng, age, rng.choice((0, 0, 0, 1, 2)))
                    kind, ordinary = "salary", rng.random() < 0.1
                batch.append(
                    TaxDocument(
                        municipality_id=town.pk,
                        fiscal_year=YEAR,
                        kind=kind,
                        person_id=person_id,
                        match="my_number",
                        match_score=1.0,
                        ordinary_collection=ordinary,
                        name=name[:100],
                        kana=kana[:100],
                        birth_date=birth,
                        values=values,
                        source="bench",
                        received_by="bench",
                    )
                )
            TaxDocument.objects.bulk_create(batch, batch_size=2000)
            made += len(batch)
        if made and made // 100_000 != (made - len(batch)) // 100_000:
            log(f"  課税資料 {made:,}  {time.perf_counter() - start:.0f}s")
    return made


def bare_read(town: Any, persons: list[int]) -> float:
    """The reads of an assessment, chunk by chunk, and nothing else."""
    from django.db.models import Q

    from moyai.platform.tenancy import tenant_context
    from moyai.registry import selectors as registry_selectors
    from moyai.tax.resident.models import Assessment, TaxDocument
    from moyai.tax.resident.services import RESOLVED

    start = time.perf_counter()
    rows = 0
    for i in range(0, len(persons), CHUNK):
        ids = persons[i : i + CHUNK]
        with tenant_context(town):
            docs = list(
                TaxDocument.objects.filter(
                    fiscal_year=YEAR, person_id__in=ids, superseded=False, match__in=RESOLVED
                )
                .order_by("received_at", "id")
                .values("id", "person_id", "kind", "values", "ordinary_collection", "employer_id")
            )
            records = {
                r.person_id: r
                for r in registry_selectors._as_of(date(YEAR, 1, 1), Q(person_id__in=list(ids)))
            }
            current = list(
                Assessment.objects.filter(
                    fiscal_year=YEAR, person_id__in=ids, is_current=True
                ).only("id", "person_id", "seq", "digest", "collection")
            )
            rows += len(docs) + len(records) + len(current)
    seconds = time.perf_counter() - start
    log(f"bare read: {rows:,} rows in {seconds:.1f}s")
    return seconds


def _shard(code: str, index: int, count: int, initial: bool) -> int:
    from moyai.platform.audit import Actor, acting_as
    from moyai.platform.models import Municipality
    from moyai.tax.resident.services import assessment_run

    town = Municipality.objects.get(code=code)
    with acting_as(Actor(username="bench:tax", channel="cli", municipality_code=code)):
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
    from moyai.tax.resident.models import Assessment

    with tenant_context(Municipality.objects.get(code=code)):
        initial = not Assessment.objects.filter(fiscal_year=YEAR).exists()
    written = run_in_processes(_shard, [(code, i, workers, initial) for i in range(workers)])
    return sum(written)


class Analyzer:
    """What autovacuum does on a production server (it is off on this one): ``ANALYZE`` the
    assessment table every ``every`` seconds while runs write into it, as the owner on a
    connection of its own. Without statistics the planner reads the whole table for every
    chunk's look-up of the current assessments."""

    def __init__(self, url: str, every: float = 20.0) -> None:
        import threading

        self.url = url.replace("postgres://", "postgresql://", 1)
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.runs = 0

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(self.every):
                conn.execute("ANALYZE resident_tax_assessment")
                self.runs += 1

    def __enter__(self) -> Analyzer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/moyai_bench_tax")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="also time the run shared by this many worker processes (as `moyai tax assess "
        "--workers`); the single-process runs come first",
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
    from moyai.tax.resident.models import Assessment
    from moyai.tax.resident.services import _liable, assessment_run

    bench = rb.Bench(args.db)
    total_start = time.perf_counter()
    try:
        call_command("migrate", verbosity=0, interactive=False)
        with acting_as(Actor(username="bench:tax", channel="cli")):
            town = municipality_create(code=rb.TOWN_CODE, name=rb.TOWN_NAME)
        log(f"loading {args.persons:,} persons (bulk_population) ...")
        load = rb.load_population(town, args.persons, args.seed, args.batch)
        log(f"  loaded in {load['load_seconds']}s")
        start = time.perf_counter()
        documents = file_documents(town, args.seed)
        filing = time.perf_counter() - start
        log(f"課税資料 {documents:,} filed in {filing:.0f}s")
        rb.vacuum_analyze(connection.vendor)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("VACUUM (ANALYZE) resident_tax_taxdocument")
        rb.switch_to_app_role(connection.vendor, settings.DB_APP_ROLE, bench)
        actor = Actor(username="bench:tax", channel="cli", municipality_code=town.code)
        with acting_as(actor):
            with tenant_context(town):
                persons = _liable(YEAR)
            log(f"{len(persons):,} taxpayers with 課税資料")
            results: dict[str, float] = {"bare_read": bare_read(town, persons)}
            analyzer = Analyzer(url) if connection.vendor == "postgresql" else None
            if analyzer is not None:
                analyzer.__enter__()
            names = ["assess", "rerun"]
            if args.workers > 1:
                names += [f"assess_{args.workers}_workers", f"rerun_{args.workers}_workers"]
            for name in names:
                if name == f"assess_{args.workers}_workers":
                    with tenant_context(town):  # start again from nothing, same parameters
                        Assessment.objects.all().delete()
                if name.endswith("_workers"):
                    start = time.perf_counter()
                    parallel_run(town.code, args.workers)
                    results[name] = time.perf_counter() - start
                    log(f"{name}: {results[name]:.1f}s")
                    continue
                start = time.perf_counter()
                done = [0]

                def progress(
                    n: int, total: int, done: list[int] = done, name: str = name, t0: float = start
                ) -> None:
                    if n - done[0] >= 100_000 or n == total:
                        done[0] = n
                        log(f"  {name}: {n:,} / {total:,}  {time.perf_counter() - t0:.0f}s")

                result = assessment_run(
                    municipality=town, fiscal_year=YEAR, chunk_size=CHUNK, progress=progress
                )
                results[name] = time.perf_counter() - start
                log(
                    f"{name}: {results[name]:.1f}s, written {result.written:,}, "
                    f"unchanged {result.unchanged:,}, not resident {result.not_resident:,}, "
                    f"problems {len(result.problems)}"
                )
            if analyzer is not None:
                analyzer.__exit__()
                log(f"ANALYZE of the assessment table during the runs: {analyzer.runs} times")
            with tenant_context(town):
                assessments = Assessment.objects.count()
                taxed = Assessment.objects.filter(nontaxable="").count()
        base = results["bare_read"]
        for name, seconds in results.items():
            row = {
                "name": f"tax.{name}",
                "db": args.db,
                "persons": args.persons,
                "taxpayers": len(persons),
                "seconds": round(seconds, 1),
                "persons_per_s": round(len(persons) / seconds),
                "ratio_to_bare_read": round(seconds / base, 2),
                "extra": {
                    "documents": documents,
                    "filing_seconds": round(filing, 1),
                    "assessments": assessments,
                    "taxed": taxed,
                    "load": load,
                    "server": bench.meta.get("server"),
                },
            }
            print(json.dumps(row, ensure_ascii=False), flush=True)
        log("")
        total = time.perf_counter() - total_start
        log(f"個人住民税 {len(persons):,} taxpayers ({args.db}), total {total:.0f}s")
        for name, seconds in results.items():
            log(
                f"  {name:<10} {seconds:8.1f}s  {len(persons) / seconds:9,.0f} persons/s  "
                f"×{seconds / base:.2f} of the bare read"
            )
    finally:
        connection.close()
        if not args.keep:
            remove()


if __name__ == "__main__":
    main()
