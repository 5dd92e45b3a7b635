"""被災者支援: 災害の登録, 被災者台帳の作成と更新, 住家被害認定, り災証明書, 避難所,
支援制度の申請・決定・支払, 台帳情報の提供, 避難行動要支援者.

Every service runs inside the caller's ``tenant_context`` and acting actor; each is atomic and
raises :class:`ServiceError` naming the field with nothing written. Amounts come from
``rules`` (pure functions); this module only gathers their inputs and records the outcome.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from moyai.disaster import rules
from moyai.disaster.models import (
    Application,
    ApplicationStatus,
    CertificateIssue,
    CertificateKind,
    DamageSurvey,
    Disaster,
    Disclosure,
    Dwelling,
    Programme,
    ProgrammeKind,
    Safety,
    Shelter,
    ShelterStay,
    SupportNeed,
    SurveyKind,
    SurveyMethod,
    Victim,
    VictimHousehold,
    VictimStatus,
)
from moyai.platform.audit import audit_record, current_actor
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction
from moyai.platform.outbox import emit
from moyai.platform.tenancy import current_tenant
from moyai.registry.rules import relation_label, wareki

BATCH = 2000
PURPOSE_BUILD = "被災者台帳の作成（災害対策基本法第90条の3）"


def _fail(message: str, field: str, code: str | None = None) -> ServiceError:
    return ServiceError(message, field=field, code=code)


def _get(model: Any, pk: int, label: str, field: str) -> Any:
    row = model.objects.filter(pk=pk).first()
    if row is None:
        raise _fail(f"{label}が見つかりません", field, "not_found")
    return row


def fiscal_year_of(day: date) -> int:
    """The 年度 (April–March) that contains ``day``."""
    return day.year if day.month >= 4 else day.year - 1


# --- 災害 -----------------------------------------------------------------------------------


def _parse_addresses(lines: Iterable[str]) -> list[list[str]]:
    out: list[list[str]] = []
    for i, line in enumerate(lines, 1):
        text = line.replace("\u3000", " ").strip()
        if not text:
            continue
        town, _, block = text.partition(" ")
        if not block.strip():
            raise _fail(f"被災した住所の{i}行目は「町字 番地」の形で入力してください", "addresses")
        out.append([town.strip(), block.strip()])
    return out


@transaction.atomic
def disaster_register(
    *,
    code: str,
    name: str,
    kind: str,
    occurred_on: date,
    towns: Sequence[str],
    addresses: Sequence[str] = (),
    municipalities: Sequence[str] = (),
    relief_act_on: date | None = None,
    support_act_on: date | None = None,
) -> Disaster:
    """災害の登録: the event, the laws applied and the affected 町字 (and addresses)."""
    code, name, kind = code.strip(), name.strip(), kind.strip()
    if not code or len(code) > 30:
        raise _fail("災害コードを入力してください（30文字以内）", "code")
    if not name:
        raise _fail("災害名を入力してください", "name")
    if not kind:
        raise _fail("災害の種類（豪雨・地震など）を入力してください", "kind")
    if occurred_on > timezone.localdate():
        raise _fail("発生日が未来の日付です", "occurred_on")
    clean_towns = sorted({t.strip() for t in towns if t.strip()})
    parsed = _parse_addresses(addresses)
    if not clean_towns and not parsed:
        raise _fail("被災した町字か住所を1つ以上入力してください", "towns")
    for field, on in (("relief_act_on", relief_act_on), ("support_act_on", support_act_on)):
        if on is not None and on < occurred_on:
            raise _fail("法の適用日は発生日以後の日付です", field)
    tenant_code = current_actor().municipality_code
    codes = sorted({c.strip() for c in municipalities if c.strip()} | {tenant_code} - {""})
    if Disaster.objects.filter(code=code).exists():
        raise _fail(f"災害コード {code} はすでに登録されています", "code")
    disaster: Disaster = Disaster.objects.create(
        code=code,
        name=name,
        kind=kind,
        occurred_on=occurred_on,
        baseline_on=occurred_on - timedelta(days=1),
        relief_act=relief_act_on is not None,
        relief_act_on=relief_act_on,
        support_act=support_act_on is not None,
        support_act_on=support_act_on,
        towns=clean_towns,
        addresses=parsed,
        municipalities=codes,
        created_by=current_actor().username,
    )
    audit_record(
        action=AuditAction.CREATE,
        target_type="disaster",
        target_id=disaster.pk,
        purpose="災害の登録",
        detail={"code": code, "towns": clean_towns, "addresses": parsed},
    )
    emit(
        type="disaster.registered",
        subject_type="disaster",
        subject_id=disaster.pk,
        payload={"code": code, "occurred_on": occurred_on.isoformat(), "municipalities": codes},
    )
    programmes_standard(disaster_id=disaster.pk)
    return disaster


@transaction.atomic
def programmes_standard(*, disaster_id: int) -> list[Programme]:
    """The programmes every 災害 under 被災者生活再建支援法 has (基礎・加算, with their deadlines),
    and 個人住民税の減免 with the default rates; created once."""
    disaster: Disaster = _get(Disaster, disaster_id, "災害", "disaster")
    made: list[Programme] = []
    specs: list[tuple[str, str, str, dict[str, Any], date | None, int]] = [
        (
            "resident_tax",
            "個人住民税の減免",
            ProgrammeKind.RESIDENT_TAX,
            rules.RESIDENT_TAX_REDUCTION_DEFAULT,
            None,
            50,
        ),
    ]
    if disaster.support_act:
        specs[:0] = [
            (
                "support_basic",
                "被災者生活再建支援金（基礎支援金）",
                ProgrammeKind.SUPPORT_BASIC,
                {},
                rules.basic_deadline(disaster.occurred_on),
                10,
            ),
            (
                "support_additional",
                "被災者生活再建支援金（加算支援金）",
                ProgrammeKind.SUPPORT_ADDITIONAL,
                {},
                rules.additional_deadline(disaster.occurred_on),
                20,
            ),
        ]
    for code, name, kind, config, deadline, order in specs:
        if Programme.objects.filter(disaster=disaster, code=code).exists():
            continue
        made.append(
            Programme.objects.create(
                disaster=disaster,
                code=code,
                name=name,
                kind=kind,
                config=config,
                deadline=deadline,
                order=order,
            )
        )
    return made


@transaction.atomic
def programme_define(
    *,
    disaster_id: int,
    code: str,
    name: str,
    kind: str,
    config: Mapping[str, Any],
    deadline: date | None = None,
    order: int = 100,
) -> Programme:
    """支援制度の設定: a 義援金 配分の回, a 減免, or the municipality's own top-up."""
    disaster: Disaster = _get(Disaster, disaster_id, "災害", "disaster")
    code, name = code.strip(), name.strip()
    if not code:
        raise _fail("制度コードを入力してください", "code")
    if not name:
        raise _fail("制度名を入力してください", "name")
    try:
        kind = ProgrammeKind(kind)
    except ValueError as exc:
        raise _fail(f"制度の種類 {kind} はありません", "kind") from exc
    try:
        if kind in (ProgrammeKind.DONATION, ProgrammeKind.OWN):
            rules.allocation_rule_from_mapping(config)
        elif kind in (ProgrammeKind.RESIDENT_TAX, ProgrammeKind.INSURANCE):
            rules.reduction_rule_from_mapping(config)
    except rules.RuleInputError as exc:
        raise _fail(exc.message, f"config.{exc.field}") from exc
    if Programme.objects.filter(disaster=disaster, code=code).exists():
        raise _fail(f"制度コード {code} はすでにあります", "code")
    programme: Programme = Programme.objects.create(
        disaster=disaster,
        code=code,
        name=name,
        kind=kind,
        config=dict(config),
        deadline=deadline,
        order=order,
    )
    audit_record(
        action=AuditAction.CREATE,
        target_type="disaster_programme",
        target_id=programme.pk,
        purpose="支援制度の設定",
        detail={"code": code, "kind": str(kind), "config": dict(config)},
    )
    return programme


# --- 被災者台帳の作成 ---------------------------------------------------------------------------

_RECORD_FIELDS = (
    "person_id",
    "person__address_number",
    "person__resident_code",
    "name",
    "name_kana",
    "name_key",
    "kana_key",
    "birth_date",
    "sex",
    "relation_codes",
    "is_head",
    "household_number",
    "household_order",
    "head_name",
    "address_prefecture",
    "address_city",
    "address_town",
    "address_block",
    "address_building",
)


def _age(birth: str, on: date) -> int | None:
    try:
        b = date.fromisoformat(birth)
    except ValueError:
        return None
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def _care_reason(age: int | None, need: SupportNeed | None) -> str:
    """要配慮者（高齢者・障害者・乳幼児その他の特に配慮を要する者）の事由."""
    reasons: list[str] = []
    if need is not None:
        if need.care_level:
            reasons.append(need.care_level)
        if need.disability:
            reasons.append(f"障害（{need.disability}）")
    if age is not None and age >= 65:
        reasons.append("高齢者")
    if age is not None and age < 6:
        reasons.append("乳幼児")
    return "・".join(reasons)


def _area_filter(disaster: Disaster) -> Q:
    q = Q(address_town__in=list(disaster.towns)) if disaster.towns else Q(pk__in=[])
    for town, block in disaster.addresses:
        q |= Q(address_town=town, address_block__startswith=block)
    return q


def _affected_towns(disaster: Disaster) -> list[str]:
    return sorted(set(disaster.towns) | {t for t, _ in disaster.addresses})


def _tax_facts(person_ids: list[int], fiscal_year: int) -> dict[int, tuple[int, int]]:
    """合計所得金額 and 年税額 of the current 個人住民税 assessments (for 減免)."""
    from moyai.tax.resident.models import Assessment

    facts: dict[int, tuple[int, int]] = {}
    for i in range(0, len(person_ids), 5000):
        chunk = person_ids[i : i + 5000]
        for pid, income, total in Assessment.objects.filter(
            fiscal_year=fiscal_year, is_current=True, person_id__in=chunk
        ).values_list("person_id", "total_income", "total"):
            facts[pid] = (income, total)
    return facts


def _buildings(towns: list[str], year: int) -> list[dict[str, Any]]:
    """家屋 (住家: 居宅・共同住宅) of the 固定資産課税台帳 in the affected 町字, in force on
    1 January of ``year``, with their owners."""
    from moyai.tax.property.models import Building
    from moyai.tax.property.services import as_of

    return list(
        Building.objects.filter(
            as_of(year), location__in=towns, house_kind__in=["居宅", "共同住宅"]
        )
        .values(
            "id",
            "location",
            "house_number",
            "house_kind",
            "structure",
            "owner_id",
            "owner__name",
            "owner__address",
            "owner__person_id",
        )
        .order_by("location", "house_number", "id")
    )


@dataclass(frozen=True)
class BuildResult:
    households: int
    victims: int
    dwellings: int
    owners_elsewhere: int


@transaction.atomic
def ledger_build(*, disaster_id: int) -> BuildResult:
    """被災者台帳の作成: every household and person living in the affected area on the 基準日
    (the day before the disaster), the 住家 there and their owners, and income for 減免 — in one
    step, set-based (bulk inserts), inside one transaction."""
    from moyai.registry.selectors import residents_as_of

    disaster: Disaster | None = Disaster.objects.select_for_update().filter(pk=disaster_id).first()
    if disaster is None:
        raise _fail("災害が見つかりません", "disaster", "not_found")
    if disaster.built_at is not None:
        raise _fail("被災者台帳はすでに作成されています（更新は「台帳の更新」で）", "disaster")
    on = disaster.baseline_on
    mid = current_tenant().id
    rows = list(
        residents_as_of(on=on, purpose=PURPOSE_BUILD)
        .filter(_area_filter(disaster))
        .values_list(*_RECORD_FIELDS)
    )
    rows.sort(key=lambda r: (r[11], r[12], r[0]))
    person_ids = [r[0] for r in rows]
    tax_year = fiscal_year_of(on)
    taxes = _tax_facts(person_ids, tax_year)
    needs = {n.person_id: n for n in SupportNeed.objects.all()}  # a small table

    # 住家 by address (町字＋番地), households by 世帯番号.
    dwellings: dict[str, Dwelling] = {}
    households: dict[str, VictimHousehold] = {}
    household_dwelling: dict[str, str] = {}
    person_household: dict[int, str] = {}
    for r in rows:
        hh_no, town = r[11], r[16]
        base = f"{r[14]}{r[15]}{town}{r[17]}"
        full = f"{base} {r[18]}".strip()
        if base not in dwellings:
            dwellings[base] = Dwelling(
                municipality_id=mid,
                disaster=disaster,
                number=len(dwellings) + 1,
                town=town,
                address=base,
            )
        if hh_no not in households:
            households[hh_no] = VictimHousehold(
                municipality_id=mid,
                disaster=disaster,
                number=len(households) + 1,
                household_number=hh_no,
                head_name=r[13] or r[3],
                town=town,
                address=full,
                members=0,
            )
            household_dwelling[hh_no] = base
        households[hh_no].members += 1
        person_household[r[0]] = hh_no

    # 家屋 of the 固定資産課税台帳: the owner's own home joins its 住家; any other house in the
    # area (owner elsewhere, 法人, rented or empty) is a 住家 of its own with its owner.
    owners_elsewhere = 0
    # A town affected only in part (addresses): a house there is in the area when its owner
    # lives in the affected part, or when its 家屋番号 starts with an affected 番地.
    partial: dict[str, list[str]] = defaultdict(list)
    for town, block in disaster.addresses:
        if town not in disaster.towns:
            partial[town].append(block.removesuffix("番地"))
    for b in _buildings(_affected_towns(disaster), on.year):
        hh = person_household.get(b["owner__person_id"]) if b["owner__person_id"] else None
        home = dwellings.get(household_dwelling[hh]) if hh else None
        if (
            b["location"] in partial
            and home is None
            and not any(b["house_number"].startswith(prefix) for prefix in partial[b["location"]])
        ):
            continue
        if home is not None and home.town == b["location"] and home.building_id is None:
            target = home
            target.owner_elsewhere = False
        else:
            key = f"家屋:{b['id']}"
            target = dwellings[key] = Dwelling(
                municipality_id=mid,
                disaster=disaster,
                number=len(dwellings) + 1,
                town=b["location"],
                address=f"{b['location']} 家屋番号{b['house_number']}",
                owner_elsewhere=True,
            )
            owners_elsewhere += 1
        target.building_id = b["id"]
        target.house_number = b["house_number"]
        target.house_kind = b["house_kind"]
        target.structure = b["structure"]
        target.owner_addressee_id = b["owner_id"]
        target.owner_name = b["owner__name"]
        target.owner_address = b["owner__address"]

    Dwelling.objects.bulk_create(list(dwellings.values()), batch_size=BATCH)
    for hh_no, household in households.items():
        household.dwelling_id = dwellings[household_dwelling[hh_no]].pk
    VictimHousehold.objects.bulk_create(list(households.values()), batch_size=BATCH)
    now = timezone.now()
    victims: list[Victim] = []
    for r in rows:
        household = households[r[11]]
        full = f"{r[14]}{r[15]}{r[16]}{r[17]} {r[18]}".strip()
        income, tax = taxes.get(r[0], (None, None))
        victims.append(
            Victim(
                municipality_id=mid,
                disaster=disaster,
                household_id=household.pk,
                person_id=r[0],
                address_number=r[1],
                resident_code=r[2] or "",
                name=r[3],
                name_kana=r[4],
                name_key=r[5],
                kana_key=r[6],
                birth_date=r[7],
                sex=r[8],
                relation=relation_label(r[9]),
                is_head=r[10],
                address=full,
                care_reason=_care_reason(_age(r[7], on), needs.get(r[0])),
                income=income,
                resident_tax=tax,
                tax_year=tax_year if r[0] in taxes else None,
                updated_at=now,
            )
        )
    Victim.objects.bulk_create(victims, batch_size=BATCH)
    disaster.built_at = now
    disaster.built_by = current_actor().username
    disaster.save(update_fields=["built_at", "built_by"])
    result = BuildResult(len(households), len(victims), len(dwellings), owners_elsewhere)
    audit_record(
        action=AuditAction.CREATE,
        target_type="disaster_ledger",
        target_id=disaster.pk,
        purpose=PURPOSE_BUILD,
        detail={"as_of": on.isoformat(), **result.__dict__},
    )
    emit(
        type="disaster.ledger_built",
        subject_type="disaster",
        subject_id=disaster.pk,
        payload={"code": disaster.code, **result.__dict__},
    )
    return result


def build_job_key(disaster_id: int) -> str:
    return f"disaster.build:{disaster_id}"


@transaction.atomic
def ledger_build_request(*, disaster_id: int) -> str:
    """被災者台帳の作成の依頼: record that the ledger is to be built in the background (a large
    area takes longer than a request may last) and return the job key the screen follows. A
    second request while one is waiting changes nothing; a built ledger is refused."""
    from moyai.platform.models import JobRun

    disaster: Disaster | None = Disaster.objects.select_for_update().filter(pk=disaster_id).first()
    if disaster is None:
        raise _fail("災害が見つかりません", "disaster", "not_found")
    if disaster.built_at is not None:
        raise _fail("被災者台帳はすでに作成されています（更新は「台帳の更新」で）", "disaster")
    key = build_job_key(disaster.pk)
    job, created = JobRun.objects.get_or_create(key=key, defaults={"total": 1})
    if not created and job.finished_at is not None:  # a finished build that was rolled back
        JobRun.objects.filter(pk=job.pk).update(done=0, started_at=timezone.now(), finished_at=None)
    audit_record(
        action=AuditAction.CREATE,
        target_type="disaster_ledger_request",
        target_id=disaster.pk,
        purpose=PURPOSE_BUILD,
        detail={"key": key, "again": not created},
    )
    return key


def ledger_build_finished(*, disaster_id: int) -> None:
    """Mark the background build's job finished (the ledger itself is committed by then)."""
    from moyai.platform.models import JobRun

    JobRun.objects.filter(key=build_job_key(disaster_id)).update(done=1, finished_at=timezone.now())


def ledger_summary_count(*, disaster_id: int) -> int:
    """How many 被災者 the ledger holds (no personal data)."""
    return Victim.objects.filter(disaster_id=disaster_id).count()


# --- 異動による更新 -------------------------------------------------------------------------------

_STATUS = {"1": VictimStatus.RESIDENT, "2": VictimStatus.MOVED_OUT, "3": VictimStatus.DECEASED}


@dataclass(frozen=True)
class RefreshResult:
    updated: int
    added: int


def _refresh(disaster: Disaster, person_ids: Sequence[int] | None, purpose: str) -> RefreshResult:
    from moyai.registry.selectors import records_as_of, residents_as_of

    today = timezone.localdate()
    victims = Victim.objects.filter(disaster=disaster)
    if person_ids is not None:
        victims = victims.filter(person_id__in=list(person_ids))
    current = {v.person_id: v for v in victims}
    latest: dict[int, Any] = {}
    ids = list(current)
    for i in range(0, len(ids), 5000):  # one audit row below, not one per chunk
        latest.update(
            records_as_of(person_ids=ids[i : i + 5000], on=today, purpose=purpose, audit=False)
        )
    changed: list[Victim] = []
    now = timezone.now()
    for pid, victim in current.items():
        record = latest.get(pid)
        if record is None:
            continue
        status = _STATUS.get(record.status, VictimStatus.REMOVED)
        residence = victim.residence
        if record.address != victim.address and status == VictimStatus.RESIDENT:
            residence = record.address
        elif status == VictimStatus.MOVED_OUT and record.destination_planned:
            residence = record.destination_confirmed or record.destination_planned
        if (victim.status, victim.name, victim.residence) != (status, record.name, residence):
            victim.status, victim.name, victim.residence = status, record.name, residence
            victim.name_kana, victim.name_key = record.name_kana, record.name_key
            victim.kana_key, victim.updated_at = record.kana_key, now
            if status == VictimStatus.DECEASED and victim.safety == Safety.UNKNOWN:
                victim.safety = Safety.DEAD
            changed.append(victim)
    Victim.objects.bulk_update(
        changed,
        [
            "status",
            "name",
            "name_kana",
            "name_key",
            "kana_key",
            "residence",
            "safety",
            "updated_at",
        ],
        batch_size=BATCH,
    )
    # Born (or entered) into a household of the ledger after the 基準日.
    households = {h.household_number: h for h in VictimHousehold.objects.filter(disaster=disaster)}
    added: list[Victim] = []
    if households:
        qs = residents_as_of(on=today, purpose=purpose)
        # by the persons of an event, or (a full refresh) by the affected area
        qs = (
            qs.filter(person_id__in=list(person_ids))
            if person_ids is not None
            else qs.filter(_area_filter(disaster))
        )
        known = set(Victim.objects.filter(disaster=disaster).values_list("person_id", flat=True))
        for record in qs:
            if record.person_id in known or record.household_number not in households:
                continue
            household = households[record.household_number]
            added.append(
                Victim(
                    municipality_id=disaster.municipality_id,
                    disaster=disaster,
                    household=household,
                    person_id=record.person_id,
                    address_number=record.person.address_number,
                    resident_code=record.person.resident_code,
                    name=record.name,
                    name_kana=record.name_kana,
                    name_key=record.name_key,
                    kana_key=record.kana_key,
                    birth_date=record.birth_date,
                    sex=record.sex,
                    relation=record.relation,
                    is_head=record.is_head,
                    address=record.address,
                    care_reason=_care_reason(_age(record.birth_date, today), None),
                    updated_at=now,
                )
            )
        Victim.objects.bulk_create(added, batch_size=BATCH)
    if changed or added:
        audit_record(
            action=AuditAction.UPDATE,
            target_type="disaster_ledger",
            target_id=disaster.pk,
            purpose=purpose,
            detail={
                "persons_read": len(ids),
                "updated": [v.person_id for v in changed],
                "added": [v.person_id for v in added],
            },
        )
    return RefreshResult(len(changed), len(added))


@transaction.atomic
def ledger_refresh(*, disaster_id: int, person_ids: Sequence[int] | None = None) -> RefreshResult:
    """台帳の更新: apply later 異動 (転出・死亡・転居・出生 …) of the ledger's persons."""
    disaster: Disaster = _get(Disaster, disaster_id, "災害", "disaster")
    if disaster.built_at is None:
        raise _fail("被災者台帳がまだ作成されていません", "disaster")
    return _refresh(disaster, person_ids, "被災者台帳の更新（住民記録の異動）")


# --- 住家被害認定 ---------------------------------------------------------------------------------


@transaction.atomic
def survey_record(
    *,
    dwelling_id: int,
    kind: str,
    method: str,
    surveyed_on: date,
    ratio: str,
    flood_depth_cm: int | None = None,
    requested_by: str = "",
    reason: str = "",
) -> DamageSurvey:
    """住家被害認定調査の結果: 損害割合 → 被害の程度. A 再調査 keeps the earlier results."""
    dwelling: Dwelling | None = Dwelling.objects.select_for_update().filter(pk=dwelling_id).first()
    if dwelling is None:
        raise _fail("住家が見つかりません", "dwelling", "not_found")
    try:
        kind_v = SurveyKind(kind)
    except ValueError as exc:
        raise _fail("調査の種類を選んでください", "kind") from exc
    try:
        method_v = SurveyMethod(method)
    except ValueError as exc:
        raise _fail("判定の方法を選んでください", "method") from exc
    try:
        ratio_v = rules.parse_ratio(ratio)
    except rules.RuleInputError as exc:
        raise _fail(exc.message, "ratio") from exc
    disaster = Disaster.objects.get(pk=dwelling.disaster_id)
    if surveyed_on < disaster.occurred_on or surveyed_on > timezone.localdate():
        raise _fail("調査日は発生日から今日までの日付です", "surveyed_on")
    previous = DamageSurvey.objects.filter(dwelling=dwelling).order_by("-seq").first()
    if kind_v == SurveyKind.RESURVEY:
        if previous is None:
            raise _fail("再調査の前に1次調査の結果を登録してください", "kind")
        if not requested_by.strip() or not reason.strip():
            raise _fail("再調査の申出者と理由を入力してください", "reason")
    elif previous is not None and kind_v == SurveyKind.FIRST:
        raise _fail("1次調査はすでに登録されています（2次調査か再調査を選んでください）", "kind")
    if method_v == SurveyMethod.FLOOD_DEPTH and flood_depth_cm is None:
        raise _fail("浸水深による判定では床上浸水深（cm）を入力してください", "flood_depth_cm")
    if method_v == SurveyMethod.PHOTO and rules.classify_damage(ratio_v) not in (
        rules.DamageLevel.PARTIAL,
        rules.DamageLevel.SEMI_HALF,
    ):
        raise _fail(
            "写真による判定は準半壊・一部損壊の場合に限ります（現地調査をしてください）", "method"
        )
    level = rules.classify_damage(ratio_v)
    survey: DamageSurvey = DamageSurvey.objects.create(
        dwelling=dwelling,
        seq=(previous.seq + 1) if previous else 1,
        kind=kind_v,
        method=method_v,
        surveyed_on=surveyed_on,
        ratio=ratio_v,
        level=level.value,
        flood_depth_cm=flood_depth_cm,
        requested_by=requested_by.strip(),
        reason=reason.strip(),
        surveyor=current_actor().username,
    )
    dwelling.level, dwelling.ratio = level.value, ratio_v
    dwelling.save(update_fields=["level", "ratio"])
    audit_record(
        action=AuditAction.UPDATE,
        target_type="disaster_dwelling",
        target_id=dwelling.pk,
        purpose="住家被害認定調査（災害対策基本法第90条の2）",
        detail={
            "seq": survey.seq,
            "kind": kind_v.value,
            "ratio": ratio_v,
            "level": level.value,
            "previous": previous.level if previous else None,
        },
    )
    emit(
        type="disaster.damage_assessed",
        subject_type="disaster_dwelling",
        subject_id=dwelling.pk,
        payload={"disaster": disaster.code, "level": level.value, "seq": survey.seq},
    )
    return survey


# --- り災証明書・被災証明書 ----------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    serial: str
    pdf: bytes


def certificate_issue(
    *, household_id: int, kind: str, requester: str, purpose: str, content: str = ""
) -> Issued:
    """り災証明書 (住家の被害の程度) or 被災証明書 (住家以外の被害の事実), numbered, signed and
    verifiable; the issue is written to the ledger (交付の状況)."""
    from moyai.disaster import documents as kinds
    from moyai.documents.services import document_issue
    from moyai.platform.selectors import municipality_profile

    with transaction.atomic():
        household: VictimHousehold = _get(VictimHousehold, household_id, "被災世帯", "household")
        try:
            kind_v = CertificateKind(kind)
        except ValueError as exc:
            raise _fail("証明書の種類を選んでください", "kind") from exc
        if not requester.strip():
            raise _fail("申請者を入力してください", "requester")
        if not purpose.strip():
            raise _fail("使用目的を入力してください", "purpose")
        disaster = Disaster.objects.get(pk=household.disaster_id)
        dwelling = Dwelling.objects.filter(pk=household.dwelling_id).first()
        survey = (
            DamageSurvey.objects.filter(dwelling=dwelling).order_by("-seq").first()
            if dwelling
            else None
        )
        if kind_v == CertificateKind.DAMAGE and survey is None:
            raise _fail("住家被害認定調査の結果がないため、り災証明書は発行できません", "household")
        if kind_v == CertificateKind.VICTIM and not content.strip():
            raise _fail("被災の内容（被害を受けたもの）を入力してください", "content")
        members = list(Victim.objects.filter(household=household).order_by("-is_head", "id"))
        level = rules.DamageLevel(survey.level) if survey else None
        profile = municipality_profile()
        document_kind = (
            kinds.DAMAGE_CERTIFICATE
            if kind_v == CertificateKind.DAMAGE
            else kinds.VICTIM_CERTIFICATE
        )
        result = document_issue(
            kind=document_kind.code,
            subject_type="disaster_household",
            subject_id=household.pk,
            template_name="disaster/certificate.html",
            context={
                "kind": kind_v.value,
                "disaster": disaster,
                "occurred": wareki(disaster.occurred_on),
                "household": household,
                "members": members,
                "level": level.label if level else "",
                "surveyed": wareki(survey.surveyed_on) if survey else "",
                "survey_kind": survey.get_kind_display() if survey else "",
                "content": content.strip(),
                "requester": requester.strip(),
                "issuer_title": profile.mayor_title,
                "issuer_name": profile.mayor_name,
            },
            purpose=f"{purpose.strip()}（申請者: {requester.strip()}）",
        )
        CertificateIssue.objects.create(
            household=household,
            kind=kind_v,
            serial=result.document.serial,
            level=level.value if (level and kind_v == CertificateKind.DAMAGE) else "",
            content=content.strip(),
            requester=requester.strip(),
            issued_by=current_actor().username,
        )
    return Issued(result.document.serial, result.pdf)


# --- 世帯の情報 -----------------------------------------------------------------------------------


@transaction.atomic
def household_update(
    *,
    household_id: int,
    residence: str | None = None,
    phone: str | None = None,
    support_members: int | None = None,
    demolished: bool | None = None,
    long_evacuation: bool | None = None,
    note: str | None = None,
) -> VictimHousehold:
    """被災世帯の情報の更新: 居所・連絡先, 支援金の世帯（世帯分離の認定）, 解体・長期避難."""
    household: VictimHousehold = _get(VictimHousehold, household_id, "被災世帯", "household")
    before = {
        "residence": household.residence,
        "phone": household.phone,
        "support_members": household.support_members,
        "demolished": household.demolished,
        "long_evacuation": household.long_evacuation,
    }
    if support_members is not None and not 1 <= support_members <= 99:
        raise _fail("支援金の世帯員数は1人以上です", "support_members")
    if phone is not None and phone and not phone.replace("-", "").isdigit():
        raise _fail("電話番号は数字とハイフンで入力してください", "phone")
    for field, value in (
        ("residence", residence),
        ("phone", phone),
        ("note", note),
        ("support_members", support_members),
        ("demolished", demolished),
        ("long_evacuation", long_evacuation),
    ):
        if value is not None:
            setattr(household, field, value.strip() if isinstance(value, str) else value)
    household.save()
    audit_record(
        action=AuditAction.UPDATE,
        target_type="disaster_household",
        target_id=household.pk,
        purpose="被災者台帳の記載事項の変更",
        detail={"before": before},
    )
    return household


@transaction.atomic
def safety_set(*, victim_id: int, safety: str, consent: bool | None = None) -> Victim:
    """安否の記録 (and the person's consent to disclose it)."""
    victim: Victim = _get(Victim, victim_id, "被災者", "victim")
    try:
        value = Safety(safety)
    except ValueError as exc:
        raise _fail("安否を選んでください", "safety") from exc
    victim.safety, victim.safety_noted_at = value, timezone.now()
    if consent is not None:
        victim.disclosure_consent = consent
    victim.save(update_fields=["safety", "safety_noted_at", "disclosure_consent"])
    audit_record(
        action=AuditAction.UPDATE,
        target_type="disaster_victim",
        target_id=victim.pk,
        purpose="安否の確認",
        detail={"safety": value.value, "consent": consent},
    )
    return victim


DISCLOSURE_BASES = {
    "consent": "本人の同意（第90条の4第1項第1号）",
    "self": "本人への提供（第90条の4第1項第1号）",
    "internal": "内部利用（第90条の4第1項第2号）",
    "municipality": "他の地方公共団体への提供（第90条の4第1項第3号）",
}


@transaction.atomic
def disclosure_record(*, household_id: int, recipient: str, basis: str, items: str) -> Disclosure:
    """台帳情報の提供の記録 (提供先・提供した旨と日時): consent or a basis of 第90条の4."""
    household: VictimHousehold = _get(VictimHousehold, household_id, "被災世帯", "household")
    if basis not in DISCLOSURE_BASES:
        raise _fail("提供の根拠を選んでください", "basis")
    if not recipient.strip():
        raise _fail("提供先を入力してください", "recipient")
    if not items.strip():
        raise _fail("提供した情報を入力してください", "items")
    if (
        basis == "consent"
        and not Victim.objects.filter(household=household, disclosure_consent=True).exists()
    ):
        raise _fail("この世帯には提供への同意がありません", "basis")
    row: Disclosure = Disclosure.objects.create(
        household=household,
        recipient=recipient.strip(),
        basis=DISCLOSURE_BASES[basis],
        items=items.strip(),
        provided_by=current_actor().username,
    )
    audit_record(
        action=AuditAction.EXPORT,
        target_type="disaster_household",
        target_id=household.pk,
        purpose="被災者台帳情報の提供",
        detail={"recipient": row.recipient, "basis": row.basis, "items": row.items},
    )
    return row


# --- 避難所 -------------------------------------------------------------------------------------


@transaction.atomic
def shelter_open(
    *, disaster_id: int, name: str, address: str, capacity: int, opened_on: date
) -> Shelter:
    """避難所の開設."""
    disaster: Disaster = _get(Disaster, disaster_id, "災害", "disaster")
    if not name.strip():
        raise _fail("避難所名を入力してください", "name")
    if capacity < 1:
        raise _fail("収容可能人数は1人以上です", "capacity")
    if opened_on < disaster.occurred_on - timedelta(days=7):
        raise _fail("開設日が発生日より前すぎます", "opened_on")
    if Shelter.objects.filter(disaster=disaster, name=name.strip()).exists():
        raise _fail(f"避難所「{name.strip()}」はすでにあります", "name")
    shelter: Shelter = Shelter.objects.create(
        disaster=disaster,
        name=name.strip(),
        address=address.strip(),
        capacity=capacity,
        opened_on=opened_on,
    )
    audit_record(
        action=AuditAction.CREATE,
        target_type="disaster_shelter",
        target_id=shelter.pk,
        purpose="避難所の開設",
        detail={"name": shelter.name, "capacity": capacity},
    )
    return shelter


@transaction.atomic
def shelter_check_in(
    *,
    shelter_id: int,
    victim_id: int | None = None,
    name: str = "",
    name_kana: str = "",
    birth_date: str = "",
    address: str = "",
    consent: bool = False,
    at: datetime | None = None,
) -> ShelterStay:
    """避難所への入所: a person of the ledger (found by name, reading, birth date or 住民票コード)
    or, for someone not in it, by what they tell."""
    shelter: Shelter | None = Shelter.objects.select_for_update().filter(pk=shelter_id).first()
    if shelter is None:
        raise _fail("避難所が見つかりません", "shelter", "not_found")
    if shelter.closed_on is not None:
        raise _fail("この避難所は閉鎖されています", "shelter")
    at = at or timezone.now()
    victim: Victim | None = None
    if victim_id is not None:
        victim = Victim.objects.filter(pk=victim_id, disaster_id=shelter.disaster_id).first()
        if victim is None:
            raise _fail("被災者が見つかりません", "victim", "not_found")
        if ShelterStay.objects.filter(victim=victim, checked_out_at__isnull=True).exists():
            raise _fail(f"{victim.name} さんはすでに避難所に入所しています", "victim")
        name, name_kana, birth_date = victim.name, victim.name_kana, victim.birth_date
        address = victim.address
    elif not name.strip():
        raise _fail("氏名を入力してください", "name")
    present = ShelterStay.objects.filter(shelter=shelter, checked_out_at__isnull=True).count()
    if present >= shelter.capacity:
        raise _fail(f"{shelter.name}は満員です（収容可能 {shelter.capacity}人）", "shelter")
    stay: ShelterStay = ShelterStay.objects.create(
        shelter=shelter,
        victim=victim,
        name=name.strip(),
        name_kana=name_kana.strip(),
        birth_date=birth_date.strip(),
        address=address.strip(),
        checked_in_at=at,
        disclosure_consent=consent,
        staff=current_actor().username,
    )
    if victim is not None:
        if victim.safety in (Safety.UNKNOWN, Safety.MISSING):
            victim.safety = Safety.SAFE
        victim.safety_noted_at = at
        victim.disclosure_consent = victim.disclosure_consent or consent
        victim.save(update_fields=["safety", "safety_noted_at", "disclosure_consent"])
    audit_record(
        action=AuditAction.CREATE,
        target_type="disaster_victim" if victim else "disaster_shelter_stay",
        target_id=victim.pk if victim else stay.pk,
        purpose="避難所への入所",
        detail={"shelter": shelter.name, "stay": stay.pk},
    )
    return stay


@transaction.atomic
def shelter_check_out(
    *, stay_id: int, destination: str = "", at: datetime | None = None
) -> ShelterStay:
    """避難所からの退所 (退所先を記録; 居所 of the ledger follows)."""
    stay: ShelterStay | None = ShelterStay.objects.select_for_update().filter(pk=stay_id).first()
    if stay is None:
        raise _fail("入所の記録が見つかりません", "stay", "not_found")
    if stay.checked_out_at is not None:
        raise _fail("すでに退所しています", "stay")
    at = at or timezone.now()
    if at < stay.checked_in_at:
        raise _fail("退所日時が入所日時より前です", "at")
    stay.checked_out_at, stay.destination = at, destination.strip()
    stay.save(update_fields=["checked_out_at", "destination"])
    if stay.victim_id and destination.strip():
        Victim.objects.filter(pk=stay.victim_id).update(residence=destination.strip())
    audit_record(
        action=AuditAction.UPDATE,
        target_type="disaster_victim" if stay.victim_id else "disaster_shelter_stay",
        target_id=stay.victim_id or stay.pk,
        purpose="避難所からの退所",
        detail={"stay": stay.pk, "destination": stay.destination},
    )
    return stay


@transaction.atomic
def shelter_close(*, shelter_id: int, closed_on: date) -> Shelter:
    shelter: Shelter = _get(Shelter, shelter_id, "避難所", "shelter")
    if ShelterStay.objects.filter(shelter=shelter, checked_out_at__isnull=True).exists():
        raise _fail("入所中の人がいるため閉鎖できません", "shelter")
    if closed_on < shelter.opened_on:
        raise _fail("閉鎖日が開設日より前です", "closed_on")
    shelter.closed_on = closed_on
    shelter.save(update_fields=["closed_on"])
    audit_record(
        action=AuditAction.UPDATE,
        target_type="disaster_shelter",
        target_id=shelter.pk,
        purpose="避難所の閉鎖",
    )
    return shelter


# --- 支援: 受給資格と金額, 申請・決定・支払 -------------------------------------------------------


@dataclass(frozen=True)
class HouseholdFacts:
    """What the programmes need to know of a household."""

    level: rules.DamageLevel | None
    members: int
    demolished: bool
    long_evacuation: bool
    first_in_dwelling: bool
    taxes: tuple[tuple[int, int | None], ...]  # (年税額, 合計所得金額) per taxed member


@functools.lru_cache(maxsize=64)
def _allocation_rule(config: str) -> rules.AllocationRule:
    """A programme's parsed rule (the gap report asks once per household)."""
    return rules.allocation_rule_from_mapping(json.loads(config))


@functools.lru_cache(maxsize=64)
def _reduction_rule(config: str) -> rules.ReductionRule:
    return rules.reduction_rule_from_mapping(json.loads(config))


def entitlement(
    programme: Programme, facts: HouseholdFacts, *, method: str = "", base_amount: int | None = None
) -> int:
    """The amount (or 減免額) the household is entitled to under ``programme`` (0 = none).

    For 加算支援金 without a method yet, the smallest possible amount (賃借) tells eligibility.
    """
    kind = programme.kind
    category = rules.support_category(
        facts.level, demolished=facts.demolished, long_evacuation=facts.long_evacuation
    )
    if kind == ProgrammeKind.SUPPORT_BASIC:
        return rules.basic_support(category, members=facts.members) if category else 0
    if kind == ProgrammeKind.SUPPORT_ADDITIONAL:
        if category is None:
            return 0
        m = rules.RebuildMethod(method) if method else rules.RebuildMethod.RENT
        return rules.additional_support(category, m, members=facts.members)
    if kind in (ProgrammeKind.DONATION, ProgrammeKind.OWN):
        rule = _allocation_rule(json.dumps(programme.config, sort_keys=True))
        return rules.allocation_amount(
            rule, facts.level, members=facts.members, first_in_dwelling=facts.first_in_dwelling
        )
    if kind == ProgrammeKind.RESIDENT_TAX:
        red = _reduction_rule(json.dumps(programme.config, sort_keys=True))
        return sum(
            rules.reduction_amount(red, facts.level, tax=tax, income=income)
            for tax, income in facts.taxes
        )
    if kind == ProgrammeKind.INSURANCE:
        red = _reduction_rule(json.dumps(programme.config, sort_keys=True))
        if base_amount is None:
            return 1 if rules.reduction_rate(red, facts.level, None) > 0 else 0
        return rules.reduction_amount(red, facts.level, tax=base_amount, income=None)
    return 0


def household_facts(households: Sequence[VictimHousehold]) -> dict[int, HouseholdFacts]:
    """Facts for many households at once (levels from their 住家, taxes of their members).
    Many households (a whole ledger) are read by 災害 rather than by a long list of ids."""
    if not households:
        return {}
    many = len(households) > 500
    disasters = {h.disaster_id for h in households}
    ids = [h.pk for h in households]
    dwelling_ids = {h.dwelling_id for h in households if h.dwelling_id}
    dwellings = Dwelling.objects.filter(disaster_id__in=disasters)
    if not many:
        dwellings = dwellings.filter(pk__in=dwelling_ids)
    levels = dict(dwellings.values_list("pk", "level"))
    first: dict[int, int] = {}
    peers = VictimHousehold.objects.filter(disaster_id__in=disasters)
    if not many:
        peers = peers.filter(dwelling_id__in=dwelling_ids)
    for dwelling_id, pk in peers.order_by("dwelling_id", "number").values_list("dwelling_id", "pk"):
        first.setdefault(dwelling_id, pk)
    taxes: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    members = Victim.objects.filter(disaster_id__in=disasters, resident_tax__gt=0)
    if not many:
        members = members.filter(household_id__in=ids)
    for hid, tax, income in members.values_list("household_id", "resident_tax", "income"):
        taxes[hid].append((tax, income))
    out: dict[int, HouseholdFacts] = {}
    for h in households:
        level = levels.get(h.dwelling_id) if h.dwelling_id else ""
        out[h.pk] = HouseholdFacts(
            level=rules.DamageLevel(level) if level else None,
            members=h.size_for_support,
            demolished=h.demolished,
            long_evacuation=h.long_evacuation,
            first_in_dwelling=h.dwelling_id is not None and first.get(h.dwelling_id) == h.pk,
            taxes=tuple(taxes.get(h.pk, [])),
        )
    return out


def _check_account(
    bank_code: str, branch_code: str, account_type: str, number: str, holder: str
) -> None:
    if not any((bank_code, branch_code, number, holder)):
        return
    if not (len(bank_code) == 4 and bank_code.isdigit()):
        raise _fail("金融機関コードは4桁の数字です", "bank_code")
    if not (len(branch_code) == 3 and branch_code.isdigit()):
        raise _fail("支店コードは3桁の数字です", "branch_code")
    if account_type not in ("1", "2"):
        raise _fail("預金種目は 1（普通）か 2（当座）です", "account_type")
    if not (1 <= len(number) <= 7 and number.isdigit()):
        raise _fail("口座番号は7桁以内の数字です", "account_number")
    if not holder.strip():
        raise _fail("口座名義（カナ）を入力してください", "account_holder_kana")


@transaction.atomic
def application_submit(
    *,
    programme_id: int,
    household_id: int,
    applied_on: date,
    method: str = "",
    base_amount: int | None = None,
    bank_code: str = "",
    branch_code: str = "",
    account_type: str = "1",
    account_number: str = "",
    account_holder_kana: str = "",
) -> Application:
    """支援の申請の受付 (one per household and programme)."""
    programme: Programme = _get(Programme, programme_id, "支援制度", "programme")
    household: VictimHousehold = _get(VictimHousehold, household_id, "被災世帯", "household")
    if household.disaster_id != programme.disaster_id:
        raise _fail("この世帯は制度の災害の台帳にありません", "household")
    if programme.deadline and applied_on > programme.deadline:
        raise _fail(f"申請期限（{wareki(programme.deadline)}）を過ぎています", "applied_on")
    if applied_on > timezone.localdate():
        raise _fail("申請日が未来の日付です", "applied_on")
    if programme.kind == ProgrammeKind.SUPPORT_ADDITIONAL:
        if method not in rules.RebuildMethod.__members__.values():
            raise _fail("住宅の再建方法を選んでください", "method")
    elif method:
        raise _fail("再建方法は加算支援金の申請でだけ入力します", "method")
    if programme.kind == ProgrammeKind.INSURANCE and (base_amount is None or base_amount < 0):
        raise _fail("減免の対象となる保険税（料）額を入力してください", "base_amount")
    _check_account(bank_code, branch_code, account_type, account_number, account_holder_kana)
    if Application.objects.filter(programme=programme, household=household).exists():
        raise _fail("この世帯はこの制度にすでに申請しています（重複申請）", "household")
    application: Application = Application.objects.create(
        programme=programme,
        household=household,
        applied_on=applied_on,
        method=method,
        base_amount=base_amount,
        bank_code=bank_code,
        branch_code=branch_code,
        account_type=account_type if account_number else "",
        account_number=account_number,
        account_holder_kana=account_holder_kana.strip(),
        created_by=current_actor().username,
    )
    audit_record(
        action=AuditAction.CREATE,
        target_type="disaster_household",
        target_id=household.pk,
        purpose=f"{programme.name}の申請",
        detail={"application": application.pk, "method": method},
    )
    return application


@transaction.atomic
def application_decide(
    *, application_id: int, approve: bool, decided_on: date, note: str = ""
) -> Application:
    """支給（減免）の決定・不支給の決定. The amount is computed by the rules, never typed."""
    application: Application | None = (
        Application.objects.select_for_update().filter(pk=application_id).first()
    )
    if application is None:
        raise _fail("申請が見つかりません", "application", "not_found")
    if application.status != ApplicationStatus.APPLIED:
        raise _fail(f"この申請は「{application.get_status_display()}」です", "application")
    if decided_on < application.applied_on:
        raise _fail("決定日が申請日より前です", "decided_on")
    programme = Programme.objects.get(pk=application.programme_id)
    household = VictimHousehold.objects.get(pk=application.household_id)
    facts = household_facts([household])[household.pk]
    amount = entitlement(
        programme, facts, method=application.method, base_amount=application.base_amount
    )
    if approve and amount <= 0:
        raise _fail("被害の程度などから、この世帯は支給（減免）の対象になりません", "approve")
    if not approve and not note.strip():
        raise _fail("不支給の理由を入力してください", "note")
    category = rules.support_category(
        facts.level, demolished=facts.demolished, long_evacuation=facts.long_evacuation
    )
    application.status = ApplicationStatus.APPROVED if approve else ApplicationStatus.REJECTED
    application.amount = amount if approve else 0
    application.category = (
        category.value if category and programme.kind.startswith("support") else ""
    )
    application.decided_on = decided_on
    application.decision_note = note.strip()
    application.save()
    audit_record(
        action=AuditAction.UPDATE,
        target_type="disaster_household",
        target_id=household.pk,
        purpose=f"{programme.name}の決定",
        detail={"application": application.pk, "approve": approve, "amount": application.amount},
    )
    emit(
        type="disaster.support_decided",
        subject_type="disaster_household",
        subject_id=household.pk,
        payload={
            "programme": programme.code,
            "kind": programme.kind,
            "amount": application.amount,
            "approved": approve,
        },
    )
    return application


@transaction.atomic
def payment_record(*, application_ids: Sequence[int], paid_on: date) -> int:
    """支払の記録 (決定済みの申請だけ)."""
    rows = list(Application.objects.select_for_update().filter(pk__in=list(application_ids)))
    if len(rows) != len(set(application_ids)):
        raise _fail("見つからない申請があります", "application_ids", "not_found")
    for a in rows:
        if a.status != ApplicationStatus.APPROVED:
            raise _fail(f"申請 {a.pk} は支給決定されていません", "application_ids")
        if paid_on < (a.decided_on or paid_on):
            raise _fail("支払日が決定日より前です", "paid_on")
    for a in rows:
        a.status, a.paid_on = ApplicationStatus.PAID, paid_on
    Application.objects.bulk_update(rows, ["status", "paid_on"])
    audit_record(
        action=AuditAction.UPDATE,
        target_type="disaster_payment",
        target_id=paid_on.isoformat(),
        purpose="支援の支払の記録",
        detail={
            "applications": sorted(a.pk for a in rows),
            "total": sum(a.amount or 0 for a in rows),
        },
    )
    return len(rows)


PAYMENT_COLUMNS = [
    "り災番号",
    "世帯主氏名",
    "制度",
    "金融機関コード",
    "支店コード",
    "預金種目",
    "口座番号",
    "口座名義",
    "支払金額",
]


def payment_file(*, programme_id: int) -> tuple[str, bytes]:
    """振込データ: the approved, unpaid applications of a programme as UTF-8 CSV (with BOM for
    spreadsheet software). Applications without an account are left out (listed in the 抜け
    report as 未払). Audited as an export."""
    programme: Programme = _get(Programme, programme_id, "支援制度", "programme")
    rows = list(
        Application.objects.select_related("household")
        .filter(programme=programme, status=ApplicationStatus.APPROVED)
        .exclude(account_number="")
        .order_by("household__number")
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(PAYMENT_COLUMNS)
    for a in rows:
        writer.writerow(
            [
                a.household.number_label,
                a.household.head_name,
                programme.name,
                a.bank_code,
                a.branch_code,
                a.account_type,
                a.account_number.zfill(7),
                a.account_holder_kana,
                a.amount,
            ]
        )
    audit_record(
        action=AuditAction.EXPORT,
        target_type="disaster_programme",
        target_id=programme.pk,
        purpose="支援の振込データの作成",
        detail={"rows": len(rows), "total": sum(a.amount or 0 for a in rows)},
    )
    name = f"振込データ_{programme.code}_{timezone.localdate().isoformat()}.csv"
    return name, ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- 避難行動要支援者 ---------------------------------------------------------------------------

CARE_LEVELS = ("", "要支援1", "要支援2", "要介護1", "要介護2", "要介護3", "要介護4", "要介護5")


@transaction.atomic
def support_need_set(
    *,
    person_id: int,
    care_level: str = "",
    disability: str = "",
    self_nominated: bool = False,
    consent: str | None = None,
    consent_on: date | None = None,
) -> SupportNeed:
    """避難行動要支援者の情報（介護・障害の区分, 手上げ, 名簿情報の提供への同意）の登録."""
    from moyai.registry.selectors import person_get

    if care_level not in CARE_LEVELS:
        raise _fail("要介護度を選んでください", "care_level")
    if consent is not None and consent not in ("unknown", "yes", "no"):
        raise _fail("同意の状況を選んでください", "consent")
    if consent in ("yes", "no") and consent_on is None:
        raise _fail("同意を確認した日を入力してください", "consent_on")
    person_get(person_id=person_id, purpose="避難行動要支援者名簿の作成（第49条の10）")
    need: SupportNeed
    need, _ = SupportNeed.objects.get_or_create(person_id=person_id)
    need.care_level, need.disability = care_level, disability.strip()
    need.self_nominated = self_nominated
    if consent is not None:
        need.consent, need.consent_on = consent, consent_on
    need.updated_at = timezone.now()
    need.save()
    audit_record(
        action=AuditAction.UPDATE,
        target_type="person",
        target_id=person_id,
        purpose="避難行動要支援者の情報の登録",
        detail={"care_level": care_level, "disability": need.disability, "consent": need.consent},
    )
    return need
