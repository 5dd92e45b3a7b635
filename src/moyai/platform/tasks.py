"""Background entry points of the platform (idempotent: safe to run again)."""

from __future__ import annotations

from moyai.platform.jobs import tenant_task
from moyai.platform.models import Municipality
from moyai.platform.outbox import dispatch_tenant


@tenant_task
def dispatch_events(municipality: Municipality) -> int:
    """Deliver the municipality's pending outbox events; returns how many were handled."""
    return dispatch_tenant(municipality).delivered
