"""Corruption is detected and named; a wrong key fails cleanly; verify restores into a scratch
database; re-keying, retention and the migration package."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from moyai.exchange.selectors import export_tenant
from moyai.operations.backup import services
from moyai.operations.backup.repository import Repository
from moyai.operations.backup.tables import tenant_tables
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent
from moyai.platform.tenancy import tenant_context

from .conftest import household, populate, state


def flip(path: Path, offset: int = -5) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def chunk_files(root: Path, code: str) -> list[Path]:
    return sorted((root / "tenants" / code / "chunks").rglob("*"))


def test_flipped_byte_in_a_chunk_is_named(town_a, cli_actor, targets, keys) -> None:
    populate(town_a, 4)
    full = services.backup_tenant(municipality=town_a, kind="full", targets=targets, keys=keys)
    repo = Repository(targets, town_a.code, keys)
    manifest = repo.read_manifest(full.snapshot_id)
    # The person table's first chunk, on the local target only.
    name = manifest["files"]["tables/registry.Person.jsonl"]["chunks"][0]
    flip(targets[0].root / repo.chunk_key(name))

    result = services.backup_verify(
        municipality_code=town_a.code, targets=targets, keys=keys, scratch=False
    )
    assert not result.ok
    (problem,) = result.problems
    assert str(targets[0].root) in problem
    assert "tables/registry.Person.jsonl" in problem and name[:16] in problem
    assert "認証タグが一致しません" in problem

    before = state(town_a)
    with pytest.raises(ServiceError, match=r"registry\.Person\.jsonl の 1/\d+ 番目の"):
        services.restore_tenant(municipality_code=town_a.code, targets=targets, keys=keys)
    assert state(town_a) == before  # nothing half-written
    # The offsite copy is intact and restores.
    services.restore_tenant(municipality_code=town_a.code, source=1, targets=targets, keys=keys)


def test_flipped_byte_in_a_manifest_is_named(town_a, cli_actor, targets, keys) -> None:
    populate(town_a, 1)
    full = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    repo = Repository(targets, town_a.code, keys)
    flip(targets[1].root / repo.snapshot_key(full.snapshot_id), offset=40)
    result = services.backup_verify(
        municipality_code=town_a.code, targets=targets, keys=keys, scratch=False
    )
    assert result.problems == [
        f"{targets[1].name} のスナップショット {full.snapshot_id}（目録）が壊れています: "
        "認証タグが一致しません（改変・破損、または別の鍵）"
    ]


def test_chunk_swapped_for_another_is_detected(town_a, cli_actor, targets, keys) -> None:
    populate(town_a, 5)
    full = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    repo = Repository(targets, town_a.code, keys)
    files = repo.read_manifest(full.snapshot_id)["files"]
    a = files["tables/registry.Person.jsonl"]["chunks"][0]
    b = files["tables/platform.AuditEvent.jsonl"]["chunks"][0]
    pa, pb = (targets[0].root / repo.chunk_key(n) for n in (a, b))
    pa.write_bytes(pb.read_bytes())  # a valid sealed chunk, under the wrong name
    result = services.backup_verify(
        municipality_code=town_a.code, targets=targets[:1], keys=keys, scratch=False
    )
    assert len(result.problems) == 1 and a[:16] in result.problems[0]


def test_wrong_key_fails_cleanly(town_a, cli_actor, targets, keys) -> None:
    populate(town_a, 1)
    services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    before = state(town_a)
    wrong = {1: bytes(32)}
    with pytest.raises(ServiceError, match="別の鍵で書かれています"):
        services.restore_tenant(municipality_code=town_a.code, targets=targets, keys=wrong)
    with pytest.raises(ServiceError, match="別の鍵で書かれています"):
        services.backup_tenant(municipality=town_a, targets=targets, keys=wrong)
    # Without the key check file the authenticated encryption still refuses.
    for target in targets:
        target.delete(f"tenants/{town_a.code}/keys/v1.check")
    with pytest.raises(ServiceError, match="認証タグが一致しません"):
        services.restore_tenant(municipality_code=town_a.code, targets=targets, keys=wrong)
    # A version that is not configured at all is named.
    with pytest.raises(ServiceError, match="鍵の版 1 が MOYAI_BACKUP_KEYS にありません"):
        services.restore_tenant(municipality_code=town_a.code, targets=targets, keys={2: bytes(32)})
    assert state(town_a) == before


def _billing_statement(town) -> None:
    """A 負担金請求明細 of ``town``: its own copy, restorable where the 協議会's run is absent."""
    from datetime import date

    from moyai.operations.billing import services as billing

    council = billing.consortium_create(name="検証用協議会")
    billing.membership_add(council=council, municipality=town, joined_on=date(2026, 4, 1))
    billing.pool_create(
        council=council,
        data=billing.PoolData(
            name="組織運営費",
            category="operations",
            rule="equal_population",
            amount=100_000,
            valid_from=date(2026, 4, 1),
        ),
    )
    billing.allocation_run(council=council, month=date(2026, 4, 1))


def test_verify_restores_into_a_scratch_database(town_a, town_b, cli_actor, targets, keys) -> None:
    populate(town_a, 3)
    populate(town_b, 1, family="鈴木")  # not in the scratch database, not compared
    _billing_statement(town_a)  # a tenant row that refers to an operator-level table
    from moyai.operations.billing.models import Statement

    with tenant_context(town_a):
        assert Statement.objects.count() == 1
    services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    with tenant_context(town_a):
        household("堀内", "山本", 2)
    inc = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    result = services.backup_verify(municipality_code=town_a.code, targets=targets, keys=keys)
    assert result.ok, result.problems
    assert result.snapshot_id == inc.snapshot_id
    assert result.checked_snapshots == 4  # two snapshots on each of two targets
    assert result.tables_compared == len(tenant_tables())
    with tenant_context(town_a):
        last = AuditEvent.objects.order_by("-seq").first()
        assert last is not None and last.target_type == "backup_verify"
        assert last.detail["ok"] is True


def test_rekey_then_prune_leaves_only_new_key_chunks(town_a, cli_actor, targets, keys) -> None:
    populate(town_a, 3)
    old = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    rotated = {**keys, 2: bytes(range(100, 132))}
    # New backups use version 2: a full snapshot (nothing can be shared across versions).
    new = services.backup_tenant(municipality=town_a, targets=targets, keys=rotated)
    assert new.kind == "full"
    result = services.backup_rekey(municipality_code=town_a.code, targets=targets, keys=rotated)
    assert result.rewritten == [old.snapshot_id]
    # The version-1 chunks were written minutes ago: the grace period keeps them for now ...
    waiting = services.backup_prune(
        municipality_code=town_a.code, daily=7, monthly=0, last=2, targets=targets, keys=rotated
    )
    assert waiting.deleted_chunks == 0 and waiting.recent_chunks > 0
    # ... and a prune without it (nothing else writes here) deletes them.
    pruned = services.backup_prune(
        municipality_code=town_a.code,
        daily=7,
        monthly=0,
        last=2,
        targets=targets,
        keys=rotated,
        grace=timedelta(0),
    )
    assert pruned.deleted_snapshots == [] and pruned.deleted_chunks == waiting.recent_chunks
    assert pruned.recent_chunks == 0
    # Only version 2 is needed now; both snapshots restore and verify with it.
    only_new = {2: rotated[2]}
    check = services.backup_verify(
        municipality_code=town_a.code, targets=targets, keys=only_new, scratch=False
    )
    assert check.ok and check.checked_snapshots == 4
    services.restore_tenant(
        municipality_code=town_a.code, snapshot=old.snapshot_id, targets=targets, keys=only_new
    )


def test_prune_keeps_referenced_chunks(town_a, cli_actor, targets, keys, monkeypatch) -> None:
    populate(town_a, 2)
    first = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    with tenant_context(town_a):
        household("堀内", "山本", 1)
    second = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    later = timezone.now() + timedelta(days=40)
    # daily=1, monthly=0 keeps only the newest; chunks it shares with the first stay.
    result = services.backup_prune(
        municipality_code=town_a.code, daily=1, monthly=0, targets=targets, keys=keys, now=later
    )
    assert result.deleted_snapshots == [first.snapshot_id]
    assert result.kept == [second.snapshot_id]
    check = services.backup_verify(
        municipality_code=town_a.code, targets=targets, keys=keys, scratch=False
    )
    assert check.ok and check.checked_snapshots == 2


def test_full_backup_holds_the_standard_layout(town_a, cli_actor, targets, keys, tmp_path) -> None:
    populate(town_a, 3)
    services.backup_tenant(municipality=town_a, kind="full", targets=targets, keys=keys)
    services.backup_extract(
        municipality_code=town_a.code, directory=tmp_path / "pkg", targets=targets, keys=keys
    )
    export_tenant(
        municipality=town_a, directory=tmp_path / "now", with_my_number=True, purpose="試験"
    )

    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    package = files(tmp_path / "pkg")
    assert "manifest.json" in package and "住民記録/宛名.csv" in package
    assert package == files(tmp_path / "now")


def test_a_new_offsite_target_receives_every_chunk(town_a, cli_actor, targets, keys) -> None:
    populate(town_a, 3)
    services.backup_tenant(municipality=town_a, targets=targets[:1], keys=keys)
    with tenant_context(town_a):
        household("堀内", "山本", 1)
    # The offsite target joins now: the incremental fills it with everything it lacks.
    inc = services.backup_tenant(municipality=town_a, targets=targets, keys=keys)
    assert inc.kind == "incremental"
    assert inc.stats.per_target[targets[1].name] > inc.stats.per_target[targets[0].name]
    check = services.backup_verify(
        municipality_code=town_a.code, targets=targets[1:], keys=keys, scratch=False
    )
    assert check.ok
    services.restore_tenant(municipality_code=town_a.code, source=1, targets=targets, keys=keys)
