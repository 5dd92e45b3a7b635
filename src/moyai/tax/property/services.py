"""固定資産税: parameters, the 課税台帳 (登録と異動), assessment runs, 試算 and notices.

Every service runs inside the caller's ``tenant_context``; each is atomic and raises
:class:`ServiceError` naming the field with nothing written. A 異動 on day D changes the ledger
from the 年度 whose 賦課期日 (1 January) first follows D: the current row is closed
(``valid_to``) and new rows open, so the ledger of every past 年度 stays as it was.

Assessment is per 納税義務者 (an addressee: a person, a 法人 or a 共有者の集まり), chunked and
idempotent: an owner whose inputs and parameter version are unchanged is skipped; a change after
the 当初 becomes a 更正 that keeps the previous assessment as history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from moyai.platform.audit import audit_record, current_actor
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction, JobRun, Municipality
from moyai.platform.outbox import emit
from moyai.platform.tenancy import current_tenant, tenant_context
from moyai.tax.addressees.models import Addressee
from moyai.tax.addressees.services import OwnerSpec, owner_resolve
from moyai.tax.common.rules import (
    DueDateCalendar,
    InstallmentPlan,
    due_dates,
    installment_plan_from_mapping,
    read_decimal_units,
    split_installments,
)
from moyai.tax.common.rules import RuleInputError as CommonRuleInputError
from moyai.tax.common.services import (
    check_fiscal_year,
    check_shard,
    input_digest,
    insert_rows,
    run_assessment,
)
from moyai.tax.property import rules
from moyai.tax.property.models import (
    AssessmentReason,
    AssetDeclaration,
    Building,
    Change,
    HouseKind,
    LandUse,
    Parcel,
    PropertyTaxAssessment,
    PropertyTaxParameters,
    Structure,
)
from moyai.tax.resident.rules import wareki_nendo
from moyai.tax.resident.schedule import Period, revise

SUPPORTED_FISCAL_YEARS = (2025, 2026)
BUSINESS = "property_tax"
_CATEGORY: dict[str, str] = {
    LandUse.RESIDENTIAL: "takuchi",
    LandUse.PADDY: "farmland",
    LandUse.FIELD: "farmland",
}
_PRIOR_KEYS = (
    "prior_residential_base",
    "prior_other_base",
    "prior_residential_cp_base",
    "prior_other_cp_base",
)


_digest = input_digest


def check_year(fiscal_year: int) -> None:
    check_fiscal_year(fiscal_year, SUPPORTED_FISCAL_YEARS)


def first_year(changed_on: date) -> int:
    """The first 年度 a 異動 on ``changed_on`` affects: the one whose 賦課期日 (1 January) is on
    or after that day."""
    return changed_on.year if (changed_on.month, changed_on.day) == (1, 1) else changed_on.year + 1


def as_of(fiscal_year: int) -> Q:
    """Ledger rows in force on the 賦課期日 of ``fiscal_year``."""
    return Q(valid_from__lte=fiscal_year) & (Q(valid_to__isnull=True) | Q(valid_to__gt=fiscal_year))


# --- 税率等（条例） -------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearSetup:
    row: PropertyTaxParameters
    params: rules.PropertyTaxParams
    plan: InstallmentPlan
    calendar: DueDateCalendar


def _setup(row: PropertyTaxParameters) -> YearSetup:
    params = rules.params_from_mapping(
        rules.PropertyTaxParams.national_defaults(row.fiscal_year), row.overrides
    )
    plan = (
        installment_plan_from_mapping(row.installment_plan)
        if row.installment_plan
        else InstallmentPlan.national_default_property(row.fiscal_year)
    )
    calendar = DueDateCalendar(frozenset(date.fromisoformat(d) for d in row.holidays))
    return YearSetup(row, params, plan, calendar)


def parameters_in_force(*, fiscal_year: int) -> YearSetup:
    """The current parameter version for a write that refers to it (賦課, 更正, a new version):
    version 1 = the national standard, made here on first use under that write's actor. Reads
    (``simulate``) look the newest version up without making one."""
    check_year(fiscal_year)
    row = PropertyTaxParameters.objects.filter(fiscal_year=fiscal_year).order_by("-version").first()
    if row is None:
        return _parameters_save(fiscal_year, {}, {}, [], "全国標準（初期値）")
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
        rules.params_from_mapping(rules.PropertyTaxParams.national_defaults(fiscal_year), overrides)
        if installment_plan:
            installment_plan_from_mapping(installment_plan)
    except CommonRuleInputError as exc:
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
        PropertyTaxParameters.objects.select_for_update()
        .filter(fiscal_year=fiscal_year)
        .aggregate(v=Max("version"))["v"]
        or 0
    )
    row = PropertyTaxParameters.objects.create(
        fiscal_year=fiscal_year,
        version=last + 1,
        overrides=dict(overrides),
        installment_plan=dict(installment_plan),
        holidays=sorted(set(days)),
        digest=_digest([dict(overrides), dict(installment_plan), sorted(set(days))]),
        note=note,
        created_by=current_actor().username,
    )
    audit_record(
        action=AuditAction.UPDATE,
        target_type="property_tax_parameters",
        target_id=f"{fiscal_year}-{row.version}",
        purpose=note or "固定資産税の税率等の設定",
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
    """A new parameter version (条例: 超過税率, 都市計画税, 納期); a re-run re-assesses."""
    check_year(fiscal_year)
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


# --- 課税台帳: 登録 ------------------------------------------------------------


@dataclass(frozen=True)
class ParcelFacts:
    """土地 as the clerk enters it; areas as ㎡ text (``"300.25"``)."""

    location: str
    lot_number: str
    land_use: str
    area_m2: str
    assessed_value: int
    small_residential_m2: str | None = None
    general_residential_m2: str | None = None
    in_urbanization_area: bool = True
    prior: Mapping[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildingFacts:
    """家屋 as the clerk enters it."""

    location: str
    house_number: str
    house_kind: str
    structure: str
    floor_area_m2: str
    assessed_value: int
    built_year: int
    residential_m2: str | None = None
    completed_on: date | None = None
    fireproof_3plus: bool = False
    long_life_certified: bool = False
    rental: bool = False
    in_urbanization_area: bool = True


def _area(text: str | None, name: str) -> int | None:
    if text is None or str(text).strip() == "":
        return None
    try:
        return read_decimal_units(str(text), name, scale=100)
    except CommonRuleInputError as exc:
        raise ServiceError(exc.message, field=name) from None


def _text(value: str, name: str, label: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise ServiceError(f"{label}を入力してください", field=name)
    if len(text) > limit:
        raise ServiceError(f"{label}は{limit}文字以内です", field=name)
    return text


def _parcel_fields(facts: ParcelFacts) -> dict[str, Any]:
    if facts.land_use not in LandUse.values:
        raise ServiceError(f"地目は {'・'.join(LandUse.values)} のいずれかです", field="land_use")
    area = _area(facts.area_m2, "area_m2")
    if area is None:
        raise ServiceError("地積を入力してください", field="area_m2")
    unknown = set(facts.prior) - set(_PRIOR_KEYS)
    if unknown:
        raise ServiceError(
            f"前年度課税標準額の項目が正しくありません: {sorted(unknown)}", field="prior"
        )
    values = {
        "location": _text(facts.location, "location", "所在", 200),
        "lot_number": _text(facts.lot_number, "lot_number", "地番", 40),
        "land_use": facts.land_use,
        "area": area,
        "assessed_value": facts.assessed_value,
        "small_residential_area": _area(facts.small_residential_m2, "small_residential_m2"),
        "general_residential_area": _area(facts.general_residential_m2, "general_residential_m2"),
        "in_urbanization_area": facts.in_urbanization_area,
        "prior": {k: v for k, v in facts.prior.items() if v is not None},
    }
    _check_land(values)
    return values


def _check_land(values: Mapping[str, Any]) -> None:
    try:
        rules.land_from_mapping(land_mapping_of(values))
    except CommonRuleInputError as exc:
        name = {
            "area": "area_m2",
            "small_residential_area": "small_residential_m2",
            "general_residential_area": "general_residential_m2",
            "category": "land_use",
        }.get(exc.field, exc.field)
        raise ServiceError(exc.message, field=name) from None


def _building_fields(facts: BuildingFacts) -> dict[str, Any]:
    if facts.house_kind not in HouseKind.values:
        raise ServiceError(
            f"種類は {'・'.join(HouseKind.values)} のいずれかです", field="house_kind"
        )
    if facts.structure not in Structure.values:
        raise ServiceError(
            f"構造は {'・'.join(Structure.values)} のいずれかです", field="structure"
        )
    floor = _area(facts.floor_area_m2, "floor_area_m2")
    if floor is None:
        raise ServiceError("床面積を入力してください", field="floor_area_m2")
    if not 1868 <= facts.built_year <= timezone.localdate().year + 1:
        raise ServiceError(f"建築年が範囲外です（{facts.built_year}）", field="built_year")
    if facts.completed_on is not None and facts.completed_on.year != facts.built_year:
        raise ServiceError("新築年月日と建築年が一致しません", field="completed_on")
    values = {
        "location": _text(facts.location, "location", "所在", 200),
        "house_number": _text(facts.house_number, "house_number", "家屋番号", 40),
        "house_kind": facts.house_kind,
        "structure": facts.structure,
        "floor_area": floor,
        "residential_area": _area(facts.residential_m2, "residential_m2"),
        "assessed_value": facts.assessed_value,
        "built_year": facts.built_year,
        "completed_on": facts.completed_on,
        "fireproof_3plus": facts.fireproof_3plus,
        "long_life_certified": facts.long_life_certified,
        "rental": facts.rental,
        "in_urbanization_area": facts.in_urbanization_area,
    }
    try:
        rules.house_from_mapping(house_mapping_of(values))
    except CommonRuleInputError as exc:
        name = {"floor_area": "floor_area_m2", "residential_area": "residential_m2"}.get(
            exc.field, exc.field
        )
        raise ServiceError(exc.message, field=name) from None
    return values


def _owner(owner_id: int) -> Addressee:
    owner: Addressee | None = Addressee.objects.filter(pk=owner_id).first()
    if owner is None:
        raise ServiceError("所有者（宛名）が見つかりません", field="owner_id", code="not_found")
    return owner


def _owner_of(owner_id: int | None, owner: OwnerSpec | None) -> Addressee:
    """The owner by id, or as the clerk entered it (one 税務宛名番号 or co-owners with shares,
    a new 共有者の集まり being registered in the caller's transaction)."""
    if owner is not None:
        return owner_resolve(spec=owner)
    if owner_id is None:
        raise ServiceError("所有者を入力してください", field="owner_id")
    return _owner(owner_id)


def _note(note: str) -> str:
    if not note.strip():
        raise ServiceError("異動の内容（登記の原因など）を入力してください", field="note")
    return note.strip()[:200]


def _audit_ledger(kind: str, rows: Iterable[Parcel | Building], change: str, note: str) -> None:
    ids = [r.pk for r in rows]
    audit_record(
        action=AuditAction.UPDATE if change != Change.NEW else AuditAction.CREATE,
        target_type=f"property_{kind}",
        target_id=ids[0] if ids else "",
        purpose=f"固定資産課税台帳の{Change(change).label}",
        detail={"rows": ids, "note": note},
    )
    emit(
        type=f"property_tax.{kind}.{change}",
        subject_type=f"property_{kind}",
        subject_id=str(ids[0]) if ids else "",
        payload={"rows": ids},
    )


@transaction.atomic
def parcel_register(
    *,
    owner_id: int | None = None,
    owner: OwnerSpec | None = None,
    facts: ParcelFacts,
    changed_on: date,
    note: str = "新規登録",
) -> Parcel:
    """土地の登録 (from the 年度 after ``changed_on``, e.g. a 登記 or 家屋 survey); the owner by
    id or as entered (``OwnerSpec``: one 税務宛名番号 or co-owners with 持分 and 代表者)."""
    values = _parcel_fields(facts)
    owner_row = _owner_of(owner_id, owner)
    if Parcel.objects.filter(
        location=values["location"], lot_number=values["lot_number"], valid_to__isnull=True
    ).exists():
        raise ServiceError("同じ所在・地番の土地が登録されています", field="lot_number")
    parcel: Parcel = Parcel.objects.create(
        owner=owner_row,
        valid_from=first_year(changed_on),
        change=Change.NEW,
        changed_on=changed_on,
        note=_note(note),
        created_by=current_actor().username,
        **values,
    )
    _audit_ledger("parcel", [parcel], Change.NEW, note)
    return parcel


@transaction.atomic
def building_register(
    *,
    owner_id: int | None = None,
    owner: OwnerSpec | None = None,
    facts: BuildingFacts,
    changed_on: date,
    note: str = "新規登録",
) -> Building:
    """家屋の登録 (新築: taxed from the 年度 whose 1 January first finds it)."""
    values = _building_fields(facts)
    owner_row = _owner_of(owner_id, owner)
    if Building.objects.filter(
        location=values["location"], house_number=values["house_number"], valid_to__isnull=True
    ).exists():
        raise ServiceError("同じ所在・家屋番号の家屋が登録されています", field="house_number")
    building: Building = Building.objects.create(
        owner=owner_row,
        valid_from=first_year(changed_on),
        change=Change.NEW,
        changed_on=changed_on,
        note=_note(note),
        created_by=current_actor().username,
        **values,
    )
    _audit_ledger("building", [building], Change.NEW, note)
    return building


def _current_row(model: type[Parcel] | type[Building], row_id: int, name: str) -> Any:
    row = model.objects.select_for_update().filter(pk=row_id).first()
    if row is None:
        raise ServiceError(
            f"{name}が見つかりません", field=f"{model.__name__.lower()}_id", code="not_found"
        )
    if row.valid_to is not None:
        raise ServiceError(
            f"この{name}はすでに異動しています（現在の台帳の行を選んでください）",
            field=f"{model.__name__.lower()}_id",
        )
    return row


def _close(row: Parcel | Building, year: int) -> None:
    if year < row.valid_from:
        raise ServiceError(
            f"異動日が登録（{wareki_nendo(row.valid_from)}から）より前です", field="changed_on"
        )
    row.valid_to = year
    row.save(update_fields=["valid_to"])


def _copy(row: Parcel | Building, **changes: Any) -> dict[str, Any]:
    skip = {
        "id",
        "municipality",
        "valid_from",
        "valid_to",
        "change",
        "changed_on",
        "predecessors",
        "note",
        "created_at",
        "created_by",
    }
    values = {
        f.attname: getattr(row, f.attname)
        for f in type(row)._meta.concrete_fields
        if f.name not in skip
    }
    values.update(changes)
    return values


@dataclass(frozen=True)
class SubParcel:
    """One parcel after a 分筆: its 地番, 地積 and 評価額 (and 住宅用地 portions)."""

    lot_number: str
    area_m2: str
    assessed_value: int
    small_residential_m2: str | None = None
    general_residential_m2: str | None = None


@transaction.atomic
def parcel_subdivide(
    *, parcel_id: int, parts: Sequence[SubParcel], changed_on: date, note: str
) -> list[Parcel]:
    """分筆: one 筆 becomes several with the same owner and 地目; the 地積 must add up."""
    note = _note(note)
    parcel: Parcel = _current_row(Parcel, parcel_id, "土地")
    if len(parts) < 2:
        raise ServiceError("分筆後の土地を2筆以上入力してください", field="parts")
    numbers = [p.lot_number.strip() for p in parts]
    if len(set(numbers)) != len(numbers):
        raise ServiceError("分筆後の地番が重複しています", field="parts")
    year = first_year(changed_on)
    _close(parcel, year)
    new: list[Parcel] = []
    total = 0
    for i, part in enumerate(parts):
        try:
            values = _parcel_fields(
                ParcelFacts(
                    location=parcel.location,
                    lot_number=part.lot_number,
                    land_use=parcel.land_use,
                    area_m2=part.area_m2,
                    assessed_value=part.assessed_value,
                    small_residential_m2=part.small_residential_m2,
                    general_residential_m2=part.general_residential_m2,
                    in_urbanization_area=parcel.in_urbanization_area,
                )
            )
        except ServiceError as exc:
            raise ServiceError(exc.message, field=f"parts[{i}].{exc.field}") from None
        if (
            part.lot_number.strip() != parcel.lot_number
            and Parcel.objects.filter(
                location=parcel.location, lot_number=values["lot_number"], valid_to__isnull=True
            ).exists()
        ):
            raise ServiceError("その地番の土地はすでにあります", field=f"parts[{i}].lot_number")
        total += values["area"]
        new.append(
            Parcel(
                municipality_id=parcel.municipality_id,
                owner_id=parcel.owner_id,
                valid_from=year,
                change=Change.SUBDIVISION,
                changed_on=changed_on,
                predecessors=[parcel.pk],
                note=note,
                created_by=current_actor().username,
                **values,
            )
        )
    if total != parcel.area:
        raise ServiceError(
            f"分筆後の地積の合計（{total / 100:,.2f}㎡）が元の地積（{parcel.area_m2}㎡）と"
            "一致しません",
            field="parts",
        )
    for row in new:
        row.save()
    _audit_ledger("parcel", new, Change.SUBDIVISION, note)
    return new


@transaction.atomic
def parcel_merge(
    *,
    parcel_ids: Sequence[int],
    lot_number: str,
    assessed_value: int,
    changed_on: date,
    note: str,
) -> Parcel:
    """合筆: several 筆 of the same owner, 所在 and 地目 become one (地積 added up)."""
    note = _note(note)
    if len(set(parcel_ids)) < 2:
        raise ServiceError("合筆する土地を2筆以上選んでください", field="parcel_ids")
    rows: list[Parcel] = [_current_row(Parcel, pk, "土地") for pk in dict.fromkeys(parcel_ids)]
    first = rows[0]
    for row in rows[1:]:
        if row.owner_id != first.owner_id:
            raise ServiceError("所有者の異なる土地は合筆できません", field="parcel_ids")
        if row.land_use != first.land_use:
            raise ServiceError("地目の異なる土地は合筆できません", field="parcel_ids")
        if row.location != first.location:
            raise ServiceError("所在の異なる土地は合筆できません", field="parcel_ids")
    if lot_number.strip() not in {r.lot_number for r in rows}:
        raise ServiceError("合筆後の地番は合筆する土地の地番のどれかです", field="lot_number")
    year = first_year(changed_on)
    for row in rows:
        _close(row, year)

    def total(name: str) -> int | None:
        values = [getattr(r, name) for r in rows]
        return None if all(v is None for v in values) else sum(v or 0 for v in values)

    values = _copy(
        first,
        lot_number=lot_number.strip(),
        area=sum(r.area for r in rows),
        assessed_value=assessed_value,
        small_residential_area=total("small_residential_area"),
        general_residential_area=total("general_residential_area"),
        prior={},
    )
    if assessed_value < 0:
        raise ServiceError("評価額は0以上です", field="assessed_value")
    _check_land(values)
    merged: Parcel = Parcel.objects.create(
        valid_from=year,
        change=Change.MERGER,
        changed_on=changed_on,
        predecessors=[r.pk for r in rows],
        note=note,
        created_by=current_actor().username,
        **values,
    )
    _audit_ledger("parcel", [merged], Change.MERGER, note)
    return merged


def _transfer(
    model: type[Parcel] | type[Building],
    row_id: int,
    name: str,
    owner_id: int | None,
    owner_spec: OwnerSpec | None,
    changed_on: date,
    note: str,
) -> Any:
    note = _note(note)
    row = _current_row(model, row_id, name)
    owner = _owner_of(owner_id, owner_spec)
    if owner.pk == row.owner_id:
        raise ServiceError("新しい所有者が今の所有者と同じです", field="owner_id")
    year = first_year(changed_on)
    _close(row, year)
    new = model.objects.create(
        valid_from=year,
        change=Change.TRANSFER,
        changed_on=changed_on,
        predecessors=[row.pk],
        note=note,
        created_by=current_actor().username,
        **_copy(row, owner_id=owner.pk),
    )
    _audit_ledger(model.__name__.lower(), [new], Change.TRANSFER, note)
    return new


@transaction.atomic
def parcel_transfer(
    *,
    parcel_id: int,
    owner_id: int | None = None,
    owner: OwnerSpec | None = None,
    changed_on: date,
    note: str,
) -> Parcel:
    """所有権移転 of a 土地 (売買・相続 …): the new owner (by id, or as entered: one
    税務宛名番号 or co-owners) is taxed from the next 年度."""
    parcel: Parcel = _transfer(Parcel, parcel_id, "土地", owner_id, owner, changed_on, note)
    return parcel


@transaction.atomic
def building_transfer(
    *,
    building_id: int,
    owner_id: int | None = None,
    owner: OwnerSpec | None = None,
    changed_on: date,
    note: str,
) -> Building:
    """所有権移転 of a 家屋."""
    building: Building = _transfer(Building, building_id, "家屋", owner_id, owner, changed_on, note)
    return building


@transaction.atomic
def building_demolish(*, building_id: int, changed_on: date, note: str) -> Building:
    """滅失 (取壊し・焼失 …): no longer taxed from the next 年度 on."""
    note = _note(note)
    building: Building = _current_row(Building, building_id, "家屋")
    _close(building, first_year(changed_on))
    audit_record(
        action=AuditAction.UPDATE,
        target_type="property_building",
        target_id=building.pk,
        purpose="固定資産課税台帳の滅失",
        detail={"note": note, "changed_on": changed_on.isoformat()},
    )
    emit(
        type="property_tax.building.loss",
        subject_type="property_building",
        subject_id=str(building.pk),
        payload={"rows": [building.pk], "changed_on": changed_on.isoformat()},
    )
    return building


@transaction.atomic
def parcel_revalue(*, parcel_id: int, assessed_value: int, fiscal_year: int, note: str) -> Parcel:
    """評価替え・価格の修正 from ``fiscal_year`` on (a new version with the new 評価額)."""
    note = _note(note)
    check_year(fiscal_year)
    parcel: Parcel = _current_row(Parcel, parcel_id, "土地")
    if assessed_value < 0:
        raise ServiceError("評価額は0以上です", field="assessed_value")
    _close(parcel, fiscal_year)
    new: Parcel = Parcel.objects.create(
        valid_from=fiscal_year,
        change=Change.REVALUATION,
        changed_on=date(fiscal_year, 1, 1),
        predecessors=[parcel.pk],
        note=note,
        created_by=current_actor().username,
        **_copy(parcel, assessed_value=assessed_value),
    )
    _audit_ledger("parcel", [new], Change.REVALUATION, note)
    return new


def _corrected(
    model: type[Parcel] | type[Building],
    row: Parcel | Building,
    values: dict[str, Any],
    fiscal_year: int,
    note: str,
) -> Any:
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        raise ServiceError("変更された項目がありません", field="note")
    _close(row, fiscal_year)
    new = model.objects.create(
        valid_from=fiscal_year,
        change=Change.REVALUATION,
        changed_on=date(fiscal_year, 1, 1),
        predecessors=[row.pk],
        note=note,
        created_by=current_actor().username,
        **_copy(row, **values),
    )
    kind = model.__name__.lower()
    audit_record(
        action=AuditAction.UPDATE,
        target_type=f"property_{kind}",
        target_id=new.pk,
        purpose="固定資産課税台帳の修正",
        detail={
            "rows": [row.pk, new.pk],
            "note": note,
            "before": {k: str(getattr(row, k)) for k in changed},
            "after": {k: str(v) for k, v in changed.items()},
        },
    )
    emit(
        type=f"property_tax.{kind}.{Change.REVALUATION}",
        subject_type=f"property_{kind}",
        subject_id=str(new.pk),
        payload={"rows": [new.pk], "predecessor": row.pk},
    )
    return new


@transaction.atomic
def parcel_correct(*, parcel_id: int, facts: ParcelFacts, fiscal_year: int, note: str) -> Parcel:
    """土地の修正 (台帳の記載の誤り・評価の修正・住宅用地の認定の変更) from ``fiscal_year`` on: a
    new version with the corrected facts; the owner stays (所有権移転 is its own 異動) and the
    年度 before keep their rows."""
    note = _note(note)
    check_year(fiscal_year)
    parcel: Parcel = _current_row(Parcel, parcel_id, "土地")
    values = _parcel_fields(replace(facts, prior=facts.prior or parcel.prior))
    if (values["location"], values["lot_number"]) != (parcel.location, parcel.lot_number) and (
        Parcel.objects.filter(
            location=values["location"], lot_number=values["lot_number"], valid_to__isnull=True
        )
        .exclude(pk=parcel.pk)
        .exists()
    ):
        raise ServiceError("同じ所在・地番の土地が登録されています", field="lot_number")
    corrected: Parcel = _corrected(Parcel, parcel, values, fiscal_year, note)
    return corrected


@transaction.atomic
def building_correct(
    *, building_id: int, facts: BuildingFacts, fiscal_year: int, note: str
) -> Building:
    """家屋の修正 (種類・構造・床面積・評価額・新築住宅減額の要件 …) from ``fiscal_year`` on."""
    note = _note(note)
    check_year(fiscal_year)
    building: Building = _current_row(Building, building_id, "家屋")
    values = _building_fields(facts)
    if (values["location"], values["house_number"]) != (
        building.location,
        building.house_number,
    ) and (
        Building.objects.filter(
            location=values["location"],
            house_number=values["house_number"],
            valid_to__isnull=True,
        )
        .exclude(pk=building.pk)
        .exists()
    ):
        raise ServiceError("同じ所在・家屋番号の家屋が登録されています", field="house_number")
    corrected: Building = _corrected(Building, building, values, fiscal_year, note)
    return corrected


@transaction.atomic
def assets_declare(
    *, owner_id: int, fiscal_year: int, declared_base: int, declared_on: date, note: str = ""
) -> AssetDeclaration:
    """償却資産の申告 (its 課税標準額 total); a later one for the same 年度 is a 修正申告."""
    check_year(fiscal_year)
    owner = _owner(owner_id)
    if declared_base < 0:
        raise ServiceError("課税標準額は0以上です", field="declared_base")
    previous = (
        AssetDeclaration.objects.select_for_update()
        .filter(owner=owner, fiscal_year=fiscal_year)
        .aggregate(s=Max("seq"))["s"]
        or 0
    )
    AssetDeclaration.objects.filter(owner=owner, fiscal_year=fiscal_year).update(is_current=False)
    row: AssetDeclaration = AssetDeclaration.objects.create(
        owner=owner,
        fiscal_year=fiscal_year,
        seq=previous + 1,
        declared_base=declared_base,
        declared_on=declared_on,
        note=note[:200],
        created_by=current_actor().username,
    )
    audit_record(
        action=AuditAction.CREATE,
        target_type="property_asset_declaration",
        target_id=row.pk,
        purpose="償却資産の申告の受付" if previous == 0 else "償却資産の修正申告の受付",
        detail={"owner": owner.number, "fiscal_year": fiscal_year},
    )
    return row


# --- 課税客体 → 規則の入力 --------------------------------------------------


def land_mapping_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """A parcel (model or field dict) as the JSON ``rules.land_from_mapping`` reads."""
    get = values.get
    data: dict[str, Any] = {
        "label": f"{get('location', '')}{get('lot_number', '')}",
        "category": _CATEGORY.get(str(get("land_use")), "other"),
        "area": get("area"),
        "assessed_value": get("assessed_value"),
        "in_urbanization_area": get("in_urbanization_area", True),
    }
    for key in ("small_residential_area", "general_residential_area"):
        if get(key) is not None:
            data[key] = get(key)
    data.update(get("prior") or {})
    return data


def house_mapping_of(values: Mapping[str, Any]) -> dict[str, Any]:
    get = values.get
    completed = get("completed_on")
    data: dict[str, Any] = {
        "label": f"{get('location', '')} 家屋番号{get('house_number', '')}",
        "assessed_value": get("assessed_value"),
        "floor_area": get("floor_area"),
        "completed_on": completed.isoformat() if completed else None,
        "fireproof_3plus": get("fireproof_3plus", False),
        "long_life_certified": get("long_life_certified", False),
        "rental": get("rental", False),
        "in_urbanization_area": get("in_urbanization_area", True),
    }
    if get("residential_area") is not None:
        data["residential_area"] = get("residential_area")
    return data


def _row_dict(row: Parcel | Building) -> dict[str, Any]:
    return {f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields}


def _owner_inputs(
    lands: Sequence[Parcel], houses: Sequence[Building], assets: Sequence[AssetDeclaration]
) -> dict[str, Any]:
    return {
        "lands": [land_mapping_of(_row_dict(p)) for p in lands],
        "houses": [house_mapping_of(_row_dict(b)) for b in houses],
        "assets": [{"declared_base": a.declared_base, "label": "償却資産（申告）"} for a in assets],
        "refs": {
            "lands": [p.pk for p in lands],
            "houses": [b.pk for b in houses],
            "assets": [a.pk for a in assets],
        },
    }


def _assess_inputs(inputs: Mapping[str, Any], params: rules.PropertyTaxParams) -> Any:
    lands = [
        rules.land_from_mapping(d, f"lands[{i}].") for i, d in enumerate(inputs.get("lands", []))
    ]
    houses = [
        rules.house_from_mapping(d, f"houses[{i}].") for i, d in enumerate(inputs.get("houses", []))
    ]
    assets = [
        rules.assets_from_mapping(d, f"assets[{i}].")
        for i, d in enumerate(inputs.get("assets", []))
    ]
    return rules.assess_owner(lands, houses, assets, params)


# --- 賦課 -----------------------------------------------------------------------------------------


@dataclass
class RunResult:
    fiscal_year: int
    owners: int = 0
    written: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    job: JobRun | None = None


def _periods(
    setup: YearSetup, total: int, previous: PropertyTaxAssessment | None, today: date
) -> list[dict[str, Any]]:
    year = setup.row.fiscal_year
    if total == 0:
        return []
    days = due_dates(setup.plan, year, setup.calendar)
    amounts = split_installments(total, len(days))
    fresh = [
        Period(item.label, day, amount)
        for item, day, amount in zip(setup.plan.installments, days, amounts, strict=True)
    ]
    if previous is None or not previous.installments:
        return [p.as_dict() for p in fresh]
    old = [Period.of(p) for p in previous.installments if p["amount"] >= 0]
    if not any(p.due < today for p in old):
        return [p.as_dict() for p in fresh]
    revised = revise(old, total, today)
    out = [p.as_dict() for p in revised.installments]
    if revised.refund:
        out.append({"label": "過誤納（還付）", "due": today.isoformat(), "amount": -revised.refund})
    return out


def liable_owners(fiscal_year: int) -> list[int]:
    """Everyone with 土地・家屋 on the 賦課期日, a 償却資産 申告 for the 年度, or a current
    assessment (whose property may have gone since: re-assessed to its new amount)."""
    ids: set[int] = set()
    ids.update(Parcel.objects.filter(as_of(fiscal_year)).values_list("owner_id", flat=True))
    ids.update(Building.objects.filter(as_of(fiscal_year)).values_list("owner_id", flat=True))
    ids.update(
        AssetDeclaration.objects.filter(fiscal_year=fiscal_year, is_current=True).values_list(
            "owner_id", flat=True
        )
    )
    ids.update(
        PropertyTaxAssessment.objects.filter(fiscal_year=fiscal_year, is_current=True).values_list(
            "owner_id", flat=True
        )
    )
    return sorted(ids)


def _assess_owners(
    owner_ids: Sequence[int],
    setup: YearSetup,
    result: RunResult,
    *,
    after_initial: bool,
    note: str = "",
) -> list[PropertyTaxAssessment]:
    year = setup.row.fiscal_year
    today = timezone.localdate()
    lands: dict[int, list[Parcel]] = defaultdict(list)
    houses: dict[int, list[Building]] = defaultdict(list)
    assets: dict[int, list[AssetDeclaration]] = defaultdict(list)
    for p in Parcel.objects.filter(as_of(year), owner_id__in=owner_ids).order_by("id"):
        lands[p.owner_id].append(p)
    for b in Building.objects.filter(as_of(year), owner_id__in=owner_ids).order_by("id"):
        houses[b.owner_id].append(b)
    for a in AssetDeclaration.objects.filter(
        fiscal_year=year, is_current=True, owner_id__in=owner_ids
    ):
        assets[a.owner_id].append(a)
    current = {
        a.owner_id: a
        for a in PropertyTaxAssessment.objects.filter(
            fiscal_year=year, owner_id__in=owner_ids, is_current=True
        ).only("id", "owner_id", "seq", "digest", "installments")
    }
    actor = current_actor().username
    tenant_id = current_tenant().id
    new: list[PropertyTaxAssessment] = []
    for owner_id in owner_ids:
        inputs = _owner_inputs(lands[owner_id], houses[owner_id], assets[owner_id])
        digest = _digest([inputs, setup.row.digest])
        previous = current.get(owner_id)
        if previous is not None and previous.digest == digest:
            result.unchanged += 1
            continue
        try:
            outcome = _assess_inputs(inputs, setup.params)
        except CommonRuleInputError as exc:
            result.problems.append((owner_id, exc.field, exc.message))
            continue
        total = outcome.total_tax
        new.append(
            PropertyTaxAssessment(
                municipality_id=tenant_id,
                owner_id=owner_id,
                fiscal_year=year,
                seq=(previous.seq + 1) if previous else 1,
                is_current=True,
                reason=AssessmentReason.CORRECTION
                if after_initial and previous is not None
                else AssessmentReason.INITIAL,
                params=setup.row,
                inputs=inputs,
                digest=digest,
                land_base=outcome.land.base,
                house_base=outcome.house.base,
                asset_base=outcome.assets.base,
                exempt=[
                    c.category
                    for c in (outcome.land, outcome.house, outcome.assets)
                    if c.exempt and c.raw_base > 0
                ],
                new_house_reduction=outcome.new_house_reduction,
                fixed_asset_tax=outcome.fixed_asset_tax,
                city_planning_tax=outcome.city_planning_tax,
                total=total,
                installments=_periods(setup, total, previous, today),
                created_by=actor,
                note=note,
            )
        )
    changed = [a.owner_id for a in new if a.seq > 1]
    if changed:
        PropertyTaxAssessment.objects.filter(
            fiscal_year=year, owner_id__in=changed, is_current=True
        ).update(is_current=False)
    insert_rows(PropertyTaxAssessment, new)
    result.owners += len(owner_ids)
    result.written += len(new)
    if new:
        emit(
            type="property_tax.assessed",
            subject_type="property_tax_year",
            subject_id=str(year),
            payload={
                "fiscal_year": year,
                "owners": [a.owner_id for a in new],
                "corrections": changed,
            },
        )
    return new


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
    """賦課: every 納税義務者 of the 年度, ``chunk_size`` owners per transaction; resumable
    (``job_key``) and idempotent (a re-run writes only what changed, as 更正).

    ``shard=(i, n)`` takes every n-th owner from the i-th, so that n workers (processes or
    machines) share one run (each shard is a job of its own, ``KEY:i/n``); the caller then
    decides ``initial`` once for all of them, as 個人住民税's run does.
    """
    index, count = check_shard(shard)
    with tenant_context(municipality):
        check_year(fiscal_year)
        setup = parameters_in_force(fiscal_year=fiscal_year)
        owners = liable_owners(fiscal_year)[index::count]
        if initial is None:
            initial = not PropertyTaxAssessment.objects.filter(fiscal_year=fiscal_year).exists()
    after_initial = not initial
    result = RunResult(fiscal_year)
    result.job = run_assessment(
        municipality=municipality,
        prefix="property_tax",
        fiscal_year=fiscal_year,
        items=owners,
        assess=lambda part: _assess_owners(part, setup, result, after_initial=after_initial),
        chunk_size=chunk_size,
        progress=progress,
        job_key=job_key,
        shard=shard,
        purpose=f"{wareki_nendo(fiscal_year)} 固定資産税の賦課",
        detail=lambda: {
            "owners": result.owners,
            "written": result.written,
            "unchanged": result.unchanged,
            "problems": result.problems[:100],
            "parameters_version": setup.row.version,
        },
    )
    return result


def assessment_correct(
    *, owner_id: int, fiscal_year: int, note: str
) -> PropertyTaxAssessment | None:
    """更正 of one 納税義務者 now (after a 異動 found late); None when nothing changed."""
    if not note.strip():
        raise ServiceError("更正の理由を入力してください", field="note")
    _owner(owner_id)
    setup = parameters_in_force(fiscal_year=fiscal_year)
    result = RunResult(fiscal_year)
    with transaction.atomic():
        new = _assess_owners([owner_id], setup, result, after_initial=True, note=note.strip())
        if result.problems:
            _, field_name, message = result.problems[0]
            raise ServiceError(message, field=field_name)
        audit_record(
            action=AuditAction.UPDATE,
            target_type="property_tax_assessment",
            target_id=owner_id,
            purpose=note.strip(),
            detail={"fiscal_year": fiscal_year, "changed": bool(new)},
        )
    if not new:
        return None
    # Written without reading the key back (``insert_rows``): the row as stored.
    return current_assessment(owner_id=owner_id, fiscal_year=fiscal_year)


# --- 説明と試算 -----------------------------------------------------------------------------------


def explain(assessment: PropertyTaxAssessment) -> rules.PropertyAssessment:
    """The computation behind a stored assessment, recomputed from its stored inputs and its
    parameter version; raises if the figures no longer match."""
    params = rules.params_from_mapping(
        rules.PropertyTaxParams.national_defaults(assessment.fiscal_year),
        assessment.params.overrides,
    )
    outcome: rules.PropertyAssessment = _assess_inputs(assessment.inputs, params)
    if outcome.total_tax != assessment.total:
        raise ServiceError(
            f"現在の規則で再計算すると年税額が {outcome.total_tax:,}円 になり、記録（"
            f"{assessment.total:,}円）と一致しません。再賦課してください。",
            field="assessment",
            code="stale",
        )
    return outcome


def _category_dict(c: rules.CategoryTotal) -> dict[str, Any]:
    return {
        "category": c.category,
        "raw_base": c.raw_base,
        "base": c.base,
        "exempt": c.exempt,
        "exemption_point": c.exemption_point,
        "tax": c.tax,
        "cp_base": c.cp_base,
        "cp_tax": c.cp_tax,
    }


def item_dict(item: rules.PropertyItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "label": item.label,
        "category": item.category,
        "assessed_value": item.assessed_value,
        "area_m2": None if item.area is None else f"{item.area / 100:.2f}",
        "small_residential_m2": f"{item.small_residential_area / 100:.2f}",
        "general_residential_m2": f"{item.general_residential_area / 100:.2f}",
        "standard_base": item.standard_base,
        "base": item.base,
        "cp_base": item.cp_base,
        "burden_level": item.burden_level,
        "new_house_reduction": item.new_house_reduction,
        "notes": list(item.notes),
    }


def outcome_dict(outcome: rules.PropertyAssessment) -> dict[str, Any]:
    """An assessment as JSON-ready data (API and ``moyai property simulate --json``)."""
    return {
        "fiscal_year": outcome.fiscal_year,
        "nendo": wareki_nendo(outcome.fiscal_year),
        "land": _category_dict(outcome.land),
        "house": _category_dict(outcome.house),
        "assets": _category_dict(outcome.assets),
        "tax_before_reduction": outcome.tax_before_reduction,
        "new_house_reduction": outcome.new_house_reduction,
        "fixed_asset_tax": outcome.fixed_asset_tax,
        "city_planning_tax": outcome.city_planning_tax,
        "total": outcome.total_tax,
        "items": [item_dict(i) for i in outcome.items],
        "trace": outcome.trace.as_list(),
    }


_SIM_KEYS = ("lands", "houses", "assets")


def simulate(
    *, fiscal_year: int, data: Mapping[str, Any], municipality: Municipality | None = None
) -> rules.PropertyAssessment:
    """試算: the tax of described 土地・家屋・償却資産 (one owner) under the municipality's
    parameters in force (or the national standard); nothing is stored. ``data`` is
    ``{"lands": [...], "houses": [...], "assets": [...]}`` in the shapes of
    ``rules.land_from_mapping`` etc."""
    check_year(fiscal_year)
    unknown = set(data) - set(_SIM_KEYS)
    if unknown:
        raise ServiceError(
            f"不明な項目です: {', '.join(sorted(unknown))}", field=sorted(unknown)[0]
        )
    for key in _SIM_KEYS:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise ServiceError("項目の一覧（[{…}, …]）で入力してください", field=key)
    if not any(data.get(k) for k in _SIM_KEYS):
        raise ServiceError("土地・家屋・償却資産のいずれかを入力してください", field="lands")
    params = rules.PropertyTaxParams.national_defaults(fiscal_year)
    if municipality is not None:
        with tenant_context(municipality):
            row = (
                PropertyTaxParameters.objects.filter(fiscal_year=fiscal_year)
                .order_by("-version")
                .first()
            )
        if row is not None:
            params = rules.params_from_mapping(params, row.overrides)
    try:
        outcome: rules.PropertyAssessment = _assess_inputs(data, params)
    except CommonRuleInputError as exc:
        raise ServiceError(exc.message, field=exc.field) from None
    return outcome


# --- 納税通知書（課税明細書） ---------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    serial: str
    pdf: bytes


def current_assessment(*, owner_id: int, fiscal_year: int) -> PropertyTaxAssessment:
    assessment: PropertyTaxAssessment | None = (
        PropertyTaxAssessment.objects.select_related("params", "owner")
        .filter(owner_id=owner_id, fiscal_year=fiscal_year, is_current=True)
        .first()
    )
    if assessment is None:
        raise ServiceError(
            f"{wareki_nendo(fiscal_year)}の固定資産税の課税がありません",
            field="owner_id",
            code="not_found",
        )
    return assessment


def _wareki_day(text: str) -> str:
    from moyai.registry.rules import wareki

    return wareki(date.fromisoformat(text))


def tax_notice_issue(*, owner_id: int, fiscal_year: int, purpose: str) -> Issued:
    """納税通知書 with the 課税明細書: the year's tax, the 4 期別 and every 土地・家屋 with its
    評価額 and 課税標準額; sent to the 納税管理人 or 送付先 where one is registered."""
    from moyai.documents.services import document_issue
    from moyai.tax.addressees.selectors import members
    from moyai.tax.addressees.services import mail_to
    from moyai.tax.property import documents as kinds

    _owner(owner_id)
    assessment = current_assessment(owner_id=owner_id, fiscal_year=fiscal_year)
    if assessment.total == 0:
        raise ServiceError(
            "年税額が0円（免税点未満）のため納税通知書は発行しません", field="owner_id"
        )
    outcome = explain(assessment)
    owner = assessment.owner
    to = mail_to(owner, BUSINESS)
    co_owners = [
        {"name": m.member.name, "address": m.member.address, "share": m.share}
        for m in members(group=owner)
    ]
    result = document_issue(
        kind=kinds.TAX_NOTICE.code,
        subject_type="tax_addressee",
        subject_id=owner.number,
        template_name="property_tax/notice.html",
        context={
            "nendo": wareki_nendo(fiscal_year),
            "as_of": _wareki_day(f"{fiscal_year}-01-01"),
            "to": to,
            "owner": owner,
            "co_owners": co_owners,
            "assessment": assessment,
            "outcome": outcome,
            "reason": assessment.get_reason_display()
            if assessment.reason != AssessmentReason.INITIAL
            else "",
            "periods": [
                {"label": p["label"], "due": _wareki_day(p["due"]), "amount": p["amount"]}
                for p in assessment.installments
                if p["amount"]
            ],
            "items": [item_dict(i) for i in outcome.items],
            "city_planning": bool(assessment.city_planning_tax)
            or any(i.cp_base for i in outcome.items),
        },
        purpose=purpose or "納税通知書の発送",
    )
    return Issued(result.document.serial, result.pdf)
