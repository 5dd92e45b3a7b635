"""Pieces every tax 業務's services share: the 年度 check and the digest that makes assessment
runs idempotent (an unchanged digest means nothing to write)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from moyai.platform.errors import ServiceError
from moyai.platform.tenancy import TenantMismatch, current_tenant


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


def assessment_run_request(*, task: Any, prefix: str, fiscal_year: int, purpose: str) -> str:
    """賦課の実行の依頼: record who asked for the run (audit) and enqueue it as a background task
    of the current municipality; returns the job key the progress page follows. ``prefix`` names
    the 業務 (``property_tax`` …), ``task`` is its ``assess_year`` task."""
    from django.utils import timezone

    from moyai.platform.audit import audit_record, current_actor
    from moyai.platform.models import AuditAction

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
