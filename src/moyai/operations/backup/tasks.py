"""Background entry points of backup (idempotent: a re-run only adds a snapshot)."""

from __future__ import annotations

import logging

from moyai.operations.backup import services
from moyai.operations.backup.locks import TenantBusy
from moyai.operations.backup.services import ENV_RETENTION, retention
from moyai.platform.jobs import tenant_task
from moyai.platform.models import Municipality

__all__ = ["ENV_RETENTION", "nightly_backup", "retention"]

logger = logging.getLogger(__name__)


@tenant_task
def nightly_backup(municipality: Municipality) -> str | None:
    """夜間バックアップ: one municipality's backup (full the first time, then incremental),
    then its retention (:func:`~moyai.operations.backup.services.backup_nightly`). Returns
    the snapshot id.

    When another process holds the municipality's backup lock (an operator's verify, restore
    or prune, a backup still running from an earlier start), the night's work for it is
    skipped with a warning in the log, and ``None`` is returned: the other municipalities'
    tasks are not affected, and the next night (or ``moyai backup -m CODE``) catches up. A
    skipped prune only leaves garbage until the next one.
    """
    code = municipality.code
    extra = {"tenant": code, "task": "nightly_backup"}
    try:
        result = services.backup_nightly(municipality=municipality, purpose="夜間バックアップ")
    except TenantBusy as exc:
        logger.warning(
            "夜間バックアップ: 団体 %s を飛ばしました（%s）",
            code,
            exc.message,
            extra={**extra, "event": "backup_skipped_locked"},
        )
        return None
    if result.prune is None:
        logger.warning(
            "夜間バックアップ: 団体 %s の保存期間の削除を飛ばしました（%s）",
            code,
            result.prune_skipped,
            extra={**extra, "event": "prune_skipped_locked"},
        )
    return result.backup.snapshot_id
