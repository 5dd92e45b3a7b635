"""住民記録の異動: every write to the registry, one function per 届出 or 職権 act.

Each service is keyword-only and atomic; it validates (raising :class:`ServiceError` naming the
field, with nothing written), writes one :class:`Movement` and a new full-snapshot
:class:`ResidentRecord` for each person it touches, checks that every household it touched still
has exactly one 世帯主, writes the audit log and emits one event with each person's state before
and after.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from moyai.moji.rules import is_katakana, kana_key, name_key
from moyai.platform import crypto
from moyai.platform.audit import audit_record, current_actor
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction
from moyai.platform.outbox import emit
from moyai.platform.services import counter_next
from moyai.platform.tenancy import current_tenant
from moyai.registry.models import (
    KanaStatus,
    Movement,
    Person,
    ResidentKind,
    ResidentRecord,
    ResidentStatus,
    Sex,
)
from moyai.registry.rules import (
    FuzzyDate,
    Member,
    MovementKind,
    household_problems,
    m11_problem,
    my_number_problem,
    notification_warning,
    parse_relation,
    resident_code_problem,
    with_m11,
)

NUMBER_WIDTH = 15  # 宛名番号・世帯番号の桁数（検査数字を含む）

EVENT_TYPES: dict[MovementKind, str] = {
    MovementKind.MOVE_IN: "resident.moved_in",
    MovementKind.MOVE_IN_FROM_ABROAD: "resident.moved_in",
    MovementKind.BIRTH: "resident.born",
    MovementKind.AUTHORITY_ENTRY: "resident.entered",
    MovementKind.MOVE_OUT: "resident.moved_out",
    MovementKind.MOVE_OUT_CONFIRMED: "resident.move_out_confirmed",
    MovementKind.MOVE_OUT_ABROAD: "resident.moved_out",
    MovementKind.DEATH: "resident.died",
    MovementKind.AUTHORITY_REMOVAL: "resident.removed",
    MovementKind.RELOCATION: "resident.relocated",
    MovementKind.HOUSEHOLD_SEPARATION: "resident.household_changed",
    MovementKind.HOUSEHOLD_MERGE: "resident.household_changed",
    MovementKind.HOUSEHOLD_CHANGE: "resident.household_changed",
    MovementKind.HEAD_CHANGE: "resident.household_changed",
    MovementKind.AUTHORITY_CORRECTION: "resident.corrected",
    MovementKind.FAMILY_REGISTER_CHANGE: "resident.name_or_domicile_changed",
    MovementKind.CLERICAL_CORRECTION: "resident.corrected",
    MovementKind.CANCELLATION: "resident.movement_cancelled",
    MovementKind.MIGRATION: "resident.migrated",
}


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notification:
    """What every 異動 records: 異動日, 届出日, 届出人, 窓口, 留意事項."""

    occurred: FuzzyDate
    notified_on: date | None = None
    notifier_name: str = ""
    notifier_relation: str = ""
    counter: str = ""
    note: str = ""


@dataclass(frozen=True)
class Address:
    """住所 within the municipality (都道府県・市区町村 come from the tenant)."""

    town: str
    block: str = ""
    building: str = ""
    town_code: str = ""
    postal_code: str = ""


@dataclass(frozen=True)
class NewPerson:
    """A person entering the registry (転入・出生・職権記載)."""

    family_name: str
    given_name: str
    name_kana: str
    birth: FuzzyDate
    sex: str
    relation: str  # 続柄 text, e.g. 世帯主, 妻, 子の妻
    kind: str = ResidentKind.JAPANESE
    kana_confirmed: bool = False
    name_roman: str = ""
    alias: str = ""
    alias_kana: str = ""
    former_surname: str = ""
    former_surname_kana: str = ""
    domicile: str = ""
    domicile_head: str = ""
    nationality: str = ""
    residence_status: str = ""
    residence_period: str = ""
    residence_expiry: str = ""
    residence_card_number: str = ""
    article_30_45: str = ""
    resident_code: str = ""
    my_number: str = ""
    became_resident: FuzzyDate | None = None  # defaults to the 異動日
    qualifications: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MovementResult:
    movement: Movement
    records: list[ResidentRecord]
    warnings: list[str]


# --- helpers --------------------------------------------------------------------------------


def _fail(message: str, field_name: str) -> ServiceError:
    return ServiceError(message, field=field_name)


def _check_notification(kind: MovementKind, n: Notification) -> list[str]:
    if n.notified_on is not None and n.notified_on > timezone.localdate():
        raise _fail("届出日が未来の日付です", "notified_on")
    occurred = n.occurred.as_date()
    if (
        occurred is not None
        and occurred > timezone.localdate()
        and kind not in (MovementKind.MOVE_OUT, MovementKind.MOVE_OUT_ABROAD)
    ):
        raise _fail("異動日が未来の日付です（転出予定を除く）", "occurred")
    warnings = []
    if n.notified_on is not None:
        w = notification_warning(kind, n.occurred, n.notified_on)
        if w:
            warnings.append(w)
    return warnings


def _start(
    kind: MovementKind, n: Notification, warnings: list[str], cancels: Movement | None = None
) -> Movement:
    actor = current_actor()
    movement: Movement = Movement.objects.create(
        number=counter_next(name="registry.movement"),
        kind=kind.value,
        occurred_on=n.occurred.iso,
        occurred_on_unknown=n.occurred.unknown,
        occurred_on_label=n.occurred.label,
        notified_on=n.notified_on,
        notifier_name=n.notifier_name.strip(),
        notifier_relation=n.notifier_relation.strip(),
        counter=n.counter.strip(),
        staff_username=actor.username,
        note=n.note.strip(),
        warnings=warnings,
        cancels=cancels,
    )
    return movement


def _next_number(counter: str) -> str:
    while True:
        number = with_m11(counter_next(name=counter), NUMBER_WIDTH)
        if number is not None:
            return number


def _keys(name: str, kana: str, alias: str) -> dict[str, str]:
    return {
        "name_key": name_key(name),
        "kana_key": kana_key(kana),
        "alias_key": name_key(alias) if alias else "",
    }


def _locked_latest(person_ids: Iterable[int]) -> dict[int, ResidentRecord]:
    ids = sorted(set(person_ids))
    list(Person.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    rows = {
        r.person_id: r
        for r in ResidentRecord.objects.select_related("person").filter(
            person_id__in=ids, is_latest=True
        )
    }
    missing = [i for i in ids if i not in rows]
    if missing:
        raise _fail(f"住民が見つかりません（宛名ID {missing}）", "persons")
    return rows


def _write(
    person: Person, movement: Movement, values: Mapping[str, Any], effective_from: str | None = None
) -> ResidentRecord:
    """A new latest snapshot of ``person`` with ``values``; the previous one is closed."""
    ResidentRecord.objects.filter(person=person, is_latest=True).update(is_latest=False)
    person.latest_seq += 1
    person.save(update_fields=["latest_seq"])
    data = dict(values)
    data.update(_keys(data["name"], data.get("name_kana", ""), data.get("alias", "")))
    record: ResidentRecord = ResidentRecord.objects.create(
        person=person,
        seq=person.latest_seq,
        is_latest=True,
        movement=movement,
        effective_from=effective_from or movement.occurred_on,
        **data,
    )
    return record


def _state(record: ResidentRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    snap = record.snapshot()
    return {k: v for k, v in snap.items() if k not in ("name_key", "kana_key")}


def _finish(
    movement: Movement,
    before: Mapping[int, ResidentRecord | None],
    after: Sequence[ResidentRecord],
    purpose: str,
) -> MovementResult:
    """Household check, audit and event — the common end of every 異動."""
    touched = {r.household_number for r in after} | {
        r.household_number for r in before.values() if r is not None
    }
    _check_households(touched)
    action = (
        AuditAction.CREATE
        if all(before.get(r.person_id) is None for r in after)
        else AuditAction.UPDATE
    )
    for record in after:
        audit_record(
            action=action,
            target_type="person",
            target_id=record.person_id,
            purpose=purpose,
            detail={"movement": movement.number, "kind": movement.kind, "seq": record.seq},
        )
    emit(
        type=EVENT_TYPES[MovementKind(movement.kind)],
        subject_type="movement",
        subject_id=movement.number,
        payload={
            "movement": movement.number,
            "kind": movement.kind,
            "occurred_on": movement.occurred_on,
            "persons": [
                {
                    "person_id": r.person_id,
                    "address_number": r.person.address_number,
                    "before": _state(before.get(r.person_id)),
                    "after": _state(r),
                }
                for r in after
            ],
        },
    )
    return MovementResult(movement, list(after), list(movement.warnings))


def _check_households(numbers: Iterable[str]) -> None:
    for number in sorted(n for n in numbers if n):
        members = [
            Member(r.person_id, r.is_head, tuple(r.relation_codes))
            for r in ResidentRecord.objects.filter(
                household_number=number, is_latest=True, status=ResidentStatus.RESIDENT
            )
        ]
        problems = household_problems(members)
        if problems:
            raise _fail(f"世帯 {number}: " + "、".join(problems), "household")


def _relation_codes(text: str, field_name: str) -> list[str]:
    try:
        return parse_relation(text)
    except ValueError as exc:
        raise _fail(str(exc), field_name) from None


def _validate_new_person(p: NewPerson, i: int) -> None:
    prefix = f"members[{i}]."
    if not p.family_name.strip() and not p.given_name.strip():
        raise _fail("氏名を入力してください", prefix + "family_name")
    if not p.name_kana.strip() or not is_katakana(p.name_kana):
        raise _fail("フリガナは全角カタカナで入力してください", prefix + "name_kana")
    if p.sex not in Sex.values:
        raise _fail("性別を選んでください", prefix + "sex")
    if p.kind not in ResidentKind.values:
        raise _fail("住民種別が正しくありません", prefix + "kind")
    birth = p.birth.as_date()
    if birth is not None and birth > timezone.localdate():
        raise _fail("生年月日が未来の日付です", prefix + "birth")
    if p.kind == ResidentKind.FOREIGN:
        if not p.nationality.strip():
            raise _fail("外国人住民は国籍・地域が必要です", prefix + "nationality")
        if not p.article_30_45.strip():
            raise _fail(
                "外国人住民は法第30条の45に規定する区分が必要です", prefix + "article_30_45"
            )
    elif p.nationality or p.residence_status or p.residence_card_number:
        raise _fail("日本人住民に国籍・在留資格は記載しません", prefix + "nationality")
    if p.my_number:
        problem = my_number_problem(p.my_number)
        if problem:
            raise _fail(problem, prefix + "my_number")
    if (
        p.resident_code
        and resident_code_problem(p.resident_code)
        and not (len(p.resident_code) == 11 and p.resident_code.isdigit())
    ):
        raise _fail("住民票コードは半角数字11桁です", prefix + "resident_code")


def _address_values(address: Address) -> dict[str, str]:
    tenant = current_tenant()
    from moyai.platform.models import Municipality

    m = Municipality.objects.get(pk=tenant.id)
    if not address.town.strip():
        raise _fail("住所（町字）を入力してください", "address.town")
    postal = address.postal_code.replace("-", "").replace("－", "")
    if postal and (len(postal) != 7 or not postal.isdigit()):
        raise _fail("郵便番号は7桁の数字です", "address.postal_code")
    if address.town_code and (len(address.town_code) != 7 or not address.town_code.isdigit()):
        raise _fail("町字コードは7桁の数字です", "address.town_code")
    return {
        "address_prefecture": m.prefecture,
        "address_city": m.name,
        "address_town": address.town.strip(),
        "address_town_code": address.town_code,
        "address_block": address.block.strip(),
        "address_building": address.building.strip(),
        "postal_code": postal,
    }


def _my_number_cells(person: Person, my_number: str) -> None:
    if not my_number:
        return
    index = crypto.blind_index(my_number, scope=current_tenant().code)
    if Person.objects.filter(my_number_index=index).exclude(pk=person.pk).exists():
        raise _fail("この個人番号は別の住民に記載されています", "my_number")
    person.my_number_cipher = crypto.encrypt(
        my_number, bound_to=f"{current_tenant().code}:{person.address_number}"
    )
    person.my_number_index = index
    person.save(update_fields=["my_number_cipher", "my_number_index"])


def _household_head(number: str) -> ResidentRecord | None:
    return ResidentRecord.objects.filter(
        household_number=number, is_latest=True, status=ResidentStatus.RESIDENT, is_head=True
    ).first()


def _household(number: str) -> list[ResidentRecord]:
    return list(
        ResidentRecord.objects.select_related("person")
        .filter(household_number=number, is_latest=True, status=ResidentStatus.RESIDENT)
        .order_by("household_order", "person_id")
    )


# --- 記載: 転入・出生・職権記載 ---------------------------------------------------------------


def _enter_persons(
    *,
    kind: MovementKind,
    notification: Notification,
    members: Sequence[NewPerson],
    address: Address | None,
    household_number: str,
    previous_address: str,
) -> MovementResult:
    if not members:
        raise _fail("記載する人を1人以上入力してください", "members")
    warnings = _check_notification(kind, notification)
    for i, p in enumerate(members):
        _validate_new_person(p, i)
    codes = [_relation_codes(p.relation, f"members[{i}].relation") for i, p in enumerate(members)]

    if household_number:
        existing = _household(household_number)
        if not existing:
            raise _fail(f"世帯番号 {household_number} の世帯がありません", "household_number")
        head = _household_head(household_number)
        address_values = {
            k: getattr(existing[0], k)
            for k in (
                "address_prefecture",
                "address_city",
                "address_town",
                "address_town_code",
                "address_block",
                "address_building",
                "postal_code",
            )
        }
        head_name = head.name if head else ""
        order = max(r.household_order for r in existing) + 1
        if any(c == ["02"] for c in codes):
            raise _fail(
                "既存の世帯に入る人は世帯主になれません（世帯主変更で行います）", "members.relation"
            )
    else:
        if address is None:
            raise _fail("住所を入力してください", "address")
        address_values = _address_values(address)
        household_number = _next_number("registry.household")
        heads = [i for i, c in enumerate(codes) if c == ["02"]]
        if len(heads) != 1:
            raise _fail("新しい世帯には世帯主が1人必要です", "members.relation")
        head_p = members[heads[0]]
        head_name = f"{head_p.family_name}　{head_p.given_name}".strip("　")
        order = 1

    movement = _start(kind, notification, warnings)
    written = []
    for p, rel in zip(members, codes, strict=True):
        person = Person.objects.create(
            address_number=_next_number("registry.address_number"),
            resident_code=p.resident_code,
        )
        _my_number_cells(person, p.my_number)
        full = f"{p.family_name}　{p.given_name}".strip("　")
        became = p.became_resident or notification.occurred
        values: dict[str, Any] = {
            "status": ResidentStatus.RESIDENT,
            "kind": p.kind,
            "family_name": p.family_name.strip(),
            "given_name": p.given_name.strip(),
            "name": full,
            "name_kana": p.name_kana.strip(),
            "kana_status": KanaStatus.CONFIRMED if p.kana_confirmed else KanaStatus.UNCONFIRMED,
            "name_roman": p.name_roman.strip(),
            "former_surname": p.former_surname.strip(),
            "former_surname_kana": p.former_surname_kana.strip(),
            "alias": p.alias.strip(),
            "alias_kana": p.alias_kana.strip(),
            "birth_date": p.birth.iso,
            "birth_date_unknown": p.birth.unknown,
            "birth_date_label": p.birth.label,
            "sex": p.sex,
            "household_number": household_number,
            "is_head": rel == ["02"],
            "relation_codes": rel,
            "household_order": order,
            "head_name": head_name,
            "became_resident_on": became.iso,
            "became_resident_on_unknown": became.unknown,
            "became_resident_on_label": became.label,
            "address_set_on": notification.occurred.iso,
            "address_set_on_unknown": notification.occurred.unknown,
            "address_set_on_label": notification.occurred.label,
            "previous_address": previous_address.strip(),
            "domicile": p.domicile.strip(),
            "domicile_head": p.domicile_head.strip(),
            "nationality": p.nationality.strip(),
            "residence_status": p.residence_status.strip(),
            "residence_period": p.residence_period.strip(),
            "residence_expiry": p.residence_expiry.strip(),
            "residence_card_number": p.residence_card_number.strip(),
            "article_30_45": p.article_30_45.strip(),
            "qualifications": dict(p.qualifications),
            **address_values,
        }
        written.append(_write(person, movement, values))
        order += 1
        if p.resident_code and resident_code_problem(p.resident_code):
            warnings.append(f"{full}: {resident_code_problem(p.resident_code)}")
    if warnings != movement.warnings:
        movement.warnings = warnings
        movement.save(update_fields=["warnings"])
    return _finish(movement, {r.person_id: None for r in written}, written, kind.label)


@transaction.atomic
def move_in(
    *,
    notification: Notification,
    members: Sequence[NewPerson],
    address: Address | None = None,
    household_number: str = "",
    previous_address: str,
    from_abroad: bool = False,
) -> MovementResult:
    """転入（国内・国外）: a new household at ``address``, or joining ``household_number``."""
    if not previous_address.strip():
        raise _fail("転入前住所を入力してください", "previous_address")
    kind = MovementKind.MOVE_IN_FROM_ABROAD if from_abroad else MovementKind.MOVE_IN
    return _enter_persons(
        kind=kind,
        notification=notification,
        members=members,
        address=address,
        household_number=household_number,
        previous_address=previous_address,
    )


@transaction.atomic
def birth(*, notification: Notification, household_number: str, child: NewPerson) -> MovementResult:
    """出生: the child enters the registry in a household (通常は親の世帯)."""
    if child.birth.iso != notification.occurred.iso or child.birth.unknown:
        raise _fail("出生の異動日は生年月日と同じ日です", "occurred")
    if not household_number:
        raise _fail("出生した子が入る世帯を選んでください", "household_number")
    return _enter_persons(
        kind=MovementKind.BIRTH,
        notification=notification,
        members=[child],
        address=None,
        household_number=household_number,
        previous_address="",
    )


@transaction.atomic
def authority_entry(
    *,
    notification: Notification,
    members: Sequence[NewPerson],
    address: Address | None = None,
    household_number: str = "",
    reason: str,
) -> MovementResult:
    """職権記載: entered by the mayor's authority (帰化・国籍喪失・実態調査 …)."""
    if not reason.strip():
        raise _fail("職権記載の理由を入力してください", "reason")
    n = Notification(
        notification.occurred,
        notification.notified_on,
        "",
        "",
        notification.counter,
        f"{reason.strip()} {notification.note}".strip(),
    )
    return _enter_persons(
        kind=MovementKind.AUTHORITY_ENTRY,
        notification=n,
        members=members,
        address=address,
        household_number=household_number,
        previous_address="",
    )


# --- 消除: 転出・死亡・職権消除 ----------------------------------------------------------------


def _remaining_relations(
    household_number: str,
    leaving: set[int],
    new_head_id: int | None,
    relations: Mapping[int, str],
) -> dict[int, tuple[bool, list[str]]]:
    """For members staying in a household that loses people: who is head, with what 続柄.

    If the 世帯主 leaves while others stay, ``new_head_id`` and the 続柄 of every staying member
    towards the new head are required (the clerk confirms them; they are not guessed).
    """
    staying = [r for r in _household(household_number) if r.person_id not in leaving]
    if not staying:
        return {}
    head = next((r for r in staying if r.is_head), None)
    if head is not None:
        if new_head_id is not None and new_head_id != head.person_id:
            raise _fail(
                "世帯主が残る世帯の世帯主は変わりません（世帯主変更で行います）", "new_head"
            )
        return {}
    if new_head_id is None:
        raise _fail(
            "世帯主が世帯を離れます。残る世帯員から新しい世帯主を選んでください", "new_head"
        )
    if new_head_id not in {r.person_id for r in staying}:
        raise _fail("新しい世帯主は残る世帯員から選んでください", "new_head")
    result: dict[int, tuple[bool, list[str]]] = {}
    for r in staying:
        if r.person_id == new_head_id:
            result[r.person_id] = (True, ["02"])
            continue
        text = relations.get(r.person_id)
        if not text:
            raise _fail(
                f"{r.name} の新しい世帯主との続柄を入力してください", f"relations[{r.person_id}]"
            )
        result[r.person_id] = (False, _relation_codes(text, f"relations[{r.person_id}]"))
    return result


def _apply_new_head(
    movement: Movement,
    household_number: str,
    changes: Mapping[int, tuple[bool, list[str]]],
    before: dict[int, ResidentRecord | None],
    written: list[ResidentRecord],
) -> None:
    if not changes:
        return
    latest = _locked_latest(changes)
    head_id = next(pid for pid, (is_head, _) in changes.items() if is_head)
    head_name = latest[head_id].name
    for pid, (is_head, codes) in changes.items():
        rec = latest[pid]
        before[pid] = rec
        values = rec.snapshot() | {
            "is_head": is_head,
            "relation_codes": codes,
            "head_name": head_name,
        }
        written.append(_write(rec.person, movement, values))
    del household_number


def _remove(
    *,
    kind: MovementKind,
    notification: Notification,
    person_ids: Sequence[int],
    status: str,
    reason: str,
    new_head_id: int | None,
    relations: Mapping[int, str],
    extra: Mapping[str, Any],
) -> MovementResult:
    if not person_ids:
        raise _fail("対象の住民を選んでください", "persons")
    warnings = _check_notification(kind, notification)
    latest = _locked_latest(person_ids)
    households = {r.household_number for r in latest.values()}
    for r in latest.values():
        if r.status != ResidentStatus.RESIDENT:
            raise _fail(f"{r.name} はすでに{r.get_status_display()}です", "persons")
    if len(households) != 1:
        raise _fail("一度に届け出られるのは同じ世帯の人だけです", "persons")
    number = households.pop()
    changes = _remaining_relations(number, set(latest), new_head_id, relations)
    movement = _start(kind, notification, warnings)
    before: dict[int, ResidentRecord | None] = dict(latest.items())
    written = []
    for rec in latest.values():
        values = rec.snapshot() | {
            "status": status,
            "removed_reason": reason,
            "removed_on": notification.occurred.iso,
            **extra,
        }
        written.append(_write(rec.person, movement, values))
    _apply_new_head(movement, number, changes, before, written)
    return _finish(movement, before, written, kind.label)


@transaction.atomic
def move_out(
    *,
    notification: Notification,
    person_ids: Sequence[int],
    destination: str,
    abroad: bool = False,
    new_head_id: int | None = None,
    relations: Mapping[int, str] | None = None,
) -> MovementResult:
    """転出（予定）: the 住民票 is 消除 as of the planned date; 確定 follows the 転入通知."""
    if not destination.strip():
        raise _fail("転出先住所を入力してください", "destination")
    kind = MovementKind.MOVE_OUT_ABROAD if abroad else MovementKind.MOVE_OUT
    return _remove(
        kind=kind,
        notification=notification,
        person_ids=person_ids,
        status=ResidentStatus.MOVED_OUT,
        reason="国外転出" if abroad else "転出",
        new_head_id=new_head_id,
        relations=relations or {},
        extra={
            "destination_planned": destination.strip(),
            "moved_out_planned_on": notification.occurred.iso,
        },
    )


@transaction.atomic
def move_out_confirm(
    *, person_id: int, destination: str, moved_out_on: FuzzyDate, notice_on: date
) -> MovementResult:
    """転出確定: the 転入通知 from the new municipality fixes the destination and date."""
    latest = _locked_latest([person_id])[person_id]
    if latest.status != ResidentStatus.MOVED_OUT or latest.movement.kind != MovementKind.MOVE_OUT:
        raise _fail("転出（予定）の住民にだけ転入通知を記録できます", "person")
    if not destination.strip():
        raise _fail("転出先住所（確定）を入力してください", "destination")
    n = Notification(moved_out_on, notice_on, note="転入通知による確定")
    movement = _start(MovementKind.MOVE_OUT_CONFIRMED, n, [])
    values = latest.snapshot() | {
        "destination_confirmed": destination.strip(),
        "moved_out_on": moved_out_on.iso,
        "move_in_notice_on": notice_on.isoformat(),
        "removed_on": moved_out_on.iso,
    }
    record = _write(latest.person, movement, values, effective_from=latest.effective_from)
    return _finish(movement, {person_id: latest}, [record], "転出確定")


@transaction.atomic
def death(
    *,
    notification: Notification,
    person_id: int,
    new_head_id: int | None = None,
    relations: Mapping[int, str] | None = None,
) -> MovementResult:
    """死亡: 消除 on the 死亡届 (or its 通知); a new 世帯主 is chosen if the 世帯主 died."""
    return _remove(
        kind=MovementKind.DEATH,
        notification=notification,
        person_ids=[person_id],
        status=ResidentStatus.DECEASED,
        reason="死亡",
        new_head_id=new_head_id,
        relations=relations or {},
        extra={},
    )


@transaction.atomic
def authority_removal(
    *,
    notification: Notification,
    person_ids: Sequence[int],
    reason: str,
    new_head_id: int | None = None,
    relations: Mapping[int, str] | None = None,
) -> MovementResult:
    """職権消除: removed by authority (実態調査で居住の事実がない等)."""
    if not reason.strip():
        raise _fail("職権消除の理由を入力してください", "reason")
    return _remove(
        kind=MovementKind.AUTHORITY_REMOVAL,
        notification=notification,
        person_ids=person_ids,
        status=ResidentStatus.REMOVED,
        reason=f"職権消除（{reason.strip()}）",
        new_head_id=new_head_id,
        relations=relations or {},
        extra={},
    )


# --- 修正: 転居・世帯・氏名・誤記 ----------------------------------------------------------------


def _rehouse(
    *,
    kind: MovementKind,
    notification: Notification,
    moving: Mapping[int, ResidentRecord],
    target_number: str,
    head_id: int | None,
    relations: Mapping[int, str],
    address_values: Mapping[str, Any] | None,
    remaining_head_id: int | None,
    remaining_relations: Mapping[int, str],
    warnings: list[str],
) -> MovementResult:
    """Move ``moving`` into household ``target_number`` (new or existing), fixing 続柄."""
    source = {r.household_number for r in moving.values()}
    if len(source) != 1:
        raise _fail("一度に扱えるのは同じ世帯の人だけです", "persons")
    source_number = source.pop()
    changes = _remaining_relations(
        source_number, set(moving), remaining_head_id, remaining_relations
    )
    target_head = _household_head(target_number) if target_number else None
    new_household = not target_number or target_head is None
    if new_household:
        if head_id is None or head_id not in moving:
            raise _fail("新しい世帯の世帯主を選んでください", "new_head")
        head_name = moving[head_id].name
    else:
        assert target_head is not None
        if head_id is not None:
            raise _fail("既存の世帯に入る人は世帯主になれません", "new_head")
        head_name = target_head.name
    codes: dict[int, list[str]] = {}
    for pid, rec in moving.items():
        if new_household and pid == head_id:
            codes[pid] = ["02"]
            continue
        text = relations.get(pid)
        if not text:
            raise _fail(f"{rec.name} の世帯主との続柄を入力してください", f"relations[{pid}]")
        codes[pid] = _relation_codes(text, f"relations[{pid}]")
    number = target_number if not new_household else _next_number("registry.household")
    movement = _start(kind, notification, warnings)
    before: dict[int, ResidentRecord | None] = dict(moving.items())
    written = []
    order = 1 if new_household else max(r.household_order for r in _household(number)) + 1
    for pid, rec in sorted(
        moving.items(), key=lambda kv: (kv[0] != head_id, kv[1].household_order)
    ):
        values = rec.snapshot() | {
            "household_number": number,
            "is_head": codes[pid] == ["02"],
            "relation_codes": codes[pid],
            "head_name": head_name,
            "household_order": order,
        }
        if address_values is not None:
            values |= dict(address_values) | {
                "address_set_on": notification.occurred.iso,
                "address_set_on_unknown": notification.occurred.unknown,
                "address_set_on_label": notification.occurred.label,
            }
        written.append(_write(rec.person, movement, values))
        order += 1
    _apply_new_head(movement, source_number, changes, before, written)
    return _finish(movement, before, written, kind.label)


@transaction.atomic
def relocation(
    *,
    notification: Notification,
    person_ids: Sequence[int],
    address: Address,
    new_head_id: int | None = None,
    relations: Mapping[int, str] | None = None,
    remaining_head_id: int | None = None,
    remaining_relations: Mapping[int, str] | None = None,
) -> MovementResult:
    """転居: a move within the municipality. The whole household keeps its 世帯番号; part of a
    household moving forms a new household (new 世帯主 and 続柄 required)."""
    warnings = _check_notification(MovementKind.RELOCATION, notification)
    latest = _locked_latest(person_ids)
    for r in latest.values():
        if r.status != ResidentStatus.RESIDENT:
            raise _fail(f"{r.name} は住民ではありません", "persons")
    address_values = _address_values(address)
    numbers = {r.household_number for r in latest.values()}
    if len(numbers) == 1:
        number = next(iter(numbers))
        whole = {r.person_id for r in _household(number)} == set(latest)
        if whole:
            movement = _start(MovementKind.RELOCATION, notification, warnings)
            before: dict[int, ResidentRecord | None] = dict(latest.items())
            written = []
            for rec in latest.values():
                values = (
                    rec.snapshot()
                    | address_values
                    | {
                        "address_set_on": notification.occurred.iso,
                        "address_set_on_unknown": notification.occurred.unknown,
                        "address_set_on_label": notification.occurred.label,
                    }
                )
                written.append(_write(rec.person, movement, values))
            return _finish(movement, before, written, "転居")
    return _rehouse(
        kind=MovementKind.RELOCATION,
        notification=notification,
        moving=latest,
        target_number="",
        head_id=new_head_id,
        relations=relations or {},
        address_values=address_values,
        remaining_head_id=remaining_head_id,
        remaining_relations=remaining_relations or {},
        warnings=warnings,
    )


@transaction.atomic
def household_separation(
    *,
    notification: Notification,
    person_ids: Sequence[int],
    new_head_id: int,
    relations: Mapping[int, str] | None = None,
    remaining_head_id: int | None = None,
    remaining_relations: Mapping[int, str] | None = None,
) -> MovementResult:
    """世帯分離: some members form a new household at the same address."""
    warnings = _check_notification(MovementKind.HOUSEHOLD_SEPARATION, notification)
    latest = _locked_latest(person_ids)
    number = {r.household_number for r in latest.values()}
    if len(number) == 1 and {r.person_id for r in _household(next(iter(number)))} == set(latest):
        raise _fail("世帯全員を分離することはできません", "persons")
    return _rehouse(
        kind=MovementKind.HOUSEHOLD_SEPARATION,
        notification=notification,
        moving=latest,
        target_number="",
        head_id=new_head_id,
        relations=relations or {},
        address_values=None,
        remaining_head_id=remaining_head_id,
        remaining_relations=remaining_relations or {},
        warnings=warnings,
    )


@transaction.atomic
def household_merge(
    *,
    notification: Notification,
    person_ids: Sequence[int],
    target_household_number: str,
    relations: Mapping[int, str],
    remaining_head_id: int | None = None,
    remaining_relations: Mapping[int, str] | None = None,
) -> MovementResult:
    """世帯合併: members of one household join another household (at the same address)."""
    warnings = _check_notification(MovementKind.HOUSEHOLD_MERGE, notification)
    latest = _locked_latest(person_ids)
    target = _household(target_household_number)
    if not target:
        raise _fail(
            f"世帯番号 {target_household_number} の世帯がありません", "target_household_number"
        )
    if any(r.household_number == target_household_number for r in latest.values()):
        raise _fail("同じ世帯には合併できません", "target_household_number")
    keys = ("address_town", "address_block", "address_building")
    if any(
        tuple(getattr(r, k) for k in keys) != tuple(getattr(target[0], k) for k in keys)
        for r in latest.values()
    ):
        raise _fail(
            "住所が異なる世帯とは合併できません（転居で行います）", "target_household_number"
        )
    return _rehouse(
        kind=MovementKind.HOUSEHOLD_MERGE,
        notification=notification,
        moving=latest,
        target_number=target_household_number,
        head_id=None,
        relations=relations,
        address_values=None,
        remaining_head_id=remaining_head_id,
        remaining_relations=remaining_relations or {},
        warnings=warnings,
    )


@transaction.atomic
def household_restructure(
    *,
    notification: Notification,
    household_number: str,
    new_head_id: int,
    relations: Mapping[int, str],
    kind: MovementKind = MovementKind.HOUSEHOLD_CHANGE,
) -> MovementResult:
    """世帯主変更・世帯構成変更: a new 世帯主 and/or new 続柄 for every member."""
    if kind not in (MovementKind.HOUSEHOLD_CHANGE, MovementKind.HEAD_CHANGE):
        raise _fail("世帯主変更か世帯構成変更を選んでください", "kind")
    warnings = _check_notification(kind, notification)
    members = _household(household_number)
    if not members:
        raise _fail(f"世帯番号 {household_number} の世帯がありません", "household_number")
    latest = _locked_latest(r.person_id for r in members)
    if new_head_id not in latest:
        raise _fail("新しい世帯主は世帯員から選んでください", "new_head")
    old_head = next((r for r in members if r.is_head), None)
    if kind == MovementKind.HEAD_CHANGE and old_head and old_head.person_id == new_head_id:
        raise _fail("世帯主が変わっていません", "new_head")
    head_name = latest[new_head_id].name
    codes: dict[int, list[str]] = {}
    for pid, rec in latest.items():
        if pid == new_head_id:
            codes[pid] = ["02"]
            continue
        text = relations.get(pid)
        if not text:
            raise _fail(f"{rec.name} の世帯主との続柄を入力してください", f"relations[{pid}]")
        codes[pid] = _relation_codes(text, f"relations[{pid}]")
    if all(codes[pid] == rec.relation_codes for pid, rec in latest.items()):
        raise _fail("続柄・世帯主に変更がありません", "relations")
    movement = _start(kind, notification, warnings)
    before: dict[int, ResidentRecord | None] = dict(latest.items())
    written = [
        _write(
            rec.person,
            movement,
            rec.snapshot()
            | {
                "is_head": codes[pid] == ["02"],
                "relation_codes": codes[pid],
                "head_name": head_name,
            },
        )
        for pid, rec in latest.items()
    ]
    return _finish(movement, before, written, kind.label)


CORRECTABLE_FIELDS = frozenset(
    {
        "family_name",
        "given_name",
        "name_kana",
        "kana_status",
        "name_roman",
        "former_surname",
        "former_surname_kana",
        "alias",
        "alias_kana",
        "birth_date",
        "birth_date_unknown",
        "birth_date_label",
        "sex",
        "address_town",
        "address_town_code",
        "address_block",
        "address_building",
        "postal_code",
        "became_resident_on",
        "became_resident_on_unknown",
        "became_resident_on_label",
        "address_set_on",
        "address_set_on_unknown",
        "address_set_on_label",
        "previous_address",
        "domicile",
        "domicile_head",
        "nationality",
        "residence_status",
        "residence_period",
        "residence_expiry",
        "residence_card_number",
        "article_30_45",
        "qualifications",
    }
)
FAMILY_REGISTER_FIELDS = frozenset(
    {
        "family_name",
        "given_name",
        "name_kana",
        "former_surname",
        "former_surname_kana",
        "domicile",
        "domicile_head",
    }
)


def _validate_changes(
    rec: ResidentRecord, changes: Mapping[str, Any], allowed: frozenset[str]
) -> dict[str, Any]:
    if not changes:
        raise _fail("修正する項目を入力してください", "changes")
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise _fail(f"この異動では修正できない項目です: {', '.join(unknown)}", unknown[0])
    values = rec.snapshot() | dict(changes)
    if "name_kana" in changes and not is_katakana(str(changes["name_kana"])):
        raise _fail("フリガナは全角カタカナで入力してください", "name_kana")
    if "sex" in changes and changes["sex"] not in Sex.values:
        raise _fail("性別が正しくありません", "sex")
    for prefix in ("birth_date", "became_resident_on", "address_set_on"):
        if prefix in changes or f"{prefix}_unknown" in changes or f"{prefix}_label" in changes:
            try:
                if values[prefix] or prefix == "birth_date":
                    FuzzyDate(
                        values[prefix], values[f"{prefix}_unknown"], values[f"{prefix}_label"]
                    )
            except ValueError as exc:
                raise _fail(str(exc), prefix) from None
    if all(values[k] == getattr(rec, k) for k in changes):
        raise _fail("変更がありません", next(iter(changes)))
    values["name"] = f"{values['family_name']}　{values['given_name']}".strip("　")
    return values


def _correct(
    kind: MovementKind,
    notification: Notification,
    person_id: int,
    changes: Mapping[str, Any],
    allowed: frozenset[str],
    *,
    retroactive: bool,
) -> MovementResult:
    warnings = _check_notification(kind, notification)
    rec = _locked_latest([person_id])[person_id]
    values = _validate_changes(rec, changes, allowed)
    movement = _start(kind, notification, warnings)
    # 誤記修正 corrects the entry as it always should have read: it applies from the corrected
    # row's own date, so "as of" queries after that date see the corrected value.
    record = _write(
        rec.person, movement, values, effective_from=rec.effective_from if retroactive else None
    )
    written = [record]
    before: dict[int, ResidentRecord | None] = {person_id: rec}
    if rec.is_head and values["name"] != rec.name:
        for member in _household(rec.household_number):
            if member.person_id == person_id:
                continue
            before[member.person_id] = member
            written.append(
                _write(
                    member.person,
                    movement,
                    member.snapshot() | {"head_name": values["name"]},
                    effective_from=member.effective_from if retroactive else None,
                )
            )
    return _finish(movement, before, written, kind.label)


@transaction.atomic
def family_register_change(
    *, notification: Notification, person_id: int, changes: Mapping[str, Any]
) -> MovementResult:
    """氏名・本籍の変更（戸籍の届出・通知による）: 婚姻・養子縁組・転籍 etc."""
    return _correct(
        MovementKind.FAMILY_REGISTER_CHANGE,
        notification,
        person_id,
        changes,
        FAMILY_REGISTER_FIELDS,
        retroactive=False,
    )


@transaction.atomic
def authority_correction(
    *, notification: Notification, person_id: int, changes: Mapping[str, Any], reason: str
) -> MovementResult:
    """職権修正: corrected by authority from a 戸籍 通知 or investigation."""
    if not reason.strip():
        raise _fail("職権修正の理由を入力してください", "reason")
    n = Notification(
        notification.occurred,
        notification.notified_on,
        "",
        "",
        notification.counter,
        reason.strip(),
    )
    return _correct(
        MovementKind.AUTHORITY_CORRECTION,
        n,
        person_id,
        changes,
        CORRECTABLE_FIELDS,
        retroactive=False,
    )


@transaction.atomic
def clerical_correction(
    *, person_id: int, changes: Mapping[str, Any], reason: str, counter: str = ""
) -> MovementResult:
    """誤記修正: a clerk's mistake in the latest entry, corrected as of that entry's date."""
    if not reason.strip():
        raise _fail("誤記修正の理由を入力してください", "reason")
    n = Notification(FuzzyDate.of(timezone.localdate()), None, "", "", counter, reason.strip())
    return _correct(
        MovementKind.CLERICAL_CORRECTION,
        n,
        person_id,
        changes,
        CORRECTABLE_FIELDS,
        retroactive=True,
    )


@transaction.atomic
def set_my_number(*, person_id: int, my_number: str, reason: str) -> None:
    """個人番号の記載・変更 (番号の変更請求・職権記載)."""
    problem = my_number_problem(my_number)
    if problem:
        raise _fail(problem, "my_number")
    if not reason.strip():
        raise _fail("理由を入力してください", "reason")
    person = Person.objects.select_for_update().filter(pk=person_id).first()
    if person is None:
        raise ServiceError("住民が見つかりません", field="person", code="not_found")
    _my_number_cells(person, my_number)
    audit_record(
        action=AuditAction.UPDATE,
        target_type="person",
        target_id=person.pk,
        purpose=reason.strip(),
        detail={"field": "個人番号"},
    )


QUALIFICATIONS = {
    "health_insurance": "国民健康保険",
    "late_elderly": "後期高齢者医療",
    "long_term_care": "介護保険",
    "national_pension": "国民年金",
    "child_allowance": "児童手当",
    "elector": "選挙人名簿",
}


@transaction.atomic
def qualification_set(
    *, person_id: int, qualification: str, value: Mapping[str, Any] | None, purpose: str
) -> None:
    """資格の記載: another 業務 (国保, 選挙 …) marks or clears its 資格 on the person.

    Updates the latest entry's marks in place rather than writing a 異動: the 資格 items are
    kept by the other 業務 and shown on the 住民票 for reference, not changed by a 届出 here.
    """
    if qualification not in QUALIFICATIONS:
        raise _fail(f"資格 {qualification!r} はありません", "qualification")
    rec = _locked_latest([person_id])[person_id]
    marks = dict(rec.qualifications)
    if value is None:
        marks.pop(qualification, None)
    else:
        marks[qualification] = dict(value)
    ResidentRecord.objects.filter(pk=rec.pk).update(qualifications=marks)
    audit_record(
        action=AuditAction.UPDATE,
        target_type="person",
        target_id=person_id,
        purpose=purpose,
        detail={"qualification": qualification, "value": dict(value) if value else None},
    )


# --- 取消し ---------------------------------------------------------------------------------


@transaction.atomic
def cancel_movement(*, movement_number: int, reason: str, counter: str = "") -> MovementResult:
    """異動の取消し: restore every touched person to exactly the state before the 異動.

    Only the latest 異動 of each person can be cancelled (later ones first). Persons that the
    cancelled 異動 created are 消除 (取消し). The cancelled rows stay, marked ``cancelled``.
    """
    if not reason.strip():
        raise _fail("取消しの理由を入力してください", "reason")
    movement = Movement.objects.select_for_update().filter(number=movement_number).first()
    if movement is None:
        raise ServiceError(
            f"異動番号 {movement_number} はありません", field="movement", code="not_found"
        )
    if movement.kind == MovementKind.CANCELLATION:
        raise _fail("取消しの異動は取り消せません（誤記修正で対応してください）", "movement")
    if movement.kind == MovementKind.MIGRATION:
        raise _fail(
            "データ移行による記載は取り消せません（誤記修正・職権消除で対応してください）",
            "movement",
        )
    if movement.cancelled_by_id is not None:
        raise _fail("この異動はすでに取り消されています", "movement")
    records = list(movement.records.select_related("person"))
    latest = _locked_latest(r.person_id for r in records)
    for r in records:
        if latest[r.person_id].pk != r.pk:
            raise _fail(
                f"{r.name} にはこの後の異動があります。後の異動から取り消してください", "movement"
            )
    n = Notification(movement.occurred, timezone.localdate(), "", "", counter, reason.strip())
    cancel = _start(MovementKind.CANCELLATION, n, [], cancels=movement)
    before: dict[int, ResidentRecord | None] = {}
    written = []
    for r in records:
        before[r.person_id] = r
        previous = (
            ResidentRecord.objects.filter(person_id=r.person_id, seq__lt=r.seq, cancelled=False)
            .order_by("-seq")
            .first()
        )
        if previous is None:
            values = r.snapshot() | {
                "status": ResidentStatus.REMOVED,
                "removed_reason": "異動の取消し",
                "removed_on": r.effective_from,
            }
            effective = r.effective_from
        else:
            values = previous.snapshot()
            effective = previous.effective_from
        written.append(_write(r.person, cancel, values, effective_from=effective))
    movement.records.update(cancelled=True)
    movement.cancelled_by = cancel
    movement.save(update_fields=["cancelled_by"])
    return _finish(cancel, before, written, f"異動の取消し（{movement.get_kind_display()}）")


def random_resident_code() -> str:
    """A well-formed 住民票コード for synthetic data (the real one comes from 住基ネット)."""
    ten = "".join(secrets.choice("0123456789") for _ in range(10))
    from moyai.registry.rules import resident_code_check_digit

    return ten + str(resident_code_check_digit(ten))


def validate_number(number: str, field_name: str) -> None:
    problem = m11_problem(number)
    if problem:
        raise _fail(problem, field_name)


# --- 住民票の写し ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyOptions:
    """記載事項の選択 (住民基本台帳法第12条第5項): what the requester asked to be included.

    本籍・筆頭者, 世帯主・続柄, 住民票コード and 個人番号 are left out unless asked for; the
    個人番号 only for the person themself or their household (the caller checks the requester).
    """

    domicile: bool = False
    relation: bool = False
    resident_code: bool = False
    my_number: bool = False
    former_surname: bool = True
    alias: bool = True
    previous_address: bool = True


@dataclass(frozen=True)
class CopyResult:
    serial: str
    pdf: bytes
    persons: list[int]


def _copy_row(r: ResidentRecord, options: CopyOptions, my_number: str) -> dict[str, Any]:
    from moyai.registry.rules import format_fuzzy

    western = r.is_foreign
    return {
        "name": r.name,
        "name_kana": r.name_kana,
        "name_roman": r.name_roman,
        "alias": r.alias if options.alias else "",
        "former_surname": r.former_surname if options.former_surname else "",
        "birth": format_fuzzy(r.birth, western=western),
        "sex": r.get_sex_display(),
        "relation": r.relation if options.relation else "",
        "became_resident": format_fuzzy(r.became_resident, western=western),
        "address_set": format_fuzzy(r.address_set, western=western),
        "previous_address": r.previous_address if options.previous_address else "",
        "domicile": r.domicile if options.domicile and not western else "",
        "domicile_head": r.domicile_head if options.domicile and not western else "",
        "resident_code": r.person.resident_code if options.resident_code else "",
        "my_number": my_number,
        "is_foreign": western,
        "nationality": r.nationality,
        "residence_status": r.residence_status,
        "residence_period": r.residence_period,
        "residence_expiry": r.residence_expiry,
        "residence_card_number": r.residence_card_number,
        "article_30_45": r.article_30_45,
        "status": r.get_status_display(),
        "removed_reason": r.removed_reason,
        "removed_on": format_fuzzy(FuzzyDate(r.removed_on), western=western)
        if r.removed_on
        else "",
        "destination": r.destination_confirmed or r.destination_planned,
        "movement": f"{r.movement.get_kind_display()}",
    }


@transaction.atomic
def resident_copy_issue(
    *,
    person_ids: Sequence[int],
    whole_household: bool,
    options: CopyOptions,
    purpose: str,
    requester: str,
) -> CopyResult:
    """住民票の写し（世帯全員・一部）・除票の写しの交付: a signed, numbered PDF.

    ``person_ids`` name one person of the household (``whole_household``) or the chosen
    persons. Persons no longer resident produce a 除票の写し. Every printed person is recorded
    in the audit log with the certificate's serial.
    """
    from moyai.documents.services import document_issue
    from moyai.platform.selectors import municipality_profile
    from moyai.registry import documents as kinds
    from moyai.registry.selectors import my_number_reveal

    if not purpose.strip():
        raise _fail("請求の理由（使用目的）を入力してください", "purpose")
    if not requester.strip():
        raise _fail("請求者（本人・同一世帯員・代理人など）を入力してください", "requester")
    if not person_ids:
        raise _fail("対象の住民を選んでください", "persons")
    latest = _locked_latest(person_ids)
    households = {r.household_number for r in latest.values()}
    if len(households) != 1:
        raise _fail("一通の写しに載せられるのは同じ世帯の人だけです", "persons")
    removed = [r for r in latest.values() if r.status != ResidentStatus.RESIDENT]
    if removed and len(removed) != len(latest):
        raise _fail("住民と除票の人を同じ写しには載せられません", "persons")
    if removed:
        kind = kinds.REMOVED_COPY.code
        rows = sorted(latest.values(), key=lambda r: (r.household_order, r.person_id))
        statement_key = kind
    elif whole_household:
        kind = kinds.RESIDENT_COPY.code
        rows = _household(households.pop())
        statement_key = "household"
    else:
        kind = kinds.RESIDENT_COPY.code
        rows = sorted(latest.values(), key=lambda r: (r.household_order, r.person_id))
        statement_key = "selected"
    if options.my_number and not requester.strip().startswith(("本人", "同一世帯")):
        raise _fail("個人番号入りの写しは本人または同一世帯の人の請求に限ります", "my_number")
    profile = municipality_profile()
    statement = (
        profile.certificate_statements.get(statement_key) or kinds.DEFAULT_STATEMENTS[statement_key]
    )
    numbers = {
        r.person_id: my_number_reveal(
            person_id=r.person_id, purpose=f"住民票の写しへの記載: {purpose}"
        )
        if options.my_number
        else ""
        for r in rows
    }
    head = next((r for r in rows if r.is_head), None) or _household_head(rows[0].household_number)
    first = rows[0]
    context = {
        "persons": [_copy_row(r, options, numbers[r.person_id]) for r in rows],
        "address": first.address,
        "postal_code": first.postal_code,
        "household_number": first.household_number,
        "head_name": head.name if head else first.head_name,
        "show_relation": options.relation,
        "whole_household": statement_key == "household",
        "statement": statement,
        "issuer_title": profile.mayor_title,
        "issuer_name": profile.mayor_name,
        "options": options,
        "requester": requester.strip(),
    }
    result = document_issue(
        kind=kind,
        subject_type="household",
        subject_id=first.household_number,
        template_name="registry/certificate.html",
        context=context,
        purpose=purpose.strip(),
    )
    for r in rows:
        audit_record(
            action=AuditAction.PRINT,
            target_type="person",
            target_id=r.person_id,
            purpose=purpose.strip(),
            detail={
                "serial": result.document.serial,
                "kind": kind,
                "requester": requester.strip(),
                "items": {k: v for k, v in options.__dict__.items() if v},
            },
        )
    return CopyResult(result.document.serial, result.pdf, [r.person_id for r in rows])


ITEM_CHOICES: dict[str, str] = {
    "name": "氏名",
    "name_kana": "フリガナ",
    "birth": "生年月日",
    "sex": "性別",
    "address": "住所",
    "relation": "世帯主との続柄",
    "head_name": "世帯主",
    "became_resident": "住民となった年月日",
    "address_set": "住所を定めた年月日",
    "previous_address": "前住所",
    "domicile": "本籍・筆頭者",
}


@transaction.atomic
def item_certificate_issue(
    *, person_id: int, items: Sequence[str], purpose: str, requester: str
) -> CopyResult:
    """住民票記載事項証明書: certifies only the chosen items of one person's entry."""
    from moyai.documents.services import document_issue
    from moyai.platform.selectors import municipality_profile
    from moyai.registry import documents as kinds
    from moyai.registry.rules import format_fuzzy

    chosen = [i for i in ITEM_CHOICES if i in set(items)]
    unknown = sorted(set(items) - set(ITEM_CHOICES))
    if unknown:
        raise _fail(f"証明できない項目です: {', '.join(unknown)}", "items")
    if not chosen:
        raise _fail("証明する項目を1つ以上選んでください", "items")
    if not purpose.strip():
        raise _fail("請求の理由（使用目的）を入力してください", "purpose")
    if not requester.strip():
        raise _fail("請求者を入力してください", "requester")
    r = _locked_latest([person_id])[person_id]
    if r.status != ResidentStatus.RESIDENT:
        raise _fail(
            "住民でない人の記載事項証明書は交付できません（除票の写しを交付します）", "person"
        )
    western = r.is_foreign
    values = {
        "name": r.name,
        "name_kana": r.name_kana,
        "birth": format_fuzzy(r.birth, western=western),
        "sex": r.get_sex_display(),
        "address": r.address,
        "relation": r.relation,
        "head_name": r.head_name,
        "became_resident": format_fuzzy(r.became_resident, western=western),
        "address_set": format_fuzzy(r.address_set, western=western),
        "previous_address": r.previous_address,
        "domicile": f"{r.domicile}　筆頭者 {r.domicile_head}" if r.domicile else "",
    }
    profile = municipality_profile()
    code = kinds.ITEM_CERTIFICATE.code
    context = {
        "rows": [(ITEM_CHOICES[i], values[i]) for i in chosen],
        "statement": profile.certificate_statements.get(code) or kinds.DEFAULT_STATEMENTS[code],
        "issuer_title": profile.mayor_title,
        "issuer_name": profile.mayor_name,
    }
    result = document_issue(
        kind=code,
        subject_type="person",
        subject_id=person_id,
        template_name="registry/item_certificate.html",
        context=context,
        purpose=purpose.strip(),
    )
    return CopyResult(result.document.serial, result.pdf, [person_id])


def search_keys_refresh(*, municipality: Any, batch_size: int = 2000) -> int:
    """検索キーの再計算: recompute name/kana/alias keys after the folding rules changed.

    Keys are derived data (never the stored name), so this is safe to run at any time; it works
    in batches, each its own transaction, and returns how many rows changed.
    """
    from moyai.platform.tenancy import tenant_context

    changed = 0
    last = 0
    while True:
        with tenant_context(municipality):
            rows = list(
                ResidentRecord.objects.filter(pk__gt=last)
                .order_by("pk")
                .only("pk", "name", "name_kana", "alias", "name_key", "kana_key", "alias_key")[
                    :batch_size
                ]
            )
            if not rows:
                return changed
            stale = []
            for r in rows:
                keys = _keys(r.name, r.name_kana, r.alias)
                if any(getattr(r, k) != v for k, v in keys.items()):
                    for k, v in keys.items():
                        setattr(r, k, v)
                    stale.append(r)
            ResidentRecord.objects.bulk_update(stale, ["name_key", "kana_key", "alias_key"])
            changed += len(stale)
            last = rows[-1].pk
