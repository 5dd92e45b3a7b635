"""標準レイアウト benchmarks: import of a whole registry into PostgreSQL, against ``COPY`` of the
same rows measured in the same run; export throughput; the import's and export's peak memory.

    .venv/bin/python bench/exchange_bench.py --persons 100000
    .venv/bin/python bench/exchange_bench.py --persons 1000000

What the script does (PostgreSQL only — the fast path it measures is PostgreSQL's):

1. writes a standard-layout package of ``--persons`` synthetic residents straight to CSV with
   ``moyai.registry.synthetic.Generator`` (the households, names, IVS variants and 外国人住民 of
   ``bulk_population``), one 転入 異動 per household and some later history (転居 for 10 % of the
   households, 転出 for 3 %, a cancelled 転居 for 0.5 %), a valid 個人番号 for 97 % of the persons
   and unique 住民票コード; the manifest holds the row counts and SHA-256 like an export's;
2. creates a fresh database (drops and re-creates ``moyai_bench_exchange``; it refuses names not
   starting with ``moyai_bench``), runs ``moyai migrate`` as the owner, creates municipality
   143014 葉山町 (the import requires the package's 団体コード) and bare baseline tables (one
   ``text`` column per CSV column, no index, no key), then works as the application role, so
   that row-level security applies as in production;
3. baseline: ``COPY … FROM STDIN (FORMAT csv, HEADER)`` of 住民票履歴.csv (and, separately, of all
   three files) into the bare tables, file bytes streamed from Python, one transaction each —
   before and after the import; the faster run is the baseline (the conservative choice);
4. runs ``import_tenant(dry_run=True)`` (validation only) and then the real ``import_tenant`` in
   child processes, each reporting its RSS after ``django.setup()`` and the peak RSS of the
   work itself (``VmHWM`` of ``/proc/self/status``, reset after the set-up); the real import
   also reports its phases and the loader's time per SQL step. With ``--orm`` the generic ORM
   path (the one SQLite uses) is timed first, and the registry tables are emptied again (as the
   owner) before the real import;
5. second floor: ``INSERT … SELECT`` of the imported 住民票履歴 rows into an empty table with the
   same 14 indexes (no RLS, no foreign keys, no Python), as the owner — what the indexes cost;
6. the household count of the validation two ways in child processes (the on-disk SQLite tally
   the import uses and a plain ``dict``): seconds and RSS growth;
7. ``VACUUM (ANALYZE)`` of the registry tables as the owner (``--no-analyze`` skips it: the
   export then runs on a freshly loaded table with no planner statistics at all — on this
   server autovacuum is off), then exports the imported municipality
   (``export_tenant(with_my_number=True)``) in a child process and checks that the export is
   byte-identical to the package (so the package was a valid export, and the import lost
   nothing);
8. drops the database and removes the package (``--keep`` keeps both).

One JSON object per measurement goes to stdout (``ratio`` = baseline seconds / measured seconds,
i.e. the share of ``COPY`` speed reached: 0.5 means half as fast as ``COPY``); progress and a
human summary go to stderr. Nothing here asserts a timing: see ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/moyai_bench_exchange"
TOWN_CODE = "143014"
TOWN_NAME = "葉山町"
TODAY = date(2026, 4, 1)
CHUNK = 1 << 20  # bytes per COPY write in the baseline
RECORD_FILE = "住民記録/住民票履歴.csv"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def memory_kb() -> tuple[int, int]:
    """(resident set size now, its peak) of this process in KiB, from ``/proc/self/status``.

    Not ``ru_maxrss``: a child started by ``subprocess`` inherits, through ``exec``, the peak
    of the parent's address space, so its ``ru_maxrss`` is never below the parent's size."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                found[key] = int(value.split()[0])
    return found["VmRSS"], found["VmHWM"]


def reset_peak() -> None:
    """Start the peak (``VmHWM``) afresh from the current size (Linux ``clear_refs`` 5)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


def after_setup() -> dict[str, int]:
    """Memory after ``django.setup()``; the peak is then reset, so that ``rss_peak_kb`` is the
    peak of the measured work alone (the process's whole peak is the larger of the two)."""
    now, peak = memory_kb()
    reset_peak()
    return {"rss_after_setup_kb": now, "setup_peak_kb": peak}


# --- the package --------------------------------------------------------------------------------


class _CsvFile:
    def __init__(self, path: Path, header: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.handle = path.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle, lineterminator="\n")
        self.writer.writerow(header)
        self.rows = 0

    def write(self, row: list[str]) -> None:
        self.writer.writerow(row)
        self.rows += 1

    def close(self) -> dict[str, Any]:
        self.handle.close()
        with self.path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        return {"rows": self.rows, "sha256": digest}


def generate_package(directory: Path, persons: int, seed: int, prefecture: str) -> dict[str, int]:
    """Write a standard-layout package of ``persons`` residents (see the module docstring)."""
    from moyai.exchange import layout
    from moyai.registry.rules import (
        my_number_check_digit,
        parse_relation,
        resident_code_check_digit,
        with_m11,
    )
    from moyai.registry.synthetic import Generator

    gen = Generator(seed, TOWN_CODE, TODAY)
    rng = random.Random(seed + 1)
    files = {
        name: _CsvFile(directory / name, [c.name for c in columns])
        for name, columns in layout.ALL_FILES  # the tax ledgers' files stay empty
    }
    person_file, movement_file, record_file = (files[name] for name, _ in layout.FILES)

    def numbers() -> Iterator[str]:
        base = 0
        while True:
            base += 1
            number = with_m11(base, 15)
            if number is not None:
                yield number

    address_numbers, household_numbers = numbers(), numbers()
    movement_number = 0
    processed = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def encode(columns: tuple[Any, ...], values: dict[str, Any]) -> list[str]:
        return [layout.encode(values[c.attr], c.kind) for c in columns]

    def movement(kind: str, on: date, name: str, **links: int | None) -> int:
        nonlocal movement_number
        movement_number += 1
        values = {
            "number": movement_number,
            "kind": kind,
            "occurred_on": on.isoformat(),
            "occurred_on_unknown": False,
            "occurred_on_label": "",
            "notified_on": min(TODAY, on + timedelta(days=7)),
            "processed_at": processed + timedelta(seconds=movement_number),
            "notifier_name": name,
            "notifier_relation": "本人",
            "counter": "本庁",
            "staff_username": "bench:exchange",
            "note": "",
            "warnings": [],
            "cancels_number": links.get("cancels"),
            "cancelled_by_number": links.get("cancelled_by"),
        }
        movement_file.write(encode(layout.MOVEMENT_COLUMNS, values))
        return movement_number

    created = 0
    while created < persons:
        spec = gen.household()
        members = spec.members[: persons - created]
        household = next(household_numbers)
        head = members[0]
        head_name = f"{head.family_name}　{head.given_name}".strip("　")
        moved_in = movement(
            "move_in_abroad" if head.kind == "2" else "move_in",
            spec.moved_in,
            head.family_name,
        )
        fate = rng.random()
        later_on = spec.moved_in + timedelta(
            days=rng.randint(1, max(1, (TODAY - spec.moved_in).days))
        )
        later_on = min(later_on, TODAY)
        town, town_code, postal = rng.choice(gen.towns)
        history: list[tuple[int, dict[str, Any]]] = []  # (movement, changes) after the 転入
        if fate < 0.10:
            relocation = movement("relocation", later_on, head.family_name)
            history.append(
                (
                    relocation,
                    {
                        "effective_from": later_on.isoformat(),
                        "address_town": town,
                        "address_town_code": town_code,
                        "postal_code": postal,
                        "address_block": f"{rng.randint(1, 2999)}番地",
                        "address_building": "",
                        "address_set_on": later_on.isoformat(),
                    },
                )
            )
        elif fate < 0.13:
            moved_out = movement("move_out", later_on, head.family_name)
            history.append(
                (
                    moved_out,
                    {
                        "effective_from": later_on.isoformat(),
                        "status": "2",
                        "destination_planned": "東京都新宿区西新宿二丁目8番1号",
                        "moved_out_planned_on": later_on.isoformat(),
                    },
                )
            )
        elif fate < 0.135:
            # A 転居 entered by mistake and cancelled: its rows stay, flagged, and a third row
            # restores the entry as it was.
            cancelled = movement_number + 1
            movement("relocation", later_on, head.family_name, cancelled_by=cancelled + 1)
            cancellation = movement("cancellation", later_on, head.family_name, cancels=cancelled)
            history.append(
                (
                    cancelled,
                    {
                        "effective_from": later_on.isoformat(),
                        "address_town": town,
                        "cancelled": True,
                    },
                )
            )
            history.append((cancellation, {"effective_from": later_on.isoformat()}))
        for order, p in enumerate(members, start=1):
            created += 1
            number = next(address_numbers)
            ten = f"{(created * 7919 + 12345) % 10**10:010d}"
            eleven = f"{(created * 104729 + 7) % 10**11:011d}"
            my_number = eleven + str(my_number_check_digit(eleven)) if rng.random() < 0.97 else ""
            codes = parse_relation(p.relation)
            name = f"{p.family_name}　{p.given_name}".strip("　")
            base = {
                "address_number": number,
                "seq": 1,
                "is_latest": not history,
                "movement_number": moved_in,
                "effective_from": spec.moved_in.isoformat(),
                "cancelled": False,
                "status": "1",
                "kind": p.kind,
                "family_name": p.family_name,
                "given_name": p.given_name,
                "name": name,
                "name_kana": p.name_kana,
                "kana_status": "1" if p.kana_confirmed else "0",
                "name_roman": p.name_roman,
                "former_surname": "",
                "former_surname_kana": "",
                "alias": "",
                "alias_kana": "",
                "birth_date": p.birth.iso,
                "birth_date_unknown": False,
                "birth_date_label": "",
                "sex": p.sex,
                "household_number": household,
                "is_head": codes == ["02"],
                "relation_codes": codes,
                "household_order": order,
                "head_name": head_name,
                "address_prefecture": prefecture,
                "address_city": TOWN_NAME,
                "address_town": spec.address.town,
                "address_town_code": spec.address.town_code,
                "address_block": spec.address.block,
                "address_building": spec.address.building,
                "postal_code": spec.address.postal_code,
                "became_resident_on": spec.moved_in.isoformat(),
                "became_resident_on_unknown": False,
                "became_resident_on_label": "",
                "address_set_on": spec.moved_in.isoformat(),
                "address_set_on_unknown": False,
                "address_set_on_label": "",
                "previous_address": spec.previous_address,
                "destination_planned": "",
                "moved_out_planned_on": "",
                "destination_confirmed": "",
                "moved_out_on": "",
                "move_in_notice_on": "",
                "removed_reason": "",
                "removed_on": "",
                "domicile": p.domicile,
                "domicile_head": p.domicile_head,
                "nationality": p.nationality,
                "residence_status": p.residence_status,
                "residence_period": p.residence_period,
                "residence_expiry": "",
                "residence_card_number": p.residence_card_number,
                "article_30_45": p.article_30_45,
                "qualifications": {},
            }
            record_file.write(encode(layout.RECORD_COLUMNS, base))
            for seq, (movement_no, changes) in enumerate(history, start=2):
                row = {
                    **base,
                    **changes,
                    "seq": seq,
                    "movement_number": movement_no,
                    "is_latest": seq == len(history) + 1,
                }
                record_file.write(encode(layout.RECORD_COLUMNS, row))
            person_file.write(
                encode(
                    layout.PERSON_COLUMNS,
                    {
                        "address_number": number,
                        "resident_code": ten + str(resident_code_check_digit(ten)),
                        "my_number": my_number,
                        "latest_seq": len(history) + 1,
                        "created_at": processed + timedelta(seconds=created),
                    },
                )
            )
    infos = {name: f.close() for name, f in files.items()}
    manifest = {
        "format": layout.FORMAT,
        "version": layout.VERSION,
        "団体コード": TOWN_CODE,
        "団体名": f"{prefecture}{TOWN_NAME}",
        "最終異動番号": movement_number,
        "個人番号を含む": True,
        "files": infos,
    }
    (directory / "manifest.json").write_bytes(layout.manifest_bytes(manifest))
    return {name: info["rows"] for name, info in infos.items()}


# --- database -----------------------------------------------------------------------------------


def prepare_database(pg_url: str) -> Callable[[], None]:
    """Drop and re-create the benchmark database; return a function that drops it."""
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
    return drop


def configure_django(url: str, *, assume_role: bool) -> None:
    os.environ["MOYAI_DATABASE_URL"] = url
    os.environ.setdefault("MOYAI_ENV", "test")
    os.environ.setdefault("MOYAI_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DJANGO_SETTINGS_MODULE"] = "moyai.platform.settings"
    os.environ.pop("MOYAI_MIGRATE_DATABASE_URL", None)
    if assume_role:
        os.environ["MOYAI_DB_ASSUME_ROLE"] = "1"
    else:
        os.environ.pop("MOYAI_DB_ASSUME_ROLE", None)
    import django

    django.setup()


def baseline_tables(app_role: str) -> None:
    """As the owner: one bare table per file (every column ``text``; no index, no key)."""
    from django.db import connection

    from moyai.exchange import layout

    role = connection.ops.quote_name(app_role)
    with connection.cursor() as cur:
        for i, (_, columns) in enumerate(layout.FILES):
            cols = ", ".join(f"c{j} text" for j in range(len(columns)))
            cur.execute(f"CREATE TABLE bench_copy_{i} ({cols})")
            cur.execute(f"GRANT SELECT, INSERT, TRUNCATE ON bench_copy_{i} TO {role}")


def copy_baseline(package: Path, files: list[int]) -> float:
    """Seconds to ``COPY`` the given files (indexes into ``layout.FILES``) into the bare tables,
    one transaction each, then empty the tables again (not timed)."""
    from django.db import connection, transaction

    from moyai.exchange import layout

    seconds = 0.0
    for i in files:
        name, _ = layout.FILES[i]
        statement = f"COPY bench_copy_{i} FROM STDIN (FORMAT csv, HEADER)"
        start = time.perf_counter()
        with (
            (package / name).open("rb") as handle,
            transaction.atomic(),
            connection.cursor() as cur,
            cur.cursor.copy(statement) as copy,
        ):
            while data := handle.read(CHUNK):
                copy.write(data)
        seconds += time.perf_counter() - start
        with connection.cursor() as cur:
            cur.execute(f"TRUNCATE bench_copy_{i}")
    return seconds


def indexed_floor(app_role: str) -> float:
    """Seconds to ``INSERT … SELECT`` the imported 住民票履歴 rows into an empty table with the
    same columns and the same 14 indexes (``LIKE … INCLUDING ALL``) but no row-level security,
    no foreign keys and no Python: what the indexes alone cost. As the owner."""
    from django.db import connection, transaction

    with connection.cursor() as cur:
        cur.execute("RESET ROLE")
        try:
            cur.execute("CREATE TABLE bench_indexed (LIKE registry_residentrecord INCLUDING ALL)")
            start = time.perf_counter()
            with transaction.atomic():
                cur.execute("INSERT INTO bench_indexed SELECT * FROM registry_residentrecord")
            seconds = time.perf_counter() - start
            cur.execute("DROP TABLE bench_indexed")
        finally:
            cur.execute(f"SET ROLE {connection.ops.quote_name(app_role)}")
    return seconds


def empty_registry(app_role: str) -> None:
    """As the owner: empty the registry tables again (after the ``--orm`` import)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("RESET ROLE")
        try:
            cur.execute(
                "TRUNCATE registry_residentrecord, registry_movement, registry_person, "
                "platform_counter CASCADE"
            )
        finally:
            cur.execute(f"SET ROLE {connection.ops.quote_name(app_role)}")


def analyze(app_role: str) -> float:
    """``VACUUM (ANALYZE)`` of the registry tables as the owner (what autovacuum does after a
    bulk load); seconds."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("RESET ROLE")
        try:
            start = time.perf_counter()
            cur.execute(
                "VACUUM (ANALYZE) registry_person, registry_movement, registry_residentrecord"
            )
            seconds = time.perf_counter() - start
        finally:
            cur.execute(f"SET ROLE {connection.ops.quote_name(app_role)}")
    return seconds


def server_facts() -> dict[str, str]:
    from django.db import connection

    facts = {}
    with connection.cursor() as cur:
        for setting in ("server_version", "shared_buffers", "work_mem", "synchronous_commit"):
            cur.execute(f"SHOW {setting}")
            facts[setting] = cur.fetchone()[0]
    return facts


# --- child processes ----------------------------------------------------------------------------


def child(mode: str, url: str, package: Path, out: Path | None) -> None:
    """Run one import/export in this (child) process and print one JSON object."""
    configure_django(url, assume_role=True)
    if mode.startswith("tally-"):
        import moyai.exchange.services  # noqa: F401 - imported before the peak is reset

        setup = after_setup()
        found = household_tally(package, mode.removeprefix("tally-"))
        found.update(setup, rss_peak_kb=memory_kb()[1])
        print(json.dumps(found), flush=True)
        return
    from django.db import connection

    from moyai.exchange import services
    from moyai.exchange.selectors import export_tenant
    from moyai.platform.audit import Actor, acting_as
    from moyai.platform.models import Municipality

    town = Municipality.objects.get(code=TOWN_CODE)
    result: dict[str, Any] = after_setup()
    statements: list[tuple[float, str]] = []
    phases: dict[str, float] = {}

    def timed_phase(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - start

        return run

    def timed_sql(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, ctx)
        finally:
            statements.append((time.perf_counter() - start, " ".join(sql.split())[:90]))

    actor = Actor(username="bench:exchange", channel="cli", municipality_code=TOWN_CODE)
    with acting_as(actor):
        if mode == "export":
            assert out is not None
            start = time.perf_counter()
            export = export_tenant(
                municipality=town, directory=out, with_my_number=True, purpose="性能測定"
            )
            result["seconds"] = time.perf_counter() - start
            result["rows"] = {k: v["rows"] for k, v in export.manifest["files"].items()}
        else:
            stages: list[Any] = []

            class Staging(services._Staging):  # keeps a handle on the loader's step timings
                def __init__(self, *args: Any, **kwargs: Any) -> None:
                    super().__init__(*args, **kwargs)
                    stages.append(self)

                finish = timed_phase("wait_for_loader", services._Staging.finish)
                # How long the validation waited for the loader (the queue holds one chunk).
                _hand_over = timed_phase("hand_over_incl_wait", services._Staging._hand_over)

            services._Staging = Staging  # type: ignore[misc]
            if mode == "import-orm":  # the generic path (SQLite's) on PostgreSQL
                services._can_stage = lambda: False
                services._write = timed_phase("orm_write", services._write)
            services._validate = timed_phase("validate_and_hand_over", services._validate)
            services._check_manifest = timed_phase("manifest_sha256", services._check_manifest)
            services._finish = timed_phase("counters_reconcile_audit", services._finish)
            start = time.perf_counter()
            with connection.execute_wrapper(timed_sql):
                report = services.import_tenant(
                    municipality=town,
                    directory=package,
                    dry_run=mode == "dry-run",
                    purpose="性能測定",
                )
            result["seconds"] = time.perf_counter() - start
            result["ok"] = report.ok
            result["written"] = report.written
            result["problems"] = [asdict(p) for p in report.problems[:5]]
            result["source_counts"] = report.source_counts
            result["imported_counts"] = report.imported_counts
            result["phases"] = {k: round(v, 3) for k, v in phases.items()}
            result["loader_seconds"] = (
                {k: round(v, 3) for k, v in stages[0].seconds.items()} if stages else {}
            )
            result["slowest_statements"] = [
                [round(s, 3), text] for s, text in sorted(statements, reverse=True)[:8]
            ]
    result["rss_peak_kb"] = memory_kb()[1]
    print(json.dumps(result, ensure_ascii=False), flush=True)


def run_child(mode: str, url: str, package: Path, out: Path | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", mode, "--url", url, "--package", str(package)]
    if out is not None:
        command += ["--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())  # noqa: S603
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"child {mode} failed ({done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def household_tally(package: Path, how: str) -> dict[str, Any]:
    """The import's household count (members and heads per 世帯 of the latest resident entries,
    needed because 住民票履歴 is sorted by person, not by 世帯) over the package's rows, ``how``:
    ``sqlite`` (the on-disk tally the import uses), ``dict`` (a plain ``Counter``, for
    comparison) or ``read`` (only reading the rows). Run in a child process for its peak RSS."""
    from collections import Counter

    from moyai.exchange import layout
    from moyai.exchange.services import _HouseholdTally

    names = [c.attr for c in layout.RECORD_COLUMNS]
    latest, status = names.index("is_latest"), names.index("status")
    household, head = names.index("household_number"), names.index("is_head")

    def members() -> Iterator[tuple[str, bool]]:
        with (package / RECORD_FILE).open(encoding="utf-8", newline="") as handle:
            rows = csv.reader(handle)
            next(rows)
            for row in rows:
                if row[latest] == "1" and row[status] == "1":
                    yield row[household], row[head] == "1"

    start = time.perf_counter()
    if how == "sqlite":
        tally = _HouseholdTally()
        try:
            for number, is_head in members():
                tally.add(number, is_head)
            tally.finish()
            odd = len(list(tally.without_one_head()))
            households = sum(tally.sizes().values())
        finally:
            tally.close()
    elif how == "dict":
        size: Counter[str] = Counter()
        heads: Counter[str] = Counter()
        for number, is_head in members():
            size[number] += 1
            heads[number] += is_head
        odd = len([h for h in sorted(heads) if heads[h] != 1])
        households = sum(Counter(size.values()).values())
    else:
        households = odd = 0
        for _ in members():
            pass
    return {"seconds": time.perf_counter() - start, "households": households, "odd": odd}


def same_files(a: Path, b: Path) -> bool:
    def digests(root: Path) -> dict[str, str]:
        found = {}
        for path in sorted(root.rglob("*")):
            if path.is_file():
                with path.open("rb") as handle:
                    found[str(path.relative_to(root))] = hashlib.file_digest(
                        handle, "sha256"
                    ).hexdigest()
        return found

    return digests(a) == digests(b)


# --- results ------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    persons: int
    rows: int
    seconds: float
    per_second: float
    baseline_name: str | None = None
    baseline_seconds: float | None = None
    baseline_per_second: float | None = None
    ratio: float | None = None  # baseline seconds / seconds: the share of baseline speed
    unit: str = "rows/s"
    extra: dict[str, Any] = field(default_factory=dict)


def emit(result: Result) -> Result:
    print(json.dumps(asdict(result), ensure_ascii=False), flush=True)
    return result


def measure(name: str, persons: int, rows: int, seconds: float, **kw: Any) -> Result:
    baseline = kw.pop("baseline", None)
    result = Result(name, persons, rows, round(seconds, 3), round(rows / seconds, 1), **kw)
    if baseline is not None:
        base_name, base_seconds = baseline
        result.baseline_name = base_name
        result.baseline_seconds = round(base_seconds, 3)
        result.baseline_per_second = round(rows / base_seconds, 1)
        result.ratio = round(base_seconds / seconds, 3)
    return emit(result)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("MOYAI_BENCH_EXCHANGE_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL URL of the benchmark database (dropped and re-created)",
    )
    parser.add_argument("--workdir", type=Path, help="where to write the package (temporary)")
    parser.add_argument("--skip-dry-run", action="store_true", help="do not time validation alone")
    parser.add_argument(
        "--no-analyze", action="store_true", help="export without VACUUM (ANALYZE) first"
    )
    parser.add_argument(
        "--orm", action="store_true", help="also time the generic ORM path (slow at 1M)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and the package")
    parser.add_argument(
        "--child",
        choices=[
            "import",
            "import-orm",
            "dry-run",
            "export",
            "tally-read",
            "tally-sqlite",
            "tally-dict",
        ],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--package", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.url, args.package, args.out)
        return

    others = subprocess.run(["pgrep", "-f", "_bench.py"], capture_output=True, text=True)  # noqa: S607
    busy = [p for p in others.stdout.split() if int(p) != os.getpid()]
    if busy:
        log(f"warning: other benchmark processes are running ({', '.join(busy)})")

    # The children must derive the same 個人番号 keys as this process.
    os.environ.setdefault("MOYAI_SECRET_KEY", secrets.token_urlsafe(50))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="moyai-exchange-bench-"))
    package, exported = workdir / "package", workdir / "export"
    drop = prepare_database(args.pg_url)
    log(f"database: {args.pg_url}; package: {package}")
    started = time.perf_counter()
    try:
        configure_django(args.pg_url, assume_role=False)
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        from moyai.platform.audit import Actor, acting_as
        from moyai.platform.services import municipality_create

        call_command("migrate", verbosity=0)
        with acting_as(Actor(username="bench:exchange", channel="cli")):
            town = municipality_create(code=TOWN_CODE, name=TOWN_NAME)
        baseline_tables(settings.DB_APP_ROLE)
        with stopwatch() as generated:
            counts = generate_package(package, args.persons, args.seed, town.prefecture)
        size = sum(p.stat().st_size for p in package.rglob("*.csv"))
        log(f"package: {counts}, {size / 2**20:.0f} MiB, written in {generated[0]:.1f}s")
        connection.settings_dict.setdefault("OPTIONS", {})["assume_role"] = settings.DB_APP_ROLE
        connection.close()
        meta = {
            "package_mib": round(size / 2**20, 1),
            "files": counts,
            "machine": {
                "nproc": os.cpu_count(),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
                "python": platform.python_version(),
            },
            "postgres": server_facts(),
        }
        records = counts[RECORD_FILE]
        total_rows = sum(counts.values())

        copy_records = [copy_baseline(package, [2])]
        copy_all = [copy_baseline(package, [0, 1, 2])]
        log(f"COPY 住民票履歴 {copy_records[0]:.2f}s, all files {copy_all[0]:.2f}s")

        dry: dict[str, Any] | None = None
        if not args.skip_dry_run:
            dry = run_child("dry-run", args.pg_url, package)
            if not dry["ok"]:
                raise SystemExit(f"the package does not validate: {dry['problems']}")
            peak = dry["rss_peak_kb"] / 1024
            log(f"validation only {dry['seconds']:.1f}s, peak RSS {peak:.0f} MiB")
        orm: dict[str, Any] | None = None
        if args.orm:
            orm = run_child("import-orm", args.pg_url, package)
            if not orm["written"]:
                raise SystemExit(f"ORM import failed: {orm['problems']}")
            log(f"import through the ORM path {orm['seconds']:.1f}s")
            empty_registry(settings.DB_APP_ROLE)
        imported = run_child("import", args.pg_url, package)
        if not imported["written"] or imported["imported_counts"] != imported["source_counts"]:
            raise SystemExit(f"import failed: {imported['problems']} {imported['imported_counts']}")
        log(f"import {imported['seconds']:.1f}s, peak RSS {imported['rss_peak_kb'] / 1024:.0f} MiB")

        copy_records.append(copy_baseline(package, [2]))
        copy_all.append(copy_baseline(package, [0, 1, 2]))
        log(f"COPY again: 住民票履歴 {copy_records[1]:.2f}s, all files {copy_all[1]:.2f}s")
        floor = indexed_floor(settings.DB_APP_ROLE)
        log(f"INSERT … SELECT into a bare copy with the same indexes: {floor:.2f}s")

        tally: dict[str, Any] = {}
        for how in ("read", "sqlite", "dict"):
            run = run_child(f"tally-{how}", args.pg_url, package)
            tally[how] = {
                "seconds": round(run["seconds"], 3),
                "households": run["households"],
                "rss_growth_mib": round((run["rss_peak_kb"] - run["rss_after_setup_kb"]) / 1024, 1),
            }
        log(f"household tally: {tally}")

        analyzed = None
        if not args.no_analyze:
            analyzed = analyze(settings.DB_APP_ROLE)
            log(f"VACUUM (ANALYZE) of the registry tables: {analyzed:.1f}s")
        export = run_child("export", args.pg_url, package, exported)
        identical = same_files(package, exported)
        log(f"export {export['seconds']:.1f}s, identical to the package: {identical}")

        memory = {
            "rss_after_setup_mib": round(imported["rss_after_setup_kb"] / 1024, 1),
            "rss_peak_mib": round(imported["rss_peak_kb"] / 1024, 1),
        }
        results = [
            measure(
                "import",
                args.persons,
                records,
                imported["seconds"],
                baseline=("copy_records", min(copy_records)),
                extra={
                    **memory,
                    "phases": imported["phases"],
                    "loader_seconds": imported["loader_seconds"],
                    "slowest_statements": imported["slowest_statements"],
                    "copy_records_runs_s": [round(s, 3) for s in copy_records],
                    "household_tally": tally,
                    "source_counts": imported["source_counts"],
                    **meta,
                },
            ),
            measure(
                "import_all_rows",
                args.persons,
                total_rows,
                imported["seconds"],
                baseline=("copy_all_files", min(copy_all)),
                extra={"copy_all_runs_s": [round(s, 3) for s in copy_all]},
            ),
        ]
        results.append(
            measure(
                "indexed_insert_floor",
                args.persons,
                records,
                floor,
                baseline=("copy_records", min(copy_records)),
            )
        )
        if orm is not None:
            results.append(
                measure(
                    "import_orm_path",
                    args.persons,
                    records,
                    orm["seconds"],
                    baseline=("copy_records", min(copy_records)),
                    extra={"phases": orm["phases"]},
                )
            )
        if dry is not None:
            results.append(
                measure(
                    "validate_only",
                    args.persons,
                    records,
                    dry["seconds"],
                    baseline=("copy_records", min(copy_records)),
                    extra={
                        "rss_after_setup_mib": round(dry["rss_after_setup_kb"] / 1024, 1),
                        "rss_peak_mib": round(dry["rss_peak_kb"] / 1024, 1),
                    },
                )
            )
        results.append(
            measure(
                "export",
                args.persons,
                total_rows,
                export["seconds"],
                extra={
                    "records_per_second": round(records / export["seconds"], 1),
                    "rss_after_setup_mib": round(export["rss_after_setup_kb"] / 1024, 1),
                    "rss_peak_mib": round(export["rss_peak_kb"] / 1024, 1),
                    "identical_to_package": identical,
                    "planner_statistics": not args.no_analyze,
                    "vacuum_analyze_s": None if analyzed is None else round(analyzed, 2),
                },
            )
        )
        summarize(results, args.persons, time.perf_counter() - started)
        log(f"household tally (s, RSS growth): {json.dumps(tally)}")
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            log(f"kept {args.pg_url} and {workdir}")
        else:
            drop()
            shutil.rmtree(workdir, ignore_errors=True)


def summarize(results: list[Result], persons: int, seconds: float) -> None:
    log("")
    log(f"標準レイアウト, {persons:,} persons (total {seconds / 60:.1f} min)")
    log(f"{'':18} {'rows':>10} {'s':>8} {'rows/s':>10} {'baseline rows/s':>16} {'ratio':>6} RSS")
    for r in results:
        base = f"{r.baseline_per_second:,.0f}" if r.baseline_per_second else ""
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
        rss = f"{r.extra['rss_peak_mib']:.0f} MiB" if "rss_peak_mib" in r.extra else ""
        log(
            f"{r.name:18} {r.rows:>10,} {r.seconds:>8.1f} {r.per_second:>10,.0f} "
            f"{base:>16} {ratio:>6} {rss}"
        )


if __name__ == "__main__":
    main()
