"""軽自動車税の画面: 年度の状況・検索（標識番号・所有者）→ 車両（履歴・課税・減免）→
納税通知書（所有者ごと）, 車両の登録・修正・名義変更・廃車, 賦課の実行（バックグラウンド）."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from moyai.platform.errors import ServiceError
from moyai.platform.models import Role
from moyai.platform.permissions import require_role
from moyai.tax.addressees import selectors as addressees
from moyai.tax.addressees.models import Addressee
from moyai.tax.common.forms import LedgerForm
from moyai.tax.common.services import assessment_run_request
from moyai.tax.light_vehicle import forms, selectors, services
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
    """賦課の実行 as a background task (chunked, resumable, idempotent); the shared progress
    page of the tax runs follows it."""
    from moyai.tax.light_vehicle.tasks import assess_year

    year = _year(request)
    key = assessment_run_request(
        task=assess_year,
        prefix="light_vehicle_tax",
        fiscal_year=year,
        purpose=f"{wareki_nendo(year)} 軽自動車税の賦課の実行",
    )
    query = urlencode({"key": key, "year": year, "back": "/tax/light-vehicle/"})
    return redirect(f"/tax/resident/progress/?{query}")


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


def _form_page(
    request: HttpRequest,
    form: LedgerForm,
    title: str,
    write: Callable[[LedgerForm], str],
    vehicle: LightVehicle | None = None,
) -> HttpResponse:
    """POST: the form, then the service (its error on the field it names, nothing written)."""
    if request.method == "POST" and form.is_valid():
        try:
            return redirect(write(form))
        except ServiceError as exc:
            form.attach(exc.field, exc.message)
    return render(
        request,
        "light_vehicle_tax/form.html",
        {"form": form, "title": title, "v": vehicle},
        status=400 if request.method == "POST" else 200,
    )


def _owner_id(number: str) -> int:
    from moyai.tax.addressees.services import OwnerSpec, owner_resolve

    return owner_resolve(spec=OwnerSpec(number=number)).pk


def _vehicle_or_404(vehicle_id: int) -> LightVehicle:
    row: LightVehicle | None = (
        LightVehicle.objects.select_related("owner").filter(pk=vehicle_id).first()
    )
    if row is None:
        raise Http404("車両が見つかりません")
    return row


@tax_role
def vehicle_new(request: HttpRequest) -> HttpResponse:
    """登録（標識の交付・新規検査・転入）."""
    form = forms.VehicleRegisterForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        assert isinstance(f, forms.VehicleRegisterForm)
        new = services.vehicle_register(
            owner_id=_owner_id(f.cleaned_data["owner_number"]),
            facts=f.facts(),
            acquired_on=f.cleaned_data["acquired_on"],
            note=f.cleaned_data.get("note") or "",
        )
        messages.success(request, f"{new.plate} を登録しました")
        return f"/tax/light-vehicle/vehicles/{new.pk}/"

    return _form_page(request, form, "軽自動車等の登録", write)


@tax_role
def vehicle_edit(request: HttpRequest, vehicle_id: int) -> HttpResponse:
    """登録内容の修正 (車検証の記載どおりに)."""
    row = _vehicle_or_404(vehicle_id)
    form = forms.VehicleCorrectForm(
        request.POST if request.method == "POST" else None,
        initial={
            "plate": row.plate,
            "vehicle_class": row.vehicle_class,
            "use": row.use,
            "first_inspection": row.first_inspection,
            "fuel": row.fuel,
            "towed": row.towed,
            "new_registration": row.new_registration,
            "green_50_standard": row.green_50_standard,
        },
    )

    def write(f: LedgerForm) -> str:
        assert isinstance(f, forms.VehicleCorrectForm)
        services.vehicle_correct(vehicle_id=row.pk, facts=f.facts(), note=f.cleaned_data["note"])
        messages.success(request, "登録内容を修正しました（次の賦課から反映）")
        return f"/tax/light-vehicle/vehicles/{row.pk}/"

    return _form_page(request, form, f"登録内容の修正 {row.plate}", write, row)


@tax_role
def vehicle_transfer(request: HttpRequest, vehicle_id: int) -> HttpResponse:
    """名義変更 (same 標識番号, a new owner from the day)."""
    row = _vehicle_or_404(vehicle_id)
    form = forms.TransferForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        d = f.cleaned_data
        new = services.vehicle_transfer(
            vehicle_id=row.pk,
            owner_id=_owner_id(d["owner_number"]),
            changed_on=d["changed_on"],
            note=d["note"],
        )
        messages.success(request, "名義変更を登録しました")
        return f"/tax/light-vehicle/vehicles/{new.pk}/"

    return _form_page(request, form, f"名義変更 {row.plate}", write, row)


@tax_role
def vehicle_scrap(request: HttpRequest, vehicle_id: int) -> HttpResponse:
    """廃車（抹消・転出）: not taxed from the next 4月1日 on."""
    row = _vehicle_or_404(vehicle_id)
    form = forms.ScrapForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        d = f.cleaned_data
        services.vehicle_scrap(vehicle_id=row.pk, changed_on=d["changed_on"], note=d["note"])
        messages.success(request, "廃車を登録しました")
        return f"/tax/light-vehicle/vehicles/{row.pk}/"

    return _form_page(request, form, f"廃車 {row.plate}", write, row)
