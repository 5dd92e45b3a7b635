"""Figures read at scrape time: task queue depth, per-tenant counts and the age of each tenant's
newest backup (no personal data).

The queries touch only platform tables (the task queue, municipalities, staff accounts), never a
tenant table: ``/metrics`` runs with no tenant context and row-level security would hide tenant
rows anyway. A failing source is reported as ``moyai_metrics_source_up{source} 0``, not as an
error page, so that the rest of the scrape still arrives.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)


def _db_queue_depth(family: GaugeMetricFamily) -> None:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    rows = (
        DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
        .values("queue_name", "status")
        .annotate(n=Count("id"))
        .order_by("queue_name", "status")
    )
    for row in rows:
        family.add_metric(["db", row["queue_name"], str(row["status"]).lower()], row["n"])


def _rq_queue_depth(family: GaugeMetricFamily) -> None:
    import django_rq
    from rq.registry import StartedJobRegistry

    for name in settings.TASK_QUEUES:
        queue = django_rq.get_queue(name)
        family.add_metric(["rq", name, "ready"], queue.count)
        started = StartedJobRegistry(queue=queue)
        family.add_metric(["rq", name, "running"], started.count)


def _tenant_figures() -> Iterator[GaugeMetricFamily]:
    from moyai.platform.models import Municipality

    tenants = GaugeMetricFamily("moyai_tenants", "Municipalities (団体) in use")
    tenants.add_metric([], Municipality.objects.filter(is_active=True).count())
    yield tenants
    staff = GaugeMetricFamily(
        "moyai_tenant_staff_accounts",
        "Active staff accounts of each municipality (団体コード)",
        labels=["municipality"],
    )
    rows = (
        Municipality.objects.filter(is_active=True)
        .annotate(n=Count("staff", filter=Q(staff__is_active=True)))
        .values_list("code", "n")
        .order_by("code")
    )
    for code, n in rows:
        staff.add_metric([code], n)
    yield staff


# The backup figures list every municipality's snapshots on the backup target (a directory
# listing or an S3 LIST per municipality): read at most every BACKUP_TTL seconds, not per scrape.
BACKUP_TTL = 300.0
_backup_cache: dict[str, Any] = {}


def _backup_figures() -> Iterator[GaugeMetricFamily]:
    from moyai.operations.backup.selectors import backup_overview

    now = time.monotonic()
    if not _backup_cache or now - _backup_cache["at"] > BACKUP_TTL:
        _backup_cache.update(at=now, rows=backup_overview())
    latest = GaugeMetricFamily(
        "moyai_backup_latest_timestamp_seconds",
        "When the newest snapshot of each municipality (団体コード) was taken, Unix time; kind "
        "any or full (alert on time() minus this)",
        labels=["municipality", "kind"],
    )
    count = GaugeMetricFamily(
        "moyai_backup_snapshots",
        "Snapshots kept for each municipality on the first backup target",
        labels=["municipality"],
    )
    for row in _backup_cache["rows"]:
        if not row.is_active:
            continue
        count.add_metric([row.code], row.count)
        if row.latest is not None:
            latest.add_metric([row.code, "any"], row.latest.taken_at.timestamp())
        if row.latest_full is not None:
            latest.add_metric([row.code, "full"], row.latest_full.taken_at.timestamp())
    yield latest
    yield count


class ScrapeCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "moyai_metrics_source_up", "1 if the source answered this scrape", labels=["source"]
        )
        depth = GaugeMetricFamily(
            "moyai_task_queue_depth",
            "Background tasks waiting (ready) or running, per backend and queue",
            labels=["backend", "queue", "status"],
        )
        sources = {"tasks": _rq_queue_depth if settings.TASK_BACKEND == "rq" else _db_queue_depth}
        for source, read in sources.items():
            try:
                read(depth)
                up.add_metric([source], 1)
            except Exception:
                logger.exception("metrics source %s failed", source)
                up.add_metric([source], 0)
        yield depth
        try:
            yield from list(_tenant_figures())
            up.add_metric(["tenants"], 1)
        except Exception:
            logger.exception("metrics source tenants failed")
            up.add_metric(["tenants"], 0)
        try:
            yield from list(_backup_figures())
            up.add_metric(["backups"], 1)
        except Exception:
            logger.exception("metrics source backups failed")
            up.add_metric(["backups"], 0)
        yield up
