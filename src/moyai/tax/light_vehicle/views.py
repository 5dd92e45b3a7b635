"""軽自動車税の画面: 年度の状況・検索（標識番号・所有者）→ 車両（履歴・課税・減免）→
納税通知書（所有者ごと）, 賦課の実行."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from moyai.platform.errors import ServiceError
from moyai.platform.models import Municipality, Role
from moyai.platform.permissions import require_role
from moyai.tax.addressees import selectors as addressees
from moyai.tax.addressees.models import Addressee
from moyai.tax.light_vehicle import selectors, services
from moyai.tax.light_vehicle.models import LightVehicle
from moyai.tax.resident.rules import wareki_nendo

tax_role = require_role(Role.TAX)
PURPOSE = "軽自動車税の賦課事務"
YEARS = [(y, wareki_nendo(y)) for y in services.SUPPORTED_FISCAL_YEARS]


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or 0)
    except ValueError:
        year = 0
    if year in services.SUPPORTED_FISCAL_YEARS:
        return year
    today = timezone.localdate()
    current = today.year if today.month >= 4 else today.year - 1
    first, last = services.SUPPORTED_FISCAL_YEARS[0], services.SUPPORTED_FISCAL_YEARS[-1]
    return min(max(current, first), last)


@tax_role
def overview(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    plate = request.GET.get("plate", "").strip()
    q = request.GET.get("q", "").strip()
    vehicles = owners = None
    error = ""
    try:
        if plate:
            vehicles = selectors.vehicle_search(plate=plate, purpose=f"{PURPOSE}（標識番号の検索）")
        if q:
            owners = [
                (a, selectors.owner_vehicles(owner_id=a.pk))
                for a in addressees.addressee_search(query=q, purpose=f"{PURPOSE}（宛名の検索）")
            ]
    except ServiceError as exc:
        error = exc.message
    return render(
        request,
        "light_vehicle_tax/overview.html",
        {
            "year": year,
            "nendo": wareki_nendo(year),
            "years": YEARS,
            "o": selectors.year_overview(fiscal_year=year),
            "vehicles": vehicles,
            "owners": owners,
            "error": error,
        },
    )


@tax_role
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    code = request.tenant.code  # type: ignore[attr-defined]
    tenant = Municipality.objects.get(code=code)
    result = services.assessment_run(municipality=tenant, fiscal_year=year)
    messages.success(
        request,
        f"{wareki_nendo(year)}: 車両 {result.vehicles} 台、賦課 {result.written} 件、"
        f"変更なし {result.unchanged} 件、誤り {len(result.problems)} 件",
    )
    return redirect(f"/tax/light-vehicle/?year={year}")


@tax_role
def vehicle(request: HttpRequest, vehicle_id: int) -> HttpResponse:
    """A vehicle: its 標識番号's owners over time, assessments and 減免."""
    if not LightVehicle.objects.filter(pk=vehicle_id).exists():
        raise Http404("車両が見つかりません")
    error = ""
    if request.method == "POST":
        try:
            services.exemption_set(
                vehicle_id=vehicle_id,
                reason=request.POST.get("reason", ""),
                ratio=request.POST.get("ratio", "1/1") or "1/1",
                note=request.POST.get("note", ""),
            )
            messages.success(request, "減免を登録しました（次の賦課から反映）")
            return redirect(f"/tax/light-vehicle/vehicles/{vehicle_id}/")
        except ServiceError as exc:
            error = exc.message
    v = selectors.vehicle_get(vehicle_id=vehicle_id, purpose=PURPOSE)
    return render(
        request,
        "light_vehicle_tax/vehicle.html",
        {
            "v": v,
            "history": selectors.plate_history(vehicle=v),
            "assessments": selectors.vehicle_assessments(vehicle=v),
            "error": error,
        },
        status=400 if error else 200,
    )


@tax_role
@require_POST
def notice(request: HttpRequest, addressee_id: int) -> HttpResponse:
    if not Addressee.objects.filter(pk=addressee_id).exists():
        raise Http404("宛名が見つかりません")
    year = _year(request)
    try:
        issued = services.tax_notice_issue(
            owner_id=addressee_id, fiscal_year=year, purpose="納税通知書の交付（窓口）"
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(f"/tax/light-vehicle/?year={year}")
    response = HttpResponse(issued.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{issued.serial}.pdf"'
    response["X-Moyai-Serial"] = issued.serial
    return response
