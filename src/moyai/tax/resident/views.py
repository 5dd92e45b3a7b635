"""個人住民税の画面: 年度の状況 → 課税資料の取込み → 名寄せ → 賦課（進捗）→ 個人の課税と説明 →
証明書・通知書, 税率等の設定; and the public 試算 page for residents (stores nothing).

Views parse forms and call selectors/services (the role is 税務).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from moyai.platform.audit import audit_record
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction, Role
from moyai.platform.permissions import require_role
from moyai.platform.selectors import active_municipality
from moyai.registry import selectors as registry
from moyai.tax.common.services import assessment_run_request
from moyai.tax.resident import forms as f
from moyai.tax.resident import rules, selectors, services
from moyai.tax.resident.models import Collection

tax_role = require_role(Role.TAX)
# The assessment runs of the tax 業務 whose progress this page follows, and where to go back.
RUN_KEYS = ("resident_tax.assess:", "property_tax.assess:", "light_vehicle_tax.assess:")
RUN_PAGES = ("/tax/resident/", "/tax/property/", "/tax/light-vehicle/")
PURPOSE = "個人住民税の賦課事務"


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or 0)
    except ValueError:
        year = 0
    if year in rules.SUPPORTED_FISCAL_YEARS:
        return year
    today = timezone.localdate()
    current = today.year if today.month >= 4 else today.year - 1
    return min(max(current, rules.SUPPORTED_FISCAL_YEARS[0]), rules.SUPPORTED_FISCAL_YEARS[-1])


def _attach(form: Any, exc: ServiceError) -> None:
    name = exc.field.split(".")[0].split("[")[0]
    form.add_error(name if name in form.fields else None, exc.message)


def _exists(person_id: int) -> None:
    """404 for a person who is not in this municipality's registry (before any work)."""
    from moyai.registry.models import Person

    if not Person.objects.filter(pk=person_id).exists():
        raise Http404("住民が見つかりません")


def _pdf(issued: services.Issued) -> HttpResponse:
    response = HttpResponse(issued.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{issued.serial}.pdf"'
    response["X-Moyai-Serial"] = issued.serial
    return response


@tax_role
def overview(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    found = None
    search_error = ""
    kana, name, birth = (request.GET.get(k, "").strip() for k in ("kana", "name", "birth_date"))
    if kana or name or birth:
        try:
            found = registry.person_search(
                query=registry.SearchQuery(kana=kana, name=name, birth_date=birth),
                purpose="個人住民税の賦課事務（宛名の検索）",
                limit=50,
            )
        except ServiceError as exc:
            search_error = exc.message
    return render(
        request,
        "resident_tax/overview.html",
        {
            "year": year,
            "nendo": rules.wareki_nendo(year),
            "years": f.YEARS,
            "o": selectors.year_overview(fiscal_year=year),
            "employers": selectors.employers_special(fiscal_year=year),
            "found": found,
            "search_error": search_error,
        },
    )


@tax_role
def upload(request: HttpRequest) -> HttpResponse:
    """支払報告書の取込み: checked first (dry run), then registered all or nothing."""
    year = _year(request)
    form = f.UploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            result = services.reports_import(
                fiscal_year=year,
                kind=d["kind"],
                stream=d["file"],
                file_name=d["file"].name,
                dry_run=d["dry_run"],
            )
        except ServiceError as exc:
            _attach(form, exc)
    errors = [p for p in result.problems if p.severity == "error"] if result else []
    return render(
        request,
        "resident_tax/upload.html",
        {
            "year": year,
            "nendo": rules.wareki_nendo(year),
            "form": form,
            "result": result,
            "errors": errors[:200],
            "warnings": len(result.problems) - len(errors) if result else 0,
        },
        status=400 if request.method == "POST" and (not form.is_valid() or errors) else 200,
    )


@tax_role
def queue(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    rows = selectors.document_queue(fiscal_year=year, purpose="課税資料の名寄せ")
    return render(
        request,
        "resident_tax/queue.html",
        {"year": year, "nendo": rules.wareki_nendo(year), "rows": rows},
    )


@tax_role
def document(request: HttpRequest, document_id: int) -> HttpResponse:
    try:
        doc = selectors.document_get(document_id=document_id)
    except ServiceError as exc:
        raise Http404(exc.message) from None
    assign = f.AssignForm(request.POST if "assign" in request.POST else None)
    forward = f.ForwardForm(request.POST if "forward" in request.POST else None)
    if request.method == "POST":
        try:
            if "assign" in request.POST and assign.is_valid():
                services.document_assign(
                    document_id=doc.pk,
                    person_id=assign.cleaned_data["person_id"],
                    note=assign.cleaned_data["note"],
                )
                messages.success(request, "宛名を特定しました")
                return redirect(f"/tax/resident/queue/?year={doc.fiscal_year}")
            if "forward" in request.POST and forward.is_valid():
                services.document_forward(document_id=doc.pk, note=forward.cleaned_data["note"])
                messages.success(request, "回送の扱いにしました")
                return redirect(f"/tax/resident/queue/?year={doc.fiscal_year}")
        except ServiceError as exc:
            _attach(assign if "assign" in request.POST else forward, exc)
    audit_record(
        action=AuditAction.READ,
        target_type="resident_tax_document",
        target_id=doc.pk,
        purpose="課税資料の名寄せ",
    )
    return render(
        request,
        "resident_tax/document.html",
        {
            "doc": doc,
            "candidates": selectors.candidate_records(doc),
            "assign": assign,
            "forward": forward,
        },
        status=400 if request.method == "POST" else 200,
    )


@tax_role
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    """賦課の実行: a background task; the page then follows its progress."""
    from moyai.tax.resident.tasks import assess_year

    year = _year(request)
    key = assessment_run_request(
        task=assess_year,
        prefix="resident_tax",
        fiscal_year=year,
        purpose=f"{rules.wareki_nendo(year)} 個人住民税の賦課の実行",
    )
    return redirect(f"/tax/resident/progress/?key={key}&year={year}")


@tax_role
def progress(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("key", "")
    if not key.startswith(RUN_KEYS):
        raise Http404("ジョブがありません")
    back = request.GET.get("back", "")
    if back not in RUN_PAGES:
        back = "/tax/resident/"
    job = selectors.job_progress(key=key)
    context = {"job": job, "key": key, "year": _year(request), "back": back}
    if request.headers.get("HX-Request"):
        return render(request, "resident_tax/_progress.html", context)
    return render(request, "resident_tax/progress.html", context)


@tax_role
def person(request: HttpRequest, person_id: int) -> HttpResponse:
    year = _year(request)
    try:
        record = registry.person_get(person_id=person_id, purpose=PURPOSE)
    except ServiceError as exc:
        raise Http404(exc.message) from None
    tax = selectors.person_tax(person_id=person_id, fiscal_year=year, purpose=PURPOSE)
    explained = None
    stale = ""
    if tax.current is not None:
        try:
            explained = services.explain(tax.current)
        except ServiceError as exc:
            stale = exc.message
    correction = f.CorrectionForm(request.POST if "correct" in request.POST else None)
    if request.method == "POST" and "correct" in request.POST and correction.is_valid():
        try:
            new = services.assessment_correct(
                person_id=person_id, fiscal_year=year, note=correction.cleaned_data["note"]
            )
        except ServiceError as exc:
            _attach(correction, exc)
        else:
            messages.success(
                request, "更正しました" if new else "課税資料に変更がないため、税額は変わりません"
            )
            return redirect(f"/tax/resident/persons/{person_id}/?year={year}")
    return render(
        request,
        "resident_tax/person.html",
        {
            "r": record,
            "year": year,
            "nendo": rules.wareki_nendo(year),
            "years": f.YEARS,
            "tax": tax,
            "explained": explained,
            "stale": stale,
            "correction": correction,
            "certificate": f.CertificateForm(),
            "ordinary": tax.current is not None and tax.current.collection == Collection.ORDINARY,
        },
        status=400 if request.method == "POST" else 200,
    )


@tax_role
def declaration(request: HttpRequest, person_id: int) -> HttpResponse:
    year = _year(request)
    try:
        record = registry.person_get(person_id=person_id, purpose=PURPOSE)
    except ServiceError as exc:
        raise Http404(exc.message) from None
    form = f.DeclarationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.declaration_record(
                person_id=person_id,
                fiscal_year=year,
                values=form.values(),
                kind=form.cleaned_data["kind"],
                note=form.cleaned_data["note"],
            )
        except ServiceError as exc:
            _attach(form, exc)
        else:
            messages.success(request, "申告を受け付けました。「更正・再計算」で税額に反映します。")
            return redirect(f"/tax/resident/persons/{person_id}/?year={year}")
    return render(
        request,
        "resident_tax/declaration.html",
        {"r": record, "year": year, "nendo": rules.wareki_nendo(year), "form": form},
        status=400 if request.method == "POST" else 200,
    )


@tax_role
@require_POST
def certificate(request: HttpRequest, person_id: int) -> HttpResponse:
    _exists(person_id)
    year = _year(request)
    form = f.CertificateForm(request.POST)
    if form.is_valid():
        try:
            return _pdf(
                services.certificate_issue(
                    person_id=person_id,
                    fiscal_year=year,
                    purpose=form.cleaned_data["purpose"],
                    requester=form.cleaned_data["requester"],
                )
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "請求の理由と請求者を入力してください")
    return redirect(f"/tax/resident/persons/{person_id}/?year={year}")


@tax_role
@require_POST
def notice(request: HttpRequest, person_id: int) -> HttpResponse:
    _exists(person_id)
    year = _year(request)
    try:
        return _pdf(
            services.tax_notice_issue(
                person_id=person_id, fiscal_year=year, purpose="納税通知書の発行（窓口）"
            )
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect(f"/tax/resident/persons/{person_id}/?year={year}")


@tax_role
@require_POST
def special_notice(request: HttpRequest, employer_id: int) -> HttpResponse:
    year = _year(request)
    try:
        return _pdf(
            services.special_notice_issue(
                employer_id=employer_id, fiscal_year=year, purpose="特別徴収税額の決定通知"
            )
        )
    except ServiceError as exc:
        if exc.code == "not_found":
            raise Http404(exc.message) from None
        messages.error(request, exc.message)
    return redirect(f"/tax/resident/?year={year}")


@tax_role
def parameters(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    current = selectors.parameters_current(fiscal_year=year)  # a view writes nothing
    p = current.params
    initial = {
        "city_rate": p.city_rate / 1000,
        "prefecture_rate": p.prefecture_rate / 1000,
        "city_per_capita": p.city_per_capita,
        "prefecture_per_capita": p.prefecture_per_capita,
        "prefecture_per_capita_levy": p.prefecture_per_capita_levy,
        "grade": p.grade,
        "rounding": p.rounding.value,
        "year": year,
    }
    form = f.ParametersForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.parameters_update(
                fiscal_year=year,
                overrides=form.overrides(rules.national_defaults(year)),
                note=form.cleaned_data["note"],
            )
        except ServiceError as exc:
            _attach(form, exc)
        else:
            messages.success(request, "新しい版を登録しました。次の賦課から使われます。")
            return redirect(f"/tax/resident/parameters/?year={year}")
    versions = [
        (v, rules.describe_overrides(v.overrides))
        for v in selectors.parameters_versions(fiscal_year=year)
    ]
    return render(
        request,
        "resident_tax/parameters.html",
        {
            "year": year,
            "nendo": rules.wareki_nendo(year),
            "years": f.YEARS,
            "form": form,
            "current": current.row,
            "versions": versions,
            "unconfirmed": rules.UNCONFIRMED,
        },
        status=400 if request.method == "POST" else 200,
    )


def simulate_public(request: HttpRequest, code: str) -> HttpResponse:
    """住民向けの試算 (no sign-in): the municipality's parameters in force; nothing is stored
    and nothing is logged about the person."""
    municipality = active_municipality(code=code)
    if municipality is None:
        raise Http404("団体が見つかりません")
    form = f.SimulationForm(request.POST or None, initial={"year": _year(request)})
    outcome = None
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services.simulate(
                fiscal_year=form.cleaned_data["year"],
                data=form.values(),
                municipality=municipality,
            )
        except ServiceError as exc:
            _attach(form, exc)
    return render(
        request,
        "resident_tax/simulate.html",
        {"municipality": municipality, "form": form, "outcome": outcome, "today": date.today()},
        status=400 if request.method == "POST" and outcome is None else 200,
    )
