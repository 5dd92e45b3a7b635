"""証明書の種類: the kinds of document the engine may issue, contributed by each app.

An app that issues a certificate registers its kind once at import time (as the staff menu is
built), e.g. in ``moyai/registry/documents.py``::

    from moyai.documents.kinds import register_kind

    RESIDENT_COPY = register_kind("registry.resident_copy", "住民票の写し")

The code is stored in the issue register; the Japanese label is stored beside it when the
document is issued (so renaming a kind later does not change what an old document said) and is
what the public verification page shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True)
class DocumentKind:
    code: str
    label: str


_kinds: dict[str, DocumentKind] = {}


def register_kind(code: str, label: str) -> DocumentKind:
    """Declare a document kind (``app.name`` → Japanese label). Idempotent for the same label."""
    if not _CODE.match(code) or len(code) > 64:
        raise ValueError(f"document kind code must look like 'app.name': {code!r}")
    if not label.strip() or len(label) > 100:
        raise ValueError(f"document kind {code!r} needs a Japanese label of at most 100 chars")
    existing = _kinds.get(code)
    if existing is not None and existing.label != label:
        raise ValueError(f"document kind {code!r} is already registered as {existing.label!r}")
    kind = DocumentKind(code, label)
    _kinds[code] = kind
    return kind


def get_kind(code: str) -> DocumentKind | None:
    return _kinds.get(code)


def registered_kinds() -> list[DocumentKind]:
    return sorted(_kinds.values(), key=lambda k: k.code)


SAMPLE = register_kind("documents.sample", "証明書（見本）")
