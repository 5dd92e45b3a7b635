"""Chunked, resumable background work and the tenant-aware task decorator.

A job processes items ``0 … total-1`` in a stable order, ``chunk_size`` at a time. Each chunk and
the job's progress commit together, so a killed worker loses at most the chunk in flight and a
re-run continues from there instead of starting again (nothing is done twice).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.utils import timezone
from django_tasks import task

from moyai.platform.audit import Actor, acting_as
from moyai.platform.models import JobRun, Municipality
from moyai.platform.tenancy import tenant_context

P = ParamSpec("P")
R = TypeVar("R")

ChunkFn = Callable[[int, int], None]
ProgressFn = Callable[[int, int], None]


def run_chunked(
    *,
    municipality: Municipality,
    key: str,
    total: int,
    chunk_size: int,
    process: ChunkFn,
    progress: ProgressFn | None = None,
) -> JobRun:
    """Run ``process(start, end)`` over ``[0, total)`` in chunks, resuming a job of the same key."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    with tenant_context(municipality):
        job: JobRun
        job, _ = JobRun.objects.get_or_create(key=key, defaults={"total": total})
    if progress:
        progress(job.done, job.total)
    while job.finished_at is None:
        with tenant_context(municipality):
            job = JobRun.objects.select_for_update().get(pk=job.pk)
            if job.finished_at is not None:
                break
            start = job.done
            end = min(start + chunk_size, job.total)
            if end > start:
                process(start, end)
            job.done = end
            if end >= job.total:
                job.finished_at = timezone.now()
            job.save(update_fields=["done", "finished_at"])
        if progress:
            progress(job.done, job.total)
    return job


def tenant_task(fn: Callable[..., R]) -> Any:
    """Declare a background task that runs for one municipality, given by its 団体コード.

    The worker looks the municipality up and runs ``fn(municipality, …)`` with a task actor
    recorded for the audit log; ``fn`` opens tenant contexts for its own units of work.
    """

    @functools.wraps(fn)
    def run(municipality_code: str, *args: Any, **kwargs: Any) -> R:
        municipality = Municipality.objects.get(code=municipality_code)
        actor = Actor(
            username=f"task:{fn.__module__}.{fn.__qualname__}",
            channel="task",
            municipality_code=municipality_code,
        )
        with acting_as(actor):
            return fn(municipality, *args, **kwargs)

    return task()(run)
