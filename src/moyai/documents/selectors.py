"""Reads of the document engine: the issue register (staff, audited) and public verification.

Verification (:func:`document_verify`) is public: residents and third parties check a serial
or an electronic file without signing in. It answers only whether the document is genuine and,
for a genuine one, its kind, the issuing municipality and the issue date — never whom it is
about. It is not recorded in the audit log: it reads no personal data, and the audit log is a
per-municipality hash chain locked for every append, which anonymous callers must not be able to
grow or contend on. Each verification is logged (``moyai.documents.verify``: serial, outcome,
source address) for abuse monitoring instead.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from django.utils import timezone

from moyai.documents.models import IssuedDocument, SigningKey
from moyai.documents.rules import SERIAL_EXAMPLE, SERIAL_IN_TEXT_RE, parse_serial
from moyai.documents.signing import read_contact_info, validate_signature
from moyai.platform.audit import ActorMissing, audit_record, current_actor
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditAction, Municipality
from moyai.platform.tenancy import tenant_context
from moyai.registry.rules import wareki

logger = logging.getLogger("moyai.documents.verify")

MAX_UPLOAD_BYTES = 10 * 1024 * 1024

REASON_GENUINE_SERIAL = "この証明書番号の証明書は、記載の団体が発行した正規のものです。"
REASON_GENUINE_FILE = (
    "このファイルは、記載の団体が発行したときのまま改ざんされておらず、電子署名も有効です。"
)
REASON_MALFORMED = f"証明書番号の形式が正しくありません（例: {SERIAL_EXAMPLE}）。"
REASON_UNKNOWN = "この証明書番号の証明書は発行されていません。"
REASON_REVOKED = "この証明書は、発行した団体によって取り消されています。"
REASON_NO_SERIAL = (
    "ファイルから証明書番号を読み取れません（この基盤で発行された証明書ではありません）。"
)
REASON_ALTERED = "ファイルの内容が発行時のものと一致しません（改ざんされたか、別のファイルです）。"


@dataclass(frozen=True)
class Verification:
    """The public answer about one serial (and, optionally, one uploaded file)."""

    serial: str
    genuine: bool
    reason: str
    kind_label: str = ""
    municipality_name: str = ""
    issued_on: date | None = None
    file_checked: bool = False
    unaltered: bool | None = None

    @property
    def issued_on_wareki(self) -> str:
        return wareki(self.issued_on) if self.issued_on else ""


def _not_genuine(serial: str, reason: str, *, file_checked: bool = False) -> Verification:
    return Verification(
        serial=serial,
        genuine=False,
        reason=reason,
        file_checked=file_checked,
        unaltered=False if file_checked else None,
    )


def _log(result: Verification) -> Verification:
    try:
        source = current_actor().source_ip
    except ActorMissing:
        source = ""
    level = logging.WARNING if result.file_checked and not result.genuine else logging.INFO
    logger.log(
        level,
        "verify serial=%r genuine=%s file=%s reason=%s source=%s",
        result.serial[:40],
        result.genuine,
        result.file_checked,
        result.reason,
        source,
    )
    return result


def serial_in_file(pdf: bytes) -> str:
    """The serial an uploaded PDF claims: from its signature's verification URL, else the last
    serial-shaped text in its bytes; "" if none."""
    contact = read_contact_info(pdf)
    if contact:
        for part in reversed(urlsplit(contact).path.split("/")):
            if parse_serial(part):
                return part
    found = SERIAL_IN_TEXT_RE.findall(pdf)
    return found[-1].decode() if found else ""


def document_verify(*, serial: str, pdf: bytes | None = None) -> Verification:
    """真正性の確認: is ``serial`` a genuine, unrevoked document — and, when ``pdf`` is given,
    is that file exactly the one issued (SHA-256 equal and its signature valid)?

    Runs in the tenant named by the serial's 団体コード. With a file but no serial, the serial is
    read from the file.
    """
    file_checked = pdf is not None
    if pdf is not None and not serial.strip():
        serial = serial_in_file(pdf)
        if not serial:
            return _log(_not_genuine("", REASON_NO_SERIAL, file_checked=True))
    serial = serial.strip()
    parsed = parse_serial(serial)
    if parsed is None:
        return _log(_not_genuine(serial, REASON_MALFORMED, file_checked=file_checked))
    municipality = Municipality.objects.filter(code=parsed.municipality_code).first()
    if municipality is None:
        return _log(_not_genuine(serial, REASON_UNKNOWN, file_checked=file_checked))
    with tenant_context(municipality):
        document = IssuedDocument.objects.defer("pdf").filter(serial=str(parsed)).first()
        if document is None:
            return _log(_not_genuine(serial, REASON_UNKNOWN, file_checked=file_checked))
        if document.revoked:
            return _log(_not_genuine(serial, REASON_REVOKED, file_checked=file_checked))
        if pdf is None:
            return _log(_genuine(document, municipality, REASON_GENUINE_SERIAL))
        if not hmac.compare_digest(hashlib.sha256(pdf).hexdigest(), document.sha256):
            return _log(_not_genuine(serial, REASON_ALTERED, file_checked=True))
        key = SigningKey.objects.filter(version=document.signing_key_version).first()
        if key is None:
            return _log(_not_genuine(serial, "署名鍵の証明書が見つかりません。", file_checked=True))
        check = validate_signature(
            pdf, certificate_pem=key.certificate_pem, moment=document.issued_at
        )
        if not check.valid:
            return _log(_not_genuine(serial, check.problem + "。", file_checked=True))
        return _log(_genuine(document, municipality, REASON_GENUINE_FILE, file_checked=True))


def _genuine(
    document: IssuedDocument,
    municipality: Municipality,
    reason: str,
    *,
    file_checked: bool = False,
) -> Verification:
    return Verification(
        serial=document.serial,
        genuine=True,
        reason=reason,
        kind_label=document.kind_label,
        municipality_name=str(municipality),
        issued_on=timezone.localdate(document.issued_at),
        file_checked=file_checked,
        unaltered=True if file_checked else None,
    )


# --- staff reads of the register (personal data: recorded in the audit log) -----------------------


def issued_document_get(*, serial: str, purpose: str) -> IssuedDocument | None:
    """One register row of the current municipality (without the PDF), the read recorded."""
    document = IssuedDocument.objects.defer("pdf").filter(serial=serial).first()
    if document is not None:
        audit_record(
            action=AuditAction.READ,
            target_type=document.subject_type,
            target_id=document.subject_id,
            purpose=purpose,
            detail={"serial": serial, "kind": document.kind},
        )
    return document


def issued_documents_for_subject(
    *, subject_type: str, subject_id: str | int, purpose: str
) -> list[IssuedDocument]:
    """Every document issued about one subject (newest first, without PDFs), the read recorded."""
    rows = list(
        IssuedDocument.objects.defer("pdf")
        .filter(subject_type=subject_type, subject_id=str(subject_id))
        .order_by("-issued_at", "-number")
    )
    audit_record(
        action=AuditAction.READ,
        target_type=subject_type,
        target_id=subject_id,
        purpose=purpose,
        detail={"issued_documents": len(rows)},
    )
    return rows


def issued_document_pdf(*, serial: str, purpose: str) -> bytes:
    """再印刷: the exact signed bytes issued under ``serial``; recorded as a print."""
    document = IssuedDocument.objects.filter(serial=serial).first()
    if document is None:
        raise ServiceError(f"証明書番号 {serial} の証明書は発行されていません", code="not_found")
    if document.revoked:
        raise ServiceError(f"証明書番号 {serial} は取り消されているため再印刷できません")
    audit_record(
        action=AuditAction.PRINT,
        target_type=document.subject_type,
        target_id=document.subject_id,
        purpose=purpose,
        detail={"serial": serial, "kind": document.kind, "reprint": True},
    )
    return bytes(document.pdf)


def signing_keys() -> list[SigningKey]:
    """The current municipality's signing keys, newest first (certificates are public)."""
    return list(SigningKey.objects.defer("private_key_encrypted").order_by("-version"))
