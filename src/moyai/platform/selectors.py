"""Reads of platform data. Tenant-scoped reads go through tenant managers; reads that touch
personal data or the audit log itself are recorded in the audit log."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from moyai.platform.audit import audit_record
from moyai.platform.models import (
    ApiToken,
    AuditAction,
    AuditEvent,
    Municipality,
    MunicipalityProfile,
    OutboxEvent,
    Role,
    StaffUser,
    SupportGrant,
)
from moyai.platform.tenancy import tenant_context

TOKEN_PREFIX = "moyai"  # noqa: S105 - a public marker, not a secret


def staff_roles(*, user: StaffUser) -> frozenset[Role]:
    """The roles a staff member holds in their own municipality."""
    return frozenset(Role(r) for r in user.role_rows.values_list("role", flat=True))


def hash_token_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_from_header(header: str) -> ApiToken | None:
    """The live token named by an ``Authorization: Bearer moyai_<prefix>_<secret>`` header."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    parts = value.strip().split("_")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__municipality")
        .filter(prefix=parts[1], revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, hash_token_secret(parts[2])):
        return None
    if not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def active_grant_for(*, user: StaffUser, grant_id: int) -> SupportGrant | None:
    """The 応援 grant ``grant_id`` if it is the user's and in force now."""
    now = timezone.now()
    return (
        SupportGrant.objects.select_related("host")
        .filter(
            pk=grant_id,
            grantee=user,
            revoked_at__isnull=True,
            starts_at__lte=now,
            expires_at__gt=now,
        )
        .first()
    )


def grants_received(*, user: StaffUser) -> list[SupportGrant]:
    """応援 grants given to this staff member that are in force or yet to start."""
    return list(
        SupportGrant.objects.select_related("host")
        .filter(grantee=user, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("starts_at")
    )


def grants_given(*, host: Municipality) -> QuerySet[SupportGrant]:
    """Every 応援 grant the current municipality has given (newest first)."""
    return (
        SupportGrant.objects.select_related("grantee", "grantee__municipality", "granted_by")
        .filter(host=host)
        .order_by("-created_at")
    )


def grant_given_get(*, host: Municipality, grant_id: int) -> SupportGrant | None:
    return grants_given(host=host).filter(pk=grant_id).first()


def staff_list(*, municipality: Municipality) -> QuerySet[StaffUser]:
    return (
        StaffUser.objects.filter(municipality=municipality)
        .prefetch_related("role_rows")
        .order_by("username")
    )


@dataclass(frozen=True)
class AuditFilter:
    date_from: datetime | None = None
    date_to: datetime | None = None
    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""


def audit_search(*, filters: AuditFilter, limit: int = 200, purpose: str) -> list[AuditEvent]:
    """Search the current municipality's audit log; the search itself is audited."""
    qs = AuditEvent.objects.all()
    if filters.date_from:
        qs = qs.filter(occurred_at__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(occurred_at__lt=filters.date_to)
    if filters.actor:
        qs = qs.filter(actor_username__icontains=filters.actor)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.target_type:
        qs = qs.filter(target_type=filters.target_type)
    if filters.target_id:
        qs = qs.filter(target_id=filters.target_id)
    rows = list(qs.order_by("-seq")[:limit])
    audit_record(
        action=AuditAction.READ,
        target_type="audit_log",
        purpose=purpose,
        detail={k: str(v) for k, v in filters.__dict__.items() if v},
    )
    return rows


def audit_event_get(*, event_id: int, purpose: str) -> AuditEvent | None:
    event = AuditEvent.objects.filter(pk=event_id).first()
    if event is not None:
        audit_record(
            action=AuditAction.READ, target_type="audit_log", target_id=event.pk, purpose=purpose
        )
    return event


def events_after(*, after: int, limit: int, purpose: str) -> list[OutboxEvent]:
    """The current municipality's outbox events with id > ``after`` (the pull feed)."""
    rows = list(OutboxEvent.objects.filter(id__gt=after).order_by("id")[:limit])
    if rows:
        audit_record(
            action=AuditAction.EXPORT,
            target_type="event_feed",
            purpose=purpose,
            detail={"after": after, "count": len(rows), "last": rows[-1].pk},
        )
    return rows


@dataclass(frozen=True)
class TenantUsage:
    """What an operator may see of a tenant: counts, never personal data."""

    code: str
    name: str
    prefecture: str
    council: str
    is_active: bool
    staff: int
    audit_rows: int
    pending_events: int
    total_events: int


def tenant_usage() -> list[TenantUsage]:
    """Per-municipality usage for the operator screen (counts only)."""
    from moyai.platform.models import ConsumerOffset
    from moyai.platform.outbox import registered_consumers

    result = []
    consumers = [c.name for c in registered_consumers()]
    for m in Municipality.objects.select_related("council").order_by("code"):
        with tenant_context(m):
            total = OutboxEvent.objects.count()
            offsets = dict(ConsumerOffset.objects.values_list("consumer", "last_event_id"))
            low = min((offsets.get(c, 0) for c in consumers), default=None)
            pending = OutboxEvent.objects.filter(id__gt=low).count() if low is not None else 0
            result.append(
                TenantUsage(
                    code=m.code,
                    name=m.name,
                    prefecture=m.prefecture,
                    council=m.council.name if m.council else "",
                    is_active=m.is_active,
                    staff=StaffUser.objects.filter(municipality=m, is_active=True).count(),
                    audit_rows=AuditEvent.objects.count(),
                    pending_events=pending,
                    total_events=total,
                )
            )
    return result


def municipality_profile() -> MunicipalityProfile:
    """The current municipality's settings (defaults when never set)."""
    from moyai.platform.tenancy import current_tenant

    profile = MunicipalityProfile.objects.first()
    if profile is None:
        tenant = current_tenant()
        profile = MunicipalityProfile(municipality_id=tenant.id, mayor_title=f"{tenant.name}長")
    return profile


def active_municipality(*, code: str) -> Municipality | None:
    """A participating municipality by its 団体コード (public pages such as the 試算 use it to
    pick the 条例 rates; no personal data)."""
    return Municipality.objects.filter(code=code, is_active=True).first()
