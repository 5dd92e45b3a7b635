"""被災者支援の画面: 災害の一覧と登録 → 被災者台帳（世帯・住家）→ 被害認定・り災証明書・申請,
避難所の受付, 安否の照会, 支援制度と振込データ, 抜け・漏れ・落ち, 避難行動要支援者名簿.

Views parse input and call selectors/services (被災者支援). Staff of another municipality
working under a 応援 grant reach the same screens; the audit log records them by name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from moyai.disaster import rules, selectors, services
from moyai.disaster.models import (
    Application,
    CertificateKind,
    Disaster,
    Dwelling,
    Programme,
    ProgrammeKind,
    Safety,
    Shelter,
    ShelterStay,
    SurveyKind,
    SurveyMethod,
    VictimHousehold,
)
from moyai.platform.errors import ServiceError
from moyai.platform.models import Role
from moyai.platform.permissions import require_role
from moyai.registry.rules import wareki

disaster_role = require_role(Role.DISASTER)


def _date(value: str, field: str, label: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ServiceError(
            f"{label}は西暦の年-月-日で入力してください（例: 2026-04-01）", field=field
        ) from exc


def _optional_date(value: str, field: str, label: str) -> date | None:
    return _date(value, field, label) if value.strip() else None


def _int(value: str, field: str, label: str) -> int:
    try:
        return int(value.strip())
    except ValueError as exc:
        raise ServiceError(f"{label}は数字で入力してください", field=field) from exc


def _attempt(request: HttpRequest, action: Callable[[], Any], done: str = "") -> bool:
    """Run a service; its error (naming the field) goes to the page as a message."""
    try:
        action()
    except ServiceError as exc:
        messages.error(request, exc.message)
        return False
    if done:
        messages.success(request, done)
    return True


def _disaster(disaster_id: int) -> Disaster:
    try:
        return selectors.disaster_get(disaster_id=disaster_id)
    except ServiceError as exc:
        raise Http404(exc.message) from exc


def _household(household_id: int) -> VictimHousehold:
    row: VictimHousehold | None = VictimHousehold.objects.filter(pk=household_id).first()
    if row is None:
        raise Http404("被災世帯が見つかりません")
    return row


def _pdf(issued: services.Issued) -> HttpResponse:
    response = HttpResponse(issued.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{issued.serial}.pdf"'
    response["X-Moyai-Serial"] = issued.serial
    return response


# --- 災害 -----------------------------------------------------------------------------------


@disaster_role
def index(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        p = request.POST

        made: list[Disaster] = []

        def register() -> None:
            made.append(
                services.disaster_register(
                    code=p.get("code", ""),
                    name=p.get("name", ""),
                    kind=p.get("kind", ""),
                    occurred_on=_date(p.get("occurred_on", ""), "occurred_on", "発生日"),
                    towns=p.get("towns", "").replace("、", "\n").splitlines(),
                    addresses=p.get("addresses", "").splitlines(),
                    municipalities=p.get("municipalities", "").replace("、", " ").split(),
                    relief_act_on=_optional_date(
                        p.get("relief_act_on", ""), "relief_act_on", "災害救助法の適用日"
                    ),
                    support_act_on=_optional_date(
                        p.get("support_act_on", ""),
                        "support_act_on",
                        "被災者生活再建支援法の適用日",
                    ),
                )
            )

        if _attempt(request, register, "災害を登録しました"):
            return redirect("disaster:detail", made[0].pk)
    return render(request, "disaster/index.html", {"disasters": selectors.disasters()})


@disaster_role
def detail(request: HttpRequest, disaster_id: int) -> HttpResponse:
    disaster = _disaster(disaster_id)
    return render(
        request,
        "disaster/detail.html",
        {
            "d": disaster,
            "occurred": wareki(disaster.occurred_on),
            "baseline": wareki(disaster.baseline_on),
            "s": selectors.ledger_summary(disaster=disaster) if disaster.built_at else None,
            "building": None if disaster.built_at else selectors.build_job(disaster=disaster),
            "unconfirmed": rules.UNCONFIRMED,
        },
    )


@disaster_role
@require_POST
def build(request: HttpRequest, disaster_id: int) -> HttpResponse:
    from moyai.disaster.tasks import build_ledger

    disaster = _disaster(disaster_id)
    code = request.tenant.code  # type: ignore[attr-defined]

    def run() -> None:
        services.ledger_build_request(disaster_id=disaster.pk)
        build_ledger.enqueue(code, disaster.pk)
        messages.success(
            request, "被災者台帳の作成を始めました。終わるとこの画面に集計が表示されます。"
        )

    _attempt(request, run)
    return redirect("disaster:detail", disaster.pk)


@disaster_role
@require_POST
def refresh(request: HttpRequest, disaster_id: int) -> HttpResponse:
    disaster = _disaster(disaster_id)

    def run() -> None:
        r = services.ledger_refresh(disaster_id=disaster.pk)
        messages.success(
            request, f"住民記録の異動を反映しました（更新{r.updated}人・追加{r.added}人）"
        )

    _attempt(request, run)
    return redirect("disaster:detail", disaster.pk)


# --- 被災者台帳 -----------------------------------------------------------------------------


@disaster_role
def households(request: HttpRequest, disaster_id: int) -> HttpResponse:
    disaster = _disaster(disaster_id)
    town = request.GET.get("town", "")
    level = request.GET.get("level", "")
    query = request.GET.get("q", "")
    rows = selectors.household_list(disaster=disaster, town=town, level=level, query=query)
    return render(
        request,
        "disaster/households.html",
        {
            "d": disaster,
            "rows": rows,
            "towns": disaster.towns,
            "levels": rules.LEVEL_LABELS.items(),
            "town": town,
            "level": level,
            "q": query,
        },
    )


@disaster_role
def household(request: HttpRequest, household_id: int) -> HttpResponse:
    row = _household(household_id)
    if request.method == "POST":
        p = request.POST
        action = p.get("action", "")
        if action == "application":
            _attempt(
                request,
                lambda: services.application_submit(
                    programme_id=_int(p.get("programme", ""), "programme", "支援制度"),
                    household_id=row.pk,
                    applied_on=_date(p.get("applied_on", ""), "applied_on", "申請日"),
                    method=p.get("method", ""),
                    base_amount=_int(p["base_amount"], "base_amount", "対象額")
                    if p.get("base_amount", "").strip()
                    else None,
                    bank_code=p.get("bank_code", "").strip(),
                    branch_code=p.get("branch_code", "").strip(),
                    account_type=p.get("account_type", "1"),
                    account_number=p.get("account_number", "").strip(),
                    account_holder_kana=p.get("account_holder_kana", ""),
                ),
                "申請を受け付けました",
            )
        elif action == "decide":
            application = Application.objects.filter(
                pk=_safe_int(p.get("application")), household=row
            ).first()
            if application is None:
                raise Http404("申請が見つかりません")
            _attempt(
                request,
                lambda: services.application_decide(
                    application_id=application.pk,
                    approve=p.get("approve") == "1",
                    decided_on=_date(p.get("decided_on", ""), "decided_on", "決定日"),
                    note=p.get("note", ""),
                ),
                "決定を記録しました",
            )
        elif action == "update":
            _attempt(
                request,
                lambda: services.household_update(
                    household_id=row.pk,
                    residence=p.get("residence", ""),
                    phone=p.get("phone", ""),
                    support_members=_int(p["support_members"], "support_members", "世帯員数")
                    if p.get("support_members", "").strip()
                    else None,
                    demolished=p.get("demolished") == "1",
                    long_evacuation=p.get("long_evacuation") == "1",
                ),
                "世帯の情報を更新しました",
            )
        elif action == "safety":
            victim = row.victims.filter(pk=_safe_int(p.get("victim"))).first()
            if victim is None:
                raise Http404("被災者が見つかりません")
            _attempt(
                request,
                lambda: services.safety_set(
                    victim_id=victim.pk, safety=p.get("safety", ""), consent=p.get("consent") == "1"
                ),
                "安否を記録しました",
            )
        elif action == "disclosure":
            _attempt(
                request,
                lambda: services.disclosure_record(
                    household_id=row.pk,
                    recipient=p.get("recipient", ""),
                    basis=p.get("basis", ""),
                    items=p.get("items", ""),
                ),
                "提供を記録しました",
            )
        return redirect("disaster:household", row.pk)
    detail = selectors.household_get(household_id=row.pk)
    return render(
        request,
        "disaster/household.html",
        {
            "h": detail,
            "programmes": [p for p, _ in detail.entitlements],
            "methods": rules.METHOD_LABELS.items(),
            "safeties": Safety.choices,
            "bases": services.DISCLOSURE_BASES.items(),
            "today": timezone.localdate().isoformat(),
        },
    )


def _safe_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@disaster_role
@require_POST
def certificate(request: HttpRequest, household_id: int) -> HttpResponse:
    row = _household(household_id)
    p = request.POST
    try:
        issued = services.certificate_issue(
            household_id=row.pk,
            kind=p.get("kind", CertificateKind.DAMAGE),
            requester=p.get("requester", ""),
            purpose=p.get("purpose", ""),
            content=p.get("content", ""),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("disaster:household", row.pk)
    return _pdf(issued)


# --- 住家被害認定 -----------------------------------------------------------------------------


@disaster_role
def dwellings(request: HttpRequest, disaster_id: int) -> HttpResponse:
    disaster = _disaster(disaster_id)
    town = request.GET.get("town", "")
    unsurveyed = request.GET.get("unsurveyed") == "1"
    rows = selectors.dwelling_list(disaster=disaster, town=town, unsurveyed=unsurveyed)
    return render(
        request,
        "disaster/dwellings.html",
        {"d": disaster, "rows": rows, "town": town, "unsurveyed": unsurveyed},
    )


@disaster_role
def dwelling(request: HttpRequest, dwelling_id: int) -> HttpResponse:
    if not Dwelling.objects.filter(pk=dwelling_id).exists():
        raise Http404("住家が見つかりません")
    if request.method == "POST":
        p = request.POST
        _attempt(
            request,
            lambda: services.survey_record(
                dwelling_id=dwelling_id,
                kind=p.get("kind", ""),
                method=p.get("method", ""),
                surveyed_on=_date(p.get("surveyed_on", ""), "surveyed_on", "調査日"),
                ratio=p.get("ratio", ""),
                flood_depth_cm=_int(p["flood_depth_cm"], "flood_depth_cm", "浸水深")
                if p.get("flood_depth_cm", "").strip()
                else None,
                requested_by=p.get("requested_by", ""),
                reason=p.get("reason", ""),
            ),
            "調査の結果を登録しました",
        )
        return redirect("disaster:dwelling", dwelling_id)
    row, surveys, living = selectors.dwelling_get(dwelling_id=dwelling_id)
    return render(
        request,
        "disaster/dwelling.html",
        {
            "w": row,
            "surveys": surveys,
            "living": living,
            "kinds": SurveyKind.choices,
            "methods": SurveyMethod.choices,
            "today": timezone.localdate().isoformat(),
            "d": Disaster.objects.get(pk=row.disaster_id),
        },
    )


# --- 避難所 ---------------------------------------------------------------------------------


@disaster_role
def shelters(request: HttpRequest, disaster_id: int) -> HttpResponse:
    disaster = _disaster(disaster_id)
    if request.method == "POST":
        p = request.POST
        _attempt(
            request,
            lambda: services.shelter_open(
                disaster_id=disaster.pk,
                name=p.get("name", ""),
                address=p.get("address", ""),
                capacity=_int(p.get("capacity", ""), "capacity", "収容可能人数"),
                opened_on=_date(p.get("opened_on", ""), "opened_on", "開設日"),
            ),
            "避難所を開設しました",
        )
        return redirect("disaster:shelters", disaster.pk)
    today = timezone.localdate()
    start = max(disaster.occurred_on, today - timedelta(days=6))
    return render(
        request,
        "disaster/shelters.html",
        {
            "d": disaster,
            "rows": selectors.occupancy(disaster=disaster, start=start, end=today),
            "days": [start + timedelta(days=i) for i in range((today - start).days + 1)],
            "today": today.isoformat(),
        },
    )


@disaster_role
def shelter(request: HttpRequest, shelter_id: int) -> HttpResponse:
    row: Shelter | None = Shelter.objects.filter(pk=shelter_id).first()
    if row is None:
        raise Http404("避難所が見つかりません")
    disaster = Disaster.objects.get(pk=row.disaster_id)
    if request.method == "POST":
        p = request.POST
        action = p.get("action", "")
        if action == "check_in":
            victim = _safe_int(p.get("victim")) or None
            _attempt(
                request,
                lambda: services.shelter_check_in(
                    shelter_id=row.pk,
                    victim_id=victim,
                    name=p.get("name", ""),
                    name_kana=p.get("name_kana", ""),
                    birth_date=p.get("birth_date", ""),
                    address=p.get("address", ""),
                    consent=p.get("consent") == "1",
                ),
                "入所を受け付けました",
            )
        elif action == "check_out":
            stay = ShelterStay.objects.filter(pk=_safe_int(p.get("stay")), shelter=row).first()
            if stay is None:
                raise Http404("入所の記録が見つかりません")
            _attempt(
                request,
                lambda: services.shelter_check_out(
                    stay_id=stay.pk, destination=p.get("destination", "")
                ),
                "退所を記録しました",
            )
        return redirect("disaster:shelter", row.pk)
    found = None
    g = request.GET
    if any(g.get(k, "").strip() for k in ("name", "kana", "birth_date", "resident_code")):
        try:
            found = selectors.victim_find(
                disaster=disaster,
                name=g.get("name", ""),
                kana=g.get("kana", ""),
                birth_date=g.get("birth_date", ""),
                resident_code=g.get("resident_code", ""),
                purpose="避難所の受付",
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
    shelter_row, stays = selectors.shelter_detail(shelter_id=row.pk)
    return render(
        request,
        "disaster/shelter.html",
        {"d": disaster, "s": shelter_row, "stays": stays, "found": found},
    )


@disaster_role
def safety(request: HttpRequest, disaster_id: int) -> HttpResponse:
    disaster = _disaster(disaster_id)
    answer = None
    if request.method == "POST":
        p = request.POST
        try:
            answer = selectors.safety_inquiry(
                disaster=disaster,
                name=p.get("name", ""),
                birth_date=p.get("birth_date", ""),
                inquirer=p.get("inquirer", ""),
                inquirer_name=p.get("inquirer_name", ""),
                reason=p.get("reason", ""),
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "disaster/safety.html",
        {"d": disaster, "answer": answer, "inquirers": rules.INQUIRER_LABELS.items()},
    )


# --- 支援制度・抜け漏れ ---------------------------------------------------------------------------


@disaster_role
def programmes(request: HttpRequest, disaster_id: int) -> HttpResponse:
    disaster = _disaster(disaster_id)
    if request.method == "POST":
        p = request.POST

        def define() -> None:
            try:
                config = json.loads(p.get("config", "") or "{}")
            except json.JSONDecodeError as exc:
                raise ServiceError("設定は JSON で入力してください", field="config") from exc
            if not isinstance(config, dict):
                raise ServiceError("設定は JSON のオブジェクトで入力してください", field="config")
            services.programme_define(
                disaster_id=disaster.pk,
                code=p.get("code", ""),
                name=p.get("name", ""),
                kind=p.get("kind", ""),
                config=config,
                deadline=_optional_date(p.get("deadline", ""), "deadline", "申請期限"),
            )

        _attempt(request, define, "支援制度を設定しました")
        return redirect("disaster:programmes", disaster.pk)
    rows = list(Programme.objects.filter(disaster=disaster).order_by("order", "id"))
    return render(
        request,
        "disaster/programmes.html",
        {"d": disaster, "rows": rows, "kinds": ProgrammeKind.choices},
    )


@disaster_role
def programme(request: HttpRequest, programme_id: int) -> HttpResponse:
    row: Programme | None = Programme.objects.filter(pk=programme_id).first()
    if row is None:
        raise Http404("支援制度が見つかりません")
    if request.method == "POST":
        p = request.POST
        if p.get("action") == "export":
            try:
                name, data = services.payment_file(programme_id=row.pk)
            except ServiceError as exc:
                messages.error(request, exc.message)
                return redirect("disaster:programme", row.pk)
            response = HttpResponse(data, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
            return response
        ids = [
            a
            for a in Application.objects.filter(
                programme=row, pk__in=[_safe_int(x) for x in p.getlist("application")]
            ).values_list("pk", flat=True)
        ]
        _attempt(
            request,
            lambda: services.payment_record(
                application_ids=ids, paid_on=_date(p.get("paid_on", ""), "paid_on", "支払日")
            ),
            "支払を記録しました",
        )
        return redirect("disaster:programme", row.pk)
    applications = selectors.programme_applications(programme=row)
    return render(
        request,
        "disaster/programme.html",
        {
            "p": row,
            "d": Disaster.objects.get(pk=row.disaster_id),
            "applications": applications,
            "today": timezone.localdate().isoformat(),
            "settings": selectors.programme_settings(row),
        },
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@disaster_role
def gaps(request: HttpRequest, disaster_id: int) -> HttpResponse:
    disaster = _disaster(disaster_id)
    report = selectors.gap_report(disaster=disaster)
    status = request.GET.get("status", "")
    programme = request.GET.get("programme", "")
    rows = [
        r
        for r in report.rows
        if (not status or r.status == status) and (not programme or r.programme.code == programme)
    ]
    return render(
        request,
        "disaster/gaps.html",
        {
            "d": disaster,
            "r": report,
            "rows": rows[:GAP_ROWS],
            "shown": min(len(rows), GAP_ROWS),
            "matched": len(rows),
            "unlocated": report.unlocated[:GAP_ROWS],
            "status": status,
            "programme": programme,
            "programmes": sorted({(r.programme.code, r.programme.name) for r in report.rows}),
        },
    )


GAP_ROWS = 1000


@disaster_role
def roster(request: HttpRequest) -> HttpResponse:
    """避難行動要支援者名簿: 平常時（同意者のみ）と災害時の名簿、その差分."""
    if request.method == "POST":
        p = request.POST

        def register() -> None:
            from moyai.registry.selectors import SearchQuery, person_search

            number = p.get("address_number", "").strip()
            if not number:
                raise ServiceError("宛名番号を入力してください", field="address_number")
            found = person_search(
                query=SearchQuery(address_number=number),
                purpose="避難行動要支援者名簿の作成（第49条の10）",
                limit=1,
            )
            if not found:
                raise ServiceError(f"宛名番号 {number} の住民はいません", field="address_number")
            services.support_need_set(
                person_id=found[0].person_id,
                care_level=p.get("care_level", ""),
                disability=p.get("disability", ""),
                self_nominated=p.get("self_nominated") == "1",
                consent=p.get("consent") or None,
                consent_on=_optional_date(p.get("consent_on", ""), "consent_on", "同意の確認日"),
            )

        _attempt(request, register, "要支援者の情報を登録しました")
        return redirect("disaster:roster")
    mode = request.GET.get("mode", "normal")
    data = selectors.support_roster(
        on=timezone.localdate(), purpose="避難行動要支援者名簿の作成（第49条の10）"
    )
    rows = {"normal": data.normal, "disaster": data.disaster_time, "diff": data.disaster_only}.get(
        mode, data.normal
    )
    return render(
        request,
        "disaster/roster.html",
        {
            "mode": mode,
            "rows": rows,
            "counts": (len(data.normal), len(data.disaster_time), len(data.disaster_only)),
        },
    )
