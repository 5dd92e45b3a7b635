"""被災者支援: reads for the screens and the API (personal data reads are audited)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from moyai.disaster import rules
from moyai.disaster.models import (
    Application,
    ApplicationStatus,
    CertificateIssue,
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
    Victim,
    VictimHousehold,
    VictimStatus,
)
from moyai.disaster.services import build_job_key, entitlement, household_facts
from moyai.moji.rules import kana_key, name_key
from moyai.platform.audit import audit_record
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction, JobRun

PURPOSE = "被災者台帳による援護の実施"


def disasters() -> list[Disaster]:
    return list(Disaster.objects.order_by("-occurred_on", "-id"))


def disaster_get(*, disaster_id: int) -> Disaster:
    disaster: Disaster | None = Disaster.objects.filter(pk=disaster_id).first()
    if disaster is None:
        raise ServiceError("災害が見つかりません", field="disaster", code="not_found")
    return disaster


@dataclass(frozen=True)
class LedgerSummary:
    households: int
    victims: int
    dwellings: int
    surveyed: int
    by_level: list[tuple[str, int]]
    safety: list[tuple[str, int]]
    in_shelters: int
    certificates: int
    programmes: list[Programme]


def build_job(*, disaster: Disaster) -> JobRun | None:
    """The waiting background build of ``disaster``'s ledger, if one was requested (no personal
    data: when it started)."""
    return JobRun.objects.filter(key=build_job_key(disaster.pk), finished_at__isnull=True).first()


def ledger_summary(*, disaster: Disaster) -> LedgerSummary:
    """Counts (no personal data)."""
    levels = Counter(
        dict(
            Dwelling.objects.filter(disaster=disaster)
            .exclude(level="")
            .values_list("level")
            .annotate(n=Count("id"))
            .values_list("level", "n")
        )
    )
    safety = dict(
        Victim.objects.filter(disaster=disaster)
        .values_list("safety")
        .annotate(n=Count("id"))
        .values_list("safety", "n")
    )
    return LedgerSummary(
        households=VictimHousehold.objects.filter(disaster=disaster).count(),
        victims=Victim.objects.filter(disaster=disaster).count(),
        dwellings=Dwelling.objects.filter(disaster=disaster).count(),
        surveyed=sum(levels.values()),
        by_level=[(lv.label, levels.get(lv.value, 0)) for lv in rules.LEVEL_ORDER],
        safety=[(s.label, safety.get(s.value, 0)) for s in Safety],
        in_shelters=ShelterStay.objects.filter(
            shelter__disaster=disaster, checked_out_at__isnull=True
        ).count(),
        certificates=CertificateIssue.objects.filter(household__disaster=disaster).count(),
        programmes=list(Programme.objects.filter(disaster=disaster).order_by("order", "id")),
    )


def household_list(
    *, disaster: Disaster, town: str = "", level: str = "", query: str = "", limit: int = 200
) -> list[VictimHousehold]:
    """被災世帯の一覧 (町字・被害の程度・氏名／り災番号で絞り込み)."""
    qs = VictimHousehold.objects.select_related("dwelling").filter(disaster=disaster)
    if town:
        qs = qs.filter(town=town)
    if level:
        qs = qs.filter(dwelling__level=level)
    q = query.strip()
    if q:
        if q.isdigit():
            qs = qs.filter(number=int(q))
        else:
            ids = (
                Victim.objects.filter(disaster=disaster)
                .filter(Q(name_key__startswith=name_key(q)) | Q(kana_key__startswith=kana_key(q)))
                .values("household_id")
            )
            qs = qs.filter(pk__in=ids)
    rows = list(qs.order_by("number")[:limit])
    audit_record(
        action=AuditAction.READ,
        target_type="disaster_ledger",
        target_id=disaster.pk,
        purpose=PURPOSE,
        detail={"town": town, "level": level, "query": bool(q), "rows": len(rows)},
    )
    return rows


@dataclass
class HouseholdDetail:
    household: VictimHousehold
    disaster: Disaster
    members: list[Victim]
    dwelling: Dwelling | None
    surveys: list[DamageSurvey]
    certificates: list[CertificateIssue]
    applications: list[Application]
    disclosures: list[Disclosure]
    entitlements: list[tuple[Programme, int]]
    stays: list[ShelterStay] = field(default_factory=list)


def household_get(*, household_id: int, purpose: str = PURPOSE) -> HouseholdDetail:
    """被災者台帳の1世帯: 世帯の構成, 住家と被害, 証明書の交付, 援護の実施の状況, 提供の記録."""
    household: VictimHousehold | None = VictimHousehold.objects.filter(pk=household_id).first()
    if household is None:
        raise ServiceError("被災世帯が見つかりません", field="household", code="not_found")
    disaster = Disaster.objects.get(pk=household.disaster_id)
    dwelling = Dwelling.objects.filter(pk=household.dwelling_id).first()
    members = list(Victim.objects.filter(household=household).order_by("-is_head", "id"))
    facts = household_facts([household])[household.pk]
    programmes = list(Programme.objects.filter(disaster=disaster).order_by("order", "id"))
    audit_record(
        action=AuditAction.READ,
        target_type="disaster_household",
        target_id=household.pk,
        purpose=purpose,
        detail={"persons": [m.person_id for m in members]},
    )
    return HouseholdDetail(
        household=household,
        disaster=disaster,
        members=members,
        dwelling=dwelling,
        surveys=list(DamageSurvey.objects.filter(dwelling=dwelling).order_by("seq"))
        if dwelling
        else [],
        certificates=list(
            CertificateIssue.objects.filter(household=household).order_by("issued_at")
        ),
        applications=list(
            Application.objects.select_related("programme")
            .filter(household=household)
            .order_by("programme__order", "id")
        ),
        disclosures=list(Disclosure.objects.filter(household=household).order_by("provided_at")),
        entitlements=[(p, entitlement(p, facts)) for p in programmes],
        stays=list(
            ShelterStay.objects.select_related("shelter")
            .filter(victim__household=household)
            .order_by("checked_in_at")
        ),
    )


def dwelling_get(*, dwelling_id: int) -> tuple[Dwelling, list[DamageSurvey], list[VictimHousehold]]:
    dwelling: Dwelling | None = Dwelling.objects.filter(pk=dwelling_id).first()
    if dwelling is None:
        raise ServiceError("住家が見つかりません", field="dwelling", code="not_found")
    audit_record(
        action=AuditAction.READ,
        target_type="disaster_dwelling",
        target_id=dwelling.pk,
        purpose="住家被害認定調査",
    )
    return (
        dwelling,
        list(DamageSurvey.objects.filter(dwelling=dwelling).order_by("seq")),
        list(VictimHousehold.objects.filter(dwelling=dwelling).order_by("number")),
    )


def dwelling_list(
    *, disaster: Disaster, town: str = "", unsurveyed: bool = False, limit: int = 200
) -> list[Dwelling]:
    qs = Dwelling.objects.filter(disaster=disaster)
    if town:
        qs = qs.filter(town=town)
    if unsurveyed:
        qs = qs.filter(level="")
    rows = list(qs.order_by("number")[:limit])
    audit_record(
        action=AuditAction.READ,
        target_type="disaster_dwelling_list",
        target_id=disaster.pk,
        purpose="住家被害認定調査",
        detail={"rows": len(rows)},
    )
    return rows


def victim_find(
    *,
    disaster: Disaster,
    name: str = "",
    kana: str = "",
    birth_date: str = "",
    resident_code: str = "",
    purpose: str,
    limit: int = 50,
) -> list[Victim]:
    """被災者の検索 (氏名・フリガナ・生年月日・住民票コード), e.g. at a shelter's reception."""
    if not any(s.strip() for s in (name, kana, birth_date, resident_code)):
        raise ServiceError(
            "氏名・フリガナ・生年月日・住民票コードのどれかを入力してください", field="name"
        )
    qs = Victim.objects.select_related("household").filter(disaster=disaster)
    if name.strip():
        qs = qs.filter(name_key__startswith=name_key(name.strip()))
    if kana.strip():
        qs = qs.filter(kana_key__startswith=kana_key(kana.strip()))
    if birth_date.strip():
        qs = qs.filter(birth_date=birth_date.strip())
    if resident_code.strip():
        qs = qs.filter(resident_code=resident_code.strip())
    rows = list(qs.order_by("kana_key", "id")[:limit])
    audit_record(
        action=AuditAction.READ,
        target_type="disaster_victim_search",
        target_id=disaster.pk,
        purpose=purpose,
        detail={"persons": [v.person_id for v in rows]},
    )
    return rows


@dataclass(frozen=True)
class SafetyAnswer:
    """A 安否 answer: only the items the law allows for the inquirer (None = not answered)."""

    found: bool
    name: str
    safety: str | None
    injury: str | None
    whereabouts: str | None
    contact: str | None


def safety_inquiry(
    *,
    disaster: Disaster,
    name: str,
    birth_date: str,
    inquirer: str,
    inquirer_name: str,
    reason: str,
) -> SafetyAnswer:
    """安否情報の照会への回答 (第86条の15). Recorded in the audit log with who asked and why."""
    try:
        who = rules.Inquirer(inquirer)
    except ValueError as exc:
        raise ServiceError("照会者の区分を選んでください", field="inquirer") from exc
    if not inquirer_name.strip() or not reason.strip():
        raise ServiceError("照会者の氏名と照会の理由を入力してください", field="inquirer_name")
    if not name.strip() or not birth_date.strip():
        raise ServiceError("被照会者の氏名と生年月日を入力してください", field="name")
    victim = (
        Victim.objects.filter(
            disaster=disaster, name_key=name_key(name.strip()), birth_date=birth_date.strip()
        )
        .order_by("id")
        .first()
    )
    audit_record(
        action=AuditAction.READ,
        target_type="disaster_victim" if victim else "disaster_safety_inquiry",
        target_id=victim.pk if victim else disaster.pk,
        purpose="安否情報の照会への回答（第86条の15）",
        detail={
            "inquirer": inquirer_name.strip(),
            "relation": who.value,
            "reason": reason.strip(),
            "found": victim is not None,
        },
    )
    if victim is None:
        return SafetyAnswer(False, name.strip(), None, None, None, None)
    scope = rules.safety_answer_scope(who, consented=victim.disclosure_consent)
    stay = (
        ShelterStay.objects.select_related("shelter")
        .filter(victim=victim, checked_out_at__isnull=True)
        .first()
    )
    where = f"{stay.shelter.name}（避難所）" if stay else (victim.residence or "")
    injured = victim.safety in (Safety.INJURED, Safety.DEAD)
    return SafetyAnswer(
        True,
        victim.name,
        "安否情報あり",
        (victim.get_safety_display() if injured else "負傷・疾病の情報なし")
        if scope.injury
        else None,
        where if scope.whereabouts else None,
        victim.household.phone if scope.contact else None,
    )


@dataclass(frozen=True)
class ShelterDay:
    shelter: Shelter
    present: int
    days: list[tuple[date, int]]


def occupancy(*, disaster: Disaster, start: date, end: date) -> list[ShelterDay]:
    """避難者数: per shelter, the persons present now and on each day (at any time of it)."""
    if end < start or (end - start).days > 366:
        raise ServiceError("期間の指定が正しくありません", field="end")
    shelters = list(Shelter.objects.filter(disaster=disaster).order_by("name"))
    stays: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    present: Counter[int] = Counter()
    for shelter_id, inn, out in ShelterStay.objects.filter(shelter__disaster=disaster).values_list(
        "shelter_id", "checked_in_at", "checked_out_at"
    ):
        stays[shelter_id].append(
            (timezone.localtime(inn).date(), timezone.localtime(out).date() if out else None)
        )
        if out is None:
            present[shelter_id] += 1
    out_rows: list[ShelterDay] = []
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    for s in shelters:
        counts = [
            (d, sum(1 for inn, out in stays[s.pk] if inn <= d and (out is None or out >= d)))
            for d in days
        ]
        out_rows.append(ShelterDay(s, present[s.pk], counts))
    return out_rows


def shelter_detail(*, shelter_id: int) -> tuple[Shelter, list[ShelterStay]]:
    shelter: Shelter | None = Shelter.objects.filter(pk=shelter_id).first()
    if shelter is None:
        raise ServiceError("避難所が見つかりません", field="shelter", code="not_found")
    stays = list(
        ShelterStay.objects.filter(shelter=shelter, checked_out_at__isnull=True).order_by(
            "checked_in_at"
        )
    )
    audit_record(
        action=AuditAction.READ,
        target_type="disaster_shelter",
        target_id=shelter.pk,
        purpose="避難所の入所者の確認",
        detail={"rows": len(stays)},
    )
    return shelter, stays


def programme_settings(programme: Programme) -> list[tuple[str, str]]:
    """A programme's configuration as (項目, 内容) rows in Japanese (no personal data): the
    配分の式 of a 義援金 or 団体独自の支援, the 減免の割合 of a 減免; 支援金 follow the law."""
    kind = programme.kind
    try:
        if kind in (ProgrammeKind.DONATION, ProgrammeKind.OWN):
            return rules.describe_allocation(rules.allocation_rule_from_mapping(programme.config))
        if kind in (ProgrammeKind.RESIDENT_TAX, ProgrammeKind.INSURANCE):
            return rules.describe_reduction(rules.reduction_rule_from_mapping(programme.config))
    except rules.RuleInputError as exc:
        return [("設定の誤り", exc.message)]
    return [("支給額", "被災者生活再建支援法の定める額（設定は不要）")]


def programme_applications(*, programme: Programme) -> list[Application]:
    """A programme's applications with their households (申請・決定・支払の一覧)."""
    rows = list(
        Application.objects.select_related("household")
        .filter(programme=programme)
        .order_by("household__number")
    )
    audit_record(
        action=AuditAction.READ,
        target_type="disaster_programme",
        target_id=programme.pk,
        purpose="支援の申請・決定・支払の確認",
        detail={"rows": len(rows)},
    )
    return rows


# --- 抜け・漏れ・落ち ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GapRow:
    household: VictimHousehold
    programme: Programme
    entitled: int
    status: str  # 未申請 / 未決定 / 未払
    overdue: bool  # 申請期限を過ぎた（未申請）


@dataclass(frozen=True)
class GapReport:
    rows: list[GapRow]
    unlocated: list[Victim]
    counts: dict[str, int]


def gap_report(*, disaster: Disaster, today: date | None = None) -> GapReport:
    """抜け・漏れ・落ち: households that qualify for a programme but have not applied (未申請),
    are not decided (未決定) or not paid (未払); persons not yet located (no shelter, no 安否)."""
    today = today or timezone.localdate()
    households = list(VictimHousehold.objects.filter(disaster=disaster).order_by("number"))
    facts = household_facts(households)
    programmes = list(Programme.objects.filter(disaster=disaster).order_by("order", "id"))
    applications = {
        (a.programme_id, a.household_id): a
        for a in Application.objects.filter(programme__disaster=disaster)
    }
    rows: list[GapRow] = []
    for p in programmes:
        for h in households:
            a = applications.get((p.pk, h.pk))
            if a is None:
                amount = entitlement(p, facts[h.pk])
                if amount > 0:
                    overdue = p.deadline is not None and today > p.deadline
                    rows.append(GapRow(h, p, amount, "未申請", overdue))
            elif a.status == ApplicationStatus.APPLIED:
                rows.append(
                    GapRow(
                        h,
                        p,
                        entitlement(p, facts[h.pk], method=a.method, base_amount=a.base_amount),
                        "未決定",
                        False,
                    )
                )
            elif (
                a.status == ApplicationStatus.APPROVED
                and (a.amount or 0) > 0
                and p.kind in ("support_basic", "support_additional", "donation", "own")
            ):
                rows.append(GapRow(h, p, a.amount or 0, "未払", False))
    in_shelter = ShelterStay.objects.filter(
        shelter__disaster=disaster, checked_out_at__isnull=True, victim__isnull=False
    ).values("victim_id")
    unlocated = list(
        Victim.objects.select_related("household")
        .filter(
            disaster=disaster,
            safety__in=[Safety.UNKNOWN, Safety.MISSING],
            status=VictimStatus.RESIDENT,
        )
        .exclude(pk__in=in_shelter)
        .order_by("household__number", "id")
    )
    counts = Counter(r.status for r in rows)
    audit_record(
        action=AuditAction.READ,
        target_type="disaster_gap_report",
        target_id=disaster.pk,
        purpose="支援漏れの確認（抜け・漏れ・落ち）",
        detail={**counts, "unlocated": len(unlocated)},
    )
    return GapReport(rows, unlocated, {**counts, "所在未確認": len(unlocated)})


# --- 避難行動要支援者名簿 -------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterEntry:
    person_id: int
    name: str
    birth_date: str
    sex: str
    address: str
    reasons: list[str]
    consent: str


@dataclass(frozen=True)
class Roster:
    normal: list[RosterEntry]  # 平常時（同意した人だけ）
    disaster_time: list[RosterEntry]  # 災害時（同意の有無によらない）

    @property
    def disaster_only(self) -> list[RosterEntry]:
        ids = {e.person_id for e in self.normal}
        return [e for e in self.disaster_time if e.person_id not in ids]


def support_roster(*, on: date, purpose: str) -> Roster:
    """避難行動要支援者名簿 from 住民記録 (age, household composition) and the 介護・障害 facts."""
    from moyai.registry.selectors import residents_as_of

    needs = {n.person_id: n for n in SupportNeed.objects.all()}
    records = list(
        residents_as_of(on=on, purpose=purpose).values_list(
            "person_id",
            "name",
            "birth_date",
            "sex",
            "household_number",
            "address_prefecture",
            "address_city",
            "address_town",
            "address_block",
            "address_building",
        )
    )
    ages: dict[int, int | None] = {}
    by_household: dict[str, list[int]] = defaultdict(list)
    for r in records:
        try:
            b = date.fromisoformat(r[2])
            ages[r[0]] = on.year - b.year - ((on.month, on.day) < (b.month, b.day))
        except ValueError:
            ages[r[0]] = None
        by_household[r[4]].append(r[0])
    entries: list[RosterEntry] = []
    for r in records:
        need = needs.get(r[0])
        age = ages[r[0]] or 0
        members = by_household[r[4]]
        facts = rules.CareFacts(
            age=age,
            living_alone=len(members) == 1,
            elderly_only_household=all((ages[m] or 0) >= 75 for m in members),
            care_level=need.care_level if need else "",
            disability=need.disability if need else "",
            self_nominated=need.self_nominated if need else False,
        )
        reasons = rules.support_need_reasons(facts)
        if reasons:
            address = f"{r[5]}{r[6]}{r[7]}{r[8]} {r[9]}".strip()
            entries.append(
                RosterEntry(
                    r[0], r[1], r[2], r[3], address, reasons, need.consent if need else "unknown"
                )
            )
    return Roster([e for e in entries if e.consent == "yes"], entries)
