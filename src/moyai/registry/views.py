"""住民記録の窓口画面: search → person/household → 異動 → 確認 → 完了, with the history visible.

Views parse forms and call selectors/services; every 異動 goes through a confirmation page
(the same data posted back as hidden fields) before the service runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from moyai.platform.errors import ServiceError
from moyai.platform.models import Role
from moyai.platform.permissions import require_role
from moyai.registry import forms as f
from moyai.registry import selectors, services
from moyai.registry.models import ResidentRecord, ResidentStatus
from moyai.registry.rules import MovementKind, format_fuzzy

registry_role = require_role(Role.REGISTRY)
PURPOSE = "窓口での住民記録事務"


def _person(person_id: int, purpose: str = PURPOSE) -> ResidentRecord:
    try:
        return selectors.person_get(person_id=person_id, purpose=purpose)
    except ServiceError as exc:
        raise Http404(exc.message) from None


def _members(record: ResidentRecord) -> list[ResidentRecord]:
    if record.status != ResidentStatus.RESIDENT:
        return [record]
    return selectors.household_members(household_number=record.household_number, purpose=PURPOSE)


@registry_role
def search(request: HttpRequest) -> HttpResponse:
    form = f.SearchForm(request.GET or None)
    rows = None
    error = ""
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        query = selectors.SearchQuery(
            kana=d["kana"],
            name=d["name"],
            birth_date=d["birth_date"].isoformat() if d["birth_date"] else "",
            address=d["address"],
            resident_code=d["resident_code"],
            address_number=d["address_number"],
            include_removed=d["include_removed"],
        )
        try:
            rows = selectors.person_search(query=query, purpose=d["purpose"])
        except ServiceError as exc:
            error = exc.message
    context = {"form": form, "rows": rows, "error": error}
    if request.headers.get("HX-Request") and rows is not None:
        return render(request, "registry/_results.html", context)
    return render(request, "registry/search.html", context)


@registry_role
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    record = _person(person_id)
    members = _members(record)
    return render(
        request,
        "registry/person.html",
        {
            "r": record,
            "members": members,
            "fmt": format_fuzzy,
            "reveal_form": f.RevealForm(),
        },
    )


@registry_role
def person_history(request: HttpRequest, person_id: int) -> HttpResponse:
    try:
        rows = selectors.person_history(person_id=person_id, purpose=PURPOSE)
    except ServiceError as exc:
        raise Http404(exc.message) from None
    return render(request, "registry/history.html", {"rows": rows, "r": rows[-1]})


@registry_role
def household(request: HttpRequest, household_number: str) -> HttpResponse:
    try:
        members = selectors.household_members(
            household_number=household_number, purpose=PURPOSE, include_removed=True
        )
    except ServiceError as exc:
        raise Http404(exc.message) from None
    return render(
        request,
        "registry/household.html",
        {"members": members, "household_number": household_number},
    )


@require_POST
@registry_role
def reveal_my_number(request: HttpRequest, person_id: int) -> HttpResponse:
    record = _person(person_id)
    form = f.RevealForm(request.POST)
    number = None
    if form.is_valid():
        number = selectors.my_number_reveal(
            person_id=person_id, purpose=form.cleaned_data["purpose"]
        )
    return render(
        request,
        "registry/person.html",
        {
            "r": record,
            "members": _members(record),
            "reveal_form": form,
            "my_number": number,
            "my_number_shown": number is not None,
        },
    )


# --- the 異動 flow ----------------------------------------------------------------------------


def _attach(parts: list[forms.Form | forms.BaseFormSet[Any]], exc: ServiceError) -> None:
    """Show a service's refusal at the field it names (or at the top of the first form)."""
    name = exc.field.split(".")[-1].split("[")[0] if exc.field else ""
    for part in parts:
        if isinstance(part, forms.BaseFormSet):
            index = exc.field.split("[")[1].split("]")[0] if "[" in exc.field else ""
            if index.isdigit() and int(index) < len(part.forms):
                target = part.forms[int(index)]
                if name in target.fields:
                    target.add_error(name, exc.message)
                    return
        elif name in part.fields:
            part.add_error(name, exc.message)
            return
    first = next(p for p in parts if isinstance(p, forms.Form))
    first.add_error(None, exc.message)


def _flow(
    request: HttpRequest,
    *,
    title: str,
    parts: dict[str, forms.Form | forms.BaseFormSet[Any]],
    execute: Callable[[], services.MovementResult],
    subject: ResidentRecord | None = None,
) -> HttpResponse:
    """GET → form; POST step=confirm → 確認画面; POST step=commit → service → 完了画面.

    ``parts`` are the forms (and formsets) of one 届出, rendered in order and validated
    together; the confirmation page posts all of them back as hidden fields.
    """
    posted = request.method == "POST"
    step = request.POST.get("step", "") if posted else ""
    valid = posted and all(p.is_valid() for p in parts.values())
    context: dict[str, Any] = {"title": title, "parts": list(parts.values()), "r": subject}
    if valid and step == "commit":
        try:
            result = execute()
        except ServiceError as exc:
            _attach(list(parts.values()), exc)
            context["service_error"] = exc.message
            return render(request, "registry/movement_form.html", context, status=400)
        for w in result.warnings:
            messages.warning(request, w)
        messages.success(request, f"{title}を登録しました（異動番号 {result.movement.number}）")
        return render(request, "registry/movement_done.html", {"title": title, "result": result})
    if valid and step == "confirm":
        return render(request, "registry/movement_confirm.html", context)
    return render(request, "registry/movement_form.html", context, status=400 if posted else 200)


@registry_role
def move_in(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = f.MoveInForm(data, prefix="m")
    address = f.AddressForm(data, prefix="a")
    members = f.MemberFormSet(data, prefix="p")

    def execute() -> services.MovementResult:
        hh = form.cleaned_data["household_number"]
        return services.move_in(
            notification=form.notification(),
            members=[m.new_person() for m in f.filled(members)],
            address=None if hh else address.address(),
            household_number=hh,
            previous_address=form.cleaned_data["previous_address"],
            from_abroad=form.cleaned_data["from_abroad"],
        )

    return _flow(
        request,
        title="転入届",
        execute=execute,
        parts={"form": form, "address": address, "members": members},
    )


@registry_role
def birth(request: HttpRequest, person_id: int) -> HttpResponse:
    parent = _person(person_id)
    data = request.POST if request.method == "POST" else None
    form = f.NotificationForm(data, prefix="m")
    child = f.MemberForm(
        data,
        prefix="c",
        initial={"family_name": parent.family_name, "relation": "子", "kind": parent.kind},
    )

    def execute() -> services.MovementResult:
        return services.birth(
            notification=form.notification(),
            household_number=parent.household_number,
            child=child.new_person(),
        )

    return _flow(
        request,
        title="出生届",
        execute=execute,
        subject=parent,
        parts={"form": form, "child": child},
    )


@registry_role
def move_out(request: HttpRequest, person_id: int) -> HttpResponse:
    r = _person(person_id)
    form = f.MoveOutForm(
        request.POST or None, members=_members(r), initial={"persons": [str(person_id)]}
    )

    def execute() -> services.MovementResult:
        d = form.cleaned_data
        return services.move_out(
            notification=form.notification(),
            person_ids=form.selected(),
            destination=d["destination"],
            abroad=d["abroad"],
            new_head_id=d["remaining_head"],
            relations=form.relations(),
        )

    return _flow(request, title="転出届", parts={"form": form}, execute=execute, subject=r)


@registry_role
def relocation(request: HttpRequest, person_id: int) -> HttpResponse:
    r = _person(person_id)
    members = _members(r)
    form = f.RelocationForm(
        request.POST or None,
        members=members,
        initial={"persons": [str(m.person_id) for m in members]},
    )

    def execute() -> services.MovementResult:
        d = form.cleaned_data
        return services.relocation(
            notification=form.notification(),
            person_ids=form.selected(),
            address=form.address(),
            new_head_id=d["new_head"],
            relations=form.relations(),
            remaining_head_id=d["remaining_head"],
            remaining_relations=form.relations(),
        )

    return _flow(request, title="転居届", parts={"form": form}, execute=execute, subject=r)


@registry_role
def separation(request: HttpRequest, person_id: int) -> HttpResponse:
    r = _person(person_id)
    form = f.SeparationForm(
        request.POST or None, members=_members(r), initial={"persons": [str(person_id)]}
    )

    def execute() -> services.MovementResult:
        d = form.cleaned_data
        if d["new_head"] is None:
            raise ServiceError("新しい世帯の世帯主を選んでください", field="new_head")
        return services.household_separation(
            notification=form.notification(),
            person_ids=form.selected(),
            new_head_id=d["new_head"],
            relations=form.relations(),
            remaining_head_id=d["remaining_head"],
            remaining_relations=form.relations(),
        )

    return _flow(request, title="世帯分離届", parts={"form": form}, execute=execute, subject=r)


@registry_role
def merge(request: HttpRequest, person_id: int) -> HttpResponse:
    r = _person(person_id)
    members = _members(r)
    form = f.MergeForm(
        request.POST or None,
        members=members,
        initial={"persons": [str(m.person_id) for m in members]},
    )

    def execute() -> services.MovementResult:
        d = form.cleaned_data
        return services.household_merge(
            notification=form.notification(),
            person_ids=form.selected(),
            target_household_number=d["target_household_number"],
            relations=form.relations(),
            remaining_head_id=d["remaining_head"],
            remaining_relations=form.relations(),
        )

    return _flow(request, title="世帯合併届", parts={"form": form}, execute=execute, subject=r)


@registry_role
def authority_removal(request: HttpRequest, person_id: int) -> HttpResponse:
    r = _person(person_id)
    form = f.RemovalForm(
        request.POST or None, members=_members(r), initial={"persons": [str(person_id)]}
    )

    def execute() -> services.MovementResult:
        d = form.cleaned_data
        return services.authority_removal(
            notification=form.notification(),
            person_ids=form.selected(),
            reason=d["reason"],
            new_head_id=d["remaining_head"],
            relations=form.relations(),
        )

    return _flow(request, title="職権消除", parts={"form": form}, execute=execute, subject=r)


@registry_role
def death(request: HttpRequest, person_id: int) -> HttpResponse:
    r = _person(person_id)
    form = f.DeathForm(request.POST or None, members=_members(r), deceased=person_id)

    def execute() -> services.MovementResult:
        return services.death(
            notification=form.notification(),
            person_id=person_id,
            new_head_id=form.cleaned_data["new_head"],
            relations=form.relations(),
        )

    return _flow(request, title="死亡", parts={"form": form}, execute=execute, subject=r)


@registry_role
def restructure(request: HttpRequest, person_id: int) -> HttpResponse:
    r = _person(person_id)
    form = f.RestructureForm(request.POST or None, members=_members(r))

    def execute() -> services.MovementResult:
        d = form.cleaned_data
        return services.household_restructure(
            notification=form.notification(),
            household_number=r.household_number,
            new_head_id=d["new_head"],
            relations=form.relations(),
            kind=MovementKind(d["kind"]),
        )

    return _flow(
        request, title="世帯主変更・世帯構成変更", parts={"form": form}, execute=execute, subject=r
    )


@registry_role
def family_register(request: HttpRequest, person_id: int) -> HttpResponse:
    r = _person(person_id)
    form = f.FamilyRegisterForm(
        request.POST or None, initial={k: getattr(r, k) for k in f.FamilyRegisterForm.FIELDS}
    )

    def execute() -> services.MovementResult:
        return services.family_register_change(
            notification=form.notification(), person_id=person_id, changes=form.changes(r)
        )

    return _flow(
        request,
        title="氏名・本籍の変更（戸籍届出）",
        parts={"form": form},
        execute=execute,
        subject=r,
    )


@registry_role
def correction(request: HttpRequest, person_id: int) -> HttpResponse:
    r = _person(person_id)
    form = f.CorrectionForm(request.POST or None)

    def execute() -> services.MovementResult:
        d = form.cleaned_data
        return services.clerical_correction(
            person_id=person_id,
            changes={d["field"]: d["value"]},
            reason=d["reason"],
            counter=d["counter"],
        )

    return _flow(request, title="誤記修正", parts={"form": form}, execute=execute, subject=r)


@registry_role
def resident_copy(request: HttpRequest, person_id: int) -> HttpResponse:
    """住民票の写しの交付: the form, then the signed PDF as a download."""
    r = _person(person_id)
    members = _members(r)
    form = f.CopyRequestForm(
        request.POST or None, members=members, initial={"persons": [str(person_id)]}
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        whole = d["scope"] == "household"
        ids = [person_id] if whole else [int(p) for p in d["persons"]] or [person_id]
        try:
            if d["scope"] == "items":
                copy = services.item_certificate_issue(
                    person_id=person_id,
                    items=d["items"],
                    purpose=d["purpose"],
                    requester=d["requester"],
                )
            else:
                copy = services.resident_copy_issue(
                    person_ids=ids,
                    whole_household=whole,
                    options=services.CopyOptions(
                        domicile=d["domicile"],
                        relation=d["relation"],
                        resident_code=d["resident_code"],
                        my_number=d["my_number"],
                    ),
                    purpose=d["purpose"],
                    requester=d["requester"],
                )
        except ServiceError as exc:
            _attach([form], exc)
        else:
            response = HttpResponse(copy.pdf, content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{copy.serial}.pdf"'
            response["X-Moyai-Serial"] = copy.serial
            return response
    return render(
        request,
        "registry/movement_form.html",
        {"title": "住民票の写しの交付", "parts": [form], "r": r, "submit_label": "交付する（PDF）"},
        status=400 if request.method == "POST" else 200,
    )


@registry_role
def movements(request: HttpRequest) -> HttpResponse:
    return render(
        request, "registry/movements.html", {"rows": selectors.recent_movements(limit=100)}
    )


@registry_role
def movement_cancel(request: HttpRequest, movement_number: int) -> HttpResponse:
    try:
        movement = selectors.movement_get(number=movement_number)
    except ServiceError as exc:
        raise Http404(exc.message) from None
    form = f.CancelForm(request.POST or None)

    def execute() -> services.MovementResult:
        return services.cancel_movement(
            movement_number=movement_number, reason=form.cleaned_data["reason"]
        )

    return _flow(
        request,
        title=f"異動の取消し（異動番号 {movement.number} {movement.get_kind_display()}）",
        parts={"form": form},
        execute=execute,
    )
