"""Writes of platform data: one function per operation, keyword-only, atomic, audited."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from moyai.platform.audit import Actor, acting_as, audit_record
from moyai.platform.errors import ServiceError
from moyai.platform.models import (
    MUNICIPAL_ROLES,
    ApiToken,
    AuditAction,
    Council,
    Counter,
    Municipality,
    MunicipalityProfile,
    Role,
    StaffRole,
    StaffUser,
    SupportGrant,
)
from moyai.platform.outbox import emit
from moyai.platform.rules import prefecture_of, validate_local_government_code
from moyai.platform.selectors import TOKEN_PREFIX, hash_token_secret
from moyai.platform.tenancy import tenant_context

MAX_GRANT_DAYS = 90
GRANTABLE_ROLES = frozenset(MUNICIPAL_ROLES) - {Role.ADMIN}


@transaction.atomic
def council_get_or_create(*, name: str) -> Council:
    """協議会の登録."""
    council, _ = Council.objects.get_or_create(name=name)
    return council


@transaction.atomic
def municipality_create(*, code: str, name: str, council: Council | None = None) -> Municipality:
    """団体の登録: validates the 全国地方公共団体コード and derives the 都道府県 from it."""
    problem = validate_local_government_code(code)
    if problem:
        raise ServiceError(problem, field="code")
    if not name.strip():
        raise ServiceError("団体名を入力してください", field="name")
    if Municipality.objects.filter(code=code).exists():
        raise ServiceError(f"団体コード {code} は登録済みです", field="code")
    municipality = Municipality.objects.create(
        code=code, name=name.strip(), prefecture=prefecture_of(code), council=council
    )
    # The first row of the new municipality's own audit chain: who registered it.
    with tenant_context(municipality):
        audit_record(
            action=AuditAction.CREATE,
            target_type="municipality",
            target_id=code,
            purpose="団体の登録",
            detail={"name": municipality.name, "council": council.name if council else ""},
        )
    return municipality


@dataclass(frozen=True)
class NewStaff:
    user: StaffUser
    totp_secret_b32: str
    totp_uri: str


def _check_roles(roles: Sequence[Role | str], allowed: frozenset[Role], field: str) -> list[Role]:
    result = []
    for r in roles:
        try:
            role = Role(r)
        except ValueError:
            raise ServiceError(f"権限 {r!r} はありません", field=field) from None
        if role not in allowed:
            raise ServiceError(f"権限「{role.label}」はここでは付与できません", field=field)
        result.append(role)
    if not result:
        raise ServiceError("権限を1つ以上選んでください", field=field)
    return sorted(set(result))


@transaction.atomic
def staff_create(
    *,
    municipality: Municipality | None,
    username: str,
    password: str,
    roles: Sequence[Role | str],
    display_name: str = "",
    department: str = "",
) -> NewStaff:
    """職員の登録 with roles and a TOTP device; returns the device secret to hand over once.

    Operators (``Role.OPERATOR``) have no municipality; everybody else belongs to exactly one,
    and the registration (who, with which roles; never the secrets) goes into its audit log.
    """
    is_operator = [str(r) for r in roles] == [Role.OPERATOR.value]
    if is_operator and municipality is not None:
        raise ServiceError("基盤運用者は団体に所属しません", field="municipality")
    if not is_operator:
        if municipality is None:
            raise ServiceError("所属団体を指定してください", field="municipality")
        checked = _check_roles(roles, frozenset(MUNICIPAL_ROLES), "roles")
    else:
        checked = [Role.OPERATOR]
    if not username or StaffUser.objects.filter(username=username).exists():
        raise ServiceError(
            f"ユーザー名 {username!r} は使えません（空または登録済み）", field="username"
        )
    user = StaffUser(
        username=username,
        municipality=municipality,
        display_name=display_name,
        department=department,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field="password") from None
    user.set_password(password)
    user.save()
    StaffRole.objects.bulk_create([StaffRole(user=user, role=r) for r in checked])
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    if municipality is not None:
        with tenant_context(municipality):
            audit_record(
                action=AuditAction.CREATE,
                target_type="staff",
                target_id=user.pk,
                purpose="職員の登録",
                detail={"username": user.username, "roles": [str(r) for r in checked]},
            )
    secret = _b32(device.bin_key)
    return NewStaff(user=user, totp_secret_b32=secret, totp_uri=device.config_url)


def _b32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode().rstrip("=")


@transaction.atomic
def support_grant_create(
    *,
    host: Municipality,
    granted_by: StaffUser,
    grantee_username: str,
    roles: Sequence[Role | str],
    reason: str,
    starts_at: datetime,
    expires_at: datetime,
) -> SupportGrant:
    """応援権限の付与: lets a staff member of another municipality act here, for a time."""
    grantee = (
        StaffUser.objects.select_related("municipality")
        .filter(username=grantee_username, is_active=True)
        .first()
    )
    if grantee is None or grantee.municipality is None:
        raise ServiceError(f"職員 {grantee_username!r} が見つかりません", field="grantee")
    if grantee.municipality_id == host.pk:
        raise ServiceError("自団体の職員には応援権限は不要です", field="grantee")
    checked = _check_roles(roles, GRANTABLE_ROLES, "roles")
    if not reason.strip():
        raise ServiceError("理由を入力してください", field="reason")
    if expires_at <= starts_at:
        raise ServiceError("終了日時は開始日時より後にしてください", field="expires_at")
    if expires_at - starts_at > timedelta(days=MAX_GRANT_DAYS):
        raise ServiceError(f"応援期間は{MAX_GRANT_DAYS}日以内にしてください", field="expires_at")
    if expires_at <= timezone.now():
        raise ServiceError("終了日時が過去です", field="expires_at")
    grant = SupportGrant.objects.create(
        host=host,
        grantee=grantee,
        roles=[str(r) for r in checked],
        reason=reason.strip(),
        starts_at=starts_at,
        expires_at=expires_at,
        granted_by=granted_by,
    )
    with tenant_context(host):
        audit_record(
            action=AuditAction.GRANT,
            target_type="support_grant",
            target_id=grant.pk,
            purpose=grant.reason,
            detail={
                "grantee": grantee.username,
                "grantee_municipality": grantee.municipality.code,
                "roles": grant.roles,
                "starts_at": starts_at.isoformat(),
                "expires_at": expires_at.isoformat(),
            },
        )
        emit(
            type="platform.support_grant.created",
            subject_type="support_grant",
            subject_id=grant.pk,
            payload={"grantee_municipality": grantee.municipality.code, "roles": grant.roles},
        )
    return grant


@transaction.atomic
def support_grant_revoke(
    *, host: Municipality, grant: SupportGrant, revoked_by: StaffUser
) -> SupportGrant:
    """応援権限の取消: ends the grant now; the grantee's next request is back home."""
    if grant.host_id != host.pk:
        raise ServiceError("この応援権限はありません", code="not_found")
    if grant.revoked_at is not None:
        raise ServiceError("すでに取り消されています")
    grant.revoked_at = timezone.now()
    grant.revoked_by = revoked_by
    grant.save(update_fields=["revoked_at", "revoked_by"])
    with tenant_context(host):
        audit_record(
            action=AuditAction.GRANT,
            target_type="support_grant",
            target_id=grant.pk,
            purpose="応援権限の取消",
            detail={"revoked": True},
        )
    return grant


def support_grant_entered(*, grant: SupportGrant) -> None:
    """Records, in the host's audit log, that the grantee started acting under the grant."""
    with tenant_context(grant.host):
        audit_record(
            action=AuditAction.LOGIN,
            target_type="support_grant",
            target_id=grant.pk,
            purpose="応援業務の開始",
        )


def login_recorded(*, user: StaffUser, source_ip: str) -> None:
    """ログイン: recorded in the staff member's own municipality's audit log."""
    if user.municipality is None:
        return
    actor = Actor(
        username=user.username,
        user_id=user.pk,
        channel="web",
        municipality_code=user.municipality.code,
        source_ip=source_ip,
    )
    with acting_as(actor), tenant_context(user.municipality):
        audit_record(action=AuditAction.LOGIN, target_type="staff", target_id=user.pk)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    plaintext: str


@transaction.atomic
def api_token_create(*, user: StaffUser, name: str, days: int = 90) -> NewToken:
    """APIトークンの発行: the plaintext is returned once and only its hash is kept."""
    if not name.strip():
        raise ServiceError("用途を入力してください", field="name")
    if not 1 <= days <= 366:
        raise ServiceError("有効日数は1〜366日です", field="days")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32).replace("_", "-")
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=prefix,
        key_hash=hash_token_secret(secret),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return NewToken(token=token, plaintext=f"{TOKEN_PREFIX}_{prefix}_{secret}")


def counter_next(*, name: str, count: int = 1) -> int:
    """Reserve ``count`` numbers of the current municipality's sequence ``name``; returns the
    first. The counter row is locked until the caller's transaction ends, so numbers are never
    handed out twice (and a rolled-back transaction hands its numbers back)."""
    with transaction.atomic():
        row = Counter.objects.select_for_update().filter(name=name).first()
        if row is None:
            Counter.objects.get_or_create(name=name)
            row = Counter.objects.select_for_update().get(name=name)
        first = row.value + 1
        row.value += count
        row.save(update_fields=["value"])
    return int(first)


@transaction.atomic
def profile_update(
    *, mayor_title: str, mayor_name: str, certificate_statements: dict[str, str] | None = None
) -> MunicipalityProfile:
    """団体の設定の変更 (団体管理者): 首長の職名・氏名 and 認証文 printed on certificates."""
    if not mayor_title.strip():
        raise ServiceError("首長の職名（例: 葉山町長）を入力してください", field="mayor_title")
    if not mayor_name.strip():
        raise ServiceError("首長の氏名を入力してください", field="mayor_name")
    statements = {k: v.strip() for k, v in (certificate_statements or {}).items() if v.strip()}
    for kind, text in statements.items():
        if len(text) > 300:
            raise ServiceError(f"認証文（{kind}）は300文字以内です", field="certificate_statements")
    profile: MunicipalityProfile = MunicipalityProfile.objects.get_or_create()[0]
    before = {
        "mayor_title": profile.mayor_title,
        "mayor_name": profile.mayor_name,
        "certificate_statements": profile.certificate_statements,
    }
    profile.mayor_title = mayor_title.strip()
    profile.mayor_name = mayor_name.strip()
    if certificate_statements is not None:
        profile.certificate_statements = statements
    profile.updated_at = timezone.now()
    profile.save()
    audit_record(
        action=AuditAction.UPDATE,
        target_type="municipality_profile",
        purpose="団体の設定の変更",
        detail={"before": before},
    )
    return profile
