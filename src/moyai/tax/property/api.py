"""固定資産税 API: 試算 (public, stores nothing), an owner's 名寄帳 with the assessment and its
explanation, 更正, and the 年度 overview."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from moyai.platform.api import require_api_role
from moyai.platform.errors import ServiceError
from moyai.platform.models import Role
from moyai.platform.selectors import active_municipality
from moyai.tax.addressees.models import Addressee
from moyai.tax.property import selectors, services
from moyai.tax.property.models import Building, Parcel, PropertyTaxAssessment
from moyai.tax.resident.rules import wareki_nendo

router = Router(tags=["固定資産税"])
YEAR = Field(description="年度（西暦）。2025 = 令和7年度、2026 = 令和8年度", ge=2025, le=2026)


def _role(request: HttpRequest) -> None:
    require_api_role(request, Role.TAX)


def _exists(addressee_id: int) -> None:
    if not Addressee.objects.filter(pk=addressee_id).exists():
        raise ServiceError("宛名が見つかりません", field="addressee_id", code="not_found")


class StepOut(Schema):
    key: str
    label: str
    amount: int
    basis: str
    law: str
    group: str


class CategoryOut(Schema):
    category: str
    raw_base: int = Field(description="課税標準額の合計（切捨て前）")
    base: int = Field(description="課税標準額（1,000円未満切捨て、免税点未満は0）")
    exempt: bool = Field(description="免税点未満")
    exemption_point: int
    tax: int
    cp_base: int
    cp_tax: int


class ItemOut(Schema):
    kind: str
    label: str
    category: str
    assessed_value: int
    area_m2: str | None
    small_residential_m2: str
    general_residential_m2: str
    standard_base: int
    base: int
    cp_base: int
    burden_level: str
    new_house_reduction: int
    notes: list[str]


class OutcomeOut(Schema):
    fiscal_year: int
    nendo: str
    land: CategoryOut
    house: CategoryOut
    assets: CategoryOut
    tax_before_reduction: int
    new_house_reduction: int
    fixed_asset_tax: int
    city_planning_tax: int
    total: int
    items: list[ItemOut] = Field(description="課税明細（土地・家屋・償却資産）")
    trace: list[StepOut] = Field(description="計算の説明（順に）")


class SimulateIn(Schema):
    fiscal_year: int = YEAR
    municipality_code: str = Field(
        "", description="団体コード（6桁）。その団体の税率等で計算。空なら全国標準"
    )
    property: dict[str, Any] = Field(
        description='{"lands": [...], "houses": [...], "assets": [...]}'
        "（docs/property-tax.md の「試算の JSON」）。例: "
        '{"lands": [{"category": "宅地", "area_m2": "200", "assessed_value": 12000000, '
        '"dwellings": 1}]}'
    )


@router.post(
    "/tax/property/simulate",
    response=OutcomeOut,
    auth=None,
    summary="固定資産税の試算（公開・認証不要、何も保存しない）",
)
def simulate(request: HttpRequest, body: SimulateIn) -> dict[str, Any]:
    """The same computation as a real assessment of one owner; nothing is stored."""
    municipality = None
    if body.municipality_code:
        municipality = active_municipality(code=body.municipality_code)
        if municipality is None:
            raise ServiceError("団体が見つかりません", field="municipality_code", code="not_found")
    outcome = services.simulate(
        fiscal_year=body.fiscal_year, data=body.property, municipality=municipality
    )
    return services.outcome_dict(outcome)


class PeriodOut(Schema):
    label: str
    due: str
    amount: int


class AssessmentOut(Schema):
    owner_number: str
    fiscal_year: int
    seq: int = Field(description="履歴番号")
    is_current: bool
    reason: str = Field(description="initial 当初 / correction 更正")
    parameters_version: int
    land_base: int
    house_base: int
    asset_base: int
    exempt: list[str] = Field(description="免税点未満の区分")
    new_house_reduction: int
    fixed_asset_tax: int
    city_planning_tax: int
    total: int
    installments: list[PeriodOut]
    created_at: str
    note: str

    @staticmethod
    def of(a: PropertyTaxAssessment) -> dict[str, Any]:
        return {
            "owner_number": a.owner.number,
            "fiscal_year": a.fiscal_year,
            "seq": a.seq,
            "is_current": a.is_current,
            "reason": a.reason,
            "parameters_version": a.params.version,
            "land_base": a.land_base,
            "house_base": a.house_base,
            "asset_base": a.asset_base,
            "exempt": a.exempt,
            "new_house_reduction": a.new_house_reduction,
            "fixed_asset_tax": a.fixed_asset_tax,
            "city_planning_tax": a.city_planning_tax,
            "total": a.total,
            "installments": a.installments,
            "created_at": a.created_at.isoformat(),
            "note": a.note,
        }


class OwnerOut(Schema):
    id: int
    number: str = Field(description="税務宛名番号")
    kind: str = Field(description="resident / non_resident / corporation / co_owners")
    name: str
    address: str


class ParcelOut(Schema):
    id: int
    location: str = Field(description="所在")
    lot_number: str = Field(description="地番")
    land_use: str = Field(description="地目")
    area_m2: str = Field(description="地積（㎡）")
    assessed_value: int = Field(description="評価額")
    valid_from: int
    change: str

    @staticmethod
    def of(p: Parcel) -> dict[str, Any]:
        return {
            "id": p.pk,
            "location": p.location,
            "lot_number": p.lot_number,
            "land_use": p.land_use,
            "area_m2": f"{p.area / 100:.2f}",
            "assessed_value": p.assessed_value,
            "valid_from": p.valid_from,
            "change": p.change,
        }


class BuildingOut(Schema):
    id: int
    location: str
    house_number: str = Field(description="家屋番号")
    house_kind: str = Field(description="種類")
    structure: str = Field(description="構造")
    floor_area_m2: str
    built_year: int
    assessed_value: int

    @staticmethod
    def of(b: Building) -> dict[str, Any]:
        return {
            "id": b.pk,
            "location": b.location,
            "house_number": b.house_number,
            "house_kind": b.house_kind,
            "structure": b.structure,
            "floor_area_m2": f"{b.floor_area / 100:.2f}",
            "built_year": b.built_year,
            "assessed_value": b.assessed_value,
        }


class MemberOut(Schema):
    number: str
    name: str
    share: str


class LedgerOut(Schema):
    owner: OwnerOut
    fiscal_year: int
    nendo: str
    co_owners: list[MemberOut]
    parcels: list[ParcelOut]
    buildings: list[BuildingOut]
    declared_assets: int | None = Field(description="償却資産の申告（課税標準額）")
    current: AssessmentOut | None
    explanation: OutcomeOut | None
    history: list[AssessmentOut]


class LedgerIn(Schema):
    fiscal_year: int = YEAR
    purpose: str = Field(min_length=1, max_length=200, description="照会の目的（記録されます）")


@router.get(
    "/tax/property/owners/{addressee_id}",
    response=LedgerOut,
    summary="名寄帳（所有者の土地・家屋・償却資産）と課税・計算の説明",
)
def owner_ledger(request: HttpRequest, addressee_id: int, q: Query[LedgerIn]) -> dict[str, Any]:
    _role(request)
    _exists(addressee_id)
    ledger = selectors.owner_ledger(
        owner_id=addressee_id, fiscal_year=q.fiscal_year, purpose=q.purpose
    )
    current = ledger.current
    declared = next((d.declared_base for d in ledger.declarations if d.is_current), None)
    o = ledger.owner
    return {
        "owner": {
            "id": o.pk,
            "number": o.number,
            "kind": o.kind,
            "name": o.name,
            "address": o.address,
        },
        "fiscal_year": q.fiscal_year,
        "nendo": wareki_nendo(q.fiscal_year),
        "co_owners": [
            {"number": m.member.number, "name": m.member.name, "share": m.share}
            for m in ledger.members
        ],
        "parcels": [ParcelOut.of(p) for p in ledger.parcels],
        "buildings": [BuildingOut.of(b) for b in ledger.buildings],
        "declared_assets": declared,
        "current": AssessmentOut.of(current) if current else None,
        "explanation": services.outcome_dict(services.explain(current)) if current else None,
        "history": [AssessmentOut.of(a) for a in ledger.history],
    }


class CorrectionIn(Schema):
    fiscal_year: int = YEAR
    note: str = Field(min_length=1, max_length=200, description="更正の理由")


class CorrectionOut(Schema):
    changed: bool
    assessment: AssessmentOut | None


@router.post(
    "/tax/property/owners/{addressee_id}/correction",
    response=CorrectionOut,
    summary="更正（現在の課税台帳による再計算）",
)
def correction(request: HttpRequest, addressee_id: int, body: CorrectionIn) -> dict[str, Any]:
    _role(request)
    _exists(addressee_id)
    new = services.assessment_correct(
        owner_id=addressee_id, fiscal_year=body.fiscal_year, note=body.note
    )
    return {"changed": new is not None, "assessment": AssessmentOut.of(new) if new else None}


class OverviewIn(Schema):
    fiscal_year: int = YEAR


class OverviewOut(Schema):
    fiscal_year: int
    nendo: str
    parcels: int
    buildings: int
    declarations: int
    assessments: int
    taxed: int
    exempt: int
    fixed_asset_tax: int
    city_planning_tax: int
    corrections: int


@router.get("/tax/property/overview", response=OverviewOut, summary="年度の状況（件数・合計）")
def overview(request: HttpRequest, q: Query[OverviewIn]) -> dict[str, Any]:
    _role(request)
    o = selectors.year_overview(fiscal_year=q.fiscal_year)
    return {**o.__dict__, "nendo": wareki_nendo(q.fiscal_year)}
