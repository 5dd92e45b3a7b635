"""Public verification: the page and the API answer genuine or not, and never show whom a
document is about."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream, NameObject

from moyai.documents import selectors, services, signing
from moyai.documents.models import SigningKey
from moyai.platform.models import MUNICIPAL_ROLES, AuditEvent
from moyai.platform.tenancy import tenant_context, tenant_models

from ..conftest import signed_in_client
from .conftest import KATSURAGI

PERSONAL = (KATSURAGI, "髙志", "カツラギ", "堀内", "昭和60年", "P-77", "本人請求", "cli:test")


def _flip_byte(pdf: bytes, at: int) -> bytes:
    data = bytearray(pdf)
    data[at] ^= 0x01
    return bytes(data)


def _resaved_with_edited_text(pdf: bytes) -> bytes:
    """Open the PDF, change one drawn glyph on the page and save it again (a full rewrite)."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    page = writer.pages[0]
    content = ContentStream(page.get_contents(), writer)
    for operands, operator in content.operations:
        if operator == b"Tj":
            raw = bytearray(operands[0].original_bytes)
            raw[-1] ^= 0x01  # another glyph
            operands[0] = type(operands[0])(bytes(raw))
            break
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _incrementally_updated(pdf: bytes) -> bytes:
    """Append a revision after the signature (what an editor's "save" does to a signed PDF)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.document_meta.title = "差し替え"
    writer.root["/Lang"] = generic.pdf_string("ja")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def issued(town_a, issue):
    return issue(town_a, subject_id="P-77")


def _assert_no_personal_data(body: str) -> None:
    for value in PERSONAL:
        assert value not in body, f"{value!r} shown on a public answer"


def test_genuine_serial_page_shows_kind_municipality_and_date_only(issued) -> None:
    document = issued.document
    response = Client().get(f"/documents/verify/{document.serial}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="genuine"' in body
    assert "証明書（見本）" in body and "神奈川県葉山町" in body
    assert selectors.document_verify(serial=document.serial).issued_on_wareki in body
    assert document.serial in body
    _assert_no_personal_data(body)
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"]
    assert "<style" not in body and " style=" not in body  # CSP: no inline styles
    assert "<script>" not in body  # nor inline scripts


def test_genuine_serial_api_answers_without_authentication(issued) -> None:
    document = issued.document
    response = Client().get(f"/api/v1/documents/verify/{document.serial}")
    assert response.status_code == 200
    assert response.json() == {
        "serial": document.serial,
        "genuine": True,
        "reason": selectors.REASON_GENUINE_SERIAL,
        "kind": "証明書（見本）",
        "municipality_name": "神奈川県葉山町",
        "issued_on": selectors.document_verify(serial=document.serial).issued_on.isoformat(),
        "file_checked": False,
        "unaltered": None,
    }
    _assert_no_personal_data(response.content.decode())


def test_uploaded_original_is_genuine_and_unaltered(issued) -> None:
    document, pdf = issued
    client = Client()
    with_serial = client.post(
        "/api/v1/documents/verify",
        {"file": io.BytesIO(pdf), "serial": document.serial},
    ).json()
    assert with_serial["genuine"] is True and with_serial["unaltered"] is True
    assert with_serial["file_checked"] is True
    assert with_serial["reason"] == selectors.REASON_GENUINE_FILE
    # Without the serial, it is read from the file's signature.
    upload = io.BytesIO(pdf)
    upload.name = "certificate.pdf"
    without = client.post("/api/v1/documents/verify", {"file": upload}).json()
    assert without["serial"] == document.serial and without["genuine"] is True
    # The page does the same.
    upload = io.BytesIO(pdf)
    upload.name = "certificate.pdf"
    page = client.post("/documents/verify/", {"file": upload})
    assert page.status_code == 200 and 'data-testid="genuine"' in page.content.decode()
    _assert_no_personal_data(page.content.decode())


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda pdf: _flip_byte(pdf, len(pdf) // 3), id="flipped-byte-in-body"),
        pytest.param(lambda pdf: _flip_byte(pdf, len(pdf) - 10), id="flipped-byte-in-trailer"),
        pytest.param(_resaved_with_edited_text, id="edited-text-resaved"),
        pytest.param(_incrementally_updated, id="incremental-update"),
        pytest.param(lambda pdf: pdf + b"\n%", id="appended-bytes"),
    ],
)
def test_altered_files_are_not_genuine(issued, alter, caplog) -> None:
    document, pdf = issued
    altered = alter(pdf)
    assert altered != pdf
    with caplog.at_level(logging.WARNING, logger="moyai.documents.verify"):
        result = selectors.document_verify(serial=document.serial, pdf=altered)
    assert not result.genuine and result.unaltered is False
    assert result.reason == selectors.REASON_ALTERED
    assert result.kind_label == "" and result.municipality_name == ""
    assert any("genuine=False" in r.getMessage() for r in caplog.records)
    response = Client().post(
        "/api/v1/documents/verify", {"file": io.BytesIO(altered), "serial": document.serial}
    )
    assert response.json()["genuine"] is False


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda pdf: _flip_byte(pdf, len(pdf) // 3), id="flipped-byte"),
        pytest.param(_resaved_with_edited_text, id="edited-text-resaved"),
        pytest.param(_incrementally_updated, id="incremental-update"),
    ],
)
def test_the_signature_itself_detects_alteration(town_a, issued, alter) -> None:
    """Independent of the stored hash: pyHanko's validation fails on every altered file."""
    document, pdf = issued
    with tenant_context(town_a):
        key = SigningKey.objects.get()
    check = signing.validate_signature(
        pdf, certificate_pem=key.certificate_pem, moment=document.issued_at
    )
    assert check.valid, check.problem
    altered = signing.validate_signature(
        alter(pdf), certificate_pem=key.certificate_pem, moment=document.issued_at
    )
    assert not altered.valid and altered.problem


@pytest.mark.parametrize(
    ("serial", "reason"),
    [
        ("143014-2026-999999", selectors.REASON_UNKNOWN),  # never issued
        ("131016-2026-000001", selectors.REASON_UNKNOWN),  # a valid code, not a tenant here
        ("143015-2026-000001", selectors.REASON_MALFORMED),  # wrong check digit
        ("143014-2026-1", selectors.REASON_MALFORMED),
        ("<img src=x onerror=alert(1)>", selectors.REASON_MALFORMED),
        ("葛\U000e0102", selectors.REASON_MALFORMED),
    ],
)
def test_unknown_and_malformed_serials_are_not_genuine(issued, serial, reason) -> None:
    result = selectors.document_verify(serial=serial)
    assert (result.genuine, result.reason) == (False, reason)
    page = Client().get(f"/documents/verify/{serial}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="not-genuine"' in body and reason in body
    assert "<img src=x" not in body
    api = Client().get(f"/api/v1/documents/verify/{serial}").json()
    assert (api["genuine"], api["reason"], api["kind"]) == (False, reason, None)


def test_revoked_document_is_not_genuine(town_a, issued, in_town) -> None:
    document, pdf = issued
    with in_town(town_a):
        services.document_revoke(serial=document.serial, reason="記載誤りのため再発行")
    for result in (
        selectors.document_verify(serial=document.serial),
        selectors.document_verify(serial=document.serial, pdf=pdf),
    ):
        assert not result.genuine and result.reason == selectors.REASON_REVOKED
    body = Client().get(f"/documents/verify/{document.serial}/").content.decode()
    assert selectors.REASON_REVOKED in body and "記載誤り" not in body


def test_another_municipalitys_document_under_a_tampered_prefix_is_not_genuine(
    town_a, town_b, issue
) -> None:
    _, pdf_b = issue(town_b, subject_id="P-B")
    serial_b = issue(town_b, subject_id="P-B2").document.serial  # B has numbers 1 and 2
    issued_a = issue(town_a)  # A has number 1 only
    tampered = "143014" + serial_b[6:]  # B's number 2 under A's code
    assert not selectors.document_verify(serial=tampered).genuine
    api = Client().get(f"/api/v1/documents/verify/{tampered}").json()
    assert api["genuine"] is False and api["reason"] == selectors.REASON_UNKNOWN
    # B's file claimed as A's number 1 (which exists): the bytes are not A's document.
    claimed = issued_a.document.serial
    result = (
        Client()
        .post("/api/v1/documents/verify", {"file": io.BytesIO(pdf_b), "serial": claimed})
        .json()
    )
    assert result["genuine"] is False and result["reason"] == selectors.REASON_ALTERED
    assert result["municipality_name"] is None


def test_a_file_that_is_no_certificate_is_not_genuine(issued) -> None:
    for data in (b"not a pdf", b"%PDF-1.7\n%%EOF\n"):
        upload = io.BytesIO(data)
        upload.name = "x.pdf"
        result = Client().post("/api/v1/documents/verify", {"file": upload}).json()
        assert result["genuine"] is False and result["reason"] == selectors.REASON_NO_SERIAL
    missing = Client().post("/api/v1/documents/verify", {})
    assert missing.status_code == 422 and missing.json()["code"] == "invalid"


def test_verification_writes_nothing(town_a, issued) -> None:
    """Public checks leave no row in the tenant (no audit rows, no counters)."""
    document, pdf = issued

    def counts() -> dict[str, int]:
        with tenant_context(town_a):
            return {m._meta.label: m.objects.count() for m in tenant_models()}

    before = counts()
    client = Client()
    client.get(f"/documents/verify/{document.serial}/")
    client.get(f"/api/v1/documents/verify/{document.serial}")
    client.post("/api/v1/documents/verify", {"file": io.BytesIO(pdf)})
    client.post("/api/v1/documents/verify", {"file": io.BytesIO(_flip_byte(pdf, 100))})
    assert counts() == before
    with tenant_context(town_a):
        assert not AuditEvent.objects.filter(actor_username="public:verify").exists()


def test_verify_index_redirects_a_valid_serial_and_explains_a_bad_one(issued) -> None:
    serial = issued.document.serial
    client = Client()
    assert client.get("/documents/verify/").status_code == 200
    redirect = client.get("/documents/verify/", {"serial": f" {serial} "})
    assert redirect.status_code == 302 and redirect["Location"] == f"/documents/verify/{serial}/"
    bad = client.get("/documents/verify/", {"serial": "12-34"})
    assert bad.status_code == 200 and "形式が正しくありません" in bad.content.decode()


def test_openapi_marks_only_verification_as_public(db) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    get_op = schema["paths"]["/api/v1/documents/verify/{serial}"]["get"]
    post_op = schema["paths"]["/api/v1/documents/verify"]["post"]
    assert "security" not in get_op and "security" not in post_op
    assert schema["paths"]["/api/v1/events"]["get"]["security"]


def test_signed_in_staff_of_another_municipality_get_the_same_public_answer(
    town_a, town_b, issue, make_staff
) -> None:
    """The lookup switches to the serial's tenant (row-level security on PostgreSQL) even inside
    the signed-in staff member's own tenant context, and shows nothing more to staff."""
    document = issue(town_b, subject_id="P-77").document
    staff_a = make_staff(town_a, *MUNICIPAL_ROLES)
    for client in (Client(), signed_in_client(staff_a)):
        body = client.get(f"/documents/verify/{document.serial}/").content.decode()
        assert 'data-testid="genuine"' in body and "神奈川県寒川町" in body
        _assert_no_personal_data(body)


def test_the_upload_form_works_with_csrf_enforced(issued) -> None:
    document, pdf = issued
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/documents/verify/{document.serial}/")
    token = page.cookies["csrftoken"].value
    upload = io.BytesIO(pdf)
    upload.name = "certificate.pdf"
    refused = client.post(f"/documents/verify/{document.serial}/", {"file": upload})
    assert refused.status_code == 403
    upload.seek(0)
    response = client.post(
        f"/documents/verify/{document.serial}/",
        {"file": upload, "csrfmiddlewaretoken": token},
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="genuine"' in body
    assert "発行時のファイルと一致し、電子署名も有効です" in body
