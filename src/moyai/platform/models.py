"""Platform tables: municipalities, staff, 応援 grants, API tokens, audit log, outbox, jobs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from moyai.platform.rules import validate_local_government_code
from moyai.platform.tenancy import TenantModel


def _validate_code(value: str) -> None:
    problem = validate_local_government_code(value)
    if problem:
        raise ValidationError(problem)


class Council(models.Model):
    """協議会: municipalities that share the platform and split its cost (割り勘)."""

    name = models.CharField("協議会名", max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "協議会"

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    """地方公共団体: one tenant of the shared deployment."""

    code = models.CharField("団体コード", max_length=6, unique=True, validators=[_validate_code])
    name = models.CharField("団体名", max_length=50)
    prefecture = models.CharField("都道府県", max_length=4)
    council = models.ForeignKey(
        Council,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name="協議会",
    )
    is_active = models.BooleanField("利用中", default=True)
    joined_at = models.DateTimeField("参加日時", default=timezone.now)

    class Meta:
        verbose_name = "団体"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.prefecture}{self.name}"

    @property
    def display_name(self) -> str:
        return f"{self.prefecture} {self.name}"


class Role(models.TextChoices):
    """業務 roles. A staff member holds roles only in their own municipality."""

    REGISTRY = "registry", "住民記録"
    TAX = "tax", "税務"
    HEALTH_INSURANCE = "health_insurance", "国保"
    DISASTER = "disaster", "被災者支援"
    ADMIN = "admin", "団体管理者"
    OPERATOR = "operator", "基盤運用者"


MUNICIPAL_ROLES = [r for r in Role if r is not Role.OPERATOR]


class StaffManager(UserManager["StaffUser"]):
    def create_superuser(self, *args: Any, **kwargs: Any) -> StaffUser:
        raise NotImplementedError(
            "moyai has no superuser: create staff with roles (moyai staff create)"
        )


class StaffUser(AbstractUser):
    """職員: a member of staff of one municipality, or a platform operator (no municipality)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name="所属団体",
    )
    display_name = models.CharField("氏名", max_length=100, blank=True)
    department = models.CharField("所属課", max_length=100, blank=True)

    objects = StaffManager()  # type: ignore[misc]

    class Meta:
        verbose_name = "職員"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_superuser=False), name="staff_no_superuser"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username


class StaffRole(models.Model):
    """職員の権限: one 業務 role held by a staff member in their own municipality."""

    user = models.ForeignKey(StaffUser, on_delete=models.CASCADE, related_name="role_rows")
    role = models.CharField("権限", max_length=32, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="staff_role_unique"),
        ]


class SupportGrant(models.Model):
    """応援: time-limited, logged permission for staff of another municipality to help.

    Granted by the host's 団体管理者; the grantee acts inside the host's tenant with the listed
    roles only, and every action is audited with the grant's id.
    """

    host = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="support_grants_given",
        verbose_name="応援を受ける団体",
    )
    grantee = models.ForeignKey(
        StaffUser,
        on_delete=models.PROTECT,
        related_name="support_grants",
        verbose_name="応援職員",
    )
    roles = models.JSONField("付与する権限", default=list)
    reason = models.CharField("理由", max_length=200)
    starts_at = models.DateTimeField("開始日時")
    expires_at = models.DateTimeField("終了日時")
    granted_by = models.ForeignKey(
        StaffUser, on_delete=models.PROTECT, related_name="+", verbose_name="付与者"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)
    revoked_by = models.ForeignKey(
        StaffUser, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "応援権限"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("starts_at")),
                name="grant_expires_after_start",
            ),
        ]

    def is_active(self, at: Any = None) -> bool:
        now = at or timezone.now()
        return self.revoked_at is None and self.starts_at <= now < self.expires_at


class ApiToken(models.Model):
    """API トークン: a bearer token for outside systems, issued by a signed-in staff member."""

    user = models.ForeignKey(StaffUser, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField("有効期限")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class AuditAction(models.TextChoices):
    READ = "read", "参照"
    CREATE = "create", "登録"
    UPDATE = "update", "更新"
    DELETE = "delete", "削除"
    PRINT = "print", "印刷"
    EXPORT = "export", "出力"
    LOGIN = "login", "ログイン"
    GRANT = "grant", "権限付与"


class AuditEvent(TenantModel):
    """監査ログ: one access to personal data or one security-relevant act, hash-chained.

    Append-only: the application role may only INSERT and SELECT (PostgreSQL grants), and each
    row's hash covers the previous row's hash, so an edited or deleted row breaks the chain.
    """

    seq = models.PositiveBigIntegerField("連番")
    occurred_at = models.DateTimeField("日時")
    actor_id = models.BigIntegerField("職員ID", null=True)
    actor_username = models.CharField("職員", max_length=150)
    actor_municipality_code = models.CharField("職員の所属団体", max_length=6, blank=True)
    support_grant_id = models.BigIntegerField("応援権限ID", null=True)
    action = models.CharField("操作", max_length=16, choices=AuditAction.choices)
    target_type = models.CharField("対象種別", max_length=64)
    target_id = models.CharField("対象ID", max_length=64, blank=True)
    purpose = models.CharField("目的", max_length=200, blank=True)
    detail = models.JSONField("詳細", default=dict)
    source_ip = models.CharField("接続元", max_length=64, blank=True)
    channel = models.CharField("経路", max_length=16)  # web / api / cli / task
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "監査ログ"
        constraints = [
            models.UniqueConstraint(fields=["municipality", "seq"], name="audit_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["municipality", "occurred_at"]),
            models.Index(fields=["municipality", "target_type", "target_id"]),
        ]


class AuditChainHead(TenantModel):
    """The last link of a municipality's audit chain (locked while appending)."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality"], name="audit_head_unique"),
        ]


class OutboxEvent(TenantModel):
    """業務イベント: written in the same transaction as the change it reports."""

    type = models.CharField("種別", max_length=100)
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["municipality", "id"])]


class ConsumerOffset(TenantModel):
    """How far one event consumer has got in one municipality's outbox."""

    consumer = models.CharField(max_length=100)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "consumer"], name="consumer_offset_unique"
            ),
        ]


class JobRun(TenantModel):
    """A chunked background job: progress is committed with each chunk, so re-runs resume."""

    key = models.CharField(max_length=200)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "key"], name="job_key_unique"),
        ]


class Counter(TenantModel):
    """採番: a per-municipality number sequence (宛名番号, 世帯番号, 異動番号 …)."""

    name = models.CharField(max_length=64)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "name"], name="counter_name_unique"),
        ]


class MunicipalityProfile(TenantModel):
    """団体の設定: what differs between towns is configuration — 市区町村長名, 認証文 …"""

    mayor_title = models.CharField("首長の職名", max_length=50, blank=True)  # e.g. 葉山町長
    mayor_name = models.CharField("首長の氏名", max_length=100, blank=True)
    certificate_statements = models.JSONField("認証文（証明書の種類ごと）", default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "団体の設定"
        constraints = [
            models.UniqueConstraint(fields=["municipality"], name="profile_one_per_municipality"),
        ]
