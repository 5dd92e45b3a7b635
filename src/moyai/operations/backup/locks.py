"""同時実行の制御: one lock per municipality over the operations on its backup repository.

Prune deletes every chunk that no kept snapshot names. A backup stores its chunks first and its
manifest last, so while it runs its new chunks are named by no manifest yet: a prune at that
moment would take them for garbage, and the new snapshot would point at chunks that are gone
(silently, on every target). Rekey is the same (new-key chunks before the rewritten manifest).
So backup, prune and rekey of a municipality hold its lock **exclusively** for their whole run;
verify, restore and extract only read the repository and hold it **shared** (they may run
together, never beside a prune, and a verify never sees half a backup).

The lock lives where every process of the deployment meets, the database:

* PostgreSQL: a session-level advisory lock, ``pg_try_advisory_lock[_shared](class, key)`` with
  ``class`` = :data:`PG_LOCK_CLASS` and ``key`` = the 団体コード as a number, taken on a
  connection of its own (autocommit, open for the duration; not the connection the work runs
  on, so no rollback, reconnect or ``CONN_MAX_AGE`` of the work can drop it). It holds across
  processes and machines; the server releases it when the holder's connection ends, so a killed
  worker leaves no stale lock. The connection's ``application_name`` says what holds it
  (operation, start, pid and host), read back from ``pg_locks`` and ``pg_stat_activity`` by a
  refused caller. The connection must reach PostgreSQL directly or through a session-pooling
  proxy (a transaction-pooling PgBouncer cannot keep a session lock).
* SQLite (one machine): ``flock`` on a file beside the database file (for an in-memory database,
  in a directory of this process); the kernel releases it when the process ends. Each holder
  leaves a note beside it naming itself.

Try-locks are polled, never queued: a caller gets the lock at once, or after waiting up to
``wait`` seconds, or gets :class:`TenantBusy` naming the municipality and the holders, before
it has read or written anything. A waiting writer does not hold back readers, and no wait can
deadlock.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import glob
import json
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from django.db import connections
from django.utils import timezone

from moyai.platform.errors import ServiceError

OPERATIONS: dict[str, str] = {
    "backup": "バックアップ",
    "prune": "保存期間の削除",
    "rekey": "鍵の更新",
    "verify": "検証",
    "restore": "復元",
    "extract": "標準レイアウトの取り出し",
}
EXCLUSIVE = frozenset({"backup", "prune", "rekey"})

# pg_advisory_lock(PG_LOCK_CLASS, <団体コード>): the class is a constant of moyai's backup
# (ASCII "mbku"); no other lock of moyai uses it. Operators see the holders with
#   SELECT l.objid, l.mode, a.application_name, a.client_addr FROM pg_locks l
#   JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.classid = 1835166581;
PG_LOCK_CLASS = 0x6D626B75
APPLICATION_PREFIX = "moyai-backup"

POLL_SECONDS = 1.0
# Indirections for tests (a wait is tested by what happens at each poll, not by the clock).
_sleep = time.sleep
_clock = time.monotonic


class TenantBusy(ServiceError):
    """Another process holds the municipality's backup lock; nothing was read or written."""

    code = "busy"

    def __init__(self, municipality_code: str, operation: str, holders: Sequence[Holder]) -> None:
        self.municipality_code = municipality_code
        self.operation = operation
        self.holders = list(holders)
        what = "、".join(h.describe() for h in holders) or (
            "別の処理（バックアップ・保存期間の削除・鍵の更新・検証・復元のいずれか）"
        )
        super().__init__(
            f"団体 {municipality_code} の{OPERATIONS[operation]}を行いませんでした: "
            f"同じ団体の{what}が実行中です。終わってから実行してください",
            field="municipality",
        )


class LockLost(ServiceError):
    """The lock's connection ended while the work ran (the database restarted, a proxy cut it)."""

    code = "lock_lost"


@dataclass(frozen=True)
class Holder:
    """Who holds a municipality's lock, as far as can be told."""

    operation: str  # a key of OPERATIONS, or "" for something else (e.g. psql)
    host: str = ""
    pid: int | None = None
    since: datetime | None = None
    raw: str = ""  # what is known of a holder that is not moyai

    def describe(self) -> str:
        label = OPERATIONS.get(self.operation)
        if label is None:
            return f"別の接続（{self.raw}）" if self.raw else "別の処理"
        where = []
        if self.pid is not None:
            where.append(f"{self.host} の pid {self.pid}" if self.host else f"pid {self.pid}")
        if self.since is not None:
            where.append(f"{timezone.localtime(self.since):%Y-%m-%d %H:%M:%S} から")
        return f"{label}（{'、'.join(where)}）" if where else label


def application_name(holder: Holder) -> str:
    """``moyai-backup <operation> <unix time> <pid>@<host>`` (PostgreSQL keeps 63 bytes)."""
    since = int((holder.since or timezone.now()).timestamp())
    return f"{APPLICATION_PREFIX} {holder.operation} {since} {holder.pid}@{holder.host}"[:63]


def parse_application_name(text: str, *, backend_pid: int | None = None) -> Holder:
    parts = text.split(" ", 3)
    if len(parts) == 4 and parts[0] == APPLICATION_PREFIX and parts[1] in OPERATIONS:
        pid, _, host = parts[3].partition("@")
        with contextlib.suppress(ValueError):
            return Holder(
                parts[1],
                host=host,
                pid=int(pid),
                since=datetime.fromtimestamp(int(parts[2]), UTC),
            )
    label = text or "名前のない接続"
    return Holder("", raw=f"{label}、サーバーの pid {backend_pid}" if backend_pid else label)


def pg_lock_key(municipality_code: str) -> int:
    """The advisory lock's second key: the 団体コード itself (a 6-digit number); any other code
    maps to a negative number, so it never meets a real one."""
    if municipality_code.isascii() and municipality_code.isdigit() and len(municipality_code) < 10:
        return int(municipality_code)
    return -1 - (zlib.crc32(municipality_code.encode()) & 0x7FFFFFFF)


class HeldLock(Protocol):
    def check(self) -> None:
        """Raise :class:`LockLost` when the lock is no longer held."""


class _Lock(Protocol):
    def try_acquire(self) -> bool: ...
    def holders(self) -> list[Holder]: ...
    def check(self) -> None: ...
    def close(self) -> None: ...


@contextlib.contextmanager
def tenant_lock(
    municipality_code: str, operation: str, *, wait: float = 0.0, using: str = "default"
) -> Iterator[HeldLock]:
    """Hold the backup lock of ``municipality_code`` for ``operation`` (exclusive for backup,
    prune and rekey; shared for the readers). Waits up to ``wait`` seconds, then raises
    :class:`TenantBusy`. ``using`` is the deployment's database (where the processes meet),
    not the one a restore writes to."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown backup operation {operation!r}")
    if wait < 0:
        raise ServiceError("待ち時間は 0 秒以上で指定してください", field="wait")
    me = Holder(operation, host=socket.gethostname(), pid=os.getpid(), since=timezone.now())
    lock = _open(using, municipality_code, exclusive=operation in EXCLUSIVE, me=me)
    try:
        deadline = _clock() + wait
        while not lock.try_acquire():
            remaining = deadline - _clock()
            if remaining <= 0:
                raise TenantBusy(municipality_code, operation, lock.holders())
            _sleep(min(POLL_SECONDS, remaining))
        yield _Held(lock, municipality_code, operation)
    finally:
        lock.close()


@dataclass
class _Held:
    lock: _Lock
    municipality_code: str
    operation: str

    def check(self) -> None:
        try:
            self.lock.check()
        except LockLost:
            raise LockLost(
                f"団体 {self.municipality_code} のロックが途中で失われました（データベースへの"
                f"接続が切れた、またはロックのファイルが消された）。{OPERATIONS[self.operation]}を"
                "中止しました。もう一度実行してください",
                field="municipality",
            ) from None


def _open(using: str, code: str, *, exclusive: bool, me: Holder) -> _Lock:
    db = connections[using]
    if db.vendor == "postgresql":
        return _PostgresLock(db, code, exclusive=exclusive, me=me)
    return _FileLock(_lock_directory(db), code, exclusive=exclusive, me=me)


class _PostgresLock:
    def __init__(self, db: Any, code: str, *, exclusive: bool, me: Holder) -> None:
        from psycopg import sql

        self.key = pg_lock_key(code)
        self.exclusive = exclusive
        self.conn = db.Database.connect(**db.get_connection_params())
        try:
            self.conn.autocommit = True
            with self.conn.cursor() as cursor:
                role = db.settings_dict.get("OPTIONS", {}).get("assume_role")
                if role:
                    cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
                cursor.execute(
                    "SELECT set_config('application_name', %s, false)", [application_name(me)]
                )
        except BaseException:
            self.conn.close()
            raise

    def _rows(self, query: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cursor:
            cursor.execute(query, params)
            return list(cursor.fetchall())

    def try_acquire(self) -> bool:
        fn = "pg_try_advisory_lock" if self.exclusive else "pg_try_advisory_lock_shared"
        return bool(self._rows(f"SELECT {fn}(%s, %s)", [PG_LOCK_CLASS, self.key])[0][0])

    _HELD = (
        "SELECT a.pid, a.application_name FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = %s::int4::oid AND l.objid = %s::int4::oid "
    )

    def holders(self) -> list[Holder]:
        rows = self._rows(
            self._HELD + "AND l.pid <> pg_backend_pid() ORDER BY a.backend_start, a.pid",
            [PG_LOCK_CLASS, self.key],
        )
        return [parse_application_name(name or "", backend_pid=pid) for pid, name in rows]

    def check(self) -> None:
        try:
            held = self._rows(
                self._HELD + "AND l.pid = pg_backend_pid()", [PG_LOCK_CLASS, self.key]
            )
        except Exception:  # the connection is gone (psycopg.OperationalError and kin)
            held = []
        if not held:
            raise LockLost("lock lost")

    def close(self) -> None:
        # Released at once for whoever polls next (ending the session alone would release it
        # too, but only when the server has noticed the disconnection).
        with contextlib.suppress(Exception):
            self._rows("SELECT pg_advisory_unlock_all()", [])
        self.conn.close()


_process_directory: Path | None = None
_process_directory_made = threading.Lock()


def _lock_directory(db: Any) -> Path:
    """Beside the SQLite database file (every process that opens it finds the same lock); an
    in-memory database is private to this process, and so are its locks."""
    global _process_directory
    name = str(db.settings_dict.get("NAME") or "")
    in_memory = getattr(db, "is_in_memory_db", lambda: True)()
    if name and not in_memory:
        path = Path(name)
        return path.parent / f"{path.name}.locks"
    with _process_directory_made:
        if _process_directory is None:
            _process_directory = Path(tempfile.mkdtemp(prefix="moyai-backup-locks-"))
            atexit.register(shutil.rmtree, _process_directory, True)
        return _process_directory


class _FileLock:
    """``flock`` on ``backup-<code>.lock``; each holder writes ``backup-<code>.<pid>-<r>.holder``.

    The lock file is never removed (a process that removed it while another waited could let a
    third lock a new file of the same name); :meth:`check` notices if someone else removed it.
    """

    def __init__(self, directory: Path, code: str, *, exclusive: bool, me: Holder) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.code = code
        self.exclusive = exclusive
        self.me = me
        self.path = directory / f"backup-{code}.lock"
        self.note = directory / f"backup-{code}.{me.pid}-{secrets.token_hex(4)}.holder"
        self.fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        self.held = False

    def try_acquire(self) -> bool:
        assert self.fd is not None
        mode = fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(self.fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self.held = True
        since = self.me.since.isoformat() if self.me.since else None
        note = {"operation": self.me.operation, "pid": self.me.pid, "host": self.me.host}
        self.note.write_text(json.dumps({**note, "since": since}), encoding="utf-8")
        return True

    def holders(self) -> list[Holder]:
        found = []
        pattern = glob.escape(str(self.directory / f"backup-{self.code}.")) + "*.holder"
        for path in sorted(glob.glob(pattern)):
            try:
                note = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # released meanwhile, or half written
            pid = int(note.get("pid") or 0)
            if pid and not _alive(pid):
                Path(path).unlink(missing_ok=True)  # left by a process that was killed
                continue
            since = note.get("since")
            found.append(
                Holder(
                    str(note.get("operation", "")),
                    host=str(note.get("host", "")),
                    pid=pid or None,
                    since=datetime.fromisoformat(since) if since else None,
                )
            )
        return found

    def check(self) -> None:
        assert self.fd is not None
        try:
            same = os.stat(self.path).st_ino == os.fstat(self.fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            raise LockLost("lock file removed")

    def close(self) -> None:
        if self.held:
            self.note.unlink(missing_ok=True)
        if self.fd is not None:
            os.close(self.fd)  # releases the flock
            self.fd = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
