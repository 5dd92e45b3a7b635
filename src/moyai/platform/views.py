"""Platform screens: audit log search, 応援 grants, staff list (団体管理者); tenants (運用者)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from moyai.platform import selectors, services
from moyai.platform.errors import ServiceError
from moyai.platform.forms import AuditSearchForm, ProfileForm, SupportGrantForm
from moyai.platform.models import Role
from moyai.platform.permissions import require_role


def _day_start(d: Any) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


@require_role(Role.ADMIN)
def audit_search(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None)
    rows = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.AuditFilter(
            date_from=_day_start(data["date_from"]) if data["date_from"] else None,
            date_to=_day_start(data["date_to"] + timedelta(days=1)) if data["date_to"] else None,
            actor=data["actor"],
            action=data["action"],
            target_type=data["target_type"],
            target_id=data["target_id"],
        )
        rows = selectors.audit_search(filters=filters, purpose=data["purpose"])
    return render(request, "platform/audit_search.html", {"form": form, "rows": rows})


@require_role(Role.ADMIN)
def audit_detail(request: HttpRequest, audit_id: int) -> HttpResponse:
    event = selectors.audit_event_get(event_id=audit_id, purpose="監査ログの詳細参照")
    if event is None:
        raise Http404("監査ログが見つかりません")
    return render(request, "platform/audit_detail.html", {"event": event})


@require_role(Role.ADMIN)
def grants(request: HttpRequest) -> HttpResponse:
    req: Any = request
    form = SupportGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.support_grant_create(
                host=req.municipality,
                granted_by=req.user,
                grantee_username=data["grantee"],
                roles=data["roles"],
                reason=data["reason"],
                starts_at=data["starts_at"],
                expires_at=data["expires_at"],
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "応援権限を付与しました")
            return redirect("platform:grants")
    rows = selectors.grants_given(host=req.municipality)
    return render(
        request,
        "platform/grants.html",
        {"form": form, "rows": rows, "now": timezone.now()},
        status=400 if form.errors else 200,
    )


@require_POST
@require_role(Role.ADMIN)
def grant_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    req: Any = request
    grant = selectors.grant_given_get(host=req.municipality, grant_id=grant_id)
    if grant is None:
        raise Http404("応援権限が見つかりません")
    try:
        services.support_grant_revoke(host=req.municipality, grant=grant, revoked_by=req.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "応援権限を取り消しました")
    return redirect("platform:grants")


@require_role(Role.ADMIN)
def staff(request: HttpRequest) -> HttpResponse:
    req: Any = request
    return render(
        request,
        "platform/staff.html",
        {"rows": selectors.staff_list(municipality=req.municipality)},
    )


@require_role(Role.OPERATOR)
def tenants(request: HttpRequest) -> HttpResponse:
    return render(request, "platform/tenants.html", {"rows": selectors.tenant_usage()})


@require_role(Role.ADMIN)
def profile(request: HttpRequest) -> HttpResponse:
    """団体の設定: 首長名と認証文 (printed on certificates)."""
    current = selectors.municipality_profile()
    statements = current.certificate_statements
    form = ProfileForm(
        request.POST or None,
        initial={
            "mayor_title": current.mayor_title,
            "mayor_name": current.mayor_name,
            "statement_household": statements.get("household", ""),
            "statement_selected": statements.get("selected", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.profile_update(
                mayor_title=d["mayor_title"],
                mayor_name=d["mayor_name"],
                certificate_statements={
                    "household": d["statement_household"],
                    "selected": d["statement_selected"],
                },
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "団体の設定を保存しました")
            return redirect("platform:profile")
    return render(
        request, "platform/profile.html", {"form": form}, status=400 if form.errors else 200
    )
