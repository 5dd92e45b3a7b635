"""割り勘の表: 協議会 membership, cost pools, usage, monthly runs (operator level) and the
per-municipality statements (tenant data).

Which tables are tenant tables, and why:

* ``Membership``, ``CostPool``, ``UsageRecord`` and ``AllocationRun`` belong to the *operator*
  (the 協議会's secretariat running the data centre). They span municipalities — one run splits
  a pool among all members — and hold only amounts, dates, population totals and counts: no
  personal data. They have no tenant manager, no row-level security, and only ``Role.OPERATOR``
  screens read them.
* ``Statement`` is the municipality's copy of its monthly bill: a tenant table (non-null
  ``municipality``, tenant manager, RLS), so a 団体管理者 reads its own statements through the
  same wall that protects personal data and can never reach a neighbour's.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from moyai.operations.billing import rules
from moyai.platform.tenancy import TenantModel


class PoolCategory(models.TextChoices):
    DATA_CENTRE = "data_centre", "データセンター"
    LICENCES = "licences", "ライセンス"
    OPERATIONS = "operations", "運用・組織運営"
    DEVELOPMENT = "development", "業務別開発"
    MIGRATION = "migration", "移行（一時費用）"


class PoolRule(models.TextChoices):
    EQUAL_POPULATION = rules.EQUAL_POPULATION, rules.RULE_LABELS[rules.EQUAL_POPULATION]
    USAGE = rules.USAGE, rules.RULE_LABELS[rules.USAGE]
    UNIT_PRICE = rules.UNIT_PRICE, rules.RULE_LABELS[rules.UNIT_PRICE]
    JOIN = rules.JOIN, rules.RULE_LABELS[rules.JOIN]


class PoolPeriod(models.TextChoices):
    MONTHLY = "monthly", "月額"
    ANNUAL = "annual", "年額（年度）"


class UsageBasis(models.TextChoices):
    BUSINESS_MONTHS = rules.BUSINESS_MONTHS, rules.BASIS_LABELS[rules.BUSINESS_MONTHS]
    TRANSACTIONS = rules.TRANSACTIONS, rules.BASIS_LABELS[rules.TRANSACTIONS]


class Membership(models.Model):
    """協議会の構成団体: a municipality's membership of a 協議会 from 参加日 to 脱退日."""

    council = models.ForeignKey(
        "platform.Council", on_delete=models.PROTECT, related_name="billing_memberships"
    )
    municipality = models.ForeignKey(
        "platform.Municipality", on_delete=models.PROTECT, related_name="+"
    )
    joined_on = models.DateField("参加日")
    left_on = models.DateField("脱退日（最終日）", null=True, blank=True)
    businesses = models.JSONField("利用業務", default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "構成団体"
        constraints = [
            models.UniqueConstraint(
                fields=["council", "municipality", "joined_on"], name="billing_membership_unique"
            ),
        ]
        ordering = ["council", "municipality__code", "joined_on"]


class CostPool(models.Model):
    """費用プール: one shared running cost of a 協議会 and the rule that splits it."""

    council = models.ForeignKey(
        "platform.Council", on_delete=models.PROTECT, related_name="billing_pools"
    )
    name = models.CharField("名称", max_length=100)
    category = models.CharField("費目", max_length=16, choices=PoolCategory.choices)
    rule = models.CharField("按分方法", max_length=16, choices=PoolRule.choices)
    period = models.CharField(
        "金額の単位", max_length=8, choices=PoolPeriod.choices, default=PoolPeriod.MONTHLY
    )
    amount = models.PositiveBigIntegerField("金額（円）", default=0)
    equal_ratio = models.PositiveSmallIntegerField("均等割の比率", default=4)
    population_ratio = models.PositiveSmallIntegerField("人口割の比率", default=6)
    basis = models.CharField(
        "従量の基準", max_length=16, choices=UsageBasis.choices, default=UsageBasis.BUSINESS_MONTHS
    )
    business = models.CharField("対象業務", max_length=32, blank=True)
    unit_prices = models.JSONField("業務別の月額単価（円）", default=dict)
    valid_from = models.DateField("適用開始月")
    valid_to = models.DateField("適用終了月", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "費用プール"
        constraints = [
            models.UniqueConstraint(fields=["council", "name"], name="billing_pool_name_unique"),
        ]
        ordering = ["council", "category", "name"]

    def __str__(self) -> str:
        return self.name


class UsageMetric(models.TextChoices):
    POPULATION = "population", "人口（月初日現在）"
    TRANSACTIONS = "transactions", "処理件数（月間）"


class UsageRecord(models.Model):
    """利用実績: a municipality's population or 業務 transactions in one month (counts only)."""

    municipality = models.ForeignKey(
        "platform.Municipality", on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField("対象月")
    metric = models.CharField("指標", max_length=16, choices=UsageMetric.choices)
    business = models.CharField("業務", max_length=32, blank=True)
    quantity = models.PositiveBigIntegerField("数量")
    source = models.CharField("集計元", max_length=100)
    collected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "利用実績"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "month", "metric", "business"],
                name="billing_usage_unique",
            ),
        ]


class RunStatus(models.TextChoices):
    DRAFT = "draft", "仮計算"
    CLOSING = "closing", "確定の処理中"  # requested; the worker issues the statements
    CLOSED = "closed", "確定"


class AllocationRun(models.Model):
    """月次の按分: one month's allocation of a 協議会's pools. A draft may be recomputed; a
    closed month is final (its statements are issued). Closing is requested on the screen and
    done by a background task: from the request on the month is frozen (``CLOSING``), the task
    issues one member's statement at a time and counts them in ``close_issued``, and a task
    that stops leaves its reason in ``close_error`` (asking again continues where it stopped)."""

    council = models.ForeignKey(
        "platform.Council", on_delete=models.PROTECT, related_name="billing_runs"
    )
    month = models.DateField("対象月")
    status = models.CharField(
        "状態", max_length=8, choices=RunStatus.choices, default=RunStatus.DRAFT
    )
    total = models.PositiveBigIntegerField("合計（円）", default=0)
    lines = models.JSONField("明細", default=list)
    inputs = models.JSONField("計算の基礎", default=dict)
    computed_at = models.DateTimeField("計算日時", default=timezone.now)
    computed_by = models.CharField("計算者", max_length=150)
    closed_at = models.DateTimeField("確定日時", null=True, blank=True)
    closed_by = models.CharField("確定者", max_length=150, blank=True)
    close_requested_at = models.DateTimeField("確定の依頼日時", null=True, blank=True)
    close_requested_by = models.CharField("確定の依頼者", max_length=150, blank=True)
    close_issued = models.PositiveIntegerField("発行済みの請求明細書", default=0)
    close_error = models.CharField("確定の処理が止まった理由", max_length=500, blank=True)
    close_failed_at = models.DateTimeField("確定の処理が止まった日時", null=True, blank=True)

    class Meta:
        verbose_name = "月次の按分"
        constraints = [
            models.UniqueConstraint(fields=["council", "month"], name="billing_run_month_unique"),
        ]
        ordering = ["council", "-month"]


class Statement(TenantModel):
    """負担金請求明細: one municipality's share of one month's allocation (its own copy)."""

    # The municipality's own copy: no database constraint to the operator's table, so a tenant's
    # backup restores into another (or a scratch) deployment that has no such run; nothing ever
    # deletes a run that has statements (a closed month is kept, a draft's statements go first).
    run = models.ForeignKey(
        AllocationRun, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    council_name = models.CharField("協議会名", max_length=100)
    month = models.DateField("対象月")
    status = models.CharField("状態", max_length=8, choices=RunStatus.choices)
    total = models.PositiveBigIntegerField("請求額（円）")
    lines = models.JSONField("明細", default=list)
    document_serial = models.CharField("明細書番号", max_length=32, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "負担金請求明細"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "run"], name="billing_statement_unique"
            ),
        ]
        ordering = ["-month"]
