"""Background entry points of backup (idempotent: a re-run only adds a snapshot)."""

from __future__ import annotations

import logging
import os

from moyai.operations.backup import services
from moyai.operations.backup.locks import TenantBusy
from moyai.platform.jobs import tenant_task
from moyai.platform.models import Municipality

ENV_RETENTION = "MOYAI_BACKUP_RETENTION"  # "DAILY,MONTHLY[,LAST]", default "14,12,1"

logger = logging.getLogger(__name__)


def retention() -> tuple[int, int, int]:
    """Days, months and newest snapshots to keep (``MOYAI_BACKUP_RETENTION``)."""
    defaults = [14, 12, 1]
    parts = [int(p) for p in os.environ.get(ENV_RETENTION, "").split(",") if p.strip()]
    values = parts[:3] + defaults[len(parts) :]
    return values[0], values[1], values[2]


@tenant_task
def nightly_backup(municipality: Municipality) -> str | None:
    """夜間バックアップ: one municipality's backup (full the first time, then incremental),
    then its retention. Returns the snapshot id.

    When another process holds the municipality's backup lock (an operator's verify, restore
    or prune, a backup still running from an earlier start), the night's work for it is
    skipped with a warning in the log, and ``None`` is returned: the other municipalities'
    tasks are not affected, and the next night (or ``moyai backup -m CODE``) catches up. A
    skipped prune only leaves garbage until the next one.
    """
    code = municipality.code
    extra = {"tenant": code, "task": "nightly_backup"}
    try:
        result = services.backup_tenant(municipality=municipality, purpose="夜間バックアップ")
    except TenantBusy as exc:
        logger.warning(
            "夜間バックアップ: 団体 %s を飛ばしました（%s）",
            code,
            exc.message,
            extra={**extra, "event": "backup_skipped_locked"},
        )
        return None
    daily, monthly, last = retention()
    try:
        services.backup_prune(municipality_code=code, daily=daily, monthly=monthly, last=last)
    except TenantBusy as exc:
        logger.warning(
            "夜間バックアップ: 団体 %s の保存期間の削除を飛ばしました（%s）",
            code,
            exc.message,
            extra={**extra, "event": "prune_skipped_locked"},
        )
    return result.snapshot_id
