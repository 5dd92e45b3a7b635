"""個人住民税: parameters, 課税資料 (import, 名寄せ, 申告), assessment runs, 更正, 試算.

Every service runs inside the caller's ``tenant_context``; each is atomic and raises
:class:`ServiceError` naming the field with nothing written. Assessment is chunked and
idempotent: a person whose merged inputs and parameter version are unchanged is skipped, so a
re-run writes only what changed; a changed assessment after the 当初 becomes a 更正 that keeps
the previous one as history and revises only the 期別 still to come.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, BinaryIO

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from moyai.moji.matching import PROBABLE, SAME, PersonFacts, match
from moyai.moji.rules import kana_key
from moyai.platform import crypto
from moyai.platform.audit import audit_record, current_actor
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction, JobRun, Municipality
from moyai.platform.outbox import emit
from moyai.platform.tenancy import current_tenant
from moyai.registry.models import Person, ResidentRecord, ResidentStatus
from moyai.registry.selectors import records_as_of
from moyai.tax.common.rules import (
    DueDateCalendar,
    InstallmentPlan,
    due_dates,
    installment_plan_from_mapping,
)
from moyai.tax.common.rules import RuleInputError as CommonRuleInputError
from moyai.tax.common.services import (
    check_fiscal_year,
    check_shard,
    input_digest,
    insert_rows,
    run_assessment,
)
from moyai.tax.resident import inputs, reports, rules, schedule, selectors
from moyai.tax.resident.models import (
    Assessment,
    AssessmentReason,
    Collection,
    DocumentKind,
    Employer,
    MatchStatus,
    Nontaxable,
    TaxDocument,
    TaxParameters,
)

RESOLVED = (MatchStatus.MY_NUMBER, MatchStatus.NAYOSE, MatchStatus.MANUAL)
ASSESS_PURPOSE = "個人住民税の賦課（賦課期日現在の住民）"
_NONTAXABLE = {
    rules.Exemption.NONE: Nontaxable.NONE,
    rules.Exemption.INCOME_LEVY: Nontaxable.INCOME_LEVY,
    rules.Exemption.FULL: Nontaxable.ALL,
}


_digest = input_digest


def _check_year(fiscal_year: int) -> None:
    check_fiscal_year(fiscal_year, rules.SUPPORTED_FISCAL_YEARS)


# --- 税率等（条例） -------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearSetup:
    """What an assessment of one 年度 needs besides the person: the parameter version in
    force, the rules' parameter object, the 普通徴収 納期 and the tenant's holidays."""

    row: TaxParameters
    params: rules.ResidentTaxParams
    plan: InstallmentPlan
    calendar: DueDateCalendar
    ordinary_due: tuple[date, ...]  # the plan's 納期限 in this 年度, rolled forward once


def _setup(row: TaxParameters) -> YearSetup:
    params = rules.params_from_mapping(rules.national_defaults(row.fiscal_year), row.overrides)
    plan = (
        installment_plan_from_mapping(row.installment_plan)
        if row.installment_plan
        else InstallmentPlan.national_default_resident(row.fiscal_year)
    )
    calendar = DueDateCalendar(frozenset(date.fromisoformat(d) for d in row.holidays))
    due = tuple(due_dates(plan, row.fiscal_year, calendar))
    return YearSetup(row, params, plan, calendar, due)


def _params_values(params: rules.ResidentTaxParams) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(params).items()}


def parameters_in_force(*, fiscal_year: int) -> YearSetup:
    """The current parameter version of ``fiscal_year`` for a write that must refer to it
    (賦課, 更正, a new version): version 1 = the national defaults, created here on first use
    under the actor of that write. Screens and 試算 read ``selectors.parameters_current``,
    which writes nothing."""
    _check_year(fiscal_year)
    row = TaxParameters.objects.filter(fiscal_year=fiscal_year).order_by("-version").first()
    if row is None:
        try:
            with transaction.atomic():
                return _parameters_save(fiscal_year, {}, {}, [], "全国標準（初期値）")
        except IntegrityError:  # another worker created version 1 at the same moment
            row = TaxParameters.objects.filter(fiscal_year=fiscal_year).order_by("-version").first()
            assert row is not None
    return _setup(row)


@transaction.atomic
def _parameters_save(
    fiscal_year: int,
    overrides: Mapping[str, Any],
    installment_plan: Mapping[str, Any],
    holidays: Sequence[str],
    note: str,
) -> YearSetup:
    try:
        params = rules.params_from_mapping(rules.national_defaults(fiscal_year), overrides)
        if installment_plan:
            installment_plan_from_mapping(installment_plan)
    except (rules.RuleInputError, CommonRuleInputError) as exc:
        raise ServiceError(exc.message, field=exc.field) from None
    days = []
    for i, text in enumerate(holidays):
        try:
            days.append(date.fromisoformat(str(text)).isoformat())
        except ValueError:
            raise ServiceError(
                f"休日は西暦の年-月-日で入力してください（例: 2026-04-01）: {text}",
                field=f"holidays[{i}]",
            ) from None
    last = (
        TaxParameters.objects.select_for_update()
        .filter(fiscal_year=fiscal_year)
        .aggregate(v=Max("version"))["v"]
        or 0
    )
    values = _params_values(params)
    row = TaxParameters.objects.create(
        fiscal_year=fiscal_year,
        version=last + 1,
        overrides=dict(overrides),
        values=values,
        installment_plan=dict(installment_plan),
        holidays=sorted(set(days)),
        digest=_digest([values, dict(installment_plan), sorted(set(days))]),
        note=note,
        created_by=current_actor().username,
    )
    audit_record(
        action=AuditAction.UPDATE,
        target_type="resident_tax_parameters",
        target_id=f"{fiscal_year}-{row.version}",
        purpose=note or "個人住民税の税率等の設定",
        detail={"overrides": dict(overrides), "installment_plan": dict(installment_plan)},
    )
    return _setup(row)


def parameters_update(
    *,
    fiscal_year: int,
    overrides: Mapping[str, Any],
    installment_plan: Mapping[str, Any] | None = None,
    holidays: Sequence[str] | None = None,
    note: str,
) -> YearSetup:
    """A new parameter version (条例改正): assessments made from now on use it; existing ones
    keep theirs until a re-run, which then re-assesses everyone it changes."""
    _check_year(fiscal_year)
    if not note.strip():
        raise ServiceError("変更の理由（条例の改正など）を入力してください", field="note")
    current = parameters_in_force(fiscal_year=fiscal_year).row
    return _parameters_save(
        fiscal_year,
        overrides,
        current.installment_plan if installment_plan is None else installment_plan,
        current.holidays if holidays is None else holidays,
        note,
    )


# --- 課税資料: 名寄せ -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Identified:
    status: MatchStatus
    person_id: int | None
    score: float | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)


def _facts(record: ResidentRecord) -> PersonFacts:
    return PersonFacts(
        name=record.name,
        kana=record.name_kana,
        birth_date=record.birth_date,
        birth_date_unknown=record.birth_date_unknown,
        address=record.address,
    )


def _identify(
    *,
    my_number: str,
    name: str,
    kana: str,
    birth_date: str,
    address: str,
    january_first: date,
) -> Identified:
    """Who a 課税資料 is about: by 個人番号, else by 名寄せ among the persons born that day (or
    with that reading when the birth date is missing); then whether they lived here on
    1 January (otherwise the document belongs to another municipality: 回送)."""
    person_id: int | None = None
    status = MatchStatus.UNMATCHED
    score: float | None = None
    candidates: list[dict[str, Any]] = []
    if my_number:
        index = crypto.blind_index(my_number, scope=current_tenant().code)
        person_id = (
            Person.objects.filter(my_number_index=index).values_list("pk", flat=True).first()
        )
        if person_id is not None:
            status, score = MatchStatus.MY_NUMBER, 1.0
    if person_id is None and (birth_date or kana):
        facts = PersonFacts(name=name, kana=kana, birth_date=birth_date, address=address)
        pool = ResidentRecord.objects.filter(is_latest=True)
        if birth_date:
            pool = pool.filter(birth_date=birth_date)
        else:
            pool = pool.filter(kana_key=kana_key(kana))
        scored = sorted(
            ((match(facts, _facts(r)), r) for r in pool[:200]),
            key=lambda pair: -pair[0].score,
        )
        candidates = [
            {
                "person_id": r.person_id,
                "score": m.score,
                "verdict": m.verdict.label,
                "reasons": list(m.reasons),
            }
            for m, r in scored[:5]
            if m.score >= PROBABLE
        ]
        sure = [pair for pair in scored if pair[0].score >= SAME]
        if len(sure) == 1:
            status, person_id, score = MatchStatus.NAYOSE, sure[0][1].person_id, sure[0][0].score
        elif candidates:
            status, score = MatchStatus.PENDING, candidates[0]["score"]
    if person_id is not None and not _resident_on(person_id, january_first):
        status = MatchStatus.NOT_RESIDENT
    return Identified(status, person_id, score, candidates)


def _resident_on(person_id: int, day: date) -> bool:
    record = records_as_of(person_ids=[person_id], on=day, purpose=ASSESS_PURPOSE).get(person_id)
    return record is not None and record.status == ResidentStatus.RESIDENT


# --- 課税資料: 支払報告書の取込み -----------------------------------------------------------------


@dataclass
class ReportImport:
    """The outcome of reading a 支払報告書 file: every problem, and what was (or would be)
    written."""

    file_name: str
    kind: str
    dry_run: bool
    records: int = 0
    problems: list[reports.Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    employers: int = 0
    written: bool = False

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def _employer(payer: reports.Payer, designated: str) -> Employer:
    number = designated or payer.number or f"名称:{payer.name}"[:20]
    employer: Employer
    employer, created = Employer.objects.get_or_create(
        designation_number=number,
        defaults={"corporate_number": payer.number, "name": payer.name, "address": payer.address},
    )
    if not created and (employer.name, employer.address) != (payer.name, payer.address):
        employer.name, employer.address = payer.name, payer.address
        employer.save(update_fields=["name", "address"])
    return employer


def reports_import(
    *, fiscal_year: int, kind: str, stream: BinaryIO, file_name: str, dry_run: bool
) -> ReportImport:
    """Read a 給与支払報告書 or 公的年金等支払報告書 CSV and file each record as a 課税資料,
    matched to a resident; all or nothing (any error: nothing is written).

    A record marked 訂正 replaces the same payer's earlier document about the same person.
    """
    _check_year(fiscal_year)
    if kind not in (DocumentKind.SALARY, DocumentKind.PENSION):
        raise ServiceError("資料の種類は給与支払報告書か公的年金等支払報告書です", field="kind")
    reader = reports.read_salary_reports if kind == DocumentKind.SALARY else None
    try:
        parsed = (reader or reports.read_pension_reports)(stream)
    except reports.ReportFileError as exc:
        raise ServiceError(str(exc), field="file") from None
    result = ReportImport(file_name, kind, dry_run, records=len(parsed.records))
    result.problems.extend(parsed.all_problems())
    for record in parsed.records:
        report = record.report
        if report is not None and report.year not in (None, fiscal_year - 1):
            result.problems.append(
                reports.Problem(
                    record.line,
                    None,
                    "年分",
                    str(report.year),
                    f"{rules.wareki_nendo(fiscal_year)}の課税資料は{fiscal_year - 1}年分です",
                )
            )
    if not result.ok:
        return result
    with transaction.atomic():
        result = _file_reports(result, parsed, fiscal_year, kind)
        if dry_run:
            transaction.set_rollback(True)
            result.written = False
    return result


def _file_reports(
    result: ReportImport, parsed: reports.ReportFile, fiscal_year: int, kind: str
) -> ReportImport:
    january_first = date(fiscal_year, 1, 1)
    actor = current_actor().username
    employers: dict[str, Employer] = {}
    counts: dict[str, int] = defaultdict(int)
    for record in parsed.records:
        report = record.report
        assert report is not None
        key = report.designated_number or report.payer.number or report.payer.name
        if kind == DocumentKind.SALARY and key not in employers:
            employers[key] = _employer(report.payer, report.designated_number)
        employer = employers.get(key)
        birth = report.birth_date.isoformat() if report.birth_date else ""
        found = _identify(
            my_number=report.my_number,
            name=report.name,
            kana=report.kana,
            birth_date=birth,
            address=report.address,
            january_first=january_first,
        )
        if isinstance(report, reports.SalaryReport):
            values = inputs.salary_values(report)
            ordinary = report.ordinary_collection or report.otsu
        else:
            values, ordinary = inputs.pension_values(report), True
        if report.correction and found.person_id is not None:
            TaxDocument.objects.filter(
                fiscal_year=fiscal_year,
                kind=kind,
                person_id=found.person_id,
                employer=employer,
                superseded=False,
            ).update(superseded=True)
        TaxDocument.objects.create(
            fiscal_year=fiscal_year,
            kind=kind,
            person_id=found.person_id,
            match=found.status,
            match_score=found.score,
            candidates=found.candidates,
            employer=employer,
            ordinary_collection=ordinary,
            name=report.name[:100],
            kana=report.kana[:100],
            birth_date=birth,
            address=report.address[:300],
            my_number_index=crypto.blind_index(report.my_number, scope=current_tenant().code)
            if report.my_number
            else "",
            values=values,
            source=result.file_name[:200],
            source_line=record.line,
            received_by=actor,
        )
        counts[found.status] += 1
    result.counts = dict(counts)
    result.employers = len(employers)
    result.written = True
    audit_record(
        action=AuditAction.CREATE,
        target_type="resident_tax_documents",
        purpose=f"{DocumentKind(kind).label}の受付（{result.file_name}）",
        detail={"fiscal_year": fiscal_year, "records": result.records, "counts": result.counts},
    )
    return result


def document_assign(*, document_id: int, person_id: int, note: str) -> TaxDocument:
    """The clerk decides whom a queued 課税資料 is about (from the candidates or a search)."""
    document: TaxDocument
    with transaction.atomic():
        document = _queued(document_id)
        if not Person.objects.filter(pk=person_id).exists():
            raise ServiceError("住民が見つかりません", field="person", code="not_found")
        if not note.strip():
            raise ServiceError("判断の根拠を入力してください", field="note")
        document.person_id = person_id
        document.match = MatchStatus.MANUAL
        document.save(update_fields=["person", "match"])
        audit_record(
            action=AuditAction.UPDATE,
            target_type="resident_tax_document",
            target_id=document.pk,
            purpose="課税資料の名寄せ",
            detail={"person_id": person_id, "note": note},
        )
    return document


def document_forward(*, document_id: int, note: str) -> TaxDocument:
    """Mark a queued 課税資料 as not ours (the person did not live here on 1 January: 回送)."""
    document: TaxDocument
    with transaction.atomic():
        document = _queued(document_id)
        if document.match == MatchStatus.NOT_RESIDENT:
            raise ServiceError("この課税資料はすでに回送の扱いです", field="document")
        if not note.strip():
            raise ServiceError("回送先や理由を入力してください", field="note")
        document.match = MatchStatus.NOT_RESIDENT
        document.save(update_fields=["match"])
        audit_record(
            action=AuditAction.UPDATE,
            target_type="resident_tax_document",
            target_id=document.pk,
            purpose="課税資料の回送",
            detail={"note": note},
        )
    return document


def _queued(document_id: int) -> TaxDocument:
    document: TaxDocument | None = (
        TaxDocument.objects.select_for_update().filter(pk=document_id).first()
    )
    if document is None:
        raise ServiceError("課税資料が見つかりません", field="document", code="not_found")
    if document.match in RESOLVED:
        raise ServiceError("この課税資料はすでに名寄せ済みです", field="document")
    return document


def declaration_record(
    *, person_id: int, fiscal_year: int, values: Mapping[str, Any], kind: str, note: str = ""
) -> TaxDocument:
    """A 住民税申告 entered at the counter (or 確定申告 data): a complete description of the
    person's incomes and deductions, validated by the rules before it is kept."""
    _check_year(fiscal_year)
    if kind not in (DocumentKind.DECLARATION, DocumentKind.RETURN):
        raise ServiceError("申告の種類が正しくありません", field="kind")
    record = ResidentRecord.objects.filter(person_id=person_id, is_latest=True).first()
    if record is None:
        raise ServiceError("住民が見つかりません", field="person", code="not_found")
    data = {k: v for k, v in values.items() if v not in (None, "")}
    merged = inputs.merge(
        [inputs.Document(0, kind, data)],
        fiscal_year=fiscal_year,
        birth=record.birth.as_date(),
        sex=record.sex,
    )
    try:
        rules.taxpayer_from_mapping(merged)
    except rules.RuleInputError as exc:
        raise ServiceError(exc.message, field=exc.field) from None
    document: TaxDocument
    with transaction.atomic():
        document = TaxDocument.objects.create(
            fiscal_year=fiscal_year,
            kind=kind,
            person_id=person_id,
            match=MatchStatus.MANUAL,
            match_score=1.0,
            name=record.name[:100],
            kana=record.name_kana[:100],
            birth_date=record.birth_date,
            address=record.address[:300],
            values=data,
            source=note[:200] or "窓口",
            received_by=current_actor().username,
            ordinary_collection=True,
        )
        audit_record(
            action=AuditAction.CREATE,
            target_type="resident_tax_document",
            target_id=document.pk,
            purpose=f"{DocumentKind(kind).label}の受付",
            detail={"person_id": person_id, "fiscal_year": fiscal_year},
        )
    return document


# --- 賦課 -----------------------------------------------------------------------------------------


@dataclass
class RunResult:
    fiscal_year: int
    persons: int = 0
    written: int = 0
    unchanged: int = 0
    not_resident: int = 0
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (person, field, msg)
    job: JobRun | None = None


def _taxpayer_mapping(docs: Sequence[dict[str, Any]], record: ResidentRecord, year: int) -> Any:
    return inputs.merge(
        [inputs.Document(d["id"], d["kind"], d["values"], d["received_order"]) for d in docs],
        fiscal_year=year,
        birth=record.birth.as_date(),
        sex=record.sex,
    )


def _collection(docs: Sequence[dict[str, Any]], total: int) -> tuple[Collection, int | None]:
    if total == 0:
        return Collection.NONE, None
    special = [d for d in docs if d["kind"] == DocumentKind.SALARY and not d["ordinary"]]
    if not special:
        return Collection.ORDINARY, None
    main = max(special, key=lambda d: int(d["values"].get("salary_revenue", 0)))
    return Collection.SPECIAL, main["employer_id"]


def _periods(
    setup: YearSetup,
    collection: Collection,
    total: int,
    previous: Assessment | None,
    today: date,
) -> list[dict[str, Any]]:
    year = setup.row.fiscal_year
    if collection == Collection.NONE:
        return []
    if collection == Collection.SPECIAL:
        fresh = schedule.special_schedule(total, year)
    else:
        fresh = schedule.ordinary_periods(total, setup.plan, setup.ordinary_due)
    if previous is None or previous.collection != collection or not previous.installments:
        return [p.as_dict() for p in fresh]
    old = [schedule.Period.of(p) for p in previous.installments]
    if not any(p.due < today for p in old):
        return [p.as_dict() for p in fresh]
    revised = schedule.revise(old, total, today)
    out = [p.as_dict() for p in revised.installments]
    if revised.refund:
        out.append({"label": "過誤納（還付）", "due": today.isoformat(), "amount": -revised.refund})
    return out


def _reason(previous: Assessment | None, after_initial: bool) -> AssessmentReason:
    if not after_initial:
        return AssessmentReason.INITIAL
    return AssessmentReason.ADDITIONAL if previous is None else AssessmentReason.CORRECTION


def _assess_persons(
    person_ids: Sequence[int],
    setup: YearSetup,
    result: RunResult,
    *,
    reason_after_initial: bool,
    note: str = "",
) -> list[Assessment]:
    """Assess ``person_ids`` (one transaction is the caller's): skip the unchanged, supersede
    the changed, write the new ones in bulk."""
    year = setup.row.fiscal_year
    today = timezone.localdate()
    docs_by_person: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for d in (
        TaxDocument.objects.filter(
            fiscal_year=year, person_id__in=person_ids, superseded=False, match__in=RESOLVED
        )
        .order_by("received_at", "id")
        .values("id", "person_id", "kind", "values", "ordinary_collection", "employer_id")
    ):
        d["received_order"] = len(docs_by_person[d["person_id"]])
        d["ordinary"] = d.pop("ordinary_collection")
        docs_by_person[d["person_id"]].append(d)
    records = records_as_of(
        person_ids=person_ids, on=date(year, 1, 1), purpose=ASSESS_PURPOSE, audit=False
    )
    # Only what the comparison needs; a changed person's 期別 load on demand (corrections only).
    current = {
        a.person_id: a
        for a in Assessment.objects.filter(
            fiscal_year=year, person_id__in=person_ids, is_current=True
        ).only("id", "person_id", "seq", "digest", "collection")
    }
    actor = current_actor().username
    tenant_id = current_tenant().id
    new: list[Assessment] = []
    for person_id in person_ids:
        record = records.get(person_id)
        if record is None or record.status != ResidentStatus.RESIDENT:
            result.not_resident += 1
            continue
        docs = docs_by_person.get(person_id, [])
        mapping = _taxpayer_mapping(docs, record, year)
        digest = _digest([mapping, setup.row.digest])
        previous = current.get(person_id)
        if previous is not None and previous.digest == digest:
            result.unchanged += 1
            continue
        try:
            outcome = rules.assess(rules.taxpayer_from_mapping(mapping), setup.params)
        except rules.RuleInputError as exc:
            result.problems.append((person_id, exc.field, exc.message))
            continue
        collection, employer_id = _collection(docs, outcome.total)
        new.append(
            Assessment(
                municipality_id=tenant_id,
                person_id=person_id,
                fiscal_year=year,
                seq=(previous.seq + 1) if previous else 1,
                is_current=True,
                reason=_reason(previous, reason_after_initial),
                params=setup.row,
                inputs=mapping,
                digest=digest,
                nontaxable=_NONTAXABLE[outcome.exemption],
                total_income=outcome.total_income,
                taxable_income=outcome.taxable_income,
                city_income_levy=outcome.income_levy.city,
                pref_income_levy=outcome.income_levy.prefecture,
                city_per_capita=outcome.per_capita.city,
                pref_per_capita=outcome.per_capita.prefecture,
                forest_tax=outcome.forest_environment_tax,
                total=outcome.total,
                collection=collection,
                employer_id=employer_id,
                installments=_periods(setup, collection, outcome.total, previous, today),
                documents=[d["id"] for d in docs],
                created_by=actor,
                note=note,
            )
        )
    changed = [a.person_id for a in new if a.seq > 1]
    if changed:
        Assessment.objects.filter(fiscal_year=year, person_id__in=changed, is_current=True).update(
            is_current=False
        )
    insert_rows(Assessment, new)
    # Audited last, so that the chain's lock is held only until the commit that follows.
    audit_record(
        action=AuditAction.READ,
        target_type="registry_extract",
        purpose=ASSESS_PURPOSE,
        detail={
            "as_of": date(year, 1, 1).isoformat(),
            "persons": len(person_ids),
            "found": len(records),
            "assessed": len(new),
        },
    )
    result.persons += len(person_ids)
    result.written += len(new)
    if new:
        emit(
            type="resident_tax.assessed",
            subject_type="resident_tax_year",
            subject_id=str(year),
            payload={
                "fiscal_year": year,
                "persons": [a.person_id for a in new],
                "corrections": changed,
            },
        )
    return new


def _liable(fiscal_year: int) -> list[int]:
    """Persons with a 課税資料 filed for ``fiscal_year`` (their residence on 1 January is
    checked per chunk against the registry as of that day)."""
    return list(
        TaxDocument.objects.filter(fiscal_year=fiscal_year, superseded=False, match__in=RESOLVED)
        .order_by("person_id")
        .values_list("person_id", flat=True)
        .distinct()
    )


def assessment_run(
    *,
    municipality: Municipality,
    fiscal_year: int,
    chunk_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
    job_key: str | None = None,
    shard: tuple[int, int] = (0, 1),
    initial: bool | None = None,
) -> RunResult:
    """賦課: assess everyone with 課税資料 who lived here on 1 January, ``chunk_size`` persons
    per transaction; resumable (``job_key``), and a re-run changes only what changed. Once the
    当初 has been decided (any assessment exists), a change is a 更正.

    ``shard=(i, n)`` takes every n-th person from the i-th, so that n workers (processes or
    machines) share one run; the caller then decides ``initial`` once for all of them (else a
    shard that starts late would see the others' assessments and call its own 随時課税).
    """
    from moyai.platform.tenancy import tenant_context

    index, count = check_shard(shard)
    with tenant_context(municipality):
        _check_year(fiscal_year)
        setup = parameters_in_force(fiscal_year=fiscal_year)
        persons = _liable(fiscal_year)[index::count]
        if initial is None:
            initial = not Assessment.objects.filter(fiscal_year=fiscal_year).exists()
    after_initial = not initial
    result = RunResult(fiscal_year)
    result.job = run_assessment(
        municipality=municipality,
        prefix="resident_tax",
        fiscal_year=fiscal_year,
        items=persons,
        assess=lambda part: _assess_persons(
            part, setup, result, reason_after_initial=after_initial
        ),
        chunk_size=chunk_size,
        progress=progress,
        job_key=job_key,
        shard=shard,
        purpose=f"{rules.wareki_nendo(fiscal_year)} 個人住民税の賦課",
        detail=lambda: {
            "persons": result.persons,
            "written": result.written,
            "unchanged": result.unchanged,
            "not_resident": result.not_resident,
            "problems": result.problems[:100],
            "parameters_version": setup.row.version,
        },
    )
    return result


def assessment_correct(*, person_id: int, fiscal_year: int, note: str) -> Assessment | None:
    """更正 of one person (after a late 申告 or a corrected 支払報告書): re-assess now; returns
    the new assessment, or None when nothing changed."""
    if not note.strip():
        raise ServiceError("更正の理由を入力してください", field="note")
    setup = parameters_in_force(fiscal_year=fiscal_year)
    result = RunResult(fiscal_year)
    with transaction.atomic():
        new = _assess_persons([person_id], setup, result, reason_after_initial=True, note=note)
        if result.problems:
            _, field_name, message = result.problems[0]
            raise ServiceError(message, field=field_name)
        if result.not_resident:
            raise ServiceError(
                f"{fiscal_year}年1月1日に住民ではありません（課税資料は回送します）",
                field="person",
            )
        audit_record(
            action=AuditAction.UPDATE,
            target_type="resident_tax_assessment",
            target_id=person_id,
            purpose=note,
            detail={"fiscal_year": fiscal_year, "changed": bool(new)},
        )
    return new[0] if new else None


# --- 説明と試算 -----------------------------------------------------------------------------------


def explain(assessment: Assessment) -> rules.ResidentTaxAssessment:
    """The step-by-step computation behind a stored assessment, recomputed from its inputs and
    its parameter version; raises if the figures no longer match (the rules changed since)."""
    params = rules.params_from_mapping(
        rules.national_defaults(assessment.fiscal_year), assessment.params.overrides
    )
    outcome = rules.assess(rules.taxpayer_from_mapping(assessment.inputs), params)
    if outcome.total != assessment.total:
        raise ServiceError(
            f"現在の規則で再計算すると年税額が {outcome.total:,}円 になり、記録（"
            f"{assessment.total:,}円）と一致しません。再賦課してください。",
            field="assessment",
            code="stale",
        )
    return outcome


def outcome_dict(outcome: rules.ResidentTaxAssessment) -> dict[str, Any]:
    """An assessment as JSON-ready data (for the API and ``moyai tax simulate --json``)."""
    return {
        "fiscal_year": outcome.fiscal_year,
        "nendo": rules.wareki_nendo(outcome.fiscal_year),
        "total_income": outcome.total_income,
        "taxable_income": outcome.taxable_income,
        "exemption": outcome.exemption.value,
        "exemption_label": outcome.exemption.label,
        "income_levy": {
            "city": outcome.income_levy.city,
            "prefecture": outcome.income_levy.prefecture,
        },
        "per_capita": {
            "city": outcome.per_capita.city,
            "prefecture": outcome.per_capita.prefecture,
        },
        "forest_environment_tax": outcome.forest_environment_tax,
        "total": outcome.total,
        "trace": outcome.trace.as_list(),
    }


def simulate(
    *, fiscal_year: int, data: Mapping[str, Any], municipality: Municipality | None = None
) -> rules.ResidentTaxAssessment:
    """試算: the tax of a described person under the municipality's parameters in force (or
    the national standard), stored nowhere. Exactly the computation of a real assessment."""
    _check_year(fiscal_year)
    try:
        taxpayer = rules.taxpayer_from_mapping(data)
        if municipality is None:
            params = rules.national_defaults(fiscal_year)
        else:
            from moyai.platform.tenancy import tenant_context

            with tenant_context(municipality):
                params = selectors.parameters_current(fiscal_year=fiscal_year).params
        return rules.assess(taxpayer, params)
    except rules.RuleInputError as exc:
        raise ServiceError(exc.message, field=exc.field) from None


# --- 帳票（証明書・通知書） ---------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    serial: str
    pdf: bytes


def _current(person_id: int, fiscal_year: int) -> Assessment:
    assessment: Assessment | None = (
        Assessment.objects.select_related("params", "employer")
        .filter(person_id=person_id, fiscal_year=fiscal_year, is_current=True)
        .first()
    )
    if assessment is None:
        raise ServiceError(
            f"{rules.wareki_nendo(fiscal_year)}の課税がありません", field="person", code="not_found"
        )
    return assessment


def _record(person_id: int, on: date) -> ResidentRecord:
    record = records_as_of(person_ids=[person_id], on=on, purpose="個人住民税の帳票").get(person_id)
    if record is None:
        raise ServiceError("住民が見つかりません", field="person", code="not_found")
    return record


def _income_rows(outcome: rules.ResidentTaxAssessment) -> list[tuple[str, int]]:
    rows = []
    for step in outcome.trace:
        if (
            step.key.startswith("income.")
            and step.key not in ("income.total", "income.gross")
            and step.amount
        ):
            rows.append((step.label, step.amount))
    return rows


def _deduction_rows(outcome: rules.ResidentTaxAssessment) -> list[tuple[str, int]]:
    labels = {s.key: s.label for s in outcome.trace}
    return [(labels.get(key, key), amount) for key, amount in outcome.deduction_items if amount]


def certificate_issue(*, person_id: int, fiscal_year: int, purpose: str, requester: str) -> Issued:
    """課税（所得）証明書: the current assessment of ``fiscal_year`` with its incomes and
    deductions, numbered, signed and verifiable like every certificate."""
    from moyai.documents.services import document_issue
    from moyai.platform.selectors import municipality_profile
    from moyai.registry.rules import format_fuzzy, wareki
    from moyai.tax.resident import documents as kinds

    if not purpose.strip():
        raise ServiceError("請求の理由（使用目的）を入力してください", field="purpose")
    if not requester.strip():
        raise ServiceError("請求者を入力してください", field="requester")
    assessment = _current(person_id, fiscal_year)
    outcome = explain(assessment)
    january_first = date(fiscal_year, 1, 1)
    record = _record(person_id, january_first)
    spouse = 1 if assessment.inputs.get("spouse") else 0
    dependants = len(assessment.inputs.get("dependants", []))
    profile = municipality_profile()
    result = document_issue(
        kind=kinds.INCOME_CERTIFICATE.code,
        subject_type="person",
        subject_id=person_id,
        template_name="resident_tax/certificate.html",
        context={
            "nendo": rules.wareki_nendo(fiscal_year),
            "income_year": f"{wareki(date(fiscal_year - 1, 1, 1))[:-5]}分",
            "as_of": wareki(january_first),
            "name": record.name,
            "address": record.address,
            "birth": format_fuzzy(record.birth, western=record.is_foreign),
            "assessment": assessment,
            "nontaxable": assessment.get_nontaxable_display() if assessment.nontaxable else "",
            "incomes": _income_rows(outcome),
            "deductions": outcome.deductions,
            "deduction_items": _deduction_rows(outcome),
            "family": f"配偶者 {spouse}人・扶養親族 {dependants}人",
            "issuer_title": profile.mayor_title,
            "issuer_name": profile.mayor_name,
        },
        purpose=f"{purpose.strip()}（請求者: {requester.strip()}）",
    )
    return Issued(result.document.serial, result.pdf)


def _wareki_day(text: str) -> str:
    from moyai.registry.rules import wareki

    return wareki(date.fromisoformat(text))


def tax_notice_issue(*, person_id: int, fiscal_year: int, purpose: str) -> Issued:
    """納税通知書（普通徴収）: the year's tax, its computation and the 期別 with due dates."""
    from moyai.documents.services import document_issue
    from moyai.registry.rules import wareki
    from moyai.tax.resident import documents as kinds

    assessment = _current(person_id, fiscal_year)
    if assessment.collection != Collection.ORDINARY:
        raise ServiceError(
            "普通徴収の人ではありません（特別徴収は特別徴収義務者に通知します）",
            field="person",
        )
    outcome = explain(assessment)
    record = _record(person_id, date(fiscal_year, 1, 1))
    keys = {
        "income.total",
        "deduction.total",
        "taxable_income",
        "income_levy.city",
        "income_levy.prefecture",
        "per_capita.city",
        "per_capita.prefecture",
        "total",
    }
    result = document_issue(
        kind=kinds.TAX_NOTICE.code,
        subject_type="person",
        subject_id=person_id,
        template_name="resident_tax/notice.html",
        context={
            "nendo": rules.wareki_nendo(fiscal_year),
            "income_year": f"{wareki(date(fiscal_year - 1, 1, 1))[:-5]}分",
            "name": record.name,
            "address": record.address,
            "address_number": record.person.address_number,
            "assessment": assessment,
            "reason": assessment.get_reason_display()
            if assessment.reason != AssessmentReason.INITIAL
            else "",
            "periods": [
                {"label": p["label"], "due": _wareki_day(p["due"]), "amount": p["amount"]}
                for p in assessment.installments
            ],
            "steps": [s for s in outcome.trace if s.key in keys],
        },
        purpose=purpose or "納税通知書の発送",
    )
    return Issued(result.document.serial, result.pdf)


def special_notice_issue(*, employer_id: int, fiscal_year: int, purpose: str) -> Issued:
    """特別徴収税額の決定通知書（特別徴収義務者用）: every employee's 12 monthly amounts."""
    from moyai.documents.services import document_issue
    from moyai.tax.resident import documents as kinds

    employer = Employer.objects.filter(pk=employer_id).first()
    if employer is None:
        raise ServiceError("特別徴収義務者が見つかりません", field="employer", code="not_found")
    assessments = list(
        Assessment.objects.select_related("person")
        .filter(
            fiscal_year=fiscal_year,
            employer=employer,
            is_current=True,
            collection=Collection.SPECIAL,
        )
        .order_by("person__address_number")
    )
    if not assessments:
        raise ServiceError("この年度の特別徴収の対象者がいません", field="employer")
    records = records_as_of(
        person_ids=[a.person_id for a in assessments],
        on=date(fiscal_year, 1, 1),
        purpose="特別徴収税額の決定通知",
    )
    rows = [
        {
            "address_number": a.person.address_number,
            "name": records[a.person_id].name if a.person_id in records else "",
            "total": a.total,
            "amounts": [p["amount"] for p in a.installments],
        }
        for a in assessments
    ]
    result = document_issue(
        kind=kinds.SPECIAL_NOTICE.code,
        subject_type="employer",
        subject_id=employer.pk,
        template_name="resident_tax/special_notice.html",
        context={
            "nendo": rules.wareki_nendo(fiscal_year),
            "employer": employer,
            "months": [f"{m}月" for m in schedule.SPECIAL_MONTHS],
            "rows": rows,
            "total": sum(r["total"] for r in rows),
            "month_totals": [sum(r["amounts"][i] for r in rows) for i in range(12)],
        },
        purpose=purpose or "特別徴収税額の決定通知",
    )
    return Issued(result.document.serial, result.pdf)
