"""固定資産税の画面: 年度の状況・検索（所有者・地番）→ 名寄帳 → 納税通知書（課税明細書）,
土地の履歴と所有権移転, 賦課の実行. Views parse input and call selectors/services (税務)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from moyai.platform.audit import audit_record
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction, Role
from moyai.platform.permissions import require_role
from moyai.tax.addressees import selectors as addressees
from moyai.tax.addressees.models import Addressee
from moyai.tax.property import selectors, services
from moyai.tax.property.models import Parcel
from moyai.tax.resident.rules import wareki_nendo

tax_role = require_role(Role.TAX)
PURPOSE = "固定資産税の賦課事務"
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


def _pdf(issued: services.Issued) -> HttpResponse:
    response = HttpResponse(issued.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{issued.serial}.pdf"'
    response["X-Moyai-Serial"] = issued.serial
    return response


def _owner_exists(addressee_id: int) -> None:
    if not Addressee.objects.filter(pk=addressee_id).exists():
        raise Http404("宛名が見つかりません")


@tax_role
def overview(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    q = request.GET.get("q", "").strip()
    lot = request.GET.get("lot_number", "").strip()
    location = request.GET.get("location", "").strip()
    owners = parcels = None
    error = ""
    try:
        if q:
            owners = addressees.addressee_search(query=q, purpose=f"{PURPOSE}（宛名の検索）")
        if lot or location:
            parcels = selectors.parcel_search(
                lot_number=lot, location=location, purpose=f"{PURPOSE}（地番の検索）"
            )
    except ServiceError as exc:
        error = exc.message
    return render(
        request,
        "property_tax/overview.html",
        {
            "year": year,
            "nendo": wareki_nendo(year),
            "years": YEARS,
            "o": selectors.year_overview(fiscal_year=year),
            "owners": owners,
            "parcels": parcels,
            "error": error,
        },
    )


@tax_role
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    """賦課の実行 (chunked and idempotent; a re-run writes only what changed)."""
    from urllib.parse import urlencode

    from moyai.platform.audit import audit_record, current_actor
    from moyai.platform.models import AuditAction
    from moyai.tax.property.tasks import assess_year

    year = _year(request)
    code = request.tenant.code  # type: ignore[attr-defined]
    key = f"property_tax.assess:{year}:{timezone.now().isoformat()}"
    audit_record(
        action=AuditAction.CREATE,
        target_type="property_tax_assessment_run",
        target_id=key[:64],
        purpose=f"{wareki_nendo(year)} 固定資産税の賦課の実行",
        detail={"requested_by": current_actor().username},
    )
    assess_year.enqueue(code, year, key)
    query = urlencode({"key": key, "year": year, "back": "/tax/property/"})
    return redirect(f"/tax/resident/progress/?{query}")


@tax_role
def owner(request: HttpRequest, addressee_id: int) -> HttpResponse:
    """名寄帳: the owner's 土地・家屋・償却資産 on the 賦課期日 and the assessment."""
    _owner_exists(addressee_id)
    year = _year(request)
    ledger = selectors.owner_ledger(owner_id=addressee_id, fiscal_year=year, purpose=PURPOSE)
    explained = stale = None
    if ledger.current is not None:
        try:
            explained = services.outcome_dict(services.explain(ledger.current))
        except ServiceError as exc:
            stale = exc.message
    return render(
        request,
        "property_tax/owner.html",
        {
            "year": year,
            "nendo": wareki_nendo(year),
            "years": YEARS,
            "l": ledger,
            "explained": explained,
            "stale": stale,
        },
    )


@tax_role
@require_POST
def notice(request: HttpRequest, addressee_id: int) -> HttpResponse:
    _owner_exists(addressee_id)
    year = _year(request)
    try:
        issued = services.tax_notice_issue(
            owner_id=addressee_id, fiscal_year=year, purpose="納税通知書の交付（窓口）"
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(f"/tax/property/owners/{addressee_id}/?year={year}")
    return _pdf(issued)


@tax_role
def parcel(request: HttpRequest, parcel_id: int) -> HttpResponse:
    """土地の履歴 (every version by 年度) and 所有権移転."""
    row: Parcel | None = Parcel.objects.select_related("owner").filter(pk=parcel_id).first()
    if row is None:
        raise Http404("土地が見つかりません")
    error = ""
    if request.method == "POST":
        try:
            number = request.POST.get("owner_number", "").strip()
            new_owner = Addressee.objects.filter(number=number).first()
            if new_owner is None:
                raise ServiceError("新しい所有者の税務宛名番号が見つかりません", field="owner_id")
            changed_on = date.fromisoformat(request.POST.get("changed_on", ""))
            services.parcel_transfer(
                parcel_id=row.pk,
                owner_id=new_owner.pk,
                changed_on=changed_on,
                note=request.POST.get("note", ""),
            )
            messages.success(request, "所有権移転を登録しました")
            return redirect(f"/tax/property/owners/{new_owner.pk}/")
        except ValueError:
            error = "異動日は YYYY-MM-DD で入力してください"
        except ServiceError as exc:
            error = exc.message
    history = selectors.parcel_history(parcel_id=row.pk)
    audit_record(
        action=AuditAction.READ,
        target_type="property_parcel",
        target_id=row.pk,
        purpose=PURPOSE,
    )
    return render(
        request,
        "property_tax/parcel.html",
        {"p": row, "history": history, "error": error},
        status=400 if error else 200,
    )
