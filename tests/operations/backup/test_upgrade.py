"""Restoring across an upgrade: a snapshot written before a migration added or removed columns
(or tables) restores into the current schema, or refuses before anything is written.

An old snapshot is made the way it would have been written: a real snapshot's table file is
rewritten, through the repository's own writer (sealed chunks, a sealed manifest), with the
columns of the older schema — a column that exists now left out (as if added later), or an
extra one put in (as if removed later)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Value
from django.utils import timezone

from moyai.operations.backup import services
from moyai.operations.backup.repository import Repository, WriteStats
from moyai.operations.backup.tables import (
    AUDIT_TABLE,
    Fill,
    column_fill,
    parse_header,
    row_map,
    tenant_tables,
)
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent
from moyai.platform.tenancy import tenant_context
from moyai.registry.models import Movement, Person

from .conftest import HEAD, KEY, audit_rows, household, populate, run, state, without

PERSON = "registry.Person"
MOVEMENT = "registry.Movement"


def old_snapshot(
    targets: Any,
    keys: Any,
    code: str,
    sid: str,
    label: str,
    *,
    drop: tuple[str, ...] = (),
    extra: dict[str, Any] | None = None,
) -> None:
    """Rewrite table ``label`` of snapshot ``sid`` as an older schema had it: without the
    columns ``drop`` (added since), with the columns ``extra`` (removed since; name → value of
    every row). The manifest records an older migration state, as a snapshot of then would."""
    extra = extra or {}
    repo = Repository(targets, code, keys)
    manifest = repo.read_manifest(sid)
    key = repo.key(int(manifest["key_version"]))
    name = f"tables/{label}.jsonl"
    lines = repo.file_lines(manifest, name)
    table, columns, encoding = parse_header(next(lines))
    at = [columns.index(c) for c in columns if c not in drop]
    kept = [columns[i] for i in at] + list(extra)

    def rewritten() -> Iterator[bytes]:
        header = {"table": table, "columns": kept, "encoding": encoding}
        yield (json.dumps(header, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        for line in lines:
            if encoding == "copy":  # PostgreSQL: COPY text, tab-separated
                fields = line.rstrip(b"\n").split(b"\t")
                more = [copy_text(v) for v in extra.values()]
                yield b"\t".join([fields[i] for i in at] + more) + b"\n"
            else:  # SQLite: one JSON array per row
                values = json.loads(line)
                row = [values[i] for i in at] + list(extra.values())
                yield (json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode()

    entry = repo.store_file(key, rewritten(), known=set(), stats=WriteStats())
    manifest["files"][name] = {**entry, "table": table, "columns": kept}
    manifest["schema"] = {**manifest["schema"], "registry": "0000_before_the_upgrade"}
    repo.write_manifest(key, manifest)


def copy_text(value: Any) -> bytes:
    """``value`` as a field of COPY's text format."""
    if value is None:
        return b"\\N"
    text = str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return text.encode()


def edit_manifest(targets: Any, keys: Any, code: str, sid: str, change: Any) -> None:
    repo = Repository(targets, code, keys)
    manifest = repo.read_manifest(sid)
    change(repo, manifest)
    repo.write_manifest(repo.key(int(manifest["key_version"])), manifest)


def restore_audit(town: Any) -> AuditEvent:
    with tenant_context(town):
        last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None and last.target_type == "backup_restore"
    return last


def persons(town: Any, *fields: str) -> list[Any]:
    with tenant_context(town):
        return list(Person.objects.order_by("pk").values_list(*fields))


# --- columns added since the snapshot --------------------------------------------------------


def test_added_columns_are_filled_as_their_migration_filled_them(
    town_a, town_b, cli_actor, targets, keys
) -> None:
    populate(town_a, 3)
    populate(town_b, 1, family="鈴木")
    b_before = state(town_b)
    backup = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    before = state(town_a)
    # Person.latest_seq (default 0) and .created_at (default timezone.now, a callable);
    # Movement.notified_on (nullable), .counter (blank text) and .warnings (JSON, default
    # list): none existed then.
    old_snapshot(
        targets, keys, town_a.code, backup.snapshot_id, PERSON, drop=("latest_seq", "created_at")
    )
    old_snapshot(
        targets,
        keys,
        town_a.code,
        backup.snapshot_id,
        MOVEMENT,
        drop=("notified_on", "counter", "warnings"),
    )
    assert {s for (s,) in persons(town_a, "latest_seq")} != {0}
    with tenant_context(town_a):
        assert set(Movement.objects.values_list("counter", flat=True)) == {"本庁"}

    started = timezone.now()
    result = services.restore_tenant(municipality_code=town_a.code, targets=targets, keys=keys)
    finished = timezone.now()

    # The constant default once for every row; the callable called per row, at the restore.
    assert persons(town_a, "latest_seq") == [(0,)] * len(persons(town_a, "pk"))
    assert all(started <= at <= finished for (at,) in persons(town_a, "created_at"))
    with tenant_context(town_a):
        assert set(Movement.objects.values_list("notified_on", "counter")) == {(None, "")}
        assert list(Movement.objects.values_list("warnings", flat=True).distinct()) == [[]]
    # Every other column and table as it was (the audit log gained the restore's row).
    after = state(town_a)
    assert without(after, AUDIT_TABLE, HEAD, PERSON, MOVEMENT) == without(
        before, AUDIT_TABLE, HEAD, PERSON, MOVEMENT
    )
    assert len(after[PERSON]) == len(before[PERSON])
    assert after[AUDIT_TABLE][: len(before[AUDIT_TABLE])] == before[AUDIT_TABLE]
    assert state(town_b) == b_before

    assert result.filled_columns == {
        MOVEMENT: {
            "counter": "既定値",
            "notified_on": "NULL",
            "warnings": "既定値（行ごとに生成）",
        },
        PERSON: {"latest_seq": "既定値", "created_at": "既定値（行ごとに生成）"},
    }
    assert result.dropped_columns == {} and result.ignored_tables == []
    assert (
        f"表 {PERSON}: バックアップの後に加わった列 latest_seq（既定値）、"
        "created_at（既定値（行ごとに生成）） を埋めました"
    ) in result.warnings
    assert restore_audit(town_a).detail["filled_columns"] == result.filled_columns


def test_an_added_not_null_column_without_default_refuses_and_leaves_no_trace(
    town_a, cli_actor, targets, keys
) -> None:
    populate(town_a, 2)
    backup = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    old_snapshot(targets, keys, town_a.code, backup.snapshot_id, PERSON, drop=("address_number",))
    with tenant_context(town_a):
        household("堀内", "山本", 1)  # changes after the backup: a restore would undo them
    before = state(town_a)
    with pytest.raises(ServiceError) as refused:
        services.restore_tenant(municipality_code=town_a.code, targets=targets, keys=keys)
    message = str(refused.value)
    assert message.startswith(f"表 {PERSON} の列 address_number はバックアップの後に加わった列で")
    assert "既定値がなく空（NULL）も許さない" in message
    assert state(town_a) == before  # no row changed, no audit row
    assert audit_rows(town_a, "backup_restore") == 0


# --- columns removed since the snapshot ------------------------------------------------------


def test_a_removed_column_refuses_without_the_opt_in_and_is_dropped_with_it(
    town_a, cli_actor, targets, keys
) -> None:
    populate(town_a, 2)
    backup = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    at_backup = state(town_a)
    old_snapshot(
        targets, keys, town_a.code, backup.snapshot_id, PERSON, extra={"legacy_code": "旧0001"}
    )
    with tenant_context(town_a):
        household("堀内", "山本", 1)
    before = state(town_a)

    with pytest.raises(ServiceError) as refused:
        services.restore_tenant(municipality_code=town_a.code, targets=targets, keys=keys)
    assert str(refused.value) == (
        f"バックアップにある 表 {PERSON} の列 legacy_code はこの環境の表にありません"
        "（バックアップの後の移行で削除された列）。戻すとこれらの列のデータは失われます。"
        "承知のうえで戻すときは --drop-removed-columns を付けてください"
    )
    assert state(town_a) == before
    assert audit_rows(town_a, "backup_restore") == 0

    result = services.restore_tenant(
        municipality_code=town_a.code, targets=targets, keys=keys, drop_removed_columns=True
    )
    assert result.dropped_columns == {PERSON: ["legacy_code"]}
    assert (
        f"表 {PERSON}: この環境にない列 legacy_code のデータは戻していません"
        "（--drop-removed-columns）"
    ) in result.warnings
    assert restore_audit(town_a).detail["dropped_columns"] == {PERSON: ["legacy_code"]}
    after = state(town_a)
    assert without(after, AUDIT_TABLE, HEAD, "platform.Counter") == without(
        at_backup, AUDIT_TABLE, HEAD, "platform.Counter"
    )


def test_restore_command_takes_the_opt_in(town_a, env, cli_actor) -> None:
    populate(town_a, 1)
    run("backup", "-m", town_a.code)
    targets = services.configured_targets()
    keys = {1: KEY}
    [ref] = services.repository_for(town_a.code, targets=targets, keys=keys).snapshots()
    old_snapshot(targets, keys, town_a.code, ref.id, PERSON, extra={"legacy_code": None})
    checked = run("backup", "verify", "-m", town_a.code)
    assert "注意: このスナップショットを戻すには --drop-removed-columns が必要です" in checked
    assert "正常:" in checked
    with pytest.raises(CommandError, match="--drop-removed-columns を付けてください"):
        run("restore", "-m", town_a.code, "--yes")
    assert audit_rows(town_a, "backup_restore") == 0
    err = StringIO()
    out = run("restore", "-m", town_a.code, "--yes", "--drop-removed-columns", stderr=err)
    assert "の状態に戻しました" in out
    assert f"注意: 表 {PERSON}: この環境にない列 legacy_code のデータは戻していません" in (
        err.getvalue()
    )


# --- tables added or removed since the snapshot ----------------------------------------------


def test_tables_added_since_are_emptied_and_tables_removed_since_are_left_out(
    town_a, town_b, cli_actor, targets, keys
) -> None:
    from moyai.exchange.models import GaijiQueueItem

    populate(town_a, 1)
    populate(town_b, 1, family="鈴木")
    b_before = state(town_b)
    backup = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    before = state(town_a)
    gaiji = "exchange.GaijiQueueItem"

    def older_tables(repo: Repository, manifest: dict[str, Any]) -> None:
        # GaijiQueueItem did not exist then; a table that has gone since did.
        del manifest["files"][f"tables/{gaiji}.jsonl"]
        key = repo.key(int(manifest["key_version"]))
        header = {"table": "legacy.Thing", "columns": ["id", "municipality_id"]}
        lines = [json.dumps(header).encode() + b"\n", b"[1,1]\n", b"[2,1]\n"]
        entry = repo.store_file(key, iter(lines), known=set(), stats=WriteStats())
        manifest["files"]["tables/legacy.Thing.jsonl"] = {
            **entry,
            "table": "legacy.Thing",
            "columns": ["id", "municipality_id"],
        }

    edit_manifest(targets, keys, town_a.code, backup.snapshot_id, older_tables)
    with tenant_context(town_a):
        assert GaijiQueueItem.objects.count() == 1
    result = services.restore_tenant(municipality_code=town_a.code, targets=targets, keys=keys)
    with tenant_context(town_a):
        assert GaijiQueueItem.objects.count() == 0  # the municipality had none then
    assert result.ignored_tables == ["legacy.Thing"]
    assert "表 legacy.Thing はこの環境にないため、その 2 行は戻していません" in result.warnings
    assert (
        f"表 {gaiji} はバックアップの後に加わった表のため、この団体の 1 行を削除しました"
        "（その時点では行がありませんでした）"
    ) in result.warnings
    assert restore_audit(town_a).detail["ignored_tables"] == ["legacy.Thing"]
    after = state(town_a)
    assert after[gaiji] == [before[gaiji][0]]  # the header only
    assert without(after, AUDIT_TABLE, HEAD, gaiji) == without(before, AUDIT_TABLE, HEAD, gaiji)
    assert state(town_b) == b_before


# --- a chain spanning the upgrade ------------------------------------------------------------


def test_full_before_and_incremental_after_the_upgrade_both_restore(
    town_a, cli_actor, targets, keys
) -> None:
    populate(town_a, 4)
    full = services.backup_tenant(municipality=town_a, kind="full", targets=targets, keys=keys)
    at_full = state(town_a)
    old_snapshot(targets, keys, town_a.code, full.snapshot_id, PERSON, drop=("latest_seq",))
    # The upgrade; then work goes on and the next backup is an incremental on the old full.
    with tenant_context(town_a):
        household("堀内", "山本", 2)
    inc = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    assert inc.kind == "incremental" and not inc.unchanged
    assert 0 < inc.stats.new_chunks < inc.stats.chunks  # unchanged tables share the old chunks
    at_inc = state(town_a)
    seqs_at_inc = persons(town_a, "pk", "latest_seq")

    services.restore_tenant(
        municipality_code=town_a.code, snapshot=full.snapshot_id, targets=targets, keys=keys
    )
    assert persons(town_a, "latest_seq") == [(0,)] * len(at_full[PERSON][1:])
    assert without(state(town_a), AUDIT_TABLE, HEAD, PERSON, "platform.Counter") == without(
        at_full, AUDIT_TABLE, HEAD, PERSON, "platform.Counter"
    )

    services.restore_tenant(
        municipality_code=town_a.code, snapshot=inc.snapshot_id, targets=targets, keys=keys
    )
    assert persons(town_a, "pk", "latest_seq") == seqs_at_inc
    assert without(state(town_a), AUDIT_TABLE, HEAD) == without(at_inc, AUDIT_TABLE, HEAD)

    # verify restores each into a scratch database of the current schema.
    for sid, filled in ((full.snapshot_id, True), (inc.snapshot_id, False)):
        result = services.backup_verify(
            municipality_code=town_a.code, snapshot=sid, targets=targets, keys=keys
        )
        assert result.ok, result.problems
        assert result.tables_compared == len(tenant_tables())
        assert any("latest_seq（既定値）" in n for n in result.notes) is filled


def test_an_unchanged_tenant_is_read_again_when_its_tables_changed(
    town_a, cli_actor, targets, keys
) -> None:
    populate(town_a, 1)
    first = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    old_snapshot(targets, keys, town_a.code, first.snapshot_id, PERSON, drop=("latest_seq",))
    # Even with the same migration state recorded: the columns differ, so the tables are read.
    edit_manifest(
        targets,
        keys,
        town_a.code,
        first.snapshot_id,
        lambda repo, m: m.update(schema=services._schema()),
    )
    second = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    assert second.kind == "incremental" and not second.unchanged
    manifest = Repository(targets, town_a.code, keys).read_manifest(second.snapshot_id)
    assert "latest_seq" in manifest["files"][f"tables/{PERSON}.jsonl"]["columns"]


# --- verify --------------------------------------------------------------------------------


def test_verify_of_a_snapshot_with_a_removed_column_notes_the_opt_in(
    town_a, cli_actor, targets, keys
) -> None:
    populate(town_a, 2)
    backup = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    old_snapshot(
        targets, keys, town_a.code, backup.snapshot_id, PERSON, extra={"legacy_code": "x\ty"}
    )
    result = services.backup_verify(municipality_code=town_a.code, targets=targets, keys=keys)
    assert result.ok, result.problems
    assert result.notes[-1].startswith("このスナップショットを戻すには --drop-removed-columns")
    with tenant_context(town_a):
        last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None and last.target_type == "backup_verify"
    assert last.detail["ok"] is True and last.detail["notes"] == result.notes


def test_verify_reports_a_snapshot_this_version_cannot_restore(
    town_a, cli_actor, targets, keys
) -> None:
    populate(town_a, 1)
    backup = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    old_snapshot(targets, keys, town_a.code, backup.snapshot_id, PERSON, drop=("address_number",))
    result = services.backup_verify(municipality_code=town_a.code, targets=targets, keys=keys)
    [problem] = result.problems
    assert problem.startswith(
        f"スナップショット {backup.snapshot_id} を作業用データベースへ復元できません: "
        f"表 {PERSON} の列 address_number はバックアップの後に加わった列で"
    )


def test_verify_compares_what_was_restored_on_the_shared_columns(
    town_a, cli_actor, targets, keys, monkeypatch
) -> None:
    """The comparison is real: a restore that got a kept column wrong is caught."""
    populate(town_a, 2)
    backup = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    old_snapshot(targets, keys, town_a.code, backup.snapshot_id, PERSON, extra={"old": "1"})
    real = services.row_map

    def wrong(spec: Any, columns: list[str], db: Any) -> Any:
        mapping = real(spec, columns, db)
        if spec.label != PERSON:
            return mapping
        i = mapping.spec.columns.index("latest_seq")
        sources = list(mapping.sources)
        sources[i] = Fill("value", 99)  # not the snapshot's value
        return type(mapping)(**{**mapping.__dict__, "sources": tuple(sources)})

    monkeypatch.setattr(services, "row_map", wrong)
    result = services.backup_verify(municipality_code=town_a.code, targets=targets, keys=keys)
    [problem] = result.problems
    assert problem.startswith(f"表 {PERSON}: 作業用データベースへ復元した内容が目録の SHA-256")


# --- the rule for filling an added column ----------------------------------------------------


def test_column_fill_follows_what_the_migration_gave_existing_rows(monkeypatch) -> None:
    from django.db import models

    def fill(field: Any) -> Any:
        field.set_attributes_from_name("c")
        return column_fill(field, connection)

    assert fill(models.IntegerField(default=7)).value == 7
    assert fill(models.IntegerField(default=7)).how == "value"
    assert fill(models.IntegerField(null=True)).value is None
    assert fill(models.IntegerField()) is None  # NOT NULL, no default: unknown
    assert fill(models.CharField(max_length=5, blank=True)).value == ""
    assert fill(models.IntegerField(db_default=Value(3))).how == "database"
    assert fill(models.IntegerField(db_default=Value(3), default=4)).how == "database"
    made = fill(models.UUIDField(default=uuid.uuid4, unique=True))
    assert made.how == "row" and made.make is not None
    assert len({made.make() for _ in range(5)}) == 5  # a unique column stays unique
    assert fill(models.DateField(auto_now_add=True)).how == "row"
    stamp = fill(models.DateField(auto_now=True))
    assert stamp.make is not None
    assert str(stamp.make()) in {str(timezone.localdate()), str(date.today())}


def test_a_db_default_column_is_left_to_the_database(monkeypatch) -> None:
    spec = next(s for s in tenant_tables() if s.label == PERSON)
    field = Person._meta.get_field("resident_code")
    monkeypatch.setattr(field, "db_default", Value("X"))
    columns = [c for c in spec.columns if c != "resident_code"]
    mapping = row_map(spec, columns, connection)
    assert "resident_code" not in mapping.spec.columns  # not written: the DEFAULT applies
    assert mapping.added["resident_code"].how == "database"
    assert mapping.identity  # the other columns pass through as they are
    assert row_map(spec, list(spec.columns), connection).identity


# --- moyai backup --all --now --------------------------------------------------------------


def test_all_now_prunes_like_the_nightly_task_and_goes_on_after_a_failure(
    town_a, town_b, env, cli_actor
) -> None:
    populate(town_a, 1)
    populate(town_b, 1, family="鈴木")
    run("backup", "--all", "--now")
    out = run("backup", "--all", "--now")
    assert f"{town_a.code} 保存期間: 保持 1 件、削除 1 件" in out
    # Retention (14 days, 12 months, newest 1): the same day keeps the newest only.
    for town in (town_a, town_b):
        assert len(run("backup", "list", "-m", town.code).splitlines()) == 1

    # One municipality's backup fails (its local target was written with another key).
    check = env / "local" / "tenants" / town_a.code / "keys" / "v1.check"
    check.write_text("another key\n")
    with tenant_context(town_b):
        household("堀内", "山本", 1)
    err = StringIO()
    with pytest.raises(CommandError, match=rf"1 団体（{town_a.code}）のバックアップが失敗しました"):
        run("backup", "--all", "--now", stderr=err)
    assert f"失敗しました: 団体 {town_a.code}: " in err.getvalue()
    assert "別の鍵で書かれています" in err.getvalue()
    # The other municipality was backed up (and pruned) all the same.
    [line] = run("backup", "list", "-m", town_b.code).splitlines()
    assert "incremental" in line
    assert audit_rows(town_b, "backup") == 3
