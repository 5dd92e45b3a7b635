"""軽自動車税（種別割）: the vehicle ledger (標識番号 by owner and period), parameters and
assessments. The 納税義務者 is the owner on 4月1日 (賦課期日): the ledger row whose
``acquired_on <= 4/1 < released_on``. A 名義変更 closes the row and opens the next one with the
same 標識番号; a 廃車 closes it. An assessment stores its inputs (``rules.vehicle_from_mapping``
and ``exemption_from_mapping`` JSON) so the trace is recomputed on demand."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from moyai.platform.tenancy import TenantModel
from moyai.tax.addressees.models import Addressee
from moyai.tax.light_vehicle import rules

CLASS_CHOICES = [(c.value, c.label) for c in rules.VehicleClass]
USE_CHOICES = [(u.value, u.label) for u in rules.Use]
FUEL_CHOICES = [(f.value, f.label) for f in rules.Fuel]


class LightVehicleParameters(TenantModel):
    """The municipality's 種別割 rates of one 年度 (immutable versions; 条例 overrides)."""

    fiscal_year = models.PositiveSmallIntegerField("年度")
    version = models.PositiveIntegerField("版")
    overrides = models.JSONField("条例による設定", default=dict)
    installment_plan = models.JSONField("納期", default=dict)  # {} = 5月31日
    holidays = models.JSONField("条例で定める休日", default=list)
    digest = models.CharField(max_length=64)
    note = models.CharField("変更の理由", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "軽自動車税の税率等"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "fiscal_year", "version"],
                name="light_vehicle_params_version_unique",
            ),
        ]


class Release(models.TextChoices):
    TRANSFER = "transfer", "名義変更"
    SCRAPPED = "scrapped", "廃車"


class LightVehicle(TenantModel):
    """軽自動車等 (one owner's period): 標識番号, 車種区分, 初度検査年月, 用途, 燃料, 減免."""

    plate = models.CharField("標識番号", max_length=30)
    vehicle_class = models.CharField("車種区分", max_length=24, choices=CLASS_CHOICES)
    use = models.CharField("用途", max_length=12, choices=USE_CHOICES, default="private")
    first_inspection = models.CharField("初度検査年月", max_length=7, blank=True)  # YYYY-MM/YYYY
    fuel = models.CharField("燃料", max_length=12, choices=FUEL_CHOICES, default="gasoline")
    towed = models.BooleanField("被けん引車", default=False)
    new_registration = models.DateField("新規検査日", null=True, blank=True)
    green_50_standard = models.BooleanField("燃費・排出ガス基準（概ね50%軽減）", default=False)
    owner = models.ForeignKey(Addressee, on_delete=models.PROTECT, related_name="+")
    acquired_on = models.DateField("登録日（取得日）")
    released_on = models.DateField("抹消・移転日", null=True, blank=True)
    release = models.CharField("抹消の事由", max_length=10, choices=Release.choices, blank=True)
    exemption = models.JSONField("減免", null=True, blank=True)  # {"reason", "ratio"}
    predecessor = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField("備考", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "軽自動車等"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "plate"],
                condition=models.Q(released_on__isnull=True),
                name="light_vehicle_plate_current_unique",
            ),
        ]
        indexes = [models.Index(fields=["municipality", "plate"])]

    def __str__(self) -> str:
        return self.plate


class VehicleTaxAssessment(TenantModel):
    """種別割 of one vehicle for one 年度 (taxed to the owner on 4月1日)."""

    vehicle = models.ForeignKey(LightVehicle, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(Addressee, on_delete=models.PROTECT, related_name="+")
    fiscal_year = models.PositiveSmallIntegerField("年度")
    seq = models.PositiveIntegerField("履歴番号")
    is_current = models.BooleanField(default=True)
    params = models.ForeignKey(LightVehicleParameters, on_delete=models.PROTECT, related_name="+")
    inputs = models.JSONField("課税客体")  # {"vehicle": {...}, "exemption": {...} | null}
    digest = models.CharField(max_length=64)
    rate_kind = models.CharField("税率の区分", max_length=60)
    standard_tax = models.BigIntegerField("税率による税額")
    exemption_amount = models.BigIntegerField("減免額")
    tax = models.BigIntegerField("税額")
    due = models.DateField("納期限")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "軽自動車税の賦課"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "vehicle", "fiscal_year", "seq"],
                name="vehicle_assessment_seq_unique",
            ),
            models.UniqueConstraint(
                fields=["municipality", "fiscal_year", "vehicle"],
                condition=models.Q(is_current=True),
                name="vehicle_assessment_one_current",
            ),
        ]
        indexes = [models.Index(fields=["municipality", "fiscal_year", "owner"])]
