"""割り勘の参照: operator reads of the 協議会 tables, and each municipality's own statements.

The operator tables hold amounts and counts only. Statements are tenant rows: a 団体管理者 reads
them through the tenant manager (its own only); the operator reads one member's statement by
entering that member's tenant for the single read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from moyai.operations.billing import rules
from moyai.operations.billing.models import AllocationRun, CostPool, Membership, Statement
from moyai.platform.models import Council, Municipality
from moyai.platform.tenancy import tenant_context


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


def statements_own() -> list[Statement]:
    """The current municipality's statements (tenant-scoped), newest month first."""
    return list(Statement.objects.order_by("-month", "council_name"))


def statement_get(*, statement_id: int) -> Statement | None:
    statement: Statement | None = Statement.objects.filter(pk=statement_id).first()
    return statement


def statement_of(*, run: AllocationRun, municipality: Municipality) -> Statement | None:
    """One member's statement of ``run`` (read inside that member's tenant)."""
    with tenant_context(municipality):
        statement: Statement | None = Statement.objects.filter(run=run).first()
    return statement


def statement_pdf(*, municipality: Municipality, statement: Statement) -> bytes:
    """The signed 請求明細書 as issued when the month was closed (the print is audited)."""
    from moyai.documents.selectors import issued_document_pdf

    with tenant_context(municipality):
        return issued_document_pdf(
            serial=statement.document_serial, purpose="負担金請求明細書の再印刷"
        )


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
