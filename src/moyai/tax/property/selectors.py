"""固定資産税: reads for the screens and the API (personal data reads are audited)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from moyai.platform.audit import audit_record
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction
from moyai.tax.addressees.models import Addressee, CoOwner
from moyai.tax.property.models import (
    AssetDeclaration,
    Building,
    Parcel,
    PropertyTaxAssessment,
)
from moyai.tax.property.services import as_of


@dataclass(frozen=True)
class YearOverview:
    fiscal_year: int
    parcels: int
    buildings: int
    declarations: int
    assessments: int
    taxed: int
    exempt: int
    fixed_asset_tax: int
    city_planning_tax: int
    corrections: int


def year_overview(*, fiscal_year: int) -> YearOverview:
    """Counts and totals of a 年度 (no personal data)."""
    current = PropertyTaxAssessment.objects.filter(fiscal_year=fiscal_year, is_current=True)
    totals = current.aggregate(
        n=Count("id"), fixed=Sum("fixed_asset_tax"), cp=Sum("city_planning_tax")
    )
    taxed = current.filter(total__gt=0).count()
    return YearOverview(
        fiscal_year=fiscal_year,
        parcels=Parcel.objects.filter(as_of(fiscal_year)).count(),
        buildings=Building.objects.filter(as_of(fiscal_year)).count(),
        declarations=AssetDeclaration.objects.filter(
            fiscal_year=fiscal_year, is_current=True
        ).count(),
        assessments=totals["n"] or 0,
        taxed=taxed,
        exempt=(totals["n"] or 0) - taxed,
        fixed_asset_tax=totals["fixed"] or 0,
        city_planning_tax=totals["cp"] or 0,
        corrections=PropertyTaxAssessment.objects.filter(
            fiscal_year=fiscal_year, reason="correction"
        ).count(),
    )


def parcel_search(
    *, lot_number: str, location: str = "", purpose: str, limit: int = 100
) -> list[Parcel]:
    """Current 土地 by 地番 (prefix) and 所在 (part), with their owners."""
    if not lot_number.strip() and not location.strip():
        raise ServiceError("地番か所在を入力してください", field="lot_number")
    qs = Parcel.objects.select_related("owner").filter(valid_to__isnull=True)
    if lot_number.strip():
        qs = qs.filter(lot_number__startswith=lot_number.strip())
    if location.strip():
        qs = qs.filter(location__contains=location.strip())
    rows = list(qs.order_by("location", "lot_number")[:limit])
    audit_record(
        action=AuditAction.READ,
        target_type="property_parcel_search",
        purpose=purpose,
        detail={"rows": len(rows)},
    )
    return rows


@dataclass
class OwnerLedger:
    """名寄帳: an owner's 土地・家屋・償却資産 of a 年度, the assessment and its history."""

    owner: Addressee
    fiscal_year: int
    parcels: list[Parcel]
    buildings: list[Building]
    declarations: list[AssetDeclaration]
    members: list[CoOwner]
    groups: list[Addressee]
    current: PropertyTaxAssessment | None
    history: list[PropertyTaxAssessment] = field(default_factory=list)
    changes: list[Parcel | Building] = field(default_factory=list)


def owner_ledger(*, owner_id: int, fiscal_year: int, purpose: str) -> OwnerLedger:
    owner: Addressee | None = (
        Addressee.objects.select_related("representative").filter(pk=owner_id).first()
    )
    if owner is None:
        raise ServiceError("宛名が見つかりません", field="owner_id", code="not_found")
    parcels = list(
        Parcel.objects.filter(as_of(fiscal_year), owner=owner).order_by("location", "lot_number")
    )
    buildings = list(
        Building.objects.filter(as_of(fiscal_year), owner=owner).order_by(
            "location", "house_number"
        )
    )
    declarations = list(
        AssetDeclaration.objects.filter(owner=owner, fiscal_year=fiscal_year).order_by("-seq")
    )
    history = list(
        PropertyTaxAssessment.objects.select_related("params", "owner")
        .filter(owner=owner, fiscal_year=fiscal_year)
        .order_by("-seq")
    )
    changes: list[Parcel | Building] = []
    changes += list(Parcel.objects.filter(owner=owner).filter(~Q(change="new"))[:50])
    changes += list(Building.objects.filter(owner=owner).filter(~Q(change="new"))[:50])
    changes.sort(key=lambda r: (r.changed_on, r.pk), reverse=True)
    audit_record(
        action=AuditAction.READ,
        target_type="tax_addressee",
        target_id=owner.number,
        purpose=purpose,
        detail={"業務": "固定資産税", "fiscal_year": fiscal_year},
    )
    return OwnerLedger(
        owner=owner,
        fiscal_year=fiscal_year,
        parcels=parcels,
        buildings=buildings,
        declarations=declarations,
        members=list(
            CoOwner.objects.select_related("member").filter(group=owner).order_by("member_id")
        ),
        groups=list(Addressee.objects.filter(co_owners__member=owner).order_by("number")),
        current=next((a for a in history if a.is_current), None),
        history=history,
        changes=changes,
    )


def parcel_history(*, parcel_id: int, purpose: str) -> list[Parcel]:
    """Every version of the 筆 with the same 所在・地番 (and the rows it came from); audited."""
    parcel: Parcel | None = Parcel.objects.filter(pk=parcel_id).first()
    if parcel is None:
        raise ServiceError("土地が見つかりません", field="parcel_id", code="not_found")
    audit_record(
        action=AuditAction.READ, target_type="property_parcel", target_id=parcel.pk, purpose=purpose
    )
    return list(
        Parcel.objects.select_related("owner")
        .filter(location=parcel.location, lot_number=parcel.lot_number)
        .order_by("valid_from", "id")
    )


def building_history(*, building_id: int, purpose: str) -> list[Building]:
    """Every version of the 家屋 with the same 所在・家屋番号; audited."""
    building: Building | None = Building.objects.filter(pk=building_id).first()
    if building is None:
        raise ServiceError("家屋が見つかりません", field="building_id", code="not_found")
    audit_record(
        action=AuditAction.READ,
        target_type="property_building",
        target_id=building.pk,
        purpose=purpose,
    )
    return list(
        Building.objects.select_related("owner")
        .filter(location=building.location, house_number=building.house_number)
        .order_by("valid_from", "id")
    )
