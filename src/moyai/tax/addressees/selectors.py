"""税務宛名: search and reads (audited)."""

from __future__ import annotations

from django.db.models import Q

from moyai.moji.rules import kana_key
from moyai.platform.audit import audit_record
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction
from moyai.tax.addressees.models import Addressee, CoOwner


def addressee_search(*, query: str, purpose: str, limit: int = 50) -> list[Addressee]:
    """By 税務宛名番号, 法人番号, name or フリガナ (prefix)."""
    text = query.strip()
    if not text:
        raise ServiceError("検索する氏名・フリガナ・番号を入力してください", field="q")
    condition = (
        Q(number=text)
        | Q(corporate_number=text)
        | Q(name__contains=text)
        | Q(kana__startswith=text)
    )
    folded = kana_key(text)
    if folded:
        condition |= Q(kana__startswith=folded)
    rows = list(Addressee.objects.filter(condition).order_by("kana", "number")[:limit])
    audit_record(
        action=AuditAction.READ,
        target_type="tax_addressee_search",
        purpose=purpose,
        detail={"rows": len(rows)},
    )
    return rows


def addressee_get(*, addressee_id: int, purpose: str) -> Addressee:
    addressee: Addressee | None = (
        Addressee.objects.select_related("representative").filter(pk=addressee_id).first()
    )
    if addressee is None:
        raise ServiceError("宛名が見つかりません", field="addressee_id", code="not_found")
    audit_record(
        action=AuditAction.READ,
        target_type="tax_addressee",
        target_id=addressee.number,
        purpose=purpose,
    )
    return addressee


def members(*, group: Addressee) -> list[CoOwner]:
    return list(
        CoOwner.objects.select_related("member").filter(group=group).order_by("member__number")
    )


def groups_of(*, addressee: Addressee) -> list[Addressee]:
    """共有者の集まり the addressee belongs to (連帯納税義務)."""
    return list(Addressee.objects.filter(co_owners__member=addressee).order_by("number").distinct())
