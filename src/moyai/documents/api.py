"""Documents API: public verification of certificates (no authentication).

``GET /api/v1/documents/verify/{serial}`` and ``POST /api/v1/documents/verify`` (multipart: the
PDF as ``file``, optionally ``serial``) answer whether a certificate is genuine. They are the only
unauthenticated operations of the API (``auth=None``) and return no personal data.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, UploadedFile

from moyai.documents import selectors
from moyai.documents.selectors import MAX_UPLOAD_BYTES, Verification
from moyai.documents.views import public_actor
from moyai.platform.audit import acting_as
from moyai.platform.errors import ServiceError

router = Router(tags=["documents"])


class VerificationOut(Schema):
    serial: str = Field(description="証明書番号")
    genuine: bool = Field(description="正規に発行され、取り消されていない証明書か")
    reason: str = Field(description="判定の理由（日本語）")
    kind: str | None = Field(None, description="証明書の種類（本物のときのみ）")
    municipality_name: str | None = Field(None, description="発行した団体（本物のときのみ）")
    issued_on: date | None = Field(None, description="発行日（本物のときのみ）")
    file_checked: bool = Field(description="ファイルを照合したか")
    unaltered: bool | None = Field(
        None,
        description="ファイルが発行時のまま（SHA-256 一致かつ電子署名が有効）か。未照合は null",
    )


def _out(result: Verification) -> dict[str, Any]:
    return {
        "serial": result.serial,
        "genuine": result.genuine,
        "reason": result.reason,
        "kind": result.kind_label or None,
        "municipality_name": result.municipality_name or None,
        "issued_on": result.issued_on,
        "file_checked": result.file_checked,
        "unaltered": result.unaltered,
    }


@router.get(
    "/documents/verify/{serial}",
    response=VerificationOut,
    auth=None,
    summary="証明書番号の確認（公開・認証不要）",
)
def verify_serial(request: HttpRequest, serial: str) -> dict[str, Any]:
    """Whether ``serial`` names a genuine, unrevoked certificate; its kind, 団体 and date."""
    with acting_as(public_actor(request, channel="api")):
        return _out(selectors.document_verify(serial=serial))


@router.post(
    "/documents/verify",
    response=VerificationOut,
    auth=None,
    summary="証明書ファイル（PDF）の照合（公開・認証不要）",
)
def verify_file(
    request: HttpRequest,
    file: File[UploadedFile],
    serial: Form[str] = "",
) -> dict[str, Any]:
    """Whether the uploaded PDF is exactly a certificate as issued (SHA-256 and signature).

    ``serial`` is optional: without it the serial is read from the file's signature.
    """
    if (file.size or 0) > MAX_UPLOAD_BYTES:
        raise ServiceError("ファイルが大きすぎます（10MB まで）", field="file", code="too_large")
    with acting_as(public_actor(request, channel="api")):
        return _out(selectors.document_verify(serial=serial, pdf=file.read()))
