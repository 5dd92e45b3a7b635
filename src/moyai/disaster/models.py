"""被災者支援の表: 災害, 被災者台帳（世帯・被災者）, 被災住家等台帳, 住家被害認定, り災証明の交付,
避難所と入退所, 支援制度・申請・支払, 台帳情報の提供, 避難行動要支援者.

The ledger is a snapshot of 住民記録 and the 固定資産課税台帳 as of the day before the disaster
(``Disaster.baseline_on``), made in one step by ``services.ledger_build`` and kept current by
explicit services (surveys, applications) and by the 異動 event consumer (``events.py``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from moyai.disaster.rules import (
    CATEGORY_LABELS,
    INQUIRER_LABELS,
    LEVEL_LABELS,
    METHOD_LABELS,
)
from moyai.platform.tenancy import TenantModel, municipality_key

LEVEL_CHOICES = [(k.value, v) for k, v in LEVEL_LABELS.items()]
CATEGORY_CHOICES = [(k.value, v) for k, v in CATEGORY_LABELS.items()]
METHOD_CHOICES = [(k.value, v) for k, v in METHOD_LABELS.items()]
INQUIRER_CHOICES = [(k.value, v) for k, v in INQUIRER_LABELS.items()]


class Disaster(TenantModel):
    """災害: one event in one municipality; a 災害 over several municipalities is one row in each,
    sharing ``code`` (共通の災害コード)."""

    code = models.CharField("災害コード", max_length=30)
    name = models.CharField("災害名", max_length=100)
    kind = models.CharField("災害の種類", max_length=30)
    occurred_on = models.DateField("発生日")
    baseline_on = models.DateField("台帳の基準日（発生日の前日）")
    relief_act = models.BooleanField("災害救助法の適用", default=False)
    relief_act_on = models.DateField("災害救助法の適用日", null=True, blank=True)
    support_act = models.BooleanField("被災者生活再建支援法の適用", default=False)
    support_act_on = models.DateField("被災者生活再建支援法の適用日", null=True, blank=True)
    towns = models.JSONField("被災した町字", default=list)
    addresses = models.JSONField("被災した住所（町字＋番地の前方一致）", default=list)
    municipalities = models.JSONField("被災した団体（団体コード）", default=list)
    built_at = models.DateTimeField("台帳の作成日時", null=True, blank=True)
    built_by = models.CharField("台帳の作成者", max_length=150, blank=True)
    closed = models.BooleanField("終結", default=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "災害"
        constraints = [
            models.UniqueConstraint(fields=["municipality", "code"], name="disaster_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Dwelling(TenantModel):
    """被災住家等: a 住家 in the affected area — the address a household lives at and/or a 家屋 of
    the 固定資産課税台帳 (with its owner, who may live elsewhere)."""

    municipality = municipality_key(db_index=False)
    disaster = models.ForeignKey(Disaster, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField("住家番号")
    town = models.CharField("町字", max_length=120)
    address = models.CharField("所在（住所）", max_length=300)
    building_id = models.BigIntegerField("家屋（固定資産）", null=True, blank=True)
    house_number = models.CharField("家屋番号", max_length=40, blank=True)
    house_kind = models.CharField("種類", max_length=8, blank=True)
    structure = models.CharField("構造", max_length=12, blank=True)
    owner_addressee_id = models.BigIntegerField("所有者（税務宛名）", null=True, blank=True)
    owner_name = models.CharField("所有者氏名・名称", max_length=200, blank=True)
    owner_address = models.CharField("所有者住所", max_length=300, blank=True)
    owner_elsewhere = models.BooleanField("所有者は住家に住んでいない", default=False)
    level = models.CharField("被害の程度", max_length=12, choices=LEVEL_CHOICES, blank=True)
    ratio = models.PositiveSmallIntegerField("損害割合（0.1%）", null=True, blank=True)

    class Meta:
        verbose_name = "被災住家"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "disaster", "number"], name="dwelling_number_unique"
            ),
        ]
        indexes = [models.Index(fields=["municipality", "disaster", "address"])]

    def __str__(self) -> str:
        return self.address


class VictimHousehold(TenantModel):
    """被災世帯: one 住民記録 世帯 in the affected area on the 基準日, with its り災番号."""

    municipality = municipality_key(db_index=False)
    disaster = models.ForeignKey(Disaster, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField("り災番号")
    household_number = models.CharField("世帯番号", max_length=15)
    head_name = models.CharField("世帯主氏名", max_length=200)
    town = models.CharField("町字", max_length=120)
    address = models.CharField("被災時住所", max_length=300)
    residence = models.CharField("現在の居所・連絡先住所", max_length=300, blank=True)
    phone = models.CharField("電話番号", max_length=20, blank=True)
    dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, null=True, blank=True, related_name="households"
    )
    members = models.PositiveSmallIntegerField("世帯員数（基準日）")
    support_members = models.PositiveSmallIntegerField("支援金の世帯員数", null=True, blank=True)
    demolished = models.BooleanField("解体（やむを得ない解体）", default=False)
    long_evacuation = models.BooleanField("長期避難世帯", default=False)
    note = models.CharField("備考", max_length=500, blank=True)

    class Meta:
        verbose_name = "被災世帯"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "disaster", "number"], name="victim_household_number_unique"
            ),
            models.UniqueConstraint(
                fields=["municipality", "disaster", "household_number"],
                name="victim_household_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"り災番号 {self.number_label} {self.head_name}"

    @property
    def number_label(self) -> str:
        return f"{self.number:06d}"

    @property
    def size_for_support(self) -> int:
        return self.support_members or self.members


class Safety(models.TextChoices):
    """安否."""

    UNKNOWN = "unknown", "未確認"
    SAFE = "safe", "無事"
    INJURED = "injured", "負傷"
    MISSING = "missing", "行方不明"
    DEAD = "dead", "死亡"


class VictimStatus(models.TextChoices):
    """台帳作成後の住民記録の状態."""

    RESIDENT = "resident", "住民"
    MOVED_OUT = "moved_out", "転出"
    DECEASED = "deceased", "死亡"
    REMOVED = "removed", "消除"


class Victim(TenantModel):
    """被災者: a person of a 被災世帯 (第90条の3: 氏名, 生年月日, 性別, 住所又は居所 …)."""

    municipality = municipality_key(db_index=False)
    disaster = models.ForeignKey(Disaster, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        VictimHousehold, on_delete=models.PROTECT, related_name="victims", db_index=False
    )
    person_id = models.BigIntegerField("宛名（住民記録）")
    address_number = models.CharField("宛名番号", max_length=15)
    resident_code = models.CharField("住民票コード", max_length=11, blank=True)
    name = models.CharField("氏名", max_length=200)
    name_kana = models.CharField("氏名_フリガナ", max_length=200, blank=True)
    name_key = models.CharField(max_length=200, blank=True)
    kana_key = models.CharField(max_length=200, blank=True)
    birth_date = models.CharField("生年月日", max_length=10)
    sex = models.CharField("性別", max_length=1)
    relation = models.CharField("続柄", max_length=50, blank=True)
    is_head = models.BooleanField("世帯主", default=False)
    address = models.CharField("住所", max_length=300)
    residence = models.CharField("居所", max_length=300, blank=True)
    status = models.CharField(
        "住民記録の状態", max_length=10, choices=VictimStatus.choices, default=VictimStatus.RESIDENT
    )
    safety = models.CharField("安否", max_length=8, choices=Safety.choices, default=Safety.UNKNOWN)
    safety_noted_at = models.DateTimeField("安否の確認日時", null=True, blank=True)
    care_reason = models.CharField("要配慮者の事由", max_length=200, blank=True)
    disclosure_consent = models.BooleanField("安否情報・台帳情報の提供への同意", default=False)
    income = models.BigIntegerField("合計所得金額", null=True, blank=True)
    resident_tax = models.BigIntegerField("個人住民税 年税額", null=True, blank=True)
    tax_year = models.PositiveSmallIntegerField("課税年度", null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "被災者"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "disaster", "person_id"], name="victim_person_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["municipality", "household"]),
            models.Index(fields=["municipality", "disaster", "kana_key"]),
            models.Index(fields=["municipality", "disaster", "name_key"]),
        ]

    def __str__(self) -> str:
        return self.name


class SurveyKind(models.TextChoices):
    FIRST = "first", "1次調査"
    SECOND = "second", "2次調査"
    RESURVEY = "resurvey", "再調査"


class SurveyMethod(models.TextChoices):
    SITE = "site", "現地調査"
    PHOTO = "photo", "写真による判定（自己判定）"
    FLOOD_DEPTH = "flood_depth", "浸水深による判定"


class DamageSurvey(TenantModel):
    """住家被害認定調査: one survey (1次・2次・再調査) of a 住家; the latest one counts."""

    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="surveys")
    seq = models.PositiveSmallIntegerField("調査の回")
    kind = models.CharField("調査の種類", max_length=10, choices=SurveyKind.choices)
    method = models.CharField("判定の方法", max_length=12, choices=SurveyMethod.choices)
    surveyed_on = models.DateField("調査日")
    ratio = models.PositiveSmallIntegerField("損害割合（0.1%）")
    level = models.CharField("被害の程度", max_length=12, choices=LEVEL_CHOICES)
    flood_depth_cm = models.PositiveSmallIntegerField("床上浸水深（cm）", null=True, blank=True)
    requested_by = models.CharField("再調査の申出者", max_length=200, blank=True)
    reason = models.CharField("再調査の理由・所見", max_length=500, blank=True)
    surveyor = models.CharField("調査員", max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "住家被害認定調査"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "dwelling", "seq"], name="damage_survey_seq_unique"
            ),
        ]


class CertificateKind(models.TextChoices):
    DAMAGE = "damage", "り災証明書"
    VICTIM = "victim", "被災証明書"


class CertificateIssue(TenantModel):
    """り災証明書・被災証明書の交付の状況 (施行規則の台帳記載事項)."""

    household = models.ForeignKey(
        VictimHousehold, on_delete=models.PROTECT, related_name="certificates"
    )
    kind = models.CharField("証明書の種類", max_length=8, choices=CertificateKind.choices)
    serial = models.CharField("証明書番号", max_length=40)
    level = models.CharField("証明した被害の程度", max_length=12, blank=True)
    content = models.CharField("被害の内容", max_length=500, blank=True)
    requester = models.CharField("申請者", max_length=200)
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "証明書の交付"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "serial"], name="disaster_certificate_serial_unique"
            ),
        ]


class Disclosure(TenantModel):
    """台帳情報の提供 (提供先, 提供した旨と日時, 本人同意)."""

    household = models.ForeignKey(
        VictimHousehold, on_delete=models.PROTECT, related_name="disclosures"
    )
    recipient = models.CharField("提供先", max_length=200)
    basis = models.CharField("提供の根拠", max_length=100)
    items = models.CharField("提供した情報", max_length=300)
    provided_at = models.DateTimeField("提供日時", default=timezone.now)
    provided_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "台帳情報の提供"


class Shelter(TenantModel):
    """避難所."""

    disaster = models.ForeignKey(Disaster, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("避難所名", max_length=100)
    address = models.CharField("所在地", max_length=300, blank=True)
    capacity = models.PositiveIntegerField("収容可能人数")
    opened_on = models.DateField("開設日")
    closed_on = models.DateField("閉鎖日", null=True, blank=True)

    class Meta:
        verbose_name = "避難所"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "disaster", "name"], name="shelter_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ShelterStay(TenantModel):
    """避難所の入所・退所 (one stay of one person)."""

    shelter = models.ForeignKey(Shelter, on_delete=models.PROTECT, related_name="stays")
    victim = models.ForeignKey(
        Victim, on_delete=models.PROTECT, null=True, blank=True, related_name="stays"
    )
    name = models.CharField("氏名", max_length=200)
    name_kana = models.CharField("フリガナ", max_length=200, blank=True)
    birth_date = models.CharField("生年月日", max_length=10, blank=True)
    address = models.CharField("住所", max_length=300, blank=True)
    checked_in_at = models.DateTimeField("入所日時")
    checked_out_at = models.DateTimeField("退所日時", null=True, blank=True)
    destination = models.CharField("退所先", max_length=300, blank=True)
    disclosure_consent = models.BooleanField("安否情報の提供への同意", default=False)
    staff = models.CharField(max_length=150)

    class Meta:
        verbose_name = "避難所の入退所"
        indexes = [models.Index(fields=["municipality", "shelter", "checked_out_at"])]


class ProgrammeKind(models.TextChoices):
    SUPPORT_BASIC = "support_basic", "被災者生活再建支援金（基礎支援金）"
    SUPPORT_ADDITIONAL = "support_additional", "被災者生活再建支援金（加算支援金）"
    DONATION = "donation", "義援金"
    RESIDENT_TAX = "resident_tax", "個人住民税の減免"
    INSURANCE = "insurance", "国民健康保険税（料）の減免"
    OWN = "own", "団体独自の支援"


class Programme(TenantModel):
    """支援制度: one programme (or one 義援金 配分の回) of a 災害, with its configuration."""

    disaster = models.ForeignKey(Disaster, on_delete=models.PROTECT, related_name="+")
    code = models.CharField("制度コード", max_length=30)
    name = models.CharField("制度名", max_length=100)
    kind = models.CharField("種類", max_length=20, choices=ProgrammeKind.choices)
    config = models.JSONField("配分・減免の設定", default=dict)
    deadline = models.DateField("申請期限", null=True, blank=True)
    order = models.PositiveSmallIntegerField("表示順", default=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "支援制度"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "disaster", "code"], name="programme_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApplicationStatus(models.TextChoices):
    APPLIED = "applied", "申請受付"
    APPROVED = "approved", "支給（減免）決定"
    REJECTED = "rejected", "不支給（却下）"
    PAID = "paid", "支払済"
    WITHDRAWN = "withdrawn", "取下げ"


class Application(TenantModel):
    """支援の申請・決定・支払 of one household under one programme."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="applications")
    household = models.ForeignKey(
        VictimHousehold, on_delete=models.PROTECT, related_name="applications"
    )
    status = models.CharField(
        "状況", max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.APPLIED
    )
    applied_on = models.DateField("申請日")
    method = models.CharField("再建方法", max_length=20, choices=METHOD_CHOICES, blank=True)
    category = models.CharField("支援金の区分", max_length=20, choices=CATEGORY_CHOICES, blank=True)
    base_amount = models.BigIntegerField("減免の対象額", null=True, blank=True)
    amount = models.BigIntegerField("決定額", null=True, blank=True)
    decided_on = models.DateField("決定日", null=True, blank=True)
    decision_note = models.CharField("決定の理由", max_length=300, blank=True)
    paid_on = models.DateField("支払日", null=True, blank=True)
    bank_code = models.CharField("金融機関コード", max_length=4, blank=True)
    branch_code = models.CharField("支店コード", max_length=3, blank=True)
    account_type = models.CharField("預金種目", max_length=1, blank=True)  # 1 普通 2 当座
    account_number = models.CharField("口座番号", max_length=7, blank=True)
    account_holder_kana = models.CharField("口座名義（カナ）", max_length=30, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "支援の申請"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "programme", "household"],
                name="application_one_per_household",
            ),
        ]


class SupportNeed(TenantModel):
    """避難行動要支援者: a person on the 名簿, with the facts that put them there and consent."""

    person_id = models.BigIntegerField("宛名（住民記録）")
    care_level = models.CharField("要介護度", max_length=10, blank=True)
    disability = models.CharField("障害の区分", max_length=20, blank=True)
    self_nominated = models.BooleanField("手上げ", default=False)
    consent = models.CharField(
        "同意",
        max_length=10,
        choices=[("unknown", "未回答"), ("yes", "同意"), ("no", "不同意")],
        default="unknown",
    )
    consent_on = models.DateField("同意の確認日", null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "避難行動要支援者の情報"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "person_id"], name="support_need_person_unique"
            ),
        ]
