"""税務宛名: registering residents, 住登外者, 法人 and 共有者の集まり; 送付先・納税管理人.

Every service runs in the caller's ``tenant_context``, is atomic, raises :class:`ServiceError`
naming the field with nothing written, and records the write in the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from django.db import transaction
from django.db.models import Max

from moyai.platform.audit import audit_record, current_actor
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction
from moyai.platform.rules import corporate_number_problem
from moyai.registry.models import ResidentRecord
from moyai.tax.addressees.models import (
    Addressee,
    AddresseeKind,
    Business,
    ContactRole,
    CoOwner,
)

PURPOSE = "税務宛名の管理"
_POSTAL = re.compile(r"^\d{7}$")


def _next_number() -> str:
    last = Addressee.objects.aggregate(n=Max("number"))["n"]
    n = int(last[1:]) + 1 if last and last[1:].isdigit() else 1
    return f"T{n:09d}"


def _audit(addressee: Addressee, purpose: str, action: str = AuditAction.CREATE) -> None:
    audit_record(
        action=action,
        target_type="tax_addressee",
        target_id=addressee.number,
        purpose=purpose,
        detail={"kind": addressee.kind},
    )


@transaction.atomic
def addressee_for_resident(*, person_id: int) -> Addressee:
    """The 税務宛名 of a resident (created on first use; name and address refreshed from the
    latest 住民記録 entry)."""
    record = (
        ResidentRecord.objects.filter(person_id=person_id, is_latest=True)
        .select_related("person")
        .first()
    )
    if record is None:
        raise ServiceError("住民が見つかりません", field="person_id", code="not_found")
    facts = {
        "name": record.name[:200],
        "kana": record.name_kana[:200],
        "birth_date": record.birth_date,
        "postal_code": record.postal_code,
        "address": record.address[:300],
    }
    found: Addressee | None = (
        Addressee.objects.select_for_update().filter(person_id=person_id).first()
    )
    if found is None:
        found = Addressee.objects.create(
            number=_next_number(),
            kind=AddresseeKind.RESIDENT,
            person_id=person_id,
            created_by=current_actor().username,
            **facts,
        )
        _audit(found, f"{PURPOSE}（住民の宛名）")
    elif any(getattr(found, k) != v for k, v in facts.items()):
        for k, v in facts.items():
            setattr(found, k, v)
        found.save(update_fields=list(facts))
    return found


def _check_birth(text: str) -> str:
    if not text:
        return ""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ServiceError(
            f"生年月日は西暦の年-月-日で入力してください（例: 1985-04-01。入力: {text}）",
            field="birth_date",
        ) from None


def _check_postal(text: str) -> str:
    code = text.replace("-", "").strip()
    if code and not _POSTAL.match(code):
        raise ServiceError("郵便番号は7桁の数字です", field="postal_code")
    return code


@transaction.atomic
def addressee_register_non_resident(
    *, name: str, kana: str, birth_date: str = "", address: str, postal_code: str = ""
) -> Addressee:
    """住登外者の登録 (an owner who does not live in the municipality)."""
    if not name.strip():
        raise ServiceError("氏名を入力してください", field="name")
    if not kana.strip():
        raise ServiceError("フリガナを入力してください", field="kana")
    if not address.strip():
        raise ServiceError("住所を入力してください", field="address")
    addressee: Addressee = Addressee.objects.create(
        number=_next_number(),
        kind=AddresseeKind.NON_RESIDENT,
        name=name.strip()[:200],
        kana=kana.strip()[:200],
        birth_date=_check_birth(birth_date.strip()),
        postal_code=_check_postal(postal_code),
        address=address.strip()[:300],
        created_by=current_actor().username,
    )
    _audit(addressee, f"{PURPOSE}（住登外者の登録）")
    return addressee


@transaction.atomic
def addressee_register_corporation(
    *, corporate_number: str, name: str, address: str, kana: str = "", postal_code: str = ""
) -> Addressee:
    """法人の登録: the 法人番号 (13 digits, the first a check digit) is verified; a 法人 already
    registered with that number is returned as it is."""
    number = corporate_number.strip()
    problem = corporate_number_problem(number)
    if problem:
        raise ServiceError(problem, field="corporate_number")
    existing: Addressee | None = Addressee.objects.filter(corporate_number=number).first()
    if existing is not None:
        return existing
    if not name.strip():
        raise ServiceError("名称を入力してください", field="name")
    if not address.strip():
        raise ServiceError("所在地を入力してください", field="address")
    addressee: Addressee = Addressee.objects.create(
        number=_next_number(),
        kind=AddresseeKind.CORPORATION,
        corporate_number=number,
        name=name.strip()[:200],
        kana=kana.strip()[:200],
        postal_code=_check_postal(postal_code),
        address=address.strip()[:300],
        created_by=current_actor().username,
    )
    _audit(addressee, f"{PURPOSE}（法人の登録）")
    return addressee


@dataclass(frozen=True)
class Share:
    """One co-owner and the 持分 (``"1/2"``)."""

    addressee_id: int
    share: str


def _fraction(text: str, index: int) -> Fraction:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or int(m.group(2)) == 0 or not 0 < int(m.group(1)) <= int(m.group(2)):
        raise ServiceError(
            f"持分は 1/2 のように分数で入力してください（{text}）", field=f"members[{index}].share"
        )
    return Fraction(int(m.group(1)), int(m.group(2)))


@transaction.atomic
def co_owners_register(*, members: Sequence[Share], representative_id: int) -> Addressee:
    """共有者の集まり (one 納税義務者): at least two distinct addressees whose 持分 add up to 1,
    and a 代表者 among them. The same members with the same shares give the same group."""
    if len(members) < 2:
        raise ServiceError("共有者は2人以上です", field="members")
    ids = [m.addressee_id for m in members]
    if len(set(ids)) != len(ids):
        raise ServiceError("同じ宛名が2回入っています", field="members")
    fractions = [_fraction(m.share, i) for i, m in enumerate(members)]
    if sum(fractions) != 1:
        raise ServiceError(f"持分の合計が1になりません（{sum(fractions)}）", field="members")
    found = {a.pk: a for a in Addressee.objects.filter(pk__in=ids)}
    for i, m in enumerate(members):
        a = found.get(m.addressee_id)
        if a is None:
            raise ServiceError(
                "宛名が見つかりません", field=f"members[{i}].addressee_id", code="not_found"
            )
        if a.kind == AddresseeKind.CO_OWNERS:
            raise ServiceError(
                "共有者の集まりを共有者にすることはできません", field=f"members[{i}].addressee_id"
            )
    if representative_id not in found:
        raise ServiceError("代表者は共有者の中から選んでください", field="representative_id")
    key = ",".join(
        f"{i}:{f.numerator}/{f.denominator}" for i, f in sorted(zip(ids, fractions, strict=True))
    )
    existing: Addressee | None = Addressee.objects.filter(members_key=key).first()
    if existing is not None:
        if existing.representative_id != representative_id:
            existing.representative_id = representative_id
            existing.save(update_fields=["representative"])
            _audit(existing, f"{PURPOSE}（共有の代表者の変更）", AuditAction.UPDATE)
        return existing
    head = found[representative_id]
    group: Addressee = Addressee.objects.create(
        number=_next_number(),
        kind=AddresseeKind.CO_OWNERS,
        name=f"{head.name} 外{len(members) - 1}名"[:200],
        kana=head.kana,
        postal_code=head.postal_code,
        address=head.address,
        representative=head,
        members_key=key[:500],
        created_by=current_actor().username,
    )
    CoOwner.objects.bulk_create(
        CoOwner(
            municipality_id=group.municipality_id,
            group=group,
            member_id=m.addressee_id,
            share_numerator=f.numerator,
            share_denominator=f.denominator,
        )
        for m, f in zip(members, fractions, strict=True)
    )
    _audit(group, f"{PURPOSE}（共有者の登録）")
    return group


@transaction.atomic
def contact_set(
    *,
    addressee_id: int,
    business: str,
    role: str,
    name: str,
    address: str,
    postal_code: str = "",
    note: str,
) -> Addressee:
    """送付先 or 納税管理人 of an addressee for one 業務 (``all`` = every 業務); an empty name
    removes it."""
    addressee: Addressee | None = (
        Addressee.objects.select_for_update().filter(pk=addressee_id).first()
    )
    if addressee is None:
        raise ServiceError("宛名が見つかりません", field="addressee_id", code="not_found")
    if business not in Business.values:
        raise ServiceError("業務が正しくありません", field="business")
    if role not in ContactRole.values:
        raise ServiceError("送付先か納税管理人かを選んでください", field="role")
    if not note.strip():
        raise ServiceError("届出の内容（理由）を入力してください", field="note")
    contacts = dict(addressee.contacts)
    entry = dict(contacts.get(business, {}))
    if name.strip():
        if not address.strip():
            raise ServiceError("送付先の住所を入力してください", field="address")
        entry[role] = {
            "name": name.strip()[:200],
            "address": address.strip()[:300],
            "postal_code": _check_postal(postal_code),
        }
    else:
        entry.pop(role, None)
    if entry:
        contacts[business] = entry
    else:
        contacts.pop(business, None)
    addressee.contacts = contacts
    addressee.save(update_fields=["contacts"])
    audit_record(
        action=AuditAction.UPDATE,
        target_type="tax_addressee",
        target_id=addressee.number,
        purpose=f"{ContactRole(role).label}の届出（{Business(business).label}）",
        detail={"note": note.strip(), "removed": not name.strip()},
    )
    return addressee


_EDITABLE = (AddresseeKind.NON_RESIDENT, AddresseeKind.CORPORATION)


@transaction.atomic
def addressee_update(
    *,
    addressee_id: int,
    name: str,
    kana: str,
    address: str,
    postal_code: str = "",
    birth_date: str = "",
    note: str,
) -> Addressee:
    """住登外者・法人の氏名（名称）・フリガナ・住所・郵便番号の変更 (a 住民's come from 住民記録,
    a 共有者の集まり's from its 代表者). The previous values go to the audit log."""
    addressee: Addressee | None = (
        Addressee.objects.select_for_update().filter(pk=addressee_id).first()
    )
    if addressee is None:
        raise ServiceError("宛名が見つかりません", field="addressee_id", code="not_found")
    if addressee.kind not in _EDITABLE:
        raise ServiceError(
            f"{addressee.get_kind_display()}の宛名はここでは変更できません"
            "（住民は住民記録、共有者は各共有者の宛名で変更します）",
            field="addressee_id",
        )
    if not note.strip():
        raise ServiceError("変更の理由（届出の内容など）を入力してください", field="note")
    label = "名称" if addressee.kind == AddresseeKind.CORPORATION else "氏名"
    if not name.strip():
        raise ServiceError(f"{label}を入力してください", field="name")
    if addressee.kind == AddresseeKind.NON_RESIDENT and not kana.strip():
        raise ServiceError("フリガナを入力してください", field="kana")
    if not address.strip():
        raise ServiceError("住所・所在地を入力してください", field="address")
    values = {
        "name": name.strip()[:200],
        "kana": kana.strip()[:200],
        "address": address.strip()[:300],
        "postal_code": _check_postal(postal_code),
        "birth_date": _check_birth(birth_date.strip())
        if addressee.kind == AddresseeKind.NON_RESIDENT
        else "",
    }
    before = {k: getattr(addressee, k) for k in values}
    changed = [k for k, v in values.items() if before[k] != v]
    if not changed:
        raise ServiceError("変更された項目がありません", field="name")
    for k in changed:
        setattr(addressee, k, values[k])
    addressee.save(update_fields=changed)
    audit_record(
        action=AuditAction.UPDATE,
        target_type="tax_addressee",
        target_id=addressee.number,
        purpose=f"{PURPOSE}（{addressee.get_kind_display()}の変更）",
        detail={"note": note.strip(), "before": {k: before[k] for k in changed}},
    )
    # Co-owner groups show their 代表者's name and address on notices.
    for group in Addressee.objects.select_for_update().filter(representative=addressee):
        group.address, group.postal_code = addressee.address, addressee.postal_code
        group.save(update_fields=["address", "postal_code"])
    return addressee


@dataclass(frozen=True)
class OwnerSpec:
    """Who owns a 土地・家屋 as the clerk enters it: one 税務宛名番号, or the co-owners
    (税務宛名番号 and 持分 each) with the 代表者's 税務宛名番号."""

    number: str = ""
    shares: Sequence[tuple[str, str]] = ()
    representative: str = ""


def owner_resolve(*, spec: OwnerSpec) -> Addressee:
    """The addressee a 土地・家屋 is registered to: the one numbered, or the 共有者の集まり of
    the co-owners (registered on first use, ``co_owners_register``). Call inside the write's
    own transaction so that a refused entry leaves no group behind."""
    if spec.shares:
        if spec.number.strip():
            raise ServiceError(
                "所有者は、単独の税務宛名番号か共有者のどちらか一方を入力してください",
                field="owner_number",
            )
        numbers = [n.strip() for n, _ in spec.shares]
        found = {a.number: a for a in Addressee.objects.filter(number__in=numbers)}
        for i, n in enumerate(numbers):
            if n not in found:
                raise ServiceError(
                    f"共有者の税務宛名番号が見つかりません: {n}",
                    field=f"co_owners[{i}]",
                    code="not_found",
                )
        head = found.get(spec.representative.strip())
        if head is None or head.number not in numbers:
            raise ServiceError(
                "代表者は共有者の税務宛名番号から選んでください", field="representative_number"
            )
        return co_owners_register(
            members=[
                Share(found[n].pk, share)
                for n, (_, share) in zip(numbers, spec.shares, strict=True)
            ],
            representative_id=head.pk,
        )
    number = spec.number.strip()
    if not number:
        raise ServiceError("所有者の税務宛名番号を入力してください", field="owner_number")
    owner: Addressee | None = Addressee.objects.filter(number=number).first()
    if owner is None:
        raise ServiceError(
            f"所有者の税務宛名番号が見つかりません: {number}",
            field="owner_number",
            code="not_found",
        )
    return owner


@dataclass(frozen=True)
class MailTo:
    """Where a notice goes: the addressee, or the 納税管理人 / 送付先 for that 業務."""

    name: str
    address: str
    postal_code: str
    care_of: str  # e.g. "納税管理人" ("" when sent to the addressee)


def mail_to(addressee: Addressee, business: str) -> MailTo:
    """納税管理人 first, then 送付先, otherwise the addressee (a group: its 代表者's address)."""
    for role in (ContactRole.MANAGER, ContactRole.SEND_TO):
        found = addressee.contact(business, role)
        if found:
            return MailTo(
                found["name"], found["address"], found.get("postal_code", ""), str(role.label)
            )
    return MailTo(addressee.name, addressee.address, addressee.postal_code, "")
