"""The documents 個人住民税 issues on the document engine (numbered, signed, verifiable)."""

from __future__ import annotations

from moyai.documents.kinds import register_kind

INCOME_CERTIFICATE = register_kind("resident_tax.certificate", "課税（所得）証明書")
TAX_NOTICE = register_kind("resident_tax.notice", "個人住民税 納税通知書")
SPECIAL_NOTICE = register_kind(
    "resident_tax.special_notice", "給与所得等に係る特別徴収税額の決定通知書"
)
