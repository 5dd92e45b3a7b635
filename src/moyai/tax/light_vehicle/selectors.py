"""軽自動車税: reads for the screens and the API (audited where personal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, Sum

from moyai.platform.audit import audit_record
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction
from moyai.tax.light_vehicle.models import LightVehicle, VehicleTaxAssessment
from moyai.tax.light_vehicle.services import owned_on


@dataclass(frozen=True)
class YearOverview:
    fiscal_year: int
    vehicles: int
    assessments: int
    exempted: int
    total: int


def year_overview(*, fiscal_year: int) -> YearOverview:
    current = VehicleTaxAssessment.objects.filter(fiscal_year=fiscal_year, is_current=True)
    totals = current.aggregate(n=Count("id"), total=Sum("tax"))
    return YearOverview(
        fiscal_year=fiscal_year,
        vehicles=LightVehicle.objects.filter(owned_on(date(fiscal_year, 4, 1))).count(),
        assessments=totals["n"] or 0,
        exempted=current.filter(exemption_amount__gt=0).count(),
        total=totals["total"] or 0,
    )


def vehicle_search(*, plate: str, purpose: str, limit: int = 100) -> list[LightVehicle]:
    """Vehicles (current and past owners) whose 標識番号 contains ``plate``."""
    text = plate.strip()
    if not text:
        raise ServiceError("標識番号を入力してください", field="plate")
    rows = list(
        LightVehicle.objects.select_related("owner")
        .filter(Q(plate__contains=text))
        .order_by("plate", "-acquired_on")[:limit]
    )
    audit_record(
        action=AuditAction.READ,
        target_type="light_vehicle_search",
        purpose=purpose,
        detail={"rows": len(rows)},
    )
    return rows


def vehicle_get(*, vehicle_id: int, purpose: str) -> LightVehicle:
    vehicle: LightVehicle | None = (
        LightVehicle.objects.select_related("owner").filter(pk=vehicle_id).first()
    )
    if vehicle is None:
        raise ServiceError("車両が見つかりません", field="vehicle_id", code="not_found")
    audit_record(
        action=AuditAction.READ,
        target_type="light_vehicle",
        target_id=vehicle.pk,
        purpose=purpose,
    )
    return vehicle


def plate_history(*, vehicle: LightVehicle) -> list[LightVehicle]:
    return list(
        LightVehicle.objects.select_related("owner")
        .filter(plate=vehicle.plate)
        .order_by("acquired_on", "id")
    )


def vehicle_assessments(*, vehicle: LightVehicle) -> list[VehicleTaxAssessment]:
    return list(
        VehicleTaxAssessment.objects.select_related("owner")
        .filter(vehicle=vehicle)
        .order_by("-fiscal_year", "-seq")
    )


def owner_vehicles(*, owner_id: int) -> list[LightVehicle]:
    return list(LightVehicle.objects.filter(owner_id=owner_id).order_by("plate", "acquired_on"))
