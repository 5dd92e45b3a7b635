"""固定資産税の画面: 年度の状況・検索（所有者・地番）→ 名寄帳 → 納税通知書（課税明細書）,
課税台帳の入力（土地・家屋の登録と修正、分筆・合筆・滅失・所有権移転、償却資産の申告）, 賦課の実行.
Views parse forms and call selectors/services (税務); a refused input writes nothing (400)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
from moyai.tax.property import forms, selectors, services
from moyai.tax.property.models import Building, Parcel
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

    from moyai.tax.common.services import assessment_run_request
    from moyai.tax.property.tasks import assess_year

    year = _year(request)
    key = assessment_run_request(
        task=assess_year,
        prefix="property_tax",
        fiscal_year=year,
        purpose=f"{wareki_nendo(year)} 固定資産税の賦課の実行",
    )
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


def _ledger_form(
    request: HttpRequest,
    form: LedgerForm,
    template: str,
    context: dict[str, Any],
    write: Callable[[LedgerForm], str],
) -> HttpResponse:
    """POST: the form, then the service (its ServiceError on the field it names, nothing
    written); success redirects to what ``write`` returns. 400 with the messages otherwise."""
    if request.method == "POST" and form.is_valid():
        try:
            return redirect(write(form))
        except ServiceError as exc:
            form.attach(exc.field, exc.message)
    return render(
        request,
        template,
        {"form": form, **context},
        status=400 if request.method == "POST" else 200,
    )


def _current_parcel(parcel_id: int) -> Parcel:
    row: Parcel | None = Parcel.objects.select_related("owner").filter(pk=parcel_id).first()
    if row is None:
        raise Http404("土地が見つかりません")
    return row


def _current_building(building_id: int) -> Building:
    row: Building | None = Building.objects.select_related("owner").filter(pk=building_id).first()
    if row is None:
        raise Http404("家屋が見つかりません")
    return row


@tax_role
def parcel(request: HttpRequest, parcel_id: int) -> HttpResponse:
    """土地の履歴 (every version by 年度) and 所有権移転 (to one owner or to co-owners)."""
    row = _current_parcel(parcel_id)
    form = forms.TransferForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        assert isinstance(f, forms.TransferForm)
        new = services.parcel_transfer(
            parcel_id=row.pk,
            owner=f.owner_spec(),
            changed_on=f.cleaned_data["changed_on"],
            note=f.cleaned_data["note"],
        )
        messages.success(request, "所有権移転を登録しました")
        return f"/tax/property/owners/{new.owner_id}/"

    history = selectors.parcel_history(parcel_id=row.pk, purpose=PURPOSE)
    response = _ledger_form(
        request, form, "property_tax/parcel.html", {"p": row, "history": history}, write
    )
    return response


@tax_role
def parcel_new(request: HttpRequest) -> HttpResponse:
    """土地の新規登録 (所有者は単独の税務宛名番号か、共有者と持分と代表者)."""
    form = forms.ParcelRegisterForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        assert isinstance(f, forms.ParcelRegisterForm)
        new = services.parcel_register(
            owner=f.owner_spec(),
            facts=f.facts(),
            changed_on=f.cleaned_data["changed_on"],
            note=f.cleaned_data["note"],
        )
        messages.success(request, f"土地 {new} を登録しました")
        return f"/tax/property/parcels/{new.pk}/"

    return _ledger_form(
        request, form, "property_tax/ledger_form.html", {"title": "土地の登録"}, write
    )


@tax_role
def parcel_edit(request: HttpRequest, parcel_id: int) -> HttpResponse:
    """土地の修正 (評価額・地積・住宅用地 …) from a 年度 on: a new version of the row."""
    row = _current_parcel(parcel_id)
    initial = {
        "location": row.location,
        "lot_number": row.lot_number,
        "land_use": row.land_use,
        "area_m2": row.area_m2.replace(",", ""),
        "assessed_value": row.assessed_value,
        "small_residential_m2": _m2(row.small_residential_area),
        "general_residential_m2": _m2(row.general_residential_area),
        "in_urbanization_area": row.in_urbanization_area,
        "fiscal_year": services.SUPPORTED_FISCAL_YEARS[-1],
    }
    form = forms.ParcelCorrectForm(
        request.POST if request.method == "POST" else None, initial=initial
    )

    def write(f: LedgerForm) -> str:
        assert isinstance(f, forms.ParcelCorrectForm)
        new = services.parcel_correct(
            parcel_id=row.pk,
            facts=f.facts(),
            fiscal_year=f.cleaned_data["fiscal_year"],
            note=f.cleaned_data["note"],
        )
        messages.success(request, "土地を修正しました（次の賦課から反映）")
        return f"/tax/property/parcels/{new.pk}/"

    return _ledger_form(
        request,
        form,
        "property_tax/ledger_form.html",
        {"title": f"土地の修正 {row}", "row": row},
        write,
    )


@tax_role
def parcel_subdivide(request: HttpRequest, parcel_id: int) -> HttpResponse:
    """分筆: the 地積 of the new 筆 must add up to the old one."""
    row = _current_parcel(parcel_id)
    form = forms.SubdivideForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        assert isinstance(f, forms.SubdivideForm)
        new = services.parcel_subdivide(
            parcel_id=row.pk,
            parts=f.cleaned_data["parts"],
            changed_on=f.cleaned_data["changed_on"],
            note=f.cleaned_data["note"],
        )
        messages.success(request, f"分筆しました（{len(new)}筆）")
        return f"/tax/property/parcels/{new[0].pk}/"

    return _ledger_form(
        request,
        form,
        "property_tax/ledger_form.html",
        {"title": f"分筆 {row}（地積 {row.area_m2}㎡）", "row": row},
        write,
    )


@tax_role
def parcel_merge(request: HttpRequest, parcel_id: int) -> HttpResponse:
    """合筆: this 筆 and others of the same owner, 所在 and 地目 (by 地番) become one."""
    row = _current_parcel(parcel_id)
    form = forms.MergeForm(
        request.POST if request.method == "POST" else None,
        initial={"lot_number": row.lot_number},
    )

    def write(f: LedgerForm) -> str:
        assert isinstance(f, forms.MergeForm)
        numbers = [n for n in f.cleaned_data["lot_numbers"] if n != row.lot_number]
        others = dict(
            Parcel.objects.filter(
                location=row.location, lot_number__in=numbers, valid_to__isnull=True
            ).values_list("lot_number", "pk")
        )
        missing = [n for n in numbers if n not in others]
        if missing:
            raise ServiceError(
                f"{row.location}に現在の土地がない地番です: {'・'.join(missing)}",
                field="lot_numbers",
            )
        merged = services.parcel_merge(
            parcel_ids=[row.pk, *(others[n] for n in numbers)],
            lot_number=f.cleaned_data["lot_number"],
            assessed_value=f.cleaned_data["assessed_value"],
            changed_on=f.cleaned_data["changed_on"],
            note=f.cleaned_data["note"],
        )
        messages.success(request, f"合筆しました（{merged}）")
        return f"/tax/property/parcels/{merged.pk}/"

    return _ledger_form(
        request,
        form,
        "property_tax/ledger_form.html",
        {"title": f"合筆 {row}", "row": row},
        write,
    )


@tax_role
def building(request: HttpRequest, building_id: int) -> HttpResponse:
    """家屋の履歴 and 所有権移転."""
    row = _current_building(building_id)
    form = forms.TransferForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        assert isinstance(f, forms.TransferForm)
        new = services.building_transfer(
            building_id=row.pk,
            owner=f.owner_spec(),
            changed_on=f.cleaned_data["changed_on"],
            note=f.cleaned_data["note"],
        )
        messages.success(request, "所有権移転を登録しました")
        return f"/tax/property/owners/{new.owner_id}/"

    history = selectors.building_history(building_id=row.pk, purpose=PURPOSE)
    return _ledger_form(
        request, form, "property_tax/building.html", {"b": row, "history": history}, write
    )


@tax_role
def building_new(request: HttpRequest) -> HttpResponse:
    """家屋の新規登録 (新築など)."""
    form = forms.BuildingRegisterForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        assert isinstance(f, forms.BuildingRegisterForm)
        new = services.building_register(
            owner=f.owner_spec(),
            facts=f.facts(),
            changed_on=f.cleaned_data["changed_on"],
            note=f.cleaned_data["note"],
        )
        messages.success(request, f"家屋 {new} を登録しました")
        return f"/tax/property/buildings/{new.pk}/"

    return _ledger_form(
        request, form, "property_tax/ledger_form.html", {"title": "家屋の登録"}, write
    )


@tax_role
def building_edit(request: HttpRequest, building_id: int) -> HttpResponse:
    """家屋の修正 from a 年度 on (a new version of the row)."""
    row = _current_building(building_id)
    initial = {
        "location": row.location,
        "house_number": row.house_number,
        "house_kind": row.house_kind,
        "structure": row.structure,
        "floor_area_m2": row.floor_area_m2.replace(",", ""),
        "residential_m2": _m2(row.residential_area),
        "built_year": row.built_year,
        "assessed_value": row.assessed_value,
        "completed_on": row.completed_on,
        "fireproof_3plus": row.fireproof_3plus,
        "long_life_certified": row.long_life_certified,
        "rental": row.rental,
        "in_urbanization_area": row.in_urbanization_area,
        "fiscal_year": services.SUPPORTED_FISCAL_YEARS[-1],
    }
    form = forms.BuildingCorrectForm(
        request.POST if request.method == "POST" else None, initial=initial
    )

    def write(f: LedgerForm) -> str:
        assert isinstance(f, forms.BuildingCorrectForm)
        new = services.building_correct(
            building_id=row.pk,
            facts=f.facts(),
            fiscal_year=f.cleaned_data["fiscal_year"],
            note=f.cleaned_data["note"],
        )
        messages.success(request, "家屋を修正しました（次の賦課から反映）")
        return f"/tax/property/buildings/{new.pk}/"

    return _ledger_form(
        request,
        form,
        "property_tax/ledger_form.html",
        {"title": f"家屋の修正 {row}", "row": row},
        write,
    )


@tax_role
def building_demolish(request: HttpRequest, building_id: int) -> HttpResponse:
    """滅失 (取壊し・焼失 …): not taxed from the next 年度 on."""
    row = _current_building(building_id)
    form = forms.ChangeForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        services.building_demolish(
            building_id=row.pk,
            changed_on=f.cleaned_data["changed_on"],
            note=f.cleaned_data["note"],
        )
        messages.success(request, "滅失を登録しました")
        return f"/tax/property/buildings/{row.pk}/"

    return _ledger_form(
        request,
        form,
        "property_tax/ledger_form.html",
        {"title": f"家屋の滅失 {row}", "row": row},
        write,
    )


@tax_role
def assets(request: HttpRequest, addressee_id: int) -> HttpResponse:
    """償却資産の申告 (課税標準額の合計); a second one for the 年度 is a 修正申告."""
    _owner_exists(addressee_id)
    owner = addressees.addressee_get(addressee_id=addressee_id, purpose=PURPOSE)
    form = forms.AssetDeclarationForm(
        request.POST if request.method == "POST" else None,
        initial={"fiscal_year": _year(request)},
    )

    def write(f: LedgerForm) -> str:
        d = f.cleaned_data
        services.assets_declare(
            owner_id=owner.pk,
            fiscal_year=d["fiscal_year"],
            declared_base=d["declared_base"],
            declared_on=d["declared_on"],
            note=d.get("note") or "",
        )
        messages.success(request, "償却資産の申告を登録しました（次の賦課から反映）")
        return f"/tax/property/owners/{owner.pk}/?year={d['fiscal_year']}"

    return _ledger_form(
        request,
        form,
        "property_tax/ledger_form.html",
        {"title": f"償却資産の申告 {owner.name}（{owner.number}）"},
        write,
    )


def _m2(value: int | None) -> str:
    return "" if value is None else f"{value // 100}.{value % 100:02d}"
