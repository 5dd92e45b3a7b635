"""外字の同定 screen: the vendor's glyph beside ranked MJ candidates drawn with IPAmj明朝."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from moyai.exchange import gaiji, selectors, services
from moyai.platform.errors import ServiceError
from moyai.platform.models import Role
from moyai.platform.permissions import require_role


class DecideForm(forms.Form):
    choice = forms.CharField(required=False)
    other = forms.CharField(
        label="候補にない場合: 文字（IVS を含めて）を入力", required=False, max_length=8
    )
    note = forms.CharField(label="備考（判断の根拠など）", required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


@require_role(Role.REGISTRY, Role.ADMIN)
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "exchange/gaiji_queue.html", {"rows": selectors.gaiji_queue()})


@require_role(Role.REGISTRY, Role.ADMIN)
def identify(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.gaiji_queue_item(item_id=item_id)
    if item is None:
        raise Http404("同定待ちの外字が見つかりません")
    picture = bytes(item.image) if item.image else None
    ranked = gaiji.candidates(item.hint, picture)
    form = DecideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        chosen = next((c for c in ranked if c.text == form.cleaned_data["choice"]), None)
        text = form.cleaned_data["other"] or (chosen.text if chosen else "")
        try:
            services.gaiji_decide(
                vendor=item.vendor,
                code=item.code,
                replacement=text,
                mj_name=chosen.mj_name if chosen and not form.cleaned_data["other"] else "",
                note=form.cleaned_data["note"],
            )
        except ServiceError as exc:
            form.add_error("other", exc.message)
        else:
            messages.success(request, f"外字 U+{item.code} を「{text}」と同定しました")
            return redirect("exchange:gaiji_queue")
    return render(
        request,
        "exchange/gaiji_identify.html",
        {
            "item": item,
            "candidates": ranked,
            "form": form,
            "picture": gaiji.data_uri(picture) if picture else None,
        },
        status=400 if form.errors else 200,
    )
