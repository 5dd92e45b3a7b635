"""Encryption of personal numbers at rest (個人番号): AES-256-GCM plus a keyed lookup index.

Keys come from ``MOYAI_PII_KEYS`` — comma-separated ``id:base64key`` pairs, the first used for new
values (rotation: add a new key first, re-encrypt with ``moyai`` tooling, then drop the old one).
In demo/test profiles a key is derived from ``SECRET_KEY``. Ciphertexts carry their key id and are
bound to their row (associated data), so a value copied to another row does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings


class DecryptionError(ValueError):
    pass


@lru_cache(maxsize=1)
def _keys() -> tuple[tuple[str, bytes], ...]:
    raw = os.environ.get("MOYAI_PII_KEYS", "")
    if raw:
        keys = []
        for part in raw.split(","):
            key_id, _, b64 = part.strip().partition(":")
            key = base64.b64decode(b64)
            if len(key) != 32:
                raise RuntimeError(f"MOYAI_PII_KEYS: key {key_id!r} must be 32 bytes")
            keys.append((key_id, key))
        return tuple(keys)
    if settings.ENV == "production":
        raise RuntimeError("MOYAI_PII_KEYS must be set in production")
    derived = hashlib.sha256(b"moyai-pii-v1:" + settings.SECRET_KEY.encode()).digest()
    return (("d1", derived),)


def encrypt(plaintext: str, *, bound_to: str) -> str:
    key_id, key = _keys()[0]
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), bound_to.encode())
    return f"{key_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, bound_to: str) -> str:
    key_id, _, b64 = token.partition(":")
    for kid, key in _keys():
        if kid == key_id:
            blob = base64.b64decode(b64)
            try:
                return AESGCM(key).decrypt(blob[:12], blob[12:], bound_to.encode()).decode()
            except Exception as exc:  # InvalidTag
                raise DecryptionError("復号できません（鍵または行が一致しません）") from exc
    raise DecryptionError(f"鍵 {key_id} がありません")


@lru_cache(maxsize=1)
def _index_key() -> bytes:
    raw = os.environ.get("MOYAI_PII_INDEX_KEY", "")
    if raw:
        return base64.b64decode(raw)
    if settings.ENV == "production":
        raise RuntimeError("MOYAI_PII_INDEX_KEY must be set in production")
    return hashlib.sha256(b"moyai-index-v1:" + settings.SECRET_KEY.encode()).digest()


def blind_index(value: str, *, scope: str) -> str:
    """A keyed hash to find a row by an encrypted value without decrypting every row.

    Its key (``MOYAI_PII_INDEX_KEY``) is separate from the encryption keys and not rotated with
    them; changing it means recomputing the index columns.
    """
    return hmac.new(_index_key(), f"{scope}:{value}".encode(), hashlib.sha256).hexdigest()
