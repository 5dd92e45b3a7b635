"""電子署名: per-municipality signing keys and PAdES signatures (pyHanko).

Keys
----
Each municipality has its own ECDSA P-256 key and a self-signed X.509 certificate (subject
CN = 団体名, O = 団体コード, ST = 都道府県, C = JP; key usage digitalSignature and
nonRepudiation), generated with ``cryptography`` the first time the municipality issues a
document (:func:`moyai.documents.services.document_issue`). The certificate is public: it is the
trust root a verifier uses for that municipality's documents.

The private key is stored only encrypted: AES-256-GCM with a key derived (HKDF-SHA256) from a
key-encryption key (KEK) for this municipality and key version, with the municipality code, the
key version and the certificate's SHA-256 as associated data — a ciphertext copied to another
row or tenant does not decrypt. The KEKs come from ``MOYAI_DOCUMENT_KEY``: comma-separated
``id:base64-of-32-bytes`` pairs, the first one used for new keys (``openssl rand -base64 32``
makes one). It is required in production; in the demo and test profiles a KEK ``d1`` is derived
from Django's ``SECRET_KEY``. The KEK id is stored beside each ciphertext.

Rotation
--------
* **Signing key** (e.g. yearly, on a change of 首長 or on suspected compromise):
  ``moyai documents rotate-key -m CODE --reason "…"``
  (:func:`~moyai.documents.services.signing_key_rotate`). The key in use is retired, its private
  key erased, and a new version created at once. Documents keep the version that signed them,
  so the old certificate still verifies them; nothing already issued has to be re-signed. A key
  is also rotated automatically when it is within 30 days of its certificate's end.
* **KEK**: put a new pair first in ``MOYAI_DOCUMENT_KEY`` and keep the old one after it, deploy,
  run ``moyai documents rewrap-keys`` (each key in use is decrypted with the old KEK and
  encrypted with the new one), then drop the old pair. A key whose KEK is gone cannot sign any
  more; rotate it (verification of issued documents only needs the certificates).

Signatures
----------
A document is signed once, as a PAdES baseline (B-B) certification signature that permits no
further changes (DocMDP level 1), with SHA-256. The signature dictionary names the verification
URL as contact information, so the serial can be read back from an uploaded file. There is no
time-stamp (no TSA is reachable from the platform); the issue time is the register's
``issued_at``, and signatures are validated as of that moment so an expired certificate does not
invalidate what it signed while valid.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ALGORITHM = "ecdsa-p256-sha256"
CERTIFICATE_DAYS = 5 * 365 + 1
ROTATE_BEFORE = timedelta(days=30)
SIGNATURE_FIELD = "moyai-certification"


class KeyUnavailable(RuntimeError):
    """The private key cannot be decrypted (its KEK is not configured, or it was erased)."""


# --- key-encryption keys --------------------------------------------------------------------------


def _keks() -> list[tuple[str, bytes]]:
    raw = os.environ.get("MOYAI_DOCUMENT_KEY", "").strip()
    if raw:
        keks = []
        for part in raw.split(","):
            kek_id, _, b64 = part.strip().partition(":")
            try:
                key = base64.b64decode(b64, validate=True)
            except ValueError as exc:
                raise ImproperlyConfigured(f"MOYAI_DOCUMENT_KEY: {kek_id!r} is not base64") from exc
            if not kek_id or len(key) != 32:
                raise ImproperlyConfigured(
                    "MOYAI_DOCUMENT_KEY: each entry is id:base64 of 32 bytes, comma-separated"
                )
            keks.append((kek_id, key))
        return keks
    if settings.ENV == "production":
        raise ImproperlyConfigured("MOYAI_DOCUMENT_KEY must be set in production")
    derived = hashlib.sha256(b"moyai-documents-kek-v1:" + settings.SECRET_KEY.encode()).digest()
    return [("d1", derived)]


def current_kek_id() -> str:
    return _keks()[0][0]


def _wrapping_key(kek: bytes, *, municipality_code: str, version: int) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"moyai.documents.signing-key.v1",
        info=f"{municipality_code}:{version}".encode(),
    ).derive(kek)


def _aad(*, municipality_code: str, version: int, certificate_sha256: str) -> bytes:
    return f"moyai.documents:{municipality_code}:{version}:{certificate_sha256}".encode()


def wrap_private_key(
    private_key_der: bytes, *, municipality_code: str, version: int, certificate_sha256: str
) -> tuple[str, bytes]:
    """Encrypt a PKCS#8 DER private key with the current KEK; returns (kek_id, nonce+ciphertext)."""
    kek_id, kek = _keks()[0]
    key = _wrapping_key(kek, municipality_code=municipality_code, version=version)
    nonce = os.urandom(12)
    aad = _aad(
        municipality_code=municipality_code,
        version=version,
        certificate_sha256=certificate_sha256,
    )
    return kek_id, nonce + AESGCM(key).encrypt(nonce, private_key_der, aad)


def unwrap_private_key(
    blob: bytes, *, kek_id: str, municipality_code: str, version: int, certificate_sha256: str
) -> bytes:
    """The PKCS#8 DER private key, or :class:`KeyUnavailable`."""
    if not blob:
        raise KeyUnavailable("署名鍵の秘密鍵は消去されています（使用終了）")
    kek = dict(_keks()).get(kek_id)
    if kek is None:
        raise KeyUnavailable(
            f"署名鍵を復号する鍵 {kek_id} が MOYAI_DOCUMENT_KEY にありません"
            "（moyai documents rotate-key で新しい署名鍵を作成してください）"
        )
    key = _wrapping_key(kek, municipality_code=municipality_code, version=version)
    aad = _aad(
        municipality_code=municipality_code,
        version=version,
        certificate_sha256=certificate_sha256,
    )
    try:
        return AESGCM(key).decrypt(bytes(blob[:12]), bytes(blob[12:]), aad)
    except Exception as exc:  # cryptography.exceptions.InvalidTag
        raise KeyUnavailable("署名鍵を復号できません（鍵または行が一致しません）") from exc


# --- key generation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewKey:
    algorithm: str
    certificate_pem: str
    certificate_sha256: str
    private_key_encrypted: bytes
    kek_id: str
    not_after: datetime


def certificate_sha256(certificate_pem: str) -> str:
    cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    return cert.fingerprint(hashes.SHA256()).hex()


def generate_key(
    *, municipality_code: str, municipality_name: str, prefecture: str, version: int, now: datetime
) -> NewKey:
    """A new ECDSA P-256 key and self-signed certificate for one municipality, key encrypted."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, prefecture),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, municipality_code),
            x509.NameAttribute(NameOID.COMMON_NAME, municipality_name),
        ]
    )
    not_after = now + timedelta(days=CERTIFICATE_DAYS)
    public_key = private_key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(private_key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    kek_id, blob = wrap_private_key(
        der, municipality_code=municipality_code, version=version, certificate_sha256=fingerprint
    )
    return NewKey(ALGORITHM, pem, fingerprint, blob, kek_id, not_after)


# --- signing and validation -----------------------------------------------------------------------


def _asn1_certificate(certificate_pem: str) -> Any:
    from pyhanko.keys import load_certs_from_pemder_data

    return next(iter(load_certs_from_pemder_data(certificate_pem.encode())))


def sign_pdf(
    pdf: bytes,
    *,
    certificate_pem: str,
    private_key_der: bytes,
    reason: str,
    location: str,
    contact_info: str,
) -> bytes:
    """Add a PAdES certification signature (no changes permitted) to ``pdf``."""
    from pyhanko.keys import load_private_key_from_pemder_data
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=_asn1_certificate(certificate_pem),
        signing_key=load_private_key_from_pemder_data(private_key_der, passphrase=None),
        cert_registry=SimpleCertificateStore(),  # type: ignore[no-untyped-call]
    )
    meta = PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        reason=reason,
        location=location,
        contact_info=contact_info,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = signers.sign_pdf(writer, meta, signer=signer)
    return bytes(out.getvalue())


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    problem: str = ""
    contact_info: str = ""


def read_contact_info(pdf: bytes) -> str:
    """The signature's contact information (the verification URL), or "" if unreadable."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        for sig in reader.embedded_signatures:
            value = sig.sig_object.get("/ContactInfo")
            if value:
                return str(value)
    except Exception:  # any parse error of an untrusted file means "nothing to read"
        return ""
    return ""


def validate_signature(pdf: bytes, *, certificate_pem: str, moment: datetime) -> SignatureCheck:
    """Whether ``pdf`` carries exactly one valid signature by ``certificate_pem``'s key, over the
    whole file, intact and trusted (that certificate as trust root), as of ``moment``."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    expected = _asn1_certificate(certificate_pem)
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
        if len(signatures) != 1:
            return SignatureCheck(False, f"電子署名の数が正しくありません（{len(signatures)} 件）")
        sig = signatures[0]
        context = ValidationContext(
            trust_roots=[expected], allow_fetching=False, moment=moment, revocation_mode="soft-fail"
        )
        status = validate_pdf_signature(sig, context)
    except Exception:  # a damaged or hostile file: not a valid signature, whatever the cause
        return SignatureCheck(False, "PDF の電子署名を読み取れません")
    if status.signing_cert.dump() != expected.dump():
        return SignatureCheck(False, "この団体の署名鍵による電子署名ではありません")
    if not (status.intact and status.valid):
        return SignatureCheck(False, "電子署名が一致しません（改ざんされています）")
    if not status.trusted:
        return SignatureCheck(False, "電子署名の証明書を確認できません")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE or (
        status.modification_level not in (None, ModificationLevel.NONE)
    ):
        return SignatureCheck(False, "署名の後に変更が加えられています")
    return SignatureCheck(True, "", str(sig.sig_object.get("/ContactInfo") or ""))
