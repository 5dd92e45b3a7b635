"""軽自動車税 API: 試算 (public, stores nothing), a vehicle with its assessments, overview."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from moyai.platform.api import require_api_role
from moyai.platform.errors import ServiceError
from moyai.platform.models import Role
from moyai.platform.selectors import active_municipality
from moyai.tax.light_vehicle import selectors, services
from moyai.tax.light_vehicle.models import LightVehicle
from moyai.tax.resident.rules import wareki_nendo

router = Router(tags=["軽自動車税"])
YEAR = Field(description="年度（西暦）。2025 = 令和7年度、2026 = 令和8年度", ge=2025, le=2026)


class StepOut(Schema):
    key: str
    label: str
    amount: int
    basis: str
    law: str
    group: str


class OutcomeOut(Schema):
    fiscal_year: int
    nendo: str
    vehicle_class: str
    vehicle_class_label: str
    rate_kind: str = Field(description="標準税率 / 経年車重課 / グリーン化特例 …")
    standard_tax: int
    exemption_amount: int = Field(description="減免額")
    tax: int
    trace: list[StepOut]


class SimulateIn(Schema):
    fiscal_year: int = YEAR
    municipality_code: str = Field("", description="団体コード（6桁）。空なら標準税率")
    vehicle: dict[str, Any] = Field(
        description='例: {"vehicle_class": "passenger", "use": "private", '
        '"first_inspection": "2012-03", "fuel": "gasoline"}'
    )
    exemption: dict[str, Any] | None = Field(
        None, description='減免。例: {"reason": "身体障害者等", "ratio": "1/1"}'
    )


@router.post(
    "/tax/light-vehicle/simulate",
    response=OutcomeOut,
    auth=None,
    summary="軽自動車税（種別割）の試算（公開・認証不要、何も保存しない）",
)
def simulate(request: HttpRequest, body: SimulateIn) -> dict[str, Any]:
    municipality = None
    if body.municipality_code:
        municipality = active_municipality(code=body.municipality_code)
        if municipality is None:
            raise ServiceError("団体が見つかりません", field="municipality_code", code="not_found")
    outcome = services.simulate(
        fiscal_year=body.fiscal_year,
        data={"vehicle": body.vehicle, "exemption": body.exemption},
        municipality=municipality,
    )
    return services.outcome_dict(outcome)


class AssessmentOut(Schema):
    fiscal_year: int
    seq: int
    is_current: bool
    owner_number: str
    rate_kind: str
    standard_tax: int
    exemption_amount: int
    tax: int
    due: str


class VehicleOut(Schema):
    id: int
    plate: str = Field(description="標識番号")
    vehicle_class: str
    use: str
    first_inspection: str
    fuel: str
    owner_number: str
    owner_name: str
    acquired_on: str
    released_on: str | None
    exemption: dict[str, Any] | None
    assessments: list[AssessmentOut]


class VehicleIn(Schema):
    purpose: str = Field(min_length=1, max_length=200, description="照会の目的（記録されます）")


@router.get(
    "/tax/light-vehicle/vehicles/{vehicle_id}",
    response=VehicleOut,
    summary="車両（標識番号・所有者）と課税",
)
def vehicle(request: HttpRequest, vehicle_id: int, q: Query[VehicleIn]) -> dict[str, Any]:
    require_api_role(request, Role.TAX)
    if not LightVehicle.objects.filter(pk=vehicle_id).exists():
        raise ServiceError("車両が見つかりません", field="vehicle_id", code="not_found")
    v = selectors.vehicle_get(vehicle_id=vehicle_id, purpose=q.purpose)
    return {
        "id": v.pk,
        "plate": v.plate,
        "vehicle_class": v.vehicle_class,
        "use": v.use,
        "first_inspection": v.first_inspection,
        "fuel": v.fuel,
        "owner_number": v.owner.number,
        "owner_name": v.owner.name,
        "acquired_on": v.acquired_on.isoformat(),
        "released_on": v.released_on.isoformat() if v.released_on else None,
        "exemption": v.exemption,
        "assessments": [
            {
                "fiscal_year": a.fiscal_year,
                "seq": a.seq,
                "is_current": a.is_current,
                "owner_number": a.owner.number,
                "rate_kind": a.rate_kind,
                "standard_tax": a.standard_tax,
                "exemption_amount": a.exemption_amount,
                "tax": a.tax,
                "due": a.due.isoformat(),
            }
            for a in selectors.vehicle_assessments(vehicle=v)
        ],
    }


class OverviewIn(Schema):
    fiscal_year: int = YEAR


class OverviewOut(Schema):
    fiscal_year: int
    nendo: str
    vehicles: int
    assessments: int
    exempted: int
    total: int


@router.get("/tax/light-vehicle/overview", response=OverviewOut, summary="年度の状況")
def overview(request: HttpRequest, q: Query[OverviewIn]) -> dict[str, Any]:
    require_api_role(request, Role.TAX)
    o = selectors.year_overview(fiscal_year=q.fiscal_year)
    return {**o.__dict__, "nendo": wareki_nendo(q.fiscal_year)}
