"""住民記録 benchmarks: 窓口 search, 異動 commit and as-of latency at municipal scale.

Each latency is compared with a baseline measured in the same run, on the same database::

    .venv/bin/python bench/registry_bench.py --db sqlite   --persons 20000
    .venv/bin/python bench/registry_bench.py --db postgres --persons 1000000

The script creates a fresh database (PostgreSQL by default: drops and re-creates ``moyai_bench``;
SQLite: a temporary file), runs ``moyai migrate`` as the owner, creates municipality 143014 葉山町,
fills it with ``bulk_population`` (as the owner; then ``VACUUM (ANALYZE)``) and, on PostgreSQL,
measures as the application role so that row-level security applies as in production:

* search: ``selectors.person_search`` for 窓口 queries drawn from the loaded rows (カナ, 氏名 with
  異体字, 生年月日 + カナ, 住所, 住民票コード), each in its own ``tenant_context`` with the audit
  append; baselines: the same ORM code with the audit append replaced by a no-op, and a
  hand-written SQL statement with the same WHERE clause (statement time only);
* 異動: ``services.move_in`` (1–4 persons), ``services.relocation`` of a whole household and
  ``services.death`` of a single-person household, each its own transaction, commit included;
  baseline: one bare ``INSERT`` of a row of the same width plus ``COMMIT``;
* as-of: ``selectors.household_as_of`` on random households and dates; baselines as for search.

Loading 1,000,000 persons takes several minutes. ``--keep`` keeps the database, and a later run
with ``--reuse`` (same ``--pg-url``, or ``--sqlite-path``) skips creating and loading it.

One JSON object per measurement and baseline goes to stdout (latencies in ms; ``ratio_p50`` =
measured p50 / baseline p50); progress and a human summary go to stderr. Nothing here asserts a
timing: the figures are for reading, see ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from moyai.platform.models import Municipality
    from moyai.registry.models import ResidentRecord
    from moyai.registry.selectors import SearchQuery

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/moyai_bench"
TOWN_CODE = "143014"
TOWN_NAME = "葉山町"
PURPOSE = "住民票の写しの交付"
SOURCE_IP = "192.0.2.10"
LIMIT = 100  # person_search's default page
SEARCH_KINDS = ("kana", "name", "birth_kana", "address", "resident_code")
MOVEMENT_KINDS = ("move_in", "relocation", "death")
PARTS = ("search", "movements", "as_of")
TARGET_SEARCH_P95_MS = 100.0
TARGET_MOVEMENT_MS = 200.0
WARMUP = 20  # unrecorded runs per query kind before timing
WARMUP_MOVEMENTS = 3  # unrecorded rounds of each 異動 before timing
RECORD_TABLE = "registry_residentrecord"
PERSON_TABLE = "registry_person"
BARE_TABLE = "bench_record_bare"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- results ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Sample:
    """Latencies in seconds, plus details for ``extra``."""

    seconds: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def ms(self, p: float) -> float:
        return round(percentile(self.seconds, p) * 1000, 3)

    def summary(self) -> dict[str, float]:
        return {
            "p50_ms": self.ms(50),
            "p95_ms": self.ms(95),
            "p99_ms": self.ms(99),
            "max_ms": round(max(self.seconds) * 1000, 3),
            "mean_ms": round(statistics.fmean(self.seconds) * 1000, 3),
        }


@dataclass
class Result:
    name: str
    db: str
    persons: int
    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    baseline_name: str | None
    baseline_p50_ms: float | None
    baseline_p95_ms: float | None
    baseline_p99_ms: float | None
    baseline_max_ms: float | None
    ratio_p50: float | None
    ratio_p95: float | None
    unit: str = "ms"
    extra: dict[str, Any] = field(default_factory=dict)


class Bench:
    def __init__(self, db: str) -> None:
        self.db = db
        self.persons = 0
        self.results: list[Result] = []
        self.meta: dict[str, Any] = {}
        self.plans: dict[str, dict[str, Any]] = {}
        self.statements: dict[str, Any] = {}

    def report(
        self, name: str, measured: Sample, baseline_name: str | None, baseline: Sample | None
    ) -> None:
        m = measured.summary()
        b = baseline.summary() if baseline is not None else None
        extra = dict(measured.extra)
        if baseline is not None:
            extra.update({f"baseline_{k}": v for k, v in baseline.extra.items()})
        result = Result(
            name=name,
            db=self.db,
            persons=self.persons,
            n=len(measured.seconds),
            **m,
            baseline_name=baseline_name,
            baseline_p50_ms=None if b is None else b["p50_ms"],
            baseline_p95_ms=None if b is None else b["p95_ms"],
            baseline_p99_ms=None if b is None else b["p99_ms"],
            baseline_max_ms=None if b is None else b["max_ms"],
            ratio_p50=None if b is None else round(m["p50_ms"] / b["p50_ms"], 2),
            ratio_p95=None if b is None else round(m["p95_ms"] / b["p95_ms"], 2),
            extra={**extra, **self.meta},
        )
        self.results.append(result)
        print(json.dumps(asdict(result), ensure_ascii=False), flush=True)


# --- database lifecycle -----------------------------------------------------------------------


def prepare_database(
    db: str, pg_url: str, sqlite_path: str | None, reuse: bool
) -> tuple[str, Callable[[], None]]:
    """Create an empty database (or find the kept one); return its URL and a remover."""
    if db == "sqlite":
        if sqlite_path:
            path = Path(sqlite_path).resolve()
            if reuse and not path.exists():
                raise SystemExit(f"--reuse: {path} does not exist")
            if not reuse:
                if path.exists():
                    raise SystemExit(f"{path} exists; remove it or pass --reuse")
                path.parent.mkdir(parents=True, exist_ok=True)

            def remove_file() -> None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)

            return f"sqlite:///{path}", remove_file
        if reuse:
            raise SystemExit("--reuse with --db sqlite needs --sqlite-path")
        tmp = Path(tempfile.mkdtemp(prefix="moyai-registry-bench-"))
        return f"sqlite:///{tmp / 'bench.sqlite3'}", lambda: shutil.rmtree(tmp, ignore_errors=True)

    import psycopg
    from psycopg import sql

    parts = urlsplit(pg_url)
    name = parts.path.lstrip("/")
    if not name.startswith("moyai_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the benchmark database must be moyai_bench*")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(statement)

    if reuse:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found is None:
            raise SystemExit(f"--reuse: database {name!r} does not exist (run with --keep first)")
        return pg_url, drop
    drop()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return pg_url, drop


def configure_django(url: str) -> None:
    os.environ["MOYAI_DATABASE_URL"] = url
    os.environ.setdefault("MOYAI_ENV", "test")
    # A throwaway key, so that settings do not write var/secret_key.
    os.environ.setdefault("MOYAI_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DJANGO_SETTINGS_MODULE"] = "moyai.platform.settings"
    # The benchmark decides the roles itself: migrate and load as the owner, then assume the
    # application role.
    os.environ.pop("MOYAI_MIGRATE_DATABASE_URL", None)
    os.environ.pop("MOYAI_DB_ASSUME_ROLE", None)
    import django

    django.setup()


def record_columns() -> list[str]:
    from moyai.registry.models import ResidentRecord

    return [f.column for f in ResidentRecord._meta.concrete_fields if f.column != "id"]


def create_bare_table(vendor: str, app_role: str) -> None:
    """As the owner: the columns of the 住民票 table and nothing else (no index, key, RLS)."""
    from django.db import connection

    with connection.cursor() as cur:
        if vendor == "postgresql":
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} "
                f"(LIKE {RECORD_TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY)"
            )
            role = connection.ops.quote_name(app_role)
            cur.execute(f"GRANT SELECT, INSERT, DELETE ON {BARE_TABLE} TO {role}")
        else:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} AS "  # noqa: S608
                f"SELECT * FROM {RECORD_TABLE} WHERE 0"
            )


def vacuum_analyze(vendor: str) -> float:
    """Fresh statistics and visibility map after the load (as the owner)."""
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cur:
        if vendor == "postgresql":
            for table in (RECORD_TABLE, PERSON_TABLE, "registry_movement"):
                cur.execute(f"VACUUM (ANALYZE) {table}")
        else:
            cur.execute("ANALYZE")
    return time.perf_counter() - start


def switch_to_app_role(vendor: str, app_role: str, bench: Bench) -> None:
    from django.db import connection

    if vendor != "postgresql":
        import sqlite3

        bench.meta["server"] = f"SQLite {sqlite3.sqlite_version}"
        return
    connection.settings_dict["OPTIONS"]["assume_role"] = app_role
    connection.close()
    with connection.cursor() as cur:
        cur.execute("SELECT current_user, session_user, version()")
        current, session, version = cur.fetchone()
        settings_shown = {}
        for name in ("synchronous_commit", "shared_buffers", "work_mem", "jit"):
            cur.execute(f"SHOW {name}")
            settings_shown[name] = cur.fetchone()[0]
        cur.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        settings_shown["datcollate"] = cur.fetchone()[0]
    if current != app_role:
        raise SystemExit(f"expected to run as {app_role}, runs as {current}")
    bench.meta["server"] = version.split(" on ")[0]
    bench.meta["pg_settings"] = settings_shown
    log(f"measuring as {current} (session user {session}); {bench.meta['server']}")


# --- loading ----------------------------------------------------------------------------------


def load_population(town: Municipality, persons: int, seed: int, batch: int) -> dict[str, Any]:
    """``bulk_population`` up to ``persons`` residents, as the owner.

    ``bulk_population`` draws 住民票コード at random (10 digits + check digit): at a million
    persons about 50 pairs collide, and the unique constraint rejects that batch. The batch rolls
    back, so the load goes on from the persons already committed, with the next seed.
    """
    from django.db import IntegrityError

    from moyai.platform.tenancy import tenant_context
    from moyai.registry.models import Person
    from moyai.registry.synthetic import bulk_population

    start = time.perf_counter()
    collisions: list[str] = []
    next_log = [0]
    seed_now = seed

    def count() -> int:
        with tenant_context(town):
            return Person.objects.count()

    have = count()
    while have < persons:
        base = have

        def progress(done: int, _total: int, base: int = base) -> None:
            total_done = base + done
            if total_done >= next_log[0] or total_done >= persons:
                elapsed = time.perf_counter() - start
                rate = total_done / elapsed if elapsed else 0.0
                eta = (persons - total_done) / rate if rate else 0.0
                log(
                    f"  loaded {total_done:>9,} / {persons:,} persons  "
                    f"{elapsed:6.0f}s  {rate:7,.0f}/s  eta {eta:5.0f}s"
                )
                next_log[0] = total_done + max(persons // 20, batch)

        try:
            bulk_population(
                town, persons=persons - have, seed=seed_now, batch=batch, progress=progress
            )
        except IntegrityError as exc:
            if "resident_code" not in str(exc):
                raise
            collisions.append(str(exc).splitlines()[0][:160])
            log(f"  住民票コード collision at ~{have:,} persons; continuing with a new seed")
        seed_now += 1
        have = count()
    return {
        "load_seconds": round(time.perf_counter() - start, 1),
        "resident_code_collisions": len(collisions),
        "collision_messages": collisions[:3],
        "seeds_used": seed_now - seed,
    }


# --- helpers ----------------------------------------------------------------------------------


def _no_audit(**_: Any) -> None:
    return None


@contextmanager
def audit_disabled() -> Iterator[None]:
    """The selectors' audit append replaced by a no-op: the same ORM code, nothing appended."""
    from moyai.registry import selectors

    with mock.patch.object(selectors, "audit_record", _no_audit):
        yield


def like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def like_contains(text: str) -> str:
    return "%" + like_prefix(text)


def explain(sql_text: str, vendor: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite (inside the
    caller's tenant context)."""
    from django.db import connection

    with connection.cursor() as cur:
        if vendor == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql_text)
            return "\n".join(row[0] for row in cur.fetchall())
        cur.execute("EXPLAIN QUERY PLAN " + sql_text)
        return "\n".join(str(row[-1]) for row in cur.fetchall())


def is_seq_scan(plan: str, vendor: str) -> bool:
    if vendor == "postgresql":
        return "Seq Scan" in plan
    return any(
        line.strip().startswith("SCAN ") and " USING " not in line for line in plan.splitlines()
    )


def explain_raw(sql_text: str, params: Sequence[Any], vendor: str) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        cur.execute(prefix + sql_text, list(params))
        if vendor == "postgresql":
            return "\n".join(row[0] for row in cur.fetchall())
        return "\n".join(str(row[-1]) for row in cur.fetchall())


def captured_select(queries: list[dict[str, Any]], table: str) -> str:
    """The main SELECT of a selector call among captured statements (the one with ORDER BY)."""
    for q in queries:
        sql_text = q["sql"]
        main = sql_text.lstrip("(").startswith("SELECT") and f'FROM "{table}"' in sql_text
        if main and "ORDER BY" in sql_text:
            return sql_text
    raise SystemExit(f"no SELECT on {table} captured")


def run_rotated(variants: list[Callable[[], None]], i: int) -> None:
    """Run the variants of one query in an order that rotates with ``i`` (so that none of them
    always runs first, on cold pages, or last)."""
    k = i % len(variants)
    for run in variants[k:] + variants[:k]:
        run()


class StatementTimer:
    """An execute wrapper: how many statements went through a cursor and how long they took
    (round trip included; BEGIN and COMMIT are not cursor statements and are not in it)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


# --- search -----------------------------------------------------------------------------------


def sample_records(town: Municipality, k: int, rng: random.Random) -> list[ResidentRecord]:
    """``k`` random latest entries of residents (person ids drawn uniformly)."""
    from django.db.models import Max, Min

    from moyai.platform.tenancy import tenant_context
    from moyai.registry.models import Person, ResidentRecord, ResidentStatus

    with tenant_context(town):
        bounds = Person.objects.aggregate(lo=Min("id"), hi=Max("id"))
        found: dict[int, ResidentRecord] = {}
        while len(found) < k:
            ids = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(2 * (k - len(found)))]
            for r in ResidentRecord.objects.select_related("person").filter(
                person_id__in=ids, is_latest=True, status=ResidentStatus.RESIDENT
            ):
                found.setdefault(r.person_id, r)
    chosen = list(found.values())
    rng.shuffle(chosen)
    return chosen[:k]


def variant_records(town: Municipality, k: int, rng: random.Random) -> list[ResidentRecord]:
    """Entries whose stored family name is an 異体字 form (髙橋, 山﨑, 葛󠄀西 …)."""
    from moyai.moji.rules import name_key
    from moyai.platform.tenancy import tenant_context
    from moyai.registry.models import ResidentRecord, ResidentStatus
    from moyai.registry.synthetic import VARIANT_SURNAMES

    names = [n for n, _ in VARIANT_SURNAMES if name_key(n) != n]
    with tenant_context(town):
        rows = list(
            ResidentRecord.objects.select_related("person").filter(
                is_latest=True, status=ResidentStatus.RESIDENT, family_name__in=names
            )[: k * 20]
        )
    rng.shuffle(rows)
    return rows[:k]


@dataclass(frozen=True)
class QueryCase:
    kind: str
    query: SearchQuery
    typed: str  # what the clerk typed, for the report
    stored_variant: str = ""  # the stored 異体字 family name when the case types a fold of it


def search_cases(
    kind: str, rows: list[ResidentRecord], variants: list[ResidentRecord]
) -> list[QueryCase]:
    from moyai.moji.rules import name_key
    from moyai.registry.selectors import SearchQuery

    cases: list[QueryCase] = []
    for i, r in enumerate(rows):
        family_kana = r.name_kana.split("　")[0]
        if kind == "kana":
            cases.append(QueryCase(kind, SearchQuery(kana=family_kana), family_kana))
        elif kind == "name":
            # One in five name queries types the standard form of a stored 異体字 surname
            # (高橋 for 髙橋, 葛西 for 葛󠄀西).
            if variants and i % 5 == 0:
                v = variants[(i // 5) % len(variants)]
                typed = name_key(v.family_name)
                cases.append(QueryCase(kind, SearchQuery(name=typed), typed, v.family_name))
            else:
                cases.append(QueryCase(kind, SearchQuery(name=r.family_name), r.family_name))
        elif kind == "birth_kana":
            q = SearchQuery(kana=family_kana, birth_date=r.birth_date)
            cases.append(QueryCase(kind, q, f"{r.birth_date} {family_kana}"))
        elif kind == "address":
            typed = f"{r.address_town} {r.address_block}".strip()
            cases.append(QueryCase(kind, SearchQuery(address=typed), typed))
        elif kind == "resident_code":
            code = r.person.resident_code
            cases.append(QueryCase(kind, SearchQuery(resident_code=code), code))
    return cases


def raw_search_sql(q: SearchQuery, town_id: int) -> tuple[str, list[Any]]:
    """The search as one hand-written statement: the same conditions, order and limit, the same
    columns (entry and person), no ORM. Unlike Django on PostgreSQL, no ``::text`` cast on the
    LIKE operand."""
    from moyai.moji.rules import kana_key, name_key

    where = ["r.municipality_id = %s", "r.is_latest"]
    params: list[Any] = [town_id]
    if not q.include_removed:
        where.append("r.status = %s")
        params.append("1")
    esc = " ESCAPE '\\'"
    if q.kana:
        where.append("r.kana_key LIKE %s" + esc)
        params.append(like_prefix(kana_key(q.kana)))
    if q.name:
        key = like_prefix(name_key(q.name))
        where.append(f"(r.name_key LIKE %s{esc} OR r.alias_key LIKE %s{esc})")
        params += [key, key]
    if q.birth_date:
        where.append("r.birth_date = %s")
        params.append(q.birth_date)
    if q.address:
        for word in q.address.split():
            where.append(
                f"(r.address_town LIKE %s{esc} OR r.address_block LIKE %s{esc} "
                f"OR r.address_building LIKE %s{esc})"
            )
            params += [like_contains(word)] * 3
    if q.resident_code:
        where.append("p.resident_code = %s")
        params.append(q.resident_code)
    if q.address_number:
        where.append("p.address_number = %s")
        params.append(q.address_number)
    sql_text = (
        f"SELECT r.*, p.* FROM {RECORD_TABLE} r JOIN {PERSON_TABLE} p ON p.id = r.person_id "  # noqa: S608
        f"WHERE {' AND '.join(where)} ORDER BY r.kana_key, r.birth_date, r.person_id LIMIT {LIMIT}"
    )
    return sql_text, params


def measure_search(
    bench: Bench, town: Municipality, vendor: str, kind: str, cases: list[QueryCase]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from moyai.platform.tenancy import tenant_context
    from moyai.registry.selectors import person_search

    full, no_audit, raw = Sample(), Sample(), Sample()
    hits: list[int] = []
    variant_found: list[bool] = []

    def selector(case: QueryCase, sample: Sample | None) -> list[Any]:
        start = time.perf_counter()
        with tenant_context(town):
            rows = person_search(query=case.query, purpose=PURPOSE)
        if sample is not None:
            sample.seconds.append(time.perf_counter() - start)
        return rows

    def selector_no_audit(case: QueryCase, sample: Sample | None) -> None:
        with audit_disabled():
            start = time.perf_counter()
            with tenant_context(town):
                person_search(query=case.query, purpose=PURPOSE)
            if sample is not None:
                sample.seconds.append(time.perf_counter() - start)

    def raw_sql(case: QueryCase, sample: Sample | None) -> None:
        sql_text, params = raw_search_sql(case.query, town.pk)
        with tenant_context(town), connection.cursor() as cur:
            start = time.perf_counter()
            cur.execute(sql_text, params)
            cur.fetchall()
            if sample is not None:
                sample.seconds.append(time.perf_counter() - start)

    for case in cases[: min(WARMUP, len(cases))]:
        selector(case, None)
        selector_no_audit(case, None)
        raw_sql(case, None)

    for i, case in enumerate(cases):
        result: list[Any] = []

        def run_full(case: QueryCase = case, result: list[Any] = result) -> None:
            result.extend(selector(case, full))

        run_rotated(
            [
                run_full,
                lambda case=case: selector_no_audit(case, no_audit),
                lambda case=case: raw_sql(case, raw),
            ],
            i,
        )
        hits.append(len(result))
        if case.stored_variant:
            variant_found.append(any(r.family_name == case.stored_variant for r in result))
        if not result:
            raise SystemExit(f"search {kind} {case.typed!r} found nothing (a loaded row)")

    # One more call of the first case, captured: statements, the ORM's SQL and its plan.
    case = cases[0]
    with CaptureQueriesContext(connection) as captured, tenant_context(town):
        person_search(query=case.query, purpose=PURPOSE)
    orm_sql = captured_select(captured.captured_queries, RECORD_TABLE)
    raw_text, raw_params = raw_search_sql(case.query, town.pk)
    with tenant_context(town):
        orm_plan = explain(orm_sql, vendor)
        raw_plan = explain_raw(raw_text, raw_params, vendor)
    bench.plans[f"search.{kind}"] = {
        "typed": case.typed,
        "orm_sql": orm_sql,
        "orm_plan": orm_plan,
        "raw_plan": raw_plan,
        "orm_seq_scan": is_seq_scan(orm_plan, vendor),
        "raw_seq_scan": is_seq_scan(raw_plan, vendor),
    }
    bench.statements[f"search.{kind}"] = len(captured.captured_queries)
    full.extra = {
        "kind": kind,
        "examples": [c.typed for c in cases[:5]],
        "hits_mean": round(statistics.fmean(hits), 1),
        "hits_at_limit_share": round(sum(h >= LIMIT for h in hits) / len(hits), 3),
        "statements": len(captured.captured_queries),
        "seq_scan": bench.plans[f"search.{kind}"]["orm_seq_scan"],
    }
    if variant_found:
        full.extra["variant_queries"] = len(variant_found)
        full.extra["variant_stored_form_in_first_page"] = sum(variant_found)
    bench.report(f"search.{kind}", full, "orm_no_audit", no_audit)
    bench.report(f"search.{kind}", full, "raw_sql", raw)


# --- 異動 ---------------------------------------------------------------------------------------


class ResidentCodes:
    """Well-formed 住民票コード from a seeded generator, never one already in the registry."""

    def __init__(self, rng: random.Random, town: Municipality) -> None:
        self.rng = rng
        self.town = town
        self.used: set[str] = set()

    def draw(self, k: int) -> list[str]:
        from moyai.platform.tenancy import tenant_context
        from moyai.registry.models import Person
        from moyai.registry.rules import resident_code_check_digit

        codes: list[str] = []
        while len(codes) < k:
            ten = f"{self.rng.randrange(10**10):010d}"
            code = ten + str(resident_code_check_digit(ten))
            if code not in self.used:
                self.used.add(code)
                codes.append(code)
        with tenant_context(self.town):
            taken = set(
                Person.objects.filter(resident_code__in=codes).values_list(
                    "resident_code", flat=True
                )
            )
        if not taken:
            return codes
        return [c for c in codes if c not in taken] + self.draw(len(taken))


def household_sizes(town: Municipality, numbers: list[str]) -> dict[str, int]:
    from django.db.models import Count

    from moyai.platform.tenancy import tenant_context
    from moyai.registry.models import ResidentRecord, ResidentStatus

    with tenant_context(town):
        return {
            row["household_number"]: row["n"]
            for row in ResidentRecord.objects.filter(
                household_number__in=numbers, is_latest=True, status=ResidentStatus.RESIDENT
            )
            .values("household_number")
            .annotate(n=Count("id"))
        }


def household_person_ids(town: Municipality, number: str) -> list[int]:
    from moyai.platform.tenancy import tenant_context
    from moyai.registry.models import ResidentRecord, ResidentStatus

    with tenant_context(town):
        return list(
            ResidentRecord.objects.filter(
                household_number=number, is_latest=True, status=ResidentStatus.RESIDENT
            ).values_list("person_id", flat=True)
        )


def bare_row(town: Municipality, record_id: int) -> list[Any]:
    """One stored 住民票 row's values (all columns but id), as the bare insert writes them."""
    from django.db import connection

    from moyai.platform.tenancy import tenant_context

    columns = ", ".join(connection.ops.quote_name(c) for c in record_columns())
    with tenant_context(town), connection.cursor() as cur:
        cur.execute(f"SELECT {columns} FROM {RECORD_TABLE} WHERE id = %s", [record_id])  # noqa: S608
        values = list(cur.fetchone())
    return [json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for v in values]


def measure_movements(
    bench: Bench, town: Municipality, movements: int, rng: random.Random, seed: int
) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from moyai.platform.tenancy import tenant_context
    from moyai.registry import services
    from moyai.registry.rules import FuzzyDate
    from moyai.registry.services import Address, Notification
    from moyai.registry.synthetic import Generator

    today = timezone.localdate()
    warm = WARMUP_MOVEMENTS  # unrecorded rounds first
    extra_runs = 10  # captured runs per kind (statement counts and statement time), not timed
    timed_end = warm + movements
    total = timed_end + extra_runs

    # Inputs, prepared before anything is timed.
    gen = Generator(seed + 1000, town.code, today)
    codes = ResidentCodes(random.Random(seed + 2000), town)
    specs = []
    for _ in range(total):
        spec = gen.household()
        members = spec.members[: rng.randint(1, 4)]
        fresh = codes.draw(len(members))
        specs.append(
            replace(
                spec,
                members=[replace(m, resident_code=c) for m, c in zip(members, fresh, strict=True)],
            )
        )
    pool = sample_records(town, total * 16, rng)
    sizes = household_sizes(town, sorted({r.household_number for r in pool}))
    singles: list[str] = []
    multis: list[str] = []
    seen: set[str] = set()
    for r in pool:
        number = r.household_number
        if number in seen:
            continue
        seen.add(number)
        (singles if sizes.get(number) == 1 else multis).append(number)
    if len(singles) < total or len(multis) + len(singles) - total < total:
        raise SystemExit(f"not enough households sampled ({len(singles)} single, {len(multis)})")
    deaths = singles[:total]
    relocations = (multis + singles[total:])[:total]
    relocation_ids = [household_person_ids(town, n) for n in relocations]
    death_ids = [household_person_ids(town, n)[0] for n in deaths]
    bare_values = bare_row(town, pool[0].pk)
    columns = record_columns()
    insert_sql = (
        f"INSERT INTO {BARE_TABLE} ({', '.join(connection.ops.quote_name(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )

    def notification(days_ago: int) -> Notification:
        when = today - timedelta(days=days_ago)
        return Notification(
            FuzzyDate.of(when), today, notifier_name="葉山　太郎", notifier_relation="本人",
            counter="本庁",
        )  # fmt: skip

    def new_address() -> Address:
        t, code, postal = rng.choice(gen.towns)
        return Address(t, f"{rng.randint(1, 2999)}番地", "", code, postal)

    def do_move_in(i: int) -> None:
        spec = specs[i]
        with tenant_context(town):
            services.move_in(
                notification=notification(rng.randint(1, 13)),
                members=spec.members,
                address=spec.address,
                previous_address=spec.previous_address,
                from_abroad=spec.members[0].kind == "2",
            )

    def do_relocation(i: int) -> None:
        with tenant_context(town):
            services.relocation(
                notification=notification(rng.randint(1, 13)),
                person_ids=relocation_ids[i],
                address=new_address(),
            )

    def do_death(i: int) -> None:
        with tenant_context(town):
            services.death(notification=notification(rng.randint(1, 6)), person_id=death_ids[i])

    def do_bare(_: int) -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(insert_sql, bare_values)

    ops = {"move_in": do_move_in, "relocation": do_relocation, "death": do_death, "bare": do_bare}
    samples = {name: Sample() for name in ops}
    sizes_by_move_in: dict[int, list[float]] = {}

    def timed(name: str, i: int) -> Callable[[], None]:
        def run() -> None:
            start = time.perf_counter()
            ops[name](i)
            elapsed = time.perf_counter() - start
            samples[name].seconds.append(elapsed)
            if name == "move_in":
                sizes_by_move_in.setdefault(len(specs[i].members), []).append(elapsed)

        return run

    for i in range(warm):
        for op in ops.values():
            op(i)
    for i in range(warm, timed_end):
        run_rotated([timed(name, i) for name in ops], i)
        if (i - warm + 1) % 100 == 0:
            log(f"  {i - warm + 1} / {movements} rounds")

    # Extra runs, captured (not timed): statements and time spent in statements.
    for name in ("move_in", "relocation", "death", "bare"):
        counts: list[int] = []
        in_sql: list[float] = []
        wall: list[float] = []
        example: list[str] = []
        for i in range(timed_end, total):
            timer = StatementTimer()
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
                start = time.perf_counter()
                ops[name](i)
                wall.append(time.perf_counter() - start)
            counts.append(len(captured.captured_queries))
            in_sql.append(timer.seconds)
            if not example:
                example = [q["sql"][:120] for q in captured.captured_queries]
        bench.statements[f"movement.{name}"] = {
            "statements_mean": round(statistics.fmean(counts), 1),
            "statements_min": min(counts),
            "statements_max": max(counts),
            "cursor_statement_time_share": round(sum(in_sql) / sum(wall), 3),
            "example": example,
        }

    bare = samples["bare"]
    bare.extra = {"row_bytes_hint": "a copy of one loaded 住民票 row, all columns but id"}
    for name in MOVEMENT_KINDS:
        s = samples[name]
        s.extra = {"kind": name, **bench.statements[f"movement.{name}"]}
        s.extra.pop("example")
        if name == "move_in":
            s.extra["p50_ms_by_persons"] = {
                k: round(percentile(v, 50) * 1000, 2) for k, v in sorted(sizes_by_move_in.items())
            }
            s.extra["n_by_persons"] = {k: len(v) for k, v in sorted(sizes_by_move_in.items())}
        if name == "relocation":
            s.extra["persons_mean"] = round(
                statistics.fmean(len(ids) for ids in relocation_ids[warm:timed_end]), 2
            )
        bench.report(f"movement.{name}", s, "bare_insert_commit", bare)


# --- as-of ------------------------------------------------------------------------------------


def raw_as_of_sql(town_id: int, number: str, on: date) -> tuple[str, list[Any]]:
    """``household_as_of`` as one hand-written statement: the same correlated subquery."""
    sql_text = (
        f"SELECT r.*, p.* FROM {RECORD_TABLE} r JOIN {PERSON_TABLE} p ON p.id = r.person_id "  # noqa: S608
        "WHERE r.municipality_id = %s AND r.household_number = %s AND r.status = %s "
        f"AND r.person_id IN (SELECT v.person_id FROM {RECORD_TABLE} v "
        "WHERE v.municipality_id = %s AND v.household_number = %s) "
        f"AND r.id = (SELECT u.id FROM {RECORD_TABLE} u WHERE u.municipality_id = %s "
        "AND u.person_id = r.person_id AND NOT u.cancelled AND u.effective_from <= %s "
        "ORDER BY u.seq DESC LIMIT 1) "
        "ORDER BY r.household_order, r.person_id"
    )
    return sql_text, [town_id, number, "1", town_id, number, town_id, on.isoformat()]


def measure_as_of(
    bench: Bench, town: Municipality, vendor: str, queries: int, rng: random.Random
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from moyai.platform.tenancy import tenant_context
    from moyai.registry.selectors import household_as_of

    today = timezone.localdate()
    rows = sample_records(town, queries, rng)

    def as_of_date(r: ResidentRecord) -> date:
        # Mostly days on which the household lived here (from a year before its entry), so
        # that most queries return members; the rest return an empty household.
        try:
            entered = date.fromisoformat(r.effective_from)
        except ValueError:
            entered = date(2000, 1, 1)
        first = max(date(2000, 1, 1), entered - timedelta(days=365))
        return first + timedelta(days=rng.randrange(max(1, (today - first).days + 1)))

    cases = [(r.household_number, as_of_date(r)) for r in rows]
    full, no_audit, raw = Sample(), Sample(), Sample()
    found: list[int] = []

    def selector(number: str, on: date, sample: Sample | None) -> int:
        start = time.perf_counter()
        with tenant_context(town):
            got = household_as_of(household_number=number, on=on, purpose=PURPOSE)
        if sample is not None:
            sample.seconds.append(time.perf_counter() - start)
        return len(got)

    def selector_no_audit(number: str, on: date, sample: Sample | None) -> None:
        with audit_disabled():
            selector(number, on, sample)

    def raw_sql(number: str, on: date, sample: Sample | None) -> None:
        sql_text, params = raw_as_of_sql(town.pk, number, on)
        with tenant_context(town), connection.cursor() as cur:
            start = time.perf_counter()
            cur.execute(sql_text, params)
            cur.fetchall()
            if sample is not None:
                sample.seconds.append(time.perf_counter() - start)

    for number, on in cases[: min(WARMUP, len(cases))]:
        selector(number, on, None)
        selector_no_audit(number, on, None)
        raw_sql(number, on, None)
    for i, (number, on) in enumerate(cases):
        got: list[int] = []
        run_rotated(
            [
                lambda number=number, on=on, got=got: got.append(selector(number, on, full)),
                lambda number=number, on=on: selector_no_audit(number, on, no_audit),
                lambda number=number, on=on: raw_sql(number, on, raw),
            ],
            i,
        )
        found.append(got[0])

    number, _ = cases[0]
    on = today
    with CaptureQueriesContext(connection) as captured, tenant_context(town):
        household_as_of(household_number=number, on=on, purpose=PURPOSE)
    orm_sql = captured_select(captured.captured_queries, RECORD_TABLE)
    raw_text, raw_params = raw_as_of_sql(town.pk, number, on)
    with tenant_context(town):
        orm_plan = explain(orm_sql, vendor)
        raw_plan = explain_raw(raw_text, raw_params, vendor)
    bench.plans["as_of.household"] = {
        "typed": f"{number} @ {on.isoformat()}",
        "orm_sql": orm_sql,
        "orm_plan": orm_plan,
        "raw_plan": raw_plan,
        "orm_seq_scan": is_seq_scan(orm_plan, vendor),
        "raw_seq_scan": is_seq_scan(raw_plan, vendor),
    }
    bench.statements["as_of.household"] = len(captured.captured_queries)
    full.extra = {
        "members_mean": round(statistics.fmean(found), 2),
        "empty_share": round(sum(f == 0 for f in found) / len(found), 3),
        "statements": len(captured.captured_queries),
        "seq_scan": bench.plans["as_of.household"]["orm_seq_scan"],
    }
    bench.report("as_of.household", full, "orm_no_audit", no_audit)
    bench.report("as_of.household", full, "raw_sql", raw)


# --- main -------------------------------------------------------------------------------------


def setup(args: argparse.Namespace, bench: Bench) -> Municipality:
    """As the owner: migrate, the municipality, the load, VACUUM (ANALYZE)."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from moyai.platform.audit import Actor, acting_as
    from moyai.platform.models import Municipality
    from moyai.platform.services import municipality_create
    from moyai.platform.tenancy import tenant_context
    from moyai.registry.models import Person

    start = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    log(f"migrated in {time.perf_counter() - start:.1f}s")
    vendor = connection.vendor
    create_bare_table(vendor, settings.DB_APP_ROLE)
    town = Municipality.objects.filter(code=TOWN_CODE).first()
    if town is None:
        if args.reuse:
            raise SystemExit(f"--reuse: municipality {TOWN_CODE} is not in the database")
        with acting_as(Actor(username="bench:registry", channel="cli")):
            town = municipality_create(code=TOWN_CODE, name=TOWN_NAME)
    if args.reuse:
        with tenant_context(town):
            have = Person.objects.count()
        bench.meta["reused"] = True
        log(f"reusing the database: {have:,} persons in {town.code} {town.name}")
        if have < args.persons:
            raise SystemExit(f"--reuse: {have:,} persons, fewer than --persons {args.persons:,}")
        bench.persons = have
    else:
        log(f"loading {args.persons:,} persons into {town.code} {town.name} (bulk_population) ...")
        bench.meta["load"] = load_population(town, args.persons, args.seed, args.batch)
        log(f"  loaded in {bench.meta['load']['load_seconds']}s")
        with tenant_context(town):
            bench.persons = Person.objects.count()
    seconds = vacuum_analyze(vendor)
    log(f"VACUUM (ANALYZE) / ANALYZE in {seconds:.1f}s")
    with connection.cursor() as cur:
        if vendor == "postgresql":
            cur.execute(
                "SELECT pg_total_relation_size(%s), pg_relation_size(%s)",
                [RECORD_TABLE, RECORD_TABLE],
            )
            total, heap = cur.fetchone()
            bench.meta["record_table_mb"] = {
                "heap": round(heap / 2**20),
                "with_indexes": round(total / 2**20),
            }
    return town


def run(args: argparse.Namespace) -> Bench:
    from django.conf import settings
    from django.db import connection

    from moyai.platform.audit import Actor, acting_as

    bench = Bench(args.db)
    town = setup(args, bench)
    vendor = connection.vendor
    switch_to_app_role(vendor, settings.DB_APP_ROLE, bench)
    bench.meta["python"] = platform.python_version()
    bench.meta["loadavg_start"] = [round(x, 2) for x in os.getloadavg()]
    rng = random.Random(args.seed)
    actor = Actor(username="bench", channel="cli", municipality_code=town.code, source_ip=SOURCE_IP)
    with acting_as(actor):
        if "search" in args.parts:
            log(f"search: {args.queries} queries per kind, {len(SEARCH_KINDS)} kinds ...")
            rows = sample_records(town, args.queries, rng)
            variants = variant_records(town, max(1, args.queries // 5), rng)
            for kind in SEARCH_KINDS:
                start = time.perf_counter()
                cases = search_cases(kind, rows, variants)
                measure_search(bench, town, vendor, kind, cases)
                log(f"  search.{kind}: {time.perf_counter() - start:.0f}s")
        if "movements" in args.parts:
            log(f"異動: {args.movements} rounds of move_in, relocation, death, bare insert ...")
            measure_movements(bench, town, args.movements, rng, args.seed)
        if "as_of" in args.parts:
            log(f"as-of: {args.queries} household_as_of ...")
            measure_as_of(bench, town, vendor, args.queries, rng)
    bench.meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    return bench


def summarize(bench: Bench) -> None:
    log("")
    log(
        f"== {bench.db}: {bench.persons:,} persons, {bench.meta.get('server')}, "
        f"Python {bench.meta.get('python')}, load average {bench.meta.get('loadavg_start')} → "
        f"{bench.meta.get('loadavg_end')}"
    )
    log(f"{'measurement':<24} {'baseline':<20} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} ms")
    shown: set[str] = set()
    for r in bench.results:
        if r.name not in shown:
            shown.add(r.name)
            log(
                f"{r.name:<24} {'':<20} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} {r.p99_ms:>8.1f} "
                f"{r.max_ms:>8.1f}"
            )
        log(
            f"{'':<24} {r.baseline_name or '':<20} {r.baseline_p50_ms or 0:>8.1f} "
            f"{r.baseline_p95_ms or 0:>8.1f} {r.baseline_p99_ms or 0:>8.1f} "
            f"{r.baseline_max_ms or 0:>8.1f}   ×{r.ratio_p50} p50"
        )
    log("")
    log("plans (one query of each kind; the ORM's SQL):")
    for name, plan in bench.plans.items():
        first = plan["orm_plan"].splitlines()
        scan = "SEQ SCAN" if plan["orm_seq_scan"] else "index"
        log(f"  {name:<22} {scan:<8} {plan['typed']}")
        for line in first[:12]:
            log(f"      {line}")
    log("")
    log("statements per call (BEGIN/COMMIT/SAVEPOINT included):")
    for name, value in bench.statements.items():
        if isinstance(value, dict):
            value = (
                f"{value['statements_mean']} (min {value['statements_min']}, max "
                f"{value['statements_max']}), {value['cursor_statement_time_share']:.0%} of the "
                "wall time in cursor statements"
            )
        log(f"  {name:<22} {value}")
    log("")
    search_p95 = {r.name: r.p95_ms for r in bench.results if r.name.startswith("search.")}
    movement_p95 = {r.name: r.p95_ms for r in bench.results if r.name.startswith("movement.")}
    for name, p95 in search_p95.items():
        verdict = "met" if p95 < TARGET_SEARCH_P95_MS else "NOT met"
        log(f"target search p95 < {TARGET_SEARCH_P95_MS:g} ms: {name:<22} {p95:8.1f}  {verdict}")
    for name, p95 in movement_p95.items():
        verdict = "met" if p95 < TARGET_MOVEMENT_MS else "NOT met"
        log(f"target 異動 p95 < {TARGET_MOVEMENT_MS:g} ms:   {name:<22} {p95:8.1f}  {verdict}")
    print(
        json.dumps(
            {
                "name": "plans_and_statements",
                "db": bench.db,
                "persons": bench.persons,
                "plans": bench.plans,
                "statements": bench.statements,
                "meta": bench.meta,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--persons", type=int, default=100000, help="residents to load")
    parser.add_argument("--queries", type=int, default=500, help="queries per search kind")
    parser.add_argument("--movements", type=int, default=300, help="異動 per kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated subset of {','.join(PARTS)} (default: all)",
    )
    parser.add_argument("--batch", type=int, default=5000, help="persons per load transaction")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("MOYAI_BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL URL of the benchmark database (dropped and re-created)",
    )
    parser.add_argument("--sqlite-path", help="SQLite file (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="use the kept database as it is (no load)"
    )
    args = parser.parse_args(argv)
    if args.persons < 1000 or args.queries < 1 or args.movements < 1:
        parser.error("--persons ≥ 1000, --queries ≥ 1, --movements ≥ 1")
    args.parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not args.parts or args.parts - set(PARTS):
        parser.error(f"--parts: choose from {', '.join(PARTS)}")

    url, remove = prepare_database(args.db, args.pg_url, args.sqlite_path, args.reuse)
    log(f"database: {url}{' (reused)' if args.reuse else ''}")
    configured = False
    try:
        configure_django(url)
        configured = True
        start = time.perf_counter()
        bench = run(args)
        summarize(bench)
        log(f"total {time.perf_counter() - start:.1f}s")
    finally:
        if configured:
            from django.db import connections

            connections.close_all()
        if args.keep:
            log(f"kept {url} (re-run with --reuse to skip the load)")
        else:
            remove()


if __name__ == "__main__":
    main()
