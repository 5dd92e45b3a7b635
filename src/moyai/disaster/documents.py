"""The documents 被災者支援 issues on the document engine (numbered, signed, verifiable)."""

from __future__ import annotations

from moyai.documents.kinds import register_kind

DAMAGE_CERTIFICATE = register_kind("disaster.damage_certificate", "り災証明書")
VICTIM_CERTIFICATE = register_kind("disaster.victim_certificate", "被災証明書")
