"""Per-tenant backup benchmark: the nightly incremental of one day's changes of a municipality,
against a plain ``COPY`` of the same tenant's rows measured in the same run, and what that means
for the nightly window (the seed document: 18 municipalities in 6 hours).

    .venv/bin/python bench/backup_bench.py --persons 300000

What the script does (PostgreSQL only):

1. drops and re-creates ``--db`` (default ``moyai_bench_backup``; names not starting with
   ``moyai_bench`` are refused), runs ``moyai migrate`` as the owner, then works as the
   application role (row-level security on, as in production);
2. loads ``--persons`` residents with ``bulk_population`` and ``--audit-rows`` rows of audit log
   (a hash chain that verifies, as half a year to a year of 窓口 reads would leave);
3. full backup (``backup_tenant(kind="full")``: the standard layout + every tenant table) to a
   local and an "offsite" directory;
4. one day's changes through the real services: ``--moves`` 異動 (転居 of whole households,
   転入 of new households, 転出, 死亡 in the proportions below) and ``--reads`` audited reads;
5. the incremental backup of that day (read every tenant table in one snapshot, chunk, compress,
   encrypt, write only new chunks to both targets), then, with nothing changed, a second one;
6. baselines in the same run: ``COPY (SELECT … WHERE municipality_id = …) TO STDOUT`` of every
   tenant table (the raw read floor; its bytes zstd-compressed are what shipping a plain
   compressed dump every night would send) and a plain standard-layout export;
7. restore of the incremental into the same deployment (the day's changes undone) and the
   window plan (``rules.plan_window``) at the seed's link speed (300 MB / 15 min ≈ 2.67 Mbit/s)
   and at 100 Mbit/s.

``--reuse`` skips step 1 and 2 and works on the database an earlier run left (the run does not
drop it at the end), so a second measurement costs no new load. One JSON object per measurement
on stdout; progress on stderr. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(
        f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", file=sys.stderr, flush=True
    )


def emit(name: str, **values: Any) -> None:
    print(json.dumps({"measure": name, **values}, ensure_ascii=False), flush=True)


def prepare_database(pg_url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(pg_url)
    name = parts.path.lstrip("/")
    if not name.startswith("moyai_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the benchmark database must be moyai_bench*")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def migrate(url: str) -> None:
    env = {**os.environ, "MOYAI_DATABASE_URL": url, "MOYAI_ENV": "test"}
    env.pop("MOYAI_DB_ASSUME_ROLE", None)
    env.pop("MOYAI_MIGRATE_DATABASE_URL", None)
    subprocess.run(  # noqa: S603 - our own moyai command
        [str(ROOT / ".venv/bin/moyai"), "migrate", "--verbosity", "0"], env=env, check=True
    )


def configure_django(url: str) -> None:
    os.environ["MOYAI_DATABASE_URL"] = url
    os.environ["MOYAI_ENV"] = "test"
    os.environ.setdefault("MOYAI_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["DJANGO_SETTINGS_MODULE"] = "moyai.platform.settings"
    os.environ["MOYAI_DB_ASSUME_ROLE"] = "1"
    os.environ.pop("MOYAI_MIGRATE_DATABASE_URL", None)
    import django

    django.setup()


def load_audit(town: Any, rows: int, seed: int) -> float:
    """``rows`` audit rows with a valid chain, written with ``COPY`` (as the application role)."""
    from django.db import connection, transaction

    from moyai.platform.audit import _record_body
    from moyai.platform.models import AuditChainHead, AuditEvent
    from moyai.platform.rules import GENESIS_HASH, chain_hash
    from moyai.platform.tenancy import tenant_context

    rng = random.Random(seed)
    start = time.perf_counter()
    prev = GENESIS_HASH
    when = datetime(2026, 4, 1, tzinfo=UTC)
    step = timedelta(seconds=max(1, 240 * 86400 // max(rows, 1)))
    columns = [
        "municipality_id", "seq", "occurred_at", "actor_id", "actor_username",
        "actor_municipality_code", "support_grant_id", "action", "target_type", "target_id",
        "purpose", "detail", "source_ip", "channel", "prev_hash", "hash",
    ]  # fmt: skip
    done = 0
    while done < rows:
        n = min(50_000, rows - done)
        with tenant_context(town), transaction.atomic():
            cur = connection.cursor().cursor
            # COPY FROM is refused under row-level security: this fixture loads as the owner.
            cur.execute("RESET ROLE")
            with cur.copy(f"COPY platform_auditevent ({', '.join(columns)}) FROM STDIN") as copy:
                for i in range(done + 1, done + n + 1):
                    when += step
                    event = AuditEvent(
                        municipality_id=town.pk,
                        seq=i,
                        occurred_at=when,
                        actor_id=rng.randint(1, 60),
                        actor_username=f"staff{rng.randint(1, 60)}",
                        actor_municipality_code=town.code,
                        support_grant_id=None,
                        action=rng.choice(["read", "read", "read", "print", "update"]),
                        target_type=rng.choice(["resident_record", "person", "certificate"]),
                        target_id=str(rng.randint(1, 300_000)),
                        purpose=rng.choice(["住民票の写しの交付", "窓口での確認", "異動の届出"]),
                        detail={"fields": rng.randint(1, 30)},
                        source_ip=f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 250)}",
                        channel="web",
                        prev_hash=prev,
                    )
                    event.hash = chain_hash(prev, _record_body(event))
                    prev = event.hash
                    copy.write_row(
                        [
                            town.pk,
                            i,
                            when,
                            event.actor_id,
                            event.actor_username,
                            town.code,
                            None,
                            event.action,
                            event.target_type,
                            event.target_id,
                            event.purpose,
                            json.dumps(event.detail, ensure_ascii=False),
                            event.source_ip,
                            "web",
                            event.prev_hash,
                            event.hash,
                        ]
                    )
            cur.execute(f"SET ROLE {connection.settings_dict['OPTIONS']['assume_role']}")
        done += n
    with tenant_context(town):
        AuditChainHead.objects.update_or_create(
            municipality_id=town.pk, defaults={"last_seq": rows, "last_hash": prev}
        )
    return time.perf_counter() - start


def day_of_changes(town: Any, moves: int, reads: int, seed: int) -> dict[str, int]:
    """One day at the 窓口 of a large town: ``moves`` 異動 through the services (45 % 転居 of a
    household, 30 % 転入, 15 % 転出, 10 % 死亡 of someone living alone) and ``reads`` audited
    reads of a 住民票."""
    from moyai.platform.audit import audit_record
    from moyai.platform.models import AuditAction
    from moyai.platform.tenancy import tenant_context
    from moyai.registry import services
    from moyai.registry.models import Person, ResidentRecord
    from moyai.registry.rules import FuzzyDate
    from moyai.registry.services import Address, Notification
    from moyai.registry.synthetic import Generator

    today = date(2026, 11, 30)
    note = Notification(FuzzyDate("2026-11-30"), today, counter="本庁")
    with tenant_context(town):
        # A seed of its own per day (the person count grows each run): new residents' 住民票コード
        # must not repeat an earlier run's on a reused database.
        day_seed = seed + 7 + Person.objects.count()
    rng = random.Random(day_seed)
    gen = Generator(day_seed, town.code, today)
    with tenant_context(town):
        heads = list(
            ResidentRecord.objects.filter(is_latest=True, status="1", is_head=True)
            .order_by("?")
            .values_list("household_number", flat=True)[: moves * 2]
        )
    counts = {"relocation": 0, "move_in": 0, "move_out": 0, "death": 0, "reads": 0}
    used: set[str] = set()
    for _ in range(moves):
        r = rng.random()
        with tenant_context(town):
            if r < 0.30:
                spec = gen.household()
                services.move_in(
                    notification=note,
                    members=spec.members,
                    address=spec.address,
                    previous_address=spec.previous_address,
                )
                counts["move_in"] += 1
                continue
            number = next(h for h in heads if h not in used)
            used.add(number)
            members = list(
                ResidentRecord.objects.filter(
                    household_number=number, is_latest=True, status="1"
                ).values_list("person_id", flat=True)
            )
            if r < 0.75:
                town_name, code, postal = rng.choice(gen.towns)
                services.relocation(
                    notification=note,
                    person_ids=members,
                    address=Address(town_name, f"{rng.randint(1, 2999)}番地", "", code, postal),
                )
                counts["relocation"] += 1
            elif r < 0.90 or len(members) != 1:
                services.move_out(notification=note, person_ids=members, destination="横浜市")
                counts["move_out"] += 1
            else:
                services.death(notification=note, person_id=members[0])
                counts["death"] += 1
    with tenant_context(town):
        for _ in range(reads):
            audit_record(
                action=AuditAction.READ,
                target_type="resident_record",
                target_id=rng.randint(1, 300_000),
                purpose="住民票の写しの交付",
            )
            counts["reads"] += 1
    return counts


def copy_baseline(town: Any) -> dict[str, Any]:
    """``COPY … TO STDOUT`` of every tenant table's rows of ``town``; bytes, and zstd of them."""
    import zstandard
    from django.db import connection, transaction

    from moyai.operations.backup.tables import tenant_tables
    from moyai.platform.tenancy import tenant_context

    start = time.perf_counter()
    raw = 0
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    compressed = 0
    with transaction.atomic(), tenant_context(town):
        cur = connection.cursor().cursor
        for spec in tenant_tables():
            query = (
                f'COPY (SELECT * FROM "{spec.db_table}" '  # noqa: S608 - names from the model
                f"WHERE municipality_id = {int(town.pk)}) TO STDOUT"
            )
            with cur.copy(query) as copy:
                for data in copy:
                    raw += len(data)
                    compressed += len(compressor.compress(bytes(data)))
    compressed += len(compressor.flush())
    return {"seconds": time.perf_counter() - start, "bytes": raw, "zstd_bytes": compressed}


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=300_000)
    parser.add_argument("--audit-rows", type=int, default=1_000_000)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--reads", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/moyai_bench_backup", help="database"
    )
    parser.add_argument("--keep", action="store_true", help="keep the backup directories")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database an earlier run loaded (skip drop, migrate and loading)",
    )
    args = parser.parse_args()

    if args.reuse:
        log(f"database {args.pg}: reused as it is (loaded by an earlier run)")
    else:
        log(f"database {args.pg}: drop, create, migrate")
        prepare_database(args.pg)
        migrate(args.pg)
    configure_django(args.pg)

    from moyai.exchange.selectors import export_tenant
    from moyai.operations.backup import rules, services
    from moyai.operations.backup.targets import DirectoryTarget
    from moyai.platform.audit import Actor, acting_as
    from moyai.platform.models import Municipality
    from moyai.platform.services import municipality_create
    from moyai.registry.synthetic import bulk_population

    work = Path(tempfile.mkdtemp(prefix="moyai-backup-bench-"))
    local, offsite = work / "local", work / "offsite"
    targets = [DirectoryTarget(local), DirectoryTarget(offsite)]
    keys = {1: secrets.token_bytes(32)}
    with acting_as(Actor(username="bench:backup", channel="cli")):
        if not args.reuse:
            town = municipality_create(code="143014", name="葉山町")
            other = municipality_create(code="143219", name="寒川町")
            t = time.perf_counter()
            bulk_population(town, persons=args.persons, seed=args.seed)
            bulk_population(other, persons=1000, seed=args.seed + 1)
            log(f"loaded {args.persons:,} persons in {time.perf_counter() - t:.0f}s")
            audit_seconds = load_audit(town, args.audit_rows, args.seed)
            log(f"loaded {args.audit_rows:,} audit rows in {audit_seconds:.0f}s")
        town = Municipality.objects.get(code="143014")

        cpu = time.process_time()
        full = services.backup_tenant(municipality=town, kind="full", targets=targets, keys=keys)
        full_cpu = time.process_time() - cpu
        emit(
            "full_backup",
            persons=args.persons,
            seconds=round(full.seconds, 1),
            python_cpu_seconds=round(full_cpu, 1),
            rows=sum(full.rows.values()),
            chunks=full.stats.chunks,
            plain_bytes=full.stats.plain_bytes,
            stored_bytes=full.stats.stored_bytes,
            offsite_bytes=full.stats.per_target.get(str(offsite), 0),
        )
        log(f"full backup {full.seconds:.0f}s, {full.stats.stored_bytes / 1e6:.1f} MB stored")

        t = time.perf_counter()
        counts = day_of_changes(town, args.moves, args.reads, args.seed)
        emit("day_of_changes", seconds=round(time.perf_counter() - t, 1), **counts)

        cpu = time.process_time()
        inc = services.backup_tenant(
            municipality=town, kind="incremental", targets=targets, keys=keys
        )
        inc_cpu = time.process_time() - cpu
        upload = inc.stats.per_target.get(str(offsite), 0)
        emit(
            "incremental_backup",
            persons=args.persons,
            seconds=round(inc.seconds, 1),
            python_cpu_seconds=round(inc_cpu, 1),
            rows=sum(inc.rows.values()),
            chunks=inc.stats.chunks,
            new_chunks=inc.stats.new_chunks,
            plain_bytes=inc.stats.plain_bytes,
            upload_bytes=upload,
        )
        log(
            f"incremental {inc.seconds:.1f}s, {inc.stats.new_chunks}/{inc.stats.chunks} chunks "
            f"new, {upload / 1e6:.2f} MB offsite"
        )
        same = services.backup_tenant(
            municipality=town, kind="incremental", targets=targets, keys=keys
        )
        emit(
            "incremental_unchanged",
            seconds=round(same.seconds, 2),
            unchanged=same.unchanged,
            upload_bytes=same.stats.per_target.get(str(offsite), 0),
        )

        base = copy_baseline(town)
        emit(
            "baseline_copy",
            seconds=round(base["seconds"], 1),
            bytes=base["bytes"],
            zstd_bytes=base["zstd_bytes"],
            ratio=round(base["seconds"] / inc.seconds, 3),
        )
        t = time.perf_counter()
        export_tenant(
            municipality=town, directory=work / "export", with_my_number=True, purpose="bench"
        )
        export_seconds = time.perf_counter() - t
        emit(
            "baseline_standard_export",
            seconds=round(export_seconds, 1),
            bytes=tree_bytes(work / "export"),
        )

        t = time.perf_counter()
        cpu = time.process_time()
        restore = services.restore_tenant(
            municipality_code=town.code, snapshot=full.snapshot_id, targets=targets, keys=keys
        )
        emit(
            "restore_same_deployment",
            snapshot=restore.snapshot_id,
            seconds=round(time.perf_counter() - t, 1),
            python_cpu_seconds=round(time.process_time() - cpu, 1),
            inserted=sum(restore.inserted.values()),
        )

    for name, link in [("seed_link", rules.seed_link_bits_per_second()), ("100mbps", 100e6)]:
        for label, seconds, sent in [
            ("incremental", inc.seconds, upload),
            ("plain_zstd_dump", base["seconds"], base["zstd_bytes"]),
        ]:
            plan = rules.plan_window(
                window_seconds=6 * 3600,
                link_bits_per_second=link,
                read_seconds_per_tenant=seconds,
                upload_bytes_per_tenant=sent,
            )
            emit(
                "window_plan",
                link=name,
                method=label,
                read_seconds=round(seconds, 1),
                upload_bytes=sent,
                upload_seconds=round(plan.upload_seconds_per_tenant, 1),
                tenants_serial=plan.tenants_serial,
                tenants_pipelined=plan.tenants_pipelined,
                bottleneck=plan.bottleneck,
                seed_figure=18,
            )
    emit("sizes", local_repository_bytes=tree_bytes(local), offsite_bytes=tree_bytes(offsite))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
