"""The public verification page (真正性の確認): no sign-in; residents and third parties use it.

It shows whether a serial — or an uploaded electronic certificate — is genuine, and for a
genuine one only the kind, the issuing municipality and the issue date: never personal data.
The lookup runs in the tenant named by the serial (see :func:`selectors.document_verify`) as the
public actor ``public:verify``, whoever is signed in.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from moyai.documents import selectors
from moyai.documents.forms import SerialForm, UploadForm
from moyai.documents.rules import parse_serial
from moyai.platform.audit import Actor, acting_as
from moyai.platform.middleware import client_ip

PUBLIC_USERNAME = "public:verify"


def public_actor(request: HttpRequest, channel: str = "web") -> Actor:
    return Actor(username=PUBLIC_USERNAME, channel=channel, source_ip=client_ip(request))


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def verify_index(request: HttpRequest) -> HttpResponse:
    """Enter a serial (GET) or upload a PDF without one (POST)."""
    serial_form = SerialForm(request.GET if "serial" in request.GET else None)
    upload_form = UploadForm(request.POST or None, request.FILES or None)
    result = None
    if serial_form.is_bound and serial_form.is_valid():
        serial = serial_form.cleaned_data["serial"].strip()
        if parse_serial(serial):
            return redirect("documents:verify", serial=serial)
        serial_form.add_error("serial", "証明書番号の形式が正しくありません")
    if request.method == "POST" and upload_form.is_valid():
        with acting_as(public_actor(request)):
            result = selectors.document_verify(
                serial="", pdf=upload_form.cleaned_data["file"].read()
            )
        upload_form = UploadForm()
    return _page(
        request,
        "documents/verify.html",
        {"serial_form": serial_form, "upload_form": upload_form, "result": result},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, serial: str) -> HttpResponse:
    """The answer for one serial; a POSTed PDF is checked against that serial's record."""
    upload_form = UploadForm(request.POST or None, request.FILES or None)
    with acting_as(public_actor(request)):
        if request.method == "POST" and upload_form.is_valid():
            result = selectors.document_verify(
                serial=serial, pdf=upload_form.cleaned_data["file"].read()
            )
            upload_form = UploadForm()
        else:
            result = selectors.document_verify(serial=serial)
    return _page(
        request,
        "documents/verify.html",
        {"serial_form": None, "upload_form": upload_form, "result": result, "serial": serial},
    )
