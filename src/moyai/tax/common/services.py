"""Pieces every tax 業務's services share: the 年度 check and the digest that makes assessment
runs idempotent (an unchanged digest means nothing to write)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.utils import timezone

from moyai.platform.audit import audit_record, current_actor
from moyai.platform.errors import ServiceError
from moyai.platform.jobs import ProgressFn, run_chunked
from moyai.platform.models import AuditAction, JobRun, Municipality
from moyai.platform.tenancy import TenantMismatch, current_tenant, tenant_context

T = TypeVar("T")


def input_digest(value: Any) -> str:
    """SHA-256 of ``value`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def check_fiscal_year(fiscal_year: int, supported: Sequence[int]) -> None:
    """Refuse a 年度 the rules do not cover, naming those they do."""
    if fiscal_year not in supported:
        from moyai.tax.resident.rules import wareki_nendo

        years = "・".join(wareki_nendo(y) for y in supported)
        raise ServiceError(
            f"{fiscal_year}年度の規則はありません（対応: {years}）", field="fiscal_year"
        )


def check_shard(shard: tuple[int, int]) -> tuple[int, int]:
    """``(i, n)``: this worker takes every n-th item from the i-th."""
    index, count = shard
    if not 0 <= index < count:
        raise ServiceError(f"分担の指定が正しくありません: {index}/{count}", field="shard")
    return index, count


def run_assessment(
    *,
    municipality: Municipality,
    prefix: str,
    fiscal_year: int,
    items: Sequence[T],
    assess: Callable[[Sequence[T]], object],
    chunk_size: int,
    progress: ProgressFn | None,
    job_key: str | None,
    shard: tuple[int, int],
    purpose: str,
    detail: Callable[[], dict[str, Any]],
) -> JobRun:
    """The skeleton every tax 業務's yearly run shares: ``assess`` over ``items`` in chunks of
    ``chunk_size``, one transaction each, resumable under the job key (a shard of a shared run
    is a job of its own, ``KEY:i/n``), then one audit row with ``detail()``."""
    index, count = shard
    key = job_key or f"{prefix}.assess:{fiscal_year}:{timezone.now().isoformat()}"
    if count > 1:
        key = f"{key}:{index + 1}/{count}"

    def process(start: int, end: int) -> None:
        assess(items[start:end])

    job = run_chunked(
        municipality=municipality,
        key=key,
        total=len(items),
        chunk_size=chunk_size,
        process=process,
        progress=progress,
    )
    with tenant_context(municipality):
        audit_record(
            action=AuditAction.UPDATE,
            target_type=f"{prefix}_assessment_run",
            target_id=key[:64],
            purpose=purpose,
            detail=detail(),
        )
    return job


def assessment_run_request(*, task: Any, prefix: str, fiscal_year: int, purpose: str) -> str:
    """賦課の実行の依頼: record who asked for the run (audit) and enqueue it as a background task
    of the current municipality; returns the job key the progress page follows. ``prefix`` names
    the 業務 (``property_tax`` …), ``task`` is its ``assess_year`` task."""
    key = f"{prefix}.assess:{fiscal_year}:{timezone.now().isoformat()}"
    audit_record(
        action=AuditAction.CREATE,
        target_type=f"{prefix}_assessment_run",
        target_id=key[:64],
        purpose=purpose,
        detail={"requested_by": current_actor().username},
    )
    task.enqueue(current_tenant().code, fiscal_year, key)
    return key


def insert_rows(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    """Write new rows of ``model`` with one ``executemany`` of plain values (JSON as text),
    without ``bulk_create``'s per-row SQL compilation and per-field preparation (the same
    write as 個人住民税's assessment run; figures in ``docs/benchmarks.md``). On PostgreSQL the
    driver's own cursor sends the rows in pipeline mode with server-side binding (``COPY`` is
    not allowed into a table under row-level security). Primary keys are not read back.

    The tenant guard of ``TenantModel.save`` holds here too: every row must belong to the
    municipality of the current context (and row-level security checks it again)."""
    if not rows:
        return
    tenant = current_tenant()
    for row in rows:
        owner = getattr(row, "municipality_id", None)
        if owner != tenant.id:
            raise TenantMismatch(
                f"{model.__name__} of municipality {owner} written under tenant {tenant.id}"
            )
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    postgres = connection.vendor == "postgresql"
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    quote = connection.ops.quote_name
    statement = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from the model)
        quote(model._meta.db_table),
        ", ".join(quote(str(f.column)) for f in fields),
        ", ".join("%s::jsonb" if postgres and f.attname in json_fields else "%s" for f in fields),
    )
    names = [f.attname for f in fields]
    params = [
        [
            json.dumps(getattr(row, name), ensure_ascii=False)
            if name in json_fields
            else getattr(row, name)
            for name in names
        ]
        for row in rows
    ]
    with connection.cursor() as wrapper:
        if postgres:
            import psycopg

            with psycopg.Cursor(wrapper.connection) as cursor:
                cursor.executemany(statement, params)
        else:
            wrapper.executemany(statement, params)
