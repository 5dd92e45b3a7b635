"""Issuing: serials, the register, the audit log, the signature and the signing keys."""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from datetime import UTC, datetime
from unittest import mock

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import connection
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from moyai.documents import selectors, services, signing
from moyai.documents.kinds import SAMPLE
from moyai.documents.models import DocumentSerialCounter, IssuedDocument, SigningKey
from moyai.documents.pdf import UnprintableText
from moyai.platform.audit import Actor, acting_as
from moyai.platform.errors import ServiceError
from moyai.platform.models import AuditEvent, OutboxEvent
from moyai.platform.tenancy import tenant_context

from ..conftest import on_postgres
from .conftest import KATSURAGI, NAME, sample_context


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _certificate(town) -> object:
    with tenant_context(town):
        key = SigningKey.objects.get(retired_at__isnull=True)
    return next(iter(load_certs_from_pemder_data(key.certificate_pem.encode())))


def test_issue_renders_signs_registers_and_audits(town_a, issue, in_town) -> None:
    result = issue(town_a, subject_id="P-1")
    document, pdf = result
    year = document.issued_at.astimezone(document.issued_at.tzinfo).year
    assert document.serial == f"143014-{year}-000001"
    assert pdf.startswith(b"%PDF-")
    assert document.sha256 == hashlib.sha256(pdf).hexdigest()
    assert document.page_count == 1
    assert document.issued_by == "cli:test"
    assert (document.kind, document.kind_label) == ("documents.sample", "証明書（見本）")
    assert (document.subject_type, document.subject_id) == ("person", "P-1")
    assert document.signing_key_version == 1 and not document.revoked

    text = _text(pdf)
    assert document.serial in text
    assert NAME in text  # the IVS survives text extraction (ToUnicode maps the variant glyph)
    assert KATSURAGI + " 髙志" in text
    assert "昭和60年4月1日" in text  # 和暦 passed in the context
    assert "神奈川県葉山町" in text
    assert f"http://localhost:8000/documents/verify/{document.serial}/" in text

    with tenant_context(town_a):
        stored = IssuedDocument.objects.get(serial=document.serial)
        assert bytes(stored.pdf) == pdf
        prints = list(AuditEvent.objects.filter(action="print"))
        events = list(OutboxEvent.objects.filter(type="documents.issued"))
    assert len(prints) == 1
    assert (prints[0].target_type, prints[0].target_id) == ("person", "P-1")
    assert prints[0].purpose == "本人請求（就職）"
    assert prints[0].detail == {"serial": document.serial, "kind": "documents.sample"}
    assert prints[0].actor_username == "cli:test"
    assert [e.payload for e in events] == [{"serial": document.serial, "kind": "documents.sample"}]


def test_signature_validates_with_pyhanko_against_the_municipality_certificate(
    town_a, town_b, issue
) -> None:
    pdf = issue(town_a).pdf
    issue(town_b)
    sig = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    status = validate_pdf_signature(
        sig, ValidationContext(trust_roots=[_certificate(town_a)], allow_fetching=False)
    )
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.docmdp_ok
    assert sig.sig_object["/Contents"]  # a CMS signature
    assert str(sig.sig_object["/SubFilter"]) == "/ETSI.CAdES.detached"  # PAdES

    # Another municipality's certificate is no trust root for it.
    other = validate_pdf_signature(
        PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0],
        ValidationContext(trust_roots=[_certificate(town_b)], allow_fetching=False),
    )
    assert other.intact and not other.trusted


def test_signing_certificate_names_the_municipality(town_a, issue) -> None:
    issue(town_a)
    with tenant_context(town_a):
        key = SigningKey.objects.get()
    cert = x509.load_pem_x509_certificate(key.certificate_pem.encode())
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "葉山町"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "143014"
    assert subject.get_attributes_for_oid(NameOID.STATE_OR_PROVINCE_NAME)[0].value == "神奈川県"
    assert cert.issuer == cert.subject  # self-signed
    assert key.certificate_sha256 == signing.certificate_sha256(key.certificate_pem)


def test_serials_are_sequential_per_municipality_and_year(town_a, town_b, issue) -> None:
    a = [issue(town_a).document.serial for _ in range(3)]
    b = issue(town_b).document.serial
    year = a[0].split("-")[1]
    assert a == [f"143014-{year}-00000{n}" for n in (1, 2, 3)]
    assert b == f"143219-{year}-000001"

    # The year is the local (JST) calendar year: 2026-12-31 15:30 UTC is 2027-01-01 in Japan.
    new_year = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=new_year):
        first = issue(town_a).document
    assert first.serial == "143014-2027-000001"
    with tenant_context(town_a):
        counters = dict(DocumentSerialCounter.objects.values_list("year", "last_number"))
    assert counters == {int(year): 3, 2027: 1}


def test_a_failed_issue_uses_no_number_and_leaves_nothing(town_a, issue, in_town) -> None:
    # 葛 + U+E0100 is an Adobe-Japan1 sequence; IPAmj明朝 (Moji_Joho) would print the base 葛.
    with pytest.raises(UnprintableText, match=r"U\+845B U\+E0100") as excinfo:
        issue(town_a, name="葛\U000e0100城 太郎")
    assert excinfo.value.field == "context"
    with pytest.raises(UnprintableText, match=r"U\+F8F0"):  # a private-use 外字 code point
        issue(town_a, address="堀内\uf8f0番地")
    with in_town(town_a):
        with pytest.raises(ServiceError, match="登録されていません") as unknown:
            services.document_issue(
                kind="nope.unknown",
                subject_type="person",
                subject_id="P-1",
                template_name="documents/sample.html",
                context=sample_context(),
                purpose="テスト",
            )
        assert unknown.value.field == "kind"
        with pytest.raises(ServiceError, match="予約") as reserved:
            services.document_issue(
                kind=SAMPLE.code,
                subject_type="person",
                subject_id="P-1",
                template_name="documents/sample.html",
                context={**sample_context(), "document": "x"},
                purpose="テスト",
            )
        assert reserved.value.field == "context"
        with pytest.raises(ServiceError) as no_purpose:
            services.document_issue(
                kind=SAMPLE.code,
                subject_type="person",
                subject_id="P-1",
                template_name="documents/sample.html",
                context=sample_context(),
                purpose=" ",
            )
        assert no_purpose.value.field == "purpose"
        assert not IssuedDocument.objects.exists()
        assert not AuditEvent.objects.exclude(target_type="municipality").exists()
        assert not SigningKey.objects.exists()
        assert DocumentSerialCounter.objects.filter(last_number__gt=0).count() == 0
    assert issue(town_a).document.number == 1


def test_the_private_key_is_stored_encrypted_and_bound_to_its_row(town_a, issue) -> None:
    issue(town_a)
    with tenant_context(town_a):
        key = SigningKey.objects.get()
    blob = bytes(key.private_key_encrypted)
    assert key.kek_id == "d1"
    der = signing.unwrap_private_key(
        blob,
        kek_id="d1",
        municipality_code="143014",
        version=1,
        certificate_sha256=key.certificate_sha256,
    )
    assert der not in blob and der[:16] not in blob
    for code, version in (("143219", 1), ("143014", 2)):  # copied to another tenant / version
        with pytest.raises(signing.KeyUnavailable):
            signing.unwrap_private_key(
                blob,
                kek_id="d1",
                municipality_code=code,
                version=version,
                certificate_sha256=key.certificate_sha256,
            )


def test_kek_rotation_rewraps_the_key_in_use(town_a, issue, in_town, monkeypatch) -> None:
    issue(town_a)
    old = base64.b64encode(
        hashlib.sha256(b"moyai-documents-kek-v1:" + settings.SECRET_KEY.encode()).digest()
    ).decode()
    new = base64.b64encode(b"k" * 32).decode()
    # Only the new KEK configured: the old key cannot sign, and the issue fails cleanly.
    monkeypatch.setenv("MOYAI_DOCUMENT_KEY", f"k2:{new}")
    with pytest.raises(ServiceError) as excinfo:
        issue(town_a)
    assert excinfo.value.code == "signing_key_unavailable"
    # New first, old kept: rewrap, then the old can go.
    monkeypatch.setenv("MOYAI_DOCUMENT_KEY", f"k2:{new},d1:{old}")
    with in_town(town_a):
        assert services.signing_keys_rewrap() == 1
        assert services.signing_keys_rewrap() == 0
    monkeypatch.setenv("MOYAI_DOCUMENT_KEY", f"k2:{new}")
    document = issue(town_a).document
    assert document.number == 2 and document.signing_key_version == 1
    with tenant_context(town_a):
        assert SigningKey.objects.get().kek_id == "k2"


def test_key_rotation_keeps_old_documents_verifiable(town_a, issue, in_town) -> None:
    first = issue(town_a)
    with in_town(town_a):
        new_key = services.signing_key_rotate(reason="年次更新")
    second = issue(town_a)
    assert new_key.version == 2
    assert (first.document.signing_key_version, second.document.signing_key_version) == (1, 2)
    with tenant_context(town_a):
        old_key = SigningKey.objects.get(version=1)
        rotations = list(AuditEvent.objects.filter(target_type="signing_key").order_by("seq"))
    assert old_key.retired_at is not None and bytes(old_key.private_key_encrypted) == b""
    assert [(e.action, e.target_id) for e in rotations] == [
        ("create", "1"),
        ("update", "1"),
        ("create", "2"),
    ]
    for issued in (first, second):
        result = selectors.document_verify(serial=issued.document.serial, pdf=issued.pdf)
        assert result.genuine and result.unaltered, result.reason


def test_reprint_is_byte_identical_and_recorded(town_a, issue, in_town) -> None:
    document, pdf = issue(town_a)
    with in_town(town_a):
        again = selectors.issued_document_pdf(serial=document.serial, purpose="再交付（紛失）")
        reprints = list(AuditEvent.objects.filter(action="print").order_by("seq"))
        assert again == pdf
        assert reprints[-1].detail == {
            "serial": document.serial,
            "kind": "documents.sample",
            "reprint": True,
        }
        services.document_revoke(serial=document.serial, reason="記載誤り")
        with pytest.raises(ServiceError, match="取り消されている"):
            selectors.issued_document_pdf(serial=document.serial, purpose="再交付")
        with pytest.raises(ServiceError, match="取消済み"):
            services.document_revoke(serial=document.serial, reason="二重")
        listed = selectors.issued_documents_for_subject(
            subject_type="person", subject_id="P-1", purpose="発行履歴の確認"
        )
        assert [d.serial for d in listed] == [document.serial]
        assert listed[0].revoked and listed[0].revoked_reason == "記載誤り"


def test_the_register_is_tenant_scoped(town_a, town_b, issue) -> None:
    serial_b = issue(town_b).document.serial
    with tenant_context(town_a):
        assert not IssuedDocument.objects.filter(serial=serial_b).exists()
        assert not SigningKey.objects.exists()


def test_a_number_taken_while_rendering_is_rendered_again_with_the_next(
    town_a, issue, monkeypatch
) -> None:
    """The PDF is built before its number is claimed; when another clerk's issue took that
    number meanwhile, the PDF is built again for the next one (the printed serial is the
    registered one), and after too many such collisions the issue queues on the lock."""
    issue(town_a, subject_id="P-1")  # creates the signing key: later issues are optimistic
    peek = services._peek_number
    peeked: list[int] = []

    def peek_then_lose_the_race(year: int) -> int:
        number = peek(year)
        peeked.append(number)
        if len(peeked) == 1:  # another clerk's issue takes this number while ours renders
            DocumentSerialCounter.objects.filter(year=year).update(last_number=number)
        return number

    monkeypatch.setattr(services, "_peek_number", peek_then_lose_the_race)
    document, pdf = issue(town_a, subject_id="P-2")
    assert peeked == [2, 3]
    assert document.serial.endswith("-000003")
    text = _text(pdf)
    assert document.serial in text and document.serial.replace("000003", "000002") not in text

    def always_taken(year: int) -> int:
        number = peek(year)
        DocumentSerialCounter.objects.filter(year=year).update(last_number=number)
        return number

    monkeypatch.setattr(services, "_peek_number", always_taken)
    document, pdf = issue(town_a, subject_id="P-3")
    attempts = services.OPTIMISTIC_ATTEMPTS
    assert document.serial.endswith(f"-{4 + attempts:06d}")  # locked after the last attempt
    assert document.serial in _text(pdf)


@pytest.mark.postgres
def test_concurrent_issues_get_distinct_sequential_numbers(transactional_db, make_town) -> None:
    """Clerks issuing at once get distinct numbers without gaps: the first issue of the
    municipality (which creates the signing key) takes the counter lock, later ones build the
    PDF first and claim its number by compare-and-set (PostgreSQL)."""
    if not on_postgres():
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    town = make_town("143014", "葉山町")
    serials: list[str] = []
    errors: list[BaseException] = []

    def clerk(n: int) -> None:
        try:
            for i in range(2):
                with (
                    tenant_context(town),
                    acting_as(Actor(username=f"clerk{n}", channel="web")),
                ):
                    result = services.document_issue(
                        kind=SAMPLE.code,
                        subject_type="person",
                        subject_id=f"P-{n}-{i}",
                        template_name="documents/sample.html",
                        context=sample_context(),
                        purpose="本人請求",
                    )
                serials.append(result.document.serial)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    numbers = sorted(int(s.rsplit("-", 1)[1]) for s in serials)
    assert numbers == list(range(1, 13))
    with tenant_context(town):
        assert SigningKey.objects.count() == 1
        assert IssuedDocument.objects.count() == 12
        assert DocumentSerialCounter.objects.get().last_number == 12
