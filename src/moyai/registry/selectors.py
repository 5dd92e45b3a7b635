"""住民記録の参照: every read of the registry, tenant-scoped and written to the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from moyai.moji.rules import kana_key, name_key
from moyai.platform import crypto
from moyai.platform.audit import audit_record
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction
from moyai.platform.tenancy import current_tenant
from moyai.registry.models import Movement, Person, ResidentRecord, ResidentStatus


@dataclass(frozen=True)
class SearchQuery:
    """窓口の検索条件: any combination; each given condition must match."""

    kana: str = ""
    name: str = ""
    birth_date: str = ""  # YYYY-MM-DD
    address: str = ""
    resident_code: str = ""
    address_number: str = ""
    include_removed: bool = False

    def is_empty(self) -> bool:
        return not any(
            (
                self.kana,
                self.name,
                self.birth_date,
                self.address,
                self.resident_code,
                self.address_number,
            )
        )


def person_search(*, query: SearchQuery, purpose: str, limit: int = 100) -> list[ResidentRecord]:
    """Latest entries matching ``query`` (異体字-insensitive on names, folded カナ)."""
    if query.is_empty():
        raise ServiceError("検索条件を1つ以上入力してください", field="query")
    qs = ResidentRecord.objects.filter(is_latest=True)
    if not query.include_removed:
        qs = qs.filter(status=ResidentStatus.RESIDENT)
    if query.kana:
        qs = qs.filter(kana_key__prefix=kana_key(query.kana))
    if query.birth_date:
        qs = qs.filter(birth_date=query.birth_date)
    if query.address:
        # Each word is the beginning of 町字, 番地 or 方書 (「木古庭 197」 finds 木古庭197番地 but
        # not 1197番地): a prefix can use an index under row-level security, a substring cannot.
        for word in query.address.split():
            qs = qs.filter(
                Q(address_town__prefix=word)
                | Q(address_block__prefix=word)
                | Q(address_building__prefix=word)
            )
    if query.resident_code:
        qs = qs.filter(person__resident_code=query.resident_code)
    if query.address_number:
        qs = qs.filter(person__address_number=query.address_number)
    # Two steps: the page's keys from the (covering) indexes, then the rows of that page.
    order = ("kana_key", "birth_date", "person_id")
    columns = (*order, "id")
    if query.name:
        key = name_key(query.name)
        by_name = qs.filter(name_key__prefix=key).values_list(*columns)
        by_alias = qs.filter(alias_key__prefix=key).exclude(name_key__prefix=key)
        page = list(
            by_name.union(by_alias.values_list(*columns), all=True).order_by(*order)[:limit]
        )
    else:
        page = list(qs.values_list(*columns).order_by(*order)[:limit])
    found = ResidentRecord.objects.select_related("person").in_bulk([p[3] for p in page])
    rows = [found[p[3]] for p in page]
    audit_record(
        action=AuditAction.READ,
        target_type="resident_search",
        purpose=purpose,
        detail={
            "conditions": {k: v for k, v in query.__dict__.items() if v},
            "hits": len(rows),
            "persons": [r.person_id for r in rows[:50]],
        },
    )
    return rows


def person_get(*, person_id: int, purpose: str) -> ResidentRecord:
    """The person's latest 住民票 entry; raises not_found for an id of another municipality."""
    record: ResidentRecord | None = (
        ResidentRecord.objects.select_related("person", "movement")
        .filter(person_id=person_id, is_latest=True)
        .first()
    )
    if record is None:
        raise ServiceError("住民が見つかりません", field="person", code="not_found")
    audit_record(
        action=AuditAction.READ, target_type="person", target_id=person_id, purpose=purpose
    )
    return record


def person_history(*, person_id: int, purpose: str) -> list[ResidentRecord]:
    """Every snapshot of the person, oldest first (cancelled ones included and marked)."""
    rows = list(
        ResidentRecord.objects.select_related("movement", "person")
        .filter(person_id=person_id)
        .order_by("seq")
    )
    if not rows:
        raise ServiceError("住民が見つかりません", field="person", code="not_found")
    audit_record(
        action=AuditAction.READ,
        target_type="person",
        target_id=person_id,
        purpose=purpose,
        detail={"view": "history"},
    )
    return rows


def household_members(
    *, household_number: str, purpose: str, include_removed: bool = False
) -> list[ResidentRecord]:
    qs = ResidentRecord.objects.select_related("person").filter(
        household_number=household_number, is_latest=True
    )
    if not include_removed:
        qs = qs.filter(status=ResidentStatus.RESIDENT)
    rows = list(qs.order_by("household_order", "person_id"))
    if not rows:
        raise ServiceError("世帯が見つかりません", field="household", code="not_found")
    audit_record(
        action=AuditAction.READ,
        target_type="household",
        target_id=household_number,
        purpose=purpose,
        detail={"persons": [r.person_id for r in rows]},
    )
    return rows


def _as_of(on: date, persons: Q | None = None) -> QuerySet[ResidentRecord]:
    """For each person, the snapshot in force on ``on``: the latest (highest 履歴番号)
    non-cancelled row whose 異動日 is on or before ``on``.

    Written as an anti-join (no later qualifying row of the same person) so that the database
    can restrict by ``persons`` first and use the (person, 適用日) index.
    """
    day = on.isoformat()
    later = ResidentRecord.objects.filter(
        person_id=OuterRef("person_id"),
        cancelled=False,
        effective_from__lte=day,
        seq__gt=OuterRef("seq"),
    )
    qs = ResidentRecord.objects.select_related("person").filter(
        cancelled=False, effective_from__lte=day
    )
    if persons is not None:
        qs = qs.filter(persons)
    return qs.filter(~Exists(later))


def person_as_of(*, person_id: int, on: date, purpose: str) -> ResidentRecord | None:
    """The person's entry as it stood on ``on`` (None if not yet in the registry)."""
    if not Person.objects.filter(pk=person_id).exists():
        raise ServiceError("住民が見つかりません", field="person", code="not_found")
    record = _as_of(on, Q(person_id=person_id)).first()
    audit_record(
        action=AuditAction.READ,
        target_type="person",
        target_id=person_id,
        purpose=purpose,
        detail={"as_of": on.isoformat()},
    )
    return record


def household_as_of(*, household_number: str, on: date, purpose: str) -> list[ResidentRecord]:
    """The members living in household ``household_number`` on ``on``."""
    candidates = ResidentRecord.objects.filter(household_number=household_number).values(
        "person_id"
    )
    rows = list(
        _as_of(on, Q(person_id__in=candidates))
        .filter(
            household_number=household_number,
            status=ResidentStatus.RESIDENT,
        )
        .order_by("household_order", "person_id")
    )
    audit_record(
        action=AuditAction.READ,
        target_type="household",
        target_id=household_number,
        purpose=purpose,
        detail={"as_of": on.isoformat(), "persons": [r.person_id for r in rows]},
    )
    return rows


def residents_as_of(
    *, on: date, purpose: str, town_codes: Sequence[str] = (), towns: Sequence[str] = ()
) -> QuerySet[ResidentRecord]:
    """Everyone living in the municipality on ``on`` (optionally in some 町字) — for other
    業務 (課税の賦課期日, 被災者台帳). The caller iterates; the read is audited once."""
    qs = _as_of(on).filter(status=ResidentStatus.RESIDENT)
    if town_codes:
        qs = qs.filter(address_town_code__in=list(town_codes))
    if towns:
        qs = qs.filter(address_town__in=list(towns))
    audit_record(
        action=AuditAction.READ,
        target_type="registry_extract",
        purpose=purpose,
        detail={"as_of": on.isoformat(), "town_codes": list(town_codes), "towns": list(towns)},
    )
    return qs.order_by("household_number", "household_order", "person_id")


def records_as_of(
    *, person_ids: Sequence[int], on: date, purpose: str, audit: bool = True
) -> dict[int, ResidentRecord]:
    """The entries of the given persons as they stood on ``on`` (only those who were in the
    registry then), for another 業務's batch (e.g. 個人住民税: residents on 1 January).
    Audited once for the whole batch; a batch that writes the record itself at the end of its
    transaction passes ``audit=False`` (the audit chain's lock is then held only briefly, so
    parallel workers do not queue behind each other)."""
    rows = {r.person_id: r for r in _as_of(on, Q(person_id__in=list(person_ids)))}
    if not audit:
        return rows
    audit_record(
        action=AuditAction.READ,
        target_type="registry_extract",
        purpose=purpose,
        detail={"as_of": on.isoformat(), "persons": len(person_ids), "found": len(rows)},
    )
    return rows


def movement_get(*, number: int) -> Movement:
    movement: Movement | None = Movement.objects.filter(number=number).first()
    if movement is None:
        raise ServiceError(f"異動番号 {number} はありません", field="movement", code="not_found")
    return movement


def recent_movements(*, limit: int = 50) -> list[Movement]:
    return list(Movement.objects.order_by("-number")[:limit])


def my_number_reveal(*, person_id: int, purpose: str) -> str:
    """個人番号の表示: decrypted only on request, always audited with the purpose."""
    if not purpose.strip():
        raise ServiceError("個人番号を表示する目的を入力してください", field="purpose")
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise ServiceError("住民が見つかりません", field="person", code="not_found")
    audit_record(
        action=AuditAction.READ,
        target_type="person",
        target_id=person_id,
        purpose=purpose.strip(),
        detail={"field": "個人番号"},
    )
    if not person.my_number_cipher:
        return ""
    return crypto.decrypt(
        person.my_number_cipher, bound_to=f"{current_tenant().code}:{person.address_number}"
    )


def person_by_my_number(*, my_number: str, purpose: str) -> ResidentRecord | None:
    """Find a person by 個人番号 (for 税・国保 inputs) through the keyed index."""
    index = crypto.blind_index(my_number, scope=current_tenant().code)
    person = Person.objects.filter(my_number_index=index).first()
    if person is None:
        return None
    return person_get(person_id=person.pk, purpose=purpose)


# --- counts for other apps (割り勘の人口割): aggregates only, no person is returned ---------------


def population_count_as_of(*, on: date) -> int:
    """住民基本台帳人口: how many people lived in the municipality on ``on`` (a count)."""
    return _as_of(on).filter(status=ResidentStatus.RESIDENT).count()


def movement_count(*, start: datetime, end: datetime) -> int:
    """How many 異動 were processed in ``[start, end)`` (a count)."""
    return Movement.objects.filter(processed_at__gte=start, processed_at__lt=end).count()
