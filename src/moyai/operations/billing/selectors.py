"""割り勘の参照: operator reads of the 協議会 tables, and each municipality's own statements.

The operator tables hold amounts and counts only. Statements are tenant rows: a 団体管理者 reads
them through the tenant manager (its own only); the operator reads one member's statement by
entering that member's tenant for the single read. Every read of a statement is recorded in the
audit log of the municipality it belongs to (the list and the screen as 参照, the CSV as 出力,
the PDF as 印刷), whoever reads it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from moyai.operations.billing import rules
from moyai.operations.billing.models import (
    AllocationRun,
    CostPool,
    Membership,
    RunStatus,
    Statement,
)
from moyai.platform.audit import audit_record
from moyai.platform.models import AuditAction, Council, Municipality
from moyai.platform.tenancy import tenant_context

PURPOSE_LIST = "負担金請求明細の一覧の参照"
PURPOSE_READ = "負担金請求明細の参照"
PURPOSE_CSV = "負担金請求明細の出力（CSV）"
PURPOSE_PRINT = "負担金請求明細書の再印刷"


@dataclass(frozen=True)
class ConsortiumRow:
    council: Council
    members: int
    pools: int
    last_run: AllocationRun | None


def consortia() -> list[ConsortiumRow]:
    today = timezone.localdate()
    rows = []
    councils = Council.objects.annotate(
        n_members=Count(
            "billing_memberships",
            filter=Q(billing_memberships__joined_on__lte=today)
            & (
                Q(billing_memberships__left_on__isnull=True)
                | Q(billing_memberships__left_on__gte=today)
            ),
            distinct=True,
        ),
        n_pools=Count("billing_pools", distinct=True),
    ).order_by("name")
    for c in councils:
        last = AllocationRun.objects.filter(council=c).order_by("-month").first()
        rows.append(ConsortiumRow(c, c.n_members, c.n_pools, last))
    return rows


def consortium_get(*, council_id: int) -> Council | None:
    council: Council | None = Council.objects.filter(pk=council_id).first()
    return council


def memberships(*, council: Council) -> list[Membership]:
    return list(
        Membership.objects.select_related("municipality")
        .filter(council=council)
        .order_by("municipality__code", "joined_on")
    )


def pools(*, council: Council) -> list[CostPool]:
    return list(CostPool.objects.filter(council=council).order_by("valid_from", "category", "name"))


def membership_get(*, council: Council, membership_id: int) -> Membership | None:
    membership: Membership | None = (
        Membership.objects.select_related("municipality")
        .filter(council=council, pk=membership_id)
        .first()
    )
    return membership


def pool_get(*, council: Council, pool_id: int) -> CostPool | None:
    pool: CostPool | None = CostPool.objects.filter(council=council, pk=pool_id).first()
    return pool


def runs(*, council: Council) -> list[AllocationRun]:
    return list(AllocationRun.objects.filter(council=council).order_by("-month"))


def run_get(*, council: Council, run_id: int) -> AllocationRun | None:
    run: AllocationRun | None = AllocationRun.objects.filter(council=council, pk=run_id).first()
    return run


@dataclass(frozen=True)
class RunMatrix:
    members: list[dict[str, Any]]  # code, name, population, total
    pools: list[dict[str, Any]]  # id, name, rule, amount, cells (per member, in member order)


def run_matrix(run: AllocationRun) -> RunMatrix:
    members = list(run.inputs.get("members", []))
    amounts: dict[tuple[int, str], int] = {}
    for line in run.lines:
        key = (int(line["pool_id"]), str(line["code"]))
        amounts[key] = amounts.get(key, 0) + int(line["amount"])
    totals = {m["code"]: 0 for m in members}
    pool_rows = []
    for p in run.inputs.get("pools", []):
        cells = [amounts.get((int(p["id"]), m["code"]), 0) for m in members]
        for m, cell in zip(members, cells, strict=True):
            totals[m["code"]] += cell
        pool_rows.append(
            {
                **p,
                "rule_label": rules.RULE_LABELS.get(p["rule"], p["rule"]),
                "cells": cells,
                "sum": sum(cells),
            }
        )
    member_rows = [{**m, "total": totals[m["code"]]} for m in members]
    return RunMatrix(member_rows, pool_rows)


def statements_own(*, purpose: str = PURPOSE_LIST) -> list[Statement]:
    """The current municipality's statements (tenant-scoped), newest month first; the read is
    recorded in its audit log."""
    rows = list(Statement.objects.order_by("-month", "council_name", "pk"))
    audit_record(
        action=AuditAction.READ,
        target_type="billing_statement",
        purpose=purpose,
        detail={"statements": [s.pk for s in rows]},
    )
    return rows


def _read(statement: Statement, *, purpose: str, action: AuditAction) -> None:
    audit_record(
        action=action,
        target_type="billing_statement",
        target_id=statement.pk,
        purpose=purpose,
        detail={"month": statement.month.isoformat()[:7], "council": statement.council_name},
    )


def statement_get(
    *, statement_id: int, purpose: str = PURPOSE_READ, csv: bool = False
) -> Statement | None:
    """One of the current municipality's statements (another municipality's id finds nothing);
    the read is recorded (``csv``: as 出力)."""
    statement: Statement | None = Statement.objects.filter(pk=statement_id).first()
    if statement is not None:
        _read(statement, purpose=purpose, action=AuditAction.EXPORT if csv else AuditAction.READ)
    return statement


def statement_own_pdf(
    *, statement_id: int, purpose: str = PURPOSE_PRINT
) -> tuple[Statement, bytes] | None:
    """One of the current municipality's statements and its signed 請求明細書 (PDF), or None
    when there is no such statement or its month is not closed; the print is recorded."""
    from moyai.documents.selectors import issued_document_pdf

    statement: Statement | None = Statement.objects.filter(pk=statement_id).first()
    if statement is None or statement.status != RunStatus.CLOSED or not statement.document_serial:
        return None
    return statement, issued_document_pdf(serial=statement.document_serial, purpose=purpose)


def statement_of(
    *,
    run: AllocationRun,
    municipality: Municipality,
    purpose: str = PURPOSE_READ,
    csv: bool = False,
) -> Statement | None:
    """One member's statement of ``run``, read inside that member's tenant and recorded in its
    audit log (``csv``: as 出力)."""
    with tenant_context(municipality):
        statement: Statement | None = Statement.objects.filter(run=run).first()
        if statement is not None:
            _read(
                statement, purpose=purpose, action=AuditAction.EXPORT if csv else AuditAction.READ
            )
    return statement


def statement_pdf_of(
    *, run: AllocationRun, municipality: Municipality, purpose: str = PURPOSE_PRINT
) -> bytes | None:
    """One member's signed 請求明細書 of ``run`` (None before it is issued); the print is
    recorded in the member's audit log."""
    with tenant_context(municipality):
        statement: Statement | None = Statement.objects.filter(run=run).first()
    if statement is None or not statement.document_serial:
        return None
    return statement_pdf(municipality=municipality, statement=statement, purpose=purpose)


def statement_pdf(
    *, municipality: Municipality, statement: Statement, purpose: str = PURPOSE_PRINT
) -> bytes:
    """The signed 請求明細書 as issued when the month was closed (the print is audited)."""
    from moyai.documents.selectors import issued_document_pdf

    with tenant_context(municipality):
        return issued_document_pdf(serial=statement.document_serial, purpose=purpose)


def _wareki_month(iso: str) -> str:
    from datetime import date

    from moyai.registry.rules import wareki

    return wareki(date.fromisoformat(iso)).rsplit("月", 1)[0] + "月"


CSV_HEADER = [
    "協議会名",
    "団体コード",
    "団体名",
    "対象月",
    "状態",
    "費用プール",
    "費目",
    "按分方法",
    "算定基礎",
    "金額（円）",
]


def statement_csv(*, statement: Statement, municipality: Municipality) -> bytes:
    """The statement as UTF-8 CSV: one row per line and a 合計 row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    month = _wareki_month(statement.month.isoformat())
    status = statement.get_status_display()
    for line in statement.lines:
        writer.writerow(
            [
                statement.council_name,
                municipality.code,
                municipality.name,
                month,
                status,
                line["pool"],
                line["category"],
                line["rule"],
                line["basis"],
                line["amount"],
            ]
        )
    writer.writerow(
        [
            statement.council_name,
            municipality.code,
            municipality.name,
            month,
            status,
            "合計",
            "",
            "",
            "",
            statement.total,
        ]
    )
    return out.getvalue().encode("utf-8")


def run_csv(*, run: AllocationRun) -> bytes:
    """A month's allocation for the operator: every line of every member, UTF-8 CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    month = _wareki_month(run.month.isoformat())
    status = run.get_status_display()
    for line in run.lines:
        writer.writerow(
            [
                run.council.name,
                line["code"],
                line["municipality"],
                month,
                status,
                line["pool"],
                line["category"],
                line["rule"],
                line["basis"],
                line["amount"],
            ]
        )
    writer.writerow([run.council.name, "", "", month, status, "合計", "", "", "", run.total])
    return out.getvalue().encode("utf-8")


def simulation_csv(result: rules.SimulationResult) -> bytes:
    """Per 年度 per member: the member's total share (and the year's average)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    names = [m.name for m in result.scenario.members]
    writer.writerow(["年度", "構成団体数", *names, "合計", "1団体あたり平均"])
    for y in result.years:
        writer.writerow(
            [y.year, len(y.members), *[y.costs.get(n, "") for n in names], y.total, y.average]
        )
    return out.getvalue().encode("utf-8")
