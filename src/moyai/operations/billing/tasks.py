"""Background entry points of 割り勘 (idempotent: safe to run again)."""

from __future__ import annotations

from django_tasks import task

from moyai.operations.billing import services
from moyai.platform.audit import Actor, acting_as

CLOSE_ACTOR = "task:moyai.operations.billing.tasks.close_month"


@task()
def close_month(run_id: int) -> int:
    """月次の確定の処理: issue each member's 請求明細書 of the run whose close was requested and
    mark the month closed. The run spans municipalities, so this is not a tenant task: each
    member's statement is issued inside that member's tenant. A second run issues nothing more.
    Returns how many statements the month's close has issued."""
    with acting_as(Actor(username=CLOSE_ACTOR, channel="task")):
        return services.allocation_close_resume(run_id=run_id).close_issued
