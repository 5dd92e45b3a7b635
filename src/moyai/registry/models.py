"""住民記録の表: persons (宛名), 異動, and full-snapshot 住民票 history rows.

Every 異動 writes a new :class:`ResidentRecord` for each person it touches (履歴番号 + 1) and
marks the previous one as no longer latest; nothing is updated in place except that flag. A
取消し writes yet another row restoring the earlier state and marks the rows of the cancelled
異動 as ``cancelled`` so that "as of" queries skip them.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from moyai.platform.tenancy import TenantModel, municipality_key
from moyai.registry.rules import FuzzyDate, MovementKind, relation_label


class ResidentStatus(models.TextChoices):
    """住民状態."""

    RESIDENT = "1", "住民"
    MOVED_OUT = "2", "転出者"
    DECEASED = "3", "死亡者"
    REMOVED = "9", "その他消除者"


class ResidentKind(models.TextChoices):
    """住民種別."""

    JAPANESE = "1", "日本人"
    FOREIGN = "2", "外国人"


class Sex(models.TextChoices):
    MALE = "1", "男"
    FEMALE = "2", "女"


class KanaStatus(models.TextChoices):
    """フリガナ確認状況."""

    UNCONFIRMED = "0", "未確認"
    CONFIRMED = "1", "確認済み"


def fuzzy(iso: str, unknown: bool, label: str) -> FuzzyDate | None:
    return FuzzyDate(iso, unknown, label) if iso else None


class Person(TenantModel):
    """宛名: the lasting identity of a person in the registry (宛名番号, 住民票コード, 個人番号)."""

    municipality = municipality_key(db_index=False)

    address_number = models.CharField("宛名番号", max_length=15)
    resident_code = models.CharField("住民票コード", max_length=11, blank=True)
    my_number_cipher = models.TextField("個人番号（暗号化）", blank=True)
    my_number_index = models.CharField(max_length=64, blank=True)
    latest_seq = models.PositiveIntegerField("最新履歴番号", default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "宛名"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "address_number"], name="person_address_number_unique"
            ),
            models.UniqueConstraint(
                fields=["municipality", "resident_code"],
                condition=~models.Q(resident_code=""),
                name="person_resident_code_unique",
            ),
            models.UniqueConstraint(
                fields=["municipality", "my_number_index"],
                condition=~models.Q(my_number_index=""),
                name="person_my_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.address_number


class Movement(TenantModel):
    """異動: one 届出 or 職権 act, with its dates, 届出人 and 窓口; its rows are the snapshots."""

    municipality = municipality_key(db_index=False)

    number = models.PositiveBigIntegerField("異動番号")
    kind = models.CharField(
        "異動事由", max_length=32, choices=[(k.value, k.label) for k in MovementKind]
    )
    occurred_on = models.CharField("異動日", max_length=10)
    occurred_on_unknown = models.BooleanField("異動日_不詳フラグ", default=False)
    occurred_on_label = models.CharField("異動日_不詳表記", max_length=72, blank=True)
    notified_on = models.DateField("届出日", null=True, blank=True)
    processed_at = models.DateTimeField("処理日時", default=timezone.now)
    notifier_name = models.CharField("届出人氏名", max_length=100, blank=True)
    notifier_relation = models.CharField("届出人の続柄等", max_length=50, blank=True)
    counter = models.CharField("窓口", max_length=50, blank=True)
    staff_username = models.CharField("処理者", max_length=150)
    note = models.CharField("留意事項", max_length=500, blank=True)
    warnings = models.JSONField("警告", default=list)
    cancels = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="取り消した異動",
        db_index=False,  # partial index below: almost every row is NULL
    )
    cancelled_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="取消した異動",
        db_index=False,
    )

    class Meta:
        verbose_name = "異動"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "number"], name="movement_number_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=[link],
                condition=models.Q(**{f"{link}__isnull": False}),
                name=f"movement_{link}",
            )
            for link in ("cancels", "cancelled_by")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    @property
    def occurred(self) -> FuzzyDate:
        return FuzzyDate(self.occurred_on, self.occurred_on_unknown, self.occurred_on_label)


class ResidentRecord(TenantModel):
    """住民票: one full snapshot of a person's entry, keyed by (宛名番号, 履歴番号)."""

    municipality = municipality_key(db_index=False)

    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="records", db_index=False
    )  # indexed by record_person_seq_unique (person first)
    seq = models.PositiveIntegerField("履歴番号")
    is_latest = models.BooleanField("最新フラグ", default=True)
    movement = models.ForeignKey(Movement, on_delete=models.PROTECT, related_name="records")
    effective_from = models.CharField("適用日", max_length=10)  # the 異動日 (ISO) for as-of
    cancelled = models.BooleanField("取消済み", default=False)

    status = models.CharField("住民状態", max_length=1, choices=ResidentStatus.choices)
    kind = models.CharField("住民種別", max_length=1, choices=ResidentKind.choices)

    family_name = models.CharField("氏", max_length=100, blank=True)
    given_name = models.CharField("名", max_length=100, blank=True)
    name = models.CharField("氏名", max_length=200)
    name_kana = models.CharField("氏名_フリガナ", max_length=200, blank=True)
    kana_status = models.CharField(
        "フリガナ確認状況", max_length=1, choices=KanaStatus.choices, default=KanaStatus.UNCONFIRMED
    )
    name_roman = models.CharField("氏名_外国人ローマ字", max_length=200, blank=True)
    former_surname = models.CharField("旧氏", max_length=100, blank=True)
    former_surname_kana = models.CharField("旧氏_フリガナ", max_length=100, blank=True)
    alias = models.CharField("通称", max_length=200, blank=True)
    alias_kana = models.CharField("通称_フリガナ", max_length=200, blank=True)
    name_key = models.CharField(max_length=200)
    kana_key = models.CharField(max_length=200, blank=True)
    alias_key = models.CharField(max_length=200, blank=True)

    birth_date = models.CharField("生年月日", max_length=10)
    birth_date_unknown = models.BooleanField("生年月日_不詳フラグ", default=False)
    birth_date_label = models.CharField("生年月日_不詳表記", max_length=72, blank=True)
    sex = models.CharField("性別", max_length=1, choices=Sex.choices)

    household_number = models.CharField("世帯番号", max_length=15)
    is_head = models.BooleanField("世帯主", default=False)
    relation_codes = models.JSONField("続柄コード", default=list)
    household_order = models.PositiveSmallIntegerField("記載順位", default=1)
    head_name = models.CharField("世帯主氏名", max_length=200, blank=True)

    address_prefecture = models.CharField("住所_都道府県", max_length=4)
    address_city = models.CharField("住所_市区郡町村名", max_length=20)
    address_town = models.CharField("住所_町字", max_length=120)
    address_town_code = models.CharField("住所_町字コード", max_length=7, blank=True)
    address_block = models.CharField("住所_番地号表記", max_length=50, blank=True)
    address_building = models.CharField("住所_方書", max_length=300, blank=True)
    postal_code = models.CharField("住所_郵便番号", max_length=7, blank=True)

    became_resident_on = models.CharField("住民となった年月日", max_length=10, blank=True)
    became_resident_on_unknown = models.BooleanField(default=False)
    became_resident_on_label = models.CharField(max_length=72, blank=True)
    address_set_on = models.CharField("住所を定めた年月日", max_length=10, blank=True)
    address_set_on_unknown = models.BooleanField(default=False)
    address_set_on_label = models.CharField(max_length=72, blank=True)
    previous_address = models.CharField("転入前住所", max_length=300, blank=True)
    destination_planned = models.CharField("転出先住所（予定）", max_length=300, blank=True)
    moved_out_planned_on = models.CharField("転出予定年月日", max_length=10, blank=True)
    destination_confirmed = models.CharField("転出先住所（確定）", max_length=300, blank=True)
    moved_out_on = models.CharField("転出年月日（確定）", max_length=10, blank=True)
    move_in_notice_on = models.CharField("転入通知年月日", max_length=10, blank=True)
    removed_reason = models.CharField("消除の事由", max_length=50, blank=True)
    removed_on = models.CharField("消除の異動年月日", max_length=10, blank=True)

    domicile = models.CharField("本籍", max_length=300, blank=True)
    domicile_head = models.CharField("筆頭者", max_length=100, blank=True)

    nationality = models.CharField("国籍・地域", max_length=100, blank=True)
    residence_status = models.CharField("在留資格", max_length=100, blank=True)
    residence_period = models.CharField("在留期間", max_length=50, blank=True)
    residence_expiry = models.CharField("在留期間の満了の日", max_length=10, blank=True)
    residence_card_number = models.CharField("在留カード等番号", max_length=12, blank=True)
    article_30_45 = models.CharField("法第30条の45に規定する区分", max_length=50, blank=True)

    qualifications = models.JSONField(
        "資格", default=dict
    )  # 国保, 後期, 介護, 年金, 児童手当, 選挙

    class Meta:
        verbose_name = "住民票（履歴）"
        constraints = [
            # person first: the foreign-key check (which bypasses row-level security and knows
            # only person_id) and every per-person query use this index.
            models.UniqueConstraint(
                fields=["person", "seq", "municipality"], name="record_person_seq_unique"
            ),
            models.UniqueConstraint(
                fields=["municipality", "person"],
                condition=models.Q(is_latest=True),
                name="record_one_latest_per_person",
            ),
        ]
        indexes = [
            models.Index(fields=["municipality", "household_number"]),
            models.Index(fields=["municipality", "person", "effective_from"]),
            # 窓口 search: prefix matches on the folded keys of the latest entries.
            # (varchar_pattern_ops lets PostgreSQL use the index for LIKE 'x%'.)
            # Covering, so that the first step of a search (the page's keys) reads no table rows.
            *(
                models.Index(
                    fields=["municipality", key],
                    opclasses=["int8_ops", "varchar_pattern_ops"],
                    include=["status", "kana_key", "birth_date", "person", "id"]
                    if key != "kana_key"
                    else ["status", "birth_date", "person", "id"],
                    condition=models.Q(is_latest=True),
                    name=f"record_latest_{key}",
                )
                for key in ("name_key", "kana_key", "alias_key")
            ),
            models.Index(
                fields=["municipality", "birth_date"],
                condition=models.Q(is_latest=True),
                name="record_latest_birth_date",
            ),
            # 住所 search: each word is a prefix of 町字, 番地 or 方書 (BitmapOr of these three).
            *(
                models.Index(
                    fields=["municipality", column],
                    opclasses=["int8_ops", "varchar_pattern_ops"],
                    condition=models.Q(is_latest=True),
                    name=f"record_latest_{column}",
                )
                for column in ("address_town", "address_block", "address_building")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}-{self.seq}"

    @property
    def birth(self) -> FuzzyDate:
        return FuzzyDate(self.birth_date, self.birth_date_unknown, self.birth_date_label)

    @property
    def became_resident(self) -> FuzzyDate | None:
        return fuzzy(
            self.became_resident_on, self.became_resident_on_unknown, self.became_resident_on_label
        )

    @property
    def address_set(self) -> FuzzyDate | None:
        return fuzzy(self.address_set_on, self.address_set_on_unknown, self.address_set_on_label)

    @property
    def relation(self) -> str:
        return relation_label(self.relation_codes)

    @property
    def address(self) -> str:
        return " ".join(
            p
            for p in (
                self.address_prefecture
                + self.address_city
                + self.address_town
                + self.address_block,
                self.address_building,
            )
            if p
        )

    @property
    def is_foreign(self) -> bool:
        return self.kind == ResidentKind.FOREIGN

    # Fields a new snapshot copies from the previous one (everything but identity and flags).
    SNAPSHOT_EXCLUDE = frozenset(
        {
            "id",
            "municipality",
            "person",
            "seq",
            "is_latest",
            "movement",
            "effective_from",
            "cancelled",
        }
    )

    def snapshot(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in self._meta.concrete_fields
            if f.name not in self.SNAPSHOT_EXCLUDE
        }
