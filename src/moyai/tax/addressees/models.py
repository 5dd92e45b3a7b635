"""税務宛名: who a tax is levied on or sent to.

An :class:`Addressee` is a resident (linked to 住民記録), a 住登外者 (a person who does not live
here: an owner of land, a vehicle's owner who moved away …), a 法人, or a 共有者の集まり — co-owners
are one 納税義務者 of their own (地方税法第10条の2: 連帯納税義務), so a co-owned parcel is taxed to
the group, apart from what each member owns alone. ``contacts`` holds the 送付先 and the
納税管理人 per 業務.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from moyai.platform.tenancy import TenantModel
from moyai.registry.models import Person


class AddresseeKind(models.TextChoices):
    RESIDENT = "resident", "住民"
    NON_RESIDENT = "non_resident", "住登外者"
    CORPORATION = "corporation", "法人"
    CO_OWNERS = "co_owners", "共有者"


class Business(models.TextChoices):
    """業務 for which a 送付先 / 納税管理人 is registered."""

    ALL = "all", "全業務"
    PROPERTY_TAX = "property_tax", "固定資産税"
    LIGHT_VEHICLE_TAX = "light_vehicle_tax", "軽自動車税"
    RESIDENT_TAX = "resident_tax", "個人住民税"


class ContactRole(models.TextChoices):
    SEND_TO = "send_to", "送付先"
    MANAGER = "manager", "納税管理人"


class Addressee(TenantModel):
    """税務宛名 (one 納税義務者 or a 共有者の集まり)."""

    number = models.CharField("税務宛名番号", max_length=15)
    kind = models.CharField("宛名の種類", max_length=12, choices=AddresseeKind.choices)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Copied from 住民記録 for residents (refreshed when looked up), as registered otherwise.
    name = models.CharField("氏名・名称", max_length=200)
    kana = models.CharField("フリガナ", max_length=200, blank=True)
    birth_date = models.CharField("生年月日", max_length=10, blank=True)
    postal_code = models.CharField("郵便番号", max_length=7, blank=True)
    address = models.CharField("住所・所在地", max_length=300, blank=True)
    corporate_number = models.CharField("法人番号", max_length=13, blank=True)
    representative = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="代表者",
    )
    members_key = models.CharField(max_length=500, blank=True)  # 共有: "id:num/den,…" sorted
    # {業務: {"send_to": {"name", "address", "postal_code"}, "manager": {...}}}
    contacts = models.JSONField("送付先・納税管理人", default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = "税務宛名"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "number"], name="tax_addressee_number_unique"
            ),
            models.UniqueConstraint(
                fields=["municipality", "person"],
                condition=models.Q(person__isnull=False),
                name="tax_addressee_person_unique",
            ),
            models.UniqueConstraint(
                fields=["municipality", "corporate_number"],
                condition=~models.Q(corporate_number=""),
                name="tax_addressee_corporate_unique",
            ),
            models.UniqueConstraint(
                fields=["municipality", "members_key"],
                condition=~models.Q(members_key=""),
                name="tax_addressee_co_owners_unique",
            ),
        ]
        indexes = [models.Index(fields=["municipality", "kana"])]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def contact(self, business: str, role: str) -> dict[str, str] | None:
        """The 送付先 or 納税管理人 for ``business`` (falling back to the one for all 業務)."""
        for key in (business, Business.ALL):
            found = self.contacts.get(key, {}).get(role)
            if found:
                return dict(found)
        return None


class CoOwner(TenantModel):
    """共有者: one member of a 共有者の集まり with the 持分."""

    group = models.ForeignKey(Addressee, on_delete=models.CASCADE, related_name="co_owners")
    member = models.ForeignKey(Addressee, on_delete=models.PROTECT, related_name="+")
    share_numerator = models.PositiveIntegerField("持分（分子）")
    share_denominator = models.PositiveIntegerField("持分（分母）")

    class Meta:
        verbose_name = "共有者"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "group", "member"], name="tax_co_owner_unique"
            ),
        ]

    @property
    def share(self) -> str:
        return f"{self.share_numerator}/{self.share_denominator}"
