"""Platform benchmarks: audit-log append and verify, outbox dispatch, row-level-security overhead.

Each measurement is compared with a baseline measured in the same run, on the same database::

    .venv/bin/python bench/platform_bench.py --db sqlite --n 20000
    .venv/bin/python bench/platform_bench.py --db postgres --n 20000

``--n`` defaults to 10000 (about 80 s on PostgreSQL on a 2-core machine; 20000, the size the
recorded figures use, takes about 2.7 minutes there). PostgreSQL is reached through ``--pg-url``
(default ``postgres://postgres@127.0.0.1:5432/moyai_bench``, or ``MOYAI_BENCH_PG_URL``); the
connecting user must be allowed to create databases and roles (the local ``postgres`` superuser).

The script creates a fresh database (PostgreSQL: drops and re-creates ``moyai_bench``; SQLite: a
temporary file), runs ``moyai migrate`` and, on PostgreSQL, then works as the application role so
that row-level security applies as in production. It drops the database again at the end
(``--keep`` keeps it).

One JSON object per measurement goes to stdout (``ratio`` = seconds / baseline seconds, i.e. how
many times slower than the baseline); progress and a human summary go to stderr. Nothing here
asserts a timing: the figures are for reading, see ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from moyai.platform.models import Municipality

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/moyai_bench"
BATCH = 1000
SEGMENT = 100  # rows per timing segment inside a transaction (audit append)

# platform_auditevent without "id", in the order the baselines insert them.
AUDIT_COLUMNS = (
    "municipality_id",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_municipality_code",
    "support_grant_id",
    "action",
    "target_type",
    "target_id",
    "purpose",
    "detail",
    "source_ip",
    "channel",
    "prev_hash",
    "hash",
)
COLUMN_LIST = ", ".join(f'"{c}"' for c in AUDIT_COLUMNS)
PLACEHOLDERS = ", ".join(["%s"] * len(AUDIT_COLUMNS))

ACTOR_NAME = "bench"
SOURCE_IP = "192.0.2.10"
PURPOSE = "住民票の写しの交付"
DETAIL = {"fields": ["氏名", "住所", "生年月日"], "screen": "registry.person_detail"}
EVENT_TYPE = "bench.tick"
CONSUMER = "bench.noop"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Result:
    name: str
    db: str
    n: int
    seconds: float
    per_second: float
    baseline_name: str | None
    baseline_seconds: float | None
    baseline_per_second: float | None
    ratio: float | None
    unit: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Timed:
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


class Bench:
    def __init__(self, db: str, n: int) -> None:
        self.db = db
        self.n = n
        self.results: list[Result] = []
        self.meta: dict[str, Any] = {}

    def report(
        self,
        name: str,
        measured: Timed,
        baseline_name: str | None,
        baseline: Timed | None,
        *,
        unit: str,
        n: int | None = None,
    ) -> None:
        count = self.n if n is None else n
        extra = dict(measured.extra)
        if baseline is not None:
            extra.update({f"baseline_{k}": v for k, v in baseline.extra.items()})
        result = Result(
            name=name,
            db=self.db,
            n=count,
            seconds=round(measured.seconds, 6),
            per_second=round(count / measured.seconds, 1),
            baseline_name=baseline_name,
            baseline_seconds=None if baseline is None else round(baseline.seconds, 6),
            baseline_per_second=None if baseline is None else round(count / baseline.seconds, 1),
            ratio=None if baseline is None else round(measured.seconds / baseline.seconds, 2),
            unit=unit,
            extra={**extra, **self.meta},
        )
        self.results.append(result)
        print(json.dumps(asdict(result), ensure_ascii=False), flush=True)


# --- database lifecycle -----------------------------------------------------------------------


def prepare_database(db: str, pg_url: str) -> tuple[str, Callable[[], None]]:
    """Create an empty database; return its URL and a function that removes it."""
    if db == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="moyai-bench-"))
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
    # The benchmark decides the roles itself: migrate as the owner, then assume the app role.
    os.environ.pop("MOYAI_MIGRATE_DATABASE_URL", None)
    os.environ.pop("MOYAI_DB_ASSUME_ROLE", None)
    import django

    django.setup()


def create_baseline_tables(vendor: str, app_role: str) -> None:
    """As the owner: bare copies of the audit table (same columns, indexes and foreign key; no
    row-level security, no hash chain) and a one-row offset table for the commit floor."""
    from django.db import connection

    with connection.cursor() as cur:
        if vendor == "postgresql":
            for table in ("bench_audit_bare", "bench_audit_copy"):
                cur.execute(f"CREATE TABLE {table} (LIKE platform_auditevent INCLUDING ALL)")
                cur.execute(
                    f"ALTER TABLE {table} ADD FOREIGN KEY (municipality_id) "
                    "REFERENCES platform_municipality (id) DEFERRABLE INITIALLY DEFERRED"
                )
            cur.execute(
                "CREATE TABLE bench_offset (id integer PRIMARY KEY, last_event_id bigint NOT NULL, "
                "updated_at timestamptz NOT NULL)"
            )
            role = connection.ops.quote_name(app_role)
            cur.execute(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON bench_audit_bare, bench_audit_copy, "
                f"bench_offset TO {role}"
            )
            cur.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        else:
            cur.execute(
                "SELECT type, name, sql FROM sqlite_master "
                "WHERE tbl_name = 'platform_auditevent' AND sql IS NOT NULL "
                "ORDER BY type = 'index'"
            )
            ddl = cur.fetchall()
            for _, name, statement in ddl:
                statement = statement.replace('"platform_auditevent"', '"bench_audit_bare"')
                if name != "platform_auditevent":
                    statement = statement.replace(f'"{name}"', f'"bench_{name}"', 1)
                cur.execute(statement)
            cur.execute(
                "CREATE TABLE bench_offset (id integer PRIMARY KEY, last_event_id bigint NOT NULL, "
                "updated_at datetime NOT NULL)"
            )
        cur.execute(
            "INSERT INTO bench_offset (id, last_event_id, updated_at) VALUES (1, 0, %s)",
            [connection.ops.adapt_datetimefield_value(datetime.now(UTC))],
        )


def create_temp_table(vendor: str) -> None:
    """Per session, as the application role: the same columns, nothing else (no index, no key,
    no WAL on PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cur:
        if vendor == "postgresql":
            cur.execute(
                "CREATE TEMP TABLE bench_audit_temp "
                "(LIKE platform_auditevent INCLUDING DEFAULTS INCLUDING IDENTITY)"
            )
        else:
            cur.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s",
                ["platform_auditevent"],
            )
            statement = cur.fetchone()[0]
            statement = statement.replace('"platform_auditevent"', '"bench_audit_temp"')
            statement = statement.replace("CREATE TABLE", "CREATE TEMP TABLE", 1)
            statement = statement.split(" REFERENCES ")[0] + ")"
            cur.execute(statement)


def analyze(vendor: str, app_role: str, tables: list[str]) -> None:
    """Fresh planner statistics (and visibility map) so that plans do not depend on whether
    autovacuum happened to run. On PostgreSQL this needs the owner, so the role is switched."""
    from django.db import connection

    with connection.cursor() as cur:
        if vendor == "postgresql":
            cur.execute("RESET ROLE")
            try:
                for table in tables:
                    cur.execute(f"VACUUM (ANALYZE) {table}")
            finally:
                cur.execute(f"SET ROLE {connection.ops.quote_name(app_role)}")
        else:
            cur.execute("ANALYZE")


# --- helpers ----------------------------------------------------------------------------------


@contextmanager
def stopwatch() -> Iterator[Timed]:
    timed = Timed(0.0)
    start = time.perf_counter()
    try:
        yield timed
    finally:
        timed.seconds = time.perf_counter() - start


def batches(n: int, size: int = BATCH) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(start + size, n))


def audit_row(municipality: Municipality, seq: int) -> tuple[Any, ...]:
    """The values audit_record would write for row ``seq``, without the hash chain."""
    from django.db import connection
    from django.utils import timezone

    return (
        municipality.pk,
        seq,
        connection.ops.adapt_datetimefield_value(timezone.now()),
        None,
        ACTOR_NAME,
        municipality.code,
        None,
        "read",
        "person",
        str(100000 + seq),
        PURPOSE,
        json.dumps(DETAIL, ensure_ascii=False),
        SOURCE_IP,
        "cli",
        "0" * 64,
        "f" * 64,
    )


# --- a. audit append --------------------------------------------------------------------------


def bare_insert(municipality: Municipality, n: int, table: str) -> Timed:
    """Per-row INSERT ... RETURNING id through Django's cursor, 1000 rows per transaction."""
    from django.db import connection

    from moyai.platform.tenancy import tenant_context

    # Only this module's constants are formatted in; the values are parameters.
    columns = f"{table} ({COLUMN_LIST})"
    statement = f"INSERT INTO {columns} VALUES ({PLACEHOLDERS}) RETURNING id"  # noqa: S608
    with stopwatch() as timed:
        for batch in batches(n):
            with tenant_context(municipality), connection.cursor() as cur:
                for i in batch:
                    cur.execute(statement, audit_row(municipality, i + 1))
                    cur.fetchone()
    return timed


def bare_copy(municipality: Municipality, n: int) -> Timed:
    """COPY of the same rows, one COPY per 1000-row transaction (PostgreSQL only)."""
    from django.db import connection

    from moyai.platform.tenancy import tenant_context

    statement = f"COPY bench_audit_copy ({COLUMN_LIST}) FROM STDIN"
    with stopwatch() as timed:
        for batch in batches(n):
            with (
                tenant_context(municipality),
                connection.cursor() as cur,
                cur.cursor.copy(statement) as copy,
            ):
                for i in batch:
                    copy.write_row(audit_row(municipality, i + 1))
    return timed


def audit_append(municipality: Municipality, n: int) -> Timed:
    """N audit_record calls, 1000 per tenant_context transaction."""
    from moyai.platform.audit import Actor, acting_as, audit_record
    from moyai.platform.tenancy import tenant_context

    actor = Actor(
        username=ACTOR_NAME, channel="cli", municipality_code=municipality.code, source_ip=SOURCE_IP
    )
    segments: dict[int, list[float]] = {}
    batch_seconds: list[float] = []
    with stopwatch() as timed, acting_as(actor):
        for batch in batches(n):
            batch_start = mark = time.perf_counter()
            with tenant_context(municipality):
                for k, i in enumerate(batch):
                    audit_record(
                        action="read",
                        target_type="person",
                        target_id=100000 + i + 1,
                        purpose=PURPOSE,
                        detail=DETAIL,
                    )
                    if (k + 1) % SEGMENT == 0:
                        now = time.perf_counter()
                        segments.setdefault(k // SEGMENT, []).append(now - mark)
                        mark = now
            batch_seconds.append(time.perf_counter() - batch_start)
    timed.extra = {
        # Mean ms per 100 rows by position in the 1000-row transaction: does a row get slower
        # the more rows the same transaction has already appended?
        "ms_per_100_rows_by_position_in_txn": [
            round(statistics.fmean(v) * 1000, 1) for _, v in sorted(segments.items())
        ],
        "first_batch_s": round(batch_seconds[0], 3),
        "last_batch_s": round(batch_seconds[-1], 3),
    }
    return timed


def hash_only(municipality: Municipality, n: int) -> Timed:
    """CPU cost of the chain alone: N chain_hash calls over bodies shaped like the real ones."""
    from django.utils import timezone

    from moyai.platform.rules import GENESIS_HASH, chain_hash

    prev = GENESIS_HASH
    with stopwatch() as timed:
        for i in range(n):
            body = {
                "municipality_id": municipality.pk,
                "seq": i + 1,
                "occurred_at": timezone.now().isoformat(),
                "actor_id": None,
                "actor_username": ACTOR_NAME,
                "actor_municipality_code": municipality.code,
                "support_grant_id": None,
                "action": "read",
                "target_type": "person",
                "target_id": str(100000 + i + 1),
                "purpose": PURPOSE,
                "detail": dict(DETAIL),
                "source_ip": SOURCE_IP,
                "channel": "cli",
                "prev_hash": prev,
            }
            prev = chain_hash(prev, body)
    return timed


# --- b. audit verify --------------------------------------------------------------------------


def audit_verify(municipality: Municipality, n: int) -> Timed:
    from moyai.platform.audit import audit_verify_chain

    with stopwatch() as timed:
        report = audit_verify_chain(municipality=municipality)
    if not report.ok or report.rows != n + 1:  # the n rows after the registration row
        raise SystemExit(f"audit chain check failed: {report.rows} rows, {report.problems[:3]}")
    return timed


def bare_scan(municipality: Municipality, table: str, order_by: str) -> Timed:
    """SELECT * of the municipality's rows in order, fetched into Python (same transaction shape
    and, on PostgreSQL, the same row-level security as the measured code)."""
    from django.db import connection

    from moyai.platform.tenancy import tenant_context

    statement = f"SELECT * FROM {table} WHERE municipality_id = %s ORDER BY {order_by}"  # noqa: S608
    with tenant_context(municipality), connection.cursor() as cur, stopwatch() as timed:
        cur.execute(statement, [municipality.pk])
        rows = cur.fetchall()
    timed.extra = {"rows_fetched": len(rows)}
    return timed


# --- c. outbox dispatch -----------------------------------------------------------------------


def outbox_emit(municipality: Municipality, n: int) -> Timed:
    from moyai.platform.outbox import emit
    from moyai.platform.tenancy import tenant_context

    with stopwatch() as timed:
        for batch in batches(n):
            with tenant_context(municipality):
                for i in batch:
                    emit(
                        type=EVENT_TYPE,
                        subject_type="person",
                        subject_id=100000 + i + 1,
                        payload={"seq": i + 1, "fields": DETAIL["fields"]},
                    )
    return timed


def _noop(event: Any) -> None:
    return None


def outbox_dispatch(municipality: Municipality, n: int) -> Timed:
    from moyai.platform.outbox import (
        dispatch_tenant,
        register_handler,
        registered_consumers,
        unregister_handler,
    )

    register_handler(consumer=CONSUMER, event_types=[EVENT_TYPE], handler=_noop)
    try:
        consumers = [c for c in registered_consumers() if c.name == CONSUMER]
        with stopwatch() as timed:
            stats = dispatch_tenant(municipality, consumers=consumers)
    finally:
        unregister_handler(CONSUMER)
    if stats.delivered != n:
        raise SystemExit(f"dispatch delivered {stats.delivered} of {n} events")
    return timed


def commit_per_event(municipality: Municipality, n: int) -> Timed:
    """The floor of "one transaction per event": N tenant_context transactions that each only
    update one offset row (no event read, no lock, no ORM)."""
    from django.db import connection
    from django.utils import timezone

    from moyai.platform.tenancy import tenant_context

    with stopwatch() as timed:
        for i in range(n):
            with tenant_context(municipality), connection.cursor() as cur:
                cur.execute(
                    "UPDATE bench_offset SET last_event_id = %s, updated_at = %s WHERE id = 1",
                    [i + 1, connection.ops.adapt_datetimefield_value(timezone.now())],
                )
    return timed


# --- d. row-level security --------------------------------------------------------------------


def rls_count(municipality: Municipality, app_role: str, reps: int) -> tuple[Timed, Timed, int]:
    """count(*) of the audit table as the app role (RLS, tenant set) and as the owner (a
    superuser here, so no RLS at all), alternating, median of ``reps`` after one warm-up each."""
    from django.db import connection, transaction

    from moyai.platform.tenancy import tenant_context

    role = connection.ops.quote_name(app_role)
    count_sql = "SELECT count(*) FROM platform_auditevent"
    app_times: list[float] = []
    owner_times: list[float] = []
    plans: dict[str, str] = {}
    counts: set[int] = set()

    def run(cur: Any, times: list[float]) -> None:
        start = time.perf_counter()
        cur.execute(count_sql)
        counts.add(cur.fetchone()[0])
        times.append(time.perf_counter() - start)

    def plan(cur: Any) -> str:
        cur.execute("EXPLAIN (COSTS OFF) " + count_sql)
        return " / ".join(line.strip() for (line,) in cur.fetchall())

    with connection.cursor() as cur:
        for rep in range(reps + 1):
            with tenant_context(municipality):
                run(cur, app_times)
                if rep == 0:
                    plans["app_role"] = plan(cur)
            with transaction.atomic():
                cur.execute("RESET ROLE")
                try:
                    run(cur, owner_times)
                    if rep == 0:
                        plans["owner"] = plan(cur)
                finally:
                    cur.execute(f"SET ROLE {role}")
    if len(counts) != 1:
        raise SystemExit(f"app role and owner counted different rows: {counts}")

    def summary(times: list[float], who: str) -> Timed:
        kept = times[1:]
        return Timed(
            statistics.median(kept),
            {
                "median_ms": round(statistics.median(kept) * 1000, 3),
                "min_ms": round(min(kept) * 1000, 3),
                "reps": len(kept),
                "plan": plans[who],
            },
        )

    return summary(app_times, "app_role"), summary(owner_times, "owner"), counts.pop()


# --- statement counts -------------------------------------------------------------------------


def statement_counts() -> dict[str, float]:
    """SQL statements (BEGIN, COMMIT and savepoints included) per audit_record inside an open
    transaction and per dispatched event, measured on two extra municipalities after the timed
    runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from moyai.platform.audit import Actor, acting_as, audit_record
    from moyai.platform.outbox import (
        dispatch_tenant,
        emit,
        register_handler,
        registered_consumers,
        unregister_handler,
    )
    from moyai.platform.services import municipality_create
    from moyai.platform.tenancy import tenant_context

    with acting_as(Actor(username=ACTOR_NAME, channel="cli")):
        towns = [
            municipality_create(code="143219", name="寒川町"),
            municipality_create(code="143413", name="大磯町"),
        ]
    with acting_as(Actor(username=ACTOR_NAME, channel="cli")), tenant_context(towns[0]):
        audit_record(action="read", target_type="person", target_id=1)
        with CaptureQueriesContext(connection) as audit_queries:
            audit_record(action="read", target_type="person", target_id=2)

    register_handler(consumer=CONSUMER, event_types=[EVENT_TYPE], handler=_noop)
    try:
        consumers = [c for c in registered_consumers() if c.name == CONSUMER]
        dispatched: list[int] = []
        for town, k in zip(towns, (5, 10), strict=True):
            with tenant_context(town):
                for i in range(k):
                    emit(type=EVENT_TYPE, subject_id=i)
            with CaptureQueriesContext(connection) as queries:
                dispatch_tenant(town, consumers=consumers)
            dispatched.append(len(queries))
    finally:
        unregister_handler(CONSUMER)
    return {
        "statements_per_audit_record": len(audit_queries),
        "statements_per_dispatched_event": (dispatched[1] - dispatched[0]) / 5,
    }


# --- main -------------------------------------------------------------------------------------


def run(db: str, n: int, rls_reps: int) -> Bench:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from moyai.platform.audit import Actor, acting_as
    from moyai.platform.services import municipality_create

    bench = Bench(db, n)
    with stopwatch() as migrate_time:
        call_command("migrate", verbosity=0, interactive=False)
    vendor = connection.vendor
    app_role = settings.DB_APP_ROLE
    create_baseline_tables(vendor, app_role)
    if vendor == "postgresql":
        connection.settings_dict["OPTIONS"]["assume_role"] = app_role
        connection.close()
        with connection.cursor() as cur:
            cur.execute("SELECT current_user, session_user, version()")
            current, session, version = cur.fetchone()
            cur.execute("SHOW synchronous_commit")
            sync = cur.fetchone()[0]
        if current != app_role:
            raise SystemExit(f"expected to run as {app_role}, runs as {current}")
        bench.meta = {"server": version.split(" on ")[0], "synchronous_commit": sync}
        log(f"connected as {current} (session user {session}); {bench.meta['server']}")
    else:
        import sqlite3

        bench.meta = {"server": f"SQLite {sqlite3.sqlite_version}"}
    bench.meta["python"] = platform.python_version()
    log(f"migrated in {migrate_time.seconds:.1f}s; n={n}, {BATCH} rows per transaction")
    create_temp_table(vendor)

    with acting_as(Actor(username=ACTOR_NAME, channel="cli")):
        town = municipality_create(code="143014", name="葉山町")

    log("a. audit append ...")
    temp = bare_insert(town, n, "bench_audit_temp")
    bare = bare_insert(town, n, "bench_audit_bare")
    copy = bare_copy(town, n) if vendor == "postgresql" else None
    append = audit_append(town, n)
    bench.report("audit_append", append, "bare_insert", bare, unit="rows/s")
    bench.report("audit_append", append, "bare_insert_temp_table", temp, unit="rows/s")
    if copy is not None:
        bench.report("audit_append", append, "bare_copy", copy, unit="rows/s")
        bench.report("bare_insert", bare, "bare_copy", copy, unit="rows/s")
    bench.report("audit_hash_only", hash_only(town, n), None, None, unit="rows/s")

    analyze(vendor, app_role, ["platform_auditevent", "platform_auditchainhead"])
    log("b. audit verify ...")
    scan = bare_scan(town, "platform_auditevent", "seq")
    verify = audit_verify(town, n)
    bench.report("audit_verify", verify, "bare_select", scan, unit="rows/s")

    log("c. outbox emit and dispatch ...")
    emitted = outbox_emit(town, n)
    analyze(vendor, app_role, ["platform_outboxevent"])
    scan = bare_scan(town, "platform_outboxevent", "id")
    floor = commit_per_event(town, n)
    dispatch = outbox_dispatch(town, n)
    bench.report("outbox_emit", emitted, None, None, unit="events/s")
    bench.report("outbox_dispatch", dispatch, "bare_select", scan, unit="events/s")
    bench.report("outbox_dispatch", dispatch, "commit_per_event", floor, unit="events/s")

    if vendor == "postgresql":
        log("d. row-level security ...")
        app, owner, rows = rls_count(town, app_role, rls_reps)
        bench.report("rls_count", app, "owner_count", owner, unit="rows/s", n=rows)

    bench.meta["statements"] = statement_counts()
    return bench


def summarize(bench: Bench, n: int) -> None:
    log("")
    log(f"== {bench.db}: n={n}, {bench.meta.get('server')}, Python {bench.meta.get('python')}")
    for r in bench.results:
        base = ""
        if r.baseline_name is not None:
            base = f"  vs {r.baseline_name} {r.baseline_per_second:>10,.0f}  ×{r.ratio:g} time"
        what = f"{r.name} ({r.unit})"
        if r.name == "rls_count":
            base = (
                f"  app role {r.extra['median_ms']} ms, owner {r.extra['baseline_median_ms']} ms"
                f"  ×{r.ratio:g}"
            )
        log(f"{what:<28} {r.per_second:>10,.0f}{base}")
    statements = bench.meta.get("statements", {})
    log(
        "SQL statements (BEGIN/COMMIT/SAVEPOINT included): "
        f"{statements.get('statements_per_audit_record')} per audit_record, "
        f"{statements.get('statements_per_dispatched_event'):g} per dispatched event"
    )
    append = next(r for r in bench.results if r.name == "audit_append")
    by_position = append.extra["ms_per_100_rows_by_position_in_txn"]
    log(
        f"audit_append ms per 100 rows, first vs last 100 rows of a {BATCH}-row transaction: "
        f"{by_position[0]} vs {by_position[-1]}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="sqlite")
    parser.add_argument("--n", type=int, default=10000, help="rows / events (default 10000)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("MOYAI_BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL URL of the benchmark database (dropped and re-created)",
    )
    parser.add_argument("--rls-reps", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if args.n < BATCH or args.n % BATCH:
        parser.error(f"--n must be a positive multiple of {BATCH}")

    url, remove = prepare_database(args.db, args.pg_url)
    log(f"database: {url}")
    configured = False
    try:
        configure_django(url)
        configured = True
        with stopwatch() as total:
            bench = run(args.db, args.n, args.rls_reps)
        summarize(bench, args.n)
        log(f"total {total.seconds:.1f}s")
    finally:
        if configured:
            from django.db import connections

            connections.close_all()
        if args.keep:
            log(f"kept {url}")
        else:
            remove()


if __name__ == "__main__":
    main()
