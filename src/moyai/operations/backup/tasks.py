"""Background entry points of backup (idempotent: a re-run only adds a snapshot)."""

from __future__ import annotations

import os

from moyai.operations.backup import services
from moyai.platform.jobs import tenant_task
from moyai.platform.models import Municipality

ENV_RETENTION = "MOYAI_BACKUP_RETENTION"  # "DAILY,MONTHLY[,LAST]", default "14,12,1"


def retention() -> tuple[int, int, int]:
    """Days, months and newest snapshots to keep (``MOYAI_BACKUP_RETENTION``)."""
    defaults = [14, 12, 1]
    parts = [int(p) for p in os.environ.get(ENV_RETENTION, "").split(",") if p.strip()]
    values = parts[:3] + defaults[len(parts) :]
    return values[0], values[1], values[2]


@tenant_task
def nightly_backup(municipality: Municipality) -> str:
    """夜間バックアップ: one municipality's backup (full the first time, then incremental),
    then its retention. Returns the snapshot id."""
    result = services.backup_tenant(municipality=municipality, purpose="夜間バックアップ")
    daily, monthly, last = retention()
    services.backup_prune(
        municipality_code=municipality.code, daily=daily, monthly=monthly, last=last
    )
    return result.snapshot_id
