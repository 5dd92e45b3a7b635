"""Background entry points of 被災者支援 (idempotent: safe to run again)."""

from __future__ import annotations

from moyai.disaster import services
from moyai.disaster.models import Disaster
from moyai.platform.jobs import tenant_task
from moyai.platform.models import Municipality
from moyai.platform.tenancy import tenant_context


@tenant_task
def build_ledger(municipality: Municipality, disaster_id: int) -> int:
    """被災者台帳の作成 in the background (one transaction); a second run finds it built and
    does nothing. Returns the number of 被災者 in the ledger."""
    with tenant_context(municipality):
        disaster = Disaster.objects.get(pk=disaster_id)
        if disaster.built_at is None:
            victims = services.ledger_build(disaster_id=disaster_id).victims
        else:
            victims = services.ledger_summary_count(disaster_id=disaster_id)
    with tenant_context(municipality):
        services.ledger_build_finished(disaster_id=disaster_id)
    return victims


@tenant_task
def refresh_ledgers(municipality: Municipality) -> int:
    """住民記録の異動の反映 for every open 災害 (a safety net beside the event consumer)."""
    changed = 0
    with tenant_context(municipality):
        ids = list(
            Disaster.objects.filter(closed=False, built_at__isnull=False).values_list(
                "pk", flat=True
            )
        )
    for disaster_id in ids:
        with tenant_context(municipality):
            result = services.ledger_refresh(disaster_id=disaster_id)
            changed += result.updated + result.added
    return changed
