"""Reads of backup metadata (operators: when, what kind — never contents)."""

from __future__ import annotations

from dataclasses import dataclass

from moyai.operations.backup.repository import Repository
from moyai.operations.backup.rules import SnapshotRef
from moyai.operations.backup.targets import Target, configured_targets
from moyai.platform.models import Municipality


def snapshot_list(
    *, municipality_code: str, targets: list[Target] | None = None
) -> list[SnapshotRef]:
    """The municipality's snapshots on the first target, oldest first (from the listing alone:
    no key needed, nothing decrypted)."""
    repo = Repository(targets if targets is not None else configured_targets(), municipality_code)
    return repo.snapshots()


@dataclass(frozen=True)
class TenantBackups:
    code: str
    name: str
    is_active: bool
    count: int
    latest: SnapshotRef | None
    latest_full: SnapshotRef | None
    recent: list[SnapshotRef]


def backup_overview(*, targets: list[Target] | None = None) -> list[TenantBackups]:
    """Per municipality: how many snapshots, the newest, the newest full, the last ten (times
    and kinds only — what an operator may see)."""
    targets = targets if targets is not None else configured_targets()
    rows = []
    for m in Municipality.objects.order_by("code"):
        refs = Repository(targets, m.code).snapshots()
        fulls = [r for r in refs if r.kind == "full"]
        rows.append(
            TenantBackups(
                code=m.code,
                name=m.display_name,
                is_active=m.is_active,
                count=len(refs),
                latest=refs[-1] if refs else None,
                latest_full=fulls[-1] if fulls else None,
                recent=list(reversed(refs[-10:])),
            )
        )
    return rows
