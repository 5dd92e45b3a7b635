"""個人住民税: 条例 parameters per 年度, 特別徴収義務者, 課税資料 and assessments with history.

An assessment stores its inputs (the merged 課税資料 as the JSON that
``rules.taxpayer_from_mapping`` reads) and the parameter version it used, not its explanation:
the step-by-step trace is recomputed from those two on demand and must give the stored figures
(a stored trace for a million taxpayers would be gigabytes of text that says nothing new).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from moyai.platform.tenancy import TenantModel
from moyai.registry.models import Person


class TaxParameters(TenantModel):
    """The municipality's parameters of one 年度: immutable versions, the newest in force.

    ``overrides`` is what the municipality changed from the national defaults (its 条例:
    超過課税, 均等割, 級地, rounding); ``values`` the full effective set, kept so that an old
    assessment can be explained with exactly what it used.
    """

    fiscal_year = models.PositiveSmallIntegerField("年度")
    version = models.PositiveIntegerField("版")
    overrides = models.JSONField("条例による設定", default=dict)
    values = models.JSONField("適用値", default=dict)
    # 普通徴収の納期 (common.rules.installment_plan_from_mapping; {} = 6・8・10・1月の月末)
    installment_plan = models.JSONField("納期", default=dict)
    holidays = models.JSONField("条例で定める休日", default=list)  # ["YYYY-MM-DD", …]
    digest = models.CharField(max_length=64)
    note = models.CharField("変更の理由", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "個人住民税の税率等"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "fiscal_year", "version"], name="tax_params_version_unique"
            ),
        ]


class Employer(TenantModel):
    """特別徴収義務者 (給与支払者): found by 指定番号, else by 法人番号 or name + address."""

    designation_number = models.CharField("指定番号", max_length=20)
    corporate_number = models.CharField("法人番号", max_length=13, blank=True)
    name = models.CharField("名称", max_length=200)
    address = models.CharField("所在地", max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "特別徴収義務者"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "designation_number"], name="employer_designation_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.designation_number} {self.name}"


class DocumentKind(models.TextChoices):
    SALARY = "salary", "給与支払報告書"
    PENSION = "pension", "公的年金等支払報告書"
    RETURN = "return", "確定申告書"
    DECLARATION = "declaration", "住民税申告書"


class MatchStatus(models.TextChoices):
    MY_NUMBER = "my_number", "個人番号で特定"
    NAYOSE = "nayose", "名寄せで特定"
    MANUAL = "manual", "職員が特定"
    PENDING = "pending", "要確認（候補あり）"
    UNMATCHED = "unmatched", "該当者なし"
    NOT_RESIDENT = "not_resident", "1月1日に住民でない（回送）"


class TaxDocument(TenantModel):
    """課税資料: one 給与支払報告書 (個人別明細書), 年金支払報告書, 確定申告 or 住民税申告."""

    fiscal_year = models.PositiveSmallIntegerField("年度")
    kind = models.CharField("資料の種類", max_length=12, choices=DocumentKind.choices)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    match = models.CharField("名寄せ", max_length=12, choices=MatchStatus.choices)
    match_score = models.FloatField("名寄せの得点", null=True, blank=True)
    candidates = models.JSONField("候補", default=list)  # [{person_id, score, reasons}]
    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    ordinary_collection = models.BooleanField("普通徴収", default=False)
    # As written in the document, for matching and for the work queue.
    name = models.CharField("氏名", max_length=100)
    kana = models.CharField("フリガナ", max_length=100, blank=True)
    birth_date = models.CharField("生年月日", max_length=10, blank=True)
    address = models.CharField("住所", max_length=300, blank=True)
    my_number_index = models.CharField(max_length=64, blank=True)
    values = models.JSONField("課税資料の内容", default=dict)  # rules.taxpayer_from_mapping keys
    source = models.CharField("取込元", max_length=200, blank=True)
    source_line = models.PositiveIntegerField("行", null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    received_by = models.CharField(max_length=150)
    superseded = models.BooleanField("訂正により無効", default=False)

    class Meta:
        verbose_name = "課税資料"
        indexes = [
            models.Index(fields=["municipality", "fiscal_year", "person"]),
            models.Index(
                fields=["municipality", "fiscal_year", "match"],
                condition=~models.Q(match__in=["my_number", "nayose", "manual"]),
                name="taxdoc_queue",
            ),
        ]


class Nontaxable(models.TextChoices):
    NONE = "", "課税"
    INCOME_LEVY = "income_levy", "所得割のみ非課税"
    ALL = "all", "均等割・所得割とも非課税"


class Collection(models.TextChoices):
    SPECIAL = "special", "特別徴収（給与）"
    ORDINARY = "ordinary", "普通徴収"
    NONE = "none", "税額なし"


class AssessmentReason(models.TextChoices):
    INITIAL = "initial", "当初課税"
    ADDITIONAL = "additional", "随時課税（当初後の新たな課税）"
    CORRECTION = "correction", "更正"


class Assessment(TenantModel):
    """One assessment of a person's 個人住民税 for a 年度; a 更正 adds the next ``seq``."""

    # A large table of derived rows, written in bulk by the assessment service only: no
    # single-column indexes beside the composite ones below, and no database-level foreign keys
    # (each would add a locking look-up per row: measured, ``docs/benchmarks.md``). The service
    # writes only ids it has just read in the same transaction; persons, parameter versions
    # and employers are never deleted (PROTECT).
    municipality = models.ForeignKey(
        "platform.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
        db_constraint=False,
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    fiscal_year = models.PositiveSmallIntegerField("年度")
    seq = models.PositiveIntegerField("履歴番号")
    is_current = models.BooleanField("現在の課税", default=True)
    reason = models.CharField("事由", max_length=12, choices=AssessmentReason.choices)
    params = models.ForeignKey(
        TaxParameters,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    inputs = models.JSONField("課税資料（合算）")
    digest = models.CharField(max_length=64)  # inputs + parameter version: a re-run skips it
    nontaxable = models.CharField(
        "非課税", max_length=12, choices=Nontaxable.choices, blank=True, default=""
    )
    total_income = models.BigIntegerField("合計所得金額")
    taxable_income = models.BigIntegerField("課税総所得金額")
    city_income_levy = models.BigIntegerField("市町村民税所得割")
    pref_income_levy = models.BigIntegerField("道府県民税所得割")
    city_per_capita = models.BigIntegerField("市町村民税均等割")
    pref_per_capita = models.BigIntegerField("道府県民税均等割")
    forest_tax = models.BigIntegerField("森林環境税")
    total = models.BigIntegerField("年税額")
    collection = models.CharField("徴収方法", max_length=10, choices=Collection.choices)
    employer = models.ForeignKey(
        Employer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    installments = models.JSONField("期別", default=list)  # [{label, due, amount}]
    documents = models.JSONField("使った課税資料", default=list)  # TaxDocument ids
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)
    note = models.CharField("更正の理由", max_length=200, blank=True)

    class Meta:
        verbose_name = "個人住民税の賦課"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "fiscal_year", "seq", "municipality"],
                name="assessment_seq_unique",
            ),
            models.UniqueConstraint(
                fields=["municipality", "fiscal_year", "person"],
                condition=models.Q(is_current=True),
                name="assessment_one_current",
            ),
        ]
        indexes = [
            models.Index(
                fields=["municipality", "fiscal_year", "employer"],
                condition=models.Q(is_current=True, collection="special"),
                name="assessment_by_employer",
            ),
        ]
