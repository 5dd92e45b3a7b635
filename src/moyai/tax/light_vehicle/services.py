"""軽自動車税（種別割）: parameters, the vehicle ledger (登録・名義変更・廃車・減免), assessment,
試算 and the 納税通知書.

Every service runs inside the caller's ``tenant_context``, is atomic and raises
:class:`ServiceError` naming the field with nothing written. Assessment is idempotent: a
vehicle whose inputs and parameter version are unchanged is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max, Q

from moyai.platform.audit import audit_record, current_actor
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction, JobRun, Municipality
from moyai.platform.outbox import emit
from moyai.platform.tenancy import current_tenant, tenant_context
from moyai.tax.addressees.models import Addressee
from moyai.tax.common.rules import (
    DueDateCalendar,
    InstallmentPlan,
    RuleInputError,
    due_dates,
    installment_plan_from_mapping,
)
from moyai.tax.common.services import (
    check_fiscal_year,
    input_digest,
    insert_rows,
    run_assessment,
)
from moyai.tax.light_vehicle import rules
from moyai.tax.light_vehicle.models import (
    LightVehicle,
    LightVehicleParameters,
    Release,
    VehicleTaxAssessment,
)
from moyai.tax.resident.rules import wareki_nendo

SUPPORTED_FISCAL_YEARS = (2025, 2026)
BUSINESS = "light_vehicle_tax"


_digest = input_digest


def check_year(fiscal_year: int) -> None:
    check_fiscal_year(fiscal_year, SUPPORTED_FISCAL_YEARS)


def owned_on(day: date) -> Q:
    """Ledger rows whose owner held the vehicle on ``day`` (the 賦課期日 is 4月1日: a vehicle
    registered on 4/1 is taxed, one scrapped on 4/1 is not)."""
    return Q(acquired_on__lte=day) & (Q(released_on__isnull=True) | Q(released_on__gt=day))


# --- 税率等 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearSetup:
    row: LightVehicleParameters
    params: rules.LightVehicleParams
    plan: InstallmentPlan
    calendar: DueDateCalendar


def _params(fiscal_year: int, overrides: Mapping[str, Any]) -> rules.LightVehicleParams:
    return rules.params_from_mapping(
        rules.LightVehicleParams.national_defaults(fiscal_year), overrides
    )


def _setup(row: LightVehicleParameters) -> YearSetup:
    plan = (
        installment_plan_from_mapping(row.installment_plan)
        if row.installment_plan
        else InstallmentPlan.light_vehicle(row.fiscal_year)
    )
    calendar = DueDateCalendar(frozenset(date.fromisoformat(d) for d in row.holidays))
    return YearSetup(row, _params(row.fiscal_year, row.overrides), plan, calendar)


def parameters_in_force(*, fiscal_year: int) -> YearSetup:
    """The current parameter version for a write that refers to it (賦課): version 1 = the
    national standard, made here on first use under that write's actor. Reads (``simulate``)
    look the newest version up without making one."""
    check_year(fiscal_year)
    row = (
        LightVehicleParameters.objects.filter(fiscal_year=fiscal_year).order_by("-version").first()
    )
    if row is None:
        return parameters_update(fiscal_year=fiscal_year, overrides={}, note="全国標準（初期値）")
    return _setup(row)


@transaction.atomic
def parameters_update(
    *,
    fiscal_year: int,
    overrides: Mapping[str, Any],
    installment_plan: Mapping[str, Any] | None = None,
    note: str,
) -> YearSetup:
    """A new parameter version (条例の税率, 納期)."""
    check_year(fiscal_year)
    if not note.strip():
        raise ServiceError("変更の理由（条例の改正など）を入力してください", field="note")
    plan = dict(installment_plan or {})
    try:
        _params(fiscal_year, overrides)
        if plan:
            installment_plan_from_mapping(plan)
    except RuleInputError as exc:
        raise ServiceError(exc.message, field=exc.field) from None
    last = (
        LightVehicleParameters.objects.select_for_update()
        .filter(fiscal_year=fiscal_year)
        .aggregate(v=Max("version"))["v"]
        or 0
    )
    row = LightVehicleParameters.objects.create(
        fiscal_year=fiscal_year,
        version=last + 1,
        overrides=dict(overrides),
        installment_plan=plan,
        digest=_digest([dict(overrides), plan]),
        note=note.strip(),
        created_by=current_actor().username,
    )
    audit_record(
        action=AuditAction.UPDATE,
        target_type="light_vehicle_tax_parameters",
        target_id=f"{fiscal_year}-{row.version}",
        purpose=note.strip(),
        detail={"overrides": dict(overrides)},
    )
    return _setup(row)


# --- 台帳 -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VehicleFacts:
    """A vehicle as on the 車検証・標識交付 (enum fields take the code or the Japanese label)."""

    plate: str
    vehicle_class: str
    use: str = "private"
    first_inspection: str = ""  # "2015-04"; "2002" (year only, 平成15年10月以前)
    fuel: str = "gasoline"
    towed: bool = False
    new_registration: date | None = None
    green_50_standard: bool = False


def vehicle_mapping_of(row: LightVehicle) -> dict[str, Any]:
    """A ledger row as the JSON ``rules.vehicle_from_mapping`` reads."""
    return {
        "label": row.plate,
        "vehicle_class": row.vehicle_class,
        "use": row.use,
        "first_inspection": row.first_inspection or None,
        "fuel": row.fuel,
        "towed": row.towed,
        "new_registration": row.new_registration.isoformat() if row.new_registration else None,
        "green_50_standard": row.green_50_standard,
    }


def _vehicle_fields(facts: VehicleFacts) -> dict[str, Any]:
    plate = facts.plate.strip()
    if not plate:
        raise ServiceError("標識番号を入力してください", field="plate")
    if len(plate) > 30:
        raise ServiceError("標識番号は30文字以内です", field="plate")
    data = {
        "label": plate,
        "vehicle_class": facts.vehicle_class,
        "use": facts.use,
        "first_inspection": facts.first_inspection.strip() or None,
        "fuel": facts.fuel,
        "towed": facts.towed,
        "new_registration": facts.new_registration.isoformat() if facts.new_registration else None,
        "green_50_standard": facts.green_50_standard,
    }
    try:
        vehicle = rules.vehicle_from_mapping(data)
    except RuleInputError as exc:
        raise ServiceError(exc.message, field=exc.field) from None
    inspection = ""
    if vehicle.first_inspection is not None:
        year, month = vehicle.first_inspection
        inspection = f"{year}" if month is None else f"{year}-{month:02d}"
    return {
        "plate": plate,
        "vehicle_class": vehicle.vehicle_class.value,
        "use": vehicle.use.value,
        "first_inspection": inspection,
        "fuel": vehicle.fuel.value,
        "towed": vehicle.towed,
        "new_registration": vehicle.new_registration,
        "green_50_standard": vehicle.green_50_standard,
    }


def _owner(owner_id: int) -> Addressee:
    owner: Addressee | None = Addressee.objects.filter(pk=owner_id).first()
    if owner is None:
        raise ServiceError("所有者（宛名）が見つかりません", field="owner_id", code="not_found")
    return owner


def _audit(vehicle: LightVehicle, purpose: str, detail: dict[str, Any]) -> None:
    audit_record(
        action=AuditAction.UPDATE,
        target_type="light_vehicle",
        target_id=vehicle.pk,
        purpose=purpose,
        detail={"plate": vehicle.plate, **detail},
    )
    emit(
        type="light_vehicle_tax.vehicle.changed",
        subject_type="light_vehicle",
        subject_id=str(vehicle.pk),
        payload={"purpose": purpose},
    )


@transaction.atomic
def vehicle_register(
    *, owner_id: int, facts: VehicleFacts, acquired_on: date, note: str = ""
) -> LightVehicle:
    """登録（標識の交付・新規検査・転入）."""
    owner = _owner(owner_id)
    values = _vehicle_fields(facts)
    if LightVehicle.objects.filter(plate=values["plate"], released_on__isnull=True).exists():
        raise ServiceError("その標識番号の車両は登録されています", field="plate")
    vehicle: LightVehicle = LightVehicle.objects.create(
        owner=owner,
        acquired_on=acquired_on,
        note=note.strip()[:200],
        created_by=current_actor().username,
        **values,
    )
    _audit(vehicle, "軽自動車等の登録", {"owner": owner.number})
    return vehicle


@transaction.atomic
def vehicle_correct(*, vehicle_id: int, facts: VehicleFacts, note: str) -> LightVehicle:
    """登録内容の修正 (a 車検証 entered wrong: 車種区分, 初度検査年月, 燃料 …) of the current
    row; the previous values go to the audit log and the next 賦課 re-assesses (更正)."""
    vehicle = _current(vehicle_id)
    if not note.strip():
        raise ServiceError("修正の理由を入力してください", field="note")
    values = _vehicle_fields(facts)
    if (
        values["plate"] != vehicle.plate
        and LightVehicle.objects.filter(plate=values["plate"], released_on__isnull=True)
        .exclude(pk=vehicle.pk)
        .exists()
    ):
        raise ServiceError("その標識番号の車両は登録されています", field="plate")
    before = {k: getattr(vehicle, k) for k in values}
    changed = [k for k, v in values.items() if before[k] != v]
    if not changed:
        raise ServiceError("変更された項目がありません", field="note")
    for k in changed:
        setattr(vehicle, k, values[k])
    vehicle.save(update_fields=changed)
    _audit(
        vehicle,
        "軽自動車等の登録内容の修正",
        {"note": note.strip(), "before": {k: str(before[k]) for k in changed}},
    )
    return vehicle


def _current(vehicle_id: int) -> LightVehicle:
    vehicle: LightVehicle | None = (
        LightVehicle.objects.select_for_update().filter(pk=vehicle_id).first()
    )
    if vehicle is None:
        raise ServiceError("車両が見つかりません", field="vehicle_id", code="not_found")
    if vehicle.released_on is not None:
        raise ServiceError(
            f"この車両はすでに{vehicle.get_release_display()}されています", field="vehicle_id"
        )
    return vehicle


def _release(vehicle: LightVehicle, on: date, release: Release, note: str) -> None:
    if not note.strip():
        raise ServiceError("届出の内容を入力してください", field="note")
    if on < vehicle.acquired_on:
        raise ServiceError("異動日が登録日より前です", field="changed_on")
    vehicle.released_on = on
    vehicle.release = release
    vehicle.save(update_fields=["released_on", "release"])


@transaction.atomic
def vehicle_transfer(
    *, vehicle_id: int, owner_id: int, changed_on: date, note: str
) -> LightVehicle:
    """名義変更: the new owner holds the vehicle from ``changed_on`` (same 標識番号)."""
    vehicle = _current(vehicle_id)
    owner = _owner(owner_id)
    if owner.pk == vehicle.owner_id:
        raise ServiceError("新しい所有者が今の所有者と同じです", field="owner_id")
    _release(vehicle, changed_on, Release.TRANSFER, note)
    keep = {
        f.attname: getattr(vehicle, f.attname)
        for f in LightVehicle._meta.concrete_fields
        if f.name
        not in {
            "id",
            "municipality",
            "owner",
            "acquired_on",
            "released_on",
            "release",
            "predecessor",
            "exemption",
            "note",
            "created_at",
            "created_by",
        }
    }
    new: LightVehicle = LightVehicle.objects.create(
        owner=owner,
        acquired_on=changed_on,
        predecessor=vehicle,
        note=note.strip()[:200],
        created_by=current_actor().username,
        **keep,
    )
    _audit(new, "軽自動車等の名義変更", {"from": vehicle.owner_id, "to": owner.number})
    return new


@transaction.atomic
def vehicle_scrap(*, vehicle_id: int, changed_on: date, note: str) -> LightVehicle:
    """廃車（抹消・転出）: not taxed from the next 4月1日 on."""
    vehicle = _current(vehicle_id)
    _release(vehicle, changed_on, Release.SCRAPPED, note)
    _audit(vehicle, "軽自動車等の廃車", {"on": changed_on.isoformat()})
    return vehicle


@transaction.atomic
def exemption_set(*, vehicle_id: int, reason: str, ratio: str = "1/1", note: str) -> LightVehicle:
    """減免 (条例: 身体障害者等) of a vehicle; an empty ``reason`` withdraws it."""
    vehicle = _current(vehicle_id)
    if not note.strip():
        raise ServiceError("申請の内容（手帳の番号など）を入力してください", field="note")
    if reason.strip():
        data = {"reason": reason.strip()[:100], "ratio": ratio}
        try:
            rules.exemption_from_mapping(data)
        except RuleInputError as exc:
            raise ServiceError(exc.message, field=exc.field) from None
        vehicle.exemption = data
    else:
        vehicle.exemption = None
    vehicle.save(update_fields=["exemption"])
    _audit(vehicle, "軽自動車税の減免", {"exemption": vehicle.exemption, "note": note.strip()})
    return vehicle


# --- 賦課 -----------------------------------------------------------------------------------------


@dataclass
class RunResult:
    fiscal_year: int
    vehicles: int = 0
    written: int = 0
    unchanged: int = 0
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (plate, field, msg)
    job: JobRun | None = None


def _assess(inputs: Mapping[str, Any], params: rules.LightVehicleParams) -> Any:
    return rules.assess_vehicle(
        rules.vehicle_from_mapping(inputs["vehicle"], "vehicle."),
        params,
        rules.exemption_from_mapping(inputs.get("exemption"), "exemption."),
    )


def liable_vehicles(fiscal_year: int) -> list[int]:
    """Every vehicle held on 4月1日 of the 年度, and every vehicle with a current assessment
    (a registration corrected since may have taken it out: its assessment is then closed)."""
    april_first = date(fiscal_year, 4, 1)
    ids = set(LightVehicle.objects.filter(owned_on(april_first)).values_list("id", flat=True))
    ids.update(
        VehicleTaxAssessment.objects.filter(fiscal_year=fiscal_year, is_current=True).values_list(
            "vehicle_id", flat=True
        )
    )
    return sorted(ids)


def _assess_vehicles(
    vehicle_ids: Sequence[int], setup: YearSetup, due: date, result: RunResult
) -> None:
    """One chunk (the caller's transaction): skip the unchanged, supersede the changed."""
    fiscal_year = setup.row.fiscal_year
    april_first = date(fiscal_year, 4, 1)
    held = {
        v.pk: v
        for v in LightVehicle.objects.filter(owned_on(april_first), pk__in=vehicle_ids).order_by(
            "id"
        )
    }
    current = {
        a.vehicle_id: a
        for a in VehicleTaxAssessment.objects.filter(
            fiscal_year=fiscal_year, is_current=True, vehicle_id__in=vehicle_ids
        ).only("id", "vehicle_id", "seq", "digest")
    }
    actor = current_actor().username
    tenant_id = current_tenant().id
    new: list[VehicleTaxAssessment] = []
    gone: list[int] = []
    for vehicle_id in vehicle_ids:
        vehicle = held.get(vehicle_id)
        previous = current.get(vehicle_id)
        if vehicle is None:  # no longer held on 4月1日 (the ledger was corrected)
            if previous is not None:
                gone.append(vehicle_id)
            continue
        inputs = {"vehicle": vehicle_mapping_of(vehicle), "exemption": vehicle.exemption}
        digest = _digest([inputs, setup.row.digest])
        if previous is not None and previous.digest == digest:
            result.unchanged += 1
            continue
        try:
            outcome = _assess(inputs, setup.params)
        except RuleInputError as exc:
            result.problems.append((vehicle.plate, exc.field, exc.message))
            continue
        new.append(
            VehicleTaxAssessment(
                municipality_id=tenant_id,
                vehicle_id=vehicle.pk,
                owner_id=vehicle.owner_id,
                fiscal_year=fiscal_year,
                seq=previous.seq + 1 if previous else 1,
                is_current=True,
                params=setup.row,
                inputs=inputs,
                digest=digest,
                rate_kind=outcome.rate_kind[:60],
                standard_tax=outcome.standard_tax,
                exemption_amount=outcome.exemption_amount,
                tax=outcome.tax,
                due=due,
                created_by=actor,
            )
        )
    closing = [a.vehicle_id for a in new if a.seq > 1] + gone
    if closing:
        VehicleTaxAssessment.objects.filter(
            fiscal_year=fiscal_year, vehicle_id__in=closing, is_current=True
        ).update(is_current=False)
    insert_rows(VehicleTaxAssessment, new)
    result.vehicles += len(held)
    result.written += len(new)
    if new or gone:
        emit(
            type="light_vehicle_tax.assessed",
            subject_type="light_vehicle_tax_year",
            subject_id=str(fiscal_year),
            payload={
                "fiscal_year": fiscal_year,
                "vehicles": [a.vehicle_id for a in new],
                "withdrawn": gone,
            },
        )


def assessment_run(
    *,
    municipality: Municipality,
    fiscal_year: int,
    chunk_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
    job_key: str | None = None,
) -> RunResult:
    """賦課: every vehicle held on 4月1日 of the 年度, taxed to its owner then, ``chunk_size``
    vehicles per transaction; resumable (``job_key``: a killed run continues where it
    stopped) and idempotent (a re-run writes only what changed; the previous assessment stays
    as history)."""
    with tenant_context(municipality):
        setup = parameters_in_force(fiscal_year=fiscal_year)
        due = due_dates(setup.plan, fiscal_year, setup.calendar)[0]
        vehicles = liable_vehicles(fiscal_year)
    result = RunResult(fiscal_year)
    result.job = run_assessment(
        municipality=municipality,
        prefix="light_vehicle_tax",
        fiscal_year=fiscal_year,
        items=vehicles,
        assess=lambda part: _assess_vehicles(part, setup, due, result),
        chunk_size=chunk_size,
        progress=progress,
        job_key=job_key,
        shard=(0, 1),
        purpose=f"{wareki_nendo(fiscal_year)} 軽自動車税（種別割）の賦課",
        detail=lambda: {
            "vehicles": result.vehicles,
            "written": result.written,
            "unchanged": result.unchanged,
            "problems": result.problems[:100],
            "parameters_version": setup.row.version,
        },
    )
    return result


def explain(assessment: VehicleTaxAssessment) -> rules.LightVehicleAssessment:
    """The computation behind a stored assessment, recomputed from its inputs."""
    outcome: rules.LightVehicleAssessment = _assess(
        assessment.inputs, _params(assessment.fiscal_year, assessment.params.overrides)
    )
    if outcome.tax != assessment.tax:
        raise ServiceError(
            f"現在の規則で再計算すると税額が {outcome.tax:,}円 になり、記録（"
            f"{assessment.tax:,}円）と一致しません。再賦課してください。",
            field="assessment",
            code="stale",
        )
    return outcome


def outcome_dict(outcome: rules.LightVehicleAssessment) -> dict[str, Any]:
    v = outcome.vehicle
    return {
        "fiscal_year": outcome.fiscal_year,
        "nendo": wareki_nendo(outcome.fiscal_year),
        "vehicle_class": v.vehicle_class.value,
        "vehicle_class_label": v.vehicle_class.label,
        "rate_kind": outcome.rate_kind,
        "standard_tax": outcome.standard_tax,
        "exemption_amount": outcome.exemption_amount,
        "tax": outcome.tax,
        "trace": outcome.trace.as_list(),
    }


def simulate(
    *, fiscal_year: int, data: Mapping[str, Any], municipality: Municipality | None = None
) -> rules.LightVehicleAssessment:
    """試算: ``{"vehicle": {...}, "exemption": {...} | null}``; nothing is stored."""
    check_year(fiscal_year)
    unknown = set(data) - {"vehicle", "exemption"}
    if unknown:
        raise ServiceError(
            f"不明な項目です: {', '.join(sorted(unknown))}", field=sorted(unknown)[0]
        )
    if not isinstance(data.get("vehicle"), Mapping):
        raise ServiceError("車両（vehicle）を入力してください", field="vehicle")
    if data.get("exemption") is not None and not isinstance(data.get("exemption"), Mapping):
        raise ServiceError("減免は {reason, ratio} で入力してください", field="exemption")
    overrides: Mapping[str, Any] = {}
    if municipality is not None:
        with tenant_context(municipality):
            row = (
                LightVehicleParameters.objects.filter(fiscal_year=fiscal_year)
                .order_by("-version")
                .first()
            )
        overrides = row.overrides if row is not None else {}
    try:
        outcome: rules.LightVehicleAssessment = _assess(data, _params(fiscal_year, overrides))
    except RuleInputError as exc:
        raise ServiceError(exc.message, field=exc.field) from None
    return outcome


# --- 納税通知書 ----------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    serial: str
    pdf: bytes


def owner_assessments(*, owner_id: int, fiscal_year: int) -> list[VehicleTaxAssessment]:
    return list(
        VehicleTaxAssessment.objects.select_related("vehicle", "params")
        .filter(owner_id=owner_id, fiscal_year=fiscal_year, is_current=True)
        .order_by("vehicle__plate")
    )


def tax_notice_issue(*, owner_id: int, fiscal_year: int, purpose: str) -> Issued:
    """納税通知書: every vehicle the owner held on 4月1日 with its rate, 減免 and tax."""
    from moyai.documents.services import document_issue
    from moyai.registry.rules import wareki
    from moyai.tax.addressees.services import mail_to
    from moyai.tax.light_vehicle import documents as kinds

    owner = _owner(owner_id)
    rows = [a for a in owner_assessments(owner_id=owner_id, fiscal_year=fiscal_year) if a.tax]
    if not rows:
        raise ServiceError(
            f"{wareki_nendo(fiscal_year)}の軽自動車税の課税がありません",
            field="owner_id",
            code="not_found",
        )
    for a in rows:
        explain(a)
    total = sum(a.tax for a in rows)
    result = document_issue(
        kind=kinds.TAX_NOTICE.code,
        subject_type="tax_addressee",
        subject_id=owner.number,
        template_name="light_vehicle_tax/notice.html",
        context={
            "nendo": wareki_nendo(fiscal_year),
            "to": mail_to(owner, BUSINESS),
            "owner": owner,
            "rows": [
                {
                    "plate": a.vehicle.plate,
                    "class_label": a.vehicle.get_vehicle_class_display(),
                    "use": a.vehicle.get_use_display(),
                    "first_inspection": a.vehicle.first_inspection,
                    "rate_kind": a.rate_kind,
                    "standard_tax": a.standard_tax,
                    "exemption_amount": a.exemption_amount,
                    "tax": a.tax,
                }
                for a in rows
            ],
            "total": total,
            "due": wareki(rows[0].due),
        },
        purpose=purpose or "納税通知書の発送",
    )
    return Issued(result.document.serial, result.pdf)


def owners_with_tax(fiscal_year: int) -> Sequence[int]:
    return list(
        VehicleTaxAssessment.objects.filter(fiscal_year=fiscal_year, is_current=True, tax__gt=0)
        .order_by("owner_id")
        .values_list("owner_id", flat=True)
        .distinct()
    )
