"""割り勘 API for members: a 団体管理者 reads its own 負担金請求明細 (list, one, CSV, PDF).

Read-only. Statements are tenant rows, so another municipality's id answers 404 exactly as a
missing one does. Every read is recorded in the municipality's audit log (参照, CSV as 出力,
the PDF as 印刷), with the ``purpose`` the caller gives.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from moyai.operations.billing import selectors, services
from moyai.operations.billing.http import csv_response, pdf_response
from moyai.operations.billing.models import RunStatus, Statement
from moyai.platform.api import require_api_role
from moyai.platform.models import Role

router = Router(tags=["割り勘"])


def _role(request: HttpRequest) -> None:
    require_api_role(request, Role.ADMIN)


class StatementLineOut(Schema):
    pool: str = Field(description="費用プール")
    category: str = Field(description="費目")
    rule: str = Field(description="按分方法")
    basis: str = Field(description="算定基礎")
    amount: int = Field(description="金額（円）")


class StatementOut(Schema):
    id: int
    council_name: str = Field(description="協議会名")
    month: str = Field(description="対象月（YYYY-MM）")
    month_label: str = Field(description="対象月（和暦）")
    status: str = Field(description="draft（仮計算）または closed（確定）")
    status_label: str
    total: int = Field(description="請求額（円）")
    document_serial: str | None = Field(None, description="請求明細書の番号（確定後）")
    pdf: bool = Field(description="請求明細書（PDF）を取得できるか")


class StatementDetailOut(StatementOut):
    lines: list[StatementLineOut]


class ReadQuery(Schema):
    purpose: str = Field(
        "",
        max_length=200,
        description="参照の目的（監査ログに記録。省略すると操作の名前）",
    )


def _out(s: Statement) -> dict[str, Any]:
    closed = s.status == RunStatus.CLOSED and bool(s.document_serial)
    return {
        "id": s.pk,
        "council_name": s.council_name,
        "month": f"{s.month:%Y-%m}",
        "month_label": services.month_label(s.month),
        "status": s.status,
        "status_label": s.get_status_display(),
        "total": s.total,
        "document_serial": s.document_serial or None,
        "pdf": closed,
    }


def _get(statement_id: int, *, purpose: str, csv: bool = False) -> Statement:
    statement = selectors.statement_get(statement_id=statement_id, purpose=purpose, csv=csv)
    if statement is None:
        raise Http404("請求明細が見つかりません")
    return statement


@router.get(
    "/billing/statements", response=list[StatementOut], summary="負担金請求明細の一覧（自団体）"
)
def statement_list(request: HttpRequest, q: Query[ReadQuery]) -> list[dict[str, Any]]:
    """The municipality's own statements, newest month first."""
    _role(request)
    return [_out(s) for s in selectors.statements_own(purpose=q.purpose or selectors.PURPOSE_LIST)]


@router.get(
    "/billing/statements/{statement_id}",
    response=StatementDetailOut,
    summary="負担金請求明細（自団体）",
)
def statement_detail(request: HttpRequest, statement_id: int, q: Query[ReadQuery]) -> Any:
    _role(request)
    statement = _get(statement_id, purpose=q.purpose or selectors.PURPOSE_READ)
    return {
        **_out(statement),
        "lines": [
            {k: line[k] for k in ("pool", "category", "rule", "basis", "amount")}
            for line in statement.lines
        ],
    }


@router.get(
    "/billing/statements/{statement_id}/csv",
    summary="負担金請求明細の CSV（自団体）",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {"content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}
        }
    },
)
def statement_csv(request: HttpRequest, statement_id: int, q: Query[ReadQuery]) -> HttpResponse:
    """UTF-8 CSV: one row per line and a 合計 row (the same file as on the screen)."""
    _role(request)
    req: Any = request
    statement = _get(statement_id, purpose=q.purpose or selectors.PURPOSE_CSV, csv=True)
    return csv_response(
        selectors.statement_csv(statement=statement, municipality=req.municipality),
        f"請求明細_{req.municipality.name}_{statement.month:%Y-%m}.csv",
    )


@router.get(
    "/billing/statements/{statement_id}/pdf",
    summary="負担金請求明細書（PDF、自団体、確定した月のみ）",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
            }
        }
    },
)
def statement_pdf(request: HttpRequest, statement_id: int, q: Query[ReadQuery]) -> HttpResponse:
    """The signed 請求明細書 as issued when the month was closed; 404 before that."""
    _role(request)
    req: Any = request
    found = selectors.statement_own_pdf(
        statement_id=statement_id, purpose=q.purpose or selectors.PURPOSE_PRINT
    )
    if found is None:
        raise Http404("請求明細書が見つかりません（確定前の月は発行していません）")
    statement, pdf = found
    return pdf_response(pdf, f"請求明細書_{req.municipality.name}_{statement.month:%Y-%m}.pdf")
