"""Document tables: the issue register (発行台帳), its serial counters and the signing keys.

All three are tenant tables. Tenant tables refer to each other by a per-municipality number, not
by a database foreign key, because every key between tenant tables must include the municipality
(Citus) and Django has no composite foreign keys: ``IssuedDocument.signing_key_version`` names
``SigningKey.version`` of the same municipality.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from moyai.platform.tenancy import TenantModel


class DocumentSerialCounter(TenantModel):
    """証明書番号の採番: the last number handed out per municipality and calendar year.

    Locked (``SELECT … FOR UPDATE``) by the issuing transaction, so numbers are sequential with
    neither gaps nor duplicates: a failed issue rolls its number back with everything else.
    """

    year = models.PositiveSmallIntegerField("西暦年")
    last_number = models.PositiveIntegerField("最終番号", default=0)

    class Meta:
        verbose_name = "証明書番号の採番"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "year"], name="documents_counter_year_unique"
            ),
        ]


class SigningKey(TenantModel):
    """署名鍵: a municipality's document-signing key pair and its self-signed certificate.

    The private key is stored encrypted (see :mod:`moyai.documents.signing`); the certificate is
    public and stays after the key is retired, because documents signed with it must still
    verify. At most one key per municipality is in use (``retired_at`` is null).
    """

    version = models.PositiveIntegerField("鍵の版")
    algorithm = models.CharField("方式", max_length=32)
    certificate_pem = models.TextField("証明書（PEM）")
    certificate_sha256 = models.CharField("証明書の SHA-256", max_length=64)
    private_key_encrypted = models.BinaryField("秘密鍵（暗号化）", blank=True)
    kek_id = models.CharField("鍵暗号化鍵の ID", max_length=32, blank=True)
    created_at = models.DateTimeField("作成日時", default=timezone.now)
    not_after = models.DateTimeField("有効期限")
    retired_at = models.DateTimeField("使用終了日時", null=True, blank=True)
    retired_reason = models.CharField("使用終了の理由", max_length=200, blank=True)

    class Meta:
        verbose_name = "署名鍵"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "version"], name="documents_key_version_unique"
            ),
            models.UniqueConstraint(
                fields=["municipality"],
                condition=models.Q(retired_at__isnull=True),
                name="documents_one_key_in_use",
            ),
        ]

    def __str__(self) -> str:
        return f"署名鍵 第{self.version}版"


class IssuedDocument(TenantModel):
    """証明書発行台帳: one issued (signed) document, its serial and the exact bytes handed out.

    ``pdf`` keeps the signed PDF so that a reprint is byte-identical (same hash, same signature)
    and the register can prove what was issued. It holds personal data: read it only through
    :func:`moyai.documents.selectors.issued_document_pdf`, which records the access.
    """

    serial = models.CharField("証明書番号", max_length=20)
    year = models.PositiveSmallIntegerField("西暦年")
    number = models.PositiveIntegerField("連番")
    kind = models.CharField("種類", max_length=64)
    kind_label = models.CharField("種類（表示名）", max_length=100)
    subject_type = models.CharField("対象種別", max_length=64)
    subject_id = models.CharField("対象ID", max_length=64)
    template_name = models.CharField("テンプレート", max_length=200)
    issued_at = models.DateTimeField("発行日時")
    issued_by = models.CharField("発行者", max_length=150)
    sha256 = models.CharField("SHA-256", max_length=64)
    page_count = models.PositiveIntegerField("ページ数")
    pdf = models.BinaryField("PDF")
    signing_key_version = models.PositiveIntegerField("署名鍵の版")
    revoked = models.BooleanField("取消", default=False)
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)
    revoked_by = models.CharField("取消者", max_length=150, blank=True)
    revoked_reason = models.CharField("取消の理由", max_length=200, blank=True)

    class Meta:
        verbose_name = "証明書発行台帳"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "serial"], name="documents_serial_unique"
            ),
            models.UniqueConstraint(
                fields=["municipality", "year", "number"], name="documents_number_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["municipality", "subject_type", "subject_id"],
                name="documents_subject_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.serial
