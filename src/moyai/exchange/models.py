"""外字 of legacy systems: the per-municipality 外字 table and the identification queue."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from moyai.platform.tenancy import TenantModel


class LegacyGaiji(TenantModel):
    """外字対応表: one vendor 外字 code identified as an MJ character (reused by every import)."""

    vendor = models.CharField("移行元", max_length=100)
    code = models.CharField("外字コード", max_length=16)  # private-use code point, hex
    replacement = models.CharField("置き換える文字（IVS 含む）", max_length=8)
    mj_name = models.CharField("MJ文字図形名", max_length=8, blank=True)
    decided_by = models.CharField("同定者", max_length=150)
    decided_at = models.DateTimeField("同定日時", default=timezone.now)
    note = models.CharField("備考", max_length=200, blank=True)

    class Meta:
        verbose_name = "外字対応表"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "vendor", "code"], name="gaiji_vendor_code_unique"
            ),
        ]


class GaijiQueueItem(TenantModel):
    """外字の同定待ち: an unmapped 外字 met during an import, waiting for a person to identify."""

    vendor = models.CharField("移行元", max_length=100)
    code = models.CharField("外字コード", max_length=16)
    hint = models.CharField("代替文字（移行元の提供）", max_length=8, blank=True)
    image = models.BinaryField("移行元の字形画像（PNG）", null=True, blank=True)
    example = models.CharField("出現例", max_length=300, blank=True)
    first_seen = models.CharField("初出（ファイル:行 項目）", max_length=200, blank=True)
    occurrences = models.PositiveIntegerField("出現回数", default=1)
    created_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField("同定済み", default=False)

    class Meta:
        verbose_name = "外字の同定待ち"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "vendor", "code"], name="gaiji_queue_vendor_code_unique"
            ),
        ]
