"""Writes of the document engine: issuing (発行), revoking (取消) and signing-key maintenance.

Other apps build their certificates on :func:`document_issue`: they gather the data (through
their own selectors, which record the read), pick a template extending
``documents/print_base.html`` and a registered kind (:mod:`moyai.documents.kinds`), and hand the
returned PDF bytes to the clerk or resident. The role check is theirs (their view or API).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import segno
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone

from moyai.documents import signing
from moyai.documents.kinds import get_kind
from moyai.documents.models import DocumentSerialCounter, IssuedDocument, SigningKey
from moyai.documents.pdf import RenderedPdf, render_document
from moyai.documents.rules import MAX_NUMBER, format_serial
from moyai.platform.audit import audit_record, current_actor
from moyai.platform.errors import NotFound, ServiceError
from moyai.platform.models import AuditAction, Municipality
from moyai.platform.outbox import emit
from moyai.platform.tenancy import current_tenant
from moyai.registry.rules import wareki

DEV_PUBLIC_URL = "http://localhost:8000"


@dataclass(frozen=True)
class DocumentInfo:
    """What the engine adds to a template's context, as ``document``."""

    serial: str
    kind: str
    kind_label: str
    municipality_code: str
    municipality_name: str
    issued_at: datetime
    issued_on_wareki: str
    verify_url: str
    qr_data_uri: str


class IssueResult(NamedTuple):
    document: IssuedDocument
    pdf: bytes


def public_base_url() -> str:
    """Where residents reach this deployment (``MOYAI_PUBLIC_URL``), for the printed QR code."""
    url = os.environ.get("MOYAI_PUBLIC_URL", "").strip().rstrip("/")
    if url:
        return url
    if settings.ENV == "production":
        raise ImproperlyConfigured(
            "MOYAI_PUBLIC_URL must be set in production (the verification URL printed on "
            "certificates, e.g. https://moyai.example.lg.jp)"
        )
    return DEV_PUBLIC_URL


def verification_url(serial: str) -> str:
    return public_base_url() + reverse("documents:verify", args=[serial])


def qr_data_uri(url: str) -> str:
    """The QR code of ``url`` as an SVG data URI (vector in the PDF; CSP allows ``data:``)."""
    return str(segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=2))


# How often an issue renders again with the next number after another clerk took its number
# first, before it queues on the counter lock instead.
OPTIMISTIC_ATTEMPTS = 3


def _counter(year: int, *, lock: bool) -> DocumentSerialCounter:
    rows: QuerySet[DocumentSerialCounter] = DocumentSerialCounter.objects.filter(year=year)
    if lock:
        rows = rows.select_for_update()
    counter = rows.first()
    if counter is None:
        try:
            with transaction.atomic():
                DocumentSerialCounter.objects.create(year=year)
        except IntegrityError:
            pass  # created meanwhile by a concurrent first issue of the year
        counter = rows.get()
    if counter.last_number >= MAX_NUMBER:
        raise ServiceError(
            f"{year}年の証明書番号が上限（{MAX_NUMBER}）に達しました", field="serial"
        )
    return counter


def _next_number(year: int) -> int:
    """The next serial number of the current municipality and ``year``, taken under the counter
    row's lock, which stays until the issuing transaction ends: concurrent issues queue here, and
    a failed issue gives its number back (no gaps, no duplicates)."""
    counter = _counter(year, lock=True)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    number: int = counter.last_number
    return number


def _peek_number(year: int) -> int:
    """The number the next issue of ``year`` would get, without taking it (no lock)."""
    number: int = _counter(year, lock=False).last_number + 1
    return number


def _claim_number(year: int, number: int) -> bool:
    """Take ``number`` if it is still the next one (compare-and-set on the counter row): the row
    is locked only from here to the end of the transaction, not while the PDF is rendered. An
    uncommitted claim of the same number by another issue makes this wait for its outcome."""
    return (
        DocumentSerialCounter.objects.filter(year=year, last_number=number - 1).update(
            last_number=number
        )
        == 1
    )


def _create_key(municipality: Municipality, *, now: datetime) -> SigningKey:
    last = SigningKey.objects.aggregate(v=Max("version"))["v"] or 0
    version = last + 1
    new = signing.generate_key(
        municipality_code=municipality.code,
        municipality_name=municipality.name,
        prefecture=municipality.prefecture,
        version=version,
        now=now,
    )
    key: SigningKey = SigningKey.objects.create(
        version=version,
        algorithm=new.algorithm,
        certificate_pem=new.certificate_pem,
        certificate_sha256=new.certificate_sha256,
        private_key_encrypted=new.private_key_encrypted,
        kek_id=new.kek_id,
        created_at=now,
        not_after=new.not_after,
    )
    audit_record(
        action=AuditAction.CREATE,
        target_type="signing_key",
        target_id=version,
        purpose="証明書の署名鍵の作成",
        detail={"certificate_sha256": new.certificate_sha256, "algorithm": new.algorithm},
    )
    return key


def _retire(key: SigningKey, *, reason: str, now: datetime) -> None:
    key.retired_at = now
    key.retired_reason = reason
    key.private_key_encrypted = b""
    key.kek_id = ""
    key.save(update_fields=["retired_at", "retired_reason", "private_key_encrypted", "kek_id"])
    audit_record(
        action=AuditAction.UPDATE,
        target_type="signing_key",
        target_id=key.version,
        purpose=reason,
        detail={"retired": True, "certificate_sha256": key.certificate_sha256},
    )


def _key_in_use(municipality: Municipality, *, now: datetime) -> SigningKey:
    """The municipality's signing key, created on first use and renewed before it expires."""
    key = SigningKey.objects.filter(retired_at__isnull=True).first()
    if key is not None and key.not_after - signing.ROTATE_BEFORE <= now:
        _retire(key, reason="証明書の有効期限が近いための自動更新", now=now)
        key = None
    return key or _create_key(municipality, now=now)


def _private_key(key: SigningKey, municipality_code: str) -> bytes:
    try:
        return signing.unwrap_private_key(
            bytes(key.private_key_encrypted),
            kek_id=key.kek_id,
            municipality_code=municipality_code,
            version=key.version,
            certificate_sha256=key.certificate_sha256,
        )
    except signing.KeyUnavailable as exc:
        raise ServiceError(str(exc), code="signing_key_unavailable") from exc


@transaction.atomic
def document_issue(
    *,
    kind: str,
    subject_type: str,
    subject_id: str | int,
    template_name: str,
    context: Mapping[str, Any],
    purpose: str,
) -> IssueResult:
    """証明書の発行: number, render, sign and register one document of the current municipality.

    Allocates the next serial (``<団体コード>-<西暦年>-<連番6桁>``), renders ``template_name``
    with ``context`` plus ``document`` (:class:`DocumentInfo`: serial, 団体名, 和暦の発行日, the
    verification URL and its QR code), signs the PDF with the municipality's key, stores the
    signed bytes and their SHA-256 in the issue register and records the print in the audit log
    (``target`` = the subject, ``purpose`` = why it was issued). All or nothing: a failure
    anywhere leaves no serial used, no register row and no audit row.
    """
    tenant = current_tenant()
    actor = current_actor()
    document_kind = get_kind(kind)
    if document_kind is None:
        raise ServiceError(f"証明書の種類 {kind} は登録されていません", field="kind")
    if not subject_type.strip() or len(subject_type) > 64:
        raise ServiceError("対象種別を指定してください（64文字以内）", field="subject_type")
    subject = str(subject_id).strip()
    if not subject or len(subject) > 64:
        raise ServiceError("対象IDを指定してください（64文字以内）", field="subject_id")
    if not purpose.strip():
        raise ServiceError("発行の目的（請求の理由）を入力してください", field="purpose")
    if "document" in context:
        raise ServiceError(
            "context の document は証明書番号などのために予約されています", field="context"
        )

    municipality = Municipality.objects.get(pk=tenant.id)
    now = timezone.now()
    issued_on = timezone.localdate(now)
    year = issued_on.year

    def build(number: int, key: SigningKey) -> tuple[str, RenderedPdf, bytes]:
        serial = format_serial(municipality.code, year, number)
        url = verification_url(serial)
        info = DocumentInfo(
            serial=serial,
            kind=document_kind.code,
            kind_label=document_kind.label,
            municipality_code=municipality.code,
            municipality_name=str(municipality),
            issued_at=now,
            issued_on_wareki=wareki(issued_on),
            verify_url=url,
            qr_data_uri=qr_data_uri(url),
        )
        rendered = render_document(
            template_name=template_name, context={**context, "document": info}
        )
        signed = signing.sign_pdf(
            rendered.pdf,
            certificate_pem=key.certificate_pem,
            private_key_der=_private_key(key, municipality.code),
            reason=f"{document_kind.label}の発行（証明書番号 {serial}）",
            location=str(municipality),
            contact_info=url,
        )
        return serial, rendered, signed

    # The serial is printed in the PDF, so it must be known before rendering. Rendering and
    # signing take most of an issue's time; holding the counter lock through them would make
    # every certificate of the municipality wait for the one before it (measured in the load
    # test). So the PDF is built for the number that is next now and the number is then claimed
    # by compare-and-set; if another clerk took it meanwhile, the PDF is built again for the
    # following number. A first issue (no signing key yet) or a key renewal takes the lock.
    built: tuple[int, SigningKey, tuple[str, RenderedPdf, bytes]] | None = None
    key = SigningKey.objects.filter(retired_at__isnull=True).first()
    if key is not None and key.not_after - signing.ROTATE_BEFORE > now:
        for _ in range(OPTIMISTIC_ATTEMPTS):
            number = _peek_number(year)
            candidate = build(number, key)
            if _claim_number(year, number):
                built = (number, key, candidate)
                break
    if built is None:
        number = _next_number(year)
        key = _key_in_use(municipality, now=now)
        built = (number, key, build(number, key))
    number, key, (serial, rendered, signed) = built
    document = IssuedDocument.objects.create(
        serial=serial,
        year=issued_on.year,
        number=number,
        kind=document_kind.code,
        kind_label=document_kind.label,
        subject_type=subject_type,
        subject_id=subject,
        template_name=template_name,
        issued_at=now,
        issued_by=actor.username,
        sha256=hashlib.sha256(signed).hexdigest(),
        page_count=rendered.page_count,
        pdf=signed,
        signing_key_version=key.version,
    )
    audit_record(
        action=AuditAction.PRINT,
        target_type=subject_type,
        target_id=subject,
        purpose=purpose,
        detail={"serial": serial, "kind": document_kind.code},
    )
    emit(
        type="documents.issued",
        subject_type=subject_type,
        subject_id=subject,
        payload={"serial": serial, "kind": document_kind.code},
    )
    return IssueResult(document, signed)


@transaction.atomic
def document_revoke(*, serial: str, reason: str) -> IssuedDocument:
    """証明書の取消: mark an issued document revoked; verification then reports it not genuine."""
    if not reason.strip():
        raise ServiceError("取消の理由を入力してください", field="reason")
    document: IssuedDocument | None = (
        IssuedDocument.objects.select_for_update().filter(serial=serial).first()
    )
    if document is None:
        raise NotFound(f"証明書番号 {serial} の証明書は発行されていません", field="serial")
    if document.revoked:
        raise ServiceError(f"証明書番号 {serial} は取消済みです", field="serial")
    document.revoked = True
    document.revoked_at = timezone.now()
    document.revoked_by = current_actor().username
    document.revoked_reason = reason.strip()
    document.save(update_fields=["revoked", "revoked_at", "revoked_by", "revoked_reason"])
    audit_record(
        action=AuditAction.UPDATE,
        target_type=document.subject_type,
        target_id=document.subject_id,
        purpose=reason.strip(),
        detail={"serial": serial, "kind": document.kind, "revoked": True},
    )
    emit(
        type="documents.revoked",
        subject_type=document.subject_type,
        subject_id=document.subject_id,
        payload={"serial": serial, "kind": document.kind},
    )
    return document


@transaction.atomic
def signing_key_rotate(*, reason: str) -> SigningKey:
    """署名鍵の更新: retire the current municipality's key (erasing its private key) and create
    the next version. Issued documents keep verifying with the retired key's certificate."""
    if not reason.strip():
        raise ServiceError("鍵を更新する理由を入力してください", field="reason")
    municipality = Municipality.objects.get(pk=current_tenant().id)
    now = timezone.now()
    key = SigningKey.objects.select_for_update().filter(retired_at__isnull=True).first()
    if key is not None:
        _retire(key, reason=reason.strip(), now=now)
    return _create_key(municipality, now=now)


@transaction.atomic
def signing_keys_rewrap() -> int:
    """Re-encrypt the current municipality's key in use with the first KEK of
    ``MOYAI_DOCUMENT_KEY`` (after a KEK rotation); returns how many keys were re-encrypted."""
    tenant = current_tenant()
    target = signing.current_kek_id()
    count = 0
    for key in SigningKey.objects.select_for_update().filter(retired_at__isnull=True):
        if key.kek_id == target:
            continue
        der = _private_key(key, tenant.code)
        old = key.kek_id
        key.kek_id, key.private_key_encrypted = signing.wrap_private_key(
            der,
            municipality_code=tenant.code,
            version=key.version,
            certificate_sha256=key.certificate_sha256,
        )
        key.save(update_fields=["kek_id", "private_key_encrypted"])
        audit_record(
            action=AuditAction.UPDATE,
            target_type="signing_key",
            target_id=key.version,
            purpose="鍵暗号化鍵の更新",
            detail={"kek_from": old, "kek_to": target},
        )
        count += 1
    return count
