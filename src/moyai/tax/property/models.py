"""固定資産課税台帳: 土地・家屋 by 年度, 償却資産の申告, parameters and assessments.

The ledger keeps every version: a 異動 (分筆・合筆・滅失・所有権移転・評価替え) closes the
current row from the 年度 it affects on (``valid_to``) and opens new rows (``valid_from``); the
ledger of 年度 Y — as it stood on the 賦課期日 1 January Y — is the rows with
``valid_from <= Y < valid_to`` (``valid_to`` NULL = still current). An owner is a
``tax_addressees.Addressee``: a person, a 法人, or a 共有者の集まり (one 納税義務者 of its own).

An assessment stores its inputs (the mappings ``rules.land_from_mapping`` etc. read, with the
ledger row ids) and the parameter version; the trace is recomputed from them on demand.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from moyai.platform.tenancy import TenantModel
from moyai.tax.addressees.models import Addressee


class PropertyTaxParameters(TenantModel):
    """The municipality's 固定資産税・都市計画税 parameters of one 年度 (immutable versions)."""

    fiscal_year = models.PositiveSmallIntegerField("年度")
    version = models.PositiveIntegerField("版")
    overrides = models.JSONField("条例による設定", default=dict)  # rules.params_from_mapping
    installment_plan = models.JSONField("納期", default=dict)  # {} = 4・7・12・2月の月末
    holidays = models.JSONField("条例で定める休日", default=list)
    digest = models.CharField(max_length=64)
    note = models.CharField("変更の理由", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "固定資産税の税率等"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "fiscal_year", "version"],
                name="property_params_version_unique",
            ),
        ]


class LandUse(models.TextChoices):
    """地目 (課税地目)."""

    RESIDENTIAL = "宅地", "宅地"
    PADDY = "田", "田"
    FIELD = "畑", "畑"
    FOREST = "山林", "山林"
    WILDERNESS = "原野", "原野"
    MISC = "雑種地", "雑種地"
    OTHER = "その他", "その他"


class Change(models.TextChoices):
    """異動事由."""

    NEW = "new", "新規登録"
    SUBDIVISION = "subdivision", "分筆"
    MERGER = "merger", "合筆"
    LOSS = "loss", "滅失"
    TRANSFER = "transfer", "所有権移転"
    REVALUATION = "revaluation", "評価替え・修正"


class LedgerRow(TenantModel):
    """What 土地 and 家屋 rows share: owner, validity by 年度, the 異動 that made the row."""

    owner = models.ForeignKey(Addressee, on_delete=models.PROTECT, related_name="+", db_index=False)
    location = models.CharField("所在", max_length=200)
    assessed_value = models.BigIntegerField("評価額")
    in_urbanization_area = models.BooleanField("市街化区域", default=True)
    valid_from = models.PositiveSmallIntegerField("適用年度（から）")
    valid_to = models.PositiveSmallIntegerField("適用年度（まで・含まない）", null=True, blank=True)
    change = models.CharField("異動事由", max_length=12, choices=Change.choices)
    changed_on = models.DateField("異動日")
    predecessors = models.JSONField("異動前の行", default=list)
    note = models.CharField("備考", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    class Meta:
        abstract = True


class Parcel(LedgerRow):
    """土地 (one 筆) in one version."""

    lot_number = models.CharField("地番", max_length=40)
    land_use = models.CharField("地目", max_length=6, choices=LandUse.choices)
    area = models.BigIntegerField("地積（0.01㎡）")
    small_residential_area = models.BigIntegerField(
        "小規模住宅用地（0.01㎡）", null=True, blank=True
    )
    general_residential_area = models.BigIntegerField(
        "一般住宅用地（0.01㎡）", null=True, blank=True
    )
    # 前年度課税標準額 for 負担調整 (rules.Land.prior_*; None = 本則)
    prior = models.JSONField("前年度課税標準額", default=dict)

    class Meta:
        verbose_name = "土地"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "location", "lot_number"],
                condition=models.Q(valid_to__isnull=True),
                name="parcel_current_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["municipality", "owner", "valid_from"]),
            models.Index(fields=["municipality", "lot_number"]),
        ]

    def __str__(self) -> str:
        return f"{self.location}{self.lot_number}"

    @property
    def area_m2(self) -> str:
        return f"{self.area // 100:,}.{self.area % 100:02d}"


class HouseKind(models.TextChoices):
    """種類."""

    DWELLING = "居宅", "居宅"
    APARTMENT = "共同住宅", "共同住宅"
    STORE = "店舗", "店舗"
    OFFICE = "事務所", "事務所"
    WAREHOUSE = "倉庫", "倉庫"
    GARAGE = "車庫", "車庫"
    OTHER = "その他", "その他"


class Structure(models.TextChoices):
    """構造."""

    WOOD = "木造", "木造"
    LIGHT_STEEL = "軽量鉄骨造", "軽量鉄骨造"
    STEEL = "鉄骨造", "鉄骨造"
    RC = "鉄筋コンクリート造", "鉄筋コンクリート造"
    SRC = "鉄骨鉄筋コンクリート造", "鉄骨鉄筋コンクリート造"
    OTHER = "その他", "その他"


class Building(LedgerRow):
    """家屋 in one version."""

    house_number = models.CharField("家屋番号", max_length=40)
    house_kind = models.CharField("種類", max_length=8, choices=HouseKind.choices)
    structure = models.CharField("構造", max_length=12, choices=Structure.choices)
    floor_area = models.BigIntegerField("床面積（0.01㎡）")
    residential_area = models.BigIntegerField("居住部分（0.01㎡）", null=True, blank=True)
    built_year = models.PositiveSmallIntegerField("建築年")
    completed_on = models.DateField("新築年月日", null=True, blank=True)
    fireproof_3plus = models.BooleanField("3階建以上の耐火・準耐火", default=False)
    long_life_certified = models.BooleanField("認定長期優良住宅", default=False)
    rental = models.BooleanField("貸家", default=False)

    class Meta:
        verbose_name = "家屋"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "location", "house_number"],
                condition=models.Q(valid_to__isnull=True),
                name="building_current_unique",
            ),
        ]
        indexes = [models.Index(fields=["municipality", "owner", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.location} 家屋番号{self.house_number}"

    @property
    def floor_area_m2(self) -> str:
        return f"{self.floor_area // 100:,}.{self.floor_area % 100:02d}"


class AssetDeclaration(TenantModel):
    """償却資産の申告 (its 課税標準額 total) of one owner for one 年度; a 修正申告 adds a seq."""

    owner = models.ForeignKey(Addressee, on_delete=models.PROTECT, related_name="+")
    fiscal_year = models.PositiveSmallIntegerField("年度")
    seq = models.PositiveIntegerField("履歴番号")
    is_current = models.BooleanField(default=True)
    declared_base = models.BigIntegerField("課税標準額（申告）")
    declared_on = models.DateField("申告日")
    note = models.CharField("備考", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "償却資産の申告"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "owner", "fiscal_year", "seq"],
                name="asset_declaration_seq_unique",
            ),
        ]


class AssessmentReason(models.TextChoices):
    INITIAL = "initial", "当初課税"
    CORRECTION = "correction", "更正"


class PropertyTaxAssessment(TenantModel):
    """固定資産税・都市計画税 of one 納税義務者 for one 年度; a change adds the next ``seq``."""

    owner = models.ForeignKey(Addressee, on_delete=models.PROTECT, related_name="+", db_index=False)
    fiscal_year = models.PositiveSmallIntegerField("年度")
    seq = models.PositiveIntegerField("履歴番号")
    is_current = models.BooleanField("現在の課税", default=True)
    reason = models.CharField("事由", max_length=12, choices=AssessmentReason.choices)
    params = models.ForeignKey(PropertyTaxParameters, on_delete=models.PROTECT, related_name="+")
    inputs = models.JSONField("課税客体")  # {"lands": [...], "houses": [...], "assets": [...]}
    digest = models.CharField(max_length=64)
    land_base = models.BigIntegerField("土地 課税標準額")
    house_base = models.BigIntegerField("家屋 課税標準額")
    asset_base = models.BigIntegerField("償却資産 課税標準額")
    exempt = models.JSONField("免税点未満", default=list)  # ["土地", …]
    new_house_reduction = models.BigIntegerField("新築住宅減額")
    fixed_asset_tax = models.BigIntegerField("固定資産税額")
    city_planning_tax = models.BigIntegerField("都市計画税額")
    total = models.BigIntegerField("年税額")
    installments = models.JSONField("期別", default=list)  # [{label, due, amount}]
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)
    note = models.CharField("更正の理由", max_length=200, blank=True)

    class Meta:
        verbose_name = "固定資産税の賦課"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "owner", "fiscal_year", "seq"],
                name="property_assessment_seq_unique",
            ),
            models.UniqueConstraint(
                fields=["municipality", "fiscal_year", "owner"],
                condition=models.Q(is_current=True),
                name="property_assessment_one_current",
            ),
        ]
