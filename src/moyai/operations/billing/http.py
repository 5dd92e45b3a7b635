"""File answers of 割り勘 (screens and API alike): CSV as an attachment, the PDF inline."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponse


def csv_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    return response
