"""バックアップ・復元: back up one municipality, restore it to a point in time, verify, prune.

Operators run these (CLI, nightly tasks); they never show personal data. Each is recorded in
the municipality's audit log: a backup as 出力 (``backup``), a restore as 更新
(``backup_restore``), a verification as 参照 (``backup_verify``).

Each holds the municipality's backup lock (locks.py) for its whole run: backup, prune and rekey
exclusively, verify, restore and extract shared. One that finds it held waits up to ``wait``
seconds, then raises :class:`~moyai.operations.backup.locks.TenantBusy` having done nothing.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from moyai.operations.backup import rules
from moyai.operations.backup.keys import BackupKeyError, Corrupted
from moyai.operations.backup.locks import HeldLock, TenantBusy, tenant_lock
from moyai.operations.backup.repository import (
    FORMAT,
    FORMAT_VERSION,
    BackupProblem,
    Repository,
    WriteStats,
    snapshot_id,
)
from moyai.operations.backup.tables import (
    AUDIT_HEAD_TABLE,
    AUDIT_TABLE,
    RowMap,
    TableSpec,
    advance_sequence,
    delete_rows,
    dump_lines,
    insert_rows,
    parse_header,
    project_lines,
    row_map,
    row_parser,
    set_database_tenant,
    tenant_tables,
)
from moyai.operations.backup.targets import Target, configured_targets
from moyai.platform.audit import audit_record
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction, AuditEvent, Municipality, OutboxEvent
from moyai.platform.tenancy import tenant_context

# Audit rows that backup itself writes: they do not count as a change of the tenant.
BACKUP_TARGET_TYPES = ("backup", "backup_verify", "backup_prune")
STANDARD_PREFIX = "standard/"


def repository_for(
    code: str, *, targets: list[Target] | None = None, keys: dict[int, bytes] | None = None
) -> Repository:
    return Repository(targets if targets is not None else configured_targets(), code, keys)


@dataclass
class BackupResult:
    snapshot_id: str
    kind: str
    taken_at: datetime
    unchanged: bool
    rows: dict[str, int]
    stats: WriteStats
    seconds: float


def _watermark() -> dict[str, int]:
    """How far the tenant's history and outbox had got (inside a tenant context)."""
    head = AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0
    outbox = OutboxEvent.objects.aggregate(m=Max("id"))["m"] or 0
    return {"audit_seq": int(head), "outbox_id": int(outbox)}


def _changed_since(watermark: dict[str, int]) -> bool:
    """Whether anything was recorded since ``watermark``: every write of tenant data appends to
    the audit log (house rule) and business events to the outbox; backup's own audit rows do
    not count."""
    if OutboxEvent.objects.filter(id__gt=watermark.get("outbox_id", 0)).exists():
        return True
    return (
        AuditEvent.objects.filter(seq__gt=watermark.get("audit_seq", 0))
        .exclude(target_type__in=BACKUP_TARGET_TYPES)
        .exists()
    )


def _schema() -> dict[str, Any]:
    from django.db.migrations.recorder import MigrationRecorder

    applied: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if name > applied.get(app, ""):
            applied[app] = name
    return applied


def backup_tenant(
    *,
    municipality: Municipality,
    kind: str = "auto",
    targets: list[Target] | None = None,
    keys: dict[int, bytes] | None = None,
    purpose: str = "バックアップ",
    chunker: dict[str, int] | None = None,
    wait: float = 0.0,
) -> BackupResult:
    """バックアップ: write a snapshot of every tenant table of ``municipality``.

    ``kind``: ``full`` (also writes the standard layout, so the backup is a migration package),
    ``incremental`` (only chunks not yet stored are written; when nothing was recorded since the
    previous snapshot, the tables are not even read) or ``auto`` (full when the repository has
    no snapshot under the current key version, else incremental). Holds the municipality's
    backup lock exclusively (no prune, rekey or other backup of it meanwhile).
    """
    if kind not in {"auto", "full", "incremental"}:
        raise ServiceError(f"種別 {kind} はありません（full・incremental・auto）", field="kind")
    with tenant_lock(municipality.code, "backup", wait=wait) as lock:
        return _backup(
            lock,
            municipality=municipality,
            kind=kind,
            targets=targets,
            keys=keys,
            purpose=purpose,
            chunker=chunker,
        )


def _backup(
    lock: HeldLock,
    *,
    municipality: Municipality,
    kind: str,
    targets: list[Target] | None,
    keys: dict[int, bytes] | None,
    purpose: str,
    chunker: dict[str, int] | None,
) -> BackupResult:
    started = time.perf_counter()
    repo = repository_for(municipality.code, targets=targets, keys=keys)
    parent: dict[str, Any] | None = None
    try:
        key = repo.current_key()
        for target in repo.targets:
            repo.check_key(key, target, write=True)
        existing = repo.snapshots()
        if existing:
            latest = repo.read_manifest(existing[-1].id)
            if int(latest["key_version"]) == key.version:
                parent = latest
                repo.incomplete = [
                    t for t in repo.targets if not t.exists(repo.snapshot_key(latest["id"]))
                ]
    except (BackupKeyError, BackupProblem) as exc:
        raise ServiceError(str(exc), field="key") from None
    if kind == "auto":
        kind = "incremental" if parent is not None else "full"
    known = repo.chunk_names(parent) if parent is not None else set()
    stats = WriteStats()
    files: dict[str, Any] = {}
    unchanged = False

    def make_chunker() -> rules.Chunker:
        return rules.Chunker(**(chunker or {}))

    if kind == "full":
        # The standard layout: its own consistent export (and audit row), taken just before
        # the table snapshot, so that the snapshot includes that audit row.
        from moyai.exchange.selectors import export_tenant

        with tempfile.TemporaryDirectory(prefix="moyai-backup-") as tmp:
            out = Path(tmp) / "layout"
            export_tenant(
                municipality=municipality,
                directory=out,
                with_my_number=True,
                purpose=f"{purpose}（標準レイアウト）",
            )
            for path in sorted(p for p in out.rglob("*") if p.is_file()):
                name = STANDARD_PREFIX + path.relative_to(out).as_posix()
                with path.open("rb") as f:
                    files[name] = repo.store_file(
                        key, f, known=known, stats=stats, chunker=make_chunker()
                    )

    with _snapshot_transaction():
        taken_at = timezone.now()
        with tenant_context(municipality):
            watermark = _watermark()
            schema = _schema()
            specs = tenant_tables()
            if (
                kind == "incremental"
                and parent is not None
                and parent.get("schema") == schema
                and _same_tables(parent, specs)
                and not _changed_since(parent["watermark"])
            ):
                unchanged = True
                files.update(
                    {k: v for k, v in parent["files"].items() if not k.startswith(STANDARD_PREFIX)}
                )
            else:
                cursor = connection.cursor()
                for spec in specs:
                    entry = repo.store_file(
                        key,
                        dump_lines(cursor, spec, municipality.pk),
                        known=known,
                        stats=stats,
                        chunker=make_chunker(),
                    )
                    entry["table"] = spec.label
                    entry["columns"] = list(spec.columns)
                    files[spec.file_name] = entry

    sid = snapshot_id(taken_at, kind)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "id": sid,
        "kind": kind,
        "parent": parent["id"] if parent else None,
        "taken_at": taken_at.isoformat(),
        "key_version": key.version,
        "database": connection.vendor,
        "schema": schema,
        "watermark": watermark,
        "unchanged": unchanged,
        "municipality": {
            "id": municipality.pk,
            "code": municipality.code,
            "name": municipality.name,
            "prefecture": municipality.prefecture,
            "is_active": municipality.is_active,
            "joined_at": municipality.joined_at.isoformat(),
        },
        "files": files,
    }
    lock.check()  # the chunks are stored; name them only if no prune can have run meanwhile
    repo.write_manifest(key, manifest, stats)
    rows = {
        v["table"]: v["lines"] - 1 for k, v in files.items() if not k.startswith(STANDARD_PREFIX)
    }
    with tenant_context(municipality):
        audit_record(
            action=AuditAction.EXPORT,
            target_type="backup",
            target_id=sid,
            purpose=purpose,
            detail={
                "kind": kind,
                "unchanged": unchanged,
                "targets": [t.name for t in repo.targets],
                "chunks": stats.chunks,
                "new_chunks": stats.new_chunks,
                "stored_bytes": stats.stored_bytes,
            },
        )
    return BackupResult(sid, kind, taken_at, unchanged, rows, stats, time.perf_counter() - started)


def _same_tables(parent: dict[str, Any], specs: list[TableSpec]) -> bool:
    """Whether ``parent`` holds exactly these tables with these columns (its files can then
    stand for an unchanged tenant; after an upgrade they cannot, whatever the schema says)."""
    saved = {
        name: list(entry.get("columns", []))
        for name, entry in parent["files"].items()
        if not name.startswith(STANDARD_PREFIX)
    }
    return saved == {spec.file_name: list(spec.columns) for spec in specs}


class _snapshot_transaction:
    """One consistent, read-only view for the whole table dump (PostgreSQL ``REPEATABLE READ``;
    SQLite transactions are snapshots already)."""

    def __enter__(self) -> None:
        outer = connection.in_atomic_block
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        if connection.vendor == "postgresql" and not outer:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def __exit__(self, *exc: Any) -> None:
        self._atomic.__exit__(*exc)


@dataclass
class RestoreResult:
    snapshot_id: str
    taken_at: datetime
    municipality_id: int
    created_municipality: bool
    deleted: dict[str, int]
    inserted: dict[str, int]
    audit_rows_kept: int
    warnings: list[str] = field(default_factory=list)
    # Across an upgrade (see _SchemaPlan): table → column → how it was filled; table → columns
    # dropped (only with drop_removed_columns); tables of the snapshot this deployment lacks.
    filled_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    dropped_columns: dict[str, list[str]] = field(default_factory=dict)
    ignored_tables: list[str] = field(default_factory=list)


def choose_snapshot(
    repo: Repository, *, at: datetime | None, sid: str | None, source: Target
) -> rules.SnapshotRef:
    refs = repo.snapshots(source)
    if sid:
        match = [r for r in refs if r.id == sid]
        if not match:
            raise ServiceError(f"スナップショット {sid} はありません", field="snapshot")
        return match[0]
    chosen = rules.pick_snapshot(refs, at or timezone.now())
    if chosen is None:
        raise ServiceError(
            f"団体 {repo.code} の {at.isoformat() if at else '現在'} 以前のバックアップは"
            "ありません",
            field="at",
        )
    return chosen


@dataclass
class _SchemaPlan:
    """How a snapshot's tables meet this deployment's (the schema may have changed since)."""

    files: list[tuple[str, TableSpec]]  # (file, current table) to load
    filled: dict[str, dict[str, str]]  # table → added column → how it is filled
    dropped: dict[str, list[str]]  # table → columns removed since (their data is not restored)
    ignored: dict[str, int]  # table gone from this deployment → its rows in the snapshot

    def warnings(self) -> list[str]:
        out = []
        for label, columns in self.filled.items():
            how = "、".join(f"{c}（{h}）" for c, h in columns.items())
            out.append(f"表 {label}: バックアップの後に加わった列 {how} を埋めました")
        for label, dropped in self.dropped.items():
            out.append(
                f"表 {label}: この環境にない列 {'、'.join(dropped)} のデータは戻していません"
                "（--drop-removed-columns）"
            )
        for label, rows in self.ignored.items():
            out.append(f"表 {label} はこの環境にないため、その {rows} 行は戻していません")
        return out

    def detail(self) -> dict[str, Any]:
        """For the restore's audit record (only what applies)."""
        detail: dict[str, Any] = {}
        if self.filled:
            detail["filled_columns"] = self.filled
        if self.dropped:
            detail["dropped_columns"] = self.dropped
        if self.ignored:
            detail["ignored_tables"] = sorted(self.ignored)
        return detail


def _plan_schema(
    manifest: dict[str, Any],
    specs: dict[str, TableSpec],
    db: Any,
    *,
    drop_removed_columns: bool,
) -> _SchemaPlan:
    """Match the snapshot's tables and columns with this deployment's, before anything is
    written. A column added since is filled as its migration filled the rows of that time
    (:func:`~moyai.operations.backup.tables.column_fill`); one that cannot be refuses the
    restore. A column removed since refuses it unless ``drop_removed_columns`` (its data would
    be lost). A table removed since is left out (a warning); a table added since is emptied of
    this municipality's rows like every other (the municipality had none there then)."""
    plan = _SchemaPlan([], {}, {}, {})
    unfillable: list[str] = []
    for name, entry in sorted(manifest["files"].items()):
        if name.startswith(STANDARD_PREFIX):
            continue
        label = entry["table"]
        spec = specs.get(label)
        if spec is None:
            plan.ignored[label] = int(entry["lines"]) - 1
            continue
        mapping = row_map(spec, list(entry["columns"]), db)
        if mapping.unfillable:
            unfillable.append(f"表 {label} の列 {'、'.join(mapping.unfillable)}")
        if mapping.removed:
            plan.dropped[label] = list(mapping.removed)
        if mapping.added:
            plan.filled[label] = {c: fill.label for c, fill in mapping.added.items()}
        plan.files.append((name, spec))
    if unfillable:
        raise ServiceError(
            f"{'、'.join(unfillable)} はバックアップの後に加わった列で、既定値がなく空（NULL）も"
            "許さないため、バックアップ時の行を埋める値がありません。この版の環境へは戻せません"
            "（バックアップ時の版の環境へ戻すか、標準レイアウト（moyai backup extract → "
            "moyai import）で移してください）",
            field="snapshot",
        )
    if plan.dropped and not drop_removed_columns:
        where = "、".join(f"表 {t} の列 {'、'.join(c)}" for t, c in plan.dropped.items())
        raise ServiceError(
            f"バックアップにある {where} はこの環境の表にありません（バックアップの後の移行で"
            "削除された列）。戻すとこれらの列のデータは失われます。承知のうえで戻すときは "
            "--drop-removed-columns を付けてください",
            field="drop_removed_columns",
        )
    return plan


def restore_tenant(
    *,
    municipality_code: str,
    at: datetime | None = None,
    snapshot: str | None = None,
    source: int = 0,
    targets: list[Target] | None = None,
    keys: dict[int, bytes] | None = None,
    using: str = "default",
    purpose: str = "バックアップからの復元",
    wait: float = 0.0,
    drop_removed_columns: bool = False,
) -> RestoreResult:
    """復元: put one municipality back to its newest snapshot at or before ``at``.

    All in one transaction of ``using``: every tenant table's rows of this municipality are
    deleted and the snapshot's rows inserted with their own keys; other municipalities are not
    touched (every statement names this municipality and row-level security holds it there).
    The audit log is append-only and is never rewound: the snapshot's rows must be a prefix of
    the current log (they are compared by hash) and only rows missing from it are inserted; the
    restore itself is appended. When the municipality does not exist in ``using`` (an empty
    deployment), it is created with its original id. Holds the backup lock shared (no prune
    can remove the snapshot while it is read).

    Across an upgrade: columns added since are filled as their migration filled the rows then
    (refused, naming them, when that is not known); columns removed since refuse the restore
    unless ``drop_removed_columns`` (their data is dropped, and the result's warnings and the
    audit record say which); tables removed since are left out with a warning. Every refusal
    comes before anything is written.
    """
    with tenant_lock(municipality_code, "restore", wait=wait):
        return _restore(
            municipality_code=municipality_code,
            at=at,
            snapshot=snapshot,
            source=source,
            targets=targets,
            keys=keys,
            using=using,
            purpose=purpose,
            drop_removed_columns=drop_removed_columns,
        )


def _restore(
    *,
    municipality_code: str,
    at: datetime | None,
    snapshot: str | None,
    source: int,
    targets: list[Target] | None,
    keys: dict[int, bytes] | None,
    using: str,
    purpose: str,
    drop_removed_columns: bool,
) -> RestoreResult:
    repo = repository_for(municipality_code, targets=targets, keys=keys)
    if not 0 <= source < len(repo.targets):
        raise ServiceError(f"保存先 {source} はありません", field="source")
    src = repo.targets[source]
    ref = choose_snapshot(repo, at=at, sid=snapshot, source=src)
    try:
        manifest = repo.read_manifest(ref.id, src)
    except (BackupKeyError, BackupProblem) as exc:
        raise ServiceError(str(exc), field="key") from None
    specs = {s.label: s for s in tenant_tables()}
    info = manifest["municipality"]
    if manifest.get("database") != connections[using].vendor:
        raise ServiceError(
            f"このバックアップは {manifest.get('database')} のものです。別の種類のデータベースへは"
            "標準レイアウト（moyai backup extract → moyai import）で移してください",
            field="snapshot",
        )
    if info["code"] != municipality_code:
        raise ServiceError("バックアップの団体コードが違います", field="municipality")
    db = connections[using]
    plan = _plan_schema(manifest, specs, db, drop_removed_columns=drop_removed_columns)
    warnings: list[str] = []
    with transaction.atomic(using=using):
        municipality = Municipality.objects.using(using).filter(code=municipality_code).first()
        created = municipality is None
        if municipality is None:
            taken = Municipality.objects.using(using).filter(pk=info["id"]).exists()
            municipality = Municipality.objects.using(using).create(
                **({} if taken else {"pk": info["id"]}),
                code=info["code"],
                name=info["name"],
                prefecture=info["prefecture"],
                is_active=info["is_active"],
                joined_at=datetime.fromisoformat(info["joined_at"]),
            )
            if taken:
                warnings.append(
                    f"団体の内部番号 {info['id']} が使用中のため {municipality.pk} で作成しました"
                    "（監査ログは団体コードで検証できます。団体コードをハッシュに含める前の古い行"
                    "だけは元の番号でしか検証できません）"
                )
        mid = municipality.pk
        cursor = db.cursor()
        set_database_tenant(cursor, mid)
        # The audit chain head is kept (and locked): every audited write of this municipality
        # queues behind the restore, and one that started before fails instead of landing
        # half on the old state and half on the restored one.
        has_head = _lock_audit_head(cursor, specs[AUDIT_HEAD_TABLE], mid)
        numbering = None
        if not created and using == "default":
            numbering = _numbering(municipality)
            set_database_tenant(cursor, mid)  # the ORM's tenant context reset it on leaving
        deleted = {
            spec.label: delete_rows(cursor, spec, mid)
            for spec in specs.values()
            if spec.label not in (AUDIT_TABLE, AUDIT_HEAD_TABLE)
        }
        inserted: dict[str, int] = {}
        kept = 0
        try:
            for name, spec in plan.files:
                label = spec.label
                lines = repo.file_lines(manifest, name, target=src)
                _, columns, encoding = parse_header(next(lines))
                if columns != list(manifest["files"][name]["columns"]):
                    raise BackupProblem(f"{name}: 見出しの列が目録と一致しません")
                # Each file's rows are read by its own header (the parts of a snapshot taken
                # across an upgrade each carry the columns of their time).
                mapping = row_map(spec, columns, db)
                parse = _mapped(row_parser(encoding), mapping)
                if label == AUDIT_TABLE:
                    added, same = _merge_audit(cursor, mapping.spec, lines, mid, parse)
                    inserted[label], kept = added, same
                elif label == AUDIT_HEAD_TABLE and has_head:
                    for _ in lines:  # read through: the file's checksum is still verified
                        pass
                else:
                    inserted[label] = _load(cursor, mapping.spec, lines, mid, parse)
        except (BackupProblem, Corrupted) as exc:
            raise ServiceError(str(exc), field="backup") from None
        loaded = {spec.label for _, spec in plan.files}
        for label, count in deleted.items():
            if count and label not in loaded:
                warnings.append(
                    f"表 {label} はバックアップの後に加わった表のため、この団体の {count} 行を"
                    "削除しました（その時点では行がありませんでした）"
                )
        warnings.extend(plan.warnings())
        _fix_audit_head(cursor, specs, mid)
        if numbering is not None:
            _keep_numbering_forward(municipality, numbering)
        if using == "default":
            with tenant_context(municipality):
                audit_record(
                    action=AuditAction.UPDATE,
                    target_type="backup_restore",
                    target_id=ref.id,
                    purpose=purpose,
                    detail={
                        "taken_at": ref.taken_at.isoformat(),
                        "at": at.isoformat() if at else "",
                        "source": src.name,
                        "deleted": sum(deleted.values()),
                        "inserted": sum(inserted.values()),
                        **plan.detail(),
                    },
                )
    return RestoreResult(
        ref.id,
        ref.taken_at,
        mid,
        created,
        deleted,
        inserted,
        kept,
        warnings,
        filled_columns=plan.filled,
        dropped_columns=plan.dropped,
        ignored_tables=sorted(plan.ignored),
    )


@dataclass(frozen=True)
class _Numbering:
    counters: dict[str, int]  # 採番 (宛名番号, 世帯番号, 異動番号 …) by name
    serials: dict[int, int]  # 証明書番号: the last number per year


def _numbering(municipality: Municipality) -> _Numbering:
    from moyai.documents.models import DocumentSerialCounter
    from moyai.platform.models import Counter

    with tenant_context(municipality):
        return _Numbering(
            dict(Counter.objects.values_list("name", "value")),
            dict(DocumentSerialCounter.objects.values_list("year", "last_number")),
        )


def _keep_numbering_forward(municipality: Municipality, before: _Numbering) -> None:
    """Numbers handed out after the snapshot are never handed out again: a restore puts every
    row back, but each 採番 counter and 証明書番号 counter keeps the larger of its restored and
    its pre-restore value. A 宛名番号 already sent to another system, or a certificate already in
    a resident's hands, must not come to name a different person or document (verifying such a
    certificate now answers that it is not in the register)."""
    from moyai.documents.models import DocumentSerialCounter
    from moyai.platform.models import Counter

    with tenant_context(municipality):
        for name, value in before.counters.items():
            if not Counter.objects.filter(name=name, value__gte=value).exists():
                Counter.objects.update_or_create(name=name, defaults={"value": value})
        for year, number in before.serials.items():
            if not DocumentSerialCounter.objects.filter(
                year=year, last_number__gte=number
            ).exists():
                DocumentSerialCounter.objects.update_or_create(
                    year=year, defaults={"last_number": number}
                )


def _batches(
    parse: Callable[[bytes], list[Any]], lines: Iterator[bytes], size: int = 2000
) -> Iterator[list[list[Any]]]:
    batch: list[list[Any]] = []
    for line in lines:
        batch.append(parse(line))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _mapped(parse: Callable[[bytes], list[Any]], mapping: RowMap) -> Callable[[bytes], list[Any]]:
    if mapping.identity:
        return parse
    return lambda line: mapping(parse(line))


def _load(
    cursor: Any,
    spec: TableSpec,
    lines: Iterator[bytes],
    mid: int,
    parse: Callable[[bytes], list[Any]],
) -> int:
    count = 0
    max_pk: int | None = None
    pk_i = spec.columns.index(spec.pk)
    for batch in _batches(parse, lines):
        insert_rows(cursor, spec, batch, mid)
        count += len(batch)
        last = _int_or_none(batch[-1][pk_i])
        if last is not None and (max_pk is None or last > max_pk):
            max_pk = last
    if max_pk is not None:
        advance_sequence(cursor, spec, max_pk)
    return count


def _merge_audit(
    cursor: Any,
    spec: TableSpec,
    lines: Iterator[bytes],
    mid: int,
    parse: Callable[[bytes], list[Any]],
) -> tuple[int, int]:
    """Insert the snapshot's audit rows the current log lacks; refuse if the current log has a
    different row under the same 連番 (the chain was forked or tampered with)."""
    seq_i = spec.columns.index("seq")
    hash_i = spec.columns.index("hash")
    pk_i = spec.columns.index(spec.pk)
    q = cursor.db.ops.quote_name
    added = same = 0
    max_pk: int | None = None
    for batch in _batches(parse, lines):
        low, high = int(batch[0][seq_i]), int(batch[-1][seq_i])
        cursor.execute(
            f"SELECT {q('seq')}, {q('hash')} FROM {q(spec.db_table)} "  # noqa: S608
            f"WHERE {q('municipality_id')} = %s AND {q('seq')} >= %s AND {q('seq')} <= %s",
            [mid, low, high],
        )
        current = dict(cursor.fetchall())
        missing = []
        for row in batch:
            have = current.get(int(row[seq_i]))
            if have is None:
                missing.append(row)
            elif have != row[hash_i]:
                raise ServiceError(
                    f"監査ログの連番 {row[seq_i]} が現在の記録と一致しません（改ざんまたは分岐）。"
                    "復元を中止しました",
                    field="audit",
                )
            else:
                same += 1
        insert_rows(cursor, spec, missing, mid)
        added += len(missing)
        last = _int_or_none(missing[-1][pk_i]) if missing else None
        if last is not None and (max_pk is None or last > max_pk):
            max_pk = last
    if max_pk is not None:
        advance_sequence(cursor, spec, max_pk)
    return added, same


def _lock_audit_head(cursor: Any, spec: TableSpec, mid: int) -> bool:
    q = cursor.db.ops.quote_name
    lock = " FOR UPDATE" if cursor.db.features.has_select_for_update else ""
    cursor.execute(
        f"SELECT {q(spec.pk)} FROM {q(spec.db_table)} "  # noqa: S608
        f"WHERE {q('municipality_id')} = %s{lock}",
        [mid],
    )
    return cursor.fetchone() is not None


def _fix_audit_head(cursor: Any, specs: dict[str, TableSpec], mid: int) -> None:
    """Point the chain head at the last audit row (the log may be longer than the snapshot)."""
    q = cursor.db.ops.quote_name
    events = specs[AUDIT_TABLE].db_table
    head = specs[AUDIT_HEAD_TABLE].db_table
    cursor.execute(
        f"SELECT {q('seq')}, {q('hash')} FROM {q(events)} "  # noqa: S608
        f"WHERE {q('municipality_id')} = %s "
        f"ORDER BY {q('seq')} DESC LIMIT 1",
        [mid],
    )
    row = cursor.fetchone()
    if row is None:
        return
    cursor.execute(
        f"UPDATE {q(head)} SET {q('last_seq')} = %s, {q('last_hash')} = %s "  # noqa: S608
        f"WHERE {q('municipality_id')} = %s",
        [row[0], row[1], mid],
    )
    if cursor.rowcount == 0:
        cursor.execute(
            f"INSERT INTO {q(head)} "  # noqa: S608
            f"({q('municipality_id')}, {q('last_seq')}, {q('last_hash')}) "
            "VALUES (%s, %s, %s)",
            [mid, row[0], row[1]],
        )


@dataclass
class VerifyResult:
    snapshot_id: str
    checked_snapshots: int
    checked_chunks: int
    problems: list[str]
    tables_compared: int
    scratch: bool
    # What a restore of the chosen snapshot into this version involves (columns filled or
    # dropped across an upgrade, tables left out): not problems of the backup itself.
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def backup_verify(
    *,
    municipality_code: str,
    snapshot: str | None = None,
    targets: list[Target] | None = None,
    keys: dict[int, bytes] | None = None,
    scratch: bool = True,
    purpose: str = "バックアップの検証",
    wait: float = 0.0,
) -> VerifyResult:
    """検証: read back every snapshot and chunk on every target (each is authenticated and its
    name re-derived), then restore the chosen snapshot (the newest by default) into a scratch
    database and compare each table, re-read from there, with the SHA-256 in the manifest.

    The scratch database has the current schema, so a snapshot from before an upgrade is
    restored with the same mapping as :func:`restore_tenant` (columns removed since are dropped
    there, and a note says a real restore needs ``drop_removed_columns``); each table is then
    compared on the columns the snapshot and the table share. A snapshot that cannot be
    restored into this version at all is a problem. Holds the backup lock shared (a backup
    half written or a prune half done would show as problems that are none)."""
    with tenant_lock(municipality_code, "verify", wait=wait):
        return _verify(
            municipality_code=municipality_code,
            snapshot=snapshot,
            targets=targets,
            keys=keys,
            scratch=scratch,
            purpose=purpose,
        )


def _verify(
    *,
    municipality_code: str,
    snapshot: str | None,
    targets: list[Target] | None,
    keys: dict[int, bytes] | None,
    scratch: bool,
    purpose: str,
) -> VerifyResult:
    repo = repository_for(municipality_code, targets=targets, keys=keys)
    problems: list[str] = []
    checked_snapshots = 0
    checked_chunks = 0
    primary_ids = {r.id for r in repo.snapshots()}
    for target in repo.targets:
        seen: set[str] = set()
        ids = {r.id for r in repo.snapshots(target)}
        for missing in sorted(primary_ids - ids):
            problems.append(f"{target.name}: スナップショット {missing} がありません")
        for sid in sorted(ids):
            try:
                manifest = repo.read_manifest(sid, target)
            except (BackupProblem, BackupKeyError) as exc:
                problems.append(str(exc))
                continue
            checked_snapshots += 1
            key = repo.key(int(manifest["key_version"]))
            for fname, entry in sorted(manifest["files"].items()):
                for i, name in enumerate(entry["chunks"], start=1):
                    if name in seen:
                        continue
                    seen.add(name)
                    checked_chunks += 1
                    try:
                        repo.read_chunk(
                            key,
                            name,
                            target=target,
                            where=f"スナップショット {sid} の {fname} の {i} 番目の",
                        )
                    except BackupProblem as exc:
                        problems.append(str(exc))
    refs = repo.snapshots()
    if not refs:
        raise ServiceError(f"団体 {municipality_code} のバックアップはありません", field="snapshot")
    chosen = snapshot or refs[-1].id
    compared = 0
    notes: list[str] = []
    if scratch and not problems:
        compared = _verify_scratch(repo, municipality_code, chosen, keys, problems, notes)
    municipality = Municipality.objects.filter(code=municipality_code).first()
    if municipality is not None:
        with tenant_context(municipality):
            audit_record(
                action=AuditAction.READ,
                target_type="backup_verify",
                target_id=chosen,
                purpose=purpose,
                detail={
                    "ok": not problems,
                    "problems": problems[:20],
                    "snapshots": checked_snapshots,
                    "chunks": checked_chunks,
                    "tables_compared": compared,
                    **({"notes": notes[:20]} if notes else {}),
                },
            )
    return VerifyResult(
        chosen, checked_snapshots, checked_chunks, problems, compared, scratch, notes
    )


def _verify_scratch(
    repo: Repository,
    municipality_code: str,
    chosen: str,
    keys: dict[int, bytes] | None,
    problems: list[str],
    notes: list[str],
) -> int:
    """Restore ``chosen`` into a scratch database and compare; returns the tables compared."""
    from moyai.operations.backup.scratch import scratch_database

    manifest = repo.read_manifest(chosen)
    compared = 0
    with scratch_database() as alias:
        try:
            result = _restore(  # under this verify's lock
                municipality_code=municipality_code,
                at=None,
                snapshot=chosen,
                source=0,
                targets=repo.targets,
                keys=keys,
                using=alias,
                purpose="バックアップからの復元",
                drop_removed_columns=True,  # nothing is lost in a scratch database
            )
        except ServiceError as exc:
            problems.append(
                f"スナップショット {chosen} を作業用データベースへ復元できません: {exc}"
            )
            return 0
        notes.extend(result.warnings)
        if result.dropped_columns:
            notes.append(
                "このスナップショットを戻すには --drop-removed-columns が必要です（バックアップの"
                "後に削除された列のデータは戻りません）"
            )
        db = connections[alias]
        with transaction.atomic(using=alias):
            cursor = db.cursor()
            set_database_tenant(cursor, result.municipality_id)
            for spec in tenant_tables():
                entry = manifest["files"].get(spec.file_name)
                compared += 1
                if entry is None:
                    _, lines = _digest(dump_lines(cursor, spec, result.municipality_id))
                    if lines > 1:
                        problems.append(f"表 {spec.label}: 目録にないのに {lines - 1} 行あります")
                    continue
                # Compared on the columns the snapshot and the table share, in the snapshot's
                # order: a column added since is not in the snapshot, one removed since is not
                # in the table (the snapshot's file is then cut down to the same columns).
                saved = [str(c) for c in entry["columns"]]
                shared = [c for c in saved if c in spec.columns]
                digest, lines = _digest(
                    dump_lines(cursor, spec.with_columns(shared), result.municipality_id)
                )
                if shared == saved:
                    want, want_lines = entry["sha256"], entry["lines"]
                else:
                    want, want_lines = _digest(
                        project_lines(repo.file_lines(manifest, spec.file_name), shared)
                    )
                if digest != want or lines != want_lines:
                    problems.append(
                        f"表 {spec.label}: 作業用データベースへ復元した内容が目録の SHA-256 と"
                        f"一致しません（{lines - 1} 行、目録 {want_lines - 1} 行）"
                    )
    return compared


def _digest(lines: Iterator[bytes]) -> tuple[str, int]:
    import hashlib

    h = hashlib.sha256()
    n = 0
    for line in lines:
        h.update(line)
        n += 1
    return h.hexdigest(), n


def backup_extract(
    *,
    municipality_code: str,
    directory: Path,
    at: datetime | None = None,
    snapshot: str | None = None,
    targets: list[Target] | None = None,
    keys: dict[int, bytes] | None = None,
    wait: float = 0.0,
) -> str:
    """Write the standard layout held by a full snapshot to ``directory`` (a migration package
    for ``moyai import``). Returns the snapshot id. Holds the backup lock shared."""
    with tenant_lock(municipality_code, "extract", wait=wait):
        return _extract(
            municipality_code=municipality_code,
            directory=directory,
            at=at,
            snapshot=snapshot,
            targets=targets,
            keys=keys,
        )


def _extract(
    *,
    municipality_code: str,
    directory: Path,
    at: datetime | None,
    snapshot: str | None,
    targets: list[Target] | None,
    keys: dict[int, bytes] | None,
) -> str:
    repo = repository_for(municipality_code, targets=targets, keys=keys)
    refs = [r for r in repo.snapshots() if r.kind == "full"]
    if snapshot:
        refs = [r for r in refs if r.id == snapshot]
        ref = refs[0] if refs else None
    else:
        ref = rules.pick_snapshot(refs, at or timezone.now())
    if ref is None:
        raise ServiceError("標準レイアウトを含む（full）バックアップがありません", field="at")
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise ServiceError(f"出力先 {directory} は空ではありません", field="directory")
    manifest = repo.read_manifest(ref.id)
    for name in sorted(manifest["files"]):
        if not name.startswith(STANDARD_PREFIX):
            continue
        path = directory / name[len(STANDARD_PREFIX) :]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            for line in repo.file_lines(manifest, name):
                f.write(line)
    return ref.id


# Prune deletes an unreferenced chunk only once it is older than this: a backup or rekey that
# the lock cannot hold back (another deployment writing to the same target, a hand-run script)
# has its chunks named by a manifest within that time. Longer than any one backup run.
PRUNE_GRACE = timedelta(hours=24)


@dataclass
class PruneResult:
    kept: list[str]
    deleted_snapshots: list[str]
    deleted_chunks: int
    recent_chunks: int = 0  # unreferenced but younger than the grace period: left for later


def backup_prune(
    *,
    municipality_code: str,
    daily: int,
    monthly: int,
    last: int = 1,
    targets: list[Target] | None = None,
    keys: dict[int, bytes] | None = None,
    now: datetime | None = None,
    grace: timedelta = PRUNE_GRACE,
    wait: float = 0.0,
) -> PruneResult:
    """保存期間: keep the ``last`` newest snapshots and the newest snapshot of each of the last
    ``daily`` days and ``monthly`` months (JST); delete the other snapshots, then every chunk
    no kept snapshot names and that was not written or touched within ``grace`` before ``now``.

    Holds the municipality's backup lock exclusively: no backup or rekey is between writing its
    chunks and writing the manifest that names them, and no reader is in the middle of a
    snapshot. The grace period is the second wall, for writers the lock cannot see.
    """
    if grace < timedelta(0):
        raise ServiceError("猶予期間は 0 以上で指定してください", field="grace")
    with tenant_lock(municipality_code, "prune", wait=wait) as lock:
        return _prune(
            lock,
            municipality_code=municipality_code,
            daily=daily,
            monthly=monthly,
            last=last,
            targets=targets,
            keys=keys,
            now=now or timezone.now(),
            grace=grace,
        )


def _prune(
    lock: HeldLock,
    *,
    municipality_code: str,
    daily: int,
    monthly: int,
    last: int,
    targets: list[Target] | None,
    keys: dict[int, bytes] | None,
    now: datetime,
    grace: timedelta,
) -> PruneResult:
    repo = repository_for(municipality_code, targets=targets, keys=keys)
    tz = timezone.get_default_timezone()
    cutoff = now - grace
    deleted_snapshots: list[str] = []
    deleted_chunks = 0
    recent_chunks = 0
    kept_ids: set[str] = set()
    for target in repo.targets:
        refs = repo.snapshots(target)
        local = [rules.SnapshotRef(r.id, r.taken_at.astimezone(tz), r.kind) for r in refs]
        keep = rules.retained(
            local, daily=daily, monthly=monthly, last=last, now=now.astimezone(tz)
        )
        kept_ids |= keep
        referenced: set[str] = set()
        for r in refs:
            if r.id in keep:
                referenced |= repo.chunk_names(repo.read_manifest(r.id, target))
        lock.check()  # from here on, deletions
        for r in refs:
            if r.id not in keep:
                target.delete(repo.snapshot_key(r.id))
                if r.id not in deleted_snapshots:
                    deleted_snapshots.append(r.id)
        for object_key, modified in target.list_modified(f"{repo.prefix}chunks/").items():
            if object_key.rsplit("/", 1)[-1] in referenced:
                continue
            if modified > cutoff:
                recent_chunks += 1
                continue
            target.delete(object_key)
            deleted_chunks += 1
    municipality = Municipality.objects.filter(code=municipality_code).first()
    if municipality is not None and (deleted_snapshots or deleted_chunks):
        with tenant_context(municipality):
            audit_record(
                action=AuditAction.DELETE,
                target_type="backup_prune",
                purpose="保存期間を過ぎたバックアップの削除",
                detail={
                    "snapshots": deleted_snapshots,
                    "chunks": deleted_chunks,
                    "recent_chunks_kept": recent_chunks,
                    "grace_hours": grace.total_seconds() / 3600,
                },
            )
    return PruneResult(sorted(kept_ids), deleted_snapshots, deleted_chunks, recent_chunks)


@dataclass
class RekeyResult:
    rewritten: list[str]
    chunks: int


def backup_rekey(
    *,
    municipality_code: str,
    targets: list[Target] | None = None,
    keys: dict[int, bytes] | None = None,
    wait: float = 0.0,
) -> RekeyResult:
    """鍵の更新: re-encrypt every snapshot written under an older key version with the newest
    one (chunks are renamed, since names are keyed). Old chunks become garbage for
    :func:`backup_prune`; after that the old master key can be withdrawn. Holds the backup lock
    exclusively (its new chunks are named by no manifest until each is rewritten)."""
    with tenant_lock(municipality_code, "rekey", wait=wait) as lock:
        return _rekey(lock, municipality_code=municipality_code, targets=targets, keys=keys)


def _rekey(
    lock: HeldLock,
    *,
    municipality_code: str,
    targets: list[Target] | None,
    keys: dict[int, bytes] | None,
) -> RekeyResult:
    repo = repository_for(municipality_code, targets=targets, keys=keys)
    new = repo.current_key()
    for target in repo.targets:
        repo.check_key(new, target, write=True)
    rewritten: list[str] = []
    chunks = 0
    known: set[str] = set()
    for ref in repo.snapshots():
        manifest = repo.read_manifest(ref.id)
        if int(manifest["key_version"]) == new.version:
            continue
        stats = WriteStats()
        files = {}
        for name, entry in manifest["files"].items():
            stored = repo.store_file(
                new,
                _rechunk(repo, manifest, name),
                known=known,
                stats=stats,
                chunker=_Passthrough(),
            )
            files[name] = {**entry, "chunks": stored["chunks"]}
        chunks += stats.new_chunks
        lock.check()
        repo.write_manifest(new, {**manifest, "key_version": new.version, "files": files})
        rewritten.append(ref.id)
    return RekeyResult(rewritten, chunks)


def _rechunk(repo: Repository, manifest: dict[str, Any], name: str) -> Iterator[bytes]:
    """The file's chunks, each as one "line" (so the old boundaries are kept exactly)."""
    key = repo.key(int(manifest["key_version"]))
    for chunk_name in manifest["files"][name]["chunks"]:
        yield repo.read_chunk(key, chunk_name, where=f"{name} の")


class _Passthrough(rules.Chunker):
    """Every fed piece is one chunk (re-keying keeps the original chunk boundaries)."""

    def __init__(self) -> None:
        super().__init__(modulus=1, min_bytes=0, max_bytes=1)


ENV_RETENTION = "MOYAI_BACKUP_RETENTION"  # "DAILY,MONTHLY[,LAST]", default "14,12,1"


def retention() -> tuple[int, int, int]:
    """Days, months and newest snapshots to keep (``MOYAI_BACKUP_RETENTION``)."""
    defaults = [14, 12, 1]
    parts = [int(p) for p in os.environ.get(ENV_RETENTION, "").split(",") if p.strip()]
    values = parts[:3] + defaults[len(parts) :]
    return values[0], values[1], values[2]


@dataclass
class NightlyResult:
    backup: BackupResult
    prune: PruneResult | None  # None: the prune was skipped (see prune_skipped)
    prune_skipped: str = ""  # why (the busy lock's message)


def backup_nightly(
    *,
    municipality: Municipality,
    purpose: str = "夜間バックアップ",
    targets: list[Target] | None = None,
    keys: dict[int, bytes] | None = None,
    wait: float = 0.0,
) -> NightlyResult:
    """夜間バックアップ: one municipality's backup (``auto``), then its retention
    (:func:`retention`). What the nightly task and ``moyai backup --all --now`` run.

    A busy lock at the backup raises :class:`TenantBusy` (nothing done); at the prune, the
    backup stands and the prune is skipped (``prune_skipped``): it only leaves garbage until
    the next one.
    """
    result = backup_tenant(
        municipality=municipality, purpose=purpose, targets=targets, keys=keys, wait=wait
    )
    daily, monthly, last = retention()
    try:
        pruned = backup_prune(
            municipality_code=municipality.code,
            daily=daily,
            monthly=monthly,
            last=last,
            targets=targets,
            keys=keys,
            wait=wait,
        )
    except TenantBusy as exc:
        return NightlyResult(result, None, exc.message)
    return NightlyResult(result, pruned)


def enqueue_all(*, municipalities: list[Municipality] | None = None) -> list[str]:
    """Queue the nightly backup of every active municipality (one task each)."""
    from moyai.operations.backup.tasks import nightly_backup

    codes = [
        m.code
        for m in (
            municipalities
            if municipalities is not None
            else Municipality.objects.filter(is_active=True).order_by("code")
        )
    ]
    for code in codes:
        nightly_backup.enqueue(code)
    return codes
