"""The per-municipality backup lock and prune's grace period.

A prune deletes every chunk no kept snapshot names; a backup names its new chunks only when it
writes its manifest, last. These tests put a prune exactly there (inside the backup's manifest
write) and show that the lock refuses it, that without the lock the new snapshot would lose
chunks, and that the grace period saves them even from a prune the lock cannot see.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from moyai.operations.backup import locks, services
from moyai.operations.backup.locks import (
    Holder,
    LockLost,
    TenantBusy,
    application_name,
    parse_application_name,
    pg_lock_key,
    tenant_lock,
)
from moyai.operations.backup.repository import Repository, WriteStats
from moyai.operations.backup.targets import DirectoryTarget
from moyai.operations.backup.tasks import nightly_backup
from moyai.platform.tenancy import tenant_context

from .conftest import KEY, audit_rows, household, populate, run, state, stored


def roots(targets: list[DirectoryTarget]) -> list[Path]:
    return [t.root for t in targets]


def during_manifest_write(monkeypatch: pytest.MonkeyPatch, hook: Callable[[], None]) -> None:
    """Run ``hook`` once, inside the next backup, after its chunks are stored and before the
    manifest that names them is written (the moment a prune must not come)."""
    real = Repository.write_manifest
    calls: list[int] = []

    def write_manifest(self: Repository, key: Any, manifest: Any, stats: Any = None) -> None:
        if not calls:
            calls.append(1)
            hook()
        real(self, key, manifest, stats)

    monkeypatch.setattr(Repository, "write_manifest", write_manifest)


@contextlib.contextmanager
def another_deployments_lock(code: str, operation: str, **kwargs: Any) -> Iterator[Any]:
    """A prune of another deployment (its own database, its own locks): never held back."""

    class Unchecked:
        def check(self) -> None:
            pass

    yield Unchecked()


def two_snapshots_apart(town: Any, targets: list[DirectoryTarget], keys: dict[int, bytes]) -> Any:
    populate(town, 2)
    first = services.backup_tenant(municipality=town, targets=targets, keys=keys)
    with tenant_context(town):
        household("堀内", "山本", 1)
    return first


# --- a prune during a backup -------------------------------------------------------------------


def test_a_prune_during_a_backup_is_refused_and_deletes_nothing(
    town_a, cli_actor, targets, keys, monkeypatch
) -> None:
    first = two_snapshots_apart(town_a, targets, keys)
    refused: list[TenantBusy] = []

    def prune_now() -> None:
        before = stored(*roots(targets))
        with pytest.raises(TenantBusy) as info:
            services.backup_prune(
                municipality_code=town_a.code,
                daily=0,
                monthly=0,
                last=1,
                targets=targets,
                keys=keys,
                grace=timedelta(0),
            )
        assert stored(*roots(targets)) == before
        refused.append(info.value)

    during_manifest_write(monkeypatch, prune_now)
    second = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    assert second.stats.new_chunks > 0 and len(refused) == 1
    message = refused[0].message
    assert message.startswith(
        f"団体 {town_a.code} の保存期間の削除を行いませんでした: 同じ団体のバックアップ（"
    )
    assert f"の pid {os.getpid()}、" in message and message.endswith("終わってから実行してください")
    assert audit_rows(town_a, "backup_prune") == 0

    # The new snapshot is whole on both targets, and it restores.
    check = services.backup_verify(municipality_code=town_a.code, targets=targets, keys=keys)
    assert check.ok, check.problems
    assert check.checked_snapshots == 4 and check.snapshot_id == second.snapshot_id

    # Once the backup is done, the same prune runs and keeps what the new snapshot names.
    pruned = services.backup_prune(
        municipality_code=town_a.code,
        daily=0,
        monthly=0,
        last=1,
        targets=targets,
        keys=keys,
        grace=timedelta(0),
    )
    assert pruned.deleted_snapshots == [first.snapshot_id]
    assert pruned.kept == [second.snapshot_id] and pruned.deleted_chunks > 0
    check = services.backup_verify(municipality_code=town_a.code, targets=targets, keys=keys)
    assert check.ok and check.checked_snapshots == 2
    assert audit_rows(town_a, "backup_prune") == 1


@pytest.mark.parametrize("grace", [timedelta(0), services.PRUNE_GRACE], ids=["no-grace", "grace"])
def test_a_prune_the_lock_cannot_see_is_stopped_by_the_grace_period(
    town_a, cli_actor, targets, keys, monkeypatch, grace
) -> None:
    two_snapshots_apart(town_a, targets, keys)
    pruned: list[services.PruneResult] = []

    def prune_from_elsewhere() -> None:
        with monkeypatch.context() as m:
            m.setattr(services, "tenant_lock", another_deployments_lock)
            pruned.append(
                services.backup_prune(
                    municipality_code=town_a.code,
                    daily=0,
                    monthly=0,
                    last=1,
                    targets=targets,
                    keys=keys,
                    grace=grace,
                )
            )

    during_manifest_write(monkeypatch, prune_from_elsewhere)
    second = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    check = services.backup_verify(
        municipality_code=town_a.code, targets=targets, keys=keys, scratch=False
    )
    if grace:
        # The in-flight backup's chunks were written moments ago: left alone.
        assert pruned[0].deleted_chunks == 0 and pruned[0].recent_chunks > 0
        assert check.ok, check.problems
    else:
        # The hazard itself: the new snapshot names chunks that are gone.
        assert pruned[0].deleted_chunks > 0
        assert not check.ok
        assert any(
            second.snapshot_id in p and p.endswith("がありません") for p in check.problems
        ), check.problems


def test_a_reused_chunk_is_touched_so_the_grace_period_covers_it(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path / "t")
    repo = Repository([target], "143014", {1: KEY})
    key = repo.current_key()
    lines = [f"{i},行{i}\n".encode() for i in range(2000)]
    entry = repo.store_file(key, lines, known=set(), stats=WriteStats())
    old = int((timezone.now() - timedelta(days=3)).timestamp()) * 10**9
    chunk_files = [target.root / repo.chunk_key(n) for n in entry["chunks"]]
    assert len(chunk_files) > 1
    for path in chunk_files:
        os.utime(path, ns=(old, old))
    # Chunks of the previous snapshot ("known") are not even looked at ...
    repo.store_file(key, lines, known=set(entry["chunks"]), stats=WriteStats())
    assert all(p.stat().st_mtime_ns == old for p in chunk_files)
    # ... but stored chunks that it does not name are touched when a backup reuses them.
    stats = WriteStats()
    repo.store_file(key, lines, known=set(), stats=stats)
    assert stats.new_chunks == len(chunk_files) and stats.stored_bytes == 0
    assert all(p.stat().st_mtime_ns > old for p in chunk_files)
    ages = target.list_modified(f"{repo.prefix}chunks/")
    assert sorted(ages) == sorted(repo.chunk_key(n) for n in entry["chunks"])
    assert all(
        t.tzinfo is not None and t > timezone.now() - timedelta(days=1) for t in ages.values()
    )


# --- refused and waiting ----------------------------------------------------------------------


def test_a_refused_backup_writes_nothing_and_names_the_holder(town_a, env, cli_actor) -> None:
    populate(town_a, 1)
    with tenant_lock(town_a.code, "prune"):
        with pytest.raises(CommandError) as info:
            run("backup", "-m", town_a.code)
        message = str(info.value)
        assert message.startswith(
            f"団体 {town_a.code} のバックアップを行いませんでした: 同じ団体の保存期間の削除（"
        )
        assert message.endswith("（--wait 秒数 で待てます）")
        with pytest.raises(CommandError, match="の復元を行いませんでした"):
            run("restore", "-m", town_a.code, "--yes")
    assert stored(env / "local", env / "off") == {}  # not even a key check file
    assert audit_rows(town_a, "backup") == 0
    assert " full: " in run("backup", "-m", town_a.code)


def test_a_refused_prune_deletes_nothing(town_a, env, cli_actor) -> None:
    populate(town_a, 1)
    run("backup", "-m", town_a.code)
    with tenant_context(town_a):
        household("堀内", "山本", 1)
    run("backup", "-m", town_a.code)
    before = stored(env / "local", env / "off")
    prune = ("backup", "prune", "-m", town_a.code, "--daily", "0", "--monthly", "0")
    refused = f"団体 {town_a.code} の保存期間の削除を行いません"
    with tenant_lock(town_a.code, "backup"), pytest.raises(CommandError, match=refused):
        run(*prune, "--grace-hours", "0")
    assert stored(env / "local", env / "off") == before
    assert audit_rows(town_a, "backup_prune") == 0
    # Unlocked, with the default grace period: the older snapshot goes, its chunks stay a day.
    out = run(*prune)
    assert out.startswith("保持 1 件、削除 1 件（チャンク 0 件、24 時間以内に書かれた未参照の")
    assert run(*prune, "--grace-hours", "0").startswith("保持 1 件、削除 0 件（チャンク ")
    with pytest.raises(CommandError, match="--grace-hours"):
        run(*prune, "--grace-hours", "-1")


def test_readers_share_the_lock_and_writers_are_kept_apart(
    town_a, cli_actor, targets, keys, tmp_path
) -> None:
    populate(town_a, 1)
    services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    before = stored(*roots(targets))
    with tenant_lock(town_a.code, "verify"):
        writers: list[Callable[[], Any]] = [
            lambda: services.backup_tenant(municipality=town_a, targets=targets, keys=keys),
            lambda: services.backup_prune(
                municipality_code=town_a.code, daily=0, monthly=0, targets=targets, keys=keys
            ),
            lambda: services.backup_rekey(
                municipality_code=town_a.code, targets=targets, keys={**keys, 2: KEY[::-1]}
            ),
        ]
        for write in writers:
            with pytest.raises(TenantBusy, match="同じ団体の検証（"):
                write()
        assert stored(*roots(targets)) == before
        assert audit_rows(town_a, "backup") == 1 and audit_rows(town_a, "backup_prune") == 0
        # Readers run beside a reader (verify restores into a scratch database under it).
        assert services.backup_verify(municipality_code=town_a.code, targets=targets, keys=keys).ok
        services.backup_extract(
            municipality_code=town_a.code, directory=tmp_path / "pkg", targets=targets, keys=keys
        )
    current = state(town_a)
    verified = audit_rows(town_a, "backup_verify")
    with tenant_lock(town_a.code, "backup"):
        with pytest.raises(TenantBusy, match="の復元を行いませんでした: 同じ団体のバックアップ（"):
            services.restore_tenant(municipality_code=town_a.code, targets=targets, keys=keys)
        with pytest.raises(TenantBusy, match="の検証を行いませんでした"):
            services.backup_verify(municipality_code=town_a.code, targets=targets, keys=keys)
        with pytest.raises(TenantBusy, match="の標準レイアウトの取り出しを行いませんでした"):
            services.backup_extract(
                municipality_code=town_a.code, directory=tmp_path / "x", targets=targets, keys=keys
            )
    assert state(town_a) == current and not (tmp_path / "x").exists()
    assert audit_rows(town_a, "backup_verify") == verified
    assert audit_rows(town_a, "backup_restore") == 0


def test_the_lock_is_per_municipality(town_a, town_b, cli_actor, targets, keys) -> None:
    populate(town_b, 1)
    with tenant_lock(town_a.code, "backup"):
        services.backup_tenant(municipality=town_b, targets=targets, keys=keys)


def test_a_waiting_backup_starts_when_the_holder_is_done(
    town_a, cli_actor, targets, keys, monkeypatch
) -> None:
    populate(town_a, 1)
    verify = contextlib.ExitStack()
    verify.enter_context(tenant_lock(town_a.code, "verify"))
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        verify.close()  # the verify ends while the backup waits

    monkeypatch.setattr(locks, "_sleep", sleep)
    result = services.backup_tenant(municipality=town_a, targets=targets, keys=keys, wait=600)
    assert polls == [locks.POLL_SECONDS] and result.kind == "full"


def test_a_wait_that_runs_out_is_refused(town_a, cli_actor, targets, keys, monkeypatch) -> None:
    two_snapshots_apart(town_a, targets, keys)
    services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    before = stored(*roots(targets))
    clock = [1000.0]
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(locks, "_clock", lambda: clock[0])
    monkeypatch.setattr(locks, "_sleep", sleep)
    with tenant_lock(town_a.code, "backup"), pytest.raises(TenantBusy):
        services.backup_prune(
            municipality_code=town_a.code,
            daily=0,
            monthly=0,
            targets=targets,
            keys=keys,
            grace=timedelta(0),
            wait=2.5,
        )
    assert polls == [1.0, 1.0, 0.5]
    assert stored(*roots(targets)) == before


# --- the nightly task ---------------------------------------------------------------------------


def test_the_nightly_task_skips_a_locked_municipality(
    town_a, town_b, env, cli_actor, caplog
) -> None:
    populate(town_a, 1)
    caplog.set_level(logging.WARNING, logger="moyai.operations.backup.tasks")
    with tenant_lock(town_a.code, "verify"):
        assert nightly_backup.call(town_a.code) is None
        assert "-full-" in nightly_backup.call(town_b.code)  # the others go on
        err = StringIO()
        out = run("backup", "--all", "--now", stderr=err)
    assert stored(env / "local" / "tenants" / town_a.code) == {}
    assert audit_rows(town_a, "backup") == 0
    [record] = [r for r in caplog.records if r.name == "moyai.operations.backup.tasks"]
    assert record.getMessage().startswith(
        f"夜間バックアップ: 団体 {town_a.code} を飛ばしました（団体 {town_a.code} の"
        "バックアップを行いませんでした: 同じ団体の検証（"
    )
    assert record.tenant == town_a.code  # type: ignore[attr-defined]
    assert out.startswith(f"{town_b.code} ") and town_a.code not in out
    assert f"飛ばしました: 団体 {town_a.code} のバックアップを行いませんでした" in err.getvalue()
    assert f"1 団体（{town_a.code}）は実行中の処理があったため飛ばしました" in err.getvalue()
    assert "-full-" in nightly_backup.call(town_a.code)  # the next night catches up


def test_the_nightly_task_keeps_its_backup_when_the_prune_is_locked(
    town_a, env, cli_actor, caplog, monkeypatch
) -> None:
    populate(town_a, 1)
    caplog.set_level(logging.WARNING, logger="moyai.operations.backup.tasks")
    later = contextlib.ExitStack()
    real = services.backup_tenant

    def backup_then_a_verify_starts(**kwargs: Any) -> services.BackupResult:
        result = real(**kwargs)
        later.enter_context(tenant_lock(kwargs["municipality"].code, "verify"))
        return result

    monkeypatch.setattr(services, "backup_tenant", backup_then_a_verify_starts)
    with later:
        sid = nightly_backup.call(town_a.code)
    assert sid is not None and "-full-" in sid
    [record] = [r for r in caplog.records if r.name == "moyai.operations.backup.tasks"]
    assert "の保存期間の削除を飛ばしました" in record.getMessage()
    assert audit_rows(town_a, "backup") == 1


# --- the lock itself ------------------------------------------------------------------------------


def test_a_lost_lock_stops_a_prune_before_it_deletes(
    town_a, cli_actor, targets, keys, monkeypatch
) -> None:
    two_snapshots_apart(town_a, targets, keys)
    services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    before = stored(*roots(targets))
    opened: list[Any] = []
    real_open = locks._open

    def open_and_keep(*args: Any, **kwargs: Any) -> Any:
        opened.append(real_open(*args, **kwargs))
        return opened[-1]

    def lose(lock: Any) -> None:
        if isinstance(lock, locks._PostgresLock):
            lock.conn.close()  # as when the database restarts or a proxy cuts the session
        else:
            os.unlink(lock.path)  # as when a clean-up job removes the lock file

    real_read = Repository.read_manifest

    def read_and_lose(self: Repository, sid: str, target: Any = None) -> Any:
        lose(opened[-1])
        return real_read(self, sid, target)

    monkeypatch.setattr(locks, "_open", open_and_keep)
    monkeypatch.setattr(Repository, "read_manifest", read_and_lose)
    with pytest.raises(LockLost, match=f"団体 {town_a.code} のロックが途中で失われました"):
        services.backup_prune(
            municipality_code=town_a.code,
            daily=0,
            monthly=0,
            targets=targets,
            keys=keys,
            grace=timedelta(0),
        )
    assert stored(*roots(targets)) == before
    assert audit_rows(town_a, "backup_prune") == 0


CHILD = """
import os, sys
from pathlib import Path
from moyai.operations.backup.locks import Holder, _FileLock
me = Holder("backup", host="batch-2", pid=os.getpid())
lock = _FileLock(Path(sys.argv[1]), "143014", exclusive=True, me=me)
assert lock.try_acquire()
print("held", flush=True)
sys.stdin.read()
"""


def test_the_file_lock_holds_across_processes_and_dies_with_its_holder(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        me = Holder("verify", host="here", pid=os.getpid())
        mine = locks._FileLock(tmp_path, "143014", exclusive=False, me=me)
        try:
            assert not mine.try_acquire()
            assert mine.holders() == [Holder("backup", host="batch-2", pid=child.pid)]
            other = locks._FileLock(tmp_path, "143219", exclusive=True, me=me)
            assert other.try_acquire()  # another municipality
            other.close()
        finally:
            mine.close()
        child.kill()  # a worker killed mid-backup ...
        child.wait()
        mine = locks._FileLock(tmp_path, "143014", exclusive=True, me=me)
        try:
            assert mine.try_acquire()  # ... leaves no lock behind,
            assert mine.holders() == [me]  # and its note is cleared away
            assert len(list(tmp_path.glob("backup-143014.*.holder"))) == 1
        finally:
            mine.close()
        assert list(tmp_path.glob("backup-143014.*.holder")) == []
    finally:
        child.kill()
        child.wait()


@pytest.mark.postgres
def test_a_lock_held_by_another_session_on_postgresql(
    town_a, town_b, cli_actor, targets, keys
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "advisory locks and pg_stat_activity exist on PostgreSQL only; on SQLite the lock "
            "is a flock, tested across processes above"
        )
    populate(town_a, 1)
    other = connection.Database.connect(**connection.get_connection_params())
    try:
        other.autocommit = True
        since = 1796000000
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('application_name', %s, false)",
                [f"moyai-backup prune {since} 4242@batch-2"],
            )
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [locks.PG_LOCK_CLASS, 143014])
        with pytest.raises(TenantBusy) as info:
            services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
        at = timezone.localtime(datetime.fromtimestamp(since, UTC))
        assert info.value.message == (
            f"団体 {town_a.code} のバックアップを行いませんでした: 同じ団体の保存期間の削除"
            f"（batch-2 の pid 4242、{at:%Y-%m-%d %H:%M:%S} から）が実行中です。"
            "終わってから実行してください"
        )
        assert stored(*roots(targets)) == {}
        with other.cursor() as cursor:
            cursor.execute("SELECT set_config('application_name', 'psql', false)")
            cursor.execute("SELECT pg_backend_pid()")
            [(backend,)] = cursor.fetchall()
        with pytest.raises(
            TenantBusy, match=f"同じ団体の別の接続（psql、サーバーの pid {backend}）"
        ):
            services.backup_verify(municipality_code=town_a.code, targets=targets, keys=keys)
        services.backup_tenant(municipality=town_b, targets=targets, keys=keys)  # others go on
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [locks.PG_LOCK_CLASS, 143014])
        services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    finally:
        other.close()


def test_holder_names() -> None:
    since = datetime(2026, 11, 30, 1, 2, 3, tzinfo=UTC)
    holder = Holder("rekey", host="host-" + "x" * 80, pid=123456, since=since)
    name = application_name(holder)
    assert len(name) == 63 and name.isascii()
    back = parse_application_name(name)
    assert (back.operation, back.pid, back.since) == ("rekey", 123456, since)
    assert holder.host.startswith(back.host)
    assert back.describe() == f"鍵の更新（{back.host} の pid 123456、2026-11-30 10:02:03 から）"
    assert Holder("verify").describe() == "検証"
    assert parse_application_name("", backend_pid=9).describe() == (
        "別の接続（名前のない接続、サーバーの pid 9）"
    )
    assert pg_lock_key("143014") == 143014
    assert pg_lock_key("tenant-x") < 0
    with pytest.raises(ValueError), tenant_lock("143014", "delete-everything"):
        pass


def test_the_sqlite_lock_lives_beside_the_database_file() -> None:
    class FileDatabase:
        settings_dict = {"NAME": "/srv/moyai/var/moyai.sqlite3"}

        def is_in_memory_db(self) -> bool:
            return False

    class MemoryDatabase(FileDatabase):
        def is_in_memory_db(self) -> bool:
            return True

    assert locks._lock_directory(FileDatabase()) == Path("/srv/moyai/var/moyai.sqlite3.locks")
    private = locks._lock_directory(MemoryDatabase())  # this process's own
    assert private.is_dir() and private == locks._lock_directory(MemoryDatabase())
