"""Platform API: who am I, and the tenant's event feed for outside systems."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from moyai.platform import selectors
from moyai.platform.models import Role

router = Router(tags=["platform"])


def require_api_role(request: HttpRequest, *roles: Role) -> None:
    held: frozenset[Role] = getattr(request, "staff_roles", frozenset())
    if not held & set(roles):
        raise PermissionDenied("この業務の権限がありません")
    if Role.OPERATOR not in roles and getattr(request, "tenant", None) is None:
        raise PermissionDenied("団体が設定されていません")


class MeOut(Schema):
    username: str
    display_name: str
    municipality_code: str | None
    municipality_name: str | None
    roles: list[str]
    support_grant_id: int | None


@router.get("/me", response=MeOut, summary="ログイン中の職員と操作中の団体")
def me(request: HttpRequest) -> dict[str, Any]:
    req: Any = request
    m = req.municipality
    return {
        "username": req.user.username,
        "display_name": req.user.display_name,
        "municipality_code": m.code if m else None,
        "municipality_name": m.display_name if m else None,
        "roles": sorted(str(r) for r in req.staff_roles),
        "support_grant_id": req.support_grant.pk if req.support_grant else None,
    }


class EventOut(Schema):
    id: int
    type: str
    subject_type: str
    subject_id: str
    occurred_at: datetime
    payload: dict[str, Any]


class EventFeedOut(Schema):
    municipality_code: str
    events: list[EventOut]
    next_after: int = Field(description="次回の after に渡す値")


class EventQuery(Schema):
    after: int = Field(0, ge=0, description="この ID より後のイベントを返す")
    limit: int = Field(100, ge=1, le=1000)
    purpose: str = Field(
        "外部システム連携", max_length=200, description="取得目的（監査ログに記録）"
    )


@router.get("/events", response=EventFeedOut, summary="イベント取得（プル型連携）")
def events(request: HttpRequest, q: Query[EventQuery]) -> dict[str, Any]:
    """The municipality's outbox events after ``after``, oldest first (at-least-once: clients
    keep the last id they processed and pass it back)."""
    req: Any = request
    require_api_role(
        request, Role.ADMIN, Role.REGISTRY, Role.TAX, Role.HEALTH_INSURANCE, Role.DISASTER
    )
    rows = selectors.events_after(after=q.after, limit=q.limit, purpose=q.purpose)
    return {
        "municipality_code": req.tenant.code,
        "events": rows,
        "next_after": rows[-1].pk if rows else q.after,
    }
