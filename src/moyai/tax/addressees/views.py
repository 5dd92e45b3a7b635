"""税務宛名の画面: 検索と一覧 → 住登外者・法人・共有者の登録 → 宛名（変更、業務ごとの送付先・
納税管理人）. Views parse forms and call selectors/services (権限「税務」)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from moyai.platform.errors import ServiceError
from moyai.platform.models import Role
from moyai.platform.permissions import require_role
from moyai.tax.addressees import forms, selectors, services
from moyai.tax.addressees.models import Addressee, AddresseeKind, Business, ContactRole
from moyai.tax.common.forms import LedgerForm

tax_role = require_role(Role.TAX)
PURPOSE = "税務宛名の管理"


def _form_page(
    request: HttpRequest, form: LedgerForm, title: str, write: object, **context: object
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            return redirect(write(form))  # type: ignore[operator]
        except ServiceError as exc:
            form.attach(exc.field, exc.message)
    return render(
        request,
        "tax_addressees/form.html",
        {"form": form, "title": title, **context},
        status=400 if request.method == "POST" else 200,
    )


@tax_role
def index(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    found = None
    error = ""
    if q:
        try:
            found = selectors.addressee_search(query=q, purpose=f"{PURPOSE}（検索）")
        except ServiceError as exc:
            error = exc.message
    return render(request, "tax_addressees/index.html", {"found": found, "error": error})


@tax_role
def non_resident_new(request: HttpRequest) -> HttpResponse:
    """住登外者の登録."""
    form = forms.NonResidentForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        d = f.cleaned_data
        new = services.addressee_register_non_resident(
            name=d["name"],
            kana=d["kana"],
            birth_date=d.get("birth_date") or "",
            address=d["address"],
            postal_code=d.get("postal_code") or "",
        )
        messages.success(request, f"住登外者を登録しました（{new.number}）")
        return f"/tax/addressees/{new.pk}/"

    return _form_page(request, form, "住登外者の登録", write)


@tax_role
def corporation_new(request: HttpRequest) -> HttpResponse:
    """法人の登録 (法人番号 with its check digit)."""
    form = forms.CorporationForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        d = f.cleaned_data
        before = Addressee.objects.filter(corporate_number=d["corporate_number"].strip()).first()
        new = services.addressee_register_corporation(
            corporate_number=d["corporate_number"],
            name=d["name"],
            kana=d.get("kana") or "",
            address=d["address"],
            postal_code=d.get("postal_code") or "",
        )
        if before is not None:
            messages.info(request, f"この法人番号の宛名はすでにあります（{new.number}）")
        else:
            messages.success(request, f"法人を登録しました（{new.number}）")
        return f"/tax/addressees/{new.pk}/"

    return _form_page(request, form, "法人の登録", write)


@tax_role
def co_owners_new(request: HttpRequest) -> HttpResponse:
    """共有者の集まり (one 納税義務者) from its members, 持分 and 代表者."""
    form = forms.CoOwnersForm(request.POST if request.method == "POST" else None)

    def write(f: LedgerForm) -> str:
        d = f.cleaned_data
        group = services.owner_resolve(
            spec=services.OwnerSpec(
                shares=tuple(d["co_owners"]), representative=d["representative_number"]
            )
        )
        messages.success(request, f"共有者を登録しました（{group.number} {group.name}）")
        return f"/tax/addressees/{group.pk}/"

    return _form_page(request, form, "共有者の登録", write)


@tax_role
def addressee(request: HttpRequest, addressee_id: int) -> HttpResponse:
    """A 税務宛名: its facts (changed here for 住登外者・法人), co-owners, and the 送付先 /
    納税管理人 per 業務."""
    if not Addressee.objects.filter(pk=addressee_id).exists():
        raise Http404("宛名が見つかりません")
    row = selectors.addressee_get(addressee_id=addressee_id, purpose=PURPOSE)
    editable = row.kind in (AddresseeKind.NON_RESIDENT, AddresseeKind.CORPORATION)
    posted = request.POST if request.method == "POST" else None
    update = forms.UpdateForm(
        posted if posted is not None and "update" in posted else None,
        initial={
            "name": row.name,
            "kana": row.kana,
            "birth_date": row.birth_date,
            "postal_code": row.postal_code,
            "address": row.address,
        },
    )
    contact = forms.ContactForm(
        posted if posted is not None and "contact" in posted else None,
        initial={"business": Business.ALL, "role": ContactRole.SEND_TO},
    )
    failed = False
    if posted is not None and "update" in posted:
        if update.is_valid():
            d = update.cleaned_data
            try:
                services.addressee_update(
                    addressee_id=row.pk,
                    name=d["name"],
                    kana=d.get("kana") or "",
                    birth_date=d.get("birth_date") or "",
                    address=d["address"],
                    postal_code=d.get("postal_code") or "",
                    note=d["note"],
                )
                messages.success(request, "宛名を変更しました")
                return redirect(f"/tax/addressees/{row.pk}/")
            except ServiceError as exc:
                update.attach(exc.field, exc.message)
        failed = True
    elif posted is not None and "contact" in posted:
        if contact.is_valid():
            d = contact.cleaned_data
            try:
                services.contact_set(
                    addressee_id=row.pk,
                    business=d["business"],
                    role=d["role"],
                    name=d.get("contact_name") or "",
                    address=d.get("contact_address") or "",
                    postal_code=d.get("contact_postal_code") or "",
                    note=d["contact_note"],
                )
                messages.success(request, "送付先・納税管理人を登録しました")
                return redirect(f"/tax/addressees/{row.pk}/")
            except ServiceError as exc:
                contact.attach(exc.field, exc.message)
        failed = True
    elif posted is not None:
        failed = True
        messages.error(request, "変更する内容を選んでください")
    contacts = [
        {
            "business": Business(business).label if business in Business.values else business,
            "role": ContactRole(role).label if role in ContactRole.values else role,
            **entry,
        }
        for business, roles in sorted(row.contacts.items())
        for role, entry in sorted(roles.items())
    ]
    return render(
        request,
        "tax_addressees/addressee.html",
        {
            "a": row,
            "editable": editable,
            "update": update,
            "contact": contact,
            "contacts": contacts,
            "members": selectors.members(group=row),
            "groups": selectors.groups_of(addressee=row),
        },
        status=400 if failed else 200,
    )
