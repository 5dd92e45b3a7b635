"""割り勘の画面: 協議会・費用プール・月次の按分・シミュレーション (基盤運用者), and each
municipality's own statements (団体管理者)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from moyai.operations.billing import forms, rules, selectors, services
from moyai.operations.billing.chart import effect_chart_svg
from moyai.operations.billing.http import csv_response, pdf_response
from moyai.operations.billing.models import RunStatus
from moyai.platform.errors import ServiceError
from moyai.platform.models import Council, Municipality, Role
from moyai.platform.permissions import require_role

DEFAULT_SCENARIO = Path(__file__).resolve().parent / "scenarios" / "kanagawa_14.toml"


def _council(council_id: int) -> Council:
    council = selectors.consortium_get(council_id=council_id)
    if council is None:
        raise Http404("協議会が見つかりません")
    return council


def _form_error(form: Any, exc: ServiceError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@require_role(Role.OPERATOR)
def consortia(request: HttpRequest) -> HttpResponse:
    form = forms.ConsortiumForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            council = services.consortium_create(
                name=d["name"],
                founders=list(d["founders"]),
                joined_on=d["joined_on"],
                businesses=d["businesses"],
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"協議会「{council.name}」を登録しました")
            return redirect("billing:consortium", council_id=council.pk)
    return render(
        request,
        "billing/consortia.html",
        {"rows": selectors.consortia(), "form": form},
        status=400 if form.errors else 200,
    )


def _consortium_page(request: HttpRequest, council: Council, **forms_: Any) -> HttpResponse:
    context = {
        "council": council,
        "memberships": selectors.memberships(council=council),
        "pools": selectors.pools(council=council),
        "runs": selectors.runs(council=council),
        "member_form": forms_.get("member_form") or forms.MembershipForm(),
        "pool_form": forms_.get("pool_form") or forms.PoolForm(),
        "run_form": forms_.get("run_form") or forms.RunForm(),
        "end_form": forms.MembershipEndForm(),
        "pool_end_form": forms.PoolEndForm(),
        "business_labels": rules.BUSINESS_LABELS,
    }
    failed = any(f is not None and f.errors for f in forms_.values())
    return render(request, "billing/consortium.html", context, status=400 if failed else 200)


@require_role(Role.OPERATOR)
def consortium(request: HttpRequest, council_id: int) -> HttpResponse:
    return _consortium_page(request, _council(council_id))


@require_POST
@require_role(Role.OPERATOR)
def member_add(request: HttpRequest, council_id: int) -> HttpResponse:
    council = _council(council_id)
    form = forms.MembershipForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.membership_add(
                council=council,
                municipality=d["municipality"],
                joined_on=d["joined_on"],
                businesses=d["businesses"],
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{d['municipality'].name}を構成団体に加えました")
            return redirect("billing:consortium", council_id=council.pk)
    return _consortium_page(request, council, member_form=form)


@require_POST
@require_role(Role.OPERATOR)
def member_end(request: HttpRequest, council_id: int, membership_id: int) -> HttpResponse:
    council = _council(council_id)
    membership = selectors.membership_get(council=council, membership_id=membership_id)
    if membership is None:
        raise Http404("構成団体が見つかりません")
    form = forms.MembershipEndForm(request.POST)
    if form.is_valid():
        try:
            services.membership_end(membership=membership, left_on=form.cleaned_data["left_on"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{membership.municipality.name}の脱退を記録しました")
    else:
        messages.error(request, "脱退日を入力してください")
    return redirect("billing:consortium", council_id=council.pk)


@require_POST
@require_role(Role.OPERATOR)
def pool_add(request: HttpRequest, council_id: int) -> HttpResponse:
    council = _council(council_id)
    form = forms.PoolForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        price = d.get("unit_price")
        prices = {b: price for b in d["unit_businesses"]} if price is not None else {}
        try:
            services.pool_create(
                council=council,
                data=services.PoolData(
                    name=d["name"],
                    category=d["category"],
                    rule=d["rule"],
                    period=d["period"],
                    amount=d["amount"] or 0,
                    equal_ratio=d["equal_ratio"],
                    population_ratio=d["population_ratio"],
                    basis=d["basis"],
                    business=d["business"],
                    unit_prices=prices,
                    valid_from=d["valid_from"],
                    valid_to=d["valid_to"],
                ),
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"費用プール「{d['name']}」を登録しました")
            return redirect("billing:consortium", council_id=council.pk)
    return _consortium_page(request, council, pool_form=form)


@require_POST
@require_role(Role.OPERATOR)
def pool_end(request: HttpRequest, council_id: int, pool_id: int) -> HttpResponse:
    council = _council(council_id)
    pool = selectors.pool_get(council=council, pool_id=pool_id)
    if pool is None:
        raise Http404("費用プールが見つかりません")
    form = forms.PoolEndForm(request.POST)
    if form.is_valid():
        try:
            services.pool_end(pool=pool, last_month=form.cleaned_data["last_month"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"費用プール「{pool.name}」の最終月を記録しました")
    else:
        messages.error(request, "最終月を 2027-03 の形で入力してください")
    return redirect("billing:consortium", council_id=council.pk)


@require_POST
@require_role(Role.OPERATOR)
def run_month(request: HttpRequest, council_id: int) -> HttpResponse:
    council = _council(council_id)
    form = forms.RunForm(request.POST)
    if form.is_valid():
        try:
            run = services.allocation_run(council=council, month=form.cleaned_data["month"])
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, "按分を計算しました（仮計算）。内容を確かめて確定してください"
            )
            return redirect("billing:run", council_id=council.pk, run_id=run.pk)
    return _consortium_page(request, council, run_form=form)


def _run(council_id: int, run_id: int) -> tuple[Council, Any]:
    council = _council(council_id)
    run = selectors.run_get(council=council, run_id=run_id)
    if run is None:
        raise Http404("月次の按分が見つかりません")
    return council, run


@require_role(Role.OPERATOR)
def run_detail(request: HttpRequest, council_id: int, run_id: int) -> HttpResponse:
    council, run = _run(council_id, run_id)
    matrix = selectors.run_matrix(run)
    return render(
        request,
        "billing/run.html",
        {
            "council": council,
            "run": run,
            "matrix": matrix,
            "month_label": services.month_label(run.month),
            "closing": run.status == RunStatus.CLOSING and not run.close_error,
            "close_failed": run.status == RunStatus.CLOSING and bool(run.close_error),
            "member_count": len(matrix.members),
        },
    )


@require_POST
@require_role(Role.OPERATOR)
def run_recompute(request: HttpRequest, council_id: int, run_id: int) -> HttpResponse:
    council, run = _run(council_id, run_id)
    try:
        services.allocation_run(council=council, month=run.month)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "再計算しました（仮計算）")
    return redirect("billing:run", council_id=council.pk, run_id=run.pk)


@require_POST
@require_role(Role.OPERATOR)
def run_close(request: HttpRequest, council_id: int, run_id: int) -> HttpResponse:
    council, run = _run(council_id, run_id)
    try:
        services.allocation_close_request(run=run)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "確定を依頼しました。各団体の請求明細書（PDF）を順に作成し、終わるとこの画面に"
            "表示されます。",
        )
    return redirect("billing:run", council_id=council.pk, run_id=run.pk)


@require_role(Role.OPERATOR)
def run_csv(request: HttpRequest, council_id: int, run_id: int) -> HttpResponse:
    council, run = _run(council_id, run_id)
    return csv_response(selectors.run_csv(run=run), f"割り勘_{council.name}_{run.month:%Y-%m}.csv")


def _member(run: Any, code: str) -> Municipality:
    if code not in {m["code"] for m in run.inputs.get("members", [])}:
        raise Http404("この月の構成団体ではありません")
    municipality = Municipality.objects.filter(code=code).first()
    if municipality is None:
        raise Http404("団体が見つかりません")
    return municipality


@require_role(Role.OPERATOR)
def run_member_csv(request: HttpRequest, council_id: int, run_id: int, code: str) -> HttpResponse:
    _, run = _run(council_id, run_id)
    municipality = _member(run, code)
    statement = selectors.statement_of(run=run, municipality=municipality, csv=True)
    if statement is None:
        raise Http404("請求明細がありません")
    return csv_response(
        selectors.statement_csv(statement=statement, municipality=municipality),
        f"請求明細_{municipality.name}_{run.month:%Y-%m}.csv",
    )


@require_role(Role.OPERATOR)
def run_member_pdf(request: HttpRequest, council_id: int, run_id: int, code: str) -> HttpResponse:
    _, run = _run(council_id, run_id)
    municipality = _member(run, code)
    pdf = selectors.statement_pdf_of(run=run, municipality=municipality)
    if pdf is None:
        raise Http404("確定前の月は PDF を発行していません")
    return pdf_response(pdf, f"請求明細書_{municipality.name}_{run.month:%Y-%m}.pdf")


@require_role(Role.OPERATOR)
def simulate(request: HttpRequest) -> HttpResponse:
    form = forms.ScenarioForm(
        request.POST or None, initial={"scenario": DEFAULT_SCENARIO.read_text(encoding="utf-8")}
    )
    result = None
    chart = ""
    if request.method == "POST" and form.is_valid():
        try:
            scenario = services.scenario_parse(text=form.cleaned_data["scenario"])
            result = rules.simulate(scenario)
        except ServiceError as exc:
            _form_error(form, exc)
        except rules.RuleInputError as exc:
            form.add_error("scenario", exc.message)
        else:
            if request.POST.get("format") == "csv":
                return csv_response(selectors.simulation_csv(result), "割り勘シミュレーション.csv")
            chart = effect_chart_svg(result)
    rows = []
    if result is not None:
        names = [m.name for m in result.scenario.members]
        rows = [{"year": y, "cells": [y.costs.get(n) for n in names]} for y in result.years]
    return render(
        request,
        "billing/simulate.html",
        {
            "form": form,
            "result": result,
            "rows": rows,
            "names": [m.name for m in result.scenario.members] if result else [],
            "total_cells": [result.member_totals().get(m.name, 0) for m in result.scenario.members]
            if result
            else [],
            "grand_total": sum(y.total for y in result.years) if result else 0,
            # Built from numbers and escaped labels only (chart.py).
            "chart": mark_safe(chart),
        },
        status=400 if form.errors else 200,
    )


# --- 団体管理者: own statements only -----------------------------------------------------------


@require_role(Role.ADMIN)
def statements(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/statements.html", {"rows": selectors.statements_own()})


def _own_statement(statement_id: int, *, csv: bool = False) -> Any:
    statement = selectors.statement_get(
        statement_id=statement_id,
        purpose=selectors.PURPOSE_CSV if csv else selectors.PURPOSE_READ,
        csv=csv,
    )
    if statement is None:
        raise Http404("請求明細が見つかりません")
    return statement


@require_role(Role.ADMIN)
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    req: Any = request
    statement = _own_statement(statement_id)
    return render(
        request,
        "billing/statement.html",
        services.statement_context(statement, municipality=req.municipality),
    )


@require_role(Role.ADMIN)
def statement_csv(request: HttpRequest, statement_id: int) -> HttpResponse:
    req: Any = request
    statement = _own_statement(statement_id, csv=True)
    return csv_response(
        selectors.statement_csv(statement=statement, municipality=req.municipality),
        f"請求明細_{req.municipality.name}_{statement.month:%Y-%m}.csv",
    )


@require_role(Role.ADMIN)
def statement_pdf(request: HttpRequest, statement_id: int) -> HttpResponse:
    req: Any = request
    found = selectors.statement_own_pdf(statement_id=statement_id)
    if found is None:
        raise Http404("請求明細書が見つかりません（確定前の月は発行していません）")
    statement, pdf = found
    return pdf_response(pdf, f"請求明細書_{req.municipality.name}_{statement.month:%Y-%m}.pdf")
