"""Per-tenant backup keys and the sealed (compressed, encrypted, authenticated) envelope.

The operator holds master keys in the environment: ``MOYAI_BACKUP_KEYS`` is a comma-separated
list of ``VERSION:KEY`` (KEY = 32 bytes, hex or URL-safe base64), e.g. ``1:…,2:…``. New backups
use the highest version; every listed version can still be read. For each tenant and version
HKDF-SHA256 derives two independent keys: one AES-256-GCM key for the contents and one HMAC key
that names chunks (so a chunk's name reveals nothing of its contents, and the same rows of two
tenants never share a name).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ENV_KEYS = "MOYAI_BACKUP_KEYS"
MAGIC = b"MYB1"
_HEADER = struct.Struct(">4sH12s")  # magic, key version, nonce
ZSTD_LEVEL = 3


class BackupKeyError(RuntimeError):
    """The backup keys are missing, malformed or not the ones a backup was written with."""


class WrongKey(BackupKeyError):
    """The key of this version is not the one the repository was written with."""


class Corrupted(RuntimeError):
    """A stored object fails its authentication (changed bytes, truncated, swapped)."""


def parse_master_keys(text: str) -> dict[int, bytes]:
    """``"1:hex,2:base64"`` → ``{1: key, 2: key}`` (32-byte keys)."""
    keys: dict[int, bytes] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        version_text, sep, value = item.partition(":")
        if not sep or not version_text.strip().isdigit():
            raise BackupKeyError(f"{ENV_KEYS}: 「版:鍵」の形で指定してください（{item[:8]}…）")
        version = int(version_text)
        if not 1 <= version <= 65535:
            raise BackupKeyError(f"{ENV_KEYS}: 鍵の版は 1〜65535 です（{version}）")
        raw = _decode_key(value.strip())
        if len(raw) != 32:
            raise BackupKeyError(f"{ENV_KEYS}: 版 {version} の鍵は32バイトにしてください")
        keys[version] = raw
    if not keys:
        raise BackupKeyError(
            f"バックアップの鍵がありません: 環境変数 {ENV_KEYS} を設定してください"
        )
    return keys


def _decode_key(value: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        pass
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise BackupKeyError(f"{ENV_KEYS}: 鍵を読めません（16進または base64）") from None


def master_keys(env: str | None = None) -> dict[int, bytes]:
    return parse_master_keys(os.environ.get(ENV_KEYS, "") if env is None else env)


def new_master_key() -> str:
    """A fresh master key (hex), for ``moyai backup keygen``."""
    return os.urandom(32).hex()


@dataclass(frozen=True)
class TenantKey:
    """The keys of one municipality under one key version."""

    municipality_code: str
    version: int
    encryption: bytes
    naming: bytes

    def name(self, data: bytes) -> str:
        """The content address of ``data`` (HMAC-SHA256, hex)."""
        return hmac.new(self.naming, data, hashlib.sha256).hexdigest()

    def check_value(self) -> str:
        """Stored beside the backups so that a wrong key is told apart from a corrupted file."""
        return hmac.new(
            self.naming, b"moyai-backup/key-check/" + self.municipality_code.encode(), "sha256"
        ).hexdigest()

    def seal(self, data: bytes, *, context: str) -> bytes:
        """zstd-compress, then AES-256-GCM with ``context`` as associated data."""
        nonce = os.urandom(12)
        body = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)
        aad = _aad(self.municipality_code, context)
        return _HEADER.pack(MAGIC, self.version, nonce) + AESGCM(self.encryption).encrypt(
            nonce, body, aad
        )

    def open(self, blob: bytes, *, context: str) -> bytes:
        if len(blob) < _HEADER.size + 16:
            raise Corrupted("短すぎます（途中で切れています）")
        magic, version, nonce = _HEADER.unpack_from(blob)
        if magic != MAGIC:
            raise Corrupted("先頭の識別子が違います")
        if version != self.version:
            raise Corrupted(f"鍵の版が違います（ファイル {version}、期待 {self.version}）")
        try:
            body = AESGCM(self.encryption).decrypt(
                nonce, blob[_HEADER.size :], _aad(self.municipality_code, context)
            )
        except InvalidTag:
            raise Corrupted("認証タグが一致しません（改変・破損、または別の鍵）") from None
        try:
            return zstandard.ZstdDecompressor().decompress(body)
        except zstandard.ZstdError as exc:  # authenticated but not zstd: a writer bug
            raise Corrupted(f"伸長できません: {exc}") from None


def sealed_version(blob: bytes) -> int:
    """The key version written in a sealed object's header."""
    if len(blob) < _HEADER.size or blob[:4] != MAGIC:
        raise Corrupted("先頭の識別子が違います")
    return int(_HEADER.unpack_from(blob)[1])


def _aad(code: str, context: str) -> bytes:
    return f"moyai-backup/{code}/{context}".encode()


def tenant_key(
    municipality_code: str, *, version: int | None = None, keys: dict[int, bytes] | None = None
) -> TenantKey:
    """The tenant's key of ``version`` (the newest configured version when ``None``)."""
    keys = master_keys() if keys is None else keys
    if version is None:
        version = max(keys)
    if version not in keys:
        raise BackupKeyError(
            f"鍵の版 {version} が {ENV_KEYS} にありません（古い版の鍵も残してください）"
        )
    material = HKDF(
        algorithm=hashes.SHA256(),
        length=64,
        salt=b"moyai-backup-v1",
        info=f"tenant:{municipality_code}:v{version}".encode(),
    ).derive(keys[version])
    return TenantKey(municipality_code, version, material[:32], material[32:])
